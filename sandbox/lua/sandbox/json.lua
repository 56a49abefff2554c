-- The sandbox's own small JSON reader and writer (pure Lua, runs in nginx's LuaJIT and in
-- Lua 5.4 / LuaJIT test processes). It exists so that 64-bit ids survive: an integer literal
-- that a double cannot hold exactly (more than 15 significant digits) is decoded as a
-- `bignum` (a table holding the digits) and written back verbatim. Arrays carry a marker
-- metatable so that an empty array stays `[]`; `json.null` stands for JSON null.
local M = {}

local byte, sub, find, char, format = string.byte, string.sub, string.find, string.char, string.format
local concat, tostring, tonumber, type = table.concat, tostring, tonumber, type
local pairs, ipairs, setmetatable, getmetatable, floor = pairs, ipairs, setmetatable, getmetatable, math.floor

local array_mt = { __name = "sandbox.json.array" }
local bignum_mt = { __name = "sandbox.json.bignum" }
bignum_mt.__tostring = function(b) return b.digits end
bignum_mt.__eq = function(a, b) return a.digits == b.digits end

M.null = setmetatable({}, { __tostring = function() return "null" end, __name = "sandbox.json.null" })

-- json.array(t) marks t as an array (also when empty); returns t.
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

-- json.bignum("531464955418787840") makes a number written verbatim by the encoder.
function M.bignum(digits)
  return setmetatable({ digits = digits }, bignum_mt)
end

function M.is_bignum(v)
  return type(v) == "table" and getmetatable(v) == bignum_mt
end

-- The text of a scalar id: strings as they are, numbers without exponent, bignums' digits.
function M.text(v)
  if type(v) == "string" then return v end
  if M.is_bignum(v) then return v.digits end
  if type(v) == "number" then
    if v == floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
    return M.number_text(v)
  end
  if type(v) == "boolean" then return tostring(v) end
  return nil
end

---------------------------------------------------------------------------- decoding
local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64, 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end

local decode_value

local function fail(_, pos, what)
  error({ json_error = format("json: %s at byte %d", what, pos) }, 0)
end

local function skip_ws(s, pos)
  local _, e = find(s, "^[ \t\r\n]*", pos)
  return e + 1
end

