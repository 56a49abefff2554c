-- mallapi.model: the canonical commerce model every shipped mapping goes through.
-- Field names, types and units of store, category, product (SPU with SKUs), sku,
-- order (lines, payment, addresses, discounts), shipment, refund/after-sale and
-- customer, and the canonical status enums. Each vendor's codes for those enums live in
-- its mapping files (mallapi/mappings/<vendor>_<entity>.lua, field `status`).
--
-- Units: money is an integer in minor units (fen, cents) next to a `currency`
-- (ISO 4217; the Chinese vendors assume "CNY"); times are integers, ms since the
-- epoch UTC; ids are strings (64-bit ids stay exact); quantities are numbers.
-- Types: "id" (string), "string", "money", "currency", "time_ms", "int", "number",
-- "bool", an enum name ("order_status", ...), an entity name, or {type} for a list.
local ipairs = ipairs

local M = {}

M.enums = {
  order_status = {
    "pending_payment",   -- created, not paid
    "payment_failed",
    "paid",              -- paid, not yet handled by the warehouse
    "processing",        -- confirmed / reviewed / allocated / sorting
    "shipped",           -- handed to the carrier or on its way
    "delivered",         -- signed for by the buyer
    "completed",         -- deal done
    "cancelled",         -- cancelled or closed without a deal
    "other",             -- a vendor code with no canonical meaning
  },
  fulfillment_status = { "unfulfilled", "partial", "fulfilled", "partially_delivered", "delivered", "other" },
  payment_status = { "unpaid", "partially_paid", "paid", "refunding", "refunded", "failed", "cancelled", "other" },
  shipment_status = { "pending", "shipped", "in_transit", "delivering", "delivered", "rejected", "cancelled", "other" },
  refund_status = { "none", "pending", "partially_refunded", "refunded", "failed", "cancelled", "other" },
  refund_type = { "refund_only", "return_refund", "exchange", "reissue", "other" },
  product_status = { "active", "inactive", "sold_out", "deleted", "other" },
  store_status = { "open", "closed", "other" },
  store_type = { "online", "offline", "other" },
  buyer_id_type = { "wechat_unionid", "mobile", "email", "vendor_customer_id", "other" },
}

M.entities = {
  address = {
    name = "string", first_name = "string", last_name = "string", phone = "string",
    email = "string", company = "string", country = "string", country_code = "string",
    province = "string", province_code = "string", city = "string", district = "string",
    street = "string", street2 = "string", zip = "string",
  },
  store = {
    id = "id", code = "string", name = "string", type = "store_type", status = "store_status",
    parent_id = "id", email = "string", phone = "string", currency = "currency",
    address = "address", image_url = "string", created_at = "time_ms", updated_at = "time_ms",
    deleted = "bool",
  },
  category = {
    id = "id", name = "string", parent_id = "id", level = "string", has_children = "bool",
    created_at = "time_ms",
  },
  image = { id = "id", url = "string", position = "int", title = "string" },
  sku = {
    id = "id", product_id = "id", sku_code = "string", title = "string", options = "string",
    price = "money", compare_at_price = "money", cost_price = "money", currency = "currency",
    stock = "number", weight_grams = "number", barcode = "string", unit = "string",
    status = "product_status", created_at = "time_ms", updated_at = "time_ms",
  },
  product = {
    id = "id", spu_code = "string", store_id = "id", title = "string", description = "string",
    vendor = "string", product_type = "string", category_id = "id", tags = { "string" },
    status = "product_status", currency = "currency", images = { "image" },
    unit = "string", skus = { "sku" }, created_at = "time_ms", updated_at = "time_ms",
    published_at = "time_ms",
  },
  order_line = {
    id = "id", ref_id = "id", product_id = "id", sku_id = "id", sku_code = "string",
    title = "string", options = "string", unit = "string", quantity = "number",
    unit_price = "money", paid_price = "money",
    cost_price = "money", discount = "money", total = "money", paid_total = "money",
    status = "order_status", refund_status = "refund_status", tracking_number = "string",
    carrier = "string", carrier_code = "string",
  },
  discount = { id = "id", code = "string", type = "string", title = "string", amount = "money" },
  payment = {
    status = "payment_status", method = "string", gateway = "string",
    transaction_id = "string", amount = "money", paid_at = "time_ms",
  },
  order = {
    id = "id", order_no = "string", store_id = "id", store_code = "string",
    status = "order_status", fulfillment_status = "fulfillment_status",
    currency = "currency", subtotal = "money", shipping_fee = "money", discount_total = "money",
    tax_total = "money", total = "money",
    created_at = "time_ms", updated_at = "time_ms", paid_at = "time_ms", cancelled_at = "time_ms",
    buyer_id = "id", buyer_id_type = "buyer_id_type", buyer_name = "string",
    buyer_email = "string", buyer_phone = "string", buyer_note = "string", seller_note = "string",
    shipping_address = "address", billing_address = "address", payment = "payment",
    lines = { "order_line" }, discounts = { "discount" }, type = "refund_type",
    external_no = "string", payment_serial_no = "string",
  },
  shipment = {
    id = "id", order_id = "id", order_no = "string", refund_no = "string", status = "shipment_status",
    carrier = "string", carrier_code = "string", tracking_number = "string", fee = "money",
    currency = "currency", warehouse_code = "string", created_at = "time_ms", updated_at = "time_ms",
    shipped_at = "time_ms", delivered_at = "time_ms", signer = "string",
    lines = { "order_line" },
  },
  refund = {
    -- lines: what is refunded or comes back; exchange_lines: what goes out in an exchange
    id = "id", refund_no = "string", order_id = "id", order_no = "string", store_code = "string",
    type = "refund_type", status = "refund_status", amount = "money", currency = "currency",
    reason = "string", return_goods = "bool", created_at = "time_ms", updated_at = "time_ms",
    completed_at = "time_ms", lines = { "order_line" }, exchange_lines = { "order_line" },
    return_shipment = "shipment", receiver = "address", buyer_note = "string", seller_note = "string",
  },
  customer = {
    id = "id", email = "string", phone = "string", name = "string", first_name = "string",
    last_name = "string", company = "string", username = "string",
    accepts_marketing = "bool", orders_count = "int", total_spent = "money",
    currency = "currency", addresses = { "address" }, created_at = "time_ms", updated_at = "time_ms",
  },
}

--- The entity description of name ("order", ...), or nil.
function M.entity(name) return M.entities[name] end

--- true when value is one of the canonical enum's values.
function M.is_enum_value(enum, value)
  for _, v in ipairs(M.enums[enum] or {}) do
    if v == value then return true end
  end
  return false
end

return M
