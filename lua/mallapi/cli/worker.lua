-- mallapi worker: runs the fleet's due jobs (mallapi.fleet.worker) until SIGTERM /
-- SIGINT, which drains: the running batch finishes, its checkpoint is saved, the run
-- is handed back. With --processes N (N > 1) or --metrics, this process supervises N
-- worker processes (restarting one that died, passing SIGTERM on) and, with
-- --metrics 127.0.0.1:PORT, serves the fleet's Prometheus metrics.
local argparse = require "argparse"
local core = require "mallapi.core"
local options = require "mallapi.fleet.options"
local worker = require "mallapi.fleet.worker"
local supervisor = require "mallapi.fleet.supervisor"

local M = { summary = "run the fleet's jobs from Redis (drains on SIGTERM)" }

local function parser()
  local p = argparse("mallapi worker", M.summary)
  options.add_redis(p)
  p:option("--processes", "worker processes on this machine", "1"):convert(tonumber)
  p:option("--metrics", "serve Prometheus metrics on host:port (127.0.0.1:PORT)")
  p:option("--lease", "seconds without a checkpoint before another worker takes a run over", "30"):convert(tonumber)
  p:option("--poll", "seconds to wait for a run before ticking the schedule again", "1"):convert(tonumber)
  p:option("--dead-letter-dir", "directory of the jobs' dead-letter files", ".")
  p:option("--exit-when-idle", "exit after this many seconds without a run (tests, batch use)"):convert(tonumber)
  p:option("--path", "prepended to package.path (job modules)")
  p:flag("--verbose", "one line per run on stderr")
  p:flag("--child", "(internal) one process of a supervised worker"):hidden(true)
  return p
end

function M.run(argv)
  local args, rc = options.parse(parser(), argv)
  if not args then return rc end
  if args.path then package.path = args.path .. ";" .. package.path end
  local ok, terr = core.signal.trap_stop()
  if not ok then io.stderr:write("mallapi worker: ", tostring(terr), "\n"); return 2 end
  local fl, err = options.open(args)
  if not fl then io.stderr:write("mallapi worker: ", err, "\n"); return 2 end
  if not args.child and (args.processes > 1 or args.metrics) then
    return supervisor.run(fl, args, argv)
  end
  local log = function() end
  if args.verbose then
    log = function(line) io.stderr:write("mallapi worker ", core.lock.pid(), ": ", line, "\n") end
  end
  local w = worker.new{ fleet = fl, lease_ms = args.lease * 1000, block_ms = math.floor(args.poll * 1000),
    dead_letter_dir = args.dead_letter_dir, log = log }
  w:loop{ idle_exit_ms = args.exit_when_idle and args.exit_when_idle * 1000 }
  log("stopped after " .. w.runs .. " runs")
  return 0
end

return M
