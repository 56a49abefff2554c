-- Sobot product category <-> canonical category. Reads an item_categories/get record
-- (000: L338-418) or the item_category/add object (000: L274-337). Note the document
-- inverts has_child_node between the two: add says 0 no / 1 yes, get says 0 yes / 1 no
-- (000: L292 vs L364); to_canonical follows the add meaning, so map get records with
-- a copy of this file whose enum is swapped. Ids above 2^53 stay strings.
return {
  entity = "category",
  to_canonical = {
    id = { "category_id", "id_string", required = true },
    name = { "category_name", required = true },
    parent_id = { "parent_node_id", "id_string" },
    level = { "category_hierarchy", "string" },
    has_children = { "has_child_node", enum = { [0] = false, [1] = true } },
    created_at = { "create_time", "auto_ms" },
  },
  from_canonical = {
    category_id = { "id", "id_string", required = true },
    category_name = { "name", required = true },
    parent_node_id = { "parent_id", "id_string", default = "0" },
    category_hierarchy = { "level", "string", required = true },
    has_child_node = { "has_children", "bool_int", default = 0 },
    create_time = { "created_at", "ms_string" },
  },
}
