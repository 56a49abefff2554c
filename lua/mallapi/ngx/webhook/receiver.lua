-- mallapi.ngx.webhook.receiver: the receiving half of the nginx webhook receiver. In the
-- content phase it reads the raw body (from memory or nginx's temp file), verifies the
-- delivery with mallapi.webhook (the vendor's rule is its profile's `webhook` table: no
-- vendor is named here), drops a repeated delivery (its id, from signed content, is kept in
-- a seen set mapped from a file, mallapi.seen, in a lua_shared_dict or in Redis), queues
-- the event (in a lua_shared_dict or Redis: mallapi.ngx.webhook_queue) and answers at once
-- (200/400/401/413/503). Processing is mallapi.ngx.webhook.worker's (its methods are the
-- receiver's too).
local ngx = ngx
local type, error, tostring, tonumber, pcall, setmetatable, pairs =
  type, error, tostring, tonumber, pcall, setmetatable, pairs
local string_format = string.format

local webhook = require "mallapi.webhook"
local queues = require "mallapi.ngx.webhook_queue"
local worker = require "mallapi.ngx.webhook.worker"
local units = require "mallapi.units"
local errors = require "mallapi.errors"
local new_item = queues.new_item

local M = { receivers = {} }

local Receiver = {}
Receiver.__index = Receiver
Receiver.__tostring = function(self)
  if self.queue.kind == "redis" then
    return string_format("mallapi.ngx.webhook(%s, redis=%s)", self.vendor, self.queue.prefix)
  end
  return string_format("mallapi.ngx.webhook(%s, dict=%s)", self.vendor, self.dict_name)
end
for name, fn in pairs(worker.methods) do Receiver[name] = fn end
M.Receiver = Receiver

local function default_log(level, msg)
  ngx.log(level == "error" and ngx.ERR or (level == "warn" and ngx.WARN or ngx.INFO), msg)
end

-- Options of M.new, reported at M.new's caller.
local function check_type(opts, name, want, default)
  local v = errors.option("mallapi.ngx.webhook.new", opts, name, want, default, 3)
  return v   -- not a tail call: the level counts this frame
end

-- mallapi.ngx.webhook.new{ vendor =, secret =, dict =, handle = function(event) ... end,
--   max_body = 1 MiB, dedup_ttl = 7 days (s), base_delay = 1, max_delay = 300 (s),
--   max_attempts = nil (for ever), poll = 0.2 (s), claim = 60 (s), batch = 1000 (per thread and
--   tick), concurrency = 4 (light threads per worker),
--   seen_dict = dict (a lua_shared_dict for the "seen:" ids), or seen_file = path (the ids in a
--   mapped file shared by the workers, see open_seen; seen_capacity = 2^20 ids for a new file),
--   redis = { host, port, password, db, prefix = "mallapi:webhook:<name>:", timeout (ms),
--   pool_size, keepalive } (the queue, and the seen ids unless seen_file/seen_dict, in Redis
--   instead of `dict`: see mallapi.ngx.webhook_queue), event_id = the profile's
--   (webhook.event_id, from signed content), classify = mallapi.ngx.webhook.worker.classify,
--   log = ngx.log, verify = mallapi.webhook.verify options,
--   name = vendor (for mallapi.ngx.webhook.serve(name)) }
-- vendor: a profile mallapi.vendors.<vendor> with a `webhook` rule (doc/webhook-profile.md),
-- a user's own on package.path as well as a shipped one.
-- handle(event) -> true | nil, msg, code; classify(code, msg) -> "stop" moves the event to
-- the dead ones instead of taking it again later (default: codes PERMANENT and MAP).
function M.new(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = units.apply(opts, "mallapi.ngx.webhook.new", 2)
  local vendor = opts.vendor
  if type(vendor) ~= "string" or vendor == "" then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'vendor': vendor name expected, got "
      .. type(vendor) .. ")", 2)
  end
  local _, why = webhook.rule_of(vendor)
  if why then error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'vendor': " .. why .. ")", 2) end
  if type(opts.secret) ~= "string" or opts.secret == "" then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'secret': non-empty string expected)", 2)
  end
  local redis = check_type(opts, "redis", "table", nil)
  local dict_name = opts.dict
  if (dict_name ~= nil or not redis)
     and (type(dict_name) ~= "string" or not (ngx.shared and ngx.shared[dict_name])) then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'dict': name of a lua_shared_dict expected, got "
          .. tostring(dict_name) .. ")", 2)
  end
  local seen_name = opts.seen_dict
  if seen_name ~= nil and (type(seen_name) ~= "string" or not ngx.shared[seen_name]) then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'seen_dict': name of a lua_shared_dict expected, got "
          .. tostring(seen_name) .. ")", 2)
  end
  local seen_file = check_type(opts, "seen_file", "string", nil)
  local seen_set
  if seen_file then
    local err
    seen_set, err = M.open_seen(seen_file, check_type(opts, "seen_capacity", "number", nil))
    if not seen_set then error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'seen_file': "
      .. tostring(err) .. ")", 2) end
  end
  if type(opts.handle) ~= "function" then
    error("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'handle': function expected, got "
      .. type(opts.handle) .. ")", 2)
  end
  local secret = opts.secret                         -- kept in a closure, never a field
  local name = check_type(opts, "name", "string", vendor)
  local verify_opts = check_type(opts, "verify", "table", {})
  local queue
  if redis then
    local store = require("mallapi.ngx").redis_store(redis)
    queue = queues.redis(store, redis.prefix or ("mallapi:webhook:" .. name .. ":"))
  else
    queue = queues.dict(ngx.shared[dict_name])
  end
  -- the seen event ids: a mapped file (seen_file), a lua_shared_dict (seen_dict, else dict),
  -- or Redis with the queue (redis without either)
  local seen
  if seen_set then seen = seen_set
  elseif seen_name or not redis then seen = ngx.shared[seen_name or dict_name] end
  local receiver = setmetatable({ name = name,
    vendor = vendor, dict_name = dict_name, handle = opts.handle, queue = queue,
    seen = seen, seen_is_set = seen_set ~= nil,
    max_body = check_type(opts, "max_body", "number", 1024 * 1024),
    dedup_ttl = check_type(opts, "dedup_ttl", "number", 7 * 86400),
    base_delay = check_type(opts, "base_delay", "number", 1),
    max_delay = check_type(opts, "max_delay", "number", 300),
    max_attempts = check_type(opts, "max_attempts", "number", nil),
    poll = check_type(opts, "poll", "number", 0.2),
    claim = check_type(opts, "claim", "number", 60),
    batch = check_type(opts, "batch", "number", 1000),
    concurrency = check_type(opts, "concurrency", "number", 4),
    event_id = check_type(opts, "event_id", "function", nil),
    classify = check_type(opts, "classify", "function", worker.classify),
    log = check_type(opts, "log", "function", default_log),
    verify_opts = verify_opts,
    secret = function() return secret end,
  }, Receiver)
  -- the verify-only path: a profile with a one-pass check (webhook.fast_id) and its own
  -- event id verifies the raw body without a decoded table; the timer decodes it later
  if receiver.event_id == nil then receiver.fast_check = webhook.checker(vendor, secret, verify_opts) end
  -- the header the rule reads the event type from, as an nginx variable (no header table)
  local type_header = webhook.type_header(vendor)
  receiver.type_header = type_header
  receiver.type_var = type_header and "http_" .. type_header:lower():gsub("-", "_")
  M.receivers[name] = receiver
  return receiver
