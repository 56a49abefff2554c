-- Babycare sales order <-> canonical order. Reads an orderList[] item of
-- order/salesDetail/list (004: L272-648); writes the order/sales/createV2 body
-- (004: L9-116). Babycare's platformOrderNo is the source platform's order number
-- (canonical order_no) and a line's platformNo the source line id (canonical line id).
-- storeCode is a Babycare setting: give it as canonical store_code (mallapi.map's
-- `extra` argument). Money is a number, unit not stated: yuan assumed; times are
-- "yyyy-MM-dd HH:mm:ss", +08:00 assumed.
local status = { [0] = "paid", [-10] = "processing", [-15] = "processing", [-20] = "processing",
                 [10] = "processing", [20] = "processing", [30] = "processing", [40] = "shipped",
                 [50] = "cancelled", [60] = "cancelled", [70] = "completed" }
local platform_status_out = { paid = "WAIT_SELLER_SEND_GOODS", processing = "WAIT_SELLER_SEND_GOODS",
                              shipped = "WAIT_BUYER_CONFIRM_GOODS", delivered = "WAIT_BUYER_CONFIRM_GOODS",
                              completed = "TRADE_FINISHED", cancelled = "TRADE_CLOSED" }
local delivery = { [10] = "unfulfilled", [20] = "partial", [30] = "fulfilled", [50] = "other", [60] = "other" }
local T = { "datetime_to_ms", offset = "+08:00" }
local D = { "ms_to_datetime", offset = "+08:00" }

return {
  entity = "order",
  -- Babycare's codes for the canonical enums (doc/mapping.md's status table is made from these).
  status = {
    order_status = status, delivery_status = delivery,
    platform_order_status = { WAIT_SELLER_SEND_GOODS = "paid", WAIT_BUYER_CONFIRM_GOODS = "shipped",
                              TRADE_FINISHED = "completed", TRADE_CLOSED = "cancelled" },
    line_refund_status = { [0] = "none", [10] = "pending", [20] = "refunded" },
    order_refund_status = { [0] = "none", [10] = "partially_refunded", [20] = "refunded" },
    refund_type = { [0] = "return_refund", [1] = "refund_only", [2] = "exchange" },
  },
  to_canonical = {
    id = { "salesOrderId", "id_string", required = true },
    order_no = { "platformOrderNo", required = true },
    external_no = "salesOrderCode",
    store_id = { "storeId", "id_string" },
    store_code = "storeCode",
    status = { "orderStatus", enum = status, enum_default = "other" },
    fulfillment_status = { "deliveryStatus", enum = delivery, enum_default = "other" },
    currency = { "orderExt.currency", default = "CNY" },
    total = { "orderExt.payment", "money_to_minor" },
    shipping_fee = { "orderExt.postFee", "money_to_minor" },
    created_at = { "platformCreateTime", T },
    paid_at = { "orderExt.platformPayTime", T },
    buyer_id = { "orderExt.memberId", "id_string" },
    buyer_name = "orderExt.memberName",
    buyer_note = "orderExt.buyerMemo",
    seller_note = "orderExt.sellerMemo",
    shipping_address = { fields = {
      country = "country", province = "province", city = "city", district = "district",
      street = "address", name = "receiverName", phone = "mobile",
    } },
    lines = { each = "orderDetailList", fields = {
      id = { "platformNo", "id_string", required = true },
      ref_id = { "id", "id_string" },
      product_id = { "productId", "id_string" },
      sku_id = { "skuId", "id_string" },
      sku_code = { "skuCode", required = true },
      title = "productName",
      options = "skuName",
      quantity = { "qty", required = true },
      unit_price = { "price", "money_to_minor" },
      paid_price = { "actualPrice", "money_to_minor" },
      total = { "totalFee", "money_to_minor" },
      paid_total = { "payment", "money_to_minor" },
      discount = { "discountFee", "money_to_minor" },
      tracking_number = "expressNo",
      carrier = "expressName",
      carrier_code = "expressCode",
    } },
  },
  from_canonical = {
    platformOrderNo = { "order_no", required = true },
    orderType = { const = 0 },
    platformOrderStatus = { "status", enum = platform_status_out, enum_default = "WAIT_SELLER_SEND_GOODS" },
    storeCode = { "store_code", required = true },
    memberName = { { "buyer_name", "buyer_email", "buyer_id" }, required = true },
    platformCreateTime = { "created_at", D, required = true },
    platformPayTime = { { "paid_at", "created_at" }, D, required = true },
    receiverName = { "shipping_address.name", required = true },
    mobile = { { "shipping_address.phone", "buyer_phone" }, required = true },
    phone = { "buyer_phone", default = "" },
    country = { "shipping_address.country", required = true },
    province = { "shipping_address.province", required = true },
    city = { "shipping_address.city", required = true },
    district = { { "shipping_address.district", "shipping_address.city" }, required = true },
    address = { join = { "shipping_address.street", "shipping_address.street2" }, sep = " " },
    postFee = { "shipping_fee", "minor_to_money" },
    buyerMemo = "buyer_note",
    sellerMemo = "seller_note",
    detailList = { each = "lines", fields = {
      platformNo = { "id", "id_string", required = true },
      skuCode = { "sku_code", required = true },
      qty = { "quantity", "int", required = true },
      price = { "unit_price", "minor_to_money" },
      totalFee = { "total", "minor_to_money" },
      actualPrice = { "paid_price", "minor_to_money" },
      payment = { "paid_total", "minor_to_money" },
      settlementFee = { { "paid_total", "total" }, "minor_to_money", required = true },
      settlementPrice = { { "paid_price", "unit_price" }, "minor_to_money", required = true },
      discountFee = { "discount", "minor_to_money" },
    } },
  },
}
