-- Small helpers shared by the vendor emulations: time formats, paging, filters, generated ids,
-- percent-decoding and the raw query string parser.
local json = require "sandbox.json"

local M = {}

local UTC_OFFSET = 8 * 3600             -- vendors' wall-clock times are read as +08:00

function M.now()
  return ngx.now()
end

-- "yyyy-MM-dd HH:mm:ss" in +08:00 for epoch seconds t (default now).
function M.datetime(t)
  return os.date("!%Y-%m-%d %H:%M:%S", math.floor((t or ngx.now()) + UTC_OFFSET))
end

-- Epoch milliseconds (an integer) for epoch seconds t (default now).
function M.epoch_ms(t)
  return math.floor((t or ngx.now()) * 1000 + 0.5)
end

function M.date(t)
  return os.date("!%Y-%m-%d", math.floor((t or ngx.now()) + UTC_OFFSET))
end

-- Parse "yyyy-MM-dd[ HH:mm[:ss]]" or "yyyy-MM-ddTHH:mm:ss[.fff]" (+08:00) to epoch seconds.
function M.parse_datetime(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, sec = rest:match("^[ T](%d%d):(%d%d):?(%d?%d?)")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil end
  local yy = y - (mo <= 2 and 1 or 0)                 -- days from civil (proleptic Gregorian)
  local era = math.floor(yy / 400)
  local yoe = yy - era * 400
  local doy = math.floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + (tonumber(h) or 0) * 3600 + (tonumber(mi) or 0) * 60 + (tonumber(sec) or 0) - UTC_OFFSET
end

-- n random lower-hex characters.
function M.random_hex(n)
  local t = {}
  for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end

-- Compare two decimal id texts as integers (no double in between).
function M.id_less(a, b)
  a, b = json.text(a) or "", json.text(b) or ""
  if #a ~= #b then return #a < #b end
  return a < b
end

-- Remove members whose name starts with "_" (internal bookkeeping) from a copy of a record.
function M.public(rec)
  if type(rec) ~= "table" then return rec end
  local out = {}
  for k, v in pairs(rec) do
    if type(k) ~= "string" or k:sub(1, 1) ~= "_" then out[k] = v end
  end
  return setmetatable(out, getmetatable(rec))
end

function M.public_list(list)
  local out = json.array()
  for i, r in ipairs(list) do out[i] = M.public(r) end
  return out
end

-- Shallow merge of src's members into dst (json.null in src removes nothing: stored as is).
function M.merge(dst, src, skip)
  for k, v in pairs(src) do
    if not (skip and skip[k]) then dst[k] = v end
  end
  return dst
end

-- Copy into dst the members of src named in names that src has (not nil); returns dst.
function M.assign_given(dst, src, names)
  for _, n in ipairs(names) do
    if src[n] ~= nil then dst[n] = src[n] end
  end
  return dst
end

-- records[first .. first+count-1] as a JSON array.
function M.slice(records, first, count)
  local out = json.array()
  for i = first, math.min(#records, first + count - 1) do out[#out + 1] = records[i] end
  return out
end

-- Page `num` (from 1) of `size` records, with their public members, as a JSON array.
function M.public_page(records, num, size)
  return M.public_list(M.slice(records, (num - 1) * size + 1, size))
end

function M.filter(records, pred)
  local out = {}
  for _, r in ipairs(records) do
    if pred(r) then out[#out + 1] = r end
  end
  return out
end

-- tonumber for JSON numbers, bignums and numeric strings.
function M.num(v)
  if type(v) == "number" then return v end
  if type(v) == "string" then return tonumber(v) end
  if json.is_bignum(v) then return tonumber(v.digits) end
  return nil
end

function M.percent_decode(s, plus_is_space)
  if plus_is_space then s = s:gsub("%+", " ") end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Parse a raw query string into a list of {name, value} (percent-decoded, "+" kept as is)
-- and a table name -> value (the last one wins) / name -> list when repeated (`multi`).
function M.parse_query(raw)
  local pairs_list, single, multi = {}, {}, {}
  for part in (raw or ""):gmatch("[^&]+") do
    local name, value = part:match("^([^=]*)=?(.*)$")
    name, value = M.percent_decode(name), M.percent_decode(value)
    pairs_list[#pairs_list + 1] = { name, value }
    single[name] = value
    multi[name] = multi[name] or {}
    table.insert(multi[name], value)
  end
  return pairs_list, single, multi
end

return M
