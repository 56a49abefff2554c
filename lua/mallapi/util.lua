-- mallapi.util: small helpers shared by the client and the vendor profiles (parameter text,
-- RFC 3986 query strings, UTC offsets, JSON bodies, case-free header lookup, the profile's
-- auth-failure codes). Profiles require this module, never mallapi.client.
local mallapi = require "mallapi"

local error, ipairs, pairs, type, tostring, tonumber, next, getmetatable =
  error, ipairs, pairs, type, tostring, tonumber, next, getmetatable
local concat = table.concat
local floor = math.floor
local package, pcall, io = package, pcall, io

local util = {}

-- Text of a scalar parameter as it goes into a query string or a string to sign:
-- integers without ".0", booleans as true/false, 64-bit raw numbers by their tostring.
function util.text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v == floor(v) and v > -2^63 and v < 2^63 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "boolean" then return v and "true" or "false" end
  return tostring(v)
end

-- Percent-encoding per RFC 3986 (unreserved kept, other bytes %XX upper case).
function util.rfc3986(s)
  return mallapi.codec.urlencode(s, "rfc3986")
end

-- Query string from a list of {name, value} pairs, in the given order.
function util.query_string(pairs_list)
  local out = {}
  for i, p in ipairs(pairs_list) do
    out[i] = util.rfc3986(p[1]) .. "=" .. util.rfc3986(util.text(p[2]))
  end
  return concat(out, "&")
end

-- Offset in minutes from "+08:00", "-05:30", "+0800" or a number of minutes.
function util.parse_offset(offset)
  if offset == nil then return 480 end
  if type(offset) == "number" then return offset end
  local sign, hh, mm = tostring(offset):match("^([+-])(%d%d):?(%d%d)$")
  if not sign then error("bad argument #2 to 'mallapi.client' (option 'utc_offset': must look like +08:00)", 3) end
  local minutes = tonumber(hh) * 60 + tonumber(mm)
  return sign == "-" and -minutes or minutes
end

-- "yyyy-MM-dd HH:mm:ss" of a unix time in ms at a UTC offset in minutes.
function util.format_time(ms, offset_minutes)
  return mallapi.clock.format(ms, offset_minutes)
end

-- Encode a JSON value; an empty Lua table is the empty object.
function util.json_encode(v)
  if type(v) == "table" and next(v) == nil and getmetatable(v) == nil then return "{}" end
  return mallapi.json.encode(v)
end

-- The JSON text of a request body, or nil, "<vendor> <op>: parameter 'name': why", "INVALID"
-- when a parameter cannot be encoded (NaN, a cycle, invalid UTF-8): then nothing is sent.
function util.encode_body(c, opname, v)
  local text, err = util.json_encode(v)
  if text then return text end
  local why, path = tostring(err):match("^json%.encode: (.-) at %$%.?(.*)$")
  if path and path ~= "" then
    return nil, c.vendor .. " " .. opname .. ": parameter '" .. path .. "': " .. why, "INVALID"
  end
  return nil, c.vendor .. " " .. opname .. ": parameters: " .. (why or tostring(err)), "INVALID"
end

-- Business data of a successful answer: never nil (an absent member is json.null).
function util.data(v)
  if v ~= nil then return v end
  return mallapi.json.null
end

-- Copy of a table, one level deep.
function util.copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- Look up a header in a table whose keys may have any case.
function util.header(headers, name)
  if not headers then return nil end
  local v = headers[name] or headers[name:lower()]
  if v ~= nil then return v end
  local lname = name:lower()
  for k, val in pairs(headers) do
    if type(k) == "string" and k:lower() == lname then return val end
  end
  return nil
end

-- A required parameter is missing when nil or JSON null (an empty string is a value).
function util.absent(v)
  return v == nil or v == mallapi.json.null
end

-- Whether a vendor failure code means "authentication refused": the code is one of
-- cfg.auth_codes (when the caller set it) or of the profile's `auth_codes`, compared as text.
function util.is_auth_code(c, code)
  if code == nil then return false end
  local text = util.text(code)
  for _, v in ipairs(c.cfg.auth_codes or c.profile.auth_codes or {}) do
    if util.text(v) == text then return true end
  end
  return false
end

-- Module names below a folder of package.path ("mallapi/vendors" -> { "acme", ... }):
-- every <dir>/<folder>/<name>.lua for the package.path templates ending in "?.lua", sorted,
-- without repeats. Used to list what is installed (vendors, mappings) in messages.
function util.modules(folder)
  local seen, names = {}, {}
  for template in package.path:gmatch("[^;]+") do
    local dir = template:match("^(.-)%?%.lua$")
    if dir then
      dir = (dir == "" and "." or dir:gsub("/$", "")) .. "/" .. folder
      local ok, p = pcall(io.popen, "ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
      if ok and p then
        for file in p:lines() do
          local name = file:match("^([%w_]+)%.lua$")
          if name and not seen[name] then seen[name] = true; names[#names + 1] = name end
        end
        p:close()
      end
    end
  end
  table.sort(names)
  return names
end

return util
