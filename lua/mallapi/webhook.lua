-- mallapi.webhook: verify messages that vendors push to us. Shoplus signs its webhooks with
-- SHA-256 over the body's top-level values (002, "签名"); Guanmai's pushed messages carry
-- appid/ts/sign with an undocumented rule (default: doc/assumptions.md). Each rule is a
-- replaceable function in M.rules; the string to sign is built from the raw members so that
-- numbers (64-bit ids) enter it exactly as written. The default Shoplus rule runs in C
-- (core.webhook.shoplus: one scan of the raw body, no decoded table); M.shoplus_check is
-- the verify-only path the nginx receiver uses.
local mallapi = require "mallapi"
local core = require "mallapi.core"

local error, ipairs, pairs, pcall, select, tonumber, tostring, type =
  error, ipairs, pairs, pcall, select, tonumber, tostring, type
local concat, sort = table.concat, table.sort
local os_time = os.time

local M = { tolerance_s = 300 }

local function header(headers, name)
  if type(headers) ~= "table" then return nil end
  local lname = name:lower()
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == lname then
      if type(v) == "table" then return v[1] end
      return v
    end
  end
  return nil
end

-- The body's top-level members {name, raw, value} except `sign`, sorted by name (byte
-- order); value is the decoded member. skip(raw) drops members.
-- A repeated name gives nil: the rules skip null and "" values and the decoder keeps the
-- last member, so a repeated name could change the data of a signed body.
local function members_except_sign(raw_body, decoded, skip)
  local list, names = {}, {}
  for _, m in ipairs(mallapi.json.raw_members(raw_body)) do
    if names[m.name] then return nil end
    names[m.name] = true
    if m.name ~= "sign" and not skip(m.raw) then
      list[#list + 1] = { name = m.name, raw = m.raw, value = decoded[m.name] }
    end
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- Text of a member in a string to sign: a string's decoded text, anything else its raw JSON.
local function member_text(m)
  if m.raw:sub(1, 1) == '"' then
    if type(m.value) == "string" then return m.value end
    return mallapi.json.decode(m.raw)
  end
  return m.raw
end

local function is_null(raw) return raw == "null" end
local function is_null_or_empty(raw) return raw == "null" or raw == '""' end

M.rules = {}

-- Shoplus: the values of the non-empty top-level members except sign, sorted by name,
-- concatenated, then the api secret; lower hex SHA-256. Nested objects and arrays are not
-- canonicalised by the document: they enter as their raw JSON text (opts.nested = "skip"
-- leaves them out).
function M.rules.shoplus(members, secret, opts)
  local parts = {}
  for _, m in ipairs(members) do
    local first = m.raw:sub(1, 1)
    local nested = first == "{" or first == "["
    if not (nested and opts.nested == "skip") then parts[#parts + 1] = member_text(m) end
  end
  parts[#parts + 1] = secret
  return mallapi.crypto.digest("sha256", concat(parts), "hex")
end

-- Guanmai (ASSUMPTION): name=value of the top-level members except sign, nulls skipped,
-- sorted by name, joined by "&"; "%", "&" and "=" in names and values written %25, %26,
-- %3D so that the join is unambiguous; lower hex HMAC-SHA256(secret, that string).
local GUANMAI_ESCAPES = { ["%"] = "%25", ["&"] = "%26", ["="] = "%3D" }
local function guanmai_escape(text) return (text:gsub("[%%&=]", GUANMAI_ESCAPES)) end
M.guanmai_escape = guanmai_escape

function M.rules.guanmai(members, secret)
  local parts = {}
  for i, m in ipairs(members) do parts[i] = guanmai_escape(m.name) .. "=" .. guanmai_escape(member_text(m)) end
  return mallapi.crypto.hmac("sha256", secret, concat(parts, "&"), "hex")
end

local SKIP = { shoplus = is_null_or_empty, guanmai = is_null }

local function reject(vendor, reason, code)
  return nil, "webhook.verify: " .. vendor .. ": " .. reason, code
end

local c_shoplus = core.webhook.shoplus

-- The default Shoplus rule in one C pass, without decoding the body:
-- shoplus_check(body, event_type, secret, nested_skip, name...) -> true, text... (per
-- name: a string member's text, a number/boolean as written, false for an object or
-- array, nil when absent or null) | nil, err, code (the messages and codes of verify).
local function shoplus_check(body, event_type, secret, nested_skip, ...)
  if type(body) ~= "string" then return reject("shoplus", "no body", "BAD_BODY") end
  local verdict, a, b, c, d, e = c_shoplus(body, secret, nested_skip, ...)
  if not verdict then
    if b == "BAD_BODY" then
      return reject("shoplus", a == "webhook.shoplus: repeated member name" and "repeated member name"
                    or "body is not a JSON object", "BAD_BODY")
    end
    return nil, "webhook.verify: shoplus: " .. tostring(a):gsub("^webhook%.shoplus: ", ""), b
  end
  if verdict == "UNSIGNED" then return reject("shoplus", "missing signature", "SIGNATURE") end
  if event_type == nil or event_type == "" then
    return reject("shoplus", "missing WebHook-Event header", "BAD_BODY")
  end
  if verdict ~= "OK" then return reject("shoplus", "signature does not match", "SIGNATURE") end
  if select("#", ...) <= 5 then return true, a, b, c, d, e end
  return true, select(2, c_shoplus(body, secret, nested_skip, ...))
end
M.shoplus_check = shoplus_check

-- A verified Guanmai message with its documented fields (the profile's `messages`):
-- event.fields = {name = value} of the type's fields, or event.unknown = true for a type the
-- document does not list (still delivered; fields then holds nothing).
local function guanmai_message(event)
  local known = require("mallapi.vendors.guanmai").messages[event.type]
  event.fields = {}
  if not known then
    event.unknown = true
    return event
  end
  for _, name in ipairs(known.fields) do event.fields[name] = event.data[name] end
  return event
end

-- verify(vendor, {body=, headers=, secret=, now= (unix s), tolerance= (s), rule=, nested=})
-- -> event {vendor=, type=, data= (decoded body)} | nil, err, code. Guanmai events also
-- carry fields (documented members of the type) and unknown (a type not documented).
function M.verify(vendor, opts)
  if vendor ~= "shoplus" and vendor ~= "guanmai" then
    error("webhook.verify: bad argument #1 (vendor 'shoplus' or 'guanmai' expected)", 2)
  end
  if type(opts) ~= "table" then error("webhook.verify: bad argument #2 (table expected)", 2) end
  if type(opts.secret) ~= "string" or opts.secret == "" then
    error("webhook.verify: bad argument #2 (secret string expected)", 2)
  end
  local body = opts.body
  if type(body) ~= "string" then return reject(vendor, "no body", "BAD_BODY") end
  if vendor == "shoplus" and opts.rule == nil then
    local event_type = header(opts.headers, "WebHook-Event")
    local ok, err, code = shoplus_check(body, event_type, opts.secret, opts.nested == "skip")
    if not ok then return nil, err, code end
    local fine, decoded = pcall(mallapi.json.decode, body)
    if not fine then return reject(vendor, "body is not a JSON object", "BAD_BODY") end
    return { vendor = vendor, type = event_type, data = decoded }
  end
  local ok, decoded = pcall(mallapi.json.decode, body)
  if not ok or type(decoded) ~= "table" or decoded[1] ~= nil then
    return reject(vendor, "body is not a JSON object", "BAD_BODY")
  end
  local ok2, members = pcall(members_except_sign, body, decoded, SKIP[vendor])
  if not ok2 then return reject(vendor, "body is not a JSON object", "BAD_BODY") end
  if not members then return reject(vendor, "repeated member name", "BAD_BODY") end

  local given = decoded.sign
  if type(given) ~= "string" or given == "" then
    return reject(vendor, "missing signature", "SIGNATURE")
  end

  local event_type
  if vendor == "shoplus" then
    event_type = header(opts.headers, "WebHook-Event")
    if event_type == nil or event_type == "" then
      return reject(vendor, "missing WebHook-Event header", "BAD_BODY")
    end
  else
    event_type = decoded.type
    local ts = decoded.ts ~= nil and tonumber(tostring(decoded.ts)) or nil
    if not ts then return reject(vendor, "missing ts", "STALE") end
    local now = opts.now or os_time()
    local tolerance = opts.tolerance or M.tolerance_s
    if ts > now + tolerance or ts < now - tolerance then
      return reject(vendor, "ts outside the " .. tostring(tolerance) .. " s window", "STALE")
    end
    if opts.appid ~= nil and tostring(decoded.appid) ~= tostring(opts.appid) then
      return reject(vendor, "appid does not match", "SIGNATURE")
    end
  end

  local rule = opts.rule or M.rules[vendor]
  local expected = rule(members, opts.secret, opts)
  if not mallapi.crypto.equals(expected:lower(), given:lower()) then
    return reject(vendor, "signature does not match", "SIGNATURE")
  end
  local event = { vendor = vendor, type = event_type, data = decoded }
  if vendor == "guanmai" then return guanmai_message(event) end
  return event
end

return M
