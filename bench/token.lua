-- bench/token.lua: cost of the token manager's hot path and of the file store, each
-- next to its peer in the same run (pinned by bench/run.sh with taskset):
--   manager:get() on a fresh cached token   vs  a bare Lua closure returning a string
--   file store get (C read)                 vs  io.open + read + close
--   file store set (temp + fsync + rename)  vs  io.open + write + close (no fsync)
-- Each case runs a bounded count, at most ~0.5 s. Prints ns/op and the ratio.
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"

local function measure(count, fn)
  local start = core_clock.monotonic_ms()
  local done = 0
  for i = 1, count do
    fn(i)
    done = i
    if i % 256 == 0 and core_clock.monotonic_ms() - start > 500 then break end
  end
  return (core_clock.monotonic_ms() - start) * 1e6 / done, done
end

local function row(name, ours_ns, peer_name, peer_ns)
  print(string.format("%-34s %10.0f ns/op   %-32s %10.0f ns/op   ratio %.2f", name, ours_ns, peer_name, peer_ns,
                      ours_ns / peer_ns))
end

local dir = assert(io.popen("mktemp -d /tmp/mallapi-bench.XXXXXX")):read("*l")
local store = mallapi.store.file(dir)
local manager = mallapi.token.new{ key = "sobot:bench", store = store, fetch = function()
  return string.rep("a", 32), 86400
end }
assert(manager:get())
local token = string.rep("a", 32)
local function bare() return token end

row("manager:get() cached", measure(2000000, function() manager:get() end),
    "bare closure", measure(2000000, function() bare() end))

local path = dir .. "/sobot%3Abench.token"
row("store.file get", measure(50000, function() store:get("sobot:bench") end),
    "io.open+read+close", measure(50000, function()
      local f = io.open(path, "rb"); f:read("*a"); f:close()
    end))

local value = mallapi.token.encode_record{ token = token, expires_at = 1, fetched_at = 0, generation = 1,
                                           source = "bench" }
local plain = dir .. "/plain"
row("store.file set (fsync+rename)", measure(300, function() store:set("sobot:bench", value) end),
    "io.open+write+close (no fsync)", measure(300, function()
      local f = io.open(plain, "wb"); f:write(value); f:close()
    end))

os.execute("rm -rf '" .. dir .. "'")
