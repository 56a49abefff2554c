-- Guanmai SKU <-> canonical sku. Reads sku/get and sku/list items (003: L740-802);
-- writes the sku/update body (003: L719-739, every field mandatory). Prices are
-- integer fen in sku/update; the unit of sku/get's sale_price is not stated, fen is
-- assumed like the request. `state` (是否上架, listed) is read as 1 listed / 0 not.
-- sku/update needs sale_ratio and sale_num_least, which the canonical sku lacks: 1.
local state = { [1] = "active", [0] = "inactive" }
local state_out = { active = 1, inactive = 0, sold_out = 1, deleted = 0, other = 0 }

return {
  entity = "sku",
  to_canonical = {
    id = { "id", required = true },
    sku_code = "id",
    product_id = "spu_id",
    title = { "name", required = true },
    unit = "sale_unit_name",
    price = { "sale_price", "int" },
    currency = { const = "CNY" },
    status = { "state", enum = state, enum_default = "other" },
    created_at = { "create_time", { "datetime_to_ms", offset = "+08:00" } },
    updated_at = { "modify_time", { "datetime_to_ms", offset = "+08:00" } },
  },
  from_canonical = {
    sku_id = { "id", required = true },
    sku_name = { "title", required = true },
    std_price = { "price", "int", required = true },
    sale_price = { "price", "int", required = true },
    sale_num_least = { const = 1 },
    sale_ratio = { const = 1 },
    sale_unit_name = { "unit", required = true },
    std_unit_name = { "unit", required = true },
    is_weigh = { const = 0 },
    state = { "status", enum = state_out, enum_default = 1 },
  },
}
