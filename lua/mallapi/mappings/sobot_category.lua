-- Sobot product category <-> canonical category. Reads an item_categories/get record
-- (000: L338-418) or the item_category/add object (000: L274-337). Note the document
-- inverts has_child_node between the two: add says 0 no / 1 yes, get says 0 yes / 1 no
-- (000: L292 vs L364); a get record is told by its sobot_category_id (000:L360) and read
-- with the get meaning. Ids above 2^53 stay strings.
local function has_children(c)
  local v = c.has_child_node
  if v == nil then return nil end
  local yes = tostring(v) == (c.sobot_category_id ~= nil and "0" or "1")
  return yes
end
return {
  entity = "category",
  to_canonical = {
    id = { "category_id", "id_string", required = true },
    name = { "category_name", required = true },
    parent_id = { "parent_node_id", "id_string" },
    level = { "category_hierarchy", "string" },
    has_children = { uses = { "has_child_node", "sobot_category_id" }, fn = has_children },
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
