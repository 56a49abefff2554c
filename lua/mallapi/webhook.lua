-- mallapi.webhook: verify messages that vendors push to us. A generic engine: the rules of
-- each vendor (where the signature is, what is signed and how, where the event type is,
-- extra checks such as a time window, the event id, documented message types, an optional
-- fast path) are the `webhook` table of its profile, mallapi.vendors.<name> on
-- package.path (doc/webhook-profile.md). The engine owns what every rule shares: the body
-- is one JSON object, a repeated top-level member name is refused before anything is
-- verified, the signed members are built from the raw text (64-bit numbers exactly as
-- written), signatures compare in constant time, and errors read
-- "webhook.verify: <vendor>: <reason>".
local mallapi = require "mallapi"
local units = require "mallapi.units"

local error, ipairs, pairs, pcall, require, setmetatable, tostring, type =
  error, ipairs, pairs, pcall, require, setmetatable, tostring, type
local sort = table.sort

local M = { tolerance_s = 300 }

-- header(headers, name) -> the first value of a header, names compared case-insensitively.
local function header(headers, name)
  if type(headers) ~= "table" then return nil end
  local v = headers[name]
  if v == nil then
    local lname = name:lower()
    for k, val in pairs(headers) do
      if type(k) == "string" and k:lower() == lname then v = val break end
    end
  end
  if type(v) == "table" then return v[1] end
  return v
end
M.header = header

-- The profile's webhook rule: rule | nil, why. The profile is required on each call (a
-- table lookup once loaded), so a profile reloaded from another package.path is seen.
local checked = setmetatable({}, { __mode = "k" })
local function rule_of(vendor)
  local ok, profile = pcall(require, "mallapi.vendors." .. vendor)
  if not ok then return nil, "no profile mallapi.vendors." .. vendor .. " on package.path" end
  local rule = type(profile) == "table" and profile.webhook
  if checked[rule] then return rule end
  if type(rule) ~= "table" then
    return nil, "profile mallapi.vendors." .. vendor .. " has no webhook rule"
  end
  if type(rule.sign) ~= "function" then
    return nil, "profile mallapi.vendors." .. vendor .. ": webhook.sign is not a function"
  end
  checked[rule] = true
  return rule
end
M.rule_of = rule_of

-- M.rules[vendor]: the profile's signing function (a default a replacement rule can call).
M.rules = setmetatable({}, { __index = function(_, vendor)
  local rule = rule_of(vendor)
  return rule and rule.sign
end })

