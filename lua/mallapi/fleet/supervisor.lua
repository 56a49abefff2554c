-- mallapi.fleet.supervisor: `mallapi worker --processes N` / `--metrics`: starts N
-- worker processes (the same command with --child), restarts one that died, serves
-- the fleet's metrics from Redis, and on SIGTERM passes it to the children and waits
-- for their drain. Lua has no fork: children are started through the shell with the
-- same interpreter, package paths and arguments.
local core = require "mallapi.core"
local metrics = require "mallapi.metrics"

local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function interpreter()
  local lowest = 0
  while arg and arg[lowest - 1] do lowest = lowest - 1 end
  return arg and arg[lowest] or "lua5.4"
end

-- alive: exists and is not a zombie (children are reparented; where PID 1 does not reap,
-- a finished child stays a zombie that kill -0 would still find)
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local stat = f:read("*l") or ""
  f:close()
  return stat:match("^%d+ %b() (%a)") ~= "Z"
end

local function spawn(argv)
  local code = string.format("package.path=%q; package.cpath=%q; os.exit(require('mallapi.cli.worker').run(arg))",
    package.path, package.cpath)
  local parts = { interpreter(), "-e", quote(code), "--", "worker" }
  for i = 1, #argv do
    if argv[i] ~= "--child" then parts[#parts + 1] = quote(argv[i]) end
  end
  parts[#parts + 1] = "--child"
  local p = io.popen(table.concat(parts, " ") .. " </dev/null & echo $!")
  local pid = p:read("*l")
  p:close()
  return pid
end

-- argv: the worker's own arguments (the children get them with --child added; --processes
-- and --metrics are ignored by a child).
function M.run(fleet, args, argv)
  local server
  if args.metrics then
    local err
    server, err = metrics.serve(args.metrics, function() return metrics.fleet_text(fleet) end)
    if not server then io.stderr:write("mallapi worker: ", err, "\n"); return 2 end
  end
  local children = {}
  for i = 1, args.processes do children[i] = spawn(argv) end
  while not core.signal.stop_signal() do
    if server then server:poll(0.2) else core.clock.sleep_ms(200) end
    for i, pid in ipairs(children) do
      if not alive(pid) then children[i] = spawn(argv) end     -- died (killed, crashed): start another
    end
  end
  for _, pid in ipairs(children) do os.execute("kill -TERM " .. pid .. " 2>/dev/null") end
  local deadline = core.clock.monotonic_ms() + (args.lease + 5) * 1000
  while core.clock.monotonic_ms() < deadline do
    local any = false
    for _, pid in ipairs(children) do if alive(pid) then any = true end end
    if not any then break end
    if server then server:poll(0.1) else core.clock.sleep_ms(100) end
  end
  if server then server:close() end
  return 0
end

return M
