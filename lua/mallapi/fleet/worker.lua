-- mallapi.fleet.worker: one worker process's loop. It ticks the schedule, claims one
-- run (an abandoned one first, via XAUTOCLAIM after the lease), loads the job's module,
-- runs mallapi.sync with the fleet's Redis as checkpoint store and job lock, keeps the
-- claim fresh at every checkpoint, and acks the run (which schedules the next one).
-- SIGTERM/SIGINT drain: the running batch finishes, its checkpoint is saved, the run
-- goes back to the stream for another worker, and the loop ends.
--
-- A job module (a Lua module name, or a path ending in .lua) returns
--   function(ctx) return <mallapi.sync.run options> end
-- with ctx = { id=, settings=, secret = function(name) -> value, limiter = function(vendor,
-- credential, rate) -> mallapi.ratelimit (fleet-wide, in Redis), state = the fleet's Redis
-- store (say a client's token_store), fleet= }.
local core = require "mallapi.core"
local sync = require "mallapi.sync"
local ratelimit = require "mallapi.ratelimit"
local fleet_mod = require "mallapi.fleet"

local type, error, tostring, pairs, pcall, loadfile, require, setmetatable =
  type, error, tostring, pairs, pcall, loadfile, require, setmetatable
local string_format = string.format

local M = {}

local modules = {}
local function load_module(name)
  if modules[name] then return modules[name] end
  local ok, mod
  if name:match("%.lua$") then
    local chunk, err = loadfile(name)
    if not chunk then return nil, "job module " .. name .. ": " .. tostring(err) end
    ok, mod = pcall(chunk)
  else
    ok, mod = pcall(require, name)
  end
  if not ok then return nil, "job module " .. name .. ": " .. tostring(mod) end
  if type(mod) ~= "function" then return nil, "job module " .. name .. " must return a function(ctx)" end
  modules[name] = mod
  return mod
end

-- The checkpoint store seen by sync.run: the real one, plus a heartbeat at each save.
local function heartbeat_store(state, on_save)
  return {
    kind = state.kind,
    get = function(_, ...) return state:get(...) end,
    delete = function(_, ...) return state:delete(...) end,
    lock = function(_, ...) return state:lock(...) end,
    unlock = function(_, ...) return state:unlock(...) end,
    set = function(_, ...)
      local ok, err, code = state:set(...)
      if ok then on_save() end
      return ok, err, code
    end,
  }
end

local Worker = {}
Worker.__index = Worker

-- worker.new{ fleet =, consumer = "host:pid", lease_ms = 30000, block_ms = 1000,
--             dead_letter_dir = ".", should_stop = fn, log = fn(line) }
function M.new(opts)
  if type(opts) ~= "table" or type(opts.fleet) ~= "table" then
    error("bad argument #1 to 'fleet.worker.new' ({ fleet = mallapi.fleet } expected)", 2)
  end
  local host = "host"
  local f = io.open("/proc/sys/kernel/hostname", "r")
  if f then host = f:read("*l") or host; f:close() end
  local self = setmetatable({
    fleet = opts.fleet, consumer = opts.consumer or string_format("%s:%d", host, core.lock.pid()),
    lease_ms = opts.lease_ms or 30000, block_ms = opts.block_ms or 1000,
    dead_letter_dir = opts.dead_letter_dir or ".", log = opts.log or function() end,
    should_stop = opts.should_stop or function() return core.signal.stop_signal() ~= nil end,
    runs = 0, limiters = {},
    -- sync's own summary lines: to opts.output (say io.stderr), else nowhere
    output = opts.output or { write = function() end, flush = function() end },
  }, Worker)
  self.store = opts.fleet.new_store(opts.fleet.prefix, self.block_ms + 5000)
  self.state = opts.fleet:state_store()
  return self
end

function Worker:limiter(vendor, credential, rate)
  local name = vendor .. ":" .. tostring(credential)
  local l = self.limiters[name]
  if not l then
    l = ratelimit.redis(self.fleet.new_store(self.fleet.prefix), name, rate)
    l.vendor = vendor
    self.limiters[name] = l
  end
  return l
end

-- Push the limiters' counters to the fleet (per vendor) and zero them.
function Worker:flush_counters()
  for _, l in pairs(self.limiters) do
    local s = l.stats
    local c = { requests = s.requests, rate_waits = s.waits, rate_wait_ms = s.wait_ms, throttled = s.throttled,
      rate_refused = s.refused }
    for code, n in pairs(s.errors) do c["errors_" .. code] = n end
    self.fleet:count_vendor(l.vendor, c, self.store)
    l.stats = { requests = 0, waits = 0, wait_ms = 0, throttled = 0, refused = 0, errors = {} }
  end
end

-- Run one claimed entry. Returns the outcome: "ok", "dead_letters", "failed", "busy",
-- "stopped", "gone".
function Worker:run_entry(e)
  local fleet, t0 = self.fleet, core.clock.now_ms()
  local job = fleet:get(e.job)
  if not job then fleet:finish(e, { status = "gone" }, self.store); return "gone" end
  local result = { worker = self.consumer, lag_ms = e.due and e.due > 0 and t0 - e.due or 0 }
  local mod, merr = load_module(job.module)
  local opts
  if mod then
    local ctx = {
      id = job.id, settings = job.settings, fleet = fleet, state = self.state,
      secret = function(name)
        local ref = job.secrets[name]
        if not ref then error("job " .. job.id .. ": no secret named '" .. tostring(name) .. "'", 2) end
        local v, err = fleet_mod.resolve_secret(ref)
        if not v then error("job " .. job.id .. ": " .. err, 2) end
        return v
      end,
      limiter = function(vendor, credential, rate) return self:limiter(vendor, credential, rate) end,
    }
    local ok, o = pcall(mod, ctx)
    if ok and type(o) == "table" then opts = o else merr = ok and "job module returned no options" or tostring(o) end
  end
  local summary, err, code
  if opts then
    opts.name = opts.name or ("fleet." .. job.id)
    opts.state = heartbeat_store(self.state, function() fleet:heartbeat(self.consumer, e.entry, self.store) end)
    opts.lease = self.lease_ms
    opts.should_stop = self.should_stop
    if opts.output == nil then opts.output = self.output end
    opts.dead_letter = opts.dead_letter or (self.dead_letter_dir .. "/" .. opts.name .. ".dead.jsonl")
    local ok, s, serr, scode, failed = pcall(sync.run, opts)
    if not ok then summary, err, code = nil, tostring(s), "ERROR"
    else summary, err, code = s or failed, serr, scode end
  else
    err, code = merr, "CONFIG"
  end
  self:flush_counters()
  if code == "STORE" then
    -- Redis away (a restart): leave the run pending; it is claimed again after the lease
    self.log(string_format("job %s: Redis trouble (%s); run retried after the lease", job.id, tostring(err)))
    return "retry"
  end
  if code == "BUSY" then
    -- another worker still runs it (a takeover while the first was alive): it will ack
    self.log(string_format("job %s busy elsewhere; left to its runner", job.id))
    return "busy"
  end
  local status = summary and summary.status or "failed"
  if status == "stopped" then
    fleet:requeue(e, self.store)
    self.log(string_format("job %s stopped after a batch; handed back", job.id))
    return "stopped"
  end
  result.status, result.error = status, err and tostring(err) or ""
  if summary then
    result.read, result.sent, result.dead, result.retries = summary.read, summary.sent, summary.dead, summary.retries
  end
  result.duration_ms = core.clock.now_ms() - t0
  local ok, ferr = fleet:finish(e, result, self.store)
  if ok == nil then self.log("job " .. job.id .. ": cannot ack: " .. tostring(ferr)) end
  self.runs = self.runs + 1
  self.log(string_format("job %s %s read=%d sent=%d dead=%d %dms", job.id, status, result.read or 0,
    result.sent or 0, result.dead or 0, result.duration_ms))
  return status
end

-- One turn: tick, claim, run. Returns the outcome, or false when nothing was due.
function Worker:turn()
  local n, terr = self.fleet:tick()
  if n == nil then
    self.log("tick: " .. tostring(terr))
    core.clock.sleep_ms(self.block_ms)
    return nil, terr
  end
  local e, err = self.fleet:claim(self.consumer, self.lease_ms, self.block_ms, self.store)
  if e == nil then
    self.log("claim: " .. tostring(err))
    core.clock.sleep_ms(self.block_ms)       -- Redis away (restart): wait and try again
    return nil, err
  end
  if not e then return false end
  return self:run_entry(e)
end

-- Loop until stopped (or max_runs runs, or idle_exit_ms without work).
function Worker:loop(opts)
  opts = opts or {}
  local idle_since = core.clock.monotonic_ms()
  while not self.should_stop() do
    local outcome = self:turn()
    if outcome then idle_since = core.clock.monotonic_ms() end
    if opts.max_runs and self.runs >= opts.max_runs then break end
    if opts.idle_exit_ms and core.clock.monotonic_ms() - idle_since > opts.idle_exit_ms then break end
    if opts.on_turn then opts.on_turn(self) end
  end
  return self.runs
end

return M
