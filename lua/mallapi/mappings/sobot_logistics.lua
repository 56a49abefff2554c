-- Sobot logistics <-> canonical shipment. Sobot only accepts logistics (logistics/add,
-- 000: L1016-1090; there is no query), so to_canonical reads the same add item.
-- fee is integer fen as text; times are ms as text.
local status = { [0] = "other", [1] = "pending", [2] = "shipped", [3] = "in_transit",
                 [4] = "delivered", [5] = "rejected", [6] = "delivering" }
local status_out = { other = 0, pending = 1, shipped = 2, in_transit = 3, delivered = 4,
                     rejected = 5, delivering = 6, cancelled = 0 }

return {
  entity = "shipment",
  status = { logistics_status = status },   -- Sobot's codes for the canonical enum
  to_canonical = {
    id = { "logisticsid", "id_string" },
    order_no = { "order_no", required = true },
    refund_no = "refund_no",
    fee = { "fee", "int", required = true },
    currency = { const = "CNY" },
    status = { "status", enum = status, enum_default = "other" },
    carrier = "company_name",
    tracking_number = "tracking_number",
    created_at = { "create_time", "auto_ms" },
    updated_at = { "update_time", "auto_ms" },
    shipped_at = { "delivery_time", "auto_ms" },
    delivered_at = { "sign_time", "auto_ms" },
    signer = "signer",
  },
  from_canonical = {
    order_no = { "order_no", required = true },
    refund_no = "refund_no",
    logisticsid = { "id", "id_string" },
    fee = { "fee", "string", default = "0" },
    status = { "status", enum = status_out, enum_default = 0 },
    company_name = { "carrier", required = true },
    tracking_number = { "tracking_number", required = true },
    create_time = { { "created_at", "shipped_at" }, "ms_string", required = true },
    update_time = { { "updated_at", "created_at", "shipped_at" }, "ms_string", required = true },
    delivery_time = { "shipped_at", "ms_string" },
    sign_time = { "delivered_at", "ms_string" },
    signer = "signer",
  },
}
