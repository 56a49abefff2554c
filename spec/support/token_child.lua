-- One OS process of the multi-process token specs, run by spec/support/procs.lua
-- under the same runtime and paths as the spec. Arguments (one per line in the
-- file named by argv[1]): mode, store ("file:<dir>" | "redis:<port>:<password>"),
-- token server base URL, go file, clock offset ms, signal file.
-- Modes: get (print "token <t>"), call (a vendor call through manager:call, print
-- "call <answer> <token>"), hold (take the refresh lock, write "<pid>" to the signal
-- file and hang inside fetch until killed).
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"
local server = require "support.token_server"
local lock = require("mallapi.core").lock

local args = {}
for line in assert(io.open(arg[1])):lines() do args[#args + 1] = line end
local mode, store_spec, base, go_file, offset, signal_file =
  args[1], args[2], args[3], args[4], tonumber(args[5]), args[6]

local store
local kind, rest = store_spec:match("^(%w+):(.*)$")
if kind == "file" then
  store = mallapi.store.file(rest)
else
  local port, password = rest:match("^(%d+):(.*)$")
  store = mallapi.store.redis{ port = tonumber(port), password = password, prefix = "spec:" }
end

local fetch = server.fetcher(base)
if mode == "hold" then
  fetch = function()
    local f = assert(io.open(signal_file .. ".tmp", "w"))
    f:write(lock.pid(), "\n")
    f:close()
    os.rename(signal_file .. ".tmp", signal_file)
    core_clock.sleep_ms(30000)                           -- hang: the spec kills or stops us
    return nil, "held too long", "TIMEOUT"
  end
end

local manager = mallapi.token.new{
  key = "sobot:" .. server.APPID, fetch = fetch, store = store,
  mandatory_window = 60000, lease = 1500, wait = 15000, poll = 20,
  clock = function() return core_clock.now_ms() + offset end,
  log = function() end,
}

-- start barrier: every process waits for the go file (at most 15 s)
if mode ~= "hold" then
  for _ = 1, 7500 do
    local f = io.open(go_file)
    if f then f:close() break end
    core_clock.sleep_ms(2)
  end
end

if mode == "call" then
  local answer, err = manager:call(function(token)
    local body = server.api(base, token)
    return body, token
  end, function(body) return body ~= nil and body:find('"retCode":"900002"', 1, true) ~= nil end)
  if not answer then print("error " .. tostring(err)) os.exit(0) end
  print("call " .. answer:match('"retCode":"(%d+)"') .. " " .. manager.cache.token)
else
  local token, err, code = manager:get()
  if token then print("token " .. token .. " " .. tostring(manager.source))
  else print("error " .. tostring(code) .. " " .. tostring(err)) end
end