-- The body's top-level members {name, raw, value} except the signature member, sorted by
-- name (byte order); value is the decoded member; skip(raw) drops members.
-- A repeated name gives nil: rules skip null or "" values and the decoder keeps the last
-- member, so a repeated name could change the data of a signed body.
local function members_except(raw_body, decoded, except, skip)
  local list, names = {}, {}
  for _, m in ipairs(mallapi.json.raw_members(raw_body)) do
    if names[m.name] then return nil end
    names[m.name] = true
    if m.name ~= except and not (skip and skip(m.raw)) then
      list[#list + 1] = { name = m.name, raw = m.raw, value = decoded[m.name] }
    end
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- member_text(m): a member's text in a string to sign: a string's decoded text, anything
-- else its raw JSON (for the profiles' sign functions).
function M.member_text(m)
  if m.raw:sub(1, 1) == '"' then
    if type(m.value) == "string" then return m.value end
    return mallapi.json.decode(m.raw)
  end
  return m.raw
end

local function reject(vendor, reason, code)
  return nil, "webhook.verify: " .. vendor .. ": " .. reason, code
end
M.reject = reject

-- A member text the signature covers, for event ids: "" and null (skipped by some rules, so
-- anyone could add them) and nested values count as absent.
function M.signed_text(v)
  if v == nil or v == "" or type(v) == "table" or type(v) == "userdata" then return nil end
  return tostring(v)
end

local function event_type_of(rule, headers, decoded)
  if rule.type_header then return header(headers, rule.type_header) end
  if rule.type_member then return decoded[rule.type_member] end
  return nil
end

local function event_id_of(rule, event)
  if rule.event_id then return rule.event_id(event) end
  local given = rule.signature_header and event.signature or event.data[rule.signature or "sign"]
  return M.signed_text(given)
end

-- The event type when the rule requires one: type | nil, err, code.
local function required_type(vendor, rule, event_type)
  if rule.type_header and (event_type == nil or event_type == "") then
    return reject(vendor, "missing " .. rule.type_header .. " header", "BAD_BODY")
  end
  return event_type
end

local function verify(vendor, headers, body, opts)
  local rule, why = rule_of(vendor)
  if not rule then error("bad argument #1 to 'webhook.verify' (" .. why .. ")", 3) end
  if type(opts.secret) ~= "string" or opts.secret == "" then
    error("bad argument #2 to 'webhook.verify' (secret string expected)", 3)
  end
  if type(body) ~= "string" then return reject(vendor, "no body", "BAD_BODY") end
  local secret = opts.secret
  if rule.fast and opts.rule == nil then            -- the profile's one-pass check, then decode
    local event_type = event_type_of(rule, headers, {})
    local ok, reason, code = rule.fast(body, event_type, secret, opts)
    if not ok then return reject(vendor, reason, code) end
    local fine, decoded = pcall(mallapi.json.decode, body)
    if not fine then return reject(vendor, "body is not a JSON object", "BAD_BODY") end
    local event = { vendor = vendor, type = event_type, data = decoded }
    event.id = event_id_of(rule, event)
    if rule.message then event = rule.message(event) end
    return event
  end
  local ok, decoded = pcall(mallapi.json.decode, body)
  if not ok or type(decoded) ~= "table" or decoded[1] ~= nil then
    return reject(vendor, "body is not a JSON object", "BAD_BODY")
  end
  local sig_member = not rule.signature_header and (rule.signature or "sign") or nil
  local ok2, members = pcall(members_except, body, decoded, sig_member, rule.skip)
  if not ok2 then return reject(vendor, "body is not a JSON object", "BAD_BODY") end
  if not members then return reject(vendor, "repeated member name", "BAD_BODY") end

  local given
  if rule.signature_header then given = header(headers, rule.signature_header) else given = decoded[sig_member] end
  if type(given) ~= "string" or given == "" then return reject(vendor, "missing signature", "SIGNATURE") end

  local event_type, terr, tcode = required_type(vendor, rule, event_type_of(rule, headers, decoded))
  if terr then return nil, terr, tcode end
  if rule.check then
    local fine, reason, code = rule.check(decoded, opts, headers)
    if not fine then return reject(vendor, reason, code) end
  end
  local expected = (opts.rule or rule.sign)(members, secret, opts, body)
  if type(expected) ~= "string" or not mallapi.crypto.equals(expected:lower(), given:lower()) then
    return reject(vendor, "signature does not match", "SIGNATURE")
  end
  local event = { vendor = vendor, type = event_type, data = decoded, signature = given }
  event.id = event_id_of(rule, event)
  event.signature = nil
  if rule.message then event = rule.message(event) end
  return event
end

-- verify(vendor, headers, body, cfg) or verify(vendor, {body=, headers=, secret=, ...})
-- -> event {vendor=, type=, id=, data= (decoded body)} | nil, err, code.
-- cfg: secret (required), rule = a replacement sign function, and what the vendor's rule
-- reads (e.g. now, tolerance_s (alias tolerance), appid for a time-windowed rule; nested). id is the event id
-- from signed content (the profile's webhook.event_id, else the signature); a profile's
-- webhook.message may add fields (e.g. documented members of the type).
function M.verify(vendor, a, b, c)
  if type(vendor) ~= "string" or vendor == "" then
    error("bad argument #1 to 'webhook.verify' (vendor name expected, got " .. type(vendor) .. ")", 2)
  end
  if c ~= nil or type(b) == "string" then
    if type(c) ~= "table" then
      error("bad argument #4 to 'webhook.verify' (table expected, got " .. type(c) .. ")", 2)
    end
    return verify(vendor, a, b, units.apply(c, "webhook.verify", 2, 4))
  end
  if type(a) ~= "table" then error("bad argument #2 to 'webhook.verify' (table expected, got " .. type(a) .. ")", 2) end
  return verify(vendor, a.headers, a.body, units.apply(a, "webhook.verify", 2, 2))
end

-- The receiver's verify-only path: checker(vendor, secret, cfg) -> nil when the profile has
-- no fast path (webhook.fast_id) or cfg replaces its rule, else
-- function(body, event_type) -> id | nil, err, code: the delivery verified in one pass over
-- the raw body, its event id from signed content, no decoded table.
function M.checker(vendor, secret, cfg)
  local rule = rule_of(vendor)
  if not (rule and rule.fast_id) or (cfg and cfg.rule ~= nil) then return nil end
  local fast_id = rule.fast_id
  cfg = units.apply(cfg, "webhook.verify", 2, 3)
  return function(body, event_type)
    if type(body) ~= "string" then return reject(vendor, "no body", "BAD_BODY") end
    local id, reason, code = fast_id(body, event_type, secret, cfg or {})
    if not id then return reject(vendor, reason, code) end
    return id
  end
end

-- The name of the header the rule reads the event type from (nil: none).
function M.type_header(vendor)
  local rule = rule_of(vendor)
  return rule and rule.type_header
end

return M
