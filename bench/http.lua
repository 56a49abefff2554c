-- bench/http.lua (run by bench/http.sh): the HTTP transport against a loopback nginx
-- (pinned to core 1), every client pinned to core 0, in one run:
--   sequential keep-alive: session:request (Lua 5.4 and LuaJIT) vs wrk -t1 -c1 vs
--   lua-curl (LuaJIT, Lua-cURL with one reused easy handle: body only, and collecting
--   status + headers + body as session:request does);
--   concurrent: session:batch with 16 at once vs wrk -t1 -c16.
-- The machine is shared, so clients take turns in ROUNDS rounds of SECONDS each
-- (BENCH_ROUNDS=3, BENCH_SECONDS=1) and the best round of each is kept. Also prints
-- each Lua client's CPU time per request. Never a test.
local server = require "support.http_server"

local seconds = tonumber(os.getenv("BENCH_SECONDS") or "1")
local rounds = tonumber(os.getenv("BENCH_ROUNDS") or "3")
local root = assert(io.popen("pwd")):read("*l")

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

local function lua_client(bin, cpath, mode)
  return function(url)
    local env = "LUA_PATH='" .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;' LUA_CPATH='" .. cpath .. "' "
    local out = run(env .. "timeout " .. (seconds + 20) .. " taskset -c 0 " .. bin ..
                    " bench/support/http_client.lua " .. mode .. " " .. url .. " " .. seconds)
    local count, secs, errors, cpu = out:match("(%d+) ([%d.e+-]+) (%d+) ([%d.e+-]+)")
    if not count then return nil, out end
    count = tonumber(count)
    return count / tonumber(secs), tonumber(errors), tonumber(cpu) / count * 1e6
  end
end

local function wrk(connections)
  return function(url)
    local out = run("timeout " .. (seconds + 20) .. " taskset -c 0 wrk -t1 -c" .. connections ..
                    " -d" .. seconds .. "s " .. url)
    local rps = out:match("Requests/sec:%s*([%d.]+)")
    if not rps then return nil, out end
    return tonumber(rps), tonumber(out:match("Non%-2xx or 3xx responses: (%d+)") or "0")
  end
end

local cpath54 = root .. "/build/5.4/?.so;;"
local cpathjit = root .. "/build/luajit/?.so;;"
local clients = {
  { key = "wrk1", name = "wrk -t1 -c1", run = wrk(1) },
  { key = "seq54", name = "session:request (Lua 5.4)", run = lua_client("lua5.4", cpath54, "mallapi-seq") },
  { key = "seqjit", name = "session:request (LuaJIT)", run = lua_client("luajit", cpathjit, "mallapi-seq") },
  { key = "luacurl", name = "lua-curl, body only (LuaJIT)", run = lua_client("luajit", ";;", "lua-curl") },
  { key = "luacurlfull", name = "lua-curl, status+headers+body (LuaJIT)",
    run = lua_client("luajit", ";;", "lua-curl-full") },
  { key = "wrk16", name = "wrk -t1 -c16", run = wrk(16) },
  { key = "batch54", name = "session:batch, 16 at once (Lua 5.4)",
    run = lua_client("lua5.4", cpath54, "mallapi-batch") },
  { key = "batchjit", name = "session:batch, 16 at once (LuaJIT)",
    run = lua_client("luajit", cpathjit, "mallapi-batch") },
}

local srv = server.start { cpu = "1" }
local ok, err = pcall(function()
  local url = srv:url("/json")
  local best = {}
  for _ = 1, rounds do
    for _, client in ipairs(clients) do
      local rps, errors, cpu_us = client.run(url)
      if not rps then error(client.name .. " failed: " .. tostring(errors)) end
      local b = best[client.key]
      if not b or rps > b.rps then best[client.key] = { rps = rps, errors = errors, cpu_us = cpu_us } end
    end
  end
  print(string.format("%-40s %10s %7s %12s", "client (nginx on core 1, GET /json)", "req/s", "errors",
                      "cpu us/req"))
  for _, client in ipairs(clients) do
    local b = best[client.key]
    print(string.format("%-40s %10.0f %7d %12s", client.name, b.rps, b.errors,
                        b.cpu_us and string.format("%.1f", b.cpu_us) or "-"))
  end
  local r = function(a, b) return best[a].rps / best[b].rps end
  print("")
  print(string.format("sequential: session:request / wrk -t1 -c1   %.2fx (5.4)  %.2fx (LuaJIT)   target >= 0.70x",
                      r("seq54", "wrk1"), r("seqjit", "wrk1")))
  print(string.format("sequential: session:request / lua-curl      %.2fx (5.4)  %.2fx (LuaJIT)   target > 1x",
                      r("seq54", "luacurl"), r("seqjit", "luacurl")))
  print(string.format("sequential: session:request / lua-curl same work  %.2fx (5.4)  %.2fx (LuaJIT)",
                      r("seq54", "luacurlfull"), r("seqjit", "luacurlfull")))
  print(string.format("sequential: lua-curl / wrk -t1 -c1          %.2fx", r("luacurl", "wrk1")))
  print(string.format("batch:      session:batch / wrk -t1 -c16    %.2fx (5.4)  %.2fx (LuaJIT)   target >= 0.50x",
                      r("batch54", "wrk16"), r("batchjit", "wrk16")))
  print(string.format("(best of %d rounds of %g s each, clients taking turns)", rounds, seconds))
end)
srv:stop()
if not ok then error(err, 0) end
