-- Sobot store <-> canonical store. Reads a stores/get record (000: L127-272; times
-- in seconds) or a stores/add item (000: L12-126; times in ms); writes the
-- stores/add item. store_type: 0 other, 1 offline, 2 online; status: 1 open, 2 closed.
local status = { [1] = "open", [2] = "closed" }
local status_out = { open = 1, closed = 2 }
local store_type = { [0] = "other", [1] = "offline", [2] = "online" }
local store_type_out = { other = 0, offline = 1, online = 2 }

return {
  entity = "store",
  status = { store_status = status, store_type = store_type },   -- Sobot's codes, canonical enums
  to_canonical = {
    id = { { "store_id", "storeid" }, "id_string", required = true },
    name = { "store_name", required = true },
    code = "store_code",
    type = { "store_type", enum = store_type, enum_default = "other" },
    status = { "status", enum = status, enum_default = "other" },
    parent_id = { { "parent_store_id", "parent_storeid" }, "id_string" },
    image_url = "media_url",
    created_at = { "create_time", "auto_ms" },
    updated_at = { "update_time", "auto_ms" },
    deleted = { "delete_flag", "bool" },
    address = { fields = {
      country = "country", province = "province", city = "city", district = "district",
      street = "detail_address",
    } },
  },
  from_canonical = {
    storeid = { "id", "id_string", required = true },
    store_name = { "name", required = true },
    store_code = "code",
    store_type = { "type", enum = store_type_out, enum_default = 0 },
    status = { "status", enum = status_out, enum_default = 1 },
    parent_storeid = { "parent_id", "id_string", default = "0" },
    media_url = "image_url",
    create_time = { "created_at", "ms_string", required = true },
    update_time = { { "updated_at", "created_at" }, "ms_string", required = true },
    delete_flag = { "deleted", "bool_int", default = 0 },
    country = "address.country",
    province = "address.province",
    city = "address.city",
    district = "address.district",
    detail_address = "address.street",
  },
}
