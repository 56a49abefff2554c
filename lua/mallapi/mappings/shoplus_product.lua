-- Shoplus product (SPU with variants) <-> canonical product. Reads a products /
-- products.detail record or a product_* webhook body (002: L95-192, L2259-2483);
-- writes the products.add / products.updateAll body (002: L15-95). Money is bigdecimal
-- in currency units; `currency` is not in the product record (shop currency), so the
-- canonical currency comes from currencyCode when present. Copy and edit freely.
-- Times are `date` (002:L112-113): epoch ms in every example (002:L2186, L2269), while the
-- query bounds of the same type are yyyy-MM-dd HH:mm:ss text (002:L862): both are read.
local T = require("mallapi.mapper").ms_or_datetime("+08:00")
-- publishStatus 1 发布 / 0 未发布; isDeleted 1 否 / 2 是 (002:L109-110): a deleted product
-- is "deleted" whatever its publishStatus.
local publish = { [1] = "active", [0] = "inactive", deleted = "deleted" }
local function publish_code(p)
  if p.isDeleted ~= nil and tostring(p.isDeleted) == "2" then return "deleted" end
  return p.publishStatus
end
local publish_out = { active = 1, inactive = 0, sold_out = 1, deleted = 0, other = 0 }

return {
  entity = "product",
  -- Shoplus's codes for the canonical enums (isDeleted 2 = deleted, whatever publishStatus).
  status = { product_publish_status = { [1] = publish[1], [0] = publish[0] },
             product_is_deleted = { [2] = publish.deleted } },
  to_canonical = {
    id = { "id", "id_string", required = true },
    spu_code = "spuCode",
    store_id = { "shopId", "id_string" },
    title = { "title", required = true },
    vendor = "vendor",
    product_type = "productType",
    tags = { "tags", split = ",", skip_empty = true },
    status = { uses = { "isDeleted", "publishStatus" }, fn = publish_code, enum = publish,
               enum_default = "other" },
    currency = "currencyCode",
    created_at = { "createTime", "ms", fn = T },
    updated_at = { "updateTime", "ms", fn = T },
    published_at = { "publishTime", "ms", fn = T },
    images = { each = "productImgDTOs", fields = {
      id = { "id", "id_string" },
      url = "imgUrl",
      position = { "position", "int" },
    } },
    skus = { each = "productVariantDTOs", fields = {
      id = { "id", "id_string", required = true },
      product_id = { "productId", "id_string" },
      sku_code = "skuCode",
      options = "optionValueNames",
      price = { "salePrice", "money_to_minor", required = true },
      compare_at_price = { "compareAtPrice", "money_to_minor" },
      cost_price = { "purchasePrice", "money_to_minor" },
      barcode = "skuBarcode",
      stock = "productVariantInventoryDTO.availableStockQuantity",
      weight_grams = "grams",
      created_at = { "createTime", "ms", fn = T },
      updated_at = { "updateTime", "ms", fn = T },
    } },
  },
  from_canonical = {
    id = { "id", "id_number" },
    spuCode = "spu_code",
    title = { "title", required = true },
    vendor = "vendor",
    productType = "product_type",
    tags = { "tags", join = "," },
    publishStatus = { "status", enum = publish_out, enum_default = 1 },
    currencyCode = "currency",
    productImages = { each = "images", fields = {
      imgUrl = "url",
      position = { "position", "int" },
    } },
    productVariants = { each = "skus", fields = {
      id = { "id", "id_number" },
      skuCode = "sku_code",
      salePrice = { "price", "minor_to_money", required = true },
      compareAtPrice = { "compare_at_price", "minor_to_money" },
      purchasePrice = { "cost_price", "minor_to_money" },
      skuBarcode = "barcode",
      optionValueNames = { "options", split = "," },
      availableStockQuantity = { "stock", "int" },
      grams = { "weight_grams", "int" },
    } },
  },
}
