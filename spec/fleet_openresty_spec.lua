-- The fleet's OpenResty side: the shared-dict token bucket drawn from by four nginx
-- worker processes at once (never more than burst + rate over the run), and a
-- `location /metrics` serving the fleet's Prometheus text from Redis on cosockets.
local core_clock = require("mallapi.core").clock
local nginx = require "support.nginx"
local redis = require "support.redis_server"
local fleet = require "mallapi.fleet"
local http = require "socket.http"

describe("fleet under OpenResty", function()
  local srv, rd
  setup(function()
    rd = redis.start()
    local conf = string.format("{ port = %d, password = %q }", rd.port, rd.password)
    srv = nginx.start{ workers = 4, http = ([[
      lua_shared_dict rl 1m;
      server {
        listen 127.0.0.1:$PORT;
        location /take { content_by_lua_block {
          local l = require("mallapi.ratelimit").shdict(ngx.shared.rl, "app", { per_second = 20, burst = 5 })
          local w = l:reserve(0)
          ngx.print(w and "ok" or "no")
        } }
        location /metrics { content_by_lua_block {
          local c = CONF
          local fl = require("mallapi.fleet").new{ redis = { host = "127.0.0.1", port = c.port }, password = c.password,
            prefix = "or:", new_store = require("mallapi.ngx").redis_store }
          require("mallapi.metrics").ngx_handler(fl)
        } }
      }
    ]]):gsub("CONF", function() return conf end) }
  end)
  teardown(function()
    if srv then srv:stop() end
    if rd then rd:stop() end
  end)

  it("keeps four nginx workers under burst + rate with the shared-dict bucket", function()
    -- requests on new connections (spread over the workers) for 1.5 s; every "ok" is a token
    local granted, t0, asked = 0, core_clock.monotonic_ms(), 0
    while core_clock.monotonic_ms() - t0 < 1500 do
      local body = http.request("http://127.0.0.1:" .. srv.port .. "/take")
      asked = asked + 1
      if body == "ok" then granted = granted + 1 end
    end
    local elapsed_s = (core_clock.monotonic_ms() - t0) / 1000
    assert.is_true(granted <= 5 + 20 * elapsed_s + 1, granted .. " tokens in " .. elapsed_s .. " s")
    assert.is_true(granted >= 20, granted .. " tokens in " .. elapsed_s .. " s")
    assert.is_true(asked > granted + 20, asked .. " asked")                 -- the bucket did refuse
  end)

  it("serves the fleet's metrics at location /metrics", function()
    local fl = fleet.new{ redis = "redis://127.0.0.1:" .. rd.port, password = rd.password, prefix = "or:" }
    assert(fl:add("shop9", { module = "m", paused = true }))
    local body, status, headers = http.request("http://127.0.0.1:" .. srv.port .. "/metrics")
    assert.same(200, status)
    assert.truthy(headers["content-type"]:find("text/plain; version=0.0.4", 1, true))
    assert.truthy(body:find('\nmallapi_job_paused{job="shop9"} 1\n', 1, true), body)
    assert.truthy(body:find('mallapi_fleet_runs{state="scheduled"} 1', 1, true), body)
  end)
end)
