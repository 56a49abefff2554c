-- Babycare return (退货退款) <-> canonical refund of type "return_refund". Reads and
-- writes the order/return/create body (004: L843-916). A returned line's
-- salesOrderDetailId is Babycare's order line id (canonical ref_id). BanNiu account
-- fields (appId, projectId, taskId, userId) are settings the caller adds.
return {
  entity = "refund",
  to_canonical = {
    type = { const = "return_refund" },
    return_goods = { const = true },
    store_code = "storeCode",
    order_no = { "platformOrderNo", required = true },
    order_id = { "salesOrderId", "id_string", required = true },
    refund_no = { "platformRefundNo", required = true },
    id = { "platformRefundNo", required = true },
    return_shipment = { fields = {
      carrier = "backExpressName", carrier_code = "backExpressCode", tracking_number = "backExpressNo",
    } },
    lines = { each = "returnInDetailList", fields = {
      ref_id = { "salesOrderDetailId", "id_string" },
      id = { "platformNo", "id_string" },
      sku_code = "skuCode",
      quantity = { "qty", required = true },
    } },
  },
  from_canonical = {
    storeCode = { "store_code", required = true },
    platformOrderNo = { "order_no", required = true },
    salesOrderId = { "order_id", "id_number", required = true },
    platformRefundNo = { { "refund_no", "id" }, required = true },
    backExpressNo = { "return_shipment.tracking_number", required = true },
    backExpressCode = { "return_shipment.carrier_code", required = true },
    backExpressName = "return_shipment.carrier",
    returnInDetailList = { each = "lines", fields = {
      salesOrderDetailId = { "ref_id", "id_number", required = true },
      platformNo = { "id", "id_string", required = true },
      skuCode = { "sku_code", required = true },
      qty = { "quantity", "int", required = true },
    } },
  },
}
