-- The webhook receiver with its queue and seen ids in Redis (`redis = {...}`), in real
-- nginx against the vendor sandbox and a private redis-server: events arrive at Sobot
-- mapped; a repeat is processed once, also when it reaches another nginx on the same
-- Redis; events retried while Sobot fails arrive after it recovers; events queued when
-- nginx stops are delivered by the next nginx; a worker killed while pushing leaves a
-- claim that is pushed again; an unreachable Redis answers 503. Loops wait on counters,
-- bounded in count; no durations.
local nginx = require "support.nginx"
local redis_server = require "support.redis_server"
local procs = require "support.procs"
local helpers = require "support.webhook_helpers"

local get = helpers.get

local order = helpers.order

describe("openresty webhook receiver on Redis", function()
  local launch, sb, rd, secret, servers = nil, nil, nil, "shoplus-redis-secret-91c2", {}
  local store                                          -- the spec's own view of Redis

  -- an nginx whose receiver keeps its queue and seen ids in our Redis under "hook:"
  local function start_nginx(workers)
    local cred = sb.credentials.sobot
    local srv = nginx.start{ ports = 1, workers = workers or 1, main = table.concat({
      "env SHOPLUS_WEBHOOK_SECRET=" .. secret .. ";", "env SOBOT_APPID=" .. cred.appid .. ";",
      "env SOBOT_APP_KEY=" .. cred.app_key .. ";", "env SOBOT_BASE_URL=" .. sb.urls.sobot .. ";",
      "env REDIS_PORT=" .. rd.port .. ";", "env REDIS_PASSWORD=" .. rd.password .. ";",
      "env DEAD_REDIS_PORT=" .. procs.free_port() .. ";" }, "\n"),
      http = [[
        lua_shared_dict tokens 1m;
        init_worker_by_lua_block {
          local mallapi = require "mallapi"
          local webhook = require "mallapi.ngx.webhook"
          local sobot = mallapi.client("sobot", { appid = os.getenv("SOBOT_APPID"),
            app_key = os.getenv("SOBOT_APP_KEY"),
            base_url = os.getenv("SOBOT_BASE_URL"), token_store = mallapi.store.shdict("tokens"), timeout = 10 })
          assert(webhook.new{ vendor = "shoplus", secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"),
            redis = { host = "127.0.0.1", port = tonumber(os.getenv("REDIS_PORT")),
                      password = os.getenv("REDIS_PASSWORD"), prefix = "hook:" },
            base_delay = 0.1, max_delay = 0.5, claim = 2, poll = 0.05,
            handle = require("shoplus_to_sobot")(sobot, { store_id = "store-r" }) }:start())
          webhook.new{ name = "dead_redis", vendor = "shoplus", secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"),
            redis = { port = tonumber(os.getenv("DEAD_REDIS_PORT")), timeout = 500 },
            handle = function() return true end }
        }
        server {
          listen 127.0.0.1:$PORT;
          location = /webhooks/shoplus { content_by_lua_block { require("mallapi.ngx.webhook").serve("shoplus") } }
          location = /dead_redis { content_by_lua_block { require("mallapi.ngx.webhook").serve("dead_redis") } }
          location = /stats {
            content_by_lua_block {
              local s, err = require("mallapi.ngx.webhook").receivers[ngx.var.arg_name or "shoplus"]:stats()
              if not s then ngx.print("error=", err) return end
              ngx.print(string.format("queued=%d done=%d retries=%d dead=%d", s.queued, s.done, s.retries, s.dead))
            }
          }
        }
      ]] }
    os.execute("chmod 755 '" .. srv.prefix .. "'")    -- workers of a root master run as nobody
    servers[#servers + 1] = srv
    return srv, "http://127.0.0.1:" .. srv.port .. "/webhooks/shoplus"
  end

  setup(function()
    package.path = "sandbox/lua/?.lua;" .. package.path
    launch = require "sandbox.launch"
    sb = launch.start{ workers = 1 }
    rd = redis_server.start()
    store = require("mallapi.store.redis").new{ port = rd.port, password = rd.password, prefix = "" }
  end)

  teardown(function()
    for _, srv in ipairs(servers) do srv:stop() end
    if store then store:close() end
    if rd then rd:stop() end
    if sb then sb:stop() end
  end)

  local function stats(srv, name)
    local text = get("http://127.0.0.1:" .. srv.port .. "/stats" .. (name and "?name=" .. name or "")) or ""
    local s = { text = text }
    for k, n in text:gmatch("(%a+)=(%d+)") do s[k] = tonumber(n) end
    return s
  end

  local function sobot_orders() return helpers.sobot_orders(sb) end

  local wait_for = helpers.wait_for

  it("queues in Redis: the event arrives at Sobot mapped, a repeat is processed once", function()
    local srv, hook = start_nginx(2)
    local raw = order("531464955418787900", "RD-1", "9007199254740993")
    local s1, b1 = sb:send_webhook(hook, "order_create", raw, secret)
    local s2, b2 = sb:send_webhook(hook, "order_create", raw, secret)
    assert.equal(200, s1)
    assert.matches('"code":"OK"', b1)
    assert.equal(200, s2)
    assert.matches('"code":"DUPLICATE"', b2)
    local got = wait_for(function() return sobot_orders()["531464955418787900"] end)
    assert.is_table(got)
    assert.equal("RD-1", tostring(got.order_no))
    assert.equal("9007199254740993", tostring(got.order_item_list[1].item_id))
    local s = wait_for(function() local t = stats(srv); return t.done == 1 and t.queued == 0 and t end)
    assert.is_table(s)
    -- what Redis holds: the seen id (with its lifetime), an empty queue and no claim
    assert.equal(1, store:command("EXISTS", "hook:seen:531464955418787900:1622098157000"))
    assert.is_true(store:command("TTL", "hook:seen:531464955418787900:1622098157000") > 6 * 86400)
    assert.equal(0, store:command("LLEN", "hook:q"))
    assert.equal(0, store:command("ZCARD", "hook:claimed"))
    srv:stop()
  end)

  it("a repeat that reaches another nginx on the same Redis is a duplicate too", function()
    local a, hook_a = start_nginx(1)
    local b, hook_b = start_nginx(1)
    local before = stats(a).done
    local raw = order("531464955418787901", "RD-2", "5")
    assert.equal(200, (sb:send_webhook(hook_a, "order_create", raw, secret)))
    local status, body = sb:send_webhook(hook_b, "order_create", raw, secret)
    assert.equal(200, status)
    assert.matches('"code":"DUPLICATE"', body)
    assert.is_table(wait_for(function() local t = stats(b); return t.done == before + 1 and t.queued == 0 and t end),
                    before .. " / " .. stats(b).text)
    assert.is_table(sobot_orders()["531464955418787901"])
    a:stop()
    b:stop()
  end)

  it("events retried while Sobot fails arrive after it recovers", function()
    local srv, hook = start_nginx(1)
    local before = wait_for(function() local t = stats(srv); return t.queued == 0 and t end)
    assert.is_table(before, stats(srv).text)
    sb:knob("sobot", "error_rate", 1)
    local ids = { "531464955418787910", "531464955418787911" }
    for i, id in ipairs(ids) do
      assert.equal(200, (sb:send_webhook(hook, "order_create", order(id, "RR-" .. i, "1" .. i), secret)))
    end
    local failing = wait_for(function() local t = stats(srv); return t.retries >= before.retries + 4 and t end)
    sb:knob("sobot", "error_rate", nil)
    assert.is_table(failing)
    assert.equal(before.done, failing.done)
    local after = wait_for(function()
      local t = stats(srv)
      return t.done == before.done + 2 and t.queued == 0 and t
    end)
    assert.is_table(after)
    local orders = sobot_orders()
    for i, id in ipairs(ids) do assert.equal("RR-" .. i, tostring(orders[id].order_no)) end
    srv:stop()
  end)

  it("events queued when nginx stops are delivered by the next nginx on the same Redis", function()
    local first, hook = start_nginx(1)
    local before = wait_for(function() local t = stats(first); return t.queued == 0 and t end)
    assert.is_table(before, stats(first).text)
    sb:knob("sobot", "error_rate", 1)
    local ids = { "531464955418787920", "531464955418787921", "531464955418787922" }
    local ok, err = pcall(function()
      for i, id in ipairs(ids) do
        assert.equal(200, (sb:send_webhook(hook, "order_create", order(id, "RS-" .. i, "2" .. i), secret)))
      end
      assert.is_table(wait_for(function() local t = stats(first); return t.retries >= before.retries + 3 and t end))
      first:stop()                                     -- the events are in Redis only now
    end)
    sb:knob("sobot", "error_rate", nil)
    assert(ok, err)
    local orders = sobot_orders()
    for _, id in ipairs(ids) do assert.is_nil(orders[id]) end
    local second = start_nginx(1)
    local after = wait_for(function()
      local t = stats(second)
      return t.done == before.done + 3 and t.queued == 0 and t
    end)
    assert.is_table(after, stats(second).text)
    orders = sobot_orders()
    for i, id in ipairs(ids) do assert.equal("RS-" .. i, tostring(orders[id].order_no)) end
    assert.equal(0, store:command("ZCARD", "hook:claimed"))
    second:stop()
  end)

  it("an event whose worker is killed while pushing it is pushed again after its claim lapses", function()
    local srv, hook = start_nginx(1)
    local before = wait_for(function() local t = stats(srv); return t.queued == 0 and t end)
    assert.is_table(before, stats(srv).text)
    sb:knob("sobot", "latency_ms", 1500)
    local ok, err = pcall(function()
      assert.equal(200, (sb:send_webhook(hook, "order_create", order("531464955418787930", "RK-1", "30"), secret)))
      assert.is_truthy(wait_for(function() return store:command("ZCARD", "hook:claimed") == 1 end))   -- in flight
      local p = assert(io.popen("pgrep -P " .. srv.pid))
      local worker = assert(tonumber(p:read("*l")))
      p:close()
      os.execute("kill -9 " .. worker)
    end)
    sb:knob("sobot", "latency_ms", nil)
    assert(ok, err)
    local after = wait_for(function() local t = stats(srv); return t.done == before.done + 1 and t end)
    assert.is_table(after)
    assert.equal("RK-1", tostring(sobot_orders()["531464955418787930"].order_no))
    assert.equal(0, store:command("ZCARD", "hook:claimed"))
    srv:stop()
  end)

  it("an order Sobot cannot take (no shipping address) is kept as dead, not retried", function()
    local srv, hook = start_nginx(1)
    local before = wait_for(function() local t = stats(srv); return t.queued == 0 and t end)
    assert.is_table(before, stats(srv).text)
    local raw = order("531464955418787950", "RD-X", "50"):gsub('"shippingAddress":%b{},', "")
    assert.equal(200, (sb:send_webhook(hook, "order_create", raw, secret)))
    local after = wait_for(function() local t = stats(srv); return t.dead == before.dead + 1 and t end)
    assert.is_table(after, stats(srv).text)
    assert.equal(before.retries, after.retries)
    assert.equal(before.done, after.done)
    local kept = store:command("HGET", "hook:dead", "531464955418787950:1622098157000")
    assert.matches('"orderNo":"RD%-X"', kept)
    assert.equal(0, store:command("ZCARD", "hook:claimed"))
    assert.is_nil(sobot_orders()["531464955418787950"])
    srv:stop()
  end)

  it("an unreachable Redis answers 503 and says so in the stats", function()
    local srv = start_nginx(1)
    local status, body = sb:send_webhook("http://127.0.0.1:" .. srv.port .. "/dead_redis", "order_create",
                                         order("531464955418787940", "RX-1", "40"), secret)
    assert.equal(503, status)
    assert.matches('"code":"QUEUE"', body)
    assert.matches("^error=store.redis: connect to 127.0.0.1:%d+: connection refused", stats(srv, "dead_redis").text)
    srv:stop()
  end)
end)
