-- Guanmai after-sale (退货 refund record) <-> canonical refund. Reads one entry of
-- order/get's refund[] (003: L290-302); writes the order/refund/create body (003:
-- L409-423: order_id, refund[{sku_id, exception_reason, request_amount}]).
-- request_amount is a quantity; the reason code comes from the exception_reason/list
-- dictionary (003: L485-497), so it is carried as text in `reason`.
return {
  entity = "refund",
  to_canonical = {
    id = { "id", "id_string", required = true },
    order_no = { "out_order_id", required = true },
    order_id = "out_order_id",
    type = { const = "return_refund" },
    status = { "state", enum = { [1] = "pending" }, enum_default = "other" },
    reason = { { "type_text", "text" } },
    currency = { const = "CNY" },
    lines = { list = true, fields = {
      sku_id = { { "out_sku_id", "detail_id" }, required = true },
      quantity = { "request_amount", required = true },
    } },
  },
  from_canonical = {
    order_id = { { "order_no", "order_id" }, required = true },
    refund = { each = "lines", fields = {
      sku_id = { { "sku_id", "sku_code" }, required = true },
      exception_reason = { "reason_code", "int", default = 1 },
      request_amount = { "quantity", "number", required = true },
    } },
  },
}
