-- mallapi.ngx.webhook: a webhook receiver for nginx. In the content phase it reads the
-- raw body (from memory or nginx's temp file), verifies the vendor's signature with
-- mallapi.webhook.verify, drops a repeated delivery (its id is kept in a seen set mapped
-- from a file, mallapi.seen, in a lua_shared_dict or in Redis), queues the event (in a
-- lua_shared_dict or Redis: mallapi.ngx.webhook_queue) and answers at once
-- (200/400/401/413/503). A background ngx.timer in
-- every worker takes events off the queue and runs `handle` (map and push to another
-- vendor), retrying with exponential back-off; an event leaves the queue only when
-- `handle` succeeded or failed permanently (then it is kept under "dead:").
local ngx = ngx
local type, error, tostring, tonumber, pcall, setmetatable, getmetatable, rawset, ipairs =
  type, error, tostring, tonumber, pcall, setmetatable, getmetatable, rawset, ipairs
local string_format, math_min, math_ceil = string.format, math.min, math.ceil

local M = { receivers = {} }

local Receiver = {}
Receiver.__index = Receiver
Receiver.__tostring = function(self)
  if self.queue.kind == "redis" then
    return string_format("mallapi.ngx.webhook(%s, redis=%s)", self.vendor, self.queue.prefix)
  end
  return string_format("mallapi.ngx.webhook(%s, dict=%s)", self.vendor, self.dict_name)
end

local queues = require "mallapi.ngx.webhook_queue"
local encode, new_item = queues.encode, queues.new_item

local function now()
  ngx.update_time()
  return ngx.now()
end

local function default_log(level, msg)
  ngx.log(level == "error" and ngx.ERR or (level == "warn" and ngx.WARN or ngx.INFO), msg)
end

-- A member the signature covers: "" and null are skipped by the Shoplus rule, so anyone could
-- add them; they count as absent.
local function signed_text(v)
  if v == nil or v == "" or type(v) == "table" or type(v) == "userdata" then return nil end
  return tostring(v)
end

-- The id that makes a delivery "the same event", from signed content only (the WebHook-Event
-- header is not signed: a replay with another header is the same event): the object's id and
-- its update time when the body has them, else the signature (a hash of the whole body).
function M.default_event_id(event)
  local data = event.data
  local id = signed_text(data.id)
  if id then
    return id .. ":" .. (signed_text(data.updateTime) or signed_text(data.updatedAt)
                         or signed_text(data.update_time) or "")
  end
  return tostring(data.sign)
end

local function check_type(opts, name, want, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= want then
    error("mallapi.ngx.webhook.new: bad option '" .. name .. "' (" .. want .. " expected, got " .. type(v) .. ")", 3)
  end
  return v
end

-- mallapi.ngx.webhook.new{ vendor = "shoplus", secret =, dict =, handle = function(event) ... end,
--   max_body = 1 MiB, dedup_ttl = 7 days (s), base_delay = 1, max_delay = 300 (s),
--   max_attempts = nil (for ever), poll = 0.2 (s), claim = 60 (s), batch = 1000 (per thread and
--   tick), concurrency = 4 (light threads per worker),
--   seen_dict = dict (a lua_shared_dict for the "seen:" ids), or seen_file = path (the ids in a
--   mapped file shared by the workers, see open_seen; seen_capacity = 2^20 ids for a new file),
--   redis = { host, port, password, db, prefix = "mallapi:webhook:<name>:", timeout (ms),
--   pool_size, keepalive } (the queue, and the seen ids unless seen_file/seen_dict, in Redis
--   instead of `dict`: see mallapi.ngx.webhook_queue), event_id = M.default_event_id,
--   log = ngx.log, verify = mallapi.webhook.verify options,
--   name = vendor (for mallapi.ngx.webhook.serve(name)) }
-- handle(event) -> true | nil, msg, code; code "PERMANENT" or "MAP" moves the event to
-- the dead ones instead of retrying.
function M.new(opts)
  if type(opts) ~= "table" then
    error("mallapi.ngx.webhook.new: bad argument #1 (table expected, got " .. type(opts) .. ")", 2)
  end
  local vendor = check_type(opts, "vendor", "string", "shoplus")
  if type(opts.secret) ~= "string" or opts.secret == "" then
    error("mallapi.ngx.webhook.new: bad option 'secret' (non-empty string expected)", 2)
  end
  local redis = check_type(opts, "redis", "table", nil)
  local dict_name = opts.dict
  if (dict_name ~= nil or not redis)
     and (type(dict_name) ~= "string" or not (ngx.shared and ngx.shared[dict_name])) then
    error("mallapi.ngx.webhook.new: bad option 'dict' (name of a lua_shared_dict expected, got "
          .. tostring(dict_name) .. ")", 2)
  end
  local seen_name = opts.seen_dict
  if seen_name ~= nil and (type(seen_name) ~= "string" or not ngx.shared[seen_name]) then
    error("mallapi.ngx.webhook.new: bad option 'seen_dict' (name of a lua_shared_dict expected, got "
          .. tostring(seen_name) .. ")", 2)
  end
  local seen_file = check_type(opts, "seen_file", "string", nil)
  local seen_set
  if seen_file then
    local err
    seen_set, err = M.open_seen(seen_file, check_type(opts, "seen_capacity", "number", nil))
    if not seen_set then error("mallapi.ngx.webhook.new: bad option 'seen_file' (" .. tostring(err) .. ")", 2) end
  end
  if type(opts.handle) ~= "function" then
    error("mallapi.ngx.webhook.new: bad option 'handle' (function expected, got " .. type(opts.handle) .. ")", 2)
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
    event_id = check_type(opts, "event_id", "function", M.default_event_id),
    log = check_type(opts, "log", "function", default_log),
    verify_opts = verify_opts,
    secret = function() return secret end,
  }, Receiver)
  -- the verify-only path: Shoplus with its default rule and event id is checked in one C pass
  -- over the raw body (no decoded table); the timer decodes the queued body later
  if vendor == "shoplus" and verify_opts.rule == nil and receiver.event_id == M.default_event_id then
    local check, nested_skip = require("mallapi.webhook").shoplus_check, verify_opts.nested == "skip"
    receiver.fast_check = function(body, event_type)
      return check(body, event_type, secret, nested_skip, "id", "updateTime", "updatedAt", "update_time", "sign")
    end
  end
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
    error("mallapi.ngx.webhook.open_seen: bad argument #1 (path expected, got " .. type(path) .. ")", 2)
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
  if not receiver then error("mallapi.ngx.webhook.serve: no receiver named '" .. tostring(name) .. "'", 2) end
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

