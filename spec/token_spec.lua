-- mallapi.token against a real Sobot-like token endpoint on loopback (nginx + Lua,
-- spec/support/token_server.lua) that counts fetches and invalidates the previous
-- token on each fetch. Expiry is reached through an injected clock; the
-- multi-process cases run real OS processes under the same runtime. Assertions are
-- on fetch counts and token values, never on elapsed time.
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"
local server = require "support.token_server"
local procs = require "support.procs"
local redis_server = require "support.redis_server"
local lock = require("mallapi.core").lock

local KEY = "sobot:" .. server.APPID
local HOUR_MS = 3600 * 1000

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function mktemp()
  local p = assert(io.popen("mktemp -d /tmp/mallapi-token.XXXXXX"))
  local dir = p:read("*l")
  p:close()
  return dir
end

describe("token", function()
  local srv, base, tmp

  setup(function()
    srv = server.start()
    base = "http://127.0.0.1:" .. srv.port
  end)
  teardown(function() srv:stop() end)

  before_each(function()
    assert.equal("ok", server.admin(base, "reset=1&expires_in=3600"))
    tmp = mktemp()
  end)
  after_each(function() sh("rm -rf '" .. tmp .. "'") end)

  -- A manager on the test server with a fake clock (ms) and captured logs.
  local function harness(opts)
    local h = { now = 1700000000000, logs = {}, signs = {} }
    opts = opts or {}
    local o = {
      key = KEY, fetch = server.fetcher(base, opts.app_key, h.signs), store = opts.store,
      clock = function() return h.now end,
      log = function(level, msg) h.logs[#h.logs + 1] = level .. ": " .. msg end,
    }
    for k, v in pairs(opts) do if k ~= "app_key" then o[k] = v end end
    h.manager = mallapi.token.new(o)
    return h
  end

  describe("in one process", function()
    it("fetches once and serves the cached token while it is fresh", function()
      local h = harness()
      local t1 = assert(h.manager:get())
      h.now = h.now + HOUR_MS / 2
      assert.equal(t1, h.manager:get())
      assert.equal(1, server.count(base))
      assert.equal("valid", server.check(base, t1))
      assert.equal("fetch", h.manager:status().source)
    end)

    it("advisory window: refreshes once, the old token is replaced", function()
      local h = harness()
      local t1 = assert(h.manager:get())
      h.now = h.now + HOUR_MS - 200000              -- advisory: last 360 s (10% of 1 h)
      assert.equal("advisory", h.manager:status().phase)
      local t2 = assert(h.manager:get())
      assert.are_not.equal(t1, t2)
      assert.equal(t2, h.manager:get())
      assert.equal(2, server.count(base))
      assert.equal("valid", server.check(base, t2))
    end)

    it("advisory window with a failing endpoint: logs, keeps the old token working", function()
      local h = harness()
      local t1 = assert(h.manager:get())
      assert.equal("ok", server.admin(base, "fail=1"))
      h.now = h.now + HOUR_MS - 200000
      assert.equal(t1, h.manager:get())
      assert.equal("valid", server.check(base, t1))
      assert.equal(2, server.attempts(base))
      h.now = h.now + 29999                          -- within retry_interval (30 s): no new attempt
      assert.equal(t1, h.manager:get())
      assert.equal(2, server.attempts(base))
      assert.same({ "info: token: fetched a new token for key sobot:app1 (generation 1, expires in 3600 s)",
                    "warn: token: advisory refresh failed for key sobot:app1, keeping the current token: "
                    .. "get_token answered HTTP 500 (999999: token service down)" }, h.logs)
      assert.equal("ok", server.admin(base, "fail=0"))
      h.now = h.now + 1                              -- retry_interval over: one more attempt, succeeds
      local t2 = assert(h.manager:get())
      assert.are_not.equal(t1, t2)
      assert.equal(3, server.attempts(base))
      assert.equal(2, server.count(base))
    end)

    it("mandatory window with a failing endpoint: an error naming the key", function()
      local h = harness()
      assert(h.manager:get())
      assert.equal("ok", server.admin(base, "fail=1"))
      h.now = h.now + HOUR_MS - 30000
      local token, err, code = h.manager:get()
      assert.is_nil(token)
      assert.equal("token.get: refresh failed for key sobot:app1: get_token answered HTTP 500 "
                   .. "(999999: token service down)", err)
      assert.equal("HTTP", code)
      assert.equal("ok", server.admin(base, "fail=0"))
      local t2 = assert(h.manager:get())
      assert.equal("valid", server.check(base, t2))
    end)

    it("a refused signature gives an AUTH error without the key or sign", function()
      local h = harness{ app_key = "wrong-app-key-123" }
      local token, err, code = h.manager:get()
      assert.is_nil(token)
      assert.equal("token.get: refresh failed for key sobot:app1: get_token refused (900003: sign error)", err)
      assert.equal("AUTH", code)
      assert.equal(0, server.count(base))
    end)

    local bad_fetches = {
      { "returns nothing", function() end,
        "token.get: refresh failed for key sobot:app1: fetch returned no token", "AUTH" },
      { "returns no lifetime", function() return "abc" end,
        "token.get: refresh failed for key sobot:app1: fetch returned no token and lifetime "
        .. "(expected token string, expires_in seconds > 0)", "AUTH" },
      { "raises", function() error("boom", 0) end,
        "token.get: refresh failed for key sobot:app1: fetch raised: boom", "AUTH" },
      { "returns nil, msg, code", function() return nil, "vendor down", "TIMEOUT" end,
        "token.get: refresh failed for key sobot:app1: vendor down", "TIMEOUT" },
    }
    for _, case in ipairs(bad_fetches) do
      it("a fetch that " .. case[1] .. " gives a clear error", function()
        local m = mallapi.token.new{ key = KEY, fetch = case[2], log = function() end }
        local token, err, code = m:get()
        assert.is_nil(token)
        assert.equal(case[3], err)
        assert.equal(case[4], code)
      end)
    end

    it("waiting for another holder's refresh is bounded by wait", function()
      local store = mallapi.store.memory()
      assert.truthy(store:lock(KEY, 60000))        -- a refresher that never finishes
      local sleeps = 0
      local m = mallapi.token.new{ key = KEY, store = store, fetch = server.fetcher(base), wait = 100,
                                   poll = 10, sleep = function() sleeps = sleeps + 1 end }
      local token, err, code = m:get()
      assert.is_nil(token)
      assert.equal("token.get: timed out after 100 ms waiting for another refresh of key sobot:app1", err)
      assert.equal("TIMEOUT", code)
      assert.equal(10, sleeps)
      assert.equal(0, server.count(base))
    end)

    it("invalid token: the next call fetches once, retries once and succeeds", function()
      local h = harness{ store = mallapi.store.file(tmp) }
      local t1 = assert(h.manager:get())
      assert.equal("ok", server.admin(base, "revoke=1"))   -- behind the client's back
      local used = {}
      local body = h.manager:call(function(token)
        used[#used + 1] = token
        return server.api(base, token)
      end, function(answer) return answer:find('"retCode":"900002"', 1, true) ~= nil end)
      assert.equal('{"retCode":"000000","retMsg":"success","data":"ok"}', body)
      assert.equal(2, #used)
      assert.equal(t1, used[1])
      assert.are_not.equal(t1, used[2])
      assert.equal(2, server.count(base))
    end)

    it("invalidate uses a newer token from the store without fetching", function()
      local store = mallapi.store.file(tmp)
      local a, b = harness{ store = store }, harness{ store = store }
      local t1 = assert(a.manager:get())
      assert.equal(t1, b.manager:get())
      local t2 = assert(a.manager:invalidate(t1))
      assert.are_not.equal(t1, t2)
      assert.equal(2, server.count(base))
      assert.equal(t2, b.manager:invalidate(t1))
      assert.equal(2, server.count(base))
      assert.equal("store", b.manager:status().source)
      assert.equal("valid", server.check(base, t2))
    end)

    it("invalidate of a token nobody replaced fetches, keeps generation order", function()
      local h = harness{ store = mallapi.store.memory() }
      local t1 = assert(h.manager:get())
      local t2 = assert(h.manager:invalidate(t1))
      local t3 = assert(h.manager:invalidate(t2))
      assert.equal(3, server.count(base))
      assert.equal(3, h.manager:status().generation)
      assert.equal("valid", server.check(base, t3))
    end)

    for _, kind in ipairs{ "memory", "file" } do
      it("single flight across coroutines (" .. kind .. " store): one fetch", function()
        local store = kind == "memory" and mallapi.store.memory() or mallapi.store.file(tmp)
        local real_fetch = server.fetcher(base)
        local m = mallapi.token.new{
          key = KEY, store = store, poll = 1,
          fetch = function() coroutine.yield() return real_fetch() end,   -- a fetch doing I/O yields
          sleep = function() coroutine.yield() end,                      -- so does waiting
        }
        local threads, results = {}, {}
        for i = 1, 8 do threads[i] = coroutine.create(function() results[i] = { m:get() } end) end
        for _ = 1, 1000 do                          -- round-robin scheduler, bounded
          local alive = 0
          for _, co in ipairs(threads) do
            if coroutine.status(co) == "suspended" then
              alive = alive + 1
              assert(coroutine.resume(co))
            end
          end
          if alive == 0 then break end
        end
        assert.equal(1, server.count(base))
        for i = 1, 8 do
          assert.is_string(results[i][1])
          assert.equal(results[1][1], results[i][1])
        end
        assert.equal("valid", server.check(base, results[1][1]))
      end)
    end

    it("secrets appear in no error, log, tostring or status", function()
      local redis_store = mallapi.store.redis{ port = 1, password = "r3dis-Secret-pw", prefix = "p:" }
      local h = harness{ store = mallapi.store.file(tmp) }
      local texts = {}
      local tokens = {}
      local function note(...) for i = 1, select("#", ...) do texts[#texts + 1] = tostring((select(i, ...))) end end
      tokens[1] = assert(h.manager:get())
      note(tostring(h.manager), tostring(h.manager.store), tostring(redis_store))
      for _, v in pairs(h.manager:status()) do note(v) end
      assert.equal("ok", server.admin(base, "fail=1"))
      h.now = h.now + HOUR_MS - 200000
      assert.equal(tokens[1], h.manager:get())
      h.now = h.now + 180000
      note(select(2, h.manager:get()))
      assert.equal("ok", server.admin(base, "fail=0"))
      tokens[2] = assert(h.manager:get())
      note(select(2, h.manager:invalidate(tokens[2])))
      tokens[3] = h.manager.cache.token
      local bad = harness{ app_key = "wrong-app-key-123" }
      note(select(2, bad.manager:get()))
      note(select(2, redis_store:get(KEY)))
      for _, line in ipairs(h.logs) do note(line) end
      for _, line in ipairs(bad.logs) do note(line) end
      note(tostring(h.manager))
      for _, v in pairs(h.manager:status()) do note(v) end
      local secrets = { server.APP_KEY, "wrong-app-key-123", "r3dis-Secret-pw" }
      for _, t in ipairs(tokens) do secrets[#secrets + 1] = t end
      for _, s in ipairs(h.signs) do secrets[#secrets + 1] = s end
      for _, s in ipairs(bad.signs) do secrets[#secrets + 1] = s end
      assert.is_true(#h.signs >= 3)
      assert.is_true(#texts > 20)
      for _, text in ipairs(texts) do
        for _, secret in ipairs(secrets) do
          assert.is_nil(text:find(secret, 1, true), "secret found in: " .. text)
        end
      end
    end)

    it("tostring and status mask the token", function()
      local h = harness{ store = mallapi.store.memory() }
      local t = assert(h.manager:get())
      assert.equal("mallapi.token(key=sobot:app1, store=mallapi.store.memory, phase=fresh)", tostring(h.manager))
      local s = h.manager:status()
      assert.equal(t:sub(1, 3) .. "...(" .. #t .. " chars)", s.token)
      assert.equal(HOUR_MS, s.expires_in)
      assert.equal(0, s.age)
      assert.equal(1, s.generation)
      assert.equal("pid " .. lock.pid(), s.fetched_by)
    end)

    local bad_new = {
      { nil, "bad argument #1 to 'mallapi.token.new' (table expected, got nil)" },
      { {}, "bad argument #1 to 'mallapi.token.new' (option 'key': non-empty string expected, got nil)" },
      { { key = "k" }, "bad argument #1 to 'mallapi.token.new' (option 'fetch': function expected, got nil)" },
      { { key = "k", fetch = print, store = {} },
        "bad argument #1 to 'mallapi.token.new' (option 'store': store with get, set, lock, unlock expected)" },
      { { key = "k", fetch = print, wait = -1 },
        "bad argument #1 to 'mallapi.token.new' (option 'wait': milliseconds >= 0 expected, got -1)" },
      { { key = "k", fetch = print, clock = 5 },
        "bad argument #1 to 'mallapi.token.new' (option 'clock': function expected, got number)" },
      { { key = "k", fetch = print, lease = 0 }, "bad argument #1 to 'mallapi.token.new' (option 'lease': must be " ..
          "at least 1 ms)" },
    }
    for i, case in ipairs(bad_new) do
      it("new raises on caller mistakes (" .. i .. ")", function()
        assert.has_error(function() mallapi.token.new(case[1]) end, case[2])
      end)
    end

    it("invalidate and call raise on caller mistakes", function()
      local m = mallapi.token.new{ key = "k", fetch = print }
      assert.has_error(function() m:invalidate() end,
                       "bad argument #1 to 'invalidate' (token string expected, got nil)")
      assert.has_error(function() m:call() end, "bad argument #1 to 'call' (function expected, got nil)")
      assert.has_error(function() m:call(print) end, "bad argument #2 to 'call' (function expected, got nil)")
    end)
  end)

  describe("across processes", function()
    local redis

    setup(function() redis = redis_server.start() end)
    teardown(function() redis:stop() end)

    -- the store the parent uses, and how children open the same one
    local function stores(kind)
      if kind == "file" then return mallapi.store.file(tmp), "file:" .. tmp end
      local store = mallapi.store.redis{ port = redis.port, password = redis.password, prefix = "spec:" }
      assert.is_true(store:delete(KEY))
      return store, "redis:" .. redis.port .. ":" .. redis.password
    end

    local function spawn(mode, store_spec, offset)
      return procs.spawn("spec/support/token_child.lua",
                         { mode, store_spec, base, tmp .. "/go", tostring(offset), tmp .. "/signal" }, tmp)
    end

    local function go() assert(io.open(tmp .. "/go", "w")):close() end

    -- the parent fetches the first token into the shared store
    local function seed(store)
      local m = mallapi.token.new{ key = KEY, store = store, fetch = server.fetcher(base), log = function() end }
      local t1 = assert(m:get())
      assert.equal(1, server.count(base))
      return t1
    end

    local function tokens_of(outputs, prefix)
      local seen = {}
      for i, out in ipairs(outputs) do
        local token = out:match("^" .. prefix .. " (%x+)")
        assert.is_string(token, "process " .. i .. " printed: " .. out)
        seen[#seen + 1] = token
      end
      return seen
    end

    for _, kind in ipairs{ "file", "redis" } do
      it("16 processes entering the mandatory window cause one fetch (" .. kind .. " store)", function()
        local store, store_spec = stores(kind)
        local t1 = seed(store)
        local children = {}
        for i = 1, 16 do children[i] = spawn("get", store_spec, HOUR_MS - 30000) end
        go()
        local outputs = {}
        for i, child in ipairs(children) do outputs[i] = child:wait() end
        local seen = tokens_of(outputs, "token")
        assert.equal(2, server.count(base))
        for i = 1, 16 do assert.equal(seen[1], seen[i]) end
        assert.are_not.equal(t1, seen[1])
        assert.equal("valid", server.check(base, seen[1]))
        local fetchers = 0
        for _, out in ipairs(outputs) do if out:find(" fetch\n", 1, true) then fetchers = fetchers + 1 end end
        assert.equal(1, fetchers)
      end)

      it("8 processes in the advisory window: one refreshes, the others keep working (" .. kind .. " store)",
         function()
        local store, store_spec = stores(kind)
        local t1 = seed(store)
        local children = {}
        for i = 1, 8 do children[i] = spawn("get", store_spec, HOUR_MS - 200000) end
        go()
        local outputs = {}
        for i, child in ipairs(children) do outputs[i] = child:wait() end
        local seen = tokens_of(outputs, "token")
        assert.equal(2, server.count(base))
        local t2 = assert(store:get(KEY)):match("\ntoken=(%x+)\n")
        assert.are_not.equal(t1, t2)
        assert.equal("valid", server.check(base, t2))
        for i = 1, 8 do assert.is_true(seen[i] == t1 or seen[i] == t2, outputs[i]) end
      end)

      for _, signal in ipairs{ "KILL", "STOP" } do
        it("a holder " .. (signal == "KILL" and "killed" or "hung (SIGSTOP)") .. " while refreshing is "
           .. "taken over after its lease (" .. kind .. " store)", function()
          local store, store_spec = stores(kind)
          seed(store)
          local holder = spawn("hold", store_spec, HOUR_MS - 30000)
          local pid
          for _ = 1, 500 do                         -- the holder is inside fetch, lock held
            local f = io.open(tmp .. "/signal")
            if f then pid = f:read("*l") f:close() break end
            core_clock.sleep_ms(20)
          end
          assert.is_string(pid)
          local children = {}
          for i = 1, 4 do children[i] = spawn("get", store_spec, HOUR_MS - 30000) end
          go()
          core_clock.sleep_ms(100)
          assert.is_true(sh("kill -" .. signal .. " " .. pid))
          local outputs = {}
          for i, child in ipairs(children) do outputs[i] = child:wait() end
          sh("kill -KILL " .. pid .. " 2>/dev/null")
          holder:wait()
          local seen = tokens_of(outputs, "token")
          assert.equal(2, server.count(base))
          for i = 1, 4 do assert.equal(seen[1], seen[i]) end
          assert.equal("valid", server.check(base, seen[1]))
        end)
      end

      it("two processes hitting the invalid token at once cause one fetch (" .. kind .. " store)", function()
        local store, store_spec = stores(kind)
        local t1 = seed(store)
        assert.equal("ok", server.admin(base, "revoke=1"))
        local children = { spawn("call", store_spec, 0), spawn("call", store_spec, 0) }
        go()
        local outputs = { children[1]:wait(), children[2]:wait() }
        local seen = tokens_of(outputs, "call 000000")
        assert.equal(2, server.count(base))
        assert.equal(seen[1], seen[2])
        assert.are_not.equal(t1, seen[1])
        assert.equal("valid", server.check(base, seen[1]))
      end)
    end
  end)
end)
