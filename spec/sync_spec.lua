-- mallapi.sync: the runner with Lua sources and sinks. Sinks keep their state in
-- tables or files (a log of upserted ids); crash safety is checked with real OS
-- processes killed by SIGKILL at random points (a bounded number of times), then
-- restarted. Sleeps are injected, so retries cost no time; no timing assertions.
-- luacheck: max line length 150
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"
local sync = require "mallapi.sync"
local cjson = require "cjson"
local vendor_mod = require "support.sync_vendor"
local lock = require("mallapi.core").lock

local function mktemp()
  local p = assert(io.popen("mktemp -d /tmp/mallapi-sync.XXXXXX"))
  local dir = p:read("*l")
  p:close()
  return dir
end

local function read_lines(path)
  local lines = {}
  local f = io.open(path, "r")
  if not f then return lines end
  for line in f:lines() do lines[#lines + 1] = line end
  f:close()
  return lines
end

local function sink_into(t)
  return function(doc) t[#t + 1] = doc; return true end
end

-- Options common to the cases: no output, no real sleeping.
local function opts(o)
  if o.output == nil then o.output = false end
  o.sleep = o.sleep or function() end
  return o
end

local function numbers(n)
  local list = {}
  for i = 1, n do list[i] = { id = i, name = "订单" .. i, amount = 16.05 } end
  return list
end

describe("sync", function()
  local tmp
  before_each(function() tmp = mktemp() end)
  after_each(function() if not os.getenv("KEEP") then os.execute("rm -rf '" .. tmp .. "'") end end)

  describe("run", function()
    it("moves every record of an array and marks the checkpoint finished", function()
      local store, got = mallapi.store.memory(), {}
      local summary = assert(sync.run(opts{ name = "a", source = numbers(25), sink = sink_into(got), batch = 10,
        state = store, dead_letter = tmp .. "/dead" }))
      assert.equal(25, #got)
      for i = 1, 25 do assert.equal(i, got[i].id) end
      assert.same({ "ok", 0, 25, 25, 0, 3 }, { summary.status, summary.exit_code, summary.read, summary.sent,
        summary.dead, summary.batches })
      local cp = sync.checkpoint(store, "a")
      assert.same({ "25", true, 25 }, { cp.position, cp.finished, cp.sent })
      assert.is_nil(io.open(tmp .. "/dead"))        -- no dead letters, no file
    end)

    it("starts the next run after the finished position", function()
      local store, got = mallapi.store.memory(), {}
      local list = numbers(5)
      assert(sync.run(opts{ name = "a", source = list, sink = sink_into(got), state = store }))
      list[6] = { id = 6 }
      local summary = assert(sync.run(opts{ name = "a", source = list, sink = sink_into(got), state = store }))
      assert.same({ 1, 6 }, { summary.sent, got[6].id })
    end)

    it("maps, skips records the map drops, and pushes the mapped documents", function()
      local got = {}
      local summary = assert(sync.run(opts{ name = "m", source = numbers(6), sink = sink_into(got),
        dead_letter = tmp .. "/dead",
        map = function(r) if r.id % 2 == 0 then return nil end return { order = r.id * 10 } end }))
      assert.same({ { order = 10 }, { order = 30 }, { order = 50 } }, got)
      assert.same({ 6, 3, 3, "ok" }, { summary.read, summary.sent, summary.skipped, summary.status })
    end)

    it("buries records that fail mapping or that the sink refuses, goes on, and exits 1", function()
      local got = {}
      local summary = assert(sync.run(opts{ name = "d", source = numbers(12), batch = 5, dead_letter = tmp .. "/dead",
        map = function(r)
          if r.id == 3 then return nil, "map: amount missing" end
          if r.id == 4 then error("boom") end
          return r
        end,
        sink = function(doc)
          if doc.id == 8 then return nil, "orders/add: 801001 Buyer information does not exist", "VENDOR" end
          if doc.id == 9 then return nil, "http.request: HTTP 422", "HTTP", { status = 422 } end
          got[#got + 1] = doc.id
          return true
        end }))
      assert.same({ 1, 2, 5, 6, 7, 10, 11, 12 }, got)
      assert.same({ "dead_letters", 1, 4 }, { summary.status, summary.exit_code, summary.dead })
      local lines = read_lines(tmp .. "/dead")
      assert.equal(4, #lines)
      local expected = {
        { 3, "map", "MAP", "map: amount missing" },
        { 4, "map", "MAP", "map raised an error: spec/sync_spec.lua:" },
        { 8, "sink", "VENDOR", "orders/add: 801001 Buyer information does not exist" },
        { 9, "sink", "HTTP", "http.request: HTTP 422" },
      }
      for i, want in ipairs(expected) do
        local entry = cjson.decode(lines[i])
        assert.equal(want[1], entry.record.id)
        assert.equal("订单" .. want[1], entry.record.name)
        assert.equal(16.05, entry.record.amount)
        assert.same({ want[2], want[3], "d" }, { entry.stage, entry.code, entry.job })
        assert.equal(want[4], entry.error:sub(1, #want[4]))
        assert.truthy(entry.time:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
      end
    end)

    it("keeps 64-bit ids exact in dead letters, and buries a record the codec cannot write", function()
      local big = assert(mallapi.json.decode('{"id":531464955418787840,"amount":16.05,"name":"订单"}'))
      local odd = { id = 2, callback = print }
      assert(sync.run(opts{ name = "big", source = { big, odd }, dead_letter = tmp .. "/dead",
        sink = function() return nil, "orders/add: refused", "VENDOR" end }))
      local lines = read_lines(tmp .. "/dead")
      assert.equal(2, #lines)
      assert.truthy(lines[1]:find('"record":{"amount":16.05,"id":531464955418787840,"name":"订单"}', 1, true), lines[1])
      local entry = cjson.decode(lines[2])
      assert.equal("orders/add: refused", entry.error)
      assert.truthy(entry.record:match("^table: "))
      assert.truthy(entry.encode_error:find("function", 1, true), entry.encode_error)
    end)

    it("never resends: a transient failure of a plain Lua sink is sent once and stops the run", function()
      for _, case in ipairs({
        { "http.request: HTTP 429", "HTTP", { status = 429, retry_after = 3 } },
        { "vendor busy", "VENDOR", { retryable = true } },
        { "http.request: connection reset by peer", "TRANSPORT" },
      }) do
        local store, calls, sleeps = mallapi.store.memory(), {}, 0
        local summary, err, code, detail = sync.run(opts{ name = "r", source = numbers(8), batch = 4, state = store,
          dead_letter = tmp .. "/dead", sleep = function() sleeps = sleeps + 1 end,
          retry = { base_ms = 100, max_ms = 1000 },                  -- deprecated: accepted, ignored
          sink = function(doc)
            calls[#calls + 1] = doc.id
            if doc.id == 6 then return nil, case[1], case[2], case[3] end
            return true
          end })
        assert.is_nil(summary)
        assert.same({ "sync.run: sink failed after 1 attempts: " .. case[1], case[2] }, { err, code })
        assert.same({ 1, 2, 3, 4, 5, 6 }, calls)                     -- record 6 sent once
        assert.same({ "failed", 0, 0 }, { detail.status, detail.retries, sleeps })
        assert.same({ "4", false }, { sync.checkpoint(store, "r").position, sync.checkpoint(store, "r").finished })
      end
    end)

    it("stops on a transient failure, keeps the checkpoint, and the next run resends that batch", function()
      local store, got, down = mallapi.store.memory(), {}, true
      local function sink(doc)
        if doc.id == 7 and down then return nil, "http.request: HTTP 503", "HTTP", { status = 503 } end
        got[#got + 1] = doc.id
        return true
      end
      local summary, err, code, detail = sync.run(opts{ name = "s", source = numbers(10), batch = 4, sink = sink,
        state = store, dead_letter = tmp .. "/dead" })
      assert.is_nil(summary)
      assert.equal("sync.run: sink failed after 1 attempts: http.request: HTTP 503", err)
      assert.equal("HTTP", code)
      assert.same({ "failed", 2, 0 }, { detail.status, detail.exit_code, detail.retries })
      assert.same({ "4", false }, { sync.checkpoint(store, "s").position, sync.checkpoint(store, "s").finished })
      down = false
      summary = assert(sync.run(opts{ name = "s", source = numbers(10), batch = 4, sink = sink, state = store,
        dead_letter = tmp .. "/dead" }))
      assert.same({ 1, 2, 3, 4, 5, 6, 5, 6, 7, 8, 9, 10 }, got)    -- batch 5..8 resent from its start (next run)
      assert.same({ true, 10 }, { summary.resumed, summary.sent })  -- counts carried over: 4 + 6
    end)

    it("stops at once on an error that is neither transient nor the record's", function()
      local store = mallapi.store.memory()
      local summary, err, code = sync.run(opts{ name = "f", source = numbers(10), batch = 4, state = store,
        dead_letter = tmp .. "/dead",
        sink = function(doc)
          if doc.id == 6 then return nil, "sobot: token invalid and re-acquire failed", "AUTH" end
          return true
        end })
      assert.same({ nil, "sobot: token invalid and re-acquire failed", "AUTH" }, { summary, err, code })
      assert.equal("4", sync.checkpoint(store, "f").position)
    end)

    it("stops on a failing source, once, and the next run reads on from the checkpoint", function()
      local store, got, calls, fails = mallapi.store.memory(), {}, 0, 1
      local function src()
        local i = 0
        return sync.iterate(function()
          calls = calls + 1
          if i == 3 and fails > 0 then fails = fails - 1; return nil, "list: timed out", "TIMEOUT" end
          i = i + 1
          if i <= 6 then return { id = i } end
        end)
      end
      local summary, err, code = sync.run(opts{ name = "src", dead_letter = tmp .. "/dead", sink = sink_into(got),
        batch = 3, state = store, source = src() })
      assert.same({ nil, "sync.run: source failed after 1 attempts: list: timed out", "TIMEOUT" }, { summary, err, code })
      assert.same({ 3, 4, "3" }, { #got, calls, sync.checkpoint(store, "src").position })
      summary = assert(sync.run(opts{ name = "src", dead_letter = tmp .. "/dead", sink = sink_into(got), batch = 3,
        state = store, source = src() }))
      assert.same({ 6, 6, true }, { #got, summary.sent, summary.resumed })
    end)

    it("stops after 100 refusals in a row (a sink that refuses everything is broken)", function()
      local summary, err, code = sync.run(opts{ name = "x", source = numbers(300), dead_letter = tmp .. "/dead",
        batch = 50, sink = function() return nil, "orders/add: sign error", "VENDOR" end })
      assert.is_nil(summary)
      assert.same({ "sync.run: 100 records in a row refused; stopping (check the sink)", "DEAD_LETTERS" }, { err, code })
    end)

    it("batch sinks: per-record rejections and a refused batch split until the bad record is found", function()
      local calls, got = {}, {}
      local summary = assert(sync.run(opts{ name = "b", source = numbers(10), batch = 8,
        dead_letter = tmp .. "/dead",
        sink = { send_batch = function(docs)
          calls[#calls + 1] = #docs
          local rejected = {}
          for _, doc in ipairs(docs) do
            if doc.id == 3 then return nil, "orders/add: order_list invalid", "VENDOR" end  -- refuses the whole call
          end
          for i, doc in ipairs(docs) do
            if doc.id == 9 then rejected[i] = { error = "801001 Buyer information does not exist", code = "VENDOR" }
            else got[#got + 1] = doc.id end
          end
          return true, rejected
        end } }))
      table.sort(got)
      assert.same({ 1, 2, 4, 5, 6, 7, 8, 10 }, got)
      assert.same({ 8, 4, 2, 2, 1, 1, 4, 2 }, calls)   -- 8 -> 4 -> 2 (ok) + 2 -> 1+1, then 4; then 9..10
      assert.equal(2, summary.dead)
      local reasons = {}
      for _, line in ipairs(read_lines(tmp .. "/dead")) do
        local e = cjson.decode(line)
        reasons[#reasons + 1] = ("%d"):format(e.record.id) .. " " .. e.code .. " " .. e.error
      end
      assert.same({ "3 VENDOR orders/add: order_list invalid", "9 VENDOR 801001 Buyer information does not exist" },
        reasons)
    end)

    it("dry run maps and prepares but sends nothing and saves nothing", function()
      local store, prepared, sent = mallapi.store.memory(), {}, 0
      local summary = assert(sync.run(opts{ name = "dry", source = numbers(5), state = store,
        dead_letter = tmp .. "/dead", dry_run = function(record, request, err) prepared[#prepared + 1] = { record.id, request or err } end,
        map = function(r) if r.id == 2 then return nil, "map: no buyer" end return r end,
        sink = { send = function() sent = sent + 1; return true end,
                 prepare = function(doc) return "POST orders/add " .. doc.id end } }))
      assert.equal(0, sent)
      assert.same({ { 2, "map: no buyer" }, { 1, "POST orders/add 1" }, { 3, "POST orders/add 3" }, { 4, "POST orders/add 4" },
        { 5, "POST orders/add 5" } }, prepared)
      assert.same({ true, 4, 1, "dead_letters" }, { summary.dry_run, summary.prepared, summary.dead, summary.status })
      assert.is_nil(sync.checkpoint(store, "dry"))
      assert.is_nil(io.open(tmp .. "/dead"))
    end)

    it("refuses to run a job whose lock is held elsewhere", function()
      local store = mallapi.store.file(tmp)
      local other = mallapi.store.file(tmp)
      assert.truthy(other:lock("sync:busy:run", 60000))
      local summary, err, code = sync.run(opts{ name = "busy", source = numbers(1), sink = function() return true end,
        state = store, dead_letter = tmp .. "/dead" })
      assert.same({ nil, "sync.run: job busy is running elsewhere (its lock is held)", "BUSY" }, { summary, err, code })
    end)

    it("reports a checkpoint that is not one", function()
      local store = mallapi.store.memory()
      store:set("sync:bad", "garbage")
      local _, err, code = sync.run(opts{ name = "bad", source = {}, sink = function() return true end, state = store })
      assert.same({ "sync.run: checkpoint of job bad is not a sync checkpoint", "STATE" }, { err, code })
    end)

    it("raises on caller mistakes, naming the option", function()
      local cases = {
        { nil, "bad argument #1 to 'sync.run' (table expected, got nil)" },
        { { source = {}, sink = print },
          "bad argument #1 to 'sync.run' (option 'name': job name of letters, digits, _ . : - expected, got nil)" },
        { { name = "a b", source = {}, sink = print },
          "bad argument #1 to 'sync.run' (option 'name': job name of letters, digits, _ . : - expected, got string)" },
        { { name = "a", source = 5, sink = print },
          "bad argument #1 to 'sync.run' (option 'source': source object, iterator or array expected, got number)" },
        { { name = "a", source = {} },
          "bad argument #1 to 'sync.run' (option 'sink': function or table with send/send_batch expected, got nil)" },
        { { name = "a", source = {}, sink = print, batch = 0 },
          "bad argument #1 to 'sync.run' (option 'batch': positive integer expected, got number)" },
        { { name = "a", source = {}, sink = print, map = 1 },
          "bad argument #1 to 'sync.run' (option 'map': function or mapper expected, got number)" },
        { { name = "a", source = {}, sink = print, state = "x" },
          "bad argument #1 to 'sync.run' (option 'state': store expected, got string)" },
        { { name = "a", source = {}, sink = print, retry = 3 },
          "bad argument #1 to 'sync.run' (option 'retry': table or false expected, got number)" },
      }
      for _, case in ipairs(cases) do
        assert.has_error(function() sync.run(case[1]) end, case[2])
      end
      for _, bad in ipairs({ { name = "a", source = 5, sink = print }, { name = "a", source = {}, batch = 0 } }) do
        local line, err = debug.getinfo(1, "l").currentline, select(2, pcall(function() sync.run(bad) end))
        assert.matches("^spec/sync_spec%.lua:" .. line .. ": bad argument #1 to 'sync%.run'", err)  -- the caller's line
      end
      assert.has_error(function() sync.updates{} end, "bad argument #1 to 'sync.updates' (option 'query': function expected, got nil)")
      assert.has_error(function() sync.iterate(1) end, "bad argument #1 to 'sync.iterate' (function or array expected, got number)")
    end)
  end)

  describe("output", function()
    local function capture()
      local buf = {}
      return buf, { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = s end; return self end,
                    flush = function() return true end }
    end

    it("prints one machine-readable line when quiet", function()
      local buf, out = capture()
      sync.run(opts{ name = "q", source = numbers(3), output = out, quiet = true, dead_letter = tmp .. "/dead",
        sink = function(d) if d.id == 2 then return nil, "no", "VENDOR" end return true end })
      local line = table.concat(buf)
      assert.truthy(line:match("^sync name=q status=dead_letters read=3 sent=2 skipped=0 dead=1 pages=1 batches=1 "
        .. "retries=0 resumed=0 seconds=[%d.]+ rate=[%d.]+ dead_letter=" .. tmp:gsub("%p", "%%%0") .. "/dead\n$"), line)
    end)

    it("shows progress and a readable summary on a terminal", function()
      local buf, out = capture()
      sync.run(opts{ name = "p", source = numbers(3), output = out, progress = true, total = 3,
        sink = function() return true end, dead_letter = tmp .. "/dead" })
      local text = table.concat(buf)
      assert.truthy(text:find("\rp: 3/3 records, 1 pages, ", 1, true), text)
      assert.truthy(text:find("\np: done in 0:0%d %(%d+ records/s%)\n  read 3, sent 3, skipped 0, dead letters 0, "
        .. "pages 1, retries 0\n$"), text)
    end)

    it("says how many dead letters and where, and why a run stopped", function()
      local buf, out = capture()
      sync.run(opts{ name = "h", source = numbers(4), output = out, progress = true, dead_letter = tmp .. "/dead",
        sink = function(d) if d.id < 3 then return nil, "refused", "VENDOR" end return true end })
      local text = table.concat(buf)
      assert.truthy(text:find("\nh: done with dead letters in ", 1, true), text)
      assert.truthy(text:find("\n  2 dead letters in " .. tmp .. "/dead\n", 1, true), text)
      buf, out = capture()
      sync.run(opts{ name = "h2", source = numbers(4), output = out, progress = true, dead_letter = tmp .. "/dead",
        sink = function() return nil, "sobot orders/add: authentication refused", "AUTH" end })
      text = table.concat(buf)
      assert.truthy(text:find("\nh2: stopped in ", 1, true), text)
      assert.truthy(text:find("\n  stopped: sobot orders/add: authentication refused\n", 1, true), text)
    end)

    it("formats the progress line with an ETA when the total is known", function()
      local line = require("mallapi.sync.report").progress_line({ name = "o", read = 500, pages = 5, retries = 2,
        dead = 1, seconds = 10 }, 2000)
      assert.equal("o: 500/2000 records, 5 pages, 50/s, 2 errors, 1 dead, ETA 0:30", line)
    end)
  end)

  describe("checkpoint", function()
    it("round-trips through its text form, escaping what needs it", function()
      local cp = { position = "u1 5\na=b%c 7", finished = true, read = 9, sent = 8, dead = 1 }
      local text = sync.encode_checkpoint(cp)
      assert.equal("mallapi-sync 1\nposition=u1 5%0Aa%3Db%25c 7\nfinished=1\nread=9\nsent=8\ndead=1\n", text)
      assert.same({ position = cp.position, finished = true, read = 9, sent = 8, dead = 1 }, sync.decode_checkpoint(text))
      assert.is_nil(sync.decode_checkpoint("mallapi-token 1\n"))
    end)

    it("lives in a file store and survives the process", function()
      local got = {}
      assert(sync.run(opts{ name = "file", source = numbers(7), batch = 3, sink = sink_into(got),
        state = mallapi.store.file(tmp), dead_letter = tmp .. "/dead" }))
      local cp = sync.checkpoint(mallapi.store.file(tmp), "file")
      assert.same({ "7", true, 7, 3 }, { cp.position, cp.finished, cp.sent, cp.batches })
      assert.is_true(sync.reset(mallapi.store.file(tmp), "file"))
      assert.is_nil(sync.checkpoint(mallapi.store.file(tmp), "file"))
    end)
  end)

  describe("state in Redis", function()
    local redis_server = require "support.redis_server"
    local srv
    setup(function() srv = redis_server.start() end)
    teardown(function() if srv then srv:stop() end end)

    local function store(prefix)
      return mallapi.store.redis{ host = "127.0.0.1", port = srv.port, password = srv.password, prefix = prefix }
    end

    it("lets a second machine resume the job where the first stopped, and keeps a concurrent runner out", function()
      local prefix = "sync-spec-" .. lock.pid() .. ":"
      local got, down = {}, true
      local function sink(doc)
        if doc.id == 9 and down then return nil, "sobot: token invalid and re-acquire failed", "AUTH" end
        got[#got + 1] = doc.id
        return true
      end
      local first, second = store(prefix), store(prefix)       -- two connections: two machines
      assert.is_nil(sync.run(opts{ name = "shared", source = numbers(12), batch = 4, sink = sink, state = first,
        dead_letter = tmp .. "/dead" }))
      assert.equal("8", sync.checkpoint(second, "shared").position)
      local held = assert(first:lock("sync:shared:run", 60000))   -- a runner is busy on machine 1
      local _, err, code = sync.run(opts{ name = "shared", source = numbers(12), sink = sink, state = second })
      assert.same({ "sync.run: job shared is running elsewhere (its lock is held)", "BUSY" }, { err, code })
      assert.is_true(first:unlock("sync:shared:run", held))
      down = false
      local summary = assert(sync.run(opts{ name = "shared", source = numbers(12), batch = 4, sink = sink, state = second,
        dead_letter = tmp .. "/dead" }))
      assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, got)
      assert.same({ true, 12, true }, { summary.resumed, summary.sent, sync.checkpoint(first, "shared").finished })
    end)
  end)

  describe("times", function()
    it("reads vendor time text as seconds, as date(1) does for UTC", function()
      for _, text in ipairs({ "1970-01-01 00:00:00", "2000-02-29 23:59:59", "2026-11-25 02:44:07", "2100-03-01 00:00:00" }) do
        local p = assert(io.popen("TZ=UTC date -u -d '" .. text .. "' +%s"))
        local want = tonumber(p:read("*l"))
        p:close()
        assert.equal(want, sync.parse_time(text))
        assert.equal(want, sync.parse_time(text:gsub(" ", "T") .. ".250Z"))
        assert.equal(text, sync.format_time(want))
      end
      assert.equal(1764000000123, sync.parse_time(1764000000123))
      assert.equal(1764000000, sync.parse_time("1764000000"))
      assert.is_nil(sync.parse_time({}))
    end)
  end)

  describe("updates source", function()
    local function run_updates(vendor, store, got, o)
      o = o or {}
      return sync.run(opts{ name = o.name or "u", state = store, batch = o.batch or 7, dead_letter = tmp .. "/dead",
        source = sync.updates{ query = function(since) return vendor:query(since) end, page_size = vendor.page_size,
          overlap = o.overlap or 2 },
        sink = function(doc) got[#got + 1] = doc; return true end })
    end

    it("reads everything once across pages with tied update times", function()
      local vendor, store, got = vendor_mod.new{ page_size = 10 }, mallapi.store.memory(), {}
      for _, o in ipairs(vendor_mod.orders(95, 4)) do vendor:put(o) end
      local summary = assert(run_updates(vendor, store, got))
      local ids = {}
      for _, doc in ipairs(got) do
        assert.is_nil(ids[doc.id], "sent twice: " .. doc.id)
        ids[doc.id] = true
      end
      assert.equal(95, #got)
      assert.equal(95, summary.sent)
      local cp = sync.checkpoint(store, "u")
      assert.is_true(cp.finished)
      local last = vendor_mod.orders(95, 4)[95].updated_at
      assert.equal("u1 " .. sync.parse_time(last), cp.position:match("^[^\n]+"))
    end)

    it("does not miss records updated while it pages, and sends their new versions", function()
      local vendor, store, got = vendor_mod.new{ page_size = 10 }, mallapi.store.memory(), {}
      local orders = vendor_mod.orders(60, 1)
      for _, o in ipairs(orders) do vendor:put(o) end
      -- Before the third page served, three early orders change (they move to the
      -- end, so every later offset page shifts by three).
      local moved = false
      vendor.on_page = function()
        if vendor.pages_served == 2 and not moved then
          moved = true
          for _, i in ipairs({ 2, 5, 9 }) do
            vendor.records[orders[i].id].updated_at = sync.format_time(1764000000 + 3600)
            vendor.records[orders[i].id].buyer = "改过的"
          end
        end
      end
      assert(run_updates(vendor, store, got))
      local last = {}
      for _, doc in ipairs(got) do last[doc.id] = doc end
      local n = 0
      for id, rec in pairs(vendor.records) do
        n = n + 1
        assert.truthy(last[id], "missed " .. id)
        assert.equal(rec.updated_at, last[id].updated_at)
        assert.equal(rec.buyer, last[id].buyer)
      end
      assert.equal(60, n)
      assert.equal(63, #got)         -- 60 + the three new versions
    end)

    it("picks up a record that became visible late inside the overlap, and nothing else again", function()
      local vendor, store, got = vendor_mod.new{ page_size = 10 }, mallapi.store.memory(), {}
      local orders = vendor_mod.orders(30, 1)
      for i = 1, 30 do if i ~= 28 then vendor:put(orders[i]) end end
      assert(run_updates(vendor, store, got, { overlap = 5 }))
      assert.equal(29, #got)
      vendor:put(orders[28])              -- committed late, with a time before the cursor
      local summary = assert(run_updates(vendor, store, got, { overlap = 5 }))
      assert.equal(1, summary.sent)
      assert.equal(orders[28].id, got[30].id)
    end)

    it("resumes from its checkpoint after a failed run, resending at most one batch", function()
      local vendor, store, got = vendor_mod.new{ page_size = 10 }, mallapi.store.memory(), {}
      for _, o in ipairs(vendor_mod.orders(50, 3)) do vendor:put(o) end
      vendor.fail = function(page_no)
        if vendor.queries == 4 and page_no == 1 then return nil, "list: HTTP 401", "AUTH" end
        return true
      end
      local summary = run_updates(vendor, store, got)
      assert.is_nil(summary)
      local before = #got
      vendor.fail = nil
      assert(run_updates(vendor, store, got))
      local seen, dup = {}, 0
      for _, doc in ipairs(got) do
        if seen[doc.id] then dup = dup + 1 end
        seen[doc.id] = true
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(50, n)
      assert.is_true(before > 0 and dup <= 7, "duplicates: " .. dup)
    end)
  end)

  describe("killed with SIGKILL", function()
    local runtime = os.getenv("MALLAPI_RUNTIME") or (rawget(_G, "jit") and "luajit" or "5.4")
    local bin = runtime == "luajit" and "luajit" or "lua5.4"

    local function write_args(path, t)
      local f = assert(io.open(path, "w"))
      for k, v in pairs(t) do f:write(k, "=", tostring(v), "\n") end
      f:close()
    end

    local function command(argfile)
      return "env LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/" .. runtime .. "/?.so;;' "
        .. bin .. " spec/support/sync_child.lua '" .. argfile .. "'"
    end

    local alive = require("support.procs").alive

    -- Start the child in the background, let it work `ms`, SIGKILL it, wait until it is gone.
    local function run_and_kill(argfile, ms)
      local pidfile = tmp .. "/pid"
      os.remove(pidfile)
      os.execute("sh -c 'echo $$ > " .. pidfile .. "; exec " .. command(argfile):gsub("'", "'\\''")
        .. "' >>" .. tmp .. "/child.log 2>&1 &")
      local pid
      for _ = 1, 200 do
        local f = io.open(pidfile)
        pid = f and f:read("*l")
        if f then f:close() end
        if pid and pid ~= "" then break end
        core_clock.sleep_ms(5)
      end
      assert.truthy(pid, "child did not start")
      -- wait until it pushes (start-up time varies on a loaded machine), then kill it at a random point
      local function sink_size()
        local f = io.open(tmp .. "/sink")
        if not f then return 0 end
        local size = f:seek("end")
        f:close()
        return size
      end
      local before = sink_size()
      for _ = 1, 1000 do
        if sink_size() > before or not alive(pid) then break end
        core_clock.sleep_ms(2)
      end
      core_clock.sleep_ms(ms)
      os.execute("kill -9 " .. pid .. " 2>/dev/null")
      for _ = 1, 400 do
        if not alive(pid) then return end
        core_clock.sleep_ms(5)
      end
      error("child " .. pid .. " did not die")
    end

    local function run_to_end(argfile)
      local p = assert(io.popen(command(argfile) .. " 2>&1; echo \"exit=$?\""))
      local out = p:read("*a")
      p:close()
      return out
    end

    for _, case in ipairs({ { source = "iterate", batch = 20 }, { source = "updates", batch = 15, flaky = 1 } }) do
      it("loses nothing and resends at most one batch per kill (" .. case.source .. " source)", function()
        local n, kills = 600, 6
        local argfile = tmp .. "/args"
        os.execute("mkdir -p " .. tmp .. "/state")
        write_args(argfile, { n = n, batch = case.batch, source = case.source, flaky = case.flaky or 0, delay_ms = 2,
          state_dir = tmp .. "/state", sink_file = tmp .. "/sink", dead_letter = tmp .. "/dead" })
        math.randomseed(os.time())
        for _ = 1, kills do run_and_kill(argfile, math.random(0, 100)) end
        -- a transient failure (flaky) stops a run, not retried by the runner: run again until it ends
        local out, failed = run_to_end(argfile), 0
        while out:find("exit=2\n", 1, true) and failed < 100 do
          assert.truthy(out:find("code=TRANSPORT", 1, true) or out:find("code=HTTP", 1, true), out)
          failed = failed + 1
          out = run_to_end(argfile)
        end
        assert.truthy(out:find("exit=1\n", 1, true), out)       -- dead letters: exit 1
        assert.truthy(out:find(" dead=7 ", 1, true), out)
        local orders = vendor_mod.orders(n, 4)
        local expected, count, dup = {}, {}, 0
        for i, o in ipairs(orders) do if i % 97 ~= 0 and i ~= 100 then expected[o.id] = true end end
        for _, id in ipairs(read_lines(tmp .. "/sink")) do
          assert.truthy(expected[id], "unexpected id " .. id)
          if count[id] then dup = dup + 1 end
          count[id] = (count[id] or 0) + 1
        end
        for id in pairs(expected) do assert.truthy(count[id], "lost " .. id) end
        assert.is_true(dup <= (kills + failed) * case.batch, "resent " .. dup)   -- a batch per kill or stop
        -- every dead letter once, despite the kills
        local dead = {}
        for _, line in ipairs(read_lines(tmp .. "/dead")) do dead[#dead + 1] = cjson.decode(line).record.id end
        table.sort(dead)
        assert.same({ orders[97].id, orders[100].id, orders[194].id, orders[291].id, orders[388].id, orders[485].id,
          orders[582].id }, dead)
        local cp = sync.checkpoint(mallapi.store.file(tmp .. "/state"), "child")
        assert.is_true(cp.finished)
        assert.equal(n, cp.read)
        assert.is_true(cp.resumes >= 1, "no kill landed after a checkpoint")
      end)
    end
  end)
end)
