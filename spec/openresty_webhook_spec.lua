-- The webhook receiver of examples/openresty/nginx.conf in a real nginx, against the
-- vendor sandbox: Shoplus deliveries signed by the sandbox's own signer (not mallapi's),
-- mapped orders arriving at the Sobot sandbox with 64-bit ids exact, refusals that
-- change nothing, duplicates processed once, and events queued while Sobot fails
-- arriving after it recovers. Loops wait on counters, bounded in count; no durations.
local nginx = require "support.nginx"
local socket = require "socket"
local http = require "socket.http"
local helpers = require "support.webhook_helpers"
local ltn12 = require "ltn12"

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local missing
for _, module in ipairs { "mallapi.webhook", "mallapi.client", "mallapi.map", "mallapi.http" } do
  if not package.searchpath(module, package.path) then missing = module end
end
if not exists("sandbox/lua/sandbox/launch.lua") then missing = "sandbox/lua/sandbox/launch.lua" end

local read_file = require("support.files").read

local function post(url, body, headers)
  local out = {}
  headers = headers or {}
  headers["Content-Length"] = tostring(#body)
  local _, status = http.request{ url = url, method = "POST", source = ltn12.source.string(body),
                                  headers = headers, sink = ltn12.sink.table(out) }
  return status, table.concat(out)
end

local get = helpers.get

-- The Shoplus order webhook body of the vendor document (002, "订单webhook"), as raw JSON
-- text so that the 64-bit ids stay as written.
local ORDER = [[{"billingAddress":{"address1":"广州","address2":"sd","city":"guangzhou","country":"China",
"countryCode":"CN","firstName":"chen","lastName":"dandan","phone":"22222","province":"Guangdong",
"provinceCode":"CN-GD","zip":"00000"},"buyerAcceptsMarketing":true,"clientDetail":{"browserIp":"172.17.48.0"},
"clientId":"531106138222886912","createTime":1616488739000,"currency":"USD","customer":{"acceptsMarketing":true,
"email":"czj1@cc.com"},"discounts":[],"discountsAmount":0,"email":"czj1@cc.com","gateway":"Stripe",
"id":ORDER_ID,"itemsAmount":16.05,"number":1,"orderItems":[{"createTime":1606877585000,
"financialStatus":"Pending","fulfillmentStatus":"Shipped","id":531464955276181500,"payAmount":16.05,
"productId":PRODUCT_ID,"quantity":1,"saleAmount":16.05,"skuCode":"100003875459","title":"badge canvas shoulder bag",
"totalDiscount":0,"updateTime":1616503500000,"variantId":37,"variantOptionValue":"134465 White",
"variantPrice":16.05,"vendor":"dsp-buy"}],"orderNo":"ORDER_NO","orderShipping":{"payShipAmount":0,
"shipAmount":0,"shippingId":71,"shippingTitle":"Free"},"payItemAmount":16.05,"payTime":1606877591000,
"payTotalAmount":16.05,"payment":{"creditCardCompany":"Stripe"},"phone":"22222","shippingAddress":{
"address1":"广州","address2":"sd","city":"guangzhou","country":"China","countryCode":"CN","firstName":"chen",
"lastName":"dandan","phone":"22222","province":"Guangdong","provinceCode":"CN-GD","zip":"00000"},"shopId":0,
"sourceName":"test","status":1,"test":false,"token":"ffbb0ff8-ee54-4cfa-8601-838214748cae","totalWeight":0,
"updateTime":1622098157000,"sign":""}]]

local function order(id, order_no, product_id)
  return (ORDER:gsub("\n", ""):gsub("ORDER_ID", id):gsub("ORDER_NO", order_no):gsub("PRODUCT_ID", product_id))
end

describe("openresty webhook receiver", function()
  if missing then
    it("needs " .. missing, function() pending("not merged yet: " .. missing) end)
    return
  end

  local launch, sb, srv, hook, hook_file, secret
  local max_body = 1024 * 1024

  setup(function()
    package.path = "sandbox/lua/?.lua;" .. package.path
    launch = require "sandbox.launch"
    sb = launch.start{ workers = 1 }
    secret = "shoplus-webhook-secret-7f3a"
    local conf = read_file("examples/openresty/nginx.conf")
    local block = assert(conf:match("# %-%-%- mallapi: begin %-%-%-\n(.-)  # %-%-%- mallapi: end %-%-%-"))
    block = block:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:$PORT1;")
    local cred = sb.credentials.sobot
    srv = nginx.start{ ports = 3, main = table.concat({
      "env SHOPLUS_WEBHOOK_SECRET=" .. secret .. ";", "env SOBOT_APPID=" .. cred.appid .. ";",
      "env SOBOT_APP_KEY=" .. cred.app_key .. ";", "env SOBOT_BASE_URL=" .. sb.urls.sobot .. ";",
      "env SOBOT_STORE_ID=store-1;", "env WEBHOOK_BASE_DELAY=0.1;", "env WEBHOOK_MAX_DELAY=0.5;",
      "env WEBHOOK_CLAIM=2;" }, "\n"),
      http = block .. [[
        lua_shared_dict gateway 1m;
        lua_shared_dict tiny 64k;
        lua_shared_dict small_seen_q 1m;
        server {
          listen 127.0.0.1:$PORT3;
          location = /tiny { content_by_lua_block { require("support.openresty_app").tiny_serve() } }
          location = /tiny_stats { content_by_lua_block { require("support.openresty_app").tiny_stats() } }
          location = /tiny_block {
            content_by_lua_block { ngx.shared.gateway:set("tiny_block", ngx.var.arg_on == "1" or nil) }
          }
          location = /call { content_by_lua_block { require("support.openresty_app").client_call() } }
          location = /health { content_by_lua_block { require("support.openresty_app").health() } }
          location = /seen_keys {     # how many "seen:" keys the queue's dict holds, and the seen file
            content_by_lua_block {
              local n = 0
              for _, key in ipairs(ngx.shared.mallapi_webhooks:get_keys(0)) do
                if key:sub(1, 5) == "seen:" then n = n + 1 end
              end
              ngx.print("mallapi_webhooks=", n, "\nseen_file=", ngx.config.prefix() .. "webhook-ids.seen")
            }
          }
          location = /dict_dedup {    # a receiver whose seen ids live in a lua_shared_dict
            content_by_lua_block {
              local webhook = require "mallapi.ngx.webhook"
              if not webhook.receivers.dict_dedup then
                webhook.new{ name = "dict_dedup", vendor = "shoplus",
                             secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"), dict = "gateway",
                             seen_dict = "gateway", handle = function() return true end }
              end
              webhook.serve("dict_dedup")
            }
          }
          location = /small_seen {    # a receiver whose seen file holds 48 live ids (capacity 64)
            content_by_lua_block {
              local webhook = require "mallapi.ngx.webhook"
              if not webhook.receivers.small_seen then
                webhook.new{ name = "small_seen", vendor = "shoplus",
                             secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"), dict = "small_seen_q",
                             seen_file = ngx.config.prefix() .. "rw/small.seen", seen_capacity = 64,
                             handle = function() return true end }
              end
              if ngx.var.arg_stats then ngx.print(webhook.receivers.small_seen:stats().queued) return end
              webhook.serve("small_seen")
            }
          }
          location = /dict_seen {
            content_by_lua_block { ngx.print(tostring(ngx.shared.gateway:get("seen:" .. ngx.var.arg_id))) }
          }
          location = /bad_seen_file {
            content_by_lua_block {
              local ok, err = pcall(require("mallapi.ngx.webhook").new, { vendor = "shoplus", secret = "s",
                dict = "gateway", seen_file = ngx.var.arg_path, handle = function() return true end })
              ngx.print(ok and "accepted" or err)
            }
          }
          location = /bad_seen_dict {
            content_by_lua_block {
              local ok, err = pcall(require("mallapi.ngx.webhook").new, { vendor = "shoplus", secret = "s",
                dict = "gateway", seen_dict = ngx.var.arg_name, handle = function() return true end })
              ngx.print(ok and "accepted" or err)
            }
          }
        }
        server {                      # the same receiver, bodies always buffered to a file
          listen 127.0.0.1:$PORT2;
          client_body_in_file_only clean;
          location = /webhooks/shoplus { content_by_lua_block { require("mallapi.ngx.webhook").serve("shoplus") } }
        }
      ]] }
    -- workers of a root master run as nobody: let them reach the body temp directory
    os.execute("chmod 755 '" .. srv.prefix .. "'")
    hook = "http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/shoplus"
    hook_file = "http://127.0.0.1:" .. srv.ports[2] .. "/webhooks/shoplus"
  end)

  teardown(function()
    if srv then srv:stop() end
    if sb then sb:stop() end
  end)

  local function stats()
    local text = get("http://127.0.0.1:" .. srv.ports[1] .. "/webhooks/stats") or ""
    local s = {}
    for name, n in text:gmatch("(%a+)=(%d+)") do s[name] = tonumber(n) end
    return s
  end

  local function sobot_orders() return helpers.sobot_orders(sb) end

  local wait_for = helpers.wait_for

  local function parse(text)
    local out = {}
    for name, value in (text or ""):gmatch("([%w_.]+)=([^\n]*)") do out[name] = value end
    return out
  end

  it("one worker answers /health while vendor calls through mallapi.client wait on the sandbox", function()
    local gw = "http://127.0.0.1:" .. srv.ports[3]
    assert.equal("data", parse(get(gw .. "/call")).body)   -- token fetched, nothing slow yet
    sb:knob("sobot", "latency_ms", 1000)
    local ok, err = pcall(function()
      local calls = {}
      for i = 1, 4 do
        local c = assert(socket.tcp())
        c:settimeout(10)
        assert(c:connect("127.0.0.1", srv.ports[3]))
        assert(c:send("GET /call HTTP/1.0\r\nHost: x\r\n\r\n"))
        calls[i] = c
      end
      local in_flight
      for _ = 1, 200 do
        in_flight = tonumber(parse(get(gw .. "/health")).in_flight)
        if in_flight == 4 then break end
        socket.sleep(0.005)
      end
      assert.equal(4, in_flight)
      local health = {}
      for i = 1, 10 do health[i] = tonumber(parse(get(gw .. "/health")).seq) end
      local ends = {}
      for i, c in ipairs(calls) do
        local r = parse(c:receive("*a"):match("\r\n\r\n(.*)$"))
        c:close()
        assert.equal("data", r.body)
        assert.equal("mallapi.ngx.http.Session (open)", r.transport)
        ends[i] = tonumber(r.seq)
      end
      table.sort(health)
      table.sort(ends)
      assert.is_true(health[#health] < ends[1], table.concat(health, ",") .. " / " .. table.concat(ends, ","))
    end)
    sb:knob("sobot", "latency_ms", nil)
    assert(ok, err)
  end)

  it("a full queue answers 503 without evicting anything; all it accepted is handled later", function()
    local gw = "http://127.0.0.1:" .. srv.ports[3]
    get(gw .. "/tiny_block?on=1")
    local accepted, refused_raw, refused_body = 0, nil, nil
    for i = 1, 300 do                                    -- bounded: the 64 KiB dict fills far earlier
      local raw = order(string.format("5314649554187%05d", i), "Q-" .. i, "1")
      raw = raw:gsub('"sign":""', '"sign":"' .. launch.shoplus_webhook_sign(raw, secret) .. '"')
      local status, body = post(gw .. "/tiny", raw, { ["WebHook-Event"] = "order_create" })
      if status == 200 then
        accepted = accepted + 1
      else
        assert.equal(503, status)
        refused_raw, refused_body = raw, body
        break
      end
    end
    assert.is_true(accepted > 0)
    assert.is_string(refused_body, "no 503 after " .. accepted .. " events")
    assert.matches('"code":"QUEUE"', refused_body)
    get(gw .. "/tiny_block?on=0")
    local s = wait_for(function()
      local t = parse(get(gw .. "/tiny_stats"))
      return t.handled == tostring(accepted) and t.queued == "0" and t
    end)
    assert.is_table(s, "accepted " .. accepted .. ", now " .. get(gw .. "/tiny_stats"))
    assert.equal(tostring(accepted), s.done)
    assert.equal("0", s.dead)
    -- the refused delivery was not remembered as seen: sent again, it is taken
    local status, body = post(gw .. "/tiny", refused_raw, { ["WebHook-Event"] = "order_create" })
    assert.equal(200, status)
    assert.matches('"code":"OK"', body)
  end)

  it("a valid order event is accepted and arrives at Sobot mapped, 64-bit ids exact", function()
    local status, body = sb:send_webhook(hook, "order_create", order("531464955418787840", "5202012027521001",
                                                                     "9007199254740993"), secret)
    assert.equal(200, status)
    assert.matches('"code":"OK"', body)
    local got = wait_for(function() return sobot_orders()["531464955418787840"] end)
    assert.is_table(got)
    assert.equal("5202012027521001", tostring(got.order_no))
    assert.equal("store-1", tostring(got.store_id))
    assert.equal("9007199254740993", tostring(got.order_item_list[1].item_id))
    assert.equal("1605", tostring(got.actual_amount))
  end)

  it("reads a body that nginx buffered to a file", function()
    local status = sb:send_webhook(hook_file, "order_create", order("531464955418787841", "F-1", "7"), secret)
    assert.equal(200, status)
    assert.is_table(wait_for(function() return sobot_orders()["531464955418787841"] end))
  end)

  it("the same event posted twice is processed once", function()
    local before = wait_for(function() local s = stats(); return s.queued == 0 and s end)
    local raw = order("531464955418787842", "D-1", "8")
    local s1, b1 = sb:send_webhook(hook, "order_update", raw, secret)
    local s2, b2 = sb:send_webhook(hook, "order_update", raw, secret)
    assert.equal(200, s1)
    assert.matches('"code":"OK"', b1)
    assert.equal(200, s2)
    assert.matches('"code":"DUPLICATE"', b2)
    local after = wait_for(function() local s = stats(); return s.queued == 0 and s.done > before.done and s end)
    assert.equal(before.done + 1, after.done)
    assert.is_table(sobot_orders()["531464955418787842"])
  end)

  it("after nginx -s reload (HUP) a repeat is still a duplicate and new events are taken", function()
    local raw = order("531464955418787846", "H-1", "8")
    assert.equal(200, (sb:send_webhook(hook, "order_update", raw, secret)))
    local function workers()
      local p = assert(io.popen("pgrep -P " .. srv.pid))
      local pids = {}
      for pid in p:lines() do pids[#pids + 1] = pid end
      p:close()
      return pids
    end
    local old = workers()
    assert.equal(1, #old)
    os.execute("kill -HUP " .. srv.pid)
    -- the new worker (as `nobody`, from the master's new Lua state) answers alone
    assert.is_truthy(wait_for(function() local now = workers(); return #now == 1 and now[1] ~= old[1] end))
    local status, body = sb:send_webhook(hook, "order_update", raw, secret)
    assert.equal(200, status)
    assert.matches('"code":"DUPLICATE"', body)
    status, body = sb:send_webhook(hook, "order_update", order("531464955418787847", "H-2", "8"), secret)
    assert.equal(200, status)
    assert.matches('"code":"OK"', body)
    assert.is_table(wait_for(function() return sobot_orders()["531464955418787847"] end))
  end)

  it("seen ids live in the mapped seen file that the workers share, not in the queue's dict", function()
    local raw = order("531464955418787843", "D-2", "8")
    local key = "531464955418787843:1622098157000"
    local where = parse(get("http://127.0.0.1:" .. srv.ports[3] .. "/seen_keys"))
    -- this process opens the file nginx's workers use: the same keys, seen from outside
    local set = assert(require("mallapi.core").seen.open(where.seen_file))
    assert.is_false(set:has(key))
    assert.equal(200, (sb:send_webhook(hook, "order_update", raw, secret)))
    assert.is_true(set:has(key))
    assert.equal("0", parse(get("http://127.0.0.1:" .. srv.ports[3] .. "/seen_keys")).mallapi_webhooks)
    -- a key this process adds is a duplicate for nginx
    local raw2 = order("531464955418787844", "D-3", "8")
    assert.is_true(set:add("531464955418787844:1622098157000", 60))
    local status, body = sb:send_webhook(hook, "order_update", raw2, secret)
    assert.equal(200, status)
    assert.matches('"code":"DUPLICATE"', body)
    set:close()
  end)

  it("with seen_dict the seen ids live in that lua_shared_dict", function()
    local url = "http://127.0.0.1:" .. srv.ports[3]
    local raw = order("531464955418787845", "D-4", "8")
    local s1, b1 = sb:send_webhook(url .. "/dict_dedup", "order_update", raw, secret)
    local s2, b2 = sb:send_webhook(url .. "/dict_dedup", "order_update", raw, secret)
    assert.equal(200, s1)
    assert.matches('"code":"OK"', b1)
    assert.equal(200, s2)
    assert.matches('"code":"DUPLICATE"', b2)
    assert.equal("true", get(url .. "/dict_seen?id=531464955418787845:1622098157000"))
  end)

  it("a full seen file still queues the event (logged), so no delivery is refused or lost", function()
    local url = "http://127.0.0.1:" .. srv.ports[3] .. "/small_seen"
    -- the worker (nobody) opens this one itself: a directory it may write in
    assert(os.execute("mkdir -m 777 '" .. srv.prefix .. "/rw'"))
    for i = 1, 48 do
      local status = sb:send_webhook(url, "order_create", order("5314649554188" .. (10000 + i), "S-" .. i, "1"), secret)
      assert.equal(200, status, "event " .. i)
    end
    local refused = order("531464955418899999", "S-49", "1")
    local status, body = sb:send_webhook(url, "order_create", refused, secret)
    assert.equal(200, status)                                 -- before issue 13: 503, the event waited
    assert.matches('"code":"OK"', body)
    assert.equal("49", get(url .. "?stats=1"))                -- queued all the same
    assert.matches("queued but not marked seen", srv:log("error.log"))
    local set = assert(require("mallapi.core").seen.open(srv.prefix .. "/rw/small.seen"))
    assert.is_false(set:has("531464955418899999:1622098157000"))
    assert.is_true(set:has("531464955418810001:1622098157000"))
    set:close()
  end)

  it("a seen_file that cannot be opened is refused with the reason", function()
    assert.equal("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'seen_file': seen set "
      .. "/nonexistent/dir/ids.seen: open: "
                 .. "No such file or directory)",
                 get("http://127.0.0.1:" .. srv.ports[3] .. "/bad_seen_file?path=/nonexistent/dir/ids.seen"))
  end)

  it("a seen_dict that is not a lua_shared_dict is refused", function()
    for _, name in ipairs { "nope", "gateway2" } do
      assert.equal("bad argument #1 to 'mallapi.ngx.webhook.new' (option 'seen_dict': name of a lua_shared_dict "
        .. "expected, got "
                   .. name .. ")", get("http://127.0.0.1:" .. srv.ports[3] .. "/bad_seen_dict?name=" .. name))
    end
  end)

  -- name, how the post is made, status, code in the answer
  local refusals = {
    { "tampered", function()
        local signed = order("531464955418787850", "T-1", "1")
        local sign = launch.shoplus_webhook_sign(signed, secret)
        signed = signed:gsub('"sign":""', '"sign":"' .. sign .. '"')
                       :gsub('"payTotalAmount":16.05', '"payTotalAmount":1.05')
        return post(hook, signed, { ["Content-Type"] = "application/json", ["WebHook-Event"] = "order_create" })
      end, 401, "SIGNATURE" },
    { "signed with another secret", function()
        return sb:send_webhook(hook, "order_create", order("531464955418787851", "T-2", "1"), "not-the-secret")
      end, 401, "SIGNATURE" },
    { "unsigned", function()
        return post(hook, order("531464955418787852", "T-3", "1"),
                    { ["Content-Type"] = "application/json", ["WebHook-Event"] = "order_create" })
      end, 401, "SIGNATURE" },
    { "oversized", function()
        local big = order("531464955418787853", "T-4", "1"):gsub('"sourceName":"test"',
                                                                 '"sourceName":"' .. string.rep("x", max_body) .. '"')
        return sb:send_webhook(hook, "order_create", big, secret)
      end, 413, "TOO_LARGE" },
    { "malformed", function()
        return post(hook, '{"id":531464955418787854,"orderNo":', { ["WebHook-Event"] = "order_create" })
      end, 400, "BAD_BODY" },
    { "without WebHook-Event", function()
        local raw = order("531464955418787855", "T-6", "1")
        raw = raw:gsub('"sign":""', '"sign":"' .. launch.shoplus_webhook_sign(raw, secret) .. '"')
        return post(hook, raw, { ["Content-Type"] = "application/json" })
      end, 400, "BAD_BODY" },
  }
  for _, case in ipairs(refusals) do
    it("a " .. case[1] .. " post gets " .. case[3] .. " and changes nothing", function()
      local before = wait_for(function() local s = stats(); return s.queued == 0 and s end)
      local orders_before = #sb:dump("sobot", "orders")
      local status, body = case[2]()
      assert.equal(case[3], status)
      assert.matches('"code":"' .. case[4] .. '"', body)
      assert.same(before, stats())
      assert.equal(orders_before, #sb:dump("sobot", "orders"))
    end)
  end

  it("events queued while Sobot fails arrive after it recovers", function()
    local before = wait_for(function() local s = stats(); return s.queued == 0 and s end)
    sb:knob("sobot", "error_rate", 1)                  -- every business call answers HTTP 500
    local ids = { "531464955418787860", "531464955418787861", "531464955418787862" }
    for i, id in ipairs(ids) do
      assert.equal(200, (sb:send_webhook(hook, "order_create", order(id, "R-" .. i, tostring(100 + i)), secret)))
    end
    local failing = wait_for(function() local s = stats(); return s.retries >= before.retries + 6 and s end)
    assert.is_table(failing)                           -- each event failed at least twice
    assert.equal(before.done, failing.done)
    local orders = sobot_orders()
    for _, id in ipairs(ids) do assert.is_nil(orders[id]) end
    sb:knob("sobot", "error_rate", nil)
    local after = wait_for(function() local s = stats(); return s.done == before.done + 3 and s.queued == 0 and s end)
    assert.is_table(after)
    assert.equal(0, after.dead)
    orders = sobot_orders()
    for i, id in ipairs(ids) do
      assert.equal("R-" .. i, tostring(orders[id].order_no))
      assert.equal(tostring(100 + i), tostring(orders[id].order_item_list[1].item_id))
    end
  end)

  it("an event whose worker is killed while pushing it is pushed again by the next worker", function()
    local before = wait_for(function() local s = stats(); return s.queued == 0 and s end)
    sb:knob("sobot", "latency_ms", 1500)
    local ok, err = pcall(function()
      assert.equal(200, (sb:send_webhook(hook, "order_create", order("531464955418787870", "K-1", "70"), secret)))
      assert.is_table(wait_for(function() local s = stats(); return s.queued == 0 and s end))  -- taken, in flight
      local p = assert(io.popen("pgrep -P " .. srv.pid))                -- the one worker of our nginx
      local worker = assert(tonumber(p:read("*l")))
      p:close()
      os.execute("kill -9 " .. worker)
    end)
    sb:knob("sobot", "latency_ms", nil)
    assert(ok, err)
    local after = wait_for(function() local s = stats(); return s.done == before.done + 1 and s end)
    assert.is_table(after)
    assert.equal("K-1", tostring(sobot_orders()["531464955418787870"].order_no))
  end)
end)
