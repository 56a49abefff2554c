-- Spec helper: the fleet's command-line modules (mallapi.cli.<name>) as processes under
-- the spec run's runtime, in the foreground (output and exit status) or in the
-- background (the PID, output to a log file).
local procs = require "support.procs"

local M = {}

M.runtime = os.getenv("MALLAPI_RUNTIME") or (rawget(_G, "jit") and "luajit" or "5.4")
local bin = M.runtime == "luajit" and "luajit" or "lua5.4"

function M.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local quote = M.quote

-- The shell command running `mallapi <name> args...` with env = { VAR = value }.
-- timeout_s: under timeout(1) (foreground runs only: a background PID must be the Lua process itself,
-- which a SIGKILL sent to timeout(1) would not reach).
function M.command(name, args, env, timeout_s)
  local parts = { "env", "LUA_PATH=" .. quote("lua/?.lua;lua/?/init.lua;spec/?.lua;;"),
    "LUA_CPATH=" .. quote("build/" .. M.runtime .. "/?.so;;") }
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. quote(v) end
  local code = "os.exit(require('mallapi.cli." .. name .. "').run(arg))"
  local limit = timeout_s and "timeout " .. timeout_s .. " " or ""
  parts[#parts + 1] = limit .. bin .. " -e " .. quote(code) .. " -- " .. name
  for _, a in ipairs(args) do parts[#parts + 1] = quote(a) end
  return table.concat(parts, " ")
end

-- Everything it printed, then "exit=N\n".
function M.run(name, args, env)
  return procs.capture(M.command(name, args, env, 60) .. " 2>&1; echo \"exit=$?\"")
end

-- Started in the background; returns its PID (output appended to log).
function M.start(name, args, env, log) return procs.start_background(M.command(name, args, env), log) end

return M
