-- Shoplus fulfillment <-> canonical shipment. Reads a Fulfillment.list item or an
-- order's fulfillments[] entry (002: L1000-1012, L1304-1334); writes the
-- Fulfillment.add body (002: L1337-1357: orderNo, trackingNumber, trackingCompany,
-- lineItems[{id = order item id}]). The fulfillment `status` is a free string.
-- Times are `date` (002:L112-113): epoch ms in every example (002:L2186, L2269), while the
-- query bounds of the same type are yyyy-MM-dd HH:mm:ss text (002:L862): both are read.
local T = require("mallapi.mapper").ms_or_datetime("+08:00")
return {
  entity = "shipment",
  to_canonical = {
    id = { "id", "id_string" },
    order_no = "orderNo",
    carrier = "trackingCompany",
    tracking_number = "trackingNumber",
    status = { "status", enum = { Shipped = "shipped", Pending = "pending", Cancel = "cancelled",
                                  success = "shipped", pending = "pending", cancelled = "cancelled" },
               enum_default = "other" },
    created_at = { "createTime", "ms", fn = T },
    updated_at = { "updateTime", "ms", fn = T },
    lines = { each = "fulfillmentItems", fields = {
      id = { "orderItemId", "id_string" },
      sku_id = { "variantId", "id_string" },
      sku_code = "skuCode",
      quantity = "quantity",
    } },
  },
  from_canonical = {
    orderNo = { "order_no", required = true },
    trackingNumber = { "tracking_number", required = true },
    trackingCompany = { "carrier", required = true },
    lineItems = { each = "lines", fields = {
      id = { "id", "id_number", required = true },
    } },
  },
}
