-- bench/json.lua: mallapi.json next to lua-cjson and dkjson on the shared payloads,
-- in one run under Lua 5.4 (bench/run.sh pins it with taskset -c 0).
-- Prints decode and encode MB/s (input bytes per CPU second, best of 3 interleaved
-- rounds), the ratio to lua-cjson, and the Lua memory one decode allocates.
-- Targets (issue 3): decode >= 1.5x and encode >= 1.2x lua-cjson on the first three
-- payloads; decode memory no higher than lua-cjson's.
local json = require("mallapi").json
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

local clock, collectgarbage, string, io = os.clock, collectgarbage, string, io

local payloads = { "orders_small.json", "orders_1k.json", "hd_saleorder.json", "numbers.json" }
local MIN_TIME = tonumber(os.getenv("BENCH_MIN_TIME") or "") or 0.15
local ROUNDS = 3

local function read(name)
  local f = assert(io.open("bench/data/" .. name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Runs fn until MIN_TIME CPU seconds have passed (at least twice, at most max_iter
-- times) and returns seconds per call.
local function time_it(fn, max_iter)
  fn()
  collectgarbage("collect")
  local n, t0 = 0, clock()
  local elapsed
  repeat
    fn()
    n = n + 1
    elapsed = clock() - t0
  until (elapsed >= MIN_TIME and n >= 2) or n >= (max_iter or 1e9)
  return elapsed / n
end

-- Lua memory (KB) one decode allocates while the collector is stopped, after a
-- warm-up call. The Lua stack is grown beforehand so that neither codec is charged
-- for stack growth: mallapi keeps pending values on the stack (up to 256 array
-- elements or 64 members per open container), a one-time growth of a few KB per
-- Lua state that the collector later shrinks; lua-cjson needs a few slots per level.
local STACK_FILL = {}
for i = 1, 4000 do STACK_FILL[i] = true end
local unpack = table.unpack or unpack -- luacheck: ignore

local function decode_memory(decode, s)
  decode(s)
  collectgarbage("collect")
  collectgarbage("collect")
  collectgarbage("stop")
  select("#", unpack(STACK_FILL))
  local before = collectgarbage("count")
  local v = decode(s)
  local after = collectgarbage("count")
  assert(v ~= nil)
  v = nil -- luacheck: ignore
  collectgarbage("restart")
  collectgarbage("collect")
  return after - before
end

local peers = {
  { name = "mallapi", decode = json.decode, encode = json.encode },
  { name = "cjson", decode = cjson.decode, encode = cjson.encode },
}
if ok_dk then
  peers[#peers + 1] = { name = "dkjson", decode = dkjson.decode, encode = dkjson.encode, slow = true }
end

io.write(string.format("json bench, %s, %s\n", _VERSION, os.date("!%Y-%m-%d %H:%M UTC")))
io.write(string.format("%-18s %-8s %10s %10s %8s %8s %10s %8s\n", "payload", "codec", "dec MB/s",
  "enc MB/s", "dec x", "enc x", "mem KB", "mem x"))

local verdict = {}
for pi, name in ipairs(payloads) do
  local s = read(name)
  local mb = #s / 1e6
  local rows = {}
  -- Memory first, while no decoded value (and none of its strings) is alive.
  for _, peer in ipairs(peers) do
    rows[peer.name] = { dec = 0, enc = 0, mem = decode_memory(peer.decode, s) }
  end
  -- Best of ROUNDS interleaved rounds per codec: the machine is shared and noisy.
  for round = 1, ROUNDS do
    for _, peer in ipairs(peers) do
      if round == 1 or not peer.slow then
        local max_iter = peer.slow and (#s > 1e5 and 2 or 50) or nil
        local value = peer.decode(s)
        local dec = time_it(function() return peer.decode(s) end, max_iter)
        local enc = time_it(function() return peer.encode(value) end, max_iter)
        local r = rows[peer.name]
        r.dec = math.max(r.dec, mb / dec)
        r.enc = math.max(r.enc, mb / enc)
      end
    end
  end
  local base = rows.cjson
  for _, peer in ipairs(peers) do
    local r = rows[peer.name]
    io.write(string.format("%-18s %-8s %10.1f %10.1f %7.2fx %7.2fx %10.1f %7.2fx\n", name, peer.name,
      r.dec, r.enc, r.dec / base.dec, r.enc / base.enc, r.mem, r.mem / base.mem))
  end
  local m = rows.mallapi
  if pi <= 3 then
    verdict[#verdict + 1] = string.format(
      "%s: decode %.2fx (target 1.5x) %s, encode %.2fx (target 1.2x) %s, memory %.2fx %s", name,
      m.dec / base.dec, m.dec / base.dec >= 1.5 and "met" or "MISSED",
      m.enc / base.enc, m.enc / base.enc >= 1.2 and "met" or "MISSED",
      m.mem / base.mem, m.mem <= base.mem and "met" or "MISSED")
  end
end

-- Exactness next to speed: the compact payloads survive an ordered round trip.
local exact = true
for _, name in ipairs({ "orders_small.json", "hd_saleorder.json" }) do
  local s = read(name)
  exact = exact and json.encode(json.decode(s, { ordered = true })) == s
end
io.write("targets (payloads 1-3):\n  ", table.concat(verdict, "\n  "), "\n")
io.write("ordered round trip byte-exact on orders_small and hd_saleorder: ", tostring(exact), "\n")
