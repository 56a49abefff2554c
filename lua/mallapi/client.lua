-- mallapi.client: one generic client driven by a vendor profile (lua/mallapi/vendors/*.lua).
-- `mallapi.client(vendor, cfg)` checks the config; `client:prepare` builds the exact signed
-- request, `client:call` sends it and checks the vendor envelope, `client:each` walks pages.
local mallapi = require "mallapi"
local units = require "mallapi.units"

local error, ipairs, pairs, type, tostring, tonumber = error, ipairs, pairs, type, tostring, tonumber
local setmetatable, require, pcall = setmetatable, require, pcall
local package = package
local concat, sort = table.concat, table.sort

local util = require "mallapi.util"
local ops = require "mallapi.ops"
local find_operation = ops.find

-- M.util stays for callers of older releases; profiles require mallapi.util.
local M = { util = util }

local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "mallapi.client(" .. self.vendor .. ")" end

---------------------------------------------------------------------------------------------
-- Required parameters: "a" (top level), "a.b" (inside object a), "a[].b" (in each element of a).

-- A required parameter is missing when nil or JSON null (an empty string is a value).
local absent = util.absent

local function check_path(value, path, shown)
  local head, rest = path:match("^([^%.%[]+)(.*)$")
  if rest == "" then
    if type(value) ~= "table" or absent(value[head]) then return shown .. head end
    return nil
  end
  if type(value) ~= "table" then return nil end
  local inner = value[head]
  if inner == nil then return nil end       -- the container itself is checked on its own
  if rest:sub(1, 3) == "[]." then
    if type(inner) ~= "table" then return nil end
    for i, item in ipairs(inner) do
      local missing = check_path(item, rest:sub(4), shown .. head .. "[" .. i .. "].")
      if missing then return missing end
    end
    return nil
  end
  return check_path(inner, rest:sub(2), shown .. head .. ".")
end

local function check_required(self, opname, op, params, fn)
  local missing
  for _, path in ipairs(op.required or {}) do
    missing = missing or check_path(params, path, "")
  end
  -- a {name} in the path also needs a non-empty value (checked here, at the caller's level)
  for name in (op.path or ""):gmatch("{([%w_]+)}") do
    if not missing and (absent(params[name]) or params[name] == "") then missing = name end
  end
  if missing then
    error("bad argument #2 to 'client:" .. fn .. "' (" .. self.vendor .. " " .. opname
      .. ": missing required parameter '" .. missing .. "')", 3)
  end
end

---------------------------------------------------------------------------------------------
-- Documented limits: op.limits is a list of { path, min =, max =, enum = {...}, max_len =
-- (characters), max_bytes =, required_with = "sibling", doc = "001:L2073" } (paths as in
-- `required`). The profile declares them; check_limits refuses a call outside one before
-- anything is sent: nil, "<vendor> <op>: parameter '<path>' ... (<doc>)", "INVALID".

-- UTF-8 characters of a text (Lua 5.1/LuaJIT have no utf8 library): bytes that do not
-- continue a sequence.
local function char_count(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- Every place a path names: calls visit(container, key, shown) for each object that holds
-- the last key ("a[].b" visits each element of a; a missing container visits nothing).
local function each_place(value, path, shown, visit)
  local head, rest = path:match("^([^%.%[]+)(.*)$")
  if type(value) ~= "table" then return nil end
  if rest == "" then return visit(value, head, shown .. head) end
  local inner = value[head]
  if type(inner) ~= "table" then return nil end
  if rest:sub(1, 3) == "[]." then
    for i, item in ipairs(inner) do
      local bad = each_place(item, rest:sub(4), shown .. head .. "[" .. i .. "].", visit)
      if bad then return bad end
    end
    return nil
  end
  return each_place(inner, rest:sub(2), shown .. head .. ".", visit)
end

-- Why one value breaks one limit, or nil.
local function limit_problem(limit, container, key)
  local v = container[key]
  if absent(v) then
    if limit.required_with and not absent(container[limit.required_with]) then
      return "is required when '" .. limit.required_with .. "' is given"
    end
    return nil
  end
  local shown = "= " .. (type(v) == "string" and ("'" .. v .. "'") or util.text(v))
  if limit.enum then
    local text = util.text(v)
    for _, allowed in ipairs(limit.enum) do
      if util.text(allowed) == text then return nil end
    end
    local names = {}
    for i, allowed in ipairs(limit.enum) do names[i] = util.text(allowed) end
    return shown .. " is not one of " .. concat(names, ", ")
  end
  if limit.min or limit.max then
    local n = tonumber(type(v) == "table" and util.text(v) or v)
    if not n then return shown .. " is not a number" end
    if limit.min and n < limit.min then return shown .. " is below the minimum " .. util.text(limit.min) end
    if limit.max and n > limit.max then return shown .. " is above the maximum " .. util.text(limit.max) end
  end
  if (limit.max_len or limit.max_bytes) and type(v) == "string" then
    if limit.max_bytes and #v > limit.max_bytes then
      return "is " .. #v .. " bytes, more than " .. limit.max_bytes
    end
    local n = limit.max_len and char_count(v)
    if n and n > limit.max_len then
      return "is " .. n .. " characters, more than " .. limit.max_len
    end
  end
  return nil
end

local function check_limits(self, opname, op, params)
  if type(params) ~= "table" then return true end
  for _, limit in ipairs(op.limits or {}) do
    local bad = each_place(params, limit[1], "", function(container, key, shown)
      local why = limit_problem(limit, container, key)
      if why then return "parameter '" .. shown .. "' " .. why end
      return nil
    end)
    if bad then
      return nil, self.vendor .. " " .. opname .. ": " .. bad
        .. (limit.doc and (" (" .. limit.doc .. ")") or ""), "INVALID"
    end
  end
  return true
end
---------------------------------------------------------------------------------------------
-- Construction.

function M.new(vendor, cfg)
  if type(vendor) ~= "string" then
    error("bad argument #1 to 'mallapi.client' (vendor name expected)", 2)
  end
  -- a profile is any module mallapi.vendors.<name> on the path (users may add their own)
  if not vendor:match("^[%w_]+$") or not package.searchpath("mallapi.vendors." .. vendor, package.path) then
    error("bad argument #1 to 'mallapi.client' (unknown vendor '" .. vendor .. "'; known: "
      .. concat(M.vendors(), ", ") .. ")", 2)
  end
  local profile = require("mallapi.vendors." .. vendor)
  if cfg ~= nil and type(cfg) ~= "table" then
    error("bad argument #2 to 'mallapi.client' (cfg table expected)", 2)
  end
  cfg = units.apply(util.copy(cfg), "mallapi.client")              -- timeout_ms (alias timeout, s)
  for _, key in ipairs(profile.credentials or {}) do
    if absent(cfg[key]) or cfg[key] == "" then
      error("bad argument #2 to 'mallapi.client' (option '" .. key .. "': required by " .. vendor .. ")", 2)
    end
  end
  local base_url = cfg.base_url or profile.base_url
  if not base_url then
    error("bad argument #2 to 'mallapi.client' (option 'base_url': required by " .. vendor
          .. ", its document names no host)", 2)
  end
  cfg.base_url = (tostring(base_url):gsub("/+$", ""))
  local self = setmetatable({
    vendor = vendor,
    profile = profile,
    cfg = cfg,
    utc_offset = util.parse_offset(cfg.utc_offset),
  }, Client)
  if profile.init then profile.init(self) end
  return self
end

--- The vendor names a client can be made for: every mallapi/vendors/<name>.lua on
-- package.path (the shipped ones and the user's own), sorted.
function M.vendors() return util.modules("mallapi/vendors") end

setmetatable(M, { __call = function(_, vendor, cfg) return M.new(vendor, cfg) end })

-- Time and randomness, both injectable.
function Client:now_ms()
  if self.cfg.clock then return self.cfg.clock() end
  return mallapi.clock.now_ms()
end

function Client:nonce()
  if self.cfg.nonce then return self.cfg.nonce() end
  return mallapi.crypto.nonce()
end

function Client:format_time(ms)
  return util.format_time(ms or self:now_ms(), self.utc_offset)
end

-- The transport: cfg.transport, else one mallapi.http session made on first use.
-- Returns it, or nil, err, code when the session cannot be made.
function Client:transport()
  if not self._transport then
    local transport, err, code = self.cfg.transport, nil, nil
    if not transport then transport, err, code = mallapi.http.new(self.cfg.http or {}) end
    if not transport then return nil, err, code end
    self._transport = transport
  end
  return self._transport
end

-- The shared access token of a profile with a token recipe (profile.fetch_token(client) ->
-- token, lifetime_s | nil, err, code): one mallapi.token manager per client, keyed by
-- profile.token_key(client) or "<vendor>:<first credential>", stored in cfg.token_store.
function Client:token_manager()
  if not self.token then
    local profile = self.profile
    if not profile.fetch_token then
      error("calling 'client:token_manager' on bad self (" .. self.vendor .. " has no fetch_token recipe)", 2)
    end
    local key = profile.token_key and profile.token_key(self)
      or self.vendor .. ":" .. util.text(self.cfg[(profile.credentials or {})[1]] or "")
    self.token = mallapi.token.new {
      key = key,
      fetch = function() return profile.fetch_token(self) end,
      store = self.cfg.token_store,
    }
  end
  return self.token
end

---------------------------------------------------------------------------------------------
-- The operation list.

function Client:operations()
  local list = {}
  for name, op in pairs(self.profile.operations) do
    local required = {}
    for i, r in ipairs(op.required or {}) do required[i] = r end
    list[#list + 1] = { name = name, method = op.method, path = op.path, required = required,
                        limits = op.limits, paged = op.paging ~= nil, note = op.note }
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

---------------------------------------------------------------------------------------------
-- Request building.
--
-- The generic part: fill {path} parameters, put op.query names (and every parameter of a GET)
-- into the query, the rest into a JSON body. The profile's `build` may replace that (a vendor with pre-encoded JSON),
-- then `auth` (or cfg.auth) signs the request. `req` fields: method, base (scheme://host[/prefix]),
-- path (full URL path as sent), query (list of {name, value}), headers, body (string or nil).

local function fill_path(self, opname, op, params)
  return (op.path:gsub("{([%w_]+)}", function(name)
    local v = params[name]
    if absent(v) or v == "" then
      error("bad argument #2 to 'client:prepare' (" .. self.vendor .. " " .. opname
        .. ": missing required parameter '" .. name .. "')", 4)
    end
    params[name] = nil
    return util.rfc3986(util.text(v))
  end))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do if type(k) == "string" then keys[#keys + 1] = k end end
  sort(keys)
  return keys
end

-- Append name=value pairs for a parameter; arrays become repeated names.
local function add_query(list, name, value)
  if type(value) == "table" and value[1] ~= nil then
    for _, item in ipairs(value) do list[#list + 1] = { name, item } end
  elseif value ~= nil and value ~= mallapi.json.null then
    list[#list + 1] = { name, value }
  end
end

function Client:base_request(opname, op, params)
  local profile = self.profile
  local req = {
    op = opname,
    method = op.method,
    base = self.cfg.base_url,
    query = {},
    headers = {},
  }
  local rest = util.copy(params)
  req.path = profile.api_path(self, fill_path(self, opname, op, rest))
  local in_query = {}
  for _, name in ipairs(op.query or {}) do in_query[name] = true end
  local body = {}
  for _, name in ipairs(sorted_keys(rest)) do
    if op.method == "GET" or in_query[name] then
      add_query(req.query, name, rest[name])
    else
      body[name] = rest[name]
    end
  end
  if op.method ~= "GET" then
    req.body_table = body
  end
  return req
end

function Client.finish_request(_, req)
  local url = req.base .. req.path
  if #req.query > 0 then url = url .. "?" .. util.query_string(req.query) end
  return { method = req.method, url = url, headers = req.headers, body = req.body }
end

-- opts.data_json (the exact JSON text to send, for profiles with json_text_params) must be
-- text: raised at the caller's line.
local function check_data_json(opts, fn)
  if type(opts) == "table" and opts.data_json ~= nil and type(opts.data_json) ~= "string" then
    error("bad argument #3 to 'client:" .. fn .. "' (option 'data_json': string expected, got "
      .. type(opts.data_json) .. ")", 3)
  end
end

-- Build the exact request `call` would send, signatures included. Raises on caller mistakes.
function Client:prepare(opname, params, opts)
  if params ~= nil and type(params) ~= "table" and type(params) ~= "string" then
    error("bad argument #2 to 'client:prepare' (params table expected)", 2)
  end
  params = params or {}
  opts = opts or {}
  if type(params) == "string" and not self.profile.json_text_params then
    error("bad argument #2 to 'client:prepare' (params table expected)", 2)
  end
  check_data_json(opts, "prepare")
  local op, real = find_operation(self, opname, params, "prepare")
  if type(params) == "table" and opts.data_json == nil then
    check_required(self, real, op, params, "prepare")
  end
  return self:build(real, op, params, opts)
end

-- The signed request of a resolved operation (real name and definition, required
-- parameters checked): what prepare returns; call builds through it too, resolving once.
function Client:build(real, op, params, opts)
  params, opts = params or {}, opts or {}
  if opts.data_json == nil then
    local ok, lerr, lcode = check_limits(self, real, op, params)
    if not ok then return nil, lerr, lcode end
  end
  local req, berr, bcode
  if self.profile.build then
    req, berr, bcode = self.profile.build(self, real, op, params, opts)
    if not req then return nil, berr, bcode end
  else
    req = self:base_request(real, op, params)
    if req.body_table then
      req.body, berr, bcode = util.encode_body(self, real, req.body_table)
      if not req.body then return nil, berr, bcode end
      req.headers["Content-Type"] = "application/json; charset=utf-8"
    end
  end
  req.body_table = nil
  local auth = self.cfg.auth or self.profile.auth
  local ok, err, code = auth(req, self.cfg, self, opts)
  if ok == nil and err then return nil, self.vendor .. " " .. real .. ": " .. err, code or "AUTH" end
  local out = self:finish_request(req)
  out.op, out.vendor = real, self.vendor
  return out
end

---------------------------------------------------------------------------------------------
-- Sending and the answer.

local function failure(self, opname, kind, msg, detail)
  return nil, self.vendor .. " " .. opname .. ": " .. msg, kind, detail
end

-- Decode an answer and apply the profile's envelope rule.
-- Returns data, decoded | nil, err, code, detail.
function Client:interpret(opname, op, resp)
  local status = resp.status
  local detail = { status = status, retryable = false }
  local decoded
  if resp.body and resp.body ~= "" then
    local ok, value = pcall(mallapi.json.decode, resp.body)
    if ok then decoded = value end
  end
  -- Retry-After as the transport parsed it (mallapi.http: res.retry_after); a transport
  -- of the caller's that does not parse it: its header as delta-seconds
  local retry_after = resp.retry_after
  if retry_after == nil then retry_after = tonumber(util.header(resp.headers, "retry-after")) end
  detail.retry_after = retry_after
  detail.attempts, detail.retries_exhausted = resp.attempts, resp.retries_exhausted
  local auth_refused = status == 401 or status == 403
  if type(decoded) == "table" then
    local data, vcode, vmsg, kind = self.profile.envelope(decoded, op, self, status)
    if kind == nil and (status or 200) < 300 then return data, decoded end
    detail.vendor_code, detail.vendor_message = vcode, vmsg
    if kind == nil then kind = "HTTP" end
    if auth_refused then kind = "AUTH" end
    if status == 429 or (status or 0) >= 500 then kind = "HTTP"; detail.retryable = true end
    local what = kind == "HTTP" and ("HTTP " .. tostring(status)) or
      (kind == "AUTH" and "authentication refused" or "vendor error")
    local vtext = vcode ~= nil and (" " .. util.text(vcode)) or ""
    if vmsg ~= nil and vmsg ~= "" then vtext = vtext .. " " .. util.text(vmsg) end
    return failure(self, opname, kind, what .. (vtext ~= "" and ":" .. vtext or ""), detail)
  end
  if auth_refused then
    return failure(self, opname, "AUTH", "authentication refused: HTTP " .. status, detail)
  end
  if status == 429 or (status or 0) >= 500 then detail.retryable = true end
  if (status or 0) >= 300 then
    return failure(self, opname, "HTTP", "HTTP " .. tostring(status), detail)
  end
  return failure(self, opname, "HTTP", "answer is not a JSON object (HTTP " .. tostring(status)
    .. ")", detail)
end

-- Codes of a failed preparation that are worth retrying: the token API (or the way to
-- it) failed for now; the credentials were not refused.
local TRANSIENT = { HTTP = true, TIMEOUT = true, CONNECT = true, IO = true, DNS = true, PROTOCOL = true,
                    TRANSPORT = true }

-- One request/answer exchange of a resolved operation; returns data, decoded | nil, err,
-- code, detail. opts.idempotent = true lets the transport retry a POST (an upsert).
function Client:exchange(real, op, params, opts)
  local req, perr, pcode = self:build(real, op, params, opts)
  if not req then return nil, perr, pcode, { retryable = TRANSIENT[pcode] == true } end
  opts = units.apply(opts, "mallapi.client")
  req.timeout = opts and opts.timeout or self.cfg.timeout
  if opts and opts.idempotent ~= nil then req.idempotent = opts.idempotent end
  local transport, terr, tcode = self:transport()
  if not transport then
    return failure(self, req.op, tcode or "TRANSPORT", tostring(terr), { retryable = false })
  end
  local limiter = self.cfg.limiter          -- mallapi.ratelimit: its wait counts against the deadline
  if limiter then
    local waited, lerr, lcode = limiter:wait((req.timeout or 30) * 1000)
    if not waited then return failure(self, req.op, lcode, tostring(lerr), { retryable = true }) end
    if req.timeout then req.timeout = math.max(0.001, req.timeout - waited / 1000) end
  end
  local resp, err, code, info = transport:request(req)
  if limiter then limiter:after(resp and resp.status, not resp and (code or "TRANSPORT") or nil) end
  if not resp then
    info = type(info) == "table" and info or {}
    return failure(self, req.op, code or "TRANSPORT", tostring(err),
      { retryable = true, attempts = info.attempts, retries_exhausted = info.retries_exhausted })
  end
  local data, d2, kind, detail = self:interpret(req.op, op, resp)
  if limiter and kind then limiter.stats.errors[kind] = (limiter.stats.errors[kind] or 0) + 1 end
  if data == nil then detail.request = req end
  return data, d2, kind, detail
end

-- Call an operation: the business data (and the whole decoded answer) or nil, err, code, detail.
function Client:call(opname, params, opts)
  if params ~= nil and type(params) ~= "table"
    and not (type(params) == "string" and self.profile.json_text_params) then
    error("bad argument #2 to 'client:call' (params table expected)", 2)
  end
  check_data_json(opts, "call")
  local op, real = find_operation(self, opname, params, "call")
  if type(params) == "table" and not (opts and opts.data_json ~= nil) then
    check_required(self, real, op, params, "call")
  end
  local data, answer, code, detail = self:exchange(real, op, params, opts)
  if data == nil and code == "AUTH" and self.profile.on_auth_failure and detail then
    -- e.g. a token-based vendor: the token was invalidated elsewhere; drop it and try once more.
    if self.profile.on_auth_failure(self, detail) then
      data, answer, code, detail = self:exchange(real, op, params, opts)
    end
  end
  if data == nil and detail then detail.request = nil end
  return data, answer, code, detail
end

---------------------------------------------------------------------------------------------
-- Paging: `for record in client:each(op, params) do ... end`. The profile's paging rule gives
-- the first page's parameters, the records of an answer and the next page's parameters.
-- On a failure the iterator yields false, err, code, detail once and then ends.

function Client:each(opname, params, opts)
  params = params or {}
  if type(params) ~= "table" then error("bad argument #2 to 'client:each' (params table expected)", 2) end
  local op, real = find_operation(self, opname, params, "each")
  local paging = op.paging and self.profile.paging and self.profile.paging[op.paging]
  if not paging then
    error("bad argument #1 to 'client:each' (" .. self.vendor .. " " .. real .. " is not a paged operation)", 2)
  end
  local state = { params = paging.first(util.copy(params), op, self), seen = 0 }
  local records, index, finished = nil, 0, false
  return function()
    while true do
      if finished then return nil end
      if records and index < #records then
        index = index + 1
        return records[index]
      end
      if records and not state.params then finished = true; return nil end
      local data, answer, code, detail = self:call(real, state.params, opts)
      if data == nil then
        finished = true
        return false, answer, code, detail
      end
      records = paging.records(data, op, answer) or {}
      index = 0
      state.seen = state.seen + #records
      state.params = paging.next(state.params, data, answer, #records, state, op)
      if #records == 0 then finished = true; return nil end
    end
  end
end

return M
