-- One unit convention for durations (doc/primitives.md "Units"): the documented `_ms`/`_s`
-- names work, the old names still work as aliases, and the doc's table is mallapi.units.
-- Also the engine hooks adapters install (http.set_transport, clock.set_sleep): the engine
-- uses what was installed and never looks for a runtime itself.
local mallapi = require "mallapi"
local units = require "mallapi.units"
local http = require "mallapi.http"
local clock = require "mallapi.clock"

describe("units", function()
  it("http.new takes timeout_ms and the retry policy's attempts/base_ms/max_ms", function()
    local s = http.new{ timeout_ms = 1500, retry = { attempts = 5, base_ms = 100, max_ms = 2000 } }
    assert.equal(1.5, s.timeout)
    assert.equal(5, s.retry.max_attempts)
    assert.equal(0.1, s.retry.base_delay)
    assert.equal(2, s.retry.max_delay)
    s:close()
    local old = http.new{ timeout = 7, retry = { max_attempts = 2, base_delay = 0.5 } }   -- aliases
    assert.equal(7, old.timeout)
    assert.equal(2, old.retry.max_attempts)
    assert.equal(0.5, old.retry.base_delay)
    old:close()
  end)

  it("the documented name wins over its alias; a non-number raises at the caller", function()
    local s = http.new{ timeout_ms = 2000, timeout = 9 }
    assert.equal(2, s.timeout)
    s:close()
    local ok, err = pcall(http.new, { timeout_ms = "5s" })
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'http.new' %(option 'timeout_ms': number expected, got string%)", err)
  end)

  it("a request's timeout_ms is its deadline and the caller's table is left alone", function()
    local s = http.new{ retry = false }
    local req = { url = "http://127.0.0.1:1/", timeout_ms = 300 }
    local t0 = clock.monotonic_ms()
    local res, _, code = s:request(req)
    assert.is_nil(res)
    assert.truthy(code == "CONNECT" or code == "TIMEOUT", code)
    assert.truthy(clock.monotonic_ms() - t0 < 5000)
    assert.equal(300, req.timeout_ms)
    assert.is_nil(req.timeout)
    local out = s:batch{ { url = "http://127.0.0.1:1/", timeout_ms = 300 } }
    assert.truthy(out[1].code == "CONNECT" or out[1].code == "TIMEOUT", out[1].code)
    s:close()
  end)

  it("mallapi.token.new takes lease_ms, wait_ms ... and the old names", function()
    local fetch = function() return "t", 3600 end
    local t = mallapi.token.new{ key = "k", fetch = fetch, lease_ms = 1234, wait_ms = 50, poll_ms = 5 }
    assert.equal(1234, t.lease)
    assert.equal(50, t.wait)
    assert.equal(5, t.poll)
    local old = mallapi.token.new{ key = "k", fetch = fetch, lease = 4321 }
    assert.equal(4321, old.lease)
  end)

  it("store.redis takes timeout_ms (alias timeout, ms)", function()
    local redis = require "mallapi.store.redis"
    assert.equal(150, redis.new{ timeout_ms = 150, socket = function() end }.timeout_ms)
    assert.equal(250, redis.new{ timeout = 250, socket = function() end }.timeout_ms)
  end)

  it("mallapi.client takes timeout_ms in cfg", function()
    local c = mallapi.client("sobot", { appid = "a", app_key = "k", timeout_ms = 2500,
                                        base_url = "http://127.0.0.1:1" })
    assert.equal(2.5, c.cfg.timeout)
  end)

  it("the webhook receiver and sync.run take the unit-named options", function()
    local r = units.apply({ attempts = 3, base_ms = 500, max_ms = 60000, poll_ms = 200, claim_ms = 30000,
                            dedup_ttl_s = 3600, secret = "s" }, "mallapi.ngx.webhook.new")
    assert.same({ max_attempts = 3, base_delay = 0.5, max_delay = 60, poll = 0.2, claim = 30,
                  dedup_ttl = 3600, secret = "s" }, r)
    assert.same({ lease = 5000 }, units.apply({ lease_ms = 5000 }, "sync.run"))
    assert.has_error(function() require("mallapi.sync").run({ name = "j", lease_ms = "long" }) end,
      "bad argument #1 to 'sync.run' (option 'lease_ms': number expected, got string)")
  end)

  it("webhook.verify takes tolerance_s (and the old tolerance)", function()
    local F = require "support.vendor_fixtures"
    local ts = 1763805600
    local signed = "appid=gm-app-1&sku_id=D00001&stocks=100&ts=" .. ts .. "&type=sku_updated&version=1.0"
    local body = ('{"version":"1.0","appid":"gm-app-1","ts":%d,"sign":"%s","type":"sku_updated",'
      .. '"sku_id":"D00001","stocks":100}'):format(ts, F.hmac_sha256_hex("gm-secret", signed))
    local function verify(extra)
      local cfg = { body = body, secret = "gm-secret", now = ts + 400 }
      for k, v in pairs(extra) do cfg[k] = v end
      return mallapi.webhook.verify("guanmai", cfg)
    end
    assert.same({ nil, "webhook.verify: guanmai: ts outside the 300 s window", "STALE" }, { verify{} })
    assert.is_table(verify{ tolerance_s = 500 })
    assert.is_table(verify{ tolerance = 500 })                         -- the deprecated alias
    assert.same({ nil, "webhook.verify: guanmai: ts outside the 350 s window", "STALE" },
      { verify{ tolerance_s = 350, tolerance = 500 } })               -- the unit-named one wins
    assert.is_table(mallapi.webhook.verify("guanmai", {}, body, { secret = "gm-secret", now = ts + 400,
      tolerance_s = 500 }))
    assert.has_error(function() verify{ tolerance_s = "5m" } end,
      "bad argument #2 to 'webhook.verify' (option 'tolerance_s': number expected, got string)")
    assert.has_error(function() mallapi.webhook.verify("guanmai", {}, body, { secret = "s", tolerance_s = true }) end,
      "bad argument #4 to 'webhook.verify' (option 'tolerance_s': number expected, got boolean)")
  end)

  it("doc/primitives.md's Units table lists exactly mallapi.units.aliases", function()
    local f = assert(io.open("doc/primitives.md"))
    local doc = f:read("a")
    f:close()
    local rows = {}
    for name, alias in doc:gmatch("\n| [^|]+ | `([%w_]+)` | `([%w_]+)` %(") do
      rows[#rows + 1] = name .. "=" .. alias
    end
    local want = {}
    for _, list in pairs(units.aliases) do
      for _, a in ipairs(list) do want[#want + 1] = a[1] .. "=" .. a[2] end
    end
    table.sort(rows)
    table.sort(want)
    assert.same(want, rows)
  end)
end)

describe("engine hooks", function()
  it("http.new makes its sessions on the installed transport", function()
    local made
    local fake = { new = function(opts) made = opts; return { fake = true } end,
                   now = function() return 0 end, sleep = function() end }
    local before = http.set_transport(fake)
    local ok, s = pcall(http.new, { timeout_ms = 4000 })
    http.set_transport(before)
    assert.is_true(ok, s)
    assert.is_true(s.c.fake)
    assert.equal(4, made.timeout)
    assert.equal(before, http.transport)
    assert.has_error(function() http.set_transport(42) end)
  end)

  it("engine waits use the installed sleep (token waiters)", function()
    local slept = {}
    local before = clock.set_sleep(function(ms) slept[#slept + 1] = ms end)
    clock.sleep_ms(7)
    clock.set_sleep(nil)
    assert.same({ 7 }, slept)
    assert.equal(clock.blocking_sleep_ms, before)
  end)

  it("http.lua and token.lua do not look for ngx", function()
    for _, path in ipairs { "lua/mallapi/http.lua", "lua/mallapi/token.lua" } do
      local f = assert(io.open(path))
      local code = f:read("a"):gsub("%-%-[^\n]*", "")
      f:close()
      assert.is_nil(code:find("ngx", 1, true), path)
    end
  end)
end)
