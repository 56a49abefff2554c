-- `make sandbox`: start the vendor sandbox, print its URLs and credentials, and write the
-- nginx PID and prefix to the file named by argv[1] so sandbox/run.sh can stop it on
-- Ctrl-C / SIGTERM. Run from the repository root.
package.path = "sandbox/lua/?.lua;spec/?.lua;" .. package.path
local sandbox = require "sandbox.launch"

local workers = tonumber(os.getenv("SANDBOX_WORKERS") or "1")
local sb = sandbox.start { workers = workers }
print("mallapi vendor sandbox (nginx pid " .. sb.pid .. ", " .. workers .. " worker(s))")
print("")
for _, vendor in ipairs(sandbox.VENDORS) do
  local creds = {}
  for k, v in pairs(sb.credentials[vendor]) do creds[#creds + 1] = k .. "=" .. v end
  table.sort(creds)
  print(string.format("  %-9s %-45s %s", vendor, sb.urls[vendor], table.concat(creds, " ")))
end
print("")
print("  control: POST {port}/_sandbox/knob|seed|reset, GET|POST {port}/_sandbox/dump|stats")
print("  (see doc/sandbox.md)")
print("  Ctrl-C stops it.")
io.stdout:flush()
local f = assert(io.open(arg[1], "w"))
f:write(sb.pid, "\n", sb.prefix, "\n")
f:close()
