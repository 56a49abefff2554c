-- `mallapi sandbox [--port-base N] [--workers N]`: the local vendor sandbox (nginx with the
-- Lua module, Debian's nginx-core + libnginx-mod-http-lua) on 127.0.0.1, one port per vendor
-- (fixed from --port-base when asked); prints the URLs, credentials and the environment
-- settings for `mallapi call`, then runs until Ctrl-C (or --duration-s) and stops nginx.
local common = require "mallapi.cli.common"

local M = { summary = "run the local vendor sandbox (nginx on 127.0.0.1), print URLs and credentials" }

-- require "sandbox.launch": installed as mallapi.sandbox.launch by the rock, or the checkout's
-- sandbox/lua/sandbox/launch.lua (next to bin/ and lua/).
local function launcher()
  local path = package.searchpath("mallapi.sandbox.launch", package.path)
  local dir = path and path:match("^(.*)/sandbox/launch%.lua$")
  if not dir then
    local cli = package.searchpath("mallapi.cli.sandbox", package.path) or ""
    local root = cli:match("^(.*)/lua/mallapi/cli/sandbox%.lua$")
    if root then dir = root .. "/sandbox/lua" end
  end
  if not dir then return nil, "the sandbox files are not installed (mallapi.sandbox.launch not found)" end
  package.path = package.path .. ";" .. dir .. "/?.lua"
  return require "sandbox.launch"
end

function M.run(argv)
  local p = common.parser("sandbox", "Run the local vendor sandbox on 127.0.0.1 until Ctrl-C.")
  p:option("--port-base", "fixed ports: sobot N, hd N+1, shoplus N+2, guanmai N+3, babycare N+4"):convert(tonumber)
  p:option("--workers", "nginx worker processes", "1"):convert(tonumber)
  p:option("--duration-s", "stop by itself after this many seconds"):convert(tonumber)
  local args, ucode = common.parse(p, argv)
  if not args then return ucode end
  local sandbox, err = launcher()
  if not sandbox then return common.failure(err, "NOT_INSTALLED") end
  local ok, sb = pcall(sandbox.start, { workers = args.workers, port_base = args.port_base })
  if not ok then return common.failure(sb, "SANDBOX") end
  local out = io.stdout
  out:write("mallapi vendor sandbox (nginx pid ", sb.pid, ", ", args.workers, " worker(s))\n\n")
  for _, vendor in ipairs(sandbox.VENDORS) do
    out:write(string.format("  %-9s %s\n", vendor, sb.urls[vendor]))
  end
  out:write("\nsettings for mallapi call / sync (sandbox credentials, not secrets):\n")
  for _, vendor in ipairs(sandbox.VENDORS) do
    local names = {}
    for k in pairs(sb.credentials[vendor]) do names[#names + 1] = k end
    table.sort(names)
    local parts = { "export " .. common.env_name(vendor, "base_url") .. "=" .. sb.urls[vendor] }
    for _, k in ipairs(names) do
      parts[#parts + 1] = common.env_name(vendor, k) .. "=" .. tostring(sb.credentials[vendor][k])
    end
    if vendor == "hd" then parts[#parts + 1] = common.env_name(vendor, "operator") .. "=sandbox" end
    out:write(table.concat(parts, " "), "\n")
  end
  out:write("\ncontrol: POST {url}/_sandbox/knob|seed|reset, GET|POST {url}/_sandbox/dump|stats (doc/sandbox.md)\n")
  out:write(args.duration_s and ("stops after " .. args.duration_s .. " s\n") or "Ctrl-C stops it.\n")
  out:flush()
  -- The shell waits (system() leaves SIGINT to it); then nginx is stopped by its PID.
  local wait = args.duration_s and ("sleep " .. math.floor(args.duration_s))
    or "trap 'exit 0' INT TERM HUP; while kill -0 " .. tonumber(sb.pid) .. " 2>/dev/null; do sleep 1; done"
  os.execute("sh -c \"" .. wait .. "\"")
  sb:stop()
  out:write("sandbox stopped\n")
  return common.OK
end

return M
