-- In-memory state of the sandbox, in the lua_shared_dict `sandbox` so every nginx worker sees
-- the same data: records per vendor and entity (kept as JSON text, so 64-bit ids stay exact,
-- listed in insertion order), counters for generated ids, knobs and small key/values.
local json = require "sandbox.json"

local M = {}

local function dict()
  return ngx.shared.sandbox
end

local function k(...)
  return table.concat({ ... }, "\0")
end

-- Per-worker cache of decoded records by their JSON text (bounded; callers get copies, so a
-- handler that edits a record cannot change the cache).
local decoded, decoded_count = {}, 0
local function decode(text)
  local v = decoded[text]
  if v == nil then
    v = json.decode(text)
    if decoded_count >= 20000 then decoded, decoded_count = {}, 0 end
    decoded[text], decoded_count = v, decoded_count + 1
  end
  return json.copy(v)
end

-- Insert or replace a record; a replaced record keeps its place in listings.
function M.put(vendor, entity, id, record)
  local d = dict()
  local pos = d:get(k("pos", vendor, entity, id))
  if not pos then
    pos = assert(d:incr(k("count", vendor, entity), 1, 0))
    d:set(k("slot", vendor, entity, pos), id)
    d:set(k("pos", vendor, entity, id), pos)
  end
  local ok, err = d:set(k("rec", vendor, entity, id), json.encode(record))
  if not ok then error("sandbox.store: " .. tostring(err)) end
  return record
end

function M.get(vendor, entity, id)
  if id == nil then return nil end
  local text = dict():get(k("rec", vendor, entity, json.text(id) or tostring(id)))
  return text and decode(text) or nil
end

function M.delete(vendor, entity, id)
  local d = dict()
  id = json.text(id) or tostring(id)
  local existed = d:get(k("rec", vendor, entity, id)) ~= nil
  d:delete(k("rec", vendor, entity, id))
  d:delete(k("pos", vendor, entity, id))
  return existed
end

-- Every live record of an entity, in insertion order.
function M.list(vendor, entity)
  local d = dict()
  local out = {}
  local n = d:get(k("count", vendor, entity)) or 0
  for pos = 1, n do
    local id = d:get(k("slot", vendor, entity, pos))
    if id and d:get(k("pos", vendor, entity, id)) == pos then
      local text = d:get(k("rec", vendor, entity, id))
      if text then out[#out + 1] = decode(text) end
    end
  end
  return out
end

-- A counter per vendor and name, from 1 upwards.
function M.next(vendor, name, start)
  return assert(dict():incr(k("seq", vendor, name), 1, start or 0))
end

function M.kv_get(vendor, name)
  return dict():get(k("kv", vendor, name))
end

function M.kv_set(vendor, name, value, ttl)
  dict():set(k("kv", vendor, name), value, ttl or 0)
end

function M.knob(vendor, name)
  return dict():get(k("knob", vendor, name))
end

function M.set_knob(vendor, name, value)
  if value == nil or value == json.null or value == false then
    dict():delete(k("knob", vendor, name))
  else
    dict():set(k("knob", vendor, name), value)
  end
end

-- Take one from a count-down knob ("rate_limit", "drop_next", ...): true when it was > 0.
function M.take(vendor, name)
  local d = dict()
  local key = k("knob", vendor, name)
  local v = d:get(key)
  if type(v) ~= "number" or v <= 0 then return false end
  local left = d:incr(key, -1)
  if left and left < 0 then d:set(key, 0) return false end
  return true
end

-- Forget everything of one vendor (records, counters, knobs, tokens).
function M.reset(vendor)
  local d = dict()
  local prefixes = { "pos", "count", "slot", "rec", "seq", "kv", "knob" }
  for _, key in ipairs(d:get_keys(0)) do
    for _, p in ipairs(prefixes) do
      if key:sub(1, #p + #vendor + 2) == p .. "\0" .. vendor .. "\0" then d:delete(key) break end
    end
  end
end

return M
