-- mallapi.metrics: the Prometheus text exposition (escaping, label order, numbers), the
-- luacheck: max line length 130
-- fleet's families read from Redis, and the LuaSocket endpoint answering GET /metrics.
local metrics = require "mallapi.metrics"
local fleet = require "mallapi.fleet"
local worker = require "mallapi.fleet.worker"
local redis = require "support.redis_server"
local procs = require "support.procs"
local socket = require "socket"

describe("mallapi.metrics", function()
  it("renders families in the text format", function()
    local text = metrics.render{
      { name = "m_up", type = "gauge", help = "a\nb", samples = { { value = 1 } } },
      { name = "m_total", type = "counter", help = "c", samples = {
        { labels = { z = "1", a = 'q"\\\n' }, value = 2.5 }, { labels = { a = "x" }, value = 1e20 } } },
    }
    assert.same('# HELP m_up a\\nb\n# TYPE m_up gauge\nm_up 1\n# HELP m_total c\n# TYPE m_total counter\n'
      .. 'm_total{a="q\\"\\\\\\n",z="1"} 2.5\nm_total{a="x"} 1e+20\n', text)
    assert.has_error(function() metrics.render(1) end, "bad argument #1 to 'metrics.render' (families table expected)")
  end)

  describe("of a fleet", function()
    local srv, fl, dir
    setup(function()
      srv = redis.start()
      dir = procs.temp_dir("metrics")
      fl = fleet.new{ redis = "redis://127.0.0.1:" .. srv.port, password = srv.password, prefix = "m:" }
    end)
    teardown(function() srv:stop(); procs.remove_dir(dir) end)

    it("shows each job's last run, the vendors' counters and the queue, also over HTTP", function()
      fl:add("shop1", { module = "spec/support/fleet/array_job.lua", settings = { count = 7, batch = 5, out = dir .. "/o" },
        secrets = { token = { file = dir .. "/t" } } })
      fl:add("shop2", { module = "m", paused = true })
      local f = io.open(dir .. "/t", "w"); f:write("x"); f:close()
      local w = worker.new{ fleet = fl, block_ms = 50, should_stop = function() return false end }
      assert.same("ok", w:turn())
      fl:count_vendor("sobot", { requests = 12, errors_HTTP = 2, throttled = 1, rate_waits = 3, rate_wait_ms = 1500 })
      local text = assert(metrics.fleet_text(fl))
      for _, line in ipairs{
        'mallapi_job_last_status{job="shop1",status="ok"} 1', 'mallapi_job_last_status{job="shop1",status="failed"} 0',
        'mallapi_job_last_sent_records{job="shop1"} 7', 'mallapi_job_last_read_records{job="shop1"} 7',
        'mallapi_job_runs_total{job="shop1"} 1', 'mallapi_job_last_retries{job="shop1"} 0', 'mallapi_job_paused{job="shop2"} 1',
        'mallapi_vendor_requests_total{vendor="sobot"} 12', 'mallapi_vendor_errors_total{code="HTTP",vendor="sobot"} 2',
        'mallapi_vendor_throttled_total{vendor="sobot"} 1', 'mallapi_vendor_rate_wait_seconds_total{vendor="sobot"} 1.5',
        'mallapi_fleet_runs{state="scheduled"} 2', 'mallapi_fleet_runs{state="pending"} 0',
      } do
        assert.truthy(text:find("\n" .. line .. "\n", 1, true), line .. " in\n" .. text)
      end
      assert.truthy(text:find('mallapi_job_last_duration_seconds{job="shop1"} ', 1, true))
      local server = assert(metrics.serve("127.0.0.1:0", function() return metrics.fleet_text(fl) end))
      local c = socket.tcp()
      c:settimeout(2)
      assert(c:connect("127.0.0.1", server.port))
      c:send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
      assert.is_true(server:poll(2))
      local reply = c:receive("*a")
      c:close()
      server:close()
      assert.truthy(reply:find("^HTTP/1.1 200 OK\r\n"))
      assert.truthy(reply:find("Content-Type: text/plain; version=0.0.4", 1, true))
      assert.truthy(reply:find('mallapi_job_runs_total{job="shop1"} 1', 1, true))
    end)
  end)
end)
