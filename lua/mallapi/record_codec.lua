-- mallapi.record_codec: the one text form of the small records mallapi keeps in its
-- stores (token records, sync checkpoints). A magic line naming the kind and version,
-- then one "name=value" line per field, with "%", "=" and line breaks escaped as %XX,
-- so a record is readable in a file, a shared dict or Redis without a JSON codec.
-- Numbers are written exactly (integers without ".0"), booleans as 1/0. Decoding gives
-- the fields as text; the owner of the record turns them back into numbers.
local type, tostring, tonumber, ipairs = type, tostring, tonumber, ipairs
local string_format, string_char, concat, floor, math_type =
  string.format, string.char, table.concat, math.floor, math.type

local M = {}

local RECORD_SPECIALS = "[%%=\r\n]"

-- Exact text of a number: integers as digits, other values with 17 significant digits.
function M.number_text(n)
  if math_type and math_type(n) == "integer" then return string_format("%d", n) end
  if n == floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return string_format("%.0f", n) end
  return string_format("%.17g", n)
end

-- %XX for every byte of s matching the Lua pattern class `specials` (default: % = CR LF).
function M.escape(s, specials)
  return (s:gsub(specials or RECORD_SPECIALS, function(c) return string_format("%%%02X", c:byte()) end))
end

function M.unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string_char(tonumber(h, 16)) end))
end

local function value_text(v)
  local t = type(v)
  if t == "number" then return M.number_text(v) end
  if t == "boolean" then return v and "1" or "0" end
  return tostring(v)
end

-- The text of rec: magic line, then fields in the order of the list `fields` (absent ones left out).
function M.encode(magic, fields, rec)
  local lines = { magic }
  for _, name in ipairs(fields) do
    local v = rec[name]
    if v ~= nil then lines[#lines + 1] = name .. "=" .. M.escape(value_text(v)) end
  end
  return concat(lines, "\n") .. "\n"
end

-- The fields of a record of kind `magic` as text, or nil when text is not one.
function M.decode(magic, text)
  if type(text) ~= "string" or text:sub(1, #magic + 1) ~= magic .. "\n" then return nil end
  local rec = {}
  for name, value in text:gmatch("([%w_]+)=([^\n]*)") do rec[name] = M.unescape(value) end
  return rec
end

return M
