-- mallapi.map: map one document between vendors by name with the shipped mappings
-- (lua/mallapi/mappings/<vendor>_<entity>.lua): mallapi.map("acme.order",
-- "other.order", doc) goes vendor -> canonical -> vendor unless a direct mapping file
-- <from>_to_<to> exists. Mappers are compiled once and cached.
local mapper = require "mallapi.mapper"
local util = require "mallapi.util"

local error, ipairs, pairs, require, tostring, type = error, ipairs, pairs, require, tostring, type
local package = package

local M = {}
local compiled = {}      -- "acme.order>canonical" -> mapper | false

local function split_name(name)
  local vendor, entity = name:match("^([%w_]+)%.([%w_]+)$")
  return vendor, entity
end

local function load_mapping(vendor, entity)
  local modname = "mallapi.mappings." .. vendor .. "_" .. entity
  if not package.searchpath(modname, package.path) then return nil end
  return require(modname)
end

-- Compiled mapper for one direction ("to_canonical" / "from_canonical"), or nil.
local function direction(vendor, entity, which)
  local key = vendor .. "." .. entity .. ">" .. which
  local m = compiled[key]
  if m == nil then
    local mapping = load_mapping(vendor, entity)
    local spec = mapping and mapping[which]
    m = spec and mapper(spec) or false
    compiled[key] = m
  end
  return m or nil, (load_mapping(vendor, entity) or {}).entity
end

-- Direct mapping file <from>_to_<to> (e.g. mappings/acme_order_to_other_order.lua)
-- holding one spec, or nil.
local function direct(from, to)
  local key = from .. ">" .. to
  local m = compiled[key]
  if m == nil then
    local fv, fe = split_name(from)
    local tv, te = split_name(to)
    local modname = "mallapi.mappings." .. fv .. "_" .. fe .. "_to_" .. tv .. "_" .. te
    m = package.searchpath(modname, package.path) and mapper(require(modname)) or false
    compiled[key] = m
  end
  return m or nil
end

local function check_name(name, arg)
  if type(name) ~= "string" or not split_name(name) then
    error("bad argument #" .. arg .. " to 'mallapi.map' (\"vendor.entity\" expected, got "
          .. tostring(name) .. ")", 3)
  end
end

--- map(from, to, doc [, extra]) -> mapped | nil, err, code
-- from/to: "acme.order", "canonical.order", ... extra: fields merged into the
-- canonical record before it is mapped to `to` (settings such as store_code).
function M.map(from, to, doc, extra)
  check_name(from, 1)
  check_name(to, 2)
  if type(doc) ~= "table" then
    error("bad argument #3 to 'mallapi.map' (table expected, got " .. type(doc) .. ")", 2)
  end
  local d = not extra and direct(from, to)
  if d then
    local out, err = d(doc)
    if not out then return nil, "map " .. from .. " -> " .. to .. ": " .. err, "MAP" end
    return out
  end
  local fv, fe = split_name(from)
  local tv, te = split_name(to)
  local canonical = doc
  if fv ~= "canonical" then
    local m, entity = direction(fv, fe, "to_canonical")
    if not m then error("bad argument #1 to 'mallapi.map' (no mapping " .. from .. " -> canonical)", 2) end
    if tv == "canonical" and te ~= entity then
      error("bad argument #2 to 'mallapi.map' (" .. from .. " maps to canonical." .. tostring(entity)
        .. ", not " .. to .. ")", 2)
    end
    local err
    canonical, err = m(doc)
    if not canonical then return nil, "map " .. from .. " -> canonical: " .. err, "MAP" end
    fe = entity
  end
  if extra then
    for k, v in pairs(extra) do canonical[k] = v end
  end
  if tv == "canonical" then return canonical end
  local m, entity = direction(tv, te, "from_canonical")
  if not m then error("bad argument #2 to 'mallapi.map' (no mapping canonical -> " .. to .. ")", 2) end
  if fv == "canonical" and fe ~= entity then
    error("bad argument #2 to 'mallapi.map' (" .. to .. " takes canonical." .. tostring(entity) .. ", not "
      .. from .. ")", 2)
  elseif fe ~= entity then
    error("bad argument #2 to 'mallapi.map' (" .. from .. " and " .. to .. " are different entities)", 2)
  end
  local out, err = m(canonical)
  if not out then return nil, "map canonical -> " .. to .. ": " .. err, "MAP" end
  return out
end

-- Source field names of one spec entry: "a", {"a", "b"} (alternatives) or {{"a", "b"}, conv}.
local function sources(entry)
  if type(entry) == "string" then return entry end
  if type(entry) ~= "table" then return nil end
  local first = entry[1]
  if type(first) == "table" then return table.concat(first, "|") end
  return first
end

local function collect_required(spec, prefix, out)
  for _, entry in pairs(spec) do
    if type(entry) == "table" and entry.fields then
      local each = type(entry.each) == "table" and table.concat(entry.each, "|") or entry.each
      local inner = each and (each .. "[].") or (type(entry[1]) == "string" and entry[1] .. ".") or ""
      collect_required(entry.fields, prefix .. inner, out)
    elseif type(entry) == "table" and entry.required then
      local src = sources(entry)
      if type(src) == "string" then out[#out + 1] = prefix .. src end
    end
  end
end

--- required("acme.order") -> sorted list of the source fields a record must have for the
--- mapping to canonical ("a|b": one of the alternatives), or nil when no such mapping.
function M.required(name)
  check_name(name, 1)
  local mapping = load_mapping(split_name(name))
  if not mapping or type(mapping.to_canonical) ~= "table" then return nil end
  local out = {}
  collect_required(mapping.to_canonical, "", out)
  table.sort(out)
  local unique = {}
  for _, field in ipairs(out) do if unique[#unique] ~= field then unique[#unique + 1] = field end end
  return unique
end

--- The installed mapping names, sorted ("acme.order", ...): every
-- mallapi/mappings/<vendor>_<entity>.lua on package.path, the shipped ones and the user's
-- own (the vendor is the text before the first "_"; direct <a>_to_<b> files are left out).
function M.names()
  local names = {}
  for _, module in ipairs(util.modules("mallapi/mappings")) do
    local vendor, entity = module:match("^([%w]+)_([%w_]+)$")
    if vendor and not module:find("_to_", 1, true) then names[#names + 1] = vendor .. "." .. entity end
  end
  table.sort(names)
  return names
end

return setmetatable(M, { __call = function(_, ...) return M.map(...) end })
