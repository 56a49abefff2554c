-- Babycare reissue (补发) order <-> canonical order (type "reissue"). Reads and writes
-- the order/supply/create body (004: L649-742). The BanNiu account fields appId,
-- projectId, taskId and userId are settings the caller adds to the body.
-- isAutoFillAddress is true when the canonical order has no shipping street address.
local D = { "ms_to_datetime", offset = "+08:00" }
local T = { "datetime_to_ms", offset = "+08:00" }

return {
  entity = "order",
  to_canonical = {
    order_no = { "platformOrderNo", required = true },
    type = { const = "reissue" },
    store_code = "storeCode",
    paid_at = { "supplyOrderExt.platformPayTime", T },
    buyer_name = "supplyOrderExt.memberName",
    buyer_note = "supplyOrderExt.buyerMemo",
    seller_note = "supplyOrderExt.sellerMemo",
    shipping_fee = { "supplyOrderExt.postFee", "money_to_minor" },
    buyer_phone = "phone",
    shipping_address = { fields = {
      name = "receiverName", phone = "mobile", province = "province", city = "city",
      district = "district", street = "address",
    } },
    lines = { each = "supplyOrderDetailList", fields = {
      id = { "platformNo", "id_string", required = true },
      sku_code = { "skuCode", required = true },
      quantity = { "qty", required = true },
      paid_price = { "settlementPrice", "money_to_minor" },
      paid_total = { "settlementFee", "money_to_minor" },
    } },
  },
  from_canonical = {
    platformOrderNo = { "order_no", required = true },
    storeCode = { "store_code", required = true },
    isAutoFillAddress = { fn = function(order)
      local a = order.shipping_address
      return a == nil or a.street == nil
    end },
    receiverName = "shipping_address.name",
    mobile = "shipping_address.phone",
    phone = "buyer_phone",
    province = "shipping_address.province",
    city = "shipping_address.city",
    district = "shipping_address.district",
    address = { join = { "shipping_address.street", "shipping_address.street2" }, sep = " " },
    ["supplyOrderExt.platformPayTime"] = { { "paid_at", "created_at" }, D, required = true },
    ["supplyOrderExt.memberName"] = { "buyer_name", default = "" },
    ["supplyOrderExt.postFee"] = { "shipping_fee", "minor_to_money", default = 0 },
    ["supplyOrderExt.buyerMemo"] = "buyer_note",
    ["supplyOrderExt.sellerMemo"] = "seller_note",
    supplyOrderDetailList = { each = "lines", fields = {
      platformNo = { "id", "id_string", required = true },
      skuCode = { "sku_code", required = true },
      qty = { "quantity", "int", required = true },
      settlementPrice = { { "paid_price", "unit_price" }, "minor_to_money", default = 0 },
      settlementFee = { { "paid_total", "total" }, "minor_to_money", default = 0 },
    } },
  },
}
