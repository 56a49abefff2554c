-- mallapi.ngx.webhook_queue's Redis queue outside nginx (its scripts through the plain
-- LuaSocket store against a private redis-server): accept and dedup, take and claim, retry
-- into `delayed` and back, dead, the sweep of lapsed claims, stats, and a Redis out of
-- memory that refuses a step without losing the item.
local redis_server = require "support.redis_server"
local queues = require "mallapi.ngx.webhook_queue"

local function item(id, body) return queues.new_item(id, "order_create", body or '{"id":1}') end

describe("webhook queue on Redis", function()
  local rd, store, q

  setup(function()
    rd = redis_server.start()
    store = require("mallapi.store.redis").new{ port = rd.port, password = rd.password, prefix = "" }
  end)

  teardown(function()
    if store then store:close() end
    if rd then rd:stop() end
  end)

  before_each(function()
    assert(store:command("FLUSHALL"))
    q = queues.redis(store, "t:")
  end)

  it("accepts an id once, with the seen key's lifetime", function()
    assert.equal("OK", q:accept("order_create:1:2", item("order_create:1:2"), 3600))
    assert.equal("DUPLICATE", q:accept("order_create:1:2", item("order_create:1:2"), 3600))
    assert.equal(1, store:command("LLEN", "t:q"))
    local ttl = store:command("TTL", "t:seen:order_create:1:2")
    assert.is_true(ttl > 3590 and ttl <= 3600)
    assert.equal("OK", q:accept("order_create:1:3", item("order_create:1:3"), 0.2))   -- rounded up to 1 s
    assert.equal(1, store:command("TTL", "t:seen:order_create:1:3"))
    assert.same({ queued = 2, done = 0, retries = 0, dead = 0, claimed = 0 }, q:stats())
  end)

  it("takes each item once with a claim; done, retry and dead move it on", function()
    for i = 1, 3 do assert.equal("OK", q:accept("e" .. i, item("e" .. i, "body" .. i), 60)) end
    assert(q:begin_drain(1000))
    local a, b, c = q:take(1000, 1060), q:take(1000, 1060), q:take(1000, 1060)
    assert.same({ "e1", "e2", "e3" }, { a.id, b.id, c.id })
    assert.equal("body2", b.item:sub(b.body_at))
    assert.is_nil(q:take(1000, 1060))                                   -- nothing left, no error
    assert.equal(3, store:command("ZCARD", "t:claimed"))
    assert.equal("1060", store:command("ZSCORE", "t:claimed", a.member))
    assert(q:done(a))
    b.attempts, b.next_at = 1, 1005
    assert(q:retry(b, queues.encode(b), b.next_at))
    assert(q:dead(c, queues.encode(c)))
    assert.equal(0, store:command("ZCARD", "t:claimed"))
    assert.equal(1, store:command("ZCARD", "t:delayed"))
    assert.matches("body3$", store:command("HGET", "t:dead", "e3"))
    assert.same({ queued = 1, done = 1, retries = 1, dead = 1, claimed = 0 }, q:stats())
    -- the retry is not due at 1004, it is at 1005
    assert(q:begin_drain(1004))
    assert.is_nil(q:take(1004, 1064))
    assert(q:begin_drain(1005))
    local again = q:take(1005, 1065)
    assert.equal("e2", again.id)
    assert.equal(1, again.attempts)
    assert.equal("body2", again.item:sub(again.body_at))
  end)

  it("puts lapsed claims back on the queue, and only those", function()
    for i = 1, 2 do q:accept("s" .. i, item("s" .. i), 60) end
    local first = q:take(1000, 1010)
    local second = q:take(1000, 1030)
    assert.equal(0, q:sweep(1009.5))
    assert.equal(1, q:sweep(1010))
    assert.equal(first.item, store:command("LINDEX", "t:q", 0))
    assert.equal(1, store:command("ZCARD", "t:claimed"))
    assert.equal("1030", store:command("ZSCORE", "t:claimed", second.member))
  end)

  it("counts claimed items as queued (issue 13: queued=0 while a worker held events)", function()
    for i = 1, 3 do q:accept("c" .. i, item("c" .. i), 60) end
    local a = q:take(1000, 1060)
    q:take(1000, 1060)
    assert.same({ queued = 3, done = 0, retries = 0, dead = 0, claimed = 2 }, q:stats())
    assert(q:done(a))
    assert(q:done(a))                                                   -- a second done counts nothing
    assert.same({ queued = 2, done = 1, retries = 0, dead = 0, claimed = 1 }, q:stats())
  end)

  it("puts back at once the claims of a worker known dead on this host, only those", function()
    local pid = 2147483000                                               -- no such process
    local gone = queues.redis(store, "t:", pid, q.host)
    local remote = queues.redis(store, "t:", pid, "another-host")
    assert(gone:register()); assert(remote:register()); assert(q:register())
    for i = 1, 4 do q:accept("d" .. i, item("d" .. i), 60) end
    local mine = q:take(1000, 99999)
    local lost = gone:take(1000, 99999)
    local far = remote:take(1000, 99999)
    assert.equal(1, q:sweep_dead())
    assert.equal(lost.item, store:command("LINDEX", "t:q", -1))         -- back, without its owner mark
    local left, want = store:command("ZRANGE", "t:claimed", 0, -1), { mine.member, far.member }
    table.sort(left); table.sort(want)
    assert.same(want, left)                                             -- live and remote claims stay
    assert.equal(0, q:sweep_dead())
    assert.equal(4, q:stats().queued)
  end)

  it("an item that does not decode is handed back as bad, still claimed", function()
    assert(store:command("RPUSH", "t:q", "not an item"))
    local rec = q:take(1000, 1060)
    assert.is_true(rec.bad)
    assert(q:done(rec))
    assert.equal(0, store:command("ZCARD", "t:claimed"))
  end)

  it("a Redis out of memory refuses a step and leaves every item where it was", function()
    assert.equal("OK", q:accept("m1", item("m1"), 60))
    assert.equal("OK", q:accept("m2", item("m2"), 60))
    local used = store:command("INFO", "memory"):match("used_memory:(%d+)")
    assert(store:command("CONFIG", "SET", "maxmemory-policy", "noeviction"))
    assert(store:command("CONFIG", "SET", "maxmemory", tostring(tonumber(used) - 1000)))
    local ok, err = pcall(function()
      local verdict, aerr = q:accept("m3", item("m3", string.rep("x", 5000)), 60)
      assert.is_nil(verdict)
      assert.matches("OOM", aerr)
      assert.equal(0, store:command("EXISTS", "t:seen:m3"))            -- not remembered: a redelivery is taken
      local rec, terr = q:take(1000, 1060)
      assert.is_nil(rec)
      assert.matches("OOM", terr)
      assert.equal(2, store:command("LLEN", "t:q"))                     -- still queued
      assert.equal(0, store:command("ZCARD", "t:claimed"))
    end)
    assert(store:command("CONFIG", "SET", "maxmemory", "0"))
    assert(ok, err)
    assert.equal("OK", q:accept("m3", item("m3"), 60))
    assert.equal("m1", q:take(1000, 1060).id)
  end)

  it("says why when Redis cannot be reached", function()
    local dead = queues.redis(require("mallapi.store.redis").new{ port = require("support.procs").free_port(),
                                                                    timeout = 500 }, "t:")
    local verdict, err = dead:accept("x", item("x"), 60)
    assert.is_nil(verdict)
    assert.matches("^store.redis: connect to 127.0.0.1:%d+: connection refused", err)
    local s, serr = dead:stats()
    assert.is_nil(s)
    assert.matches("connection refused", serr)
  end)
end)
