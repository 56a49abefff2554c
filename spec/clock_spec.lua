-- mallapi.clock: "yyyy-MM-dd HH:mm:ss" at explicit UTC offsets checked against
-- the C library's gmtime (os.date("!*t")) of the shifted instant, date
-- boundaries, parse as the inverse, the Shoplus timestamps of signing.json,
-- seconds/millis strings, and exact argument errors.
local mallapi = require "mallapi"
local vectors = require "support.signing_vectors"
local arg_cases = require "support.arg_cases"

local clock = mallapi.clock
local arg_case, check = arg_cases.arg_case, arg_cases.check

-- The oracle: gmtime of the instant shifted by the offset, zero-padded.
local function gmtime_text(ms, offset_minutes)
  local t = os.date("!*t", math.floor(ms / 1000) + offset_minutes * 60)
  return string.format("%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.min, t.sec)
end

describe("clock #c", function()
  describe("format", function()
    it("matches gmtime of the shifted instant at +08:00, UTC and negative offsets", function()
      local instants = {
        0, 999, 1000, -1, -1000, -1001, 86399999, 86400000,
        951782399000,       -- 2000-02-28 23:59:59 UTC (2000 is a leap year)
        951868799000,       -- 2000-02-29 23:59:59 UTC
        4107542399000,      -- 2100-02-28 23:59:59 UTC (2100 is not)
        1709251199000,      -- 2024-02-29 23:59:59 UTC
        1735689599999,      -- 2024-12-31 23:59:59.999 UTC
        1735660800000,      -- 2024-12-31 16:00:00 UTC: new year at +08:00
        1795312800000,      -- 2026-11-22 02:00:00 UTC
        -2208988800000,     -- 1900-01-01
        253402300799000,    -- 9999-12-31 23:59:59 UTC
      }
      local offsets = { 0, 480, -480, 330, -330, 345, 1080, -1080, -1 }
      for _, ms in ipairs(instants) do
        for _, offset in ipairs(offsets) do
          if not (ms == 253402300799000 and offset > 0) then
            assert.equal(gmtime_text(ms, offset), clock.format(ms, offset), ms .. " at " .. offset)
          end
        end
      end
    end)

    it("matches gmtime on random instants between 1900 and 2200", function()
      math.randomseed(8)
      for _ = 1, 300 do
        local ms = math.random(-2208, 7258) * 1000000000 + math.random(0, 999999999)
        local offset = math.random(-1080, 1080)
        assert.equal(gmtime_text(ms, offset), clock.format(ms, offset))
      end
    end)

    it("reads the offset as minutes or text, UTC when absent", function()
      local ms = 1795312800000   -- 2026-11-22 02:00:00 UTC
      local cases = {
        { nil, "2026-11-22 02:00:00" }, { 0, "2026-11-22 02:00:00" }, { "Z", "2026-11-22 02:00:00" },
        { "+00:00", "2026-11-22 02:00:00" }, { "+08:00", "2026-11-22 10:00:00" },
        { "+0800", "2026-11-22 10:00:00" }, { "+08", "2026-11-22 10:00:00" }, { 480, "2026-11-22 10:00:00" },
        { "-05:30", "2026-11-21 20:30:00" }, { -330, "2026-11-21 20:30:00" }, { "-02", "2026-11-22 00:00:00" },
        { "+18:00", "2026-11-22 20:00:00" }, { "-18:00", "2026-11-21 08:00:00" },
      }
      for _, case in ipairs(cases) do
        assert.equal(case[2], clock.format(ms, case[1]), tostring(case[1]))
      end
    end)

    it("floors fractions of a millisecond and second", function()
      assert.equal("1970-01-01 00:00:00", clock.format(999.9))
      assert.equal("1969-12-31 23:59:59", clock.format(-0.5))
    end)

    it("covers years 0001 to 9999", function()
      assert.equal("0001-01-01 00:00:00", clock.format(-62135596800000))
      assert.equal("9999-12-31 23:59:59", clock.format(253402300799999))
      assert.equal("0001-01-01 08:00:00", clock.format(-62135596800000, "+08:00"))
    end)
  end)

  describe("parse", function()
    it("is the inverse of format at the same offset", function()
      math.randomseed(9)
      for _ = 1, 200 do
        local ms = math.random(-2208, 7258) * 1000000000 + math.random(0, 999) * 1000
        local offset = math.random(-1080, 1080)
        local text = clock.format(ms, offset)
        assert.equal(ms, clock.parse(text, offset))
      end
    end)

    it("reads the Shoplus timestamps of signing.json at +08:00", function()
      for _, case in ipairs(vectors.with_prefix("shoplus.request_sign")) do
        local ms = clock.parse(case.input.timestamp, "+08:00")
        assert.equal(case.input.timestamp, gmtime_text(ms, 480))
        assert.equal(case.input.timestamp, clock.format(ms, "+08:00"))
      end
    end)

    it("reports malformed text with the byte", function()
      local cases = {
        { "2026-11-22", "expected yyyy-MM-dd HH:mm:ss (19 bytes), got 10 bytes" },
        { "2026-11-22T10:00:00", "expected ' ' at byte 11" },
        { "2026/11/22 10:00:00", "expected '-' at byte 5" },
        { "2026-1x-22 10:00:00", "expected a digit at byte 7" },
        { "2026-13-22 10:00:00", "month out of range at byte 6" },
        { "2026-00-22 10:00:00", "month out of range at byte 6" },
        { "2026-02-29 10:00:00", "day out of range at byte 9" },
        { "2026-04-31 10:00:00", "day out of range at byte 9" },
        { "2026-11-22 24:00:00", "hour out of range at byte 12" },
        { "2026-11-22 10:60:00", "minute out of range at byte 15" },
        { "2026-11-22 10:00:60", "second out of range at byte 18" },
        { "0000-01-01 00:00:00", "year out of range at byte 1" },
      }
      for _, case in ipairs(cases) do
        local value, msg, code = clock.parse(case[1])
        assert.is_nil(value)
        assert.equal("clock.parse: " .. case[2], msg)
        assert.equal("DECODE", code)
      end
      assert.equal(951782400000, clock.parse("2000-02-29 00:00:00"))   -- a leap day parses
    end)
  end)

  describe("now_ms, seconds, millis", function()
    -- The reference is gettimeofday (LuaSocket), the same clock as CLOCK_REALTIME. Not
    -- os.time(): time() reads the coarse clock, which lagged by just over 1 s on a loaded
    -- machine here and made this spec fail now and then.
    local gettime = require("socket").gettime

    it("now_ms is the wall clock in whole milliseconds", function()
      local before = gettime()
      local ms = clock.now_ms()
      local after = gettime()
      assert.equal(math.floor(ms), ms)
      assert.is_true(ms >= math.floor(before * 1000) and ms <= math.ceil(after * 1000),
                     ("%s not within [%s, %s]"):format(ms, before * 1000, after * 1000))
    end)

    it("seconds and millis are decimal strings, exact past 2^31 and on LuaJIT", function()
      local cases = {
        { 0, "0", "0" }, { 999, "0", "999" }, { 1000, "1", "1000" }, { -1, "-1", "-1" },
        { -1000, "-1", "-1000" }, { -1001, "-2", "-1001" },
        { 1795312800123, "1795312800", "1795312800123" },
        { 253402300799999, "253402300799", "253402300799999" },
      }
      if math.mininteger then   -- Lua 5.4: floor without overflow at the extremes
        cases[#cases + 1] = { math.mininteger, "-9223372036854776", "-9223372036854775808" }
        cases[#cases + 1] = { math.maxinteger, "9223372036854775", "9223372036854775807" }
      end
      for _, case in ipairs(cases) do
        assert.equal(case[2], clock.seconds(case[1]))
        assert.equal(case[3], clock.millis(case[1]))
      end
    end)

    it("seconds and millis default to now", function()
      local before = gettime()
      local s = tonumber(clock.seconds())
      local ms = tonumber(clock.millis())
      local after = gettime()
      assert.is_true(s >= math.floor(before) and s <= after, ("%s not within [%s, %s]"):format(s, before, after))
      assert.is_true(ms >= math.floor(before * 1000) and ms <= math.ceil(after * 1000),
                     ("%s not within [%s, %s]"):format(ms, before * 1000, after * 1000))
    end)
  end)

  describe("argument errors", function()
    local cases = {
      arg_case(clock.format, "bad argument #1 to 'format' (number expected, got string)", "0"),
      arg_case(clock.format, "bad argument #1 to 'format' (number expected, got no value)"),
      arg_case(clock.format, "bad argument #2 to 'format' (bad UTC offset '+8:0', expected minutes or '+HH:MM')",
        0, "+8:0"),
      arg_case(clock.format, "bad argument #2 to 'format' (bad UTC offset '+19:00', expected minutes or '+HH:MM')",
        0, "+19:00"),
      arg_case(clock.format, "bad argument #2 to 'format' (bad UTC offset 'CST', expected minutes or '+HH:MM')",
        0, "CST"),
      arg_case(clock.format,
        "bad argument #2 to 'format' (UTC offset must be whole minutes between -1080 and 1080)", 0, 2000),
      arg_case(clock.format,
        "bad argument #2 to 'format' (UTC offset must be whole minutes between -1080 and 1080)", 0, 1.5),
      arg_case(clock.format, "bad argument #2 to 'format' (UTC offset expected, got table)", 0, {}),
      arg_case(clock.format, "bad argument #1 to 'format' (time out of range, years 0001 to 9999)",
        253402300800000),
      arg_case(clock.format, "bad argument #1 to 'format' (time out of range, years 0001 to 9999)",
        -62135596800001),
      arg_case(clock.format, "bad argument #1 to 'format' (time out of range, years 0001 to 9999)", 1e300),
      arg_case(clock.format, "bad argument #1 to 'format' (time out of range, years 0001 to 9999)", 0 / 0),
      arg_case(clock.parse, "bad argument #1 to 'parse' (string expected, got nil)", nil),
      arg_case(clock.parse, "bad argument #2 to 'parse' (bad UTC offset '8', expected minutes or '+HH:MM')",
        "2026-11-22 10:00:00", "8"),
      arg_case(clock.seconds, "bad argument #1 to 'seconds' (number expected, got string)", "1"),
      arg_case(clock.millis, "bad argument #1 to 'millis' (number expected, got boolean)", true),
    }
    for i, c in ipairs(cases) do
      it("case " .. i .. ": " .. c.msg, function() check(c) end)
    end
  end)
  it("owns the monotonic clock and sleeping: monotonic_ms never goes back, sleep_ms waits", function()
    local a = clock.monotonic_ms()
    clock.sleep_ms(20)
    local b = clock.monotonic_ms()
    assert.is_true(b - a >= 20, "slept " .. (b - a) .. " ms")
    clock.sleep_ms(0)
    clock.sleep_ms(-5)
    assert.has_error(function() clock.sleep_ms("x") end,
      "bad argument #1 to 'sleep_ms' (number expected, got string)")
    assert.has_error(function() clock.sleep_ms(0 / 0) end, "bad argument #1 to 'sleep_ms' (milliseconds out of range)")
  end)

  it("reads a one-digit hour offset '+8' as '+08:00', as mappings do", function()
    assert.equal(clock.format(0, "+08:00"), clock.format(0, "+8"))
  end)
end)
