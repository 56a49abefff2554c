-- json_exact_spec.lua: regression specs for issue 15's defects: big = "float" beyond 2^53
-- (LuaJIT read an unset double), overflow through long fractions (a wrong finite value),
-- decoded floats against strtod (Lua's tonumber, which calls it) on random and adversarial
-- texts, exact raw-number comparisons, and every area reachable by its module name.
local json = require("mallapi").json

local N = json.number

-- The reference: Lua's own reading of the text (strtod under 5.4; LuaJIT's
-- correctly rounded lj_strscan).
local function reference(text)
  local x = tonumber(text)
  if x == nil then   -- LuaJIT's tonumber gives up on some very long texts; 5.4 checks them
    assert.equal("luajit", os.getenv("MALLAPI_RUNTIME") or "luajit", text)
    x = assert(json.decode(text, { big = "float" }))
  end
  return x * 1.0   -- a float, keeping the sign of -0.0 (x + 0.0 would not)
end

-- What decode must give for a float text: the reference double, or a raw number
-- holding the text when it overflows (doc/json.md).
local function check_float(text)
  local v, err = json.decode(text)
  assert.is_nil(err, text)
  local want = reference(text)
  if want == math.huge or want == -math.huge then
    assert.equal("userdata", type(v), text)
    assert.equal(text, tostring(v))
    local f = json.decode(text, { big = "float" })
    assert.equal(want, f, text)
  else
    assert.equal("number", type(v), text)
    -- equal doubles, and the same sign for zeros
    assert.is_true(v == want and 1 / v == 1 / want, text .. " read " .. string.format("%.17g", v)
      .. " expected " .. string.format("%.17g", want))
  end
end

