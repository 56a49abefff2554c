-- Babycare package -> canonical shipment. Reads one orderPackageList[] row of
-- order/package/list (004: L743-842): one row per shipped SKU. Babycare accepts no
-- shipments, so there is no from_canonical.
return {
  entity = "shipment",
  to_canonical = {
    order_no = { "platformOrderNo", required = true },
    tracking_number = { "expressNo", required = true },
    carrier = "expressName",
    carrier_code = "expressCode",
    warehouse_code = "warehouseCode",
    status = { const = "shipped" },
    shipped_at = { "deliveryTime", { "datetime_to_ms", offset = "+08:00" } },
    lines = { list = true, fields = {
      product_id = { "productId", "id_string" },
      sku_id = { "skuId", "id_string" },
      sku_code = "skuCode",
      title = "productName",
      options = "skuName",
      quantity = "quantity",
    } },
  },
}
