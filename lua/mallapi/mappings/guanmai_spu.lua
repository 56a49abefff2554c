-- Guanmai SPU <-> canonical product (without SKUs). Reads spu/get and spu/list items
-- (003: L596-653; the category keys are category_id_1/_2 in get and category1_id in
-- list); writes the spu/create body (003: L579-595: name, std_unit_name, pinlei_id
-- mandatory). The most specific category, the 品类 pinlei, is the canonical category.
return {
  entity = "product",
  to_canonical = {
    id = { "id", required = true },
    spu_code = "id",
    title = { "name", required = true },
    description = "desc",
    unit = "std_unit_name",
    category_id = { { "pinlei_id", "category_id_2", "category_id_1", "category1_id" } },
    images = { fields = { url = "image" }, list = true },
    created_at = { "create_time", { "datetime_to_ms", offset = "+08:00" } },
  },
  from_canonical = {
    name = { "title", required = true },
    desc = "description",
    std_unit_name = { "unit", required = true },
    pinlei_id = { "category_id", required = true },
    image = "images[1].url",
  },
}
