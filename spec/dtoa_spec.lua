-- dtoa_spec.lua: the shortest round-trip float text (src/dtoa.c, issue 15) as
-- json.encode writes it: every double reads back exactly (tonumber), with no more
-- digits than the brute-force reference (the first of %.1g .. %.17g that reads
-- back), in the layout doc/json.md documents. Edge cases and a few thousand
-- random doubles run under valgrind too (#c); 200k random doubles (20k on LuaJIT) do not.
local json = require("mallapi").json

local HAS_INT64 = math.type ~= nil          -- Lua 5.4; LuaJIT has doubles only
local doubles = require "support.doubles"
local ldexp, random_double = doubles.ldexp, doubles.random_double

-- The reference text of x: the fewest %.Pg digits that read back, laid out like
-- "%.{max(P,15)}g" (plain decimal for 1e-4 <= |x| < 1e15), ".0" when integral.
local function reference(x)
  for p = 1, 17 do
    local t = string.format("%." .. p .. "g", x)
    if tonumber(t) == x then
      local sci = tonumber(string.format("%." .. (p - 1) .. "e", x):match("e(.*)$"))
      if sci >= -4 then t = string.format("%." .. math.max(p, 15) .. "g", x) end
      if not t:find("[.en]") then t = t .. ".0" end
      return t, p
    end
  end
end

-- Significant digits of a number text: "0.050" -> 1, "1.2345e-07" -> 5.
local function sig_digits(text)
  local digits = text:gsub("[eE].*$", ""):gsub("[-.]", "")
  return #(digits:gsub("^0+", ""):gsub("0+$", ""))
end

local function is_power_of_two(x)
  return string.format("%a", math.abs(x)):find("^0x1p") ~= nil
end

-- Checks one finite double; returns "same", "shorter" (a power of two, whose
-- interval below is half as wide: %.Pg rounds to nearest and misses the shorter text)
-- or "tie" (x exactly halfway between two shortest texts: dtoa.c takes the even
-- one, as glibc does; LuaJIT's own %g rounds such halves up).
local function check(x)
  local text = json.encode(x)
  assert(tonumber(text) == x, ("%.17g written as %s"):format(x, text))
  if not HAS_INT64 and x == math.floor(x) and math.abs(x) <= 2 ^ 53 then
    return "same" -- LuaJIT writes these as integers (doc/json.md)
  end
  local ref, p = reference(x)
  if text == ref then return "same" end
  local mant, exp = text:match("^([^e]*)(.*)$")
  local ref_mant, ref_exp = ref:match("^([^e]*)(.*)$")
  if sig_digits(text) == p and exp == ref_exp and #mant == #ref_mant and
    math.abs(tonumber(mant:sub(-1)) - tonumber(ref_mant:sub(-1))) == 1 then
    assert(tonumber(mant:sub(-1)) % 2 == 0, ("%.17g: tie written as %s"):format(x, text))
    return "tie"
  end
  assert(sig_digits(text) < p and is_power_of_two(x),
    ("%.17g written as %s, reference %s"):format(x, text, ref))
  return "shorter"
end

describe("shortest float text #c", function()
  local texts = {
    { 0.1, "0.1" }, { 0.2, "0.2" }, { 0.3, "0.3" }, { 1e23, "1e+23" }, { 5e-324, "5e-324" },
    { 1e-323, "1e-323" }, { 2.2250738585072014e-308, "2.2250738585072014e-308" },
    { 2.225073858507201e-308, "2.225073858507201e-308" },
    { 1.7976931348623157e308, "1.7976931348623157e+308" },
    { 1e-5, "1e-05" }, { 0.0001, "0.0001" }, { 1.5e-7, "1.5e-07" }, { 123.456, "123.456" },
    { 1e21, "1e+21" }, { 1.5e300, "1.5e+300" }, { 4.35, "4.35" }, { 2 ^ -1022, "2.2250738585072014e-308" },
    { 2 ^ 63, "9.223372036854776e+18" }, { 19850790500640868.0, "19850790500640868.0" },
    { 123456789012345680.0, "1.2345678901234568e+17" }, { -0.000123, "-0.000123" },
  }
  for _, c in ipairs(texts) do
    it("writes " .. c[2], function()
      assert.equal(c[2], json.encode(c[1]))
      assert.equal(c[1], tonumber(c[2]))
    end)
  end

  it("writes integral floats below 1e15 in full and -0 with its sign", function()
    assert.equal(HAS_INT64 and "100000000000000.0" or "100000000000000", json.encode(1e14))
    assert.equal(HAS_INT64 and "1e+15" or "1000000000000000", json.encode(1e15))
    assert.equal("-0.0", json.encode(-0.0))
    assert.equal(HAS_INT64 and "9007199254740992.0" or "9007199254740992", json.encode(9007199254740993.0))
    assert.equal(HAS_INT64 and "[1.0,0.5]" or "[1,0.5]", json.encode({ 1.0, 0.5 }))
  end)

  it("is exact and shortest on powers of 2 and 10, subnormals and their neighbours", function()
    local n, shorter = 0, 0
    local function try(x)
      if x ~= 0 and x == x and x ~= math.huge and x ~= -math.huge then
        n = n + 1
        if check(x) == "shorter" then shorter = shorter + 1 end
        check(-x)
      end
    end
    for e = -1074, 1023 do try(ldexp(1, e)) end
    for e = -323, 308 do
      local p = tonumber("1e" .. e)
      try(p)
      try(p * (1 + 2 ^ -52))
      try(p * (1 - 2 ^ -53))
    end
    for c = 1, 3000 do try(ldexp(c, -1074)) end
    for c = 0, 1000 do try(ldexp(2 ^ 52 - c, -1074)) end -- around DBL_MIN
    for c = 0, 1000 do try(1.7976931348623157e308 - ldexp(c, 971)) end
    for i = 0, 2000 do try(2 ^ 53 + 2 * i); try(i / 1000); try(i / 100 + 0.005) end
    assert.is_true(n > 10000)
    assert.is_true(shorter > 0 and shorter < 200, "powers of two shorter than %.Pg: " .. shorter)
  end)

  it("is exact and shortest on 5k random doubles", function()
    math.randomseed(15)
    for _ = 1, 5000 do check(random_double()) end
  end)
end)

describe("shortest float text, many doubles", function()
  -- 200k under Lua 5.4 (about 5 s); LuaJIT's string.format("%.Pg") reference is
  -- several times slower, so it checks 20k.
  local count = HAS_INT64 and 200000 or 20000
  it("is exact and shortest on " .. count .. " random doubles", function()
    math.randomseed(1515)
    local shorter = 0
    for _ = 1, count do
      if check(random_double()) == "shorter" then shorter = shorter + 1 end
    end
    assert.is_true(shorter < 100)
  end)

  it("writes an encoded array of doubles element for element", function()
    math.randomseed(7)
    local xs = {}
    for i = 1, 2000 do xs[i] = random_double() end
    local text = json.encode(xs)
    local i = 0
    for t in text:sub(2, -2):gmatch("[^,]+") do
      i = i + 1
      assert.equal(json.encode(xs[i]), t)
    end
    assert.equal(#xs, i)
  end)
end)
