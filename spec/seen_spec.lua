-- core.seen (src/seen.c): the set of seen keys that the nginx workers of a webhook
-- receiver share through a mapped file. SipHash-2-4-128 is checked against `openssl mac`
-- (an independent implementation); expiry, deletion, a full table, compaction, a file
-- reopened, a damaged file, a lock left by a dead process or an earlier boot, and several
-- OS processes adding the same keys at once. C only, no servers: runs under valgrind.
local seen = require("mallapi.core").seen
local procs = require "support.procs"

local function hex(s) return (s:gsub(".", function(c) return string.format("%02X", c:byte()) end)) end

local capture = procs.capture

-- the header's byte offsets (src/seen.c: magic 8, version 4, capacity 4, key 16, boot id 40)
local LOCK_AT, BOOT_AT = 72, 32

local function poke(path, at, bytes)
  local f = assert(io.open(path, "r+b"))
  f:seek("set", at)
  f:write(bytes)
  f:close()
end

local function peek(path, at, n)
  local f = assert(io.open(path, "rb"))
  f:seek("set", at)
  local bytes = f:read(n)
  f:close()
  return bytes
end

local function u32(n)
  local floor = math.floor
  return string.char(n % 256, floor(n / 256) % 256, floor(n / 65536) % 256, floor(n / 16777216) % 256)
end