-- The default event id from the member texts of the verify-only path (same rule as
-- default_event_id; numbers enter as written in the body).
-- On failure id, update_time are the error message and code.
local function fast_accept(self, body, event_type, ok, id, update_time, updated_at, update_time2, sign)
  if not ok then return refused(id, update_time) end
  if id and id ~= "" then
    if update_time == "" or update_time == false then update_time = nil end
    if updated_at == "" or updated_at == false then updated_at = nil end
    if update_time2 == "" or update_time2 == false then update_time2 = nil end
    id = id .. ":" .. (update_time or updated_at or update_time2 or "")
  else
    id = tostring(sign)
  end
  return self:enqueue(id, event_type, body)
end

-- Checks and queues one delivery; returns status, code, message (no secrets in them).
function Receiver:accept(body, headers)
  local fast = self.fast_check
  if fast then
    local event_type = headers and headers["WebHook-Event"]
    return fast_accept(self, body, event_type, fast(body, event_type))
  end
  local verify = require("mallapi.webhook").verify
  local vopts = { body = body, headers = headers, secret = self.secret() }
  for k, v in pairs(self.verify_opts) do vopts[k] = v end
  local event, err, code = verify(self.vendor, vopts)
  if not event then return refused(err, code) end
  local ok, id = pcall(self.event_id, event)
  if not ok or type(id) ~= "string" or id == "" then return 400, "BAD_BODY", "no event id" end
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
    local event_type = ngx_var.http_webhook_event
    code, ecode, msg = fast_accept(self, body, event_type, fast(body, event_type))
  else
    code, ecode, msg = self:accept(body, { ["WebHook-Event"] = ngx.var.http_webhook_event })
  end
  if code ~= 200 then self.log("warn", "webhook refused (" .. code .. "): " .. tostring(msg)) end
  return answer(code, ecode, code == 200 and msg or (ecode == "QUEUE" and "try again later" or "refused"))
