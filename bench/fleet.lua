-- bench/fleet.lua: what one Redis serves for mallapi.fleet. A private redis-server on
-- 127.0.0.1 (no persistence). (1) Redis commands per job run and per record, counted by
-- INFO commandstats around worker turns of do-nothing jobs (bench/support/fleet_noop_job.lua);
-- (2) the most runs per second one Redis serves: P worker processes doing nothing but
-- tick, claim and finish (the fleet primitives, and then whole worker turns through
-- sync.run) on 1000 jobs due again at once, and the redis-server's own CPU share, from
-- which runs per second per Redis core follow. Figures in bench/RESULTS.md#fleet.
local core_clock = require("mallapi.core").clock
package.path = "spec/?.lua;" .. package.path
local redis = require "support.redis_server"
local fleet = require "mallapi.fleet"
local worker = require "mallapi.fleet.worker"

local srv = redis.start()
local URL = "redis://127.0.0.1:" .. srv.port
local function open(prefix) return fleet.new{ redis = URL, password = srv.password, prefix = prefix } end

local function commandstats(fl)
  local text = fl.store:command("INFO", "commandstats")
  local total, by = 0, {}
  for name, calls in text:gmatch("cmdstat_([%w|_]+):calls=(%d+)") do
    if name ~= "info" and name ~= "config|resetstat" and name ~= "config" then
      by[name] = tonumber(calls); total = total + tonumber(calls)
    end
  end
  return total, by
end

local function run_jobs(prefix, n, settings)
  local fl = open(prefix)
  for i = 1, n do
    assert(fl:add("j" .. i, { module = "bench/support/fleet_noop_job.lua", settings = settings, interval_s = 3600 }))
  end
  fl.store:command("CONFIG", "RESETSTAT")
  local w = worker.new{ fleet = fl, block_ms = 10, should_stop = function() return false end }
  local runs = 0
  while runs < n do
    local outcome = w:turn()
    if outcome then runs = runs + 1 end
  end
  return commandstats(fl)
end

local N = 200
local c0, by0 = run_jobs("b0:", N, { count = 0 })
local c1 = run_jobs("b1:", N, { count = 1000, batch = 100 })
local per_run = c0 / N
local per_record = (c1 - c0) / (N * 1000)
local parts = {}
for name, calls in pairs(by0) do parts[#parts + 1] = string.format("%s %.1f", name, calls / N) end
table.sort(parts)
print(string.format("commands per job run (no records): %.1f  [%s]", per_run, table.concat(parts, ", ")))
print(string.format("commands per record (batch 100): %.3f (a checkpoint SET and a heartbeat XCLAIM per batch)",
  per_record))

-- (2) throughput: P processes, T seconds
local function redis_cpu_ticks()
  local f = io.open("/proc/" .. srv.pid .. "/stat")
  local s = f:read("*a"); f:close()
  local fields = {}
  for x in s:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  return tonumber(fields[12]) + tonumber(fields[13])
end

local function throughput(mode, procs_n, seconds)
  local prefix = "t" .. mode .. ":"
  local fl = open(prefix)
  for i = 1, 1000 do
    fl:add("j" .. i, { module = "bench/support/fleet_noop_job.lua", settings = { count = 0 }, interval_s = 0.001 })
  end
  local code = ([[
    local fleet = require("mallapi.fleet")
    local lock = require("mallapi.core").lock
    local fl = fleet.new{ redis = %q, password = %q, prefix = %q }
    local stop, n = core_clock.now_ms() + %d, 0
    if %q == "primitives" then
      local me = "c" .. lock.pid()
      while core_clock.now_ms() < stop do
        fl:tick(10)
        local e = fl:claim(me, 60000, 5)
        if e then fl:finish(e, { status = "ok" }); n = n + 1 end
      end
    else
      local w = require("mallapi.fleet.worker").new{ fleet = fl, block_ms = 5,
        should_stop = function() return false end }
      while core_clock.now_ms() < stop do if w:turn() then n = n + 1 end end
    end
    io.write(n, "\n")
  ]]):format(URL, srv.password, prefix, seconds * 1000, mode)
  local cmd = "taskset -c 1 lua5.4 -e '" .. code:gsub("'", "'\\''") .. "'"
  local t0, ticks0 = core_clock.monotonic_ms(), redis_cpu_ticks()
  local handles = {}
  for i = 1, procs_n do handles[i] = io.popen(cmd) end
  local total = 0
  for _, h in ipairs(handles) do total = total + (tonumber(h:read("*l")) or 0); h:close() end
  local elapsed = (core_clock.monotonic_ms() - t0) / 1000
  local cpu = (redis_cpu_ticks() - ticks0) / 100 / elapsed
  return total / seconds, cpu
end

for _, mode in ipairs{ "primitives", "worker" } do
  for _, p in ipairs{ 1, 4 } do
    local rate, cpu = throughput(mode, p, 3)
    print(string.format("%-10s %d process(es): %7.0f runs/s, redis-server CPU %.0f%% -> %.0f runs/s per Redis core",
      mode, p, rate, cpu * 100, cpu > 0 and rate / cpu or 0))
  end
end
print(string.format("paper: 10,000 accounts every 5 min = %.0f runs/s; %.0f commands/s at %.1f per run (+ records)",
  10000 / 300, 10000 / 300 * per_run, per_run))
srv:stop()
