-- Sobot refund (after-sale) <-> canonical refund. Reads a refunds/get record (000:
-- L1204-1343; times in seconds) or a refunds/add item (000: L1092-1203; ms). The
-- document inverts return_goods between add (1 yes, 2 no, 000:L1116) and get (1 no, 2 yes,
-- 000:L1243); a get record is told by its sobot_refund_id and its code is read with the
-- get meaning (turned into the add code first). fee is integer fen as text.
local function goods_code(r)
  local v = r.return_goods
  if v == nil or r.sobot_refund_id == nil then return v end
  local t = tostring(v)
  return t == "1" and 2 or t == "2" and 1 or v
end
local status = { [0] = "other", [1] = "pending", [2] = "partially_refunded", [3] = "refunded" }
local status_out = { other = 0, pending = 1, partially_refunded = 2, refunded = 3,
                     failed = 0, cancelled = 0 }

return {
  entity = "refund",
  status = { refund_status = status },      -- Sobot's codes for the canonical enum
  to_canonical = {
    id = { { "refund_no", "sobot_refund_id" }, "id_string", required = true },
    refund_no = "refund_no",
    order_no = { "order_no", required = true },
    type = { uses = { "return_goods", "sobot_refund_id" }, fn = goods_code,
             enum = { [1] = "return_refund", [2] = "refund_only" }, enum_default = "other" },
    return_goods = { uses = { "return_goods", "sobot_refund_id" }, fn = goods_code,
                     enum = { [1] = true, [2] = false } },
    status = { "status", enum = status, enum_default = "other" },
    amount = { "fee", "int", required = true },
    currency = { const = "CNY" },
    reason = { "reason", skip_empty = true },
    created_at = { "create_time", "auto_ms" },
    updated_at = { "update_time", "auto_ms" },
    completed_at = { "success_time", "auto_ms" },
    lines = { each = "item_list", fields = {
      product_id = { "itemid", "id_string" },
      quantity = "quantity",
      total = { "fee", "int" },
    } },
    receiver = { "receiver", fields = { name = "name", phone = "phone_number", street = "detail_address" } },
  },
  from_canonical = {
    order_no = { "order_no", required = true },
    refund_no = { { "refund_no", "id" }, "id_string", required = true },
    fee = { "amount", "string", required = true },
    status = { "status", enum = status_out, enum_default = 0 },
    create_time = { "created_at", "ms_string", required = true },
    update_time = { { "updated_at", "created_at" }, "ms_string", required = true },
    success_time = { "completed_at", "ms_string" },
    reason = "reason",
    return_goods = { "return_goods", enum = { [true] = 1, [false] = 2 } },
    item_list = { each = "lines", fields = {
      itemid = { { "product_id", "sku_id" }, "id_string", required = true },
      quantity = { "quantity", "int", required = true },
      fee = { { "total", "paid_total" }, "string", required = true },
    } },
    receiver = { "receiver", fields = {
      name = "name", phone_number = "phone", detail_address = { join = { "street", "street2" }, sep = " " },
    } },
  },
}
