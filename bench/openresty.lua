-- bench/openresty.lua (run by bench/openresty.sh): wrk (1 thread, 16 connections, 5 rounds of 1 s,
-- core 1) against the webhook receiver of examples/openresty/nginx.conf in a 1-worker
-- nginx (core 0) with valid signed Shoplus order events (each a different order, so
-- none is dropped as a duplicate), next to the same nginx answering a static 200 after
-- reading the same bodies. The queue's handle is a no-op here: the background timer
-- still drains the queue on the same core, but no vendor is called.
local nginx = require "support.nginx"
local json = require "sandbox.json"
local digest = require "openssl.digest"

local SECRET = "bench-webhook-secret"
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 5         -- peer and ours alternate, median kept
local BODIES = tonumber(os.getenv("BENCH_BODIES")) or 80000 * ROUNDS   -- a slice per round
local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 1

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

-- An order webhook body (the document's example, shortened); ID and NO vary per body.
local TEMPLATE = '{"createTime":1616488739000,"currency":"USD","discountsAmount":0,"email":"czj1@cc.com",'
  .. '"gateway":"Stripe","id":531464955400000000,"itemsAmount":16.05,"number":1,"orderItems":[{"id":'
  .. '531464955276181500,"payAmount":16.05,"productId":9,"quantity":1,"saleAmount":16.05,"skuCode":'
  .. '"100003875459","title":"badge canvas shoulder bag","variantId":37,"variantPrice":16.05}],'
  .. '"orderNo":"N0000000000","payTime":1606877591000,"payTotalAmount":16.05,"phone":"22222",'
  .. '"shippingAddress":{"address1":"Guangzhou","city":"guangzhou","country":"China","countryCode":"CN",'
  .. '"firstName":"chen","lastName":"dandan","phone":"22222","province":"Guangdong","zip":"00000"},'
  .. '"shopId":0,"status":1,"test":false,"updateTime":1622098157000}'

-- The string Shoplus signs (values of the top-level members sorted by name, strings decoded,
-- others as written), computed once on the template by the sandbox's JSON reader.
local function signed_text(raw)
  local members = assert(json.raw_members(raw))
  table.sort(members, function(a, b) return a.name < b.name end)
  local parts = {}
  for _, m in ipairs(members) do
    if m.name ~= "sign" and m.value ~= json.null and m.value ~= "" then
      parts[#parts + 1] = type(m.value) == "string" and m.value or m.raw
    end
  end
  return table.concat(parts)
end

local function write_bodies(path)
  local base = signed_text(TEMPLATE)
  local f = assert(io.open(path, "w"))
  for i = 1, BODIES do
    local id, no = tostring(531464955400000000 + i), string.format("N%010d", i)
    local text = base:gsub("531464955400000000", id, 1):gsub("N0000000000", no, 1)
    local body = TEMPLATE:gsub("531464955400000000", id, 1):gsub("N0000000000", no, 1)
    local sign = hex(digest.new("sha256"):final(text .. SECRET))
    f:write(body:sub(1, -2), ',"sign":"', sign, '"}\n')
  end
  f:close()
end

local function wrk(url, bodies, first)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
local bodies, i = {}, %d
for line in io.lines(%q) do bodies[#bodies + 1] = line end
local headers = { ["Content-Type"] = "application/json", ["WebHook-Event"] = "order_create" }
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end
]], first or 0, bodies))
  f:close()
  local p = assert(io.popen(string.format("taskset -c 1 wrk -t1 -c16 -d%ds -s %s '%s' 2>&1", SECONDS, script, url)))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  assert(not out:match("Non%-2xx or 3xx responses: (%d+)"), "wrk saw errors: " .. out)
  return assert(tonumber(out:match("Requests/sec:%s+([%d%.]+)")), out), tonumber(out:match("(%d+) requests in"))
end

-- CPU time (s) used so far by the nginx worker(s) under master pid: utime + stime from /proc.
-- Per request it is what the worker spends whatever else runs on the shared machine.
local TICK = tonumber(io.popen("getconf CLK_TCK"):read("*l")) or 100
local function worker_cpu(master)
  local total = 0
  for pid in io.popen("pgrep -P " .. master):lines() do
    local f = io.open("/proc/" .. pid .. "/stat")
    if f then
      local stat = f:read("*a")
      f:close()
      local fields = {}
      for w in stat:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = w end
      total = total + (tonumber(fields[12]) + tonumber(fields[13])) / TICK   -- fields 14, 15
    end
  end
  return total
end

local conf = assert(io.open("examples/openresty/nginx.conf")):read("*a")
local block = assert(conf:match("# %-%-%- mallapi: begin %-%-%-\n(.-)  # %-%-%- mallapi: end %-%-%-"))
block = block:gsub("listen 8080;", "listen 127.0.0.1:$PORT;")
   :gsub("lua_shared_dict mallapi_webhooks 16m;", "lua_shared_dict mallapi_webhooks 384m;")
   -- a no-op handle: measure receiving, not a vendor
   :gsub("handle = require%(\"shoplus_to_sobot\"%)%(sobot, [^\n]*\n", "handle = function() return true end,\n")
if os.getenv("BENCH_READ_DATA") then   -- a handle that reads event.data: the timer decodes each body
  block = block:gsub("handle = function%(%) return true end", "handle = function(e) return e.data ~= nil end")
end
if os.getenv("BENCH_NO_DRAIN") then   -- analysis only: the timer does not drain during the run
  block = block:gsub("claim = tonumber", "poll = 3600, claim = tonumber")
