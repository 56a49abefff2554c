-- bench/sync.lua: the sync runner moving Shoplus orders to Sobot over HTTP, 10k and
-- 50k orders: orders per second and the runner process's peak RSS (VmHWM), which
-- must stay flat (50k within 1.2x of 10k) because records stream page by page.
-- Peer, same run: the same pipeline written by hand (client:each -> mallapi.map ->
-- orders/add in batches) without checkpoints, retries or dead letters.
-- The vendors are a light nginx pair (one port each) that generates Shoplus
-- Order.list pages on the fly from the query (ascending update times, 64-bit ids,
-- Chinese text) and counts the order ids pushed to Sobot orders/add: the full
-- sandbox (sandbox/) decodes every stored record on each listing and keeps its
-- state in a 64 MB dict, which 50k orders do not fit. nginx runs on core 1, the
-- runner on core 0 (bench/run.sh pins it). Each run is a separate process.
local core_clock = require("mallapi.core").clock
package.path = "spec/?.lua;" .. package.path

local SERVER = [=[
local BASE_S = 1764000000
local function order_json(i)
  local id = "531464955" .. string.format("%09d", 418787840 + i * 1009)
  local cents = 1605 + (i * 7919) % 50000
  local amount = string.format("%d.%02d", math.floor(cents / 100), cents % 100)
  local ms = (BASE_S + i) * 1000
  return string.format('{"id":%s,"orderNo":"52020120%08d","shopId":10086,"status":1,"fulfillmentStatus":0,'
    .. '"currency":"CNY","email":"buyer%d@example.cn","phone":"138%08d","itemsAmount":%s,"payTotalAmount":%s,'
    .. '"createTime":%d,"updateTime":%d,"payTime":%d,"buyerRemark":"请尽快发货，谢谢！",'
    .. '"shippingAddress":{"firstName":"张","lastName":"三%d","phone":"138%08d","country":"中国","province":"广东省",'
    .. '"city":"广州市","address1":"天河区文化路 %d 号","zip":"510000"},'
    .. '"orderItems":[{"id":%s1,"productId":%d,"variantId":%d,"skuCode":"SKU-%d","title":"有机绿茶 250克",'
    .. '"quantity":1,"variantPrice":%s,"saleAmount":%s,"payAmount":%s,"totalDiscount":0}]}',
    id, i, i, i, amount, amount, ms - 60000, ms, ms - 30000, i, i, i, id:sub(1, -2), 9000 + i % 17,
    70000 + i % 17, i % 17, amount, amount, amount)
end

local function shoplus()
  local dict = ngx.shared.bench
  if ngx.var.uri == "/_reset" then         -- how many orders exist; counters cleared
    dict:flush_all()
    dict:set("orders", tonumber(ngx.var.arg_n))
    return ngx.say("ok")
  elseif ngx.var.uri == "/_counts" then
    return ngx.say("distinct=", dict:get("distinct") or 0, " pushed=", dict:get("pushed") or 0)
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local data = ngx.unescape_uri((body:match('"data":"(.-)"') or ""):gsub("%+", " "))
  local page = tonumber(data:match('"page":(%d+)')) or 1
  local limit = tonumber(data:match('"limit":(%d+)')) or 10
  local first = 1
  local y, mo, d, h, mi, s = data:match('"updatedAtMin":"(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)"')
  if y then   -- +08:00 text -> the first order updated at or after it
    local t = os.time{ year = y, month = mo, day = d, hour = h, min = mi, sec = s, isdst = false }
      - os.time{ year = 1970, month = 1, day = 1, hour = 0, isdst = false } - 8 * 3600
    first = math.max(1, t - BASE_S)
  end
  local total = dict:get("orders") or 0
  local from = first + (page - 1) * limit
  local parts = {}
  for i = from, math.min(total, from + limit - 1) do parts[#parts + 1] = order_json(i) end
  ngx.say('{"code":"0","msg":"success","data":{"totalCount":', math.max(0, total - first + 1), ',"orders":[',
    table.concat(parts, ","), ']}}')
end

local function sobot()
  local uri = ngx.var.uri
  if uri == "/api/get_token" then
    return ngx.say('{"ret_code":"000000","ret_msg":"success","item":{"token":"bench-token","expires_in":86400}}')
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local dict = ngx.shared.bench
  for id in body:gmatch('"orderid":"(%d+)"') do
    dict:incr("pushed", 1, 0)
    if dict:add("id:" .. id, true) then dict:incr("distinct", 1, 0) end
  end
  ngx.say('{"retCode":"000000","retMsg":"success","data":[]}')
end

bench_server = { shoplus = shoplus, sobot = sobot }   -- luacheck: ignore
]=]

local function run_job(mode, n, shoplus_url, sobot_url, dir)
  local mallapi = require "mallapi"
  local sync = mallapi.sync
  local shoplus = mallapi.client("shoplus", { app_key = "bench", secret = "bench-secret", base_url = shoplus_url })
  local sobot = mallapi.client("sobot", { appid = "bench", app_key = "bench-key", base_url = sobot_url })
  local function local_text(ms) return sync.format_time(math.floor(ms / 1000) + 8 * 3600) end
  local function map(order) return mallapi.map("shoplus.order", "sobot.order", order) end
  local t0 = core_clock.monotonic_ms()
  local count = 0
  if mode == "runner" then
    local summary = assert(sync.run{ name = "bench", state = mallapi.store.file(dir), output = false, batch = 100,
      dead_letter = dir .. "/dead.jsonl",
      source = sync.updates{ id = "id", updated = "updateTime", page_size = 100, overlap = 60000,
        query = function(since)
          return shoplus:each("Order.list", { limit = 100, updatedAtMin = since and local_text(since) or nil })
        end },
      map = map, sink = sync.client_sink(sobot, "orders/add", { list = "order_list", failed = "orderid" }) })
    count = summary.sent
  else
    local batch = {}
    local function flush()
      assert(sobot:call("orders/add", { order_list = batch }))
      count = count + #batch
      batch = {}
    end
    for order, err in shoplus:each("Order.list", { limit = 100 }) do
      assert(order, err)
      batch[#batch + 1] = assert(map(order))
      if #batch == 100 then flush() end
    end
    if #batch > 0 then flush() end
  end
  local seconds = (core_clock.monotonic_ms() - t0) / 1000
  local status = assert(io.open("/proc/self/status")):read("*a")
  print(string.format("orders=%d seconds=%.3f rss_kb=%s", count, seconds, status:match("VmHWM:%s*(%d+)")))
  assert(count == n, "moved " .. count .. " of " .. n)
end

if arg and arg[1] == "job" then
  run_job(arg[2], tonumber(arg[3]), arg[4], arg[5], arg[6])
  return
end

local nginx = require "support.nginx"
local http = require "socket.http"
local root = assert(io.popen("pwd")):read("*l")
local tmp = assert(io.popen("mktemp -d /tmp/mallapi-benchsync.XXXXXX")):read("*l")
local f = assert(io.open(tmp .. "/bench_sync_server.lua", "w"))
f:write(SERVER)
f:close()
local srv = nginx.start{ ports = 2, http = [[
  lua_shared_dict bench 16m;
  client_body_buffer_size 4m;
  client_max_body_size 16m;
  init_by_lua_file ]] .. tmp .. [[/bench_sync_server.lua;
  access_log off;
  server { listen 127.0.0.1:$PORT1; location / { content_by_lua_block { bench_server.shoplus() } } }
  server { listen 127.0.0.1:$PORT2; location / { content_by_lua_block { bench_server.sobot() } } }
]] }
os.execute("for p in $(pgrep -P " .. srv.pid .. ") " .. srv.pid .. "; do taskset -p -c 1 $p >/dev/null 2>&1; done")
local shoplus_url = "http://127.0.0.1:" .. srv.ports[1] .. "/open-api"
local sobot_url = "http://127.0.0.1:" .. srv.ports[2]

local ok, err = pcall(function()
  local results = {}
  for _, case in ipairs({ { "peer", 10000 }, { "runner", 10000 }, { "runner", 50000 } }) do
    local mode, n = case[1], case[2]
    local dir = tmp .. "/" .. mode .. n
    os.execute("mkdir -p " .. dir)
    -- tell the server how many orders exist, and clear its counters
    assert(http.request("http://127.0.0.1:" .. srv.ports[1] .. "/_reset?n=" .. n))
    local cmd = string.format("LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/?.lua;;' "
      .. "LUA_CPATH='%s/build/5.4/?.so;;' lua5.4 bench/sync.lua job %s %d '%s' '%s' '%s'",
      root, root, root, root, mode, n, shoplus_url, sobot_url, dir)
    local p = assert(io.popen(cmd .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    local orders, seconds, rss = out:match("orders=(%d+) seconds=([%d.]+) rss_kb=(%d+)")
    assert(orders, out)
    local counts = assert(http.request("http://127.0.0.1:" .. srv.ports[1] .. "/_counts")):gsub("%s+$", "")
    results[#results + 1] = { mode = mode, n = n, rate = tonumber(orders) / tonumber(seconds), rss = tonumber(rss),
      counts = counts }
  end
  local peer, r10, r50 = results[1], results[2], results[3]
  for _, r in ipairs(results) do
    print(string.format("%-7s %6d orders  %8.0f orders/s  peak RSS %6d kB   sobot received: %s", r.mode, r.n, r.rate,
      r.rss, r.counts))
  end
  print(string.format("runner vs hand-written peer at 10k: %.2f of its speed", r10.rate / peer.rate))
  print(string.format("peak RSS 50k / 10k: %.2f (target <= 1.2)", r50.rss / r10.rss))
end)
srv:stop()
os.execute("rm -rf '" .. tmp .. "'")
if not ok then error(err) end
