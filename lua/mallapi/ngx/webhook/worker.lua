-- mallapi.ngx.webhook.worker: the processing half of the nginx webhook receiver. A
-- background ngx.timer in every worker takes events off the queue
-- (mallapi.ngx.webhook_queue) and runs the receiver's `handle` once per attempt. The
-- worker does not retry inside an attempt (the transport owns retries of a call: back-off,
-- Retry-After, deadline): it only classifies a failure and decides to stop (the event is
-- kept under "dead:") or go on (the event is taken again later, after an exponential
-- delay). An event leaves the queue only when `handle` succeeded or was stopped.
-- Also the generic pieces a handle is built from: handler{accept, map, push} and
-- push(client, op, wrap, refused).
local ngx = ngx
local type, error, tostring, pcall, setmetatable, getmetatable, rawset, ipairs, require =
  type, error, tostring, pcall, setmetatable, getmetatable, rawset, ipairs, require
local string_format, math_min, math_ceil = string.format, math.min, math.ceil

local queues = require "mallapi.ngx.webhook_queue"
local encode = queues.encode

local M = { methods = {} }
local W = M.methods

local function now()
  ngx.update_time()
  return ngx.now()
end

-- Codes after which another attempt would fail the same way: the event stops (dead).
M.STOP = { PERMANENT = true, MAP = true }

-- classify(code, err) -> "stop" | "again": the default decision after a failed attempt.
function M.classify(code)
  if M.STOP[code] then return "stop" end
  return "again"
end

function W:delay(attempts)
  return math_min(self.max_delay, self.base_delay * 2 ^ (attempts - 1))
end

-- The event handed to handle: {vendor=, type=, data=}, data decoded from the raw body when
-- handle first reads it (a body that does not decode raises BAD_STORED: the event stops).
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
function W:process(id, rec)
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
  if self.classify(code, err) == "stop" or (self.max_attempts and rec.attempts >= self.max_attempts) then
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
function W:drain(limit)
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
function W:sweep()
  return self.queue:sweep(now(), self.claim)
end

-- Events claimed by a worker that died (SIGKILL, crash, an old worker gone after a HUP) go
-- back on the queue at once.
function W:sweep_dead()
  return self.queue:sweep_dead()
end

-- init_worker_by_lua: receiver:start() drains the queue every `poll` seconds in this
-- worker with `concurrency` light threads, puts back the claims of dead workers every
-- second and sweeps lapsed claims every `claim` seconds.
function W:start()
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
function W:stats()
  return self.queue:stats()
end

---------------------------------------------------------------------------------------------
-- Generic pieces of a handle (the example handler in examples/openresty/ builds one).

-- handler{ accept = function(event) -> bool (nil: every event; false: done, nothing to do),
--   map = { from = "vendor.kind", to = "vendor.kind", extra = {...} } (mallapi.map) or
--         function(data, event) -> record | nil, err, code,
--   push = function(record, event) -> true | nil, err, code }
-- -> handle(event): a failed map stops the event (code MAP unless the mapper gave one).
function M.handler(steps)
  if type(steps) ~= "table" then
    error("bad argument #1 to 'mallapi.ngx.webhook.handler' (table expected, got " .. type(steps) .. ")", 2)
  end
  local accept, map, push = steps.accept, steps.map, steps.push
  if accept ~= nil and type(accept) ~= "function" then
    error("bad argument #1 to 'mallapi.ngx.webhook.handler' (accept: function expected)", 2)
  end
  if type(push) ~= "function" then
    error("bad argument #1 to 'mallapi.ngx.webhook.handler' (push: function expected)", 2)
  end
  if type(map) == "table" then
    local from, to, extra = map.from, map.to, map.extra
    map = function(data) return require("mallapi").map(from, to, data, extra) end
  elseif type(map) ~= "function" then
    error("bad argument #1 to 'mallapi.ngx.webhook.handler' (map: table or function expected)", 2)
  end
  return function(event)
    if accept and not accept(event) then return true end   -- not for us: nothing to push
    local record, err, code = map(event.data, event)
    if record == nil then return nil, err, code or "MAP" end
    return push(record, event)
  end
end

-- push(client, op, wrap, refused) -> function(record): one client:call(op, wrap(record))
-- (one logical call: the client's transport retries it). A call the client refuses to send
-- (it raises: a required field the record lacks) stops the event (MAP: the same every time);
-- a failed call returns its code (the worker classifies it); an answer in which
-- refused(answer) (default: the profile's bulk_refused hook) lists refused items stops it
-- (PERMANENT).
function M.push(client, op, wrap, refused)
  if type(client) ~= "table" or type(client.call) ~= "function" then
    error("bad argument #1 to 'mallapi.ngx.webhook.push' (client expected)", 2)
  end
  if type(op) ~= "string" then error("bad argument #2 to 'mallapi.ngx.webhook.push' (string expected)", 2) end
  wrap = wrap or function(record) return record end
  local profile = client.profile or {}
  refused = refused or profile.bulk_refused
  local what = tostring(client.vendor or profile.name) .. " " .. op
  return function(record)
    local fine, answer, err, code = pcall(client.call, client, op, wrap(record))
    if not fine then return nil, what .. ": " .. tostring(answer), "MAP" end
    if answer == nil then return nil, err, code end
    local items = refused and refused(answer)
    if items and items[1] then
      return nil, what .. " refused the item: " .. tostring(items[1].msg or items[1].code), "PERMANENT"
    end
    return true
  end
end

return M
