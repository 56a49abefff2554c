-- mallapi.sync.jsonl: one JSON value per line, for the dead-letter file. Uses the
-- project's codec (mallapi.json) when it is built in, else a small encoder that keeps
-- 64-bit integers exact (Lua 5.4 integers, LuaJIT int64 cdata) and UTF-8 text as is.
local type, tostring, pairs, ipairs, pcall, require = type, tostring, pairs, ipairs, pcall, require
local string_format, table_concat, table_sort, math_type = string.format, table.concat, table.sort, math.type

local M = {}

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t" }
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESCAPES[c] or string_format("\\u%04x", c:byte()) end) .. '"'
end

local function number(n)
  if math_type and math_type(n) == "integer" then return string_format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  for _, fmt in ipairs({ "%.15g", "%.16g" }) do
    local s = string_format(fmt, n)
    if tonumber(s) == n then return s end
  end
  return string_format("%.17g", n)
end

local function encode(v, out, depth)
  local t = type(v)
  if t == "string" then out[#out + 1] = quote(v)
  elseif t == "number" then out[#out + 1] = number(v)
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "nil" then out[#out + 1] = "null"
  elseif t == "cdata" then out[#out + 1] = (tostring(v):gsub("U?LL$", ""))
  elseif t == "table" and depth < 64 then
    local n, keys = #v, {}
    for k in pairs(v) do keys[#keys + 1] = k end
    if #keys > 0 and #keys == n then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      for i, k in ipairs(keys) do keys[i] = tostring(k) end
      table_sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = quote(k) .. ":"
        local value = v[k]
        if value == nil then value = v[tonumber(k)] end
        encode(value, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else out[#out + 1] = quote(tostring(v)) end
end

function M.fallback_encode(v)
  local out = {}
  encode(v, out, 0)
  return table_concat(out)
end

local codec
function M.encode(v)
  if codec == nil then
    local ok, mallapi = pcall(require, "mallapi")
    local json = ok and mallapi.json
    codec = type(json) == "table" and type(json.encode) == "function" and json.encode or false
  end
  if codec then
    local s = codec(v, { sort_keys = true })
    if type(s) == "string" then return s end
  end
  return M.fallback_encode(v)
end

return M
