-- mallapi.fleet and mallapi.fleet.worker against a private redis-server: jobs as data,
-- the schedule -> stream hand-out, XAUTOCLAIM take-over after the lease, secrets by
-- reference, checkpoint resume and the drain (should_stop) hand-back.
local core_clock = require("mallapi.core").clock
local redis = require "support.redis_server"
local procs = require "support.procs"
local fleet = require "mallapi.fleet"
local worker = require "mallapi.fleet.worker"

local function lines(path)
  local out, f = {}, io.open(path, "r")
  if not f then return out end
  for l in f:lines() do out[#out + 1] = l end
  f:close()
  return out
end

describe("mallapi.fleet", function()
  local srv, fl, dir
  setup(function()
    srv = redis.start()
    dir = procs.temp_dir("fleet")
  end)
  teardown(function()
    srv:stop()
    procs.remove_dir(dir)
  end)
  before_each(function()
    fl = fleet.new{ redis = "redis://127.0.0.1:" .. srv.port, password = srv.password,
      prefix = "t" .. math.random(1e9) .. ":" }
  end)

  it("parses redis URLs and refuses caller mistakes by name", function()
    local c = fleet.parse_url("redis://:pw@10.0.0.1:6380/2")
    assert.same({ host = "10.0.0.1", port = 6380, db = 2, password = "pw" }, c)
    assert.same(6379, fleet.parse_url("redis://h").port)
    assert.has_error(function() fleet.parse_url("http://h") end,
      "bad argument #1 to 'fleet.parse_url' (URL must start with redis://)")
    assert.has_error(function() fl:add("a b", { module = "m" }) end)
    assert.has_error(function() fl:add("a", {}) end,
      "bad argument #2 to 'fleet.add' (option 'module': Lua module name or .lua file path expected)")
    assert.has_error(function() fl:add("a", { module = "m", secrets = { token = "plain-secret" } }) end)
  end)

  it("keeps jobs as data: add, get, list, pause, remove; secrets only as references", function()
    assert.is_true(fl:add("acct1", { module = "m", settings = { shop = 7 }, interval_s = 60,
      secrets = { token = { env = "ACCT1_TOKEN" } } }))
    assert.is_true(fl:add("acct2", { module = "m" }))
    local j = fl:get("acct1")
    assert.same({ shop = 7 }, j.settings)
    assert.same({ token = { env = "ACCT1_TOKEN" } }, j.secrets)
    assert.same(60, j.interval_s)
    assert.same(0, j.next_at)
    assert.same({ "acct1", "acct2" }, { fl:list()[1].id, fl:list()[2].id })
    assert.is_true(fl:pause("acct2"))
    assert.is_true(fl:get("acct2").paused)
    assert.is_false(fl:pause("nope"))
    assert.is_true(fl:remove("acct2"))
    assert.same(1, #fl:list())
    assert.is_nil(fl:get("acct2"))
  end)

  it("hands a due job out once through the stream, however many tick; finish schedules the next run", function()
    fl:add("a", { module = "m", interval_s = 100 })
    fl:add("p", { module = "m", paused = true })
    assert.same(1, fl:tick())
    assert.same(0, fl:tick())
    local e = fl:claim("w1", 60000, 10)
    assert.same("a", e.job)
    assert.is_false(fl:claim("w2", 60000, 10))
    assert.is_true(fl:finish(e, { status = "ok", read = 3, sent = 3 }))
    assert.is_false(fl:finish(e, { status = "ok" }))        -- a second ack changes nothing
    local j = fl:get("a")
    assert.same("ok", j.status); assert.same(3, j.sent); assert.same(1, j.runs)
    assert.is_true(j.next_at > j.finished_at + 99000)
    assert.same(0, fl:tick())                                -- not due for 100 s; the paused one stays put
    assert.is_true(fl:get("p").next_at > 0)
    assert.same({ scheduled = 2, pending = 0, stream = 0 }, fl:queue_stats())
  end)

  it("lets another worker take over a run whose worker stopped answering (XAUTOCLAIM after the lease)", function()
    fl:add("a", { module = "m" })
    fl:tick()
    local e = fl:claim("dead-worker", 200, 10)
    assert.is_false(fl:claim("w2", 200, 10))
    core_clock.sleep_ms(250)
    local again = fl:claim("w2", 200, 10)
    assert.same(e.entry, again.entry)
    assert.is_true(again.claimed)
    assert.is_true(fl:heartbeat("w2", again.entry))
    assert.is_false(fl:claim("w3", 200, 10))                 -- the heartbeat reset its idle time
    assert.is_true(fl:finish(again, { status = "ok" }))
  end)

  it("runs a job module with its secret from the environment, resumes from the checkpoint after a drain", function()
    local out = dir .. "/drain.out"
    os.remove(out)
    fl:add("acct", { module = "spec/support/fleet/array_job.lua", settings = { count = 50, batch = 10, out = out },
      secrets = { token = { file = dir .. "/token" } } })
    local f = io.open(dir .. "/token", "w"); f:write("tok-123\n"); f:close()
    local batches = 0
    local w = worker.new{ fleet = fl, lease_ms = 5000, block_ms = 50, dead_letter_dir = dir,
      should_stop = function() batches = batches + 1; return batches == 2 end }
    assert.same("stopped", w:turn())
    assert.same(20, #lines(out))                             -- two batches then the drain
    assert.same("requeued", fl:get("acct").status)
    w.should_stop = function() return false end
    assert.same("ok", w:turn())                              -- handed back at once, resumed at 21
    local got = lines(out)
    assert.same(50, #got)
    for i, l in ipairs(got) do assert.same("acct " .. i .. " 7", l) end
    local j = fl:get("acct")
    assert.same("ok", j.status); assert.same(50, j.read); assert.same(50, j.sent)
    assert.is_false(w:turn())                                -- next run in 300 s
  end)

  it("records a job whose secret is missing as failed, without the secret's value anywhere", function()
    fl:add("nosecret", { module = "spec/support/fleet/array_job.lua", settings = { count = 1, out = dir .. "/x" },
      secrets = { token = { env = "MALLAPI_SPEC_UNSET_VAR" } } })
    local w = worker.new{ fleet = fl, block_ms = 50, should_stop = function() return false end }
    assert.same("failed", w:turn())
    local j = fl:get("nosecret")
    assert.same("failed", j.status)
    assert.truthy(j.error:find("MALLAPI_SPEC_UNSET_VAR is not set", 1, true))
  end)
end)
