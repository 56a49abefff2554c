-- Guanmai (观麦) order <-> canonical order. Reads order/get data and order/list items
-- (003: L231-348; the example lacks order_id, which the data structure at L27 lists);
-- writes the order/create body (003: L182-204). Money is mixed (003: 4.6): freight,
-- real_price, total_pay and real_item_price are fen (some written as 728.00), the line
-- sale_price is yuan text ("7.28"), order/create's unit_price is integer fen.
-- Times: ISO without a zone ("2017-06-21T17:29:38.913"), +08:00 assumed.
local status = { [1] = "processing", [5] = "processing", [10] = "shipped", [15] = "delivered" }
local pay_status = { [1] = "unpaid", [5] = "partially_paid", [10] = "paid" }
local T = { "datetime_to_ms", offset = "+08:00" }

return {
  entity = "order",
  status = { order_status = status, pay_status = pay_status },   -- Guanmai's codes, canonical enums
  to_canonical = {
    id = { "order_id", required = true },
    order_no = { "order_id", required = true },
    status = { "status", enum = status, enum_default = "other" },
    currency = { const = "CNY" },
    shipping_fee = { "freight", "int" },
    subtotal = { "real_price", "int" },
    total = { "total_pay", "int" },
    created_at = { "date_time", T },
    buyer_id = { { "customer.customer_id", "sid" }, "id_string" },
    buyer_name = { { "customer.receiver_name", "customer.resname" } },
    buyer_phone = "customer.receiver_phone",
    buyer_note = "remark",
    payment = { fields = { status = { "pay_status", enum = pay_status, enum_default = "other" } } },
    shipping_address = { "customer", fields = {
      name = "receiver_name", phone = "receiver_phone", company = { { "resname", "customer_name" } },
      street = { { "address", "customer_address" } },
    } },
    lines = { each = "details", fields = {
      sku_id = { "id", required = true },
      product_id = "spu_id",
      title = "name",
      unit = "sale_unit_name",
      quantity = { "quantity", required = true },
      unit_price = { "sale_price", "money_to_minor" },
      total = { "real_item_price", "int" },
    } },
  },
  from_canonical = {
    sid = { "buyer_id", "id_string", required = true },
    remark = "buyer_note",
    products = { each = "lines", fields = {
      sku_id = { { "sku_id", "sku_code" }, "id_string", required = true },
      amount = { "quantity", "number", required = true },
      unit_price = { { "unit_price", "paid_price" }, "int", required = true },
      spu_remark = "note",
    } },
  },
}
