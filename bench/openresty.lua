-- bench/openresty.lua (run by bench/openresty.sh): wrk (1 thread, 16 connections, 2 s,
-- core 1) against the webhook receiver of examples/openresty/nginx.conf in a 1-worker
-- nginx (core 0) with valid signed Shoplus order events (each a different order, so
-- none is dropped as a duplicate), next to the same nginx answering a static 200 after
-- reading the same bodies. The queue's handle is a no-op here: the background timer
-- still drains the queue on the same core, but no vendor is called.
local nginx = require "support.nginx"
local json = require "sandbox.json"
local digest = require "openssl.digest"

local SECRET = "bench-webhook-secret"
local BODIES = tonumber(os.getenv("BENCH_BODIES")) or 150000   -- more than one run sends
local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 2

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

local function wrk(url, bodies)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
local bodies, i = {}, 0
for line in io.lines(%q) do bodies[#bodies + 1] = line end
local headers = { ["Content-Type"] = "application/json", ["WebHook-Event"] = "order_create" }
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end
]], bodies))
  f:close()
  local p = assert(io.popen(string.format("taskset -c 1 wrk -t1 -c16 -d%ds -s %s '%s' 2>&1", SECONDS, script, url)))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  assert(not out:match("Non%-2xx or 3xx responses: (%d+)"), "wrk saw errors: " .. out)
  return assert(tonumber(out:match("Requests/sec:%s+([%d%.]+)")), out), tonumber(out:match("(%d+) requests in"))
end

local conf = assert(io.open("examples/openresty/nginx.conf")):read("*a")
local block = assert(conf:match("# %-%-%- mallapi: begin %-%-%-\n(.-)  # %-%-%- mallapi: end %-%-%-"))
block = block:gsub("listen 8080;", "listen 127.0.0.1:$PORT;")
   :gsub("lua_shared_dict mallapi_webhooks 16m;", "lua_shared_dict mallapi_webhooks 384m;")
   -- a no-op handle: measure receiving, not a vendor
   :gsub("handle = webhook%.shoplus_order_to_sobot%(sobot, [^\n]*\n", "handle = function() return true end,\n")
if os.getenv("BENCH_NO_DRAIN") then   -- analysis only: the timer does not drain during the run
  block = block:gsub("claim = tonumber", "poll = 3600, claim = tonumber")
end
local srv = nginx.start{
  main = "env SHOPLUS_WEBHOOK_SECRET=" .. SECRET .. ";\nenv SOBOT_APPID=bench;\nenv SOBOT_APP_KEY=bench;",
  http = block .. [[
    server {
      listen 127.0.0.1:$PORT2;
      location = /static { content_by_lua_block { ngx.req.read_body() ngx.print('{"code":"OK","msg":"queued"}') } }
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
  local ours, sent = wrk("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/shoplus", bodies)
  local stats = require("socket.http").request("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/stats") or ""
  local peer = wrk("http://127.0.0.1:" .. srv.ports[2] .. "/static", bodies)
  local verify_only = wrk("http://127.0.0.1:" .. srv.ports[2] .. "/verify", bodies)
  print(string.format("%-44s %10s   %-30s %10s   %s", "case", "mallapi", "peer", "peer", "ratio"))
  print(string.format("%-44s %8.0f/s   %-30s %8.0f/s   %.2f", "webhook: verify, dedup, queue (1 worker)", ours,
                      "static 200, body read", peer, ours / peer))
  print(string.format("%-44s %8.0f/s   %-30s %8.0f/s   %.2f", "  breakdown: webhook.verify alone", verify_only,
                      "static 200, body read", peer, verify_only / peer))
  print(string.format("(%d requests, %d distinct events; queue after the run: %s)", sent or 0,
                      math.min(sent or 0, BODIES), (stats:gsub("\n", ""))))
end)
srv:stop()
assert(ok, err)
