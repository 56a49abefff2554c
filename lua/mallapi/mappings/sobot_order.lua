-- Sobot order <-> canonical order. Reads an orders/get record (000: L825-1014; times
-- in seconds) or an orders/add item (000: L649-824; times in ms): field names of both
-- are listed as alternatives and times go through auto_ms (under 1e11 = seconds).
-- Writes the orders/add item. Money is integer fen as text ("200"). Sobot requires a
-- district; canonical orders without one send the city instead.
local status = { [0] = "other", [1] = "pending_payment", [2] = "paid", [3] = "shipped",
                 [4] = "delivered", [5] = "completed", [6] = "cancelled" }
local status_out = { other = 0, pending_payment = 1, payment_failed = 1, paid = 2, processing = 2,
                     shipped = 3, delivered = 4, completed = 5, cancelled = 6 }
local buyer_type = { [1] = "wechat_unionid", [2] = "mobile", [4] = "email", [5] = "vendor_customer_id" }
local buyer_type_out = { wechat_unionid = 1, mobile = 2, email = 4, vendor_customer_id = 5 }

return {
  entity = "order",
  -- Sobot's codes for the canonical enums (doc/mapping.md's status table is made from these).
  status = { order_status = status, buyer_id_type = buyer_type },
  to_canonical = {
    id = { { "order_id", "orderid" }, "id_string", required = true },
    order_no = { "order_no", required = true },
    store_id = { { "store_id", "storeid" } },
    status = { "status", enum = status, enum_default = "other" },
    currency = { const = "CNY" },
    total = { "actual_amount", "int", required = true },
    discount_total = { "discount_amount", "int" },
    subtotal = { "total_amount", "int" },
    created_at = { "create_time", "auto_ms", required = true },
    updated_at = { "update_time", "auto_ms" },
    paid_at = { "payment_time", "auto_ms" },
    buyer_id = { { "buyer_id", "buyerid" } },
    buyer_id_type = { { "buyer_id_type", "buyerid_type" }, enum = buyer_type, enum_default = "other" },
    external_no = "outer_order_no",
    payment_serial_no = "payment_serial_no",
    shipping_address = { "receiver", fields = {
      name = "name", phone = "phone_number", country = "country", province = "province",
      city = "city", district = "district", street = "detail_address",
    } },
    lines = { each = { "order_item_list", "item_list" }, fields = {
      product_id = { { "item_id", "itemid" }, "id_string", required = true },
      sku_id = "sku_id",
      title = "name",
      quantity = { "quantity", required = true },
      unit_price = { "cost_price", "int" },
      paid_price = { "actual_price", "int" },
      paid_total = { "total_price", "int" },
    } },
  },
  from_canonical = {
    storeid = { "store_id", "id_string", required = true },
    orderid = { "id", "id_string", required = true },
    order_no = { "order_no", required = true },
    create_time = { "created_at", "ms_string", required = true },
    update_time = { { "updated_at", "created_at" }, "ms_string", required = true },
    payment_time = { "paid_at", "ms_string" },
    status = { "status", enum = status_out, enum_default = 0 },
    actual_amount = { "total", "string", required = true },
    discount_amount = { "discount_total", "string" },
    total_amount = { "subtotal", "string" },
    buyerid = { { "buyer_id", "buyer_email", "buyer_phone" }, required = true },
    buyerid_type = { "buyer_id_type", enum = buyer_type_out, required = true },
    outer_order_no = "external_no",
    payment_serial_no = "payment_serial_no",
    receiver = { "shipping_address", required = true, fields = {
      name = { "name", required = true },
      phone_number = { "phone", required = true },
      country = { "country", required = true },
      province = { "province", required = true },
      city = { "city", required = true },
      district = { { "district", "city" }, required = true },
      detail_address = { join = { "street", "street2" }, sep = " ", required = true },   -- 000:L701
    } },
    item_list = { each = "lines", fields = {
      itemid = { { "product_id", "sku_id" }, "id_string", required = true },
      sku_id = { "sku_id", "id_string" },
      name = { "title", required = true },
      cost_price = { "unit_price", "string" },
      actual_price = { { "paid_price", "unit_price" }, "string", required = true },
      quantity = { "quantity", "int", required = true },
      total_price = { { "paid_total", "total" }, "string", required = true },
    } },
  },
}
