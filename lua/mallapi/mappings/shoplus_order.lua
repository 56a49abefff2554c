-- Shoplus order <-> canonical order. Reads an Order.list / Order.detail record or an
-- order_create / order_update webhook body (002: L852-1197, L2147-2258): money is
-- bigdecimal in currency units, times are epoch ms (webhook), ids are 64-bit longs.
-- from_canonical writes the same shape (Shoplus itself only accepts the shipping
-- address through Order.update; see shoplus_order_address in the sync layer).
-- Copy this file and edit it to change the mapping.
-- Times are `date` (002:L112-113): epoch ms in every example (002:L2186, L2269), while the
-- query bounds of the same type are yyyy-MM-dd HH:mm:ss text (002:L862): both are read.
local T = require("mallapi.mapper").ms_or_datetime("+08:00")
local status = { [-1] = "payment_failed", [0] = "pending_payment", [1] = "paid", [2] = "shipped",
                 [3] = "cancelled", [4] = "completed" }
local status_out = { payment_failed = -1, pending_payment = 0, paid = 1, processing = 1,
                     shipped = 2, delivered = 2, cancelled = 3, completed = 4 }
local fulfillment = { [0] = "unfulfilled", [1] = "partial", [2] = "fulfilled",
                      [3] = "partially_delivered", [4] = "delivered" }
local fulfillment_out = { unfulfilled = 0, partial = 1, fulfilled = 2, partially_delivered = 3, delivered = 4 }
-- line refundStatus: -1 退款失败, 0 未退款 (no refund), 1 部分退款, 2 退款成功 (002:L991)
local refund = { [-1] = "failed", [0] = "none", [1] = "partially_refunded", [2] = "refunded" }
local refund_out = { failed = -1, none = 0, pending = 0, partially_refunded = 1, refunded = 2 }

local address_in = {
  first_name = "firstName", last_name = "lastName",
  name = { join = { "firstName", "lastName" }, sep = " " },
  phone = "phone", company = "company", street = "address1", street2 = "address2",
  city = "city", province = "province", province_code = "provinceCode",
  country = "country", country_code = "countryCode", zip = "zip",
}
local address_out = {
  firstName = "first_name", lastName = "last_name", phone = "phone", company = "company",
  address1 = "street", address2 = "street2", city = "city", province = "province",
  provinceCode = "province_code", country = "country", countryCode = "country_code", zip = "zip",
}

