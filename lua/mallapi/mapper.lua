-- mallapi.mapper: compile a mapping spec (plain Lua data) into a C program once and
-- run it over decoded documents: mapper(doc), mapper:many(list [, opts]) and
-- mapper:decode(json_text). The spec language is described in doc/mapping.md.
local core = require "mallapi.core"

local error, pairs, pcall, require, setmetatable, tonumber, tostring, type =
  error, pairs, pcall, require, setmetatable, tonumber, tostring, type

local map = core.map
local M = {}

-- Converters with parameters: M.conv.datetime_to_ms{offset = "+08:00"} is the same as
-- the table {"datetime_to_ms", offset = "+08:00"} in a field spec.
M.conv = setmetatable({}, {
  __index = function(_, name)
    return function(params)
      local c = { name }
      for k, v in pairs(params or {}) do c[k] = v end
      return c
    end
  end,
})

-- One converter applied to one value, with the mapper's exact arithmetic:
-- M.convert("money_to_minor", "16.05") --> 1605; nil, msg on bad input.
M.convert = map.convert

-- The `fn` of a time field that is epoch ms but may come as "yyyy-MM-dd HH:mm:ss" text at
-- `offset` (default +08:00), where a vendor's documents disagree (Shoplus `date`):
-- { "createTime", "ms", fn = mapper.ms_or_datetime() }. Anything else goes on to "ms".
function M.ms_or_datetime(offset)
  local conv = { "datetime_to_ms", offset = offset or "+08:00" }
  return function(v)
    if type(v) ~= "string" or not v:find("-", 2, true) then return v end
    local ms, err = map.convert(conv, v)
    if ms == nil then error(err, 0) end
    return ms
  end
end

--- Compile spec; a mistake in it raises "mapper: field 'x': ...".
function M.new(spec)
  if type(spec) ~= "table" then
    error("bad argument #1 to 'mallapi.mapper' (table expected, got " .. type(spec) .. ")", 2)
  end
  -- arrays the mapper makes carry json.array_mt (so {} encodes as []), and ids beyond
  -- 2^53 become json.number raw numbers on LuaJIT, when the core has mallapi.json
  local json = core.json
  return map.compile(spec, json and { array_mt = json.array_mt, number = json.number } or nil)
end

-- mapper:decode(text [, at [, opts]]) is C when the core has the JSON scanner: it
-- builds only the parts of the document the spec reads, then maps them. Without it
-- (a core built before mallapi.json), this fallback decodes the whole text with
-- mallapi.json or lua-cjson (whose doubles are not exact beyond 2^53), then maps.
if not map.methods.decode then
  local function json_decoder()
    local json = core.json
    if json and json.decode then return json.decode end
    local ok, cjson = pcall(require, "cjson.safe")
    if ok then return cjson.decode end
    return nil
  end

  map.methods.decode = function(self, text, at, opts)
    if type(text) ~= "string" then
      error("bad argument #1 to 'decode' (string expected, got " .. type(text) .. ")", 2)
    end
    local decode = json_decoder()
    if not decode then return nil, "mapper.decode: no JSON decoder available", "JSON" end
    local ok, doc, err = pcall(decode, text)
    if not ok or doc == nil then
      return nil, "mapper.decode: " .. tostring(ok and err or doc), "JSON"
    end
    if at then
      for key in tostring(at):gmatch("[^%.]+") do
        if type(doc) ~= "table" then doc = nil break end
        doc = doc[tonumber(key:match("^%[(%d+)%]$")) or key]
      end
      if type(doc) ~= "table" then return nil, "mapper.decode: no array at '" .. at .. "'", "MAP" end
      return self:many(doc, opts)
    end
    if type(doc) ~= "table" then
      return nil, "mapper.decode: the document is not an object", "JSON"
    end
    return self(doc)
  end
end

return setmetatable(M, { __call = function(_, spec) return M.new(spec) end })
