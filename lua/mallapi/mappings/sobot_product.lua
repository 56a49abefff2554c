-- Sobot product <-> canonical product. A Sobot item is one flat record per sellable
-- unit (000: L419-647): it maps to a canonical product with one SKU, and back from a
-- canonical product's first SKU (push one item per SKU by mapping each SKU's product).
-- Money is integer fen as text; times ms on add, seconds on get (auto_ms).
local status = { [0] = "other", [1] = "active", [2] = "inactive", [3] = "sold_out" }
local status_out = { other = 0, active = 1, inactive = 2, sold_out = 3, deleted = 2 }

return {
  entity = "product",
  status = { product_status = status },     -- Sobot's codes for the canonical enum
  to_canonical = {
    id = { { "item_id", "itemid" }, "id_string", required = true },
    store_id = { { "store_id", "storeid" }, "id_string" },
    spu_code = "spu_code",
    title = { { "title", "name" }, required = true },
    category_id = { "category_id", "id_string" },
    status = { "status", enum = status, enum_default = "other" },
    currency = { const = "CNY" },
    created_at = { "create_time", "auto_ms" },
    updated_at = { "update_time", "auto_ms" },
    images = { fields = { url = "media_url" }, list = true },
    skus = { list = true, fields = {
      id = { { "item_id", "itemid" }, "id_string" },
      sku_code = "sku_code",
      title = "name",
      price = { "retail_price", "int", required = true },
      cost_price = { "cost_price", "int" },
      stock = "stock",
      status = { "status", enum = status, enum_default = "other" },
    } },
  },
  from_canonical = {
    storeid = { "store_id", "id_string", required = true },
    itemid = { { "skus[1].id", "id" }, "id_string", required = true },
    sku_code = "skus[1].sku_code",
    spu_code = "spu_code",
    name = { { "skus[1].title", "title" }, required = true },
    title = "title",
    category_id = { "category_id", "id_string" },
    retail_price = { "skus[1].price", "string", required = true },
    cost_price = { "skus[1].cost_price", "string" },
    stock = { "skus[1].stock", "int" },
    status = { "status", enum = status_out, enum_default = 0 },
    delete_flag = { "status", enum = { deleted = 1 }, enum_default = 0 },
    media_url = "images[1].url",
    create_time = { "created_at", "ms_string", required = true },
    update_time = { { "updated_at", "created_at" }, "ms_string", required = true },
  },
}