describe("json exact numbers #c", function()
  it("big = 'float' gives the nearest double for integers between 2^53 and 2^63 (and beyond)", function()
    local cases = { "1234567890123456789", "9007199254740993", "-9223372036854775808",
                    "9223372036854775807", "18446744073709551617", "-100000000000000000000000" }
    for _, t in ipairs(cases) do
      local v = json.decode("[" .. t .. "]", { big = "float" })[1]
      assert.equal(reference(t), v + 0.0, t)
    end
    assert.equal(1234567890123456789 + 0.0, json.decode("1234567890123456789", { big = "float" }) + 0.0)
  end)

  it("a long fraction cannot cancel a huge exponent: 0.0...01e1000000 overflows", function()
    local text = "0." .. ("0"):rep(99999) .. "1e1000000"   -- 1e900000
    local v = json.decode(text)
    assert.equal("userdata", type(v))                       -- the raw number (overflow policy)
    assert.equal(math.huge, json.decode(text, { big = "float" }))
    assert.equal(-math.huge, json.decode("-" .. text, { big = "float" }))
    -- and the other way round, both exact
    assert.equal(1.0, json.decode("1" .. ("0"):rep(100000) .. "e-100000"))
    assert.equal(1.0, json.decode("0." .. ("0"):rep(99999) .. "1e100000"))
    assert.equal(0.0, json.decode("0." .. ("0"):rep(99999) .. "1e-1000000"))
    assert.equal(12.5, json.decode("0." .. ("0"):rep(400) .. "125e402"))
    assert.equal(1e300, json.decode("1e" .. ("0"):rep(50) .. "300"))
  end)

  it("decodes adversarial float texts to what strtod gives", function()
    local cases = {
      "9007199254740993.0", "9007199254740993e0", "2.2250738585072011e-308", "2.2250738585072012e-308",
      "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
      "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
      "0.1", "0.30000000000000004", "1e23", "8.98846567431158e307", "1e-400", "-1e-400",
      "123456789012345678901234567890e-10", "0.000000000000000000000000000001e30",
      "7.038531e-26", "3.0540412e5", "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "-0.0", "0e-5", "0.0e999999999999999999999", "1e22", "1e-22", "4503599627370496.5",
      "4503599627370497.5", "9007199254740992.0e1", "1" .. ("0"):rep(400) .. ".0",
    }
    for _, t in ipairs(cases) do check_float(t) end
  end)

  it("decodes random float texts to what strtod gives", function()
    local seed = 15
    local function rnd(n)   -- small LCG: the same texts on every run and runtime
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    for _ = 1, 3000 do
      local nd = 1 + rnd(40)
      local digits = {}
      for i = 1, nd do digits[i] = tostring(rnd(10)) end
      if digits[1] == "0" and nd > 1 then digits[1] = tostring(1 + rnd(9)) end
      local s = table.concat(digits)
      local point = rnd(nd)
      local text = point > 0 and s:sub(1, point) .. "." .. s:sub(point + 1) or "0." .. s
      if text:sub(-1) == "." then text = text .. "0" end
      if rnd(3) > 0 then text = text .. "e" .. tostring(rnd(700) - 350) end
      if rnd(2) == 1 then text = "-" .. text end
      check_float(text)
    end
  end)

  it("compares raw numbers exactly with raw numbers, integers and floats", function()
    local cases = {   -- a, b, order
      { N("9007199254740993"), N("9007199254740992"), 1 },
      { N("1.0"), N("1"), 0 },
      { N("1e2"), N("100.000"), 0 },
      { N("-0"), N("0.0"), 0 },
      { N("-5"), N("3"), -1 },
      { N("-50"), N("-6"), -1 },
      { N("1.5"), N("2"), -1 },
      { N("123456789012345678901234567890"), N("1.2345678901234567890123456789e29"), 0 },
      { N("123456789012345678901234567891"), N("1.2345678901234567890123456789e29"), 1 },
      { N("1e999"), N("1e998"), 1 },
      { N("-1e999"), N("1e-999"), -1 },
      { N("9223372036854775808"), 9223372036854775807, 1, int64 = true },
      { N("9007199254740993"), 9007199254740992, 1 },
      { N("0.1"), 0.1, -1 },   -- the double 0.1 is 0.1000000000000000055511151231257827...
      { N("0.1000000000000000055511151231257827021181583404541015625"), 0.1, 0 },
      { N("1e400"), math.huge, -1 },
      { N("-1e400"), -math.huge, 1 },
      { N("5e-324"), 0.0, 1 },
      { N("4.9406564584124654e-324"), 2 ^ -1074, -1 },
    }
    for i, c in ipairs(cases) do
      local a, b, want = c[1], c[2], c[3]
      if not c.int64 or math.type then
        assert.equal(want, json.compare(a, b), "case " .. i)
        assert.equal(-want, json.compare(b, a), "case " .. i)
        if type(b) ~= "number" or math.type then    -- LuaJIT calls __lt only for two userdata
          assert.equal(want < 0, a < b, "case " .. i)
          assert.equal(want <= 0, a <= b, "case " .. i)
          assert.equal(want > 0, b < a, "case " .. i)
        end
        if type(b) ~= "number" then assert.equal(want == 0, a == b, "case " .. i) end
      end
    end
    if math.type then
      assert.is_false(N("9223372036854775808") <= math.maxinteger)
      assert.is_false(N("9007199254740993") <= 9007199254740992)
      assert.is_true(math.mininteger <= N("-9223372036854775808"))
    end
    assert.is_nil(json.compare(N("1"), 0 / 0))
    if math.type then assert.is_false(N("1") < 0 / 0) end
    assert.has_error(function() json.compare(N("1"), "1") end,
      "bad argument #2 to 'compare' (number or raw number expected, got string)")
  end)

  it("every documented area is reachable by its module name", function()
    local mallapi = require "mallapi"
    for _, area in ipairs { "json", "crypto", "codec", "sign", "clock", "seen", "lock" } do
      local m = require("mallapi." .. area)
      assert.is_table(m, area)
      assert.equal(mallapi[area], m, area)
      if area == "clock" then      -- mallapi.clock: the core's clock plus the engine's sleep hook
        for k, v in pairs(require("mallapi.core").clock) do
          if k ~= "sleep_ms" then assert.equal(v, m[k], "clock." .. k) end
        end
        assert.is_function(m.set_sleep)
      else
        assert.equal(require("mallapi.core")[area], m, area)
      end
    end
    assert.equal(json.decode, require("mallapi.json").decode)
  end)
end)
