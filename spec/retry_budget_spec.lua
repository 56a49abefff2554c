-- One retry budget per logical call (issue 16): the transport (mallapi.http) owns
-- retrying, with back-off, Retry-After parsed once and the call's deadline; the sync
-- runner only classifies and stops or goes on. Sends are counted at a server on
-- 127.0.0.1 (spec/support/count_server.lua, started and stopped here) that answers 503:
-- a sync send or read is attempted at most the transport's budget, never 3 x 6 = 18.
-- Sleeps are injected (recorded, no time spent) except where the deadline is the subject.
-- Also: Sobot's bulk refusals are read by its profile's bulk_refused hook, and token
-- records and sync checkpoints share one record codec.
local mallapi = require "mallapi"
local sync = require "mallapi.sync"
local procs = require "support.procs"

describe("one retry budget per logical call", function()
  local tmp, pid, port, log

  setup(function()
    tmp = procs.temp_dir("budget")
    log = tmp .. "/server.log"
    port = procs.free_port()
    local bin, cpath = procs.runtime_binary()
    pid = procs.start_background("env LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='" .. cpath .. "' "
      .. bin .. " spec/support/count_server.lua " .. port .. " " .. log, tmp .. "/stdout.log")
    local ready = false
    for _ = 1, 200 do                                  -- up to 10 s for the server to listen
      local f = io.open(tmp .. "/stdout.log")
      local text = f and f:read("*a") or ""
      if f then f:close() end
      if text:find("listening", 1, true) then ready = true; break end
      os.execute("sleep 0.05")
    end
    assert(ready, "count_server did not start")
  end)

  teardown(function()
    if pid then procs.stop_pid(pid) end
    if tmp then procs.remove_dir(tmp) end
  end)

  local function hits(key)
    local f = io.open(log)
    local n = 0
    if f then
      for line in f:lines() do if line == "HIT " .. key then n = n + 1 end end
      f:close()
    end
    return n
  end

  -- An Hd client (basic auth, no token) whose requests go to /<key>/<mode>/<n>/...
  local function hd(key, mode, n, http_opts, extra)
    local cfg = { tenant_id = "t100", user = "u", password = "p", operator = "o",
      base_url = string.format("http://127.0.0.1:%d/%s/%s/%d", port, key, mode, n), http = http_opts }
    for k, v in pairs(extra or {}) do cfg[k] = v end
    return mallapi.client("hd", cfg)
  end

  local function recorder()
    local list = {}
    return list, function(x) list[#list + 1] = x end
  end

  -- sync.run with the runner's own sleeps counted (none expected: it does not retry
  -- what the transport retried; before issue 16 it resent up to 6 times more)
  local runner_sleeps
  local function run(opts)
    runner_sleeps = 0
    opts.output, opts.dead_letter = false, tmp .. "/" .. opts.name .. ".dead"
    opts.sleep = function() runner_sleeps = runner_sleeps + 1 end
    local summary, err, code, detail = sync.run(opts)
    assert.equal(0, runner_sleeps)
    return summary, err, code, detail
  end

  it("sends a push at most the transport's budget (3), not 3 per runner attempt", function()
    local sleeps, sleep = recorder()
    local c = hd("push", "fail", 503, { sleep = sleep })
    local summary, err, code, detail = run{ name = "push", source = { { id = 1 } },
      sink = sync.client_sink(c, "saleorder") }
    assert.is_nil(summary)
    assert.equal("HTTP", code)
    assert.matches("^sync%.run: sink failed after 3 attempts: hd saleorder: HTTP 503", err)
    assert.equal(3, hits("push"))
    assert.equal(2, #sleeps)                     -- the transport's back-off, between its 3 sends
    assert.same({ "failed", 0 }, { detail.status, detail.retries })
  end)

  it("follows the configured budget (max_attempts = 5)", function()
    local _, sleep = recorder()
    local c = hd("five", "fail", 503, { sleep = sleep, retry = { max_attempts = 5 } })
    local summary, err = run{ name = "five", source = { { id = 1 } }, sink = sync.client_sink(c, "saleorder") }
    assert.is_nil(summary)
    assert.matches("failed after 5 attempts", err)
    assert.equal(5, hits("five"))
  end)

  it("reads a source through a GET at most the budget, not 18 times", function()
    local _, sleep = recorder()
    local c = hd("read", "fail", 503, { sleep = sleep })
    local summary, err = run{ name = "read", sink = function() return true end,
      source = function() return c:call("saleorder/{id}", { id = "1" }) end }
    assert.is_nil(summary)
    assert.matches("^sync%.run: source failed after 3 attempts", err)
    assert.equal(3, hits("read"))
  end)

  it("honours Retry-After once: the transport waits it, the runner does not wait again", function()
    local sleeps, sleep = recorder()
    local c = hd("heal", "heal", 1, { sleep = sleep })
    local summary = assert(run{ name = "heal", source = { { id = 1 } }, sink = sync.client_sink(c, "saleorder") })
    assert.same({ "ok", 1, 0 }, { summary.status, summary.sent, summary.retries })
    assert.equal(2, hits("heal"))
    assert.same({ 1 }, sleeps)                   -- Retry-After: 1, parsed once, waited once
  end)

  it("keeps the call's deadline: a Retry-After past it is not waited for, nor resent", function()
    local sleeps, sleep = recorder()
    local c = hd("late", "after", 30, { sleep = sleep }, { timeout = 2 })
    local t0 = os.time()
    local summary, err = run{ name = "late", source = { { id = 1 } }, sink = sync.client_sink(c, "saleorder") }
    assert.is_nil(summary)
    assert.matches("failed after 1 attempts: hd saleorder: HTTP 503", err)
    assert.equal(1, hits("late"))
    assert.same({}, sleeps)
    assert.is_true(os.time() - t0 < 10)
  end)

  it("marks what the transport retried, so a caller above knows the budget is spent", function()
    local _, sleep = recorder()
    local session = assert(mallapi.http.new{ sleep = sleep })
    local url = string.format("http://127.0.0.1:%d/mark/after/2/x", port)
    local res = assert(session:request{ url = url })
    assert.same({ 503, 3, true, 2 }, { res.status, res.attempts, res.retries_exhausted, res.retry_after })
    res = assert(session:request{ url = url, method = "POST", body = "{}" })   -- not idempotent: one send
    assert.same({ 503, 1 }, { res.status, res.attempts })
    assert.is_nil(res.retries_exhausted)
    session:close()
  end)

  it("never resends a plain sink function (no transport): called once, the run stops, the checkpoint stays", function()
    local store, calls, sleeps = mallapi.store.memory(), 0, {}
    local function sink()
      calls = calls + 1
      if calls == 2 then return nil, "busy", "TRANSPORT" end
      return true
    end
    local summary, err, code = sync.run{ name = "plain", output = false, dead_letter = tmp .. "/plain.dead",
      state = store, batch = 1, sleep = function(ms) sleeps[#sleeps + 1] = ms end,
      source = { { id = 1 }, { id = 2 }, { id = 3 } }, sink = sink }
    assert.same({ nil, "sync.run: sink failed after 1 attempts: busy", "TRANSPORT" }, { summary, err, code })
    assert.same({ 2, 0 }, { calls, #sleeps })                    -- record 2 sent once, no runner back-off
    assert.same({ "1", false }, { sync.checkpoint(store, "plain").position, sync.checkpoint(store, "plain").finished })
    summary = assert(sync.run{ name = "plain", output = false, dead_letter = tmp .. "/plain.dead", state = store,
      batch = 1, source = { { id = 1 }, { id = 2 }, { id = 3 } }, sink = sink })
    assert.same({ "ok", 4, 3, true }, { summary.status, calls, summary.sent, summary.resumed })  -- goes on from it
  end)
end)

describe("bulk refusals come from the profile", function()
  local sobot = require "mallapi.vendors.sobot"

  it("Sobot's bulk_refused finds refused items by the id they share with the list sent", function()
    local sent = { { storeid = "s1", orderid = "o1" }, { storeid = "s1", orderid = "o2" },
                   { storeid = "s1", orderid = "o3" } }
    local answer = { { orderid = "o2", retCode = 801001, retMsg = "Buyer information does not exist" } }
    assert.same({ { index = 2, code = "801001", msg = "Buyer information does not exist" } },
      sobot.bulk_refused(answer, sent, "orders/add"))
    assert.same({}, sobot.bulk_refused({}, sent))
    assert.is_nil(sobot.bulk_refused(mallapi.json.null, sent))
  end)

  it("client_sink buries what the hook names and sends the rest, reading no vendor field itself", function()
    local pushed
    local fake = { profile = sobot, prepare = function() return {} end,
      call = function(_, op, params, opts)
        assert.equal("orders/add", op)
        assert.is_true(opts.idempotent)
        pushed = params.order_list
        return { { orderid = "o2", retCode = 801001, retMsg = "no buyer" } }
      end }
    local tmp = os.tmpname()
    local summary = sync.run{ name = "bulk", output = false, dead_letter = tmp, sleep = function() end,
      source = { { orderid = "o1" }, { orderid = "o2" }, { orderid = "o3" } },
      sink = sync.client_sink(fake, "orders/add", { list = "order_list" }) }
    assert.equal(3, #pushed)
    assert.same({ "dead_letters", 2, 1 }, { summary.status, summary.sent, summary.dead })
    local f = assert(io.open(tmp))
    local line = f:read("*l")
    f:close()
    os.remove(tmp)
    assert.matches('"error":"orders/add: 801001 no buyer"', line, 1, true)
  end)

  it("a profile without the hook: `failed` names the shared id, code/msg give the reason", function()
    local fake = { profile = {}, call = function() return { { id = 7, code = "E1", msg = "bad" } } end }
    local sink = sync.client_sink(fake, "push", { list = "items", failed = "id" })
    local ok, refused = sink.send_batch({ { id = 6 }, { id = 7 } })
    assert.is_true(ok)
    assert.same({ [2] = { error = "push: E1 bad", code = "VENDOR" } }, refused)
  end)
end)

describe("one record codec for token records and sync checkpoints", function()
  local codec = require "mallapi.record_codec"

  it("writes both with the same escaping and exact numbers", function()
    local token_text = mallapi.token.encode_record{ token = "a=b%c\n", expires_at = 1700000000000, fetched_at = 5,
      generation = 2, source = "pid 1" }
    assert.equal("mallapi-token 1\ntoken=a%3Db%25c%0A\nexpires_at=1700000000000\nfetched_at=5\ngeneration=2\n"
      .. "source=pid 1\n", token_text)
    assert.same(codec.decode("mallapi-token 1", token_text).token, "a=b%c\n")
    assert.equal("a=b%c\n", mallapi.token.decode_record(token_text).token)
    local cp_text = sync.encode_checkpoint{ position = "a=b%c\n", finished = false, read = 2 ^ 40 }
    assert.equal("mallapi-sync 1\nposition=a%3Db%25c%0A\nfinished=0\nread=1099511627776\n", cp_text)
    assert.is_nil(sync.decode_checkpoint(token_text))
    assert.is_nil(mallapi.token.decode_record(cp_text))
  end)
end)