end

-- mallapi.ngx.webhook.open_seen(path[, capacity]) -> set | nil, err: the seen-ids file
-- (mallapi.seen, src/seen.c), opened once per path and Lua VM. Called in init_by_lua (the
-- master), the workers inherit the mapping whatever user they run as; new{seen_file = path}
-- then finds it open (else each worker opens the file itself).
local open_sets = {}
function M.open_seen(path, capacity)
  if type(path) ~= "string" or path == "" then
    error("bad argument #1 to 'mallapi.ngx.webhook.open_seen' (path expected, got " .. type(path) .. ")", 2)
  end
  if open_sets[path] then return open_sets[path] end
  local set, err = require("mallapi").seen.open(path, capacity)
  if not set then return nil, err end
  open_sets[path] = set
  return set
end

-- content_by_lua: mallapi.ngx.webhook.serve(name) serves with the receiver that
-- init_worker made under that name (default: the vendor's name).
function M.serve(name)
  local receiver = M.receivers[name]
  if not receiver then error("bad argument #1 to 'mallapi.ngx.webhook.serve' (no receiver named '"
    .. tostring(name) .. "')", 2) end
  return receiver:serve()
end

---------------------------------------------------------------------------------------------
-- receiving (content phase)

-- The answer is the whole response: serve() returns after it (no ngx.exit, whose coroutine
-- yield cost about 2 us per request), so nothing may print after serve().
local ngx_header, ngx_print, ngx_var, ngx_req = ngx and ngx.header, ngx and ngx.print, ngx and ngx.var,
  ngx and ngx.req
local ANSWER_OK = '{"code":"OK","msg":"queued"}'
local function answer(status, code, msg)
  if status ~= 200 then ngx.status = status end      -- luacheck: ignore 122  (200: nginx's default)
  ngx_header["Content-Type"] = "application/json"
  ngx_print(code == "OK" and ANSWER_OK or ('{"code":"' .. code .. '","msg":"' .. msg .. '"}'))
  return status
end

-- The raw request body, from memory or from nginx's temp file: body | nil, status, reason.
function Receiver:read_body()
  local length = tonumber(ngx_var.http_content_length)
  if length and length > self.max_body then return nil, 413, "body larger than " .. self.max_body .. " bytes" end
  ngx_req.read_body()
  local body = ngx_req.get_body_data()
  if not body then
    local path = ngx.req.get_body_file()
    if path then
      local f, err = io.open(path, "rb")
      if not f then return nil, 500, "cannot read the buffered body: " .. tostring(err) end
      body = f:read(self.max_body + 1)
      f:close()
    end
  end
  body = body or ""
  if #body > self.max_body then return nil, 413, "body larger than " .. self.max_body .. " bytes" end
  return body
end

local function refused(err, code)
  if code == "SIGNATURE" then return 401, code, err end
  return 400, code or "BAD_BODY", err
end

-- Checks and queues one delivery; returns status, code, message (no secrets in them).
function Receiver:accept(body, headers)
  local fast = self.fast_check
  if fast then
    local event_type = self.type_header and webhook.header(headers, self.type_header)
    local id, err, code = fast(body, event_type)
    if not id then return refused(err, code) end
    return self:enqueue(id, event_type, body)
  end
  local vopts = { secret = self.secret() }
  for k, v in pairs(self.verify_opts) do vopts[k] = v end
  local event, err, code = webhook.verify(self.vendor, headers, body, vopts)
  if not event then return refused(err, code) end
  local id = event.id
  if self.event_id then
    local ok, got = pcall(self.event_id, event)
    id = ok and got or nil
  end
  if type(id) ~= "string" or id == "" then return 400, "BAD_BODY", "no event id" end
  return self:enqueue(id, event.type, body)
end

-- Queues the raw body, then marks the event seen (seen only once safely queued: a worker
-- killed in between leaves an event queued but not seen, which a redelivery may queue
-- again; never one seen but not queued): status, code, message.
function Receiver:enqueue(id, event_type, body)
  local seen, queue = self.seen, self.queue
  if not seen then                                   -- Redis keeps both: one step
    local verdict, err = queue:accept(id, new_item(id, event_type, body), self.dedup_ttl)
    if verdict == "OK" then return 200, "OK", "queued" end
    if verdict == "DUPLICATE" then return 200, "DUPLICATE", "already received" end
    return 503, "QUEUE", "queue unavailable: " .. tostring(err)
  end
  local set = self.seen_is_set
  local key = set and id or "seen:" .. id
  if (set and seen:has(id)) or (not set and seen:get(key)) then return 200, "DUPLICATE", "already received" end
  local queued, qerr = queue:push(new_item(id, event_type, body))   -- built only once it is not a duplicate
  if not queued then return 503, "QUEUE", tostring(qerr) end
  local added, aerr
  if set then
    added, aerr = seen:add(id, self.dedup_ttl)
    if added == false then aerr = "exists" end
  else
    added, aerr = seen:safe_add(key, true, self.dedup_ttl)   -- a full dict refuses instead of evicting
  end
  if not added then
    -- queued all the same: a concurrent delivery of the same event ("exists") is handled
    -- twice, a full seen set lets a redelivery in again; neither loses the event
    self.log(aerr == "exists" and "warn" or "error", "webhook event " .. id .. " queued but not marked seen: "
             .. tostring(aerr))
  end
  return 200, "OK", "queued"
end

-- content_by_lua: receiver:serve()
function Receiver:serve()
  if ngx_req.get_method() ~= "POST" then return answer(405, "METHOD", "POST expected") end
  local body, status, reason = self:read_body()
  if not body then return answer(status, status == 413 and "TOO_LARGE" or "IO", reason) end
  local code, ecode, msg
  local fast = self.fast_check
  if fast then                                       -- no header table on the hot path
    local event_type = self.type_var and ngx_var[self.type_var]
    local id, err, ecode2 = fast(body, event_type)
    if id then code, ecode, msg = self:enqueue(id, event_type, body)
    else code, ecode, msg = refused(err, ecode2) end
  else
    code, ecode, msg = self:accept(body, ngx_req.get_headers())
  end
  if code ~= 200 then self.log("warn", "webhook refused (" .. code .. "): " .. tostring(msg)) end
  return answer(code, ecode, code == 200 and msg or (ecode == "QUEUE" and "try again later" or "refused"))
end

return M