end
-- the same receiver with its queue and seen ids in Redis (a private redis-server on core 0
-- with nginx), measured once after the rounds: informative, no target
local redis = require("support.redis_server").start()
local srv = nginx.start{
  main = "env SHOPLUS_WEBHOOK_SECRET=" .. SECRET .. ";\nenv SOBOT_APPID=bench;\nenv SOBOT_APP_KEY=bench;"
    .. "\nenv REDIS_PORT=" .. redis.port .. ";\nenv REDIS_PASSWORD=" .. redis.password .. ";",
  http = block .. [[
    server {
      listen 127.0.0.1:$PORT2;
      location = /static { content_by_lua_block { ngx.req.read_body() ngx.print('{"code":"OK","msg":"queued"}') } }
      location = /webhooks/redis { content_by_lua_block {
        local webhook = require "mallapi.ngx.webhook"
        if not webhook.receivers.redis then
          assert(webhook.new{ name = "redis", vendor = "shoplus", secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"),
            redis = { port = tonumber(os.getenv("REDIS_PORT")), password = os.getenv("REDIS_PASSWORD") },
            handle = function() return true end }:start())
        end
        webhook.serve("redis")
      } }
      # the signature check alone, for the breakdown
      location = /verify { content_by_lua_block {
        ngx.req.read_body()
        local ok, err = require("mallapi.webhook").verify("shoplus", { body = ngx.req.get_body_data(),
          headers = { ["WebHook-Event"] = ngx.var.http_webhook_event }, secret = os.getenv("SHOPLUS_WEBHOOK_SECRET") })
        ngx.status = ok and 200 or 401
        ngx.print(ok and '{"code":"OK","msg":"queued"}' or tostring(err))
      } }
    }
  ]], ports = 2 }
os.execute("chmod 755 '" .. srv.prefix .. "'")
local ok, err = pcall(function()
  local bodies = srv.prefix .. "/bodies.txt"
  write_bodies(bodies)
  -- rounds of peer, receiver, verify-only back to back (the machine is shared: a round's
  -- ratio compares figures taken within seconds); the round with the median ratio is shown
  local runs, slice, sent = {}, BODIES // ROUNDS, 0
  local http = require "socket.http"
  local function queued()
    local stats = http.request("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/stats") or ""
    return tonumber(stats:match("queued=(%d+)"))
  end
  local cpu_peer, cpu_ours, n_peer, n_ours = 0, 0, 0, 0
  for r = 1, ROUNDS do
    local c0 = worker_cpu(srv.pid)
    local peer, np = wrk("http://127.0.0.1:" .. srv.ports[2] .. "/static", bodies)
    local c1 = worker_cpu(srv.pid)
    local ours, n = wrk("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/shoplus", bodies, (r - 1) * slice)
    for _ = 1, os.getenv("BENCH_NO_DRAIN") and 0 or 100 do   -- the background drain's share counts too
      if queued() == 0 then break end
      os.execute("sleep 0.1")
    end
    local c2 = worker_cpu(srv.pid)
    cpu_peer, cpu_ours, n_peer, n_ours = cpu_peer + (c1 - c0), cpu_ours + (c2 - c1), n_peer + np, n_ours + n
    assert(n + 200 <= slice, "more requests than distinct bodies in a round: raise BENCH_BODIES")
    sent = sent + n
    local verify_only = wrk("http://127.0.0.1:" .. srv.ports[2] .. "/verify", bodies)
    runs[r] = { peer = peer, ours = ours, verify_only = verify_only, ratio = ours / peer }
    io.write(string.format("round %d: peer %.0f/s, webhook %.0f/s (%.2f), verify alone %.0f/s (%.2f)\n",
                                  r, peer, ours, ours / peer, verify_only, verify_only / peer))
  end
  local redis_rps = wrk("http://127.0.0.1:" .. srv.ports[2] .. "/webhooks/redis", bodies)   -- its own seen ids
  -- the stats requests above cost a little worker CPU too (a few per round)
  local us_peer, us_ours = cpu_peer / n_peer * 1e6, cpu_ours / n_ours * 1e6
  local stats = require("socket.http").request("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/stats") or ""
  table.sort(runs, function(a, b) return a.ratio < b.ratio end)
  local mid = runs[(#runs + 1) // 2]
  local ours, peer, verify_only = mid.ours, mid.peer, mid.verify_only
  print(string.format("%-44s %10s   %-30s %10s   %s", "case", "mallapi", "peer", "peer", "ratio"))
  print(string.format("%-44s %8.0f/s   %-30s %8.0f/s   %.2f", "webhook: verify, dedup, queue (1 worker)", ours,
                      "static 200, body read", peer, ours / peer))
  print(string.format("%-44s %8.0f/s   %-30s %8.0f/s   %.2f", "  breakdown: webhook.verify alone", verify_only,
                      "static 200, body read", peer, verify_only / peer))
  print(string.format("%-44s %8.0f/s   %-30s %8.0f/s   %.2f", "  informative: queue and seen ids in Redis",
                      redis_rps, "static 200, body read", peer, redis_rps / peer))
  print(string.format("%-44s %8.1f us   %-30s %8.1f us   %.2f", "worker CPU per request (all rounds)", us_ours,
                      "static 200, body read", us_peer, us_peer / us_ours))
  print(string.format("(median of %d rounds of %d s; webhook ratios %.2f-%.2f; %d webhook requests, all distinct "
                      .. "events; queue after the run: %s)", ROUNDS, SECONDS, runs[1].ratio, runs[#runs].ratio, sent,
                      (stats:gsub("\n", ""))))
end)
srv:stop()
redis:stop()
assert(ok, err)
