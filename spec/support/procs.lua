-- Test helper: run Lua scripts as separate OS processes under the runtime of the
-- current spec run (MALLAPI_RUNTIME 5.4 | luajit) with the same module paths.
--   local p = procs.spawn("spec/support/token_child.lua", { "get", ... })
--   local output = p:wait()           -- everything the process printed
local M = {}

local function runtime_binary()
  local rt = os.getenv("MALLAPI_RUNTIME")
  if rt == "luajit" or (rt == nil and rawget(_G, "jit")) then return "luajit", "build/luajit/?.so;;" end
  return "lua5.4", "build/5.4/?.so;;"
end
M.runtime_binary = runtime_binary   -- lua binary and LUA_CPATH of this run

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- A process is alive when it exists and is not a zombie (where PID 1 does not reap
-- daemons, a stopped server stays a zombie that `kill -0` still finds).
function M.alive(pid)
  local f = io.open("/proc/" .. tostring(pid) .. "/stat", "r")
  if not f then return false end
  local stat = f:read("*l") or ""
  f:close()
  return stat:match("^%d+ %b() (%a)") ~= "Z"
end

-- Stop a server we started: SIGTERM, up to 5 s for it to go, then SIGKILL.
function M.stop_pid(pid)
  os.execute("kill " .. tostring(pid) .. " 2>/dev/null")
  for _ = 1, 100 do
    if not M.alive(pid) then return end
    os.execute("sleep 0.05")
  end
  os.execute("kill -9 " .. tostring(pid) .. " 2>/dev/null")
end

-- Start a shell command in the background, its output appended to log; returns its PID
-- (the command is exec'ed by the shell whose PID is recorded, so signals reach it).
function M.start_background(cmd, log)
  local pidfile = log .. ".pid"
  os.remove(pidfile)
  os.execute("sh -c " .. quote("echo $$ > " .. pidfile .. "; exec " .. cmd) .. " >>" .. log .. " 2>&1 &")
  for _ = 1, 400 do
    local f = io.open(pidfile)
    local pid = f and f:read("*l")
    if f then f:close() end
    if pid and pid ~= "" then return pid end
    os.execute("sleep 0.01")
  end
  error("background command did not start: " .. cmd, 2)
end

-- Everything a shell command prints on stdout.
function M.capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

-- Run a shell command; true when it exits 0 (os.execute differs in 5.1 and 5.4).
function M.sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- A TCP port on 127.0.0.1 that was free a moment ago.
function M.free_port()
  local s = assert(require("socket").bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- A new private directory /tmp/mallapi-TAG.XXXXXX (mktemp -d); remove_dir deletes it.
function M.temp_dir(tag)
  local p = assert(io.popen("mktemp -d /tmp/mallapi-" .. tag .. ".XXXXXX"))
  local dir = p:read("*l")
  p:close()
  return dir
end

function M.remove_dir(dir)
  return M.sh("rm -rf " .. quote(dir))
end

local counter = 0

-- Start `script` with the argument lines written to a file (no secrets on command lines);
-- with timeout_s, the process is killed (timeout(1)) if it runs longer.
function M.spawn(script, lines, tmpdir, timeout_s)
  counter = counter + 1
  local argfile = tmpdir .. "/args." .. counter
  local f = assert(io.open(argfile, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local bin, cpath = runtime_binary()
  local cmd = "LUA_PATH=" .. quote("lua/?.lua;lua/?/init.lua;spec/?.lua;;") .. " LUA_CPATH=" .. quote(cpath)
    .. " " .. (timeout_s and ("timeout " .. timeout_s .. " ") or "") .. bin .. " " .. quote(script) .. " "
    .. quote(argfile) .. " 2>&1"
  return { handle = assert(io.popen(cmd)), wait = function(self)
    local out = self.handle:read("*a")
    self.handle:close()
    return out
  end }
end

return M