return {
  entity = "order",
  -- Shoplus's codes for the canonical enums (doc/mapping.md's status table is made from these).
  status = {
    order_status = status, fulfillment_status = fulfillment, line_refund_status = refund,
    line_financial_status = { Fail = "failed", Pending = "unpaid", Paid = "paid",
                              Refunding = "refunding", Refunded = "refunded", Cancel = "cancelled" },
  },
  to_canonical = {
    id = { "id", "id_string", required = true },
    order_no = { "orderNo", required = true },
    store_id = { "shopId", "id_string" },
    status = { "status", enum = status, enum_default = "other" },
    fulfillment_status = { "fulfillmentStatus", enum = fulfillment, enum_default = "other" },
    currency = { "currency", required = true },
    subtotal = { "itemsAmount", "money_to_minor" },
    shipping_fee = { "orderShipping.payShipAmount", "money_to_minor" },
    discount_total = { "discountsAmount", "money_to_minor" },
    tax_total = { "taxAmount", "money_to_minor" },
    total = { "payTotalAmount", "money_to_minor", required = true },
    created_at = { "createTime", "ms", fn = T, required = true },
    updated_at = { "updateTime", "ms", fn = T },
    paid_at = { "payTime", "ms", fn = T },
    cancelled_at = { "cancelledTime", "ms", fn = T },
    buyer_id = { { "email", "customer.email", "phone" } },
    -- escape hatch: the id type follows whichever of email / phone is present
    -- (`uses` tells mapper:decode which members the function reads)
    buyer_id_type = { uses = { "email", "phone" }, fn = function(order)
      if order.email and order.email ~= "" then return "email" end
      if order.phone and order.phone ~= "" then return "mobile" end
    end },
    buyer_email = { "email", skip_empty = true },
    buyer_phone = { "phone", skip_empty = true },
    buyer_name = { join = { "shippingAddress.firstName", "shippingAddress.lastName" }, sep = " " },
    buyer_note = "buyerRemark",
    seller_note = "sellerRemark",
    shipping_address = { "shippingAddress", fields = address_in },
    billing_address = { "billingAddress", fields = address_in },
    payment = { fields = {
      gateway = "gateway",
      method = "payment.creditCardCompany",
      transaction_id = "payment.paymentId",
      amount = { "payTotalAmount", "money_to_minor" },
      paid_at = { "payTime", "ms", fn = T },
    } },
    lines = { each = "orderItems", fields = {
      id = { "id", "id_string", required = true },
      product_id = { "productId", "id_string" },
      sku_id = { "variantId", "id_string" },
      sku_code = "skuCode",
      title = "title",
      options = "variantOptionValue",
      quantity = { "quantity", required = true },
      unit_price = { "variantPrice", "money_to_minor", required = true },
      total = { "saleAmount", "money_to_minor" },
      paid_total = { "payAmount", "money_to_minor" },
      discount = { "totalDiscount", "money_to_minor" },
      refund_status = { "refundStatus", enum = refund, enum_default = "other" },
    } },
    discounts = { each = "discounts", fields = {
      id = { "discountId", "id_string" },
      code = "code",
      type = { "type", "string" },
      title = "title",
      amount = { "amount", "money_to_minor" },
    } },
  },
  from_canonical = {
    id = { "id", "id_number", required = true },
    orderNo = { "order_no", required = true },
    shopId = { "store_id", "id_number" },
    status = { "status", enum = status_out, enum_default = 0 },
    fulfillmentStatus = { "fulfillment_status", enum = fulfillment_out, enum_default = 0 },
    currency = { "currency", required = true },
    itemsAmount = { "subtotal", "minor_to_money" },
    ["orderShipping.payShipAmount"] = { "shipping_fee", "minor_to_money" },
    discountsAmount = { "discount_total", "minor_to_money" },
    taxAmount = { "tax_total", "minor_to_money" },
    payTotalAmount = { "total", "minor_to_money", required = true },
    createTime = { "created_at", "ms", required = true },
    updateTime = { "updated_at", "ms" },
    payTime = { "paid_at", "ms" },
    cancelledTime = { "cancelled_at", "ms" },
    email = "buyer_email",
    phone = "buyer_phone",
    buyerRemark = "buyer_note",
    sellerRemark = "seller_note",
    gateway = "payment.gateway",
    ["payment.creditCardCompany"] = "payment.method",
    ["payment.paymentId"] = "payment.transaction_id",
    shippingAddress = { "shipping_address", fields = address_out },
    billingAddress = { "billing_address", fields = address_out },
    orderItems = { each = "lines", fields = {
      id = { "id", "id_number" },
      productId = { "product_id", "id_number" },
      variantId = { "sku_id", "id_number" },
      skuCode = "sku_code",
      title = "title",
      variantOptionValue = "options",
      quantity = { "quantity", required = true },
      variantPrice = { "unit_price", "minor_to_money", required = true },
      saleAmount = { "total", "minor_to_money" },
      payAmount = { "paid_total", "minor_to_money" },
      totalDiscount = { "discount", "minor_to_money" },
      refundStatus = { "refund_status", enum = refund_out, enum_default = 0 },
    } },
    discounts = { each = "discounts", fields = {
      discountId = { "id", "id_number" },
      code = "code",
      type = { "type", "int" },
      title = "title",
      amount = { "amount", "minor_to_money" },
    } },
  },
}
