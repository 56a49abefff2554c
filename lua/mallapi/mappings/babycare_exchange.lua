-- Babycare exchange (换货) <-> canonical refund of type "exchange". Reads and writes the
-- order/exchange/create body (004: L162-271): exchangeOutDetailList are the lines sent
-- out (canonical exchange_lines), returnInDetailList the lines coming back (canonical
-- lines, whose ref_id is Babycare's order line id). BanNiu account fields (appId,
-- projectId, taskId, userId) are settings the caller adds.
return {
  entity = "refund",
  to_canonical = {
    type = { const = "exchange" },
    order_no = { "platformOrderNo", required = true },
    order_id = { "salesOrderId", "id_string", required = true },
    reason = "exchangeReason",
    refund_no = { "exchangeCode", skip_empty = true },
    buyer_note = "buyerMemo",
    seller_note = "sellerMemo",
    return_goods = { const = true },
    receiver = { fields = {
      name = "receiver", phone = "mobile", province = "province", city = "city",
      district = "district", street = "address", country = "country",
    } },
    return_shipment = { fields = {
      carrier = "backExpressName", carrier_code = "backExpressCode", tracking_number = "backExpressNo",
    } },
    exchange_lines = { each = "exchangeOutDetailList", fields = {
      id = { "platformNo", "id_string" },
      sku_code = { "skuCode", required = true },
      title = "productName",
      quantity = { "qty", required = true },
    } },
    lines = { each = "returnInDetailList", fields = {
      ref_id = { "id", "id_string" },
      id = { "platformNo", "id_string" },
      quantity = { "qty", required = true },
    } },
  },
  from_canonical = {
    platformOrderNo = { "order_no", required = true },
    salesOrderId = { "order_id", "id_number", required = true },
    isAutoFillAddress = { fn = function(refund)
      local a = refund.receiver
      return a == nil or a.street == nil
    end },
    exchangeReason = "reason",
    exchangeCode = { "refund_no", default = "" },
    buyerMemo = "buyer_note",
    sellerMemo = "seller_note",
    receiver = "receiver.name",
    mobile = "receiver.phone",
    country = "receiver.country",
    province = "receiver.province",
    city = "receiver.city",
    district = "receiver.district",
    address = "receiver.street",
    backExpressName = "return_shipment.carrier",
    backExpressCode = "return_shipment.carrier_code",
    backExpressNo = "return_shipment.tracking_number",
    exchangeOutDetailList = { each = "exchange_lines", fields = {
      platformNo = { "id", "id_string" },
      skuCode = { "sku_code", required = true },
      productName = "title",
      qty = { "quantity", "int", required = true },
    } },
    returnInDetailList = { each = "lines", fields = {
      id = { "ref_id", "id_number" },
      platformNo = { "id", "id_string" },
      qty = { "quantity", "int", required = true },
    } },
  },
}
