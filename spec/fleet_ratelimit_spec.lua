-- mallapi.ratelimit: the token bucket's arithmetic on a fake clock (burst, steady rate,
-- a wait that would pass the deadline takes nothing, 429 slow-down and recovery), the
-- Redis variant shared by several processes staying under rate + burst in every
-- second, and the client's exchange drawing from it with the wait cut from its timeout.
local ratelimit = require "mallapi.ratelimit"
local redis = require "support.redis_server"
local procs = require "support.procs"
local store_redis = require "mallapi.store.redis"
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"

describe("mallapi.ratelimit", function()
  it("refuses caller mistakes by name", function()
    assert.has_error(function() ratelimit.memory("x", { per_second = 0 }) end,
      "bad argument #3 to 'ratelimit.memory' (rate = { per_second = n > 0, burst = n } expected)")
    assert.has_error(function() ratelimit.memory("", { per_second = 1 }) end,
      "bad argument #2 to 'ratelimit.memory' (bucket name expected)")
    assert.has_error(function() ratelimit.redis({}, "x", { per_second = 1 }) end,
      "bad argument #1 to 'ratelimit.redis' (redis store expected)")
  end)

  it("gives a burst at once, then one token per 1/rate; a wait beyond the deadline takes nothing", function()
    local now, slept = 0, {}
    local l = ratelimit.memory("app", { per_second = 10, burst = 3, clock = function() return now end,
      sleep = function(ms) slept[#slept + 1] = ms; now = now + ms end })
    for _ = 1, 3 do assert.same(0, l:wait(1000)) end
    assert.same(100, l:wait(1000))
    assert.same(100, l:wait(1000))
    local w, err, code = l:wait(50)
    assert.is_nil(w); assert.same("RATE_LIMIT", code)
    assert.truthy(err:find("beyond the call's deadline", 1, true))
    assert.same(100, l:wait(1000))                        -- the refused call took no token
    assert.same({ 100, 100, 100 }, slept)
    assert.same(6, l.stats.requests); assert.same(3, l.stats.waits); assert.same(1, l.stats.refused)
  end)

  it("halves the rate on a 429 and climbs back over recover_s", function()
    local now = 0
    local l = ratelimit.memory("app", { per_second = 10, burst = 1, recover_s = 10, clock = function() return now end,
      sleep = function(ms) now = now + ms end })
    assert.same(0, l:wait(1000))
    l:after(429)
    assert.same(200, l:wait(10000))                       -- 5/s right after the 429
    l:after(429)
    -- a second one at t=200 ms: the rate (recovered to 5.1/s) halves to 2.55/s, and the token
    -- reserved for t=200 still counts: the next one is (1 + 1 - 0.51) / 2.55 s away
    assert.same(585, l:wait(10000))
    now = now + 60000                                     -- long after: full rate again
    assert.same(0, l:wait(1000))
    assert.same(100, l:wait(1000))
    assert.same(2, l.stats.throttled)
  end)

  describe("in Redis", function()
    local srv, dir
    setup(function() srv = redis.start(); dir = procs.temp_dir("ratelimit") end)
    teardown(function() srv:stop(); procs.remove_dir(dir) end)

    local function store() return store_redis.new{ port = srv.port, password = srv.password, prefix = "rl:" } end

    it("keeps three processes together under rate + burst in every second", function()
      local rt = os.getenv("MALLAPI_RUNTIME") == "luajit" and "luajit" or "lua5.4"
      if rawget(_G, "jit") then rt = "luajit" end
      local cpath = rt == "luajit" and "build/luajit/?.so;;" or "build/5.4/?.so;;"
      local code = ([[
        local rl = require("mallapi.ratelimit")
        local st = require("mallapi.store.redis").new{ port = %d, password = %q, prefix = "rl:" }
        local l = rl.redis(st, "shared", { per_second = 20, burst = 5 })
        local core = require("mallapi.core")
        local stop = core.clock.now_ms() + 2000
        local name = %q .. "/" .. core.lock.pid()
        local f = io.open(name .. ".tmp", "w")
        while core.clock.now_ms() < stop do
          assert(l:wait(5000))
          f:write(core.clock.now_ms(), "\n")
        end
        f:close()
        os.rename(name .. ".tmp", name .. ".done")
      ]]):format(srv.port, srv.password, dir)
      local cmd = "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='" .. cpath .. "' timeout 20 " .. rt .. " -e "
        .. "'" .. code:gsub("'", "'\\''") .. "' &"
      for _ = 1, 3 do os.execute(cmd) end
      local stamps = {}
      local function done()
        local names = {}
        for name in io.popen("ls " .. dir):lines() do
          if name:match("%.done$") then names[#names + 1] = name end
        end
        return names
      end
      for _ = 1, 100 do
        if #done() == 3 then break end
        os.execute("sleep 0.1")
      end
      assert.same(3, #done())
      for _, name in ipairs(done()) do
        for l in io.lines(dir .. "/" .. name) do stamps[#stamps + 1] = tonumber(l) end
      end
      table.sort(stamps)
      assert.is_true(#stamps >= 40, "only " .. #stamps .. " requests in 2 s")
      -- sliding one-second windows: never more than rate + burst (+1 for the ms rounding)
      local j = 1
      for i = 1, #stamps do
        while stamps[i] - stamps[j] >= 1000 do j = j + 1 end
        assert.is_true(i - j + 1 <= 26, (i - j + 1) .. " requests within one second")
      end
      assert.is_true(#stamps <= 5 + 20 * 2 + 3, #stamps .. " requests in 2 s")
    end)

    it("slows every holder down after a 429 reported by one", function()
      local a = ratelimit.redis(store(), "throttle", { per_second = 100, burst = 1 })
      local b = ratelimit.redis(store(), "throttle", { per_second = 100, burst = 1 })
      assert.same(0, a:wait(1000))
      assert.is_true(a:after(429))
      local w = b:wait(1000)
      assert.is_true(w >= 15 and w <= 21, "waited " .. tostring(w))   -- 50/s: about 20 ms
    end)

    it("is drawn from by client:exchange, and its wait is cut from the call's timeout", function()
      local l = ratelimit.redis(store(), "client", { per_second = 5, burst = 1 })
      local transport = F.transport({ F.ok { code = "0", msg = "", data = { id = 1 } },
        F.ok { code = "0", msg = "", data = { id = 1 } }, F.ok({ code = "429", msg = "slow" }, 429) })
      local cfg = F.cfg("shoplus")
      cfg.transport, cfg.limiter, cfg.timeout = transport, l, 5
      local c = mallapi.client("shoplus", cfg)
      assert.same({ id = 1 }, (c:call("products.detail", { id = 1 })))
      assert.same({ id = 1 }, (c:call("products.detail", { id = 1 })))
      local t1, t2 = transport.requests[1].timeout, transport.requests[2].timeout
      assert.same(5, t1)
      assert.is_true(t2 < 4.85 and t2 > 4.7, "second timeout " .. tostring(t2))   -- waited ~200 ms
      local data, _, code = c:call("products.detail", { id = 1 })
      assert.is_nil(data); assert.same("HTTP", code)
      assert.same(1, l.stats.throttled)
      assert.same(1, l.stats.errors.HTTP)
      cfg.timeout = 0.05                                    -- next token ~400 ms away at 2.5/s: refused at once
      local c2 = mallapi.client("shoplus", cfg)
      local d2, err2, code2 = c2:call("products.detail", { id = 1 })
      assert.is_nil(d2); assert.same("RATE_LIMIT", code2)
      assert.truthy(err2:find("rate limit client", 1, true))
      assert.same(3, #transport.requests)
    end)
  end)
end)
