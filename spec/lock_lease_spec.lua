-- Locks and leases in Redis (issue 13 item 9), against a private redis-server on
-- 127.0.0.1: a lock whose holder is known dead (this host, its pid gone) is taken over at
-- once, a live or another host's holder keeps it; renew() extends a live holder's short
-- lease; the token manager does not wait out a dead holder's lease; a sync restarted after
-- a killed run is not refused BUSY; core.lock.alive answers for pids.
local mallapi = require "mallapi"
local core = require "mallapi.core"
local sync = require "mallapi.sync"
local redis_server = require "support.redis_server"

local HOST = require("mallapi.store.redis").host_name
local DEAD_PID = 2147483000                          -- above any pid_max: no such process

describe("locks and leases", function()
  local rd, store, raw

  setup(function()
    rd = redis_server.start()
    raw = mallapi.store.redis{ port = rd.port, password = rd.password, prefix = "" }
  end)

  teardown(function()
    if raw then raw:close() end
    if rd then rd:stop() end
  end)

  before_each(function()
    assert(raw:command("FLUSHALL"))
    store = mallapi.store.redis{ port = rd.port, password = rd.password, prefix = "ll:" }
  end)

  after_each(function() store:close() end)

  -- a lock left by a holder: id "<host>:<pid>:<ms>:<serial>", a lease of an hour
  local function plant(key, host, pid)
    local id = string.format("%s:%d:%d:%d", host, pid, 1, 1)
    assert.equal("OK", raw:command("SET", "ll:" .. key .. ":lock", id, "PX", "3600000"))
    return id
  end

  it("core.lock.alive tells a running pid from a gone one", function()
    assert.is_true(core.lock.alive(core.lock.pid()))
    assert.is_true(core.lock.alive(1))
    assert.is_false(core.lock.alive(DEAD_PID))
    assert.has_error(function() core.lock.alive(0) end)
  end)

  it("takes over at once a lock whose holder died on this host", function()
    plant("tok", HOST, DEAD_PID)
    local id = store:lock("tok", 15000)
    assert.is_string(id)                             -- before issue 13: false for 15 s (the lease)
    assert.equal(id, raw:command("GET", "ll:tok:lock"))
    assert.is_false(store:lock("tok", 15000))        -- now held by a live holder: us
  end)

  it("keeps the lock of a live holder and of another host's holder", function()
    plant("live", HOST, core.lock.pid())
    assert.is_false(store:lock("live", 15000))
    plant("far", "another-host", DEAD_PID)           -- its pid cannot be checked here
    assert.is_false(store:lock("far", 15000))
  end)

  it("renews a live holder's short lease; a holder that lost it is told so", function()
    local id = assert(store:lock("short", 300))
    for _ = 1, 4 do                                  -- 4 x 150 ms: twice the lease
      core.lock.sleep(150)
      assert.is_true(store:renew("short", id, 300))
    end
    assert.equal(id, raw:command("GET", "ll:short:lock"))
    assert.is_false(store:renew("short", "someone-else", 300))
    assert(store:unlock("short", id))
    assert.is_false(store:renew("short", id, 300))
  end)

  it("the token manager does not wait out a dead holder's lease", function()
    plant("sobot:app1", HOST, DEAD_PID)              -- the refresh lock of the token key
    local fetches = 0
    local m = mallapi.token.new{ key = "sobot:app1", store = store, lease = 15000, wait = 2000,
      fetch = function() fetches = fetches + 1 return "t-" .. fetches, 7200 end, log = function() end }
    local t0 = core.lock.monotonic()
    local token, err = m:get()
    assert.is_nil(err)
    assert.equal("t-1", token)
    assert.is_true(core.lock.monotonic() - t0 < 1000)   -- before issue 13: TIMEOUT after `wait`
  end)

  it("a sync restarted after a killed run is not refused BUSY", function()
    plant("sync:orders:run", HOST, DEAD_PID)         -- the killed runner's job lock
    local got = {}
    local summary, err, code = sync.run{ name = "orders", source = { { id = 1 }, { id = 2 } }, output = false,
      sink = function(doc) got[#got + 1] = doc.id return true end, state = store, sleep = function() end,
      dead_letter = os.tmpname() }
    assert.is_nil(err, code)
    assert.equal("ok", summary.status)
    assert.same({ 1, 2 }, got)
    plant("sync:orders:run", "another-host", DEAD_PID)   -- elsewhere: still refused
    local _, _, busy = sync.run{ name = "orders", source = { { id = 3 } }, output = false,
      sink = function() return true end, state = store, sleep = function() end }
    assert.equal("BUSY", busy)
  end)

  it("a long sync renews its job lock instead of unlocking and locking again", function()
    local calls = {}
    local spy = setmetatable({}, { __index = function(_, k)
      local f = store[k]
      if type(f) ~= "function" then return f end
      return function(_, ...)
        if k == "lock" or k == "unlock" or k == "renew" then calls[#calls + 1] = k end
        return f(store, ...)
      end
    end })
    local clock = 0
    local summary = assert(sync.run{ name = "long", source = { { id = 1 }, { id = 2 }, { id = 3 } }, batch = 1,
      output = false, lease = 100, clock = function() clock = clock + 40 return clock end,
      sink = function() return true end, state = spy, sleep = function() end })
    assert.equal("ok", summary.status)
    assert.equal("lock", calls[1])
    assert.equal("unlock", calls[#calls])
    for i = 2, #calls - 1 do assert.equal("renew", calls[i]) end
    assert.is_true(#calls > 2)
  end)
end)
