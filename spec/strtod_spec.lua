-- strtod_spec.lua: decoded floats are bit-exact, the reverse direction of dtoa_spec.
-- json.decode reads up to 19 significant digits with Clinger's fast path or
-- Eisel-Lemire (src/strtod.c) and hands the rest to strtod; every text here must
-- give the same double as Lua's tonumber: glibc strtod under 5.4, LuaJIT's
-- correctly rounded lj_strscan under LuaJIT (texts it declines are skipped there).
-- Random 1-19 digit mantissas over exponents -350..310, halfway points and their
-- neighbours, 17-digit texts of random doubles, the subnormal and overflow
-- boundaries, 2^53 +- 1 and long mantissas. A few thousand cases run under
-- valgrind (#c); the larger part (200k under 5.4, 40k under LuaJIT) does not.
local json = require("mallapi").json

local HAS_INT64 = math.type ~= nil          -- Lua 5.4; LuaJIT has doubles only
local doubles = require "support.doubles"
local random_double = doubles.random_double

-- Bits of a double as text, telling -0.0 from 0.0 and any two doubles apart.
local function bits(x)
  if x == 0 then return 1 / x > 0 and "+0" or "-0" end
  return string.format("%.17g", x)
end

-- Checks the decode of one float text against tonumber; returns 1 when compared.
local function check(text)
  local want = tonumber(text)
  if want == nil then  -- LuaJIT's tonumber declines some very long texts
    assert(not HAS_INT64, "tonumber declined " .. text)
    return 0
  end
  want = want * 1.0
  local got, err = json.decode(text)
  assert.is_nil(err, text)
  if want == math.huge or want == -math.huge then   -- overflow: a raw number (doc/json.md)
    assert.equal("userdata", type(got), text)
    assert.equal(want, json.decode(text, { big = "float" }), text)
  else
    assert.equal("number", type(got), text)
    assert(bits(got) == bits(want), text .. " read " .. bits(got) .. " expected " .. bits(want))
  end
  return 1
end

local function digits(n, first_nonzero)
  local t = {}
  for i = 1, n do t[i] = math.random(i == 1 and first_nonzero and 1 or 0, 9) end
  return table.concat(t)
end

local function sign()
  return math.random(2) == 1 and "-" or ""
end

-- A random 1-19 digit mantissa in a random layout (integer part, fraction,
-- leading zeros) with an exponent so that the value is about 10^(-350..310).
local function random_text()
  local n = math.random(1, 19)
  local d = digits(n, true)
  local e = math.random(-350, 310)
  local layout = math.random(3)
  if layout == 1 then return sign() .. d .. "e" .. e end
  if layout == 2 then
    local point = math.random(1, n)
    local frac = d:sub(point + 1)
    return sign() .. d:sub(1, point) .. "." .. (frac == "" and "0" or frac) .. "E" .. e
  end
  return sign() .. "0." .. string.rep("0", math.random(0, 5)) .. d .. "e" .. (e > 0 and "+" or "") .. e
end

-- The decimal digit string s plus the small nonnegative integer n.
local function dec_add(s, n)
  local out, carry = {}, math.floor(n)
  for i = #s, 1, -1 do
    local v = tonumber(s:sub(i, i)) + carry
    out[i] = math.floor(v % 10)
    carry = math.floor(v / 10)
  end
  local head = carry > 0 and tostring(carry) or ""
  return head .. table.concat(out)
end

-- Texts exactly halfway between two neighbouring doubles, and a hair off either
-- side: x + ulp/2 for x = m * 2^k, written in full where that is at most 19
-- digits (2^53 <= value < 2^63: integers; 2^52 <= value < 2^53: ".5").
local function halfway_texts(out, count)
  for _ = 1, count do
    local m = math.random(0, 2 ^ 26 - 1) * 2 ^ 26 + math.random(0, 2 ^ 26 - 1) -- < 2^52
    local k = math.random(0, 9)
    -- (2^52 + m) * 2^(k+1) + 2^k: halfway between two doubles 2^(k+1) apart
    -- (54 bits, no double: the sum is done on the decimal text of the lower one).
    local lo = string.format("%.0f", (2 ^ 52 + m) * 2 ^ (k + 1))
    local half = dec_add(lo, 2 ^ k)
    out[#out + 1] = half .. ".0"
    out[#out + 1] = half .. "e0"
    out[#out + 1] = half .. ".0000000001"
    out[#out + 1] = dec_add(lo, 2 ^ k - 1) .. ".9"
    out[#out + 1] = dec_add(lo, 2 ^ k + 1) .. ".0"
    out[#out + 1] = string.format("%.0f", 2 ^ 52 + m) .. ".5"
    out[#out + 1] = string.format("%.0f", 2 ^ 52 + m) .. ".5000000000000000001"
    out[#out + 1] = string.format("%.0f", 2 ^ 52 + m) .. ".4999999999999999999"
    out[#out + 1] = string.format("%.0f", 2 ^ 52 + m) .. "5e-1"
  end
end

-- Fixed texts: boundaries of the double range, Clinger's limits, known hard ones.
local fixed = {
  "9007199254740991e0", "9007199254740992e0", "9007199254740993e0", "9007199254740994e0",
  "9007199254740995e0", "9007199254740993.0", "-9007199254740993.0", "9007199254740993e-22",
  "9007199254740993e22", "9007199254740992e22", "9007199254740992e-22", "9007199254740992e23",
  "1e22", "1e23", "1e-22", "1e-23", "8.98846567431158e307", "1.7976931348623157e308",
  "1.7976931348623158e308", "1.7976931348623159e308", "-1.7976931348623159e308", "1e308",
  "1e309", "9999999999999999999e289", "9999999999999999999e290", "2.2250738585072011e-308",
  "2.2250738585072012e-308", "2.2250738585072014e-308", "2.2250738585072009e-308",
  "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
  "2.4703282292062327208828439643411068618252990130716238221279284125033775364e-324",
  "1e-324", "1e-400", "-1e-400", "3e-324", "7.4109846876186982e-324", "1e-323",
  "0.0e9999", "-0.0e-9999", "0e0", "-0.0", "0.000000000000000000000000000000001e33",
  "1.00000000000000011102230246251565404236316680908203125",
  "1.00000000000000011102230246251565404236316680908203124",
  "1.00000000000000011102230246251565404236316680908203126",
  "1.0000000000000002220446049250313080847263336181640625",
  "0.1", "0.2", "0.3", "1.5", "123.456", "3.14159265358979323846264338327950288",
  "7.2057594037927933e16", "9223372036854775807.0", "9223372036854775808.0",
  "18446744073709551615.0", "18446744073709551616.0", "1844674407370955161.5e1",
  "9999999999999999999.0", "10000000000000000000.0", "0.9999999999999999999",
  "4.4501477170144023e-308", "4.4501477170144022e-308", "1.448997445238699e-308",
  "6.929495644600519e307", "3.4028234663852886e38", "5e-324", "5e-325", "89255e-22",
  "2.2250738585072011360574097967091319759348195463516456480234261098e-308",
  "123456789012345678901234567890e-20", "1" .. string.rep("0", 400) .. "e-400",
  "0." .. string.rep("0", 340) .. "1e20", string.rep("9", 800) .. ".0",
}

local function run(n_random, n_doubles, n_halfway, n_long, seed)
  math.randomseed(seed)
  local texts = {}
  for _ = 1, n_random do texts[#texts + 1] = random_text() end
  for _ = 1, n_doubles do
    local x = random_double()
    texts[#texts + 1] = string.format("%.17g", x):gsub("^(-?%d+)$", "%1.0")
    texts[#texts + 1] = string.format("%.16e", x)
  end
  halfway_texts(texts, n_halfway)
  for _ = 1, n_long do   -- 20-60 digits, or 17 digits and a long tail of zeros or nines
    local d = digits(math.random(20, 60), true)
    texts[#texts + 1] = sign() .. d:sub(1, 1) .. "." .. d:sub(2) .. "e" .. math.random(-330, 308)
    local x = string.format("%.16e", random_double())
    local mant, e = x:match("^(.-)e(.*)$")
    local tail = math.random(2) == 1 and "0" or "9"
    texts[#texts + 1] = mant .. string.rep(tail, math.random(1, 30)) .. "e" .. e
  end
  local compared = 0
  for _, text in ipairs(texts) do compared = compared + check(text) end
  return compared, #texts
end

describe("decimal to double #c", function()
  it("reads boundary and known hard texts like strtod", function()
    for _, text in ipairs(fixed) do
      check(text)
      if text:sub(1, 1) ~= "-" then check("-" .. text) end
    end
  end)

  it("reads 2^53 +- k and the powers of ten 1e-350 .. 1e310 like strtod", function()
    for k = -50, 50 do
      check(string.format("%.0f", 2 ^ 53 + k) .. ".0")
      check(string.format("%.0f", 2 ^ 54 + k) .. "e0")
    end
    for e = -350, 310 do
      check("1e" .. e)
      check("9007199254740993e" .. e)
      check("17976931348623157e" .. e)
      check("4.9406564584124654e" .. e)
    end
  end)

  it("reads 3k random, halfway and long texts like strtod", function()
    local compared, total = run(1500, 250, 60, 60, 1515)
    assert.is_true(compared > 0.95 * total and total > 2500)
  end)
end)

describe("decimal to double, many texts", function()
  local scale = HAS_INT64 and 1 or 5
  it("reads " .. math.floor(200 / scale) .. "k random, halfway and long texts like strtod", function()
    local compared, total = run(100000 / scale, 30000 / scale, 3000 / scale, 10000 / scale, 42)
    assert.is_true(compared > 0.95 * total)
  end)

  it("reads every element of an array of 17-digit doubles like strtod", function()
    math.randomseed(9)
    local texts = {}
    for i = 1, 5000 do texts[i] = string.format("%.17g", random_double()):gsub("^(-?%d+)$", "%1.0") end
    local xs = json.decode("[" .. table.concat(texts, ",") .. "]")
    for i, text in ipairs(texts) do
      assert(bits(xs[i]) == bits(tonumber(text) * 1.0), text)
    end
  end)
end)