local function decode_string(s, pos)          -- pos at the opening quote
  local parts, i = {}, pos + 1
  while true do
    local a, b = find(s, '^[^"\\%c]+', i)
    if a then parts[#parts + 1] = sub(s, a, b); i = b + 1 end
    local c = byte(s, i)
    if c == nil then fail(s, i, "unterminated string") end
    if c == 34 then return concat(parts), i + 1 end
    if c < 32 then fail(s, i, "control character in string") end
    local e = sub(s, i + 1, i + 1)             -- backslash
    if e == "u" then
      local hex = sub(s, i + 2, i + 5)
      if not find(hex, "^%x%x%x%x$") then fail(s, i, "bad \\u escape") end
      local cp = tonumber(hex, 16)
      i = i + 6
      if cp >= 0xD800 and cp <= 0xDBFF and sub(s, i, i + 1) == "\\u" then
        local lo = tonumber(sub(s, i + 2, i + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
          i = i + 6
        end
      end
      parts[#parts + 1] = utf8_char(cp)
    elseif escapes[e] then
      parts[#parts + 1] = escapes[e]
      i = i + 2
    else
      fail(s, i, "bad escape")
    end
  end
end

local function decode_number(s, pos)
  local a, b = find(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not a then fail(s, pos, "bad number") end
  local text = sub(s, a, b)
  if not find(text, "^-?0[%.eE]") and find(text, "^-?0%d") then fail(s, pos, "leading zero") end
  if not find(text, "[%.eE]") then
    local digits = text:gsub("^-", ""):gsub("^0+", "")
    if #digits > 15 then return M.bignum(text), b + 1 end
  end
  local n = tonumber(text)
  if not n then fail(s, pos, "bad number") end
  if math.type and not find(text, "[%.eE]") then n = math.tointeger(n) or n end
  return n, b + 1
end

decode_value = function(s, pos, depth)
  if depth > 200 then fail(s, pos, "nested too deep") end
  pos = skip_ws(s, pos)
  local c = byte(s, pos)
  if c == 123 then                               -- {
    local obj = {}
    pos = skip_ws(s, pos + 1)
    if byte(s, pos) == 125 then return obj, pos + 1 end
    while true do
      if byte(s, pos) ~= 34 then fail(s, pos, "expected a member name") end
      local key
      key, pos = decode_string(s, pos)
      pos = skip_ws(s, pos)
      if byte(s, pos) ~= 58 then fail(s, pos, "expected ':'") end
      local v
      v, pos = decode_value(s, pos + 1, depth + 1)
      obj[key] = v
      pos = skip_ws(s, pos)
      c = byte(s, pos)
      if c == 125 then return obj, pos + 1 end
      if c ~= 44 then fail(s, pos, "expected ',' or '}'") end
      pos = skip_ws(s, pos + 1)
    end
  elseif c == 91 then                            -- [
    local arr, n = M.array({}), 0
    pos = skip_ws(s, pos + 1)
    if byte(s, pos) == 93 then return arr, pos + 1 end
    while true do
      local v
      v, pos = decode_value(s, pos, depth + 1)
      n = n + 1
      arr[n] = v
      pos = skip_ws(s, pos)
      c = byte(s, pos)
      if c == 93 then return arr, pos + 1 end
      if c ~= 44 then fail(s, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == 34 then
    return decode_string(s, pos)
  elseif c == 116 and sub(s, pos, pos + 3) == "true" then
    return true, pos + 4
  elseif c == 102 and sub(s, pos, pos + 4) == "false" then
    return false, pos + 5
  elseif c == 110 and sub(s, pos, pos + 3) == "null" then
    return M.null, pos + 4
  elseif c == 45 or (c and c >= 48 and c <= 57) then
    return decode_number(s, pos)
  end
  fail(s, pos, c and "unexpected character" or "unexpected end")
end

-- json.decode(text) -> value | nil, err. Objects are plain tables, arrays carry the
-- array marker, null is json.null, integers beyond 15 digits are bignums.
function M.decode(text)
  if type(text) ~= "string" then return nil, "json: not a string" end
  local ok, v, pos = pcall(decode_value, text, 1, 0)
  if not ok then
    if type(v) == "table" and v.json_error then return nil, v.json_error end
    error(v, 0)
  end
  pos = skip_ws(text, pos)
  if pos <= #text then return nil, format("json: trailing text at byte %d", pos) end
  return v
end

-- json.raw_members(text) -> list of {name, raw, value} for the top-level members of a JSON
-- object, raw being the member's value exactly as written; or nil, err.
function M.raw_members(text)
  if type(text) ~= "string" then return nil, "json: not a string" end
  local ok, res = pcall(function()
    local out = {}
    local pos = skip_ws(text, 1)
    if byte(text, pos) ~= 123 then fail(text, pos, "expected an object") end
    pos = skip_ws(text, pos + 1)
    if byte(text, pos) == 125 then return out end
    while true do
      if byte(text, pos) ~= 34 then fail(text, pos, "expected a member name") end
      local name
      name, pos = decode_string(text, pos)
      pos = skip_ws(text, pos)
      if byte(text, pos) ~= 58 then fail(text, pos, "expected ':'") end
      local first = skip_ws(text, pos + 1)
      local value, after = decode_value(text, first, 1)
      out[#out + 1] = { name = name, raw = sub(text, first, after - 1), value = value }
      pos = skip_ws(text, after)
      local c = byte(text, pos)
      if c == 125 then
        if skip_ws(text, pos + 1) <= #text then fail(text, pos + 1, "trailing text") end
        return out
      end
      if c ~= 44 then fail(text, pos, "expected ',' or '}'") end
      pos = skip_ws(text, pos + 1)
    end
  end)
  if ok then return res end
  if type(res) == "table" and res.json_error then return nil, res.json_error end
  error(res, 0)
end

---------------------------------------------------------------------------- encoding
local escape_map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                     ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escape_map[c] or format("\\u%04x", byte(c))
  end) .. '"'
end

-- The shortest text that reads back as the same double.
function M.number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if math.type and math.type(n) == "integer" then return format("%d", n) end
  if n == floor(n) and n > -1e15 and n < 1e15 then return format("%d", n) end
  for p = 14, 17 do
    local t = format("%." .. p .. "g", n)
    if tonumber(t) == n then return t end
  end
  return format("%.17g", n)
end

local function is_sequence(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return n > 0, n
end

local encode_value
encode_value = function(v, out, depth)
  local tv = type(v)
  if depth > 200 then error("json.encode: nested too deep", 0) end
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = M.number_text(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == M.null then
    out[#out + 1] = "null"
  elseif tv == "table" then
    local mt = getmetatable(v)
    if mt == bignum_mt then out[#out + 1] = v.digits; return end
    local seq, n = is_sequence(v)
    if mt == array_mt or seq then
      out[#out + 1] = "["
      for i = 1, n or #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode_value(val, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("json.encode: cannot encode a " .. tv, 0)
  end
end

-- json.encode(value) -> text. Object members are written in sorted order.
function M.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return concat(out)
end

-- Deep copy that keeps the array marker and shares bignums/null (they are immutable).
function M.copy(v)
  if type(v) ~= "table" or v == M.null or M.is_bignum(v) then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = M.copy(x) end
  return setmetatable(c, getmetatable(v))
end

return M
