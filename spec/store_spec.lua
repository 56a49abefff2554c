-- The store interface (get, set, lock, unlock, delete) that every token store
-- implements, checked identically on the memory, file and Redis stores (a real
-- redis-server started by the spec), plus each store's own promises.
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"
local redis_server = require "support.redis_server"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local capture = require("support.procs").capture

describe("store", function()
  local redis, tmp

  setup(function()
    redis = redis_server.start()
    tmp = capture("mktemp -d /tmp/mallapi-store.XXXXXX"):gsub("%s+$", "")
  end)
  teardown(function()
    redis:stop()
    sh("rm -rf '" .. tmp .. "'")
  end)

  local kinds = {
    memory = function() return mallapi.store.memory() end,
    file = function() return mallapi.store.file(tmp) end,
    redis = function()
      return mallapi.store.redis{ port = redis.port, password = redis.password, prefix = "st:", db = 1 }
    end,
  }

  for _, kind in ipairs{ "memory", "file", "redis" } do
    describe(kind, function()
      local store
      before_each(function()
        store = kinds[kind]()
        assert.is_true(store:delete("acct:1"))
        assert.is_true(store:delete("acct:2"))
      end)

      it("get of an absent key is nil", function()
        assert.is_nil(store:get("acct:1"))
      end)

      it("set then get returns the value byte for byte", function()
        local value = "mallapi-token 1\ntoken=a%3Db\n\0\255 tail"
        assert.is_true(store:set("acct:1", value, 60000))
        assert.equal(value, store:get("acct:1"))
        assert.is_nil(store:get("acct:2"))
        assert.is_true(store:set("acct:1", "second", 60000))
        assert.equal("second", store:get("acct:1"))
      end)

      it("lock excludes a second holder until unlocked by its own id", function()
        local id = store:lock("acct:1", 60000)
        assert.is_string(id)
        assert.is_false(store:lock("acct:1", 60000))
        assert.is_string(store:lock("acct:2", 60000))     -- locks are per key
        assert.is_false(store:unlock("acct:1", "someone-else"))
        assert.is_false(store:lock("acct:1", 60000))
        assert.is_true(store:unlock("acct:1", id))
        assert.is_false(store:unlock("acct:1", id))       -- releasing twice is harmless
        local again = store:lock("acct:1", 60000)
        assert.is_string(again)
        assert.are_not.equal(id, again)
        assert.is_true(store:unlock("acct:1", again))
      end)

      it("a lock whose lease has run out can be taken", function()
        local id = store:lock("acct:1", 50)
        assert.is_string(id)
        core_clock.sleep_ms(200)
        local next_id = store:lock("acct:1", 60000)
        assert.is_string(next_id)
        assert.is_false(store:unlock("acct:1", id))       -- the old holder no longer owns it
        assert.is_true(store:unlock("acct:1", next_id))
      end)

      it("tostring names the store and no password", function()
        local text = tostring(store)
        assert.truthy(text:find("^mallapi%.store%." .. kind))
        assert.is_nil(text:find(redis.password, 1, true))
      end)
    end)
  end

  describe("memory", function()
    it("drops a value after its TTL", function()
      local store = mallapi.store.memory()
      store:set("k", "v", 50)
      store:set("forever", "v")
      core_clock.sleep_ms(200)
      assert.is_nil(store:get("k"))
      assert.equal("v", store:get("forever"))
    end)
  end)

  describe("file", function()
    it("writes one file per key, mode 0600, named after the key only", function()
      local store = mallapi.store.file(tmp .. "/")
      assert.is_true(store:set("sobot:app1", "token=SeCrEtToKeN\n"))
      local id = store:lock("sobot:app1", 1000)
      store:unlock("sobot:app1", id)
      local listing = capture("cd '" .. tmp .. "' && stat -c '%a %n' sobot%3Aapp1.*")
      assert.equal("600 sobot%3Aapp1.lock\n600 sobot%3Aapp1.token\n", listing)
      assert.is_nil(capture("ls '" .. tmp .. "'"):find("SeCrEt", 1, true))
    end)

    it("the lock excludes another process and is free once it exits", function()
      local store = mallapi.store.file(tmp)
      local id = assert(store:lock("shared", 60000))
      local script = tmp .. "/try.lua"
      local f = assert(io.open(script, "w"))
      f:write("local s = require('mallapi').store.file(", string.format("%q", tmp), ")\n",
              "print(tostring(s:lock('shared', 60000)))\n")
      f:close()
      local rt = os.getenv("MALLAPI_RUNTIME") or (rawget(_G, "jit") and "luajit" or "5.4")
      local cmd = "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/" .. rt .. "/?.so;;' "
                  .. (rt == "luajit" and "luajit" or "lua5.4") .. " '" .. script .. "' 2>&1"
      assert.equal("false\n", capture(cmd))
      assert.is_true(store:unlock("shared", id))
      assert.truthy(capture(cmd):find("^%d+%-%d+%-%d+\n$"))
    end)

    it("reports a directory removed after creation as a STORE-area IO error", function()
      local dir = os.tmpname()
      os.remove(dir)
      local store = assert(mallapi.store.file(dir))        -- created here (front_door_spec)
      os.execute("rmdir '" .. dir .. "'")
      local ok, err, code = store:set("k", "v")
      assert.is_nil(ok)
      assert.truthy(err:find("^store%.file: open " .. dir:gsub("%p", "%%%0") .. "/k%.token%.tmp%.%d+%.%d+: "
                             .. "No such file or directory$"), err)
      assert.equal("IO", code)
      local lock_id, lerr, lcode = store:lock("k", 100)
      assert.is_nil(lock_id)
      assert.equal("store.file: open " .. dir .. "/k.lock: No such file or directory", lerr)
      assert.equal("IO", lcode)
    end)

    it("raises on a missing directory argument", function()
      assert.has_error(function() mallapi.store.file() end,
                       "bad argument #1 to 'mallapi.store.file' (directory name expected, got nil)")
    end)
  end)

  describe("redis", function()
    it("a wrong password gives an error without the password", function()
      local store = mallapi.store.redis{ port = redis.port, password = "not-the-password" }
      local ok, err, code = store:get("k")
      assert.is_nil(ok)
      assert.equal("store.redis: AUTH: WRONGPASS invalid username-password pair or user is disabled.", err)
      assert.equal("STORE", code)
    end)

    it("a closed port gives a connect error", function()
      local store = mallapi.store.redis{ port = 1 }
      local ok, err, code = store:set("k", "v", 10)
      assert.is_nil(ok)
      assert.equal("store.redis: connect to 127.0.0.1:1: connection refused", err)
      assert.equal("STORE", code)
    end)

    it("sets a TTL on values and a lease on locks", function()
      local store = kinds.redis()
      store:set("ttl", "v", 60000)
      local id = store:lock("ttl", 30000)
      local raw = mallapi.store.redis{ port = redis.port, password = redis.password, db = 1, prefix = "" }
      local ttl = raw:command("PTTL", "st:ttl")
      local lease = raw:command("PTTL", "st:ttl:lock")
      assert.is_true(ttl > 30000 and ttl <= 60000)
      assert.is_true(lease > 0 and lease <= 30000)
      assert.equal(id, raw:command("GET", "st:ttl:lock"))
      store:unlock("ttl", id)
    end)

    it("reconnects after the server dropped the connection", function()
      local store = kinds.redis()
      assert.is_true(store:set("re", "v1", 60000))
      local admin = mallapi.store.redis{ port = redis.port, password = redis.password }
      assert.is_true(admin:command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes") >= 1)
      assert.equal("v1", store:get("re"))
    end)

    it("raises on a bad argument", function()
      assert.has_error(function() mallapi.store.redis() end,
                       "bad argument #1 to 'mallapi.store.redis' (table expected, got nil)")
    end)
  end)
end)
