-- bench/json.lua: mallapi.json next to lua-cjson and dkjson on the shared payloads,
-- in one run under Lua 5.4 (bench/run.sh pins it with taskset -c 1, or BENCH_CPU).
-- Prints decode and encode MB/s (input bytes per CPU second, best of 3 interleaved
-- rounds), the ratio to lua-cjson, and the Lua memory one decode allocates.
-- Corpora: the shared order payloads, nativejson's canada/citm_catalog/twitter, a
-- float array (200k 17-digit doubles) and an escape-dense document, generated here.
-- Encode is measured twice: on the decoded value and on the same data rebuilt by
-- Lua code (fresh tables, as request bodies are), "enc Lua x" below.
-- Targets (issue 15): decode >= 1.5x and both encodes >= 1.5x lua-cjson on every
-- corpus but numbers.json; decode memory no higher than lua-cjson's.
local json = require("mallapi").json
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

local clock, collectgarbage, string, io = os.clock, collectgarbage, string, io

local payloads = { "orders_small.json", "orders_1k.json", "hd_saleorder.json", "canada.json",
  "citm_catalog.json", "twitter.json", "floats.json", "escapes.json", "numbers.json" }
local NATIVEJSON = { ["canada.json"] = true, ["citm_catalog.json"] = true, ["twitter.json"] = true }
local MIN_TIME = tonumber(os.getenv("BENCH_MIN_TIME") or "") or 0.15
local ROUNDS = 3

-- Generated corpora: 200k doubles printed with 17 significant digits, and strings
-- where every few bytes are an escape (quotes, backslashes, \n, \u00e9, \ud83d\ude00).
local generated = {
  ["floats.json"] = function()
    local rnd, t = 42, {}
    for i = 1, 200000 do
      rnd = (rnd * 16807) % 2147483647
      t[i] = string.format("%.17g", (rnd / 2147483647 - 0.5) * 10 ^ (i % 13 - 4))
    end
    return "[" .. table.concat(t, ",") .. "]"
  end,
  ["escapes.json"] = function()
    local pieces = { 'say \\"hi\\"', "line\\nbreak", "caf\\u00e9", "tab\\there", "c:\\\\dir",
      "\\ud83d\\ude00!", "a\\/b" }
    local t = {}
    for i = 1, 20000 do
      t[i] = '"' .. pieces[i % #pieces + 1] .. pieces[(i * 3) % #pieces + 1] .. '"'
    end
    return "[" .. table.concat(t, ",") .. "]"
  end,
}

local function read(name)
  if generated[name] then return generated[name]() end
  local f = assert(io.open((NATIVEJSON[name] and "../shared/nativejson/" or "bench/data/") .. name, "rb"))
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

-- The data of a decoded value rebuilt by Lua code: fresh tables filled one key at
-- a time (no codec metatables, arrays grown by appending), as request bodies are.
local function lua_built(v)
  if type(v) ~= "table" then return v end
  local t = {}
  if #v > 0 then
    for i = 1, #v do t[#t + 1] = lua_built(v[i]) end
  else
    for k, x in pairs(v) do t[k] = lua_built(x) end
  end
  return t
end

io.write(string.format("json bench, %s, %s\n", _VERSION, os.date("!%Y-%m-%d %H:%M UTC")))
io.write(string.format("%-18s %-8s %9s %9s %9s %7s %7s %7s %9s %6s\n", "payload", "codec", "dec MB/s",
  "enc MB/s", "encL MB/s", "dec x", "enc x", "encL x", "mem KB", "mem x"))

local verdict = {}
for _, name in ipairs(payloads) do
  local s = read(name)
  local mb = #s / 1e6
  local rows = {}
  -- Memory first, while no decoded value (and none of its strings) is alive.
  for _, peer in ipairs(peers) do
    rows[peer.name] = { dec = 0, enc = 0, encl = 0, mem = decode_memory(peer.decode, s) }
  end
  local built = lua_built(cjson.decode(s))
  -- Best of ROUNDS interleaved rounds per codec: the machine is shared and noisy.
  for round = 1, ROUNDS do
    for _, peer in ipairs(peers) do
      if round == 1 or not peer.slow then
        local max_iter = peer.slow and (#s > 1e5 and 2 or 50) or nil
        local value = peer.decode(s)
        local dec = time_it(function() return peer.decode(s) end, max_iter)
        local enc = time_it(function() return peer.encode(value) end, max_iter)
        -- (dkjson cannot write cjson.null, which the Lua-built copy holds)
        local encl = not peer.slow and time_it(function() return peer.encode(built) end, max_iter)
        local r = rows[peer.name]
        r.dec = math.max(r.dec, mb / dec)
        r.enc = math.max(r.enc, mb / enc)
        r.encl = encl and math.max(r.encl, mb / encl) or nil
      end
    end
  end
  local base = rows.cjson
  for _, peer in ipairs(peers) do
    local r = rows[peer.name]
    io.write(string.format("%-18s %-8s %9.1f %9.1f %9s %6.2fx %6.2fx %7s %9.1f %5.2fx\n", name,
      peer.name, r.dec, r.enc, r.encl and string.format("%.1f", r.encl) or "-", r.dec / base.dec,
      r.enc / base.enc, r.encl and string.format("%.2fx", r.encl / base.encl) or "-", r.mem,
      r.mem / base.mem))
  end
  local m = rows.mallapi
  if name ~= "numbers.json" then
    local function mark(x, target) return string.format("%.2fx %s", x, x >= target and "met" or "MISSED") end
    verdict[#verdict + 1] = string.format("%s: decode %s, encode %s, encode Lua-built %s, memory %.2fx %s",
      name, mark(m.dec / base.dec, 1.5), mark(m.enc / base.enc, 1.5), mark(m.encl / base.encl, 1.5),
      m.mem / base.mem, m.mem <= base.mem * 1.005 and "met" or "MISSED")
  end
end

-- Exactness next to speed: the compact payloads survive an ordered round trip.
local exact = true
for _, name in ipairs({ "orders_small.json", "hd_saleorder.json" }) do
  local s = read(name)
  exact = exact and json.encode(json.decode(s, { ordered = true })) == s
end
io.write("targets (1.5x lua-cjson each; memory <= lua-cjson):\n  ", table.concat(verdict, "\n  "), "\n")
io.write("ordered round trip byte-exact on orders_small and hd_saleorder: ", tostring(exact), "\n")
