-- mallapi.mapper: compile a mapping spec (plain Lua data) into a C program once and
-- run it over decoded documents: mapper(doc), mapper:many(list [, opts]) and
-- mapper:decode(json_text). The spec language is described in doc/mapping.md.
local core = require "mallapi.core"

local error, pairs, setmetatable, type = error, pairs, setmetatable, type

local map, json = core.map, core.json
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
-- `offset` (default +08:00), where a vendor's documents disagree (a `date` typed both ways):
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
  -- 2^53 become json.number raw numbers on LuaJIT
  return map.compile(spec, { array_mt = json.array_mt, number = json.number })
end

-- mapper:decode(text [, at [, opts]]) is C (core.map): it builds only the parts of the
-- document the spec reads, then maps them.

return setmetatable(M, { __call = function(_, spec) return M.new(spec) end })
