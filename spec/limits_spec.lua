-- Issue 13 item 7: limits at their extremes and caller mistakes with clear errors.
-- max_body = math.huge (the natural "no limit") made every answer TOO_LARGE (a double to
-- size_t overflow); a 1 MiB answer header gave INTERNAL "out of memory"; token:get() raised
-- in string.format on expires_in >= 9.2e18; store:set(5, ...) raised "attempt to index a
-- number value"; crypto.random(0/0) raised "number has no integer representation".
local mallapi = require "mallapi"
local http = require "mallapi.http"
local server = require "support.http_server"
local procs = require "support.procs"

describe("limits", function()
  describe("the libcurl transport", function()
    local srv
    setup(function() srv = server.start() end)
    teardown(function() if srv then srv:stop() end end)

    it("math.huge max_body, timeout and connect_timeout mean no limit", function()
      local s = http.new { max_body = math.huge, timeout = math.huge, connect_timeout = math.huge, retry = false }
      local res, err, code = s:request { url = srv:url("/json") }
      assert.is_nil(err, code)
      assert.equal(200, res.status)
      assert.equal('{"ok":true,"id":1}', res.body)
      res = assert(s:request { url = srv:url("/json"), timeout = math.huge })
      assert.equal(200, res.status)
      local out = s:batch { { url = srv:url("/json"), timeout = math.huge } }
      assert.equal(200, out[1].res.status)
      s:close()
    end)

    -- kind of /raw answer, what it is
    for _, case in ipairs { { "huge", "a 1 MiB answer header" }, { "many", "answer headers over 64 KiB in all" } } do
      it(case[2] .. " is TOO_LARGE, not INTERNAL out of memory", function()
        local s = http.new { retry = false }
        local res, err, code = s:request { url = srv:url("/raw?kind=" .. case[1]) }
        assert.is_nil(res)
        assert.equal("TOO_LARGE", code)
        assert.matches("^http%.request: answer headers too large: GET http://127%.0%.0%.1:%d+/raw %(", err)
        res = assert(s:request { url = srv:url("/raw?kind=spaces") })   -- the session still works
        assert.equal("ok", res.body)
      end)
    end
  end)

  it("token:get() with a huge expires_in (>= 9.2e18 s, math.huge) works", function()
    for _, expires_in in ipairs { 9.3e18, math.huge, 2 ^ 63 } do
      local logged = {}
      local m = mallapi.token.new { key = "k", fetch = function() return "tok-huge", expires_in end,
                                    log = function(_, msg) logged[#logged + 1] = msg end }
      local token, err = m:get()
      assert.is_nil(err)
      assert.equal("tok-huge", token)
      assert.equal("tok-huge", (m:get()))
      assert.matches("expires in %d+ s", table.concat(logged, "\n"))
    end
  end)

  describe("store arguments", function()
    local tmp
    before_each(function() tmp = procs.temp_dir("limits") end)
    after_each(function() procs.remove_dir(tmp) end)

    local function stores()
      return {
        { "store.file", mallapi.store.file(tmp) },
        { "store.memory", mallapi.store.memory() },
        { "store.redis", mallapi.store.redis { port = procs.free_port() } },   -- refused before connecting
      }
    end

    -- method, arguments, "<method>: bad argument #n (why)" of "bad argument #n to '<api>:<method>' (why)"
    local CASES = {
      { "set", { 5, "v", 1000 }, "set: bad argument #1 (key must be a non-empty string, got number)" },
      { "set", { "", "v", 1000 }, "set: bad argument #1 (key must be a non-empty string, got empty string)" },
      { "set", { "k", 5, 1000 }, "set: bad argument #2 (value must be a string, got number)" },
      { "set", { "k", "v", 0 / 0 }, "set: bad argument #3 (ttl_ms must be a positive number, got NaN)" },
      { "set", { "k", "v", "1" }, "set: bad argument #3 (ttl_ms must be a positive number, got string)" },
      { "get", { {} }, "get: bad argument #1 (key must be a non-empty string, got table)" },
      { "delete", { nil }, "delete: bad argument #1 (key must be a non-empty string, got nil)" },
      { "lock", { "k", -1 }, "lock: bad argument #2 (lease_ms must be a positive number, got number)" },
      { "lock", { 1, 100 }, "lock: bad argument #1 (key must be a non-empty string, got number)" },
      { "unlock", { "k" }, "unlock: bad argument #2 (lock_id expected, got nil)" },
    }
    for _, case in ipairs(CASES) do
      it("every store raises for " .. case[1] .. ": " .. case[3], function()
        for _, st in ipairs(stores()) do
          local store = st[2]
          local ok, err = pcall(store[case[1]], store, case[2][1], case[2][2], case[2][3])
          assert.is_false(ok)
          local method, rest = case[3]:match("^(%w+): (.*)$")
          local n, why = rest:match("^bad argument #(%d) (.*)$")
          assert.equal("bad argument #" .. n .. " to '" .. st[1] .. ":" .. method .. "' " .. why, err)
        end
      end)
    end

    it("the file store still works for good arguments", function()
      local store = mallapi.store.file(tmp)
      assert.is_true(store:set("k", "v", 1000))
      assert.equal("v", store:get("k"))
    end)
  end)

  it("crypto.random(0/0) names the argument and says NaN", function()
    local ok, err = pcall(mallapi.crypto.random, 0 / 0)
    assert.is_false(ok)
    assert.equal("bad argument #1 to 'random' (count must be between 0 and 16777216 (got NaN))", err)
  end)
end)
