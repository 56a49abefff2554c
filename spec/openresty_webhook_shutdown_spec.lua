-- The README's shutdown procedure under faults (issue 13, "Done when"): the webhook receiver
-- of examples/openresty/nginx.conf (2 workers, queue in a lua_shared_dict, seen ids in a
-- file) takes 2,000 Shoplus order events while the Sobot sandbox fails 20% of its calls; a
-- worker is SIGKILLed and nginx reloaded (HUP) mid-run; once /webhooks/stats shows queued=0
-- the spec runs `nginx -s quit`, starts nginx again on the same seen file, and the vendor
-- redelivers all 2,000. Every order must be at Sobot exactly once, and stats.done must count
-- every event. The same with the queue and seen ids in Redis (a private redis-server).
-- Each loop is bounded in count.
local nginx = require "support.nginx"
local procs = require "support.procs"
local socket = require "socket"
local helpers = require "support.webhook_helpers"
local redis_server = require "support.redis_server"

local EVENTS = 2000
local read_file = require("support.files").read

describe("openresty webhook receiver: the documented shutdown after a kill and a HUP", function()
  local launch, sb, dir, rd, secret = nil, nil, nil, nil, "shoplus-shutdown-secret-5e1b"
  local servers = {}

  -- the example's receiver; queue = "redis": its queue and seen ids in our Redis instead
  local function start_nginx(queue)
    local conf = read_file("examples/openresty/nginx.conf")
    local block = assert(conf:match("# %-%-%- mallapi: begin %-%-%-\n(.-)  # %-%-%- mallapi: end %-%-%-"))
    block = block:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:$PORT1;")
    if queue == "redis" then
      local n
      block, n = block:gsub('dict = "mallapi_webhooks", max_body = 1024 %* 1024,%s*seen_file = [^\n]*\n',
        'max_body = 1024 * 1024, redis = { host = "127.0.0.1", port = ' .. rd.port .. ', password = "'
        .. rd.password .. '", prefix = "sd:" },\n')
      assert(n == 1, "the example's receiver options changed")
    end
    local cred = sb.credentials.sobot
    local srv = nginx.start{ ports = 1, workers = 2, main = table.concat({
      "env SHOPLUS_WEBHOOK_SECRET=" .. secret .. ";", "env SOBOT_APPID=" .. cred.appid .. ";",
      "env SOBOT_APP_KEY=" .. cred.app_key .. ";", "env SOBOT_BASE_URL=" .. sb.urls.sobot .. ";",
      "env SOBOT_STORE_ID=store-1;", "env WEBHOOK_BASE_DELAY=0.05;", "env WEBHOOK_MAX_DELAY=0.3;",
      "env WEBHOOK_SEEN_FILE=" .. dir .. "/ids.seen;" }, "\n"),   -- WEBHOOK_CLAIM: the default 60 s
      http = block }
    os.execute("chmod 755 '" .. srv.prefix .. "'")    -- workers of a root master run as nobody
    servers[#servers + 1] = srv
    return srv
  end

  local function stats(srv)
    local text = helpers.get(srv:url("/webhooks/stats")) or ""
    local queued, done = text:match("queued=(%d+) done=(%d+)")
    return tonumber(queued), tonumber(done)
  end

  local function wait_drained(srv)
    for _ = 1, 1200 do                               -- bounded: 1,200 x 0.1 s
      local queued = stats(srv)
      if queued == 0 then return true end
      socket.sleep(0.1)
    end
    return false
  end

  local function order_id(tag, i) return string.format("53146495%s%08d", tag, i) end

  -- the vendor: delivers event i until it is answered 200 (a killed worker resets connections)
  local function deliver(srv, tag, i)
    local status, resp
    local body = helpers.order(order_id(tag, i), "SD" .. tag .. "-" .. i, tostring(i))
    for _ = 1, 100 do
      status, resp = sb:send_webhook(srv:url("/webhooks/shoplus"), "order_create", body, secret)
      if status == 200 then return resp end
      socket.sleep(0.02)
    end
    error("event " .. i .. " never accepted: " .. tostring(status) .. " " .. tostring(resp))
  end

  local function workers(srv)
    local list = {}
    for pid in (procs.capture("pgrep -P " .. srv.pid) or ""):gmatch("%d+") do list[#list + 1] = pid end
    return list
  end

  setup(function()
    package.path = "sandbox/lua/?.lua;" .. package.path
    launch = require "sandbox.launch"
    sb = launch.start{ workers = 1 }
    dir = procs.temp_dir("shutdown")
    rd = redis_server.start()
  end)

  teardown(function()
    for _, srv in ipairs(servers) do srv:stop() end
    if sb then sb:stop() end
    if dir then procs.remove_dir(dir) end
    if rd then rd:stop() end
  end)

  local function run(queue, tag)
    local srv = start_nginx(queue)
    assert(sb:knob("sobot", "error_rate", 0.2))
    assert(sb:knob("sobot", "latency_ms", 30))      -- so that the killed worker holds claims
    for i = 1, EVENTS do
      deliver(srv, tag, i)
      if i == 600 then                               -- a worker dies holding claimed events
        local pids = workers(srv)
        assert.is_true(#pids >= 1)
        assert(os.execute("kill -KILL " .. pids[1]))
      elseif i == 1300 then                          -- a reload: old workers leave, new ones start
        assert(os.execute("kill -HUP " .. srv.pid))
      end
    end
    assert.is_true(wait_drained(srv), "queued never reached 0")
    local _, done = stats(srv)
    assert.is_true(done >= EVENTS, "done=" .. tostring(done))   -- counted per event: a kill loses none

    -- the README's procedure: nginx -s quit once queued=0
    assert(os.execute("nginx -p '" .. srv.prefix .. "' -c '" .. srv.prefix .. "/conf/nginx.conf' -s quit 2>/dev/null"))
    for _ = 1, 200 do                                -- bounded: 200 x 0.05 s
      if not procs.alive(srv.pid) then break end
      socket.sleep(0.05)
    end
    assert.is_false(procs.alive(srv.pid))
    srv.pid = nil

    local again = start_nginx(queue)                 -- the same seen file (or Redis)
    sb:knob("sobot", "error_rate", nil)
    sb:knob("sobot", "latency_ms", nil)
    for i = 1, EVENTS do deliver(again, tag, i) end  -- the vendor redelivers everything
    assert.is_true(wait_drained(again))

    local orders, records = helpers.sobot_orders(sb), 0
    for _, o in ipairs(sb:dump("sobot", "orders")) do
      if tostring(o.order_no):match("^SD" .. tag .. "%-") then records = records + 1 end
    end
    local missing = {}
    for i = 1, EVENTS do
      if not orders[order_id(tag, i)] then missing[#missing + 1] = i end
    end
    assert.same({}, missing)                         -- nothing lost
    assert.equal(EVENTS, records)                    -- nothing doubled
  end

  it("queue in a lua_shared_dict, seen file: loses and doubles nothing across SIGKILL, HUP, quit at "
     .. "queued=0, restart, redelivery", function()
    run("dict", "10")
  end)

  it("queue and seen ids in Redis: the same", function()
    run("redis", "20")
  end)
end)