end

---------------------------------------------------------------------------------------------
-- processing (timers)

function Receiver:delay(attempts)
  return math_min(self.max_delay, self.base_delay * 2 ^ (attempts - 1))
end

-- The event handed to handle: {vendor=, type=, data=}, data decoded from the raw body when
-- handle first reads it (a body that does not decode raises BAD_STORED: the event goes dead).
local BAD_STORED = setmetatable({}, { __tostring = function() return "stored event does not decode" end })
local json_decode
local function lazy_data(event, key)
  if key ~= "data" then return nil end
  json_decode = json_decode or require("mallapi").json.decode
  local rec = getmetatable(event).rec
  local fine, data = pcall(json_decode, rec.body or rec.item:sub(rec.body_at))
  if not fine or type(data) ~= "table" then error(BAD_STORED, 0) end
  rawset(event, "data", data)
  return data
end

local function lazy_event(vendor, rec)
  return setmetatable({ vendor = vendor, type = rec.type }, { __index = lazy_data, rec = rec })
end

-- Runs handle on one claimed event; then the queue drops it (done), keeps it as dead, or
-- takes it back with its next attempt time. Returns true when handled.
function Receiver:process(id, rec)
  -- the body was checked on arrival (one JSON object); event.data decodes it on first use,
  -- so a handle that drops an event by its type never pays for the decode
  local ok, res, err, code = pcall(self.handle, lazy_event(self.vendor, rec), id)
  if not ok then
    if res == BAD_STORED then res, err, code = nil, "stored event does not decode", "PERMANENT"
    else res, err, code = nil, "handle raised: " .. tostring(res), "ERROR" end
  end
  local queue = self.queue
  if res then
    local done, derr = queue:done(rec)
    if not done then
      self.log("error", "webhook event " .. id .. " handled, but its claim stays: " .. tostring(derr))
    end
    return true
  end
  rec.attempts = rec.attempts + 1
  if code == "PERMANENT" or code == "MAP" or (self.max_attempts and rec.attempts >= self.max_attempts) then
    local moved, merr = queue:dead(rec, encode(rec))
    if not moved then                                -- the claim stays: the sweep tries it again later
      self.log("error", "webhook event " .. id .. " could not be moved to dead: " .. tostring(merr))
      return
    end
    self.log("error", string_format("webhook event %s given up after %d attempts: %s", id, rec.attempts,
                                    tostring(err)))
    return
  end
  local delay = self:delay(rec.attempts)
  rec.next_at = now() + delay
  self.log("warn", string_format("webhook event %s attempt %d failed (%s), next in %.1f s", id, rec.attempts,
                                 tostring(err), delay))
  local again, rerr = queue:retry(rec, encode(rec), rec.next_at)
  if not again then
    self.log("error", "webhook event " .. id .. " stays claimed until the sweep: " .. tostring(rerr))
  end
end

