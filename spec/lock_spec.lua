-- core.lock, the C pieces of the token stores: refresh-window arithmetic, clocks,
-- atomic file writes, and fcntl locks with a lease (other holders are separate OS
-- processes started and killed by PID here). C only, no servers: runs under valgrind.
local core_clock = require("mallapi.core").clock
local lock = require("mallapi.core").lock

local capture = require("support.procs").capture

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function runtime()
  local rt = os.getenv("MALLAPI_RUNTIME") or (rawget(_G, "jit") and "luajit" or "5.4")
  return rt, rt == "luajit" and "luajit" or "lua5.4"
end

describe("lock #c", function()
  local tmp
  setup(function() tmp = capture("mktemp -d /tmp/mallapi-lock.XXXXXX"):gsub("%s+$", "") end)
  teardown(function() sh("rm -rf '" .. tmp .. "'") end)

  describe("phase", function()
    -- { now, fetched_at, expires_at, advisory_ms, mandatory_ms, expected }; windows worked out by hand:
    -- 1 h lifetime: advisory = 10% = 360 s, mandatory 60 s; 24 h: advisory 8640 s;
    -- 1000 s: 10% = 100 s < 5 min, so 300 s; 100 s: both windows capped at half (50 s).
    local cases = {
      { 3239999, 0, 3600000, nil, nil, "fresh" },
      { 3240000, 0, 3600000, nil, nil, "advisory" },
      { 3539999, 0, 3600000, nil, nil, "advisory" },
      { 3540000, 0, 3600000, nil, nil, "mandatory" },
      { 3599999, 0, 3600000, nil, nil, "mandatory" },
      { 3600000, 0, 3600000, nil, nil, "expired" },
      { 9999999, 0, 3600000, nil, nil, "expired" },
      { 77759999, 0, 86400000, nil, nil, "fresh" },
      { 77760000, 0, 86400000, nil, nil, "advisory" },
      { 699999, 0, 1000000, nil, nil, "fresh" },
      { 700000, 0, 1000000, nil, nil, "advisory" },
      { 49999, 0, 100000, nil, nil, "fresh" },
      { 50000, 0, 100000, nil, nil, "mandatory" },
      { 1000, 0, 3000, 1500, 500, "fresh" },
      { 1500, 0, 3000, 1500, 500, "advisory" },
      { 2500, 0, 3000, 1500, 500, "mandatory" },
      { 3539999, 0, 3600000, 0, 0, "fresh" },
      { 3599999, 0, 3600000, 0, 0, "fresh" },
      { 1700000000000 + 3540000, 1700000000000, 1700000000000 + 3600000, nil, nil, "mandatory" },
      { 2999999, 0, 3600000, 600000, 120000, "fresh" },
      { 3000000, 0, 3600000, 600000, 120000, "advisory" },
      { 2999999, 0, 3600000, 600001, 120000, "advisory" },
      { 3480000, 0, 3600000, 600000, 120000, "mandatory" },
      { 2999999, 0, 3600000, 10000, 600000, "fresh" },    -- advisory never below mandatory:
      { 3000000, 0, 3600000, 10000, 600000, "mandatory" }, -- no advisory phase at all here
    }
    for i, c in ipairs(cases) do
      it("case " .. i .. ": " .. c[6], function()
        assert.equal(c[6], lock.phase(c[1], c[2], c[3], c[4], c[5]))
      end)
    end

    it("raises on non-numbers", function()
      assert.has_error(function() lock.phase("x", 0, 1) end)
      assert.has_error(function() lock.phase(0, 0, 0 / 0) end,
                       "bad argument #3 to 'phase' (milliseconds out of range)")
    end)

    it("lives in core.token; core.lock.phase is the same function under its old name", function()
      local token = require("mallapi.core").token
      assert.equal(token.phase, lock.phase)
      assert.equal("advisory", token.phase(3000000, 0, 3600000, 600000, 120000))
      assert.has_error(function() token.phase(0, "x", 1) end,
                       "bad argument #2 to 'phase' (number expected, got string)")
    end)
  end)

  it("clocks are in milliseconds", function()
    local wall = core_clock.now_ms()
    assert.is_true(wall > 1600000000000 and wall < 4100000000000)
    assert.is_true(math.abs(wall - os.time() * 1000) < 5000)
    local a = core_clock.monotonic_ms()
    core_clock.sleep_ms(20)
    assert.is_true(core_clock.monotonic_ms() >= a)
    assert.is_number(lock.pid())
  end)

  describe("files", function()
    it("write_file replaces atomically with mode 0600 and read_file reads it back", function()
      local path = tmp .. "/f"
      local big = string.rep("0123456789\0", 10000)
      for _, data in ipairs{ "first", "", big, "x\ny" } do
        assert.is_true(lock.write_file(path, data))
        assert.equal(data, lock.read_file(path))
      end
      assert.equal("600\n", capture("stat -c %a '" .. path .. "'"))
      assert.equal("f\n", capture("ls '" .. tmp .. "' | grep '^f'"))   -- no temp file left
    end)

    it("read_file of a missing file is false, errors are nil, msg, IO", function()
      assert.is_false(lock.read_file(tmp .. "/missing"))
      local data, err, code = lock.read_file(tmp)
      assert.is_nil(data)
      assert.equal("lock.read_file: read " .. tmp .. ": Is a directory", err)
      assert.equal("IO", code)
      local ok, werr, wcode = lock.write_file("/nonexistent-mallapi/x", "v")
      assert.is_nil(ok)
      assert.truthy(werr:find("^lock%.write_file: open /nonexistent%-mallapi/x%.tmp%.%d+%.%d+: "
                              .. "No such file or directory$"), werr)
      assert.equal("IO", wcode)
    end)
  end)

  describe("try", function()
    local function holder(path, lease)
      local rt, bin = runtime()
      local script = string.format(
        "local l = require('mallapi.core').lock; local h = assert(l.try(%q, 'child', %d)); "
        .. "local f = io.open(%q, 'w'); f:write('held'); f:close(); require('mallapi.core').clock.sleep_ms(20000)",
        path, lease, path .. ".signal")
      local f = assert(io.open(path .. ".lua", "w"))
      f:write(script)
      f:close()
      local pid = capture("LUA_CPATH='build/" .. rt .. "/?.so;;' " .. bin .. " '" .. path .. ".lua'"
                          .. " >/dev/null 2>&1 & echo $!"):match("%d+")
      for _ = 1, 500 do
        local signal = io.open(path .. ".signal")
        if signal then signal:close() return pid end
        core_clock.sleep_ms(10)
      end
      sh("kill -9 " .. pid)
      error("lock holder did not start")
    end

    it("takes, reports and releases a lock; release twice is harmless", function()
      local h = lock.try(tmp .. "/a.lock", "me", 1000)
      assert.equal("mallapi.Lock (held)", tostring(h))
      assert.is_true(h:held())
      h:release()
      h:release()
      assert.is_false(h:held())
      assert.equal("mallapi.Lock (released)", tostring(h))
      local again = lock.try(tmp .. "/a.lock", "me", 1000)
      assert.is_true(again:held())
      again:release()
      assert.equal("600\n", capture("stat -c %a '" .. tmp .. "/a.lock'"))
    end)

    it("another process's lock is busy while its lease runs, and free once it is killed", function()
      local path = tmp .. "/b.lock"
      local pid = holder(path, 60000)
      assert.is_false(lock.try(path, "me", 1000))
      sh("kill -9 " .. pid)
      local h
      for _ = 1, 200 do                            -- until the kernel has reaped it
        h = lock.try(path, "me", 1000)
        if h then break end
        core_clock.sleep_ms(10)
      end
      assert.is_true(h:held())
      h:release()
    end)

    it("a hung holder's lock is broken after its lease", function()
      local path = tmp .. "/c.lock"
      local pid = holder(path, 50)
      sh("kill -STOP " .. pid)
      core_clock.sleep_ms(200)
      local h = lock.try(path, "me", 1000)
      sh("kill -9 " .. pid)
      assert.is_true(h and h:held())
      assert.equal("me", lock.read_file(path):match("^(%S+)"))
      h:release()
    end)

    it("raises on bad arguments and reports an unusable path", function()
      assert.has_error(function() lock.try(tmp .. "/d", "me", 0) end,
                       "bad argument #3 to 'try' (lease must be positive)")
      assert.has_error(function() lock.try(nil, "me", 10) end)
      local h, err, code = lock.try("/nonexistent-mallapi/l", "me", 10)
      assert.is_nil(h)
      assert.equal("lock.try: open /nonexistent-mallapi/l: No such file or directory", err)
      assert.equal("IO", code)
    end)
  end)
end)