describe("seen #c", function()
  local tmp
  setup(function() tmp = procs.temp_dir("seen") end)
  teardown(function() procs.remove_dir(tmp) end)

  it("siphash128 matches openssl mac SIPHASH (size 16) for lengths 0 to 40", function()
    math.randomseed(7)
    for len = 0, 40 do
      local key, data = {}, {}
      for i = 1, 16 do key[i] = string.char(math.random(0, 255)) end
      for i = 1, len do data[i] = string.char(math.random(0, 255)) end
      key, data = table.concat(key), table.concat(data)
      local file = tmp .. "/sip.bin"
      local f = assert(io.open(file, "wb"))
      f:write(data)
      f:close()
      local want = capture("openssl mac -macopt hexkey:" .. hex(key) .. " -macopt size:16 -in '" .. file
                           .. "' SIPHASH"):gsub("%s+$", "")
      assert.equal(32, #want, "openssl mac printed: " .. want)
      assert.equal(want, hex(seen.siphash128(key, data)), "length " .. len)
    end
  end)

  it("adds a key once, until it expires or is deleted", function()
    local set = assert(seen.open(nil, 64))
    local now = 1700000000
    assert.is_true(set:add("order_create:1:2", 60, now))
    assert.is_false(set:add("order_create:1:2", 60, now + 59))
    assert.is_true(set:has("order_create:1:2", now + 59))
    assert.is_false(set:has("order_create:1:2", now + 60))          -- expired at now + ttl
    assert.is_false(set:has("order_create:1:3", now))
    assert.is_true(set:add("order_create:1:2", 60, now + 60))       -- again, a new lifetime
    assert.is_false(set:add("order_create:1:2", 60, now + 119))
    assert.is_true(set:delete("order_create:1:2"))
    assert.is_false(set:delete("order_create:1:2"))
    assert.is_false(set:has("order_create:1:2", now + 61))
    assert.is_true(set:add("order_create:1:2", 60, now + 61))
    -- keys are bytes: embedded zeros and long keys are distinct keys
    assert.is_true(set:add("a\0b", 60, now))
    assert.is_true(set:add("a\0c", 60, now))
    assert.is_true(set:add(string.rep("k", 5000), 60, now))
    assert.is_false(set:add(string.rep("k", 5000), 60, now))
    assert.is_true(set:add(string.rep("k", 4999), 60, now))
    assert.same({ capacity = 64, used = 5, live = 5 }, set:stats(now + 1))
    set:close()
  end)

  it("refuses a key when 3/4 of the slots hold live keys, and makes room once they expire", function()
    local set = assert(seen.open(nil, 64))
    local now = 1700000000
    for i = 1, 40 do assert.is_true(set:add("long" .. i, 3600, now)) end
    for i = 1, 8 do assert.is_true(set:add("short" .. i, 10, now)) end
    local ok, err, code = set:add("one more", 3600, now)
    assert.is_nil(ok)
    assert.equal("mallapi.seen.add: the set is full", err)
    assert.equal("FULL", code)
    assert.is_false(set:add("long7", 3600, now))                     -- a live key is still found
    -- the short ones expire: new keys take their room, the long ones stay
    for i = 1, 8 do assert.is_true(set:add("new" .. i, 3600, now + 11)) end
    assert.is_nil((set:add("newer", 3600, now + 11)))
    for i = 1, 40 do assert.is_true(set:has("long" .. i, now + 11), "long" .. i) end
    for i = 1, 8 do assert.is_false(set:has("short" .. i, now + 11)) end
    assert.same({ capacity = 64, used = 48, live = 48 }, set:stats(now + 11))
    set:close()
  end)

  it("compacts when the used slots reach 3/4: deleted and expired keys leave, live ones stay", function()
    local set = assert(seen.open(nil, 128))
    local now = 1700000000
    for i = 1, 90 do assert.is_true(set:add("k" .. i, i <= 30 and 5 or 3600, now)) end
    for i = 31, 60 do assert.is_true(set:delete("k" .. i)) end
    assert.same({ capacity = 128, used = 90, live = 30 }, set:stats(now + 6))
    for i = 1, 60 do assert.is_true(set:add("n" .. i, 3600, now + 6), "n" .. i) end
    local st = set:stats(now + 6)
    assert.equal(90, st.live)
    assert.is_true(st.used <= 96)
    for i = 61, 90 do assert.is_true(set:has("k" .. i, now + 6)) end
    for i = 1, 60 do assert.is_true(set:has("n" .. i, now + 6)) end
    for i = 1, 60 do assert.is_false(set:has("k" .. i, now + 6)) end
    set:close()
  end)

  it("keeps its keys in the file: reopened (with another capacity asked) they are there", function()
    local path = tmp .. "/ids.seen"
    local set = assert(seen.open(path, 100))
    assert.equal("mallapi.seen (" .. path .. ")", tostring(set))
    assert.is_true(set:add("order_create:531464955418787840:1622098157000", 3600))
    set:close()
    assert.equal("mallapi.seen (closed)", tostring(set))
    assert.has_error(function() set:add("x", 1) end, "mallapi.seen.add: the set is closed")
    local again = assert(seen.open(path, 5000))
    assert.equal(128, again:stats().capacity)                       -- the file's own, 100 rounded up
    assert.is_false(again:add("order_create:531464955418787840:1622098157000", 3600))
    assert.is_true(again:add("order_create:531464955418787840:1622098157001", 3600))
    again:close()
    local f = assert(io.open(path, "rb"))
    assert.equal(128 + 128 * 24, #f:read("*a"))
    f:close()
  end)

  it("refuses a file that is not a seen set, and paths it cannot open", function()
    local path = tmp .. "/other.txt"
    local f = assert(io.open(path, "wb"))
    f:write(string.rep("x", 4000))
    f:close()
    local set, err, code = seen.open(path)
    assert.is_nil(set)
    assert.equal("seen set " .. path .. ": not a mallapi seen set (or damaged)", err)
    assert.equal("IO", code)
    set, err, code = seen.open(tmp .. "/no/such/dir/ids.seen")
    assert.is_nil(set)
    assert.equal("seen set " .. tmp .. "/no/such/dir/ids.seen: open: No such file or directory", err)
    assert.equal("IO", code)
    -- a truncated set is damaged, not silently resized
    local good = tmp .. "/short.seen"
    assert(seen.open(good, 64)):close()
    os.execute("truncate -s 1000 '" .. good .. "'")
    assert.equal("seen set " .. good .. ": not a mallapi seen set (or damaged)", select(2, seen.open(good)))
  end)

  it("a file whose slots are garbage still answers every call (no crash, no hang)", function()
    local path = tmp .. "/garbage.seen"
    assert(seen.open(path, 64)):close()
    math.randomseed(11)
    local junk = {}
    for i = 1, 64 * 24 do junk[i] = string.char(math.random(0, 255)) end
    poke(path, 128, table.concat(junk))                               -- every slot, after the header
    local set = assert(seen.open(path))
    local now = 1700000000
    for i = 1, 200 do
      local key = "k" .. i
      local added = set:add(key, 60, now)
      assert.is_true(added == true or added == false or added == nil)
      assert.is_boolean(set:has(key, now))
      assert.is_boolean(set:delete(key))
    end
    local st = set:stats(now)
    assert.equal(64, st.capacity)
    assert.is_true(st.live <= 64)
    set:close()
    -- a header whose count of used slots exceeds the capacity is refused
    local bad = tmp .. "/badcount.seen"
    assert(seen.open(bad, 64)):close()
    poke(bad, 76, u32(65))
    assert.equal("seen set " .. bad .. ": not a mallapi seen set (or damaged)", select(2, seen.open(bad)))
  end)

  it("raises on programming mistakes, naming the argument", function()
    local set = assert(seen.open(nil, 64))
    assert.has_error(function() set:add("x") end)
    assert.has_error(function() set:add("x", 0) end, "bad argument #2 to 'add' (ttl must be positive seconds)")
    assert.has_error(function() set:add({}, 10) end)
    assert.has_error(function() seen.open(nil, 0) end, "bad argument #2 to 'open' (capacity out of range (1 to 2^26))")
    assert.has_error(function() seen.open(nil, 64, 0) end,
                     "bad argument #3 to 'open' (steal_ms out of range (1 to 1 day))")
    assert.has_error(function() seen.siphash128("short", "x") end,
                     "bad argument #1 to 'siphash128' (16-byte key expected)")
    set:close()
  end)

  it("takes over a lock whose holder died at once, a slow live holder's after steal_ms", function()
    local path = tmp .. "/locked.seen"
    assert(seen.open(path, 64)):close()
    -- a pid that existed and is gone; a take-over time of a day, so only the dead-pid check
    -- can free it (the child is killed after 20 s if it cannot)
    local dead = tonumber(capture("sh -c 'echo $$'"))
    poke(path, LOCK_AT, u32(dead))
    assert.equal("added true\n", procs.spawn("spec/support/seen_add_child.lua", { path, "86400000" }, tmp, 20):wait())
    assert.equal(u32(0), peek(path, LOCK_AT, 4))
    -- a live holder (a sleeping child, same boot) that keeps it: taken over after steal_ms
    local sleeper = io.popen("sleep 30 & echo $!")
    local live = tonumber(sleeper:read("*l"))
    sleeper:close()
    poke(path, LOCK_AT, u32(live))
    local set = assert(seen.open(path, nil, 100))
    assert.is_true(set:add("after a slow holder", 60))
    set:close()
    os.execute("kill " .. live)
  end)

  it("a lock left from an earlier boot is void", function()
    local path = tmp .. "/rebooted.seen"
    assert(seen.open(path, 64)):close()
    -- a live pid (a sleeping child) recorded by an earlier boot: opening resets the lock
    local sleeper = io.popen("sleep 30 & echo $!")
    local live = tonumber(sleeper:read("*l"))
    sleeper:close()
    poke(path, LOCK_AT, u32(live))
    poke(path, BOOT_AT, string.rep("0", 36))
    local set = assert(seen.open(path))
    assert.equal(u32(0), peek(path, LOCK_AT, 4))                    -- reset by the open itself
    assert.not_equal(string.rep("0", 36), peek(path, BOOT_AT, 36))  -- this boot's id written back
    assert.is_true(set:add("after a reboot", 60))
    set:close()
    os.execute("kill " .. live)
  end)

  it("several processes adding the same keys at once: each key is added exactly once", function()
    -- 4 processes x 20 rounds x 2000 keys, each process in its own shuffled order (without
    -- the lock, two processes add the same key or fill the same slot: measured 4-7 extra)
    local path = tmp .. "/shared.seen"
    assert(seen.open(path, 65536)):close()
    local children = {}
    for i = 1, 4 do
      local args = { path, tostring(os.time() + i), "2000", "20" }
      children[i] = procs.spawn("spec/support/seen_child.lua", args, tmp)
    end
    local total = 0
    for _, child in ipairs(children) do
      local out = child:wait()
      local n = tonumber(out:match("added (%d+)"))
      assert.is_number(n, out)
      total = total + n
    end
    assert.equal(40000, total)
    local set = assert(seen.open(path))
    assert.same({ capacity = 65536, used = 40000, live = 40000 }, set:stats())
    set:close()
  end)
end)