-- Takes due events off the queue and handles them until none is due or `limit` events
-- were handled. Several light threads, workers (and machines, with Redis) may drain at
-- once: each item is taken by one.
function Receiver:drain(limit)
  local queue = self.queue
  local handled = 0
  local t = now()                                    -- then nginx's cached time: no syscall per event
  local began, berr = queue:begin_drain(t)
  if not began then
    self.log("error", "webhook queue: " .. tostring(berr))
    return 0
  end
  local exiting = ngx.worker and ngx.worker.exiting
  while handled < (limit or self.batch) do
    if exiting and exiting() then break end          -- quit or HUP: what is left stays queued
    local rec, err = queue:take(t, math_ceil(t + self.claim))
    if not rec then
      if err then self.log("error", "webhook queue: " .. tostring(err)) end
      break
    end
    if rec.bad then
      self.log("error", "webhook queue: an item that does not decode was dropped")
      queue:done(rec)
    else
      handled = handled + 1
      self:process(rec.id, rec)                      -- done() counts each event as it ends
      t = ngx.now()
    end
  end
  return handled
end

-- Events whose claim ran out go back on the queue.
function Receiver:sweep()
  return self.queue:sweep(now(), self.claim)
end

-- Events claimed by a worker that died (SIGKILL, crash, an old worker gone after a HUP) go
-- back on the queue at once.
function Receiver:sweep_dead()
  return self.queue:sweep_dead()
end

-- init_worker_by_lua: receiver:start() drains the queue every `poll` seconds in this
-- worker with `concurrency` light threads, puts back the claims of dead workers every
-- second and sweeps lapsed claims every `claim` seconds.
function Receiver:start()
  local last_sweep, last_dead_sweep = 0, 0
  local running, registered = false, false
  local function drain_all()
    if not registered then                           -- before this worker's first claim
      local ok, err = self.queue:register()
      if ok then registered = true
      else self.log("error", "webhook queue: cannot register the worker (its claims lapse only): "
                    .. tostring(err)) end
    end
    if now() - last_dead_sweep >= 1 then
      last_dead_sweep = now()
      local _, err = self:sweep_dead()
      if err then self.log("error", "webhook queue: " .. tostring(err)) end
    end
    local threads = {}
    for i = 1, self.concurrency do
      threads[i] = ngx.thread.spawn(function() return self:drain(self.batch) end)
    end
    for _, th in ipairs(threads) do ngx.thread.wait(th) end
    if now() - last_sweep > self.claim then
      last_sweep = now()
      self:sweep()
    end
  end
  local ok, err = ngx.timer.every(self.poll, function(premature)
    if premature or running then return end
    running = true
    local fine, why = pcall(drain_all)
    running = false
    if not fine then self.log("error", "webhook queue: " .. tostring(why)) end
  end)
  if not ok then return nil, "webhook.start: " .. tostring(err), "TIMER" end
  return true
end

-- Queue counters: { queued, done, retries, dead } | nil, err (Redis unreachable).
function Receiver:stats()
  return self.queue:stats()
end

---------------------------------------------------------------------------------------------
-- The usual handle: map a Shoplus order event to a Sobot order and push it with
-- orders/add. `client` is mallapi.client("sobot", cfg) (inside nginx its transport is the
-- cosocket one); `extra` fields go into the canonical record (e.g. store_id).
function M.shoplus_order_to_sobot(client, extra)
  local mallapi = require "mallapi"
  return function(event)
    if not tostring(event.type):find("^order_") then return true end   -- not an order: nothing to push
    local order, err, code = mallapi.map("shoplus.order", "sobot.order", event.data, extra)
    if not order then return nil, err, code or "MAP" end
    -- the client raises on a request the profile refuses (a required field the mapped order
    -- lacks, e.g. no shippingAddress for `receiver`): the same every time, so the event is
    -- kept as dead instead of retried for ever
    local fine, failed, perr, pcode = pcall(client.call, client, "orders/add", { order_list = { order } })
    if not fine then return nil, "sobot orders/add: " .. tostring(failed), "MAP" end
    if failed == nil then return nil, perr, pcode end
    if type(failed) == "table" and failed[1] ~= nil then   -- Sobot refused the order itself
      return nil, "sobot orders/add refused the order: " .. tostring(failed[1].retMsg), "PERMANENT"
    end
    return true
  end
end

M.encode_record, M.decode_record = encode, queues.decode
return M
