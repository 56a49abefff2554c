-- json_spec.lua: mallapi.json (issue 3): decode/encode values, numbers exact for
-- 64-bit ids under Lua 5.4 and LuaJIT, strings, errors with exact messages, depth
-- limits, options, raw numbers, raw_members, lua-cjson interop and vendor-shaped
-- round trips. The JSONTestSuite corpus is in json_suite_spec.lua.
local json = require("mallapi").json
local cjson = require "cjson"

local HAS_INT64 = math.type ~= nil          -- Lua 5.4; LuaJIT has doubles only

-- Calls fn and returns the message it raised, without the "file:line: " prefix.
local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(err):gsub("^[^:]*:%d+: ", ""))
end

local read = require("support.files").read

-- Writes the shared payloads into a fresh temp dir (once) and returns a reader.
local payload_dir
local function payload(name)
  if not payload_dir then
    payload_dir = os.tmpname()
    os.remove(payload_dir)
    assert(os.execute("mkdir -p '" .. payload_dir .. "'"))
    local cmd = "lua5.4 ../shared/payloads/gen_payloads.lua '" .. payload_dir .. "' >/dev/null"
    local ok = os.execute(cmd)
    assert(ok == true or ok == 0, "gen_payloads.lua failed")
  end
  return read(payload_dir .. "/" .. name)
end

teardown(function()
  if payload_dir then os.execute("rm -rf '" .. payload_dir .. "'") end
end)

describe("json values #c", function()
  it("null is the lightuserdata NULL shared with lua-cjson", function()
    assert.equal("userdata", type(json.null))
    assert.is_true(json.null == cjson.null)
    assert.is_true(json.decode("null") == cjson.null)
    assert.equal("null", json.encode(cjson.null))
  end)

  local cases = {
    { '{"a":1,"b":[true,false,null],"c":"x"}', { a = 1, b = { true, false, json.null }, c = "x" } },
    { '  [ ]  ', {} },
    { '{}', {} },
    { '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t' },
    { '"\\u00e9\\u4e2d\\ud83d\\ude00"', "é中😀" },
    { '"é中😀"', "é中😀" },
    { '[-1.5e3,0.25,-0,1E2]', { -1500, 0.25, 0, 100 } },
    { '{"a":1,"a":2}', { a = 2 } },
    { '\r\n\t[1]\n', { 1 } },
  }
  for _, c in ipairs(cases) do
    it("decodes " .. c[1], function()
      assert.same(c[2], json.decode(c[1]))
    end)
  end

  it("marks decoded arrays with json.array_mt and not objects", function()
    local v = json.decode('{"list":[],"obj":{},"nested":[[1]]}')
    assert.equal(json.array_mt, getmetatable(v.list))
    assert.equal(json.array_mt, getmetatable(v.nested[1]))
    assert.is_nil(getmetatable(v.obj))
    assert.is_nil(getmetatable(v))
    assert.equal('{"list":[]}', json.encode({ list = v.list }))
    assert.equal('{"obj":{}}', json.encode({ obj = v.obj }))
  end)

  it("json.array marks a table or makes a new one", function()
    local t = {}
    assert.equal(t, json.array(t))
    assert.equal("[]", json.encode(t))
    assert.equal("[]", json.encode(json.array()))
    assert.equal("[1,2]", json.encode(json.array({ 1, 2 })))
    assert.equal("bad argument #1 to 'array' (table expected, got number)",
      raised(function() local r = json.array(1); return r end))
    assert.equal("bad argument #1 to 'array' (table already has a metatable)",
      raised(function() local r = json.array(setmetatable({}, {})); return r end))
  end)

  it("encodes unmarked tables by their keys", function()
    assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
    assert.equal('{"a":1}', json.encode({ a = 1 }))
    assert.equal("{}", json.encode({}))
    assert.equal("[]", json.encode({}, { empty_table_as_array = true }))
    assert.equal('{"2":"b"}', json.encode({ [2] = "b" }))
    assert.equal('{"0":"z"}', json.encode({ [0] = "z" }))
    assert.equal('[1,null,3]', json.encode(json.array({ 1, json.null, 3 })))
    assert.equal('"x"', json.encode("x"))
    assert.equal("true", json.encode(true))
    assert.equal("null", json.encode(nil))
  end)

  it("sort_keys gives canonical output", function()
    local v = { zeta = 1, alpha = { c = 3, b = 2, a = { 1, 2 } }, ["é"] = 0, A = json.null, [""] = "" }
    assert.equal('{"":"","A":null,"alpha":{"a":[1,2],"b":2,"c":3},"zeta":1,"é":0}',
      json.encode(v, { sort_keys = true }))
  end)
end)

describe("json numbers #c", function()
  it("keeps 64-bit ids exact under both runtimes", function()
    local v = json.decode('{"id":531464955418787840,"small":1606877585000}')
    assert.equal("531464955418787840", tostring(v.id))
    assert.equal(1606877585000, v.small)
    if HAS_INT64 then
      assert.equal("integer", math.type(v.id))
      assert.equal(531464955418787840, v.id)
    else
      assert.equal("userdata", type(v.id))
      assert.is_true(v.id == json.number("531464955418787840"))
    end
    assert.equal('{"id":531464955418787840}', json.encode({ id = v.id }))
  end)

  local ints = {
    { "9007199254740992", "9007199254740992" },          -- 2^53: a double still holds it
    { "9007199254740993", "9007199254740993" },          -- 2^53 + 1
    { "9223372036854775807", "9223372036854775807" },    -- int64 max
    { "-9223372036854775808", "-9223372036854775808" },  -- int64 min
    { "9223372036854775808", "9223372036854775808" },    -- int64 max + 1: raw on both
    { "-123456789012345678901234567890", "-123456789012345678901234567890" },
  }
  for _, c in ipairs(ints) do
    it("round-trips the integer " .. c[1] .. " digit for digit", function()
      local v = json.decode("[" .. c[1] .. "]")[1]
      if type(v) == "number" and not HAS_INT64 then
        assert.equal(9007199254740992, v)    -- within 2^53: a plain LuaJIT number
      else
        assert.equal(c[2], tostring(v))
      end
      assert.equal("[" .. c[2] .. "]", json.encode(json.array({ v })))
      assert.equal(c[2], json.encode(v))
    end)
  end

  it("decodes integers beyond the runtime as raw numbers, strings or floats", function()
    local big = "123456789012345678901234567890"
    local raw = json.decode(big)
    assert.equal("mallapi.RawNumber", getmetatable(raw).__name)
    assert.equal(big, json.decode(big, { big = "string" }))
    assert.equal(1.2345678901234568e29, json.decode(big, { big = "float" }))
    assert.equal("bad argument #2 to 'decode' (option 'big' must be \"raw\", \"string\" or \"float\")",
      raised(function() local r = json.decode(big, { big = "x" }); return r end))
  end)

  it("treats a float overflowing a double as a raw number", function()
    local v = json.decode("[1.5e999]")[1]
    assert.equal("1.5e999", tostring(v))
    assert.equal("[1.5e999]", json.encode(v == nil and {} or json.array({ v })))
  end)

  -- Expected texts are the shortest round-trip forms (as printed by JavaScript / Python repr).
  local floats = {
    { 16.05, "16.05" }, { 0.1, "0.1" }, { 0.1 + 0.2, "0.30000000000000004" }, { 1 / 3, "0.3333333333333333" },
    { 2 / 3, "0.6666666666666666" }, { 123.456, "123.456" }, { -2.32, "-2.32" }, { 1138.11, "1138.11" },
    { 1e300, "1e+300" }, { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
    { 1e23, "1e+23" }, { -1.5e-10, "-1.5e-10" }, { 123456789.125, "123456789.125" },
  }
  for _, c in ipairs(floats) do
    it("writes " .. c[2] .. " in its shortest form", function()
      assert.equal(c[2], json.encode(c[1]))
      assert.equal(c[1], json.decode(c[2]))
    end)
  end

  it("writes integral floats as floats on 5.4 and as integers on LuaJIT", function()
    local expect = HAS_INT64 and { "100.0", "-0.0", "1e+15" } or { "100", "-0.0", "1000000000000000" }
    assert.equal(expect[1], json.encode(100.0))
    assert.equal(expect[2], json.encode(-0.0))
    assert.equal(expect[3], json.encode(1e15))
    assert.equal("9007199254740992", json.encode(9007199254740992))
    -- beyond 2^53 a double is written so that it reads back as a double
    assert.equal("19850790500640868.0", json.encode(19850790500640868.0))
    assert.equal(19850790500640868.0, json.decode("19850790500640868.0"))
  end)

  it("round-trips pseudo-random doubles exactly", function()
    local state = 12345
    local function rnd()
      state = (state * 1103515245 + 12345) % 2147483648
      return state / 2147483648
    end
    for _ = 1, 2000 do
      local x = (rnd() - 0.5) * 10 ^ math.floor(rnd() * 40 - 20) + rnd() * 1e-3
      local s = json.encode(x)
      assert.equal(x, json.decode(s), s)
    end
  end)

  -- Significant digits of a number text: "0.050" -> 1, "1.2345e-07" -> 5.
  local function sig_digits(text)
    local digits = text:gsub("[eE].*$", ""):gsub("[-.]", "")
    digits = digits:gsub("^0+", ""):gsub("0+$", "")
    return #digits
  end

  -- Reference: the fewest %.Ng digits that read back to x (a brute-force search).
  local function shortest_reference(x)
    for p = 1, 17 do
      local t = string.format("%." .. p .. "g", x)
      if tonumber(t) == x then return t end
    end
  end

  it("finds the shortest digits for prices, ratios and full doubles", function()
    local state = 987654321
    local function rnd(n)
      state = (state * 1103515245 + 12345) % 2147483648
      return state % n
    end
    for i = 1, 3000 do
      local x
      if i % 3 == 0 then x = rnd(10000000) / 100             -- money
      elseif i % 3 == 1 then x = rnd(100000) / 10 ^ rnd(9)     -- few digits, any scale
      else x = (rnd(2147483647) / 2147483647 + rnd(1000)) * 10 ^ (rnd(40) - 20) end
      if x ~= math.floor(x) then
        local text = json.encode(x)
        assert.equal(x, tonumber(text), text)
        assert.equal(sig_digits(shortest_reference(x)), sig_digits(text), text)
      end
    end
  end)

  it("reads decimal texts to the same double as the runtime's tonumber", function()
    local state = 4242
    local function rnd(n)
      state = (state * 1103515245 + 12345) % 2147483648
      return state % n
    end
    for _ = 1, 3000 do
      local int = tostring(rnd(100000000))
      local frac = tostring(rnd(1000000000)):rep(1 + rnd(3))
      local text = int .. "." .. frac
      if rnd(2) == 0 then text = text .. "e" .. (rnd(60) - 30) end
      if rnd(2) == 0 then text = "-" .. text end
      assert.equal(tonumber(text), json.decode(text), text)
    end
  end)

  it("rejects NaN and infinity unless allowed", function()
    local cases = {
      { 0 / 0, "json.encode: cannot encode NaN at $.v", "NaN" },
      { math.huge, "json.encode: cannot encode inf at $.v", "Infinity" },
      { -math.huge, "json.encode: cannot encode inf at $.v", "-Infinity" },
    }
    for _, c in ipairs(cases) do
      local s, err, code = json.encode({ v = c[1] })
      assert.is_nil(s)
      assert.equal(c[2], err)
      assert.equal("NUMBER", code)
      assert.equal('{"v":' .. c[3] .. '}', json.encode({ v = c[1] }, { allow_nan = true }))
    end
  end)
end)

describe("json re-entry #c", function()
  -- A finalizer run by the collector in the middle of an encode or decode may use
  -- the codec itself (regression: it reused the shared output buffer).
  local function make_garbage(fn)
    if newproxy then                                       -- LuaJIT: tables have no __gc
      local p = newproxy(true)
      getmetatable(p).__gc = fn
    else
      setmetatable({}, { __gc = fn })
    end
  end

  it("survives finalizers that call the codec", function()
    local big = {}
    for i = 1, 200 do big["key" .. i] = { name = "v" .. i, list = json.array({ i, i + 1 }) } end
    local expect = json.encode(big, { sort_keys = true })
    local fired, corrupted = 0, 0
    for _ = 1, 20 do
      for _ = 1, 100 do
        make_garbage(function()
          fired = fired + 1
          json.encode({ z = { "inner", 1, 2 }, w = string.rep("q", 50) }, { sort_keys = true })
          json.decode('{"inner":["\\u00e9tag",1,2,3]}')
          json.raw_members('{"a":"\\u00e9"}')
        end)
      end
      if json.encode(big, { sort_keys = true }) ~= expect then corrupted = corrupted + 1 end
      if json.encode(json.decode(expect), { sort_keys = true }) ~= expect then corrupted = corrupted + 1 end
    end
    collectgarbage()
    assert.is_true(fired > 0)
    assert.equal(0, corrupted)
  end)
end)

describe("json raw numbers #c", function()
  it("json.number validates the text", function()
    assert.equal("12345678901234567890", tostring(json.number("12345678901234567890")))
    assert.equal("-0.5e-3", tostring(json.number("-0.5e-3")))
    for _, bad in ipairs({ "", "12x", "01", "1.", ".5", "+1", " 1", "1 ", "0x10", "NaN", "1e" }) do
      assert.equal("bad argument #1 to 'number' (not a JSON number)",
        raised(function() local r = json.number(bad); return r end), bad)
    end
    assert.equal("bad argument #1 to 'number' (string expected, got number)",
      raised(function() local r = json.number(12); return r end))
  end)

  it("compares, concatenates and encodes verbatim", function()
    local a, b = json.number("12345678901234567890"), json.number("12345678901234567891")
    assert.is_true(a == json.number("12345678901234567890"))
    assert.is_false(a == b)
    assert.is_true(a < b)
    assert.is_true(a <= b)
    assert.is_false(b < a)
    assert.is_true(json.number("-5") < json.number("3"))
    assert.is_true(json.number("-50") < json.number("-6"))
    assert.is_true(json.number("1.5") < json.number("2"))
    assert.equal("id=12345678901234567890", "id=" .. a)
    assert.equal("12345678901234567890!", a .. "!")
    assert.equal('{"n":1.50}', json.encode({ n = json.number("1.50") }))
  end)
end)

describe("json strings #c", function()
  it("rejects invalid UTF-8 and lone surrogates by default", function()
    local cases = {
      { '"a\255b"', "json: invalid UTF-8 at line 1 column 3 (byte 3)" },
      { '"\192\175"', "json: invalid UTF-8 at line 1 column 2 (byte 2)" },      -- overlong '/'
      { '"\237\160\128"', "json: invalid UTF-8 at line 1 column 2 (byte 2)" },  -- U+D800 as UTF-8
      { '"\244\144\128\128"', "json: invalid UTF-8 at line 1 column 2 (byte 2)" },  -- > U+10FFFF
      { '"x\\ud800"', "json: invalid surrogate at line 1 column 3 (byte 3)" },
      { '"\\udc00\\ud800"', "json: invalid surrogate at line 1 column 2 (byte 2)" },
    }
    for _, c in ipairs(cases) do
      local v, err, code = json.decode(c[1])
      assert.is_nil(v)
      assert.equal(c[2], err)
      assert.equal("SYNTAX", code)
    end
  end)

  it("replaces invalid UTF-8 and lone surrogates with U+FFFD when asked", function()
    local opts = { replace_invalid_utf8 = true }
    assert.equal("a\239\191\189b", json.decode('"a\255b"', opts))
    assert.equal("x\239\191\189y", json.decode('"x\\ud800y"', opts))
    assert.equal("\239\191\189\239\191\189", json.decode('"\\udc00\\ud800"', opts))
  end)

  it("escapes control characters and writes UTF-8 as is", function()
    assert.equal('"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\127/é中😀"',
      json.encode('a"b\\c\n\r\t\b\f\1\31\127/é中😀'))
    assert.equal('"\\u0000"', json.encode("\0"))
    local s, err, code = json.encode({ k = "ok\255" })
    assert.is_nil(s)
    assert.equal("json.encode: invalid UTF-8 in string at $.k", err)
    assert.equal("UTF8", code)
  end)

  it("agrees with lua-cjson on strings with a special byte at every position", function()
    local specials = { '"', "\\", "\n", "\1", "é", "中", "😀", "/" }
    for len = 0, 24 do
      for _, sp in ipairs(specials) do
        for at = 0, len do
          local str = string.rep("a", at) .. sp .. string.rep("b", len - at)
          local text = json.encode(str)
          assert.equal(str, cjson.decode(text))
          assert.equal(str, json.decode(cjson.encode(str)))
          assert.equal(str, json.decode(text))
        end
      end
    end
  end)

  it("rejects UTF-8 cut at the end of a string", function()
    for _, tail in ipairs({ "\228", "\228\184", "\240\159\152" }) do
      for len = 0, 10 do
        local s, err = json.encode(string.rep("x", len) .. tail)
        assert.is_nil(s)
        assert.equal("json.encode: invalid UTF-8 in string at $", err)
      end
    end
  end)

  it("keeps embedded zero bytes from \\u0000", function()
    assert.equal("a\0b", json.decode('"a\\u0000b"'))
  end)
end)

describe("json errors #c", function()
  local cases = {
    { '{"a":1,\n "b":[1,2],\n "c":  3,, "d":4}', "json: unexpected ',' at line 3 column 10 (byte 30)" },
    { "", "json: unexpected end of input at line 1 column 1 (byte 1)" },
    { "   ", "json: unexpected end of input at line 1 column 4 (byte 4)" },
    { "[1,2", "json: unexpected end of input at line 1 column 5 (byte 5)" },
    { "[1,]", "json: unexpected ']' at line 1 column 4 (byte 4)" },
    { '{"a" 1}', "json: unexpected '1' at line 1 column 6 (byte 6)" },
    { "{'a':1}", "json: unexpected ''' at line 1 column 2 (byte 2)" },
    { "[01]", "json: unexpected '1' at line 1 column 3 (byte 3)" },
    { "[1.]", "json: invalid number at line 1 column 2 (byte 2)" },
    { "[-]", "json: invalid number at line 1 column 2 (byte 2)" },
    { "[tru]", "json: invalid literal at line 1 column 2 (byte 2)" },
    { "[1] x", "json: unexpected 'x' at line 1 column 5 (byte 5)" },
    { '"abc', "json: unterminated string at line 1 column 5 (byte 5)" },
    { '"a\tb"', "json: unescaped control character in string at line 1 column 3 (byte 3)" },
    { '"\\x"', "json: invalid escape at line 1 column 2 (byte 2)" },
    { '"\\u12G4"', "json: invalid \\u escape at line 1 column 2 (byte 2)" },
    { "[1]\0", "json: unexpected byte 0x00 at line 1 column 4 (byte 4)" },
    { "\239\187\191{}", "json: unexpected byte 0xEF at line 1 column 1 (byte 1)" },
  }
  for _, c in ipairs(cases) do
    it("reports " .. c[2], function()
      local v, err, code = json.decode(c[1])
      assert.is_nil(v)
      assert.equal(c[2], err)
      assert.equal("SYNTAX", code)
    end)
  end

  it("raises on caller mistakes", function()
    assert.equal("bad argument #1 to 'decode' (string expected, got number)",
      raised(function() local r = json.decode(123); return r end))
    assert.equal("bad argument #2 to 'decode' (table expected, got string)",
      raised(function() local r = json.decode("1", "x"); return r end))
    assert.equal("bad argument #2 to 'decode' (unknown option 'foo')",
      raised(function() local r = json.decode("1", { foo = true }); return r end))
    assert.equal("bad argument #2 to 'decode' (option 'ordered' must be a boolean)",
      raised(function() local r = json.decode("1", { ordered = 1 }); return r end))
    assert.equal("bad argument #2 to 'decode' (option 'max_depth' must be an integer in 1..10000)",
      raised(function() local r = json.decode("1", { max_depth = 0 }); return r end))
    assert.equal("bad argument #2 to 'encode' (unknown option 'pretty')",
      raised(function() local r = json.encode({}, { pretty = true }); return r end))
    assert.equal("bad argument #1 to 'encode' (value expected)",
      raised(function() local r = json.encode(); return r end))
    assert.equal("bad argument #1 to 'raw_members' (string expected, got no value)",
      raised(function() local r = json.raw_members(); return r end))
  end)

  it("reports values it cannot encode with their path", function()
    local t = {}
    t.self = t
    local bad_values = {
      { { a = { print } }, "json.encode: cannot encode function at $.a[1]", "TYPE" },
      { { a = { b = coroutine.create(print) } }, "json.encode: cannot encode thread at $.a.b", "TYPE" },
      { { a = io.stdout }, "json.encode: cannot encode userdata at $.a", "TYPE" },
      { { list = { 1, 2, x = 3 } }, "json.encode: table with mixed keys at $.list", "KEYS" },
      { { [true] = 1 }, "json.encode: unsupported key type boolean at $", "KEYS" },
      { { a = { b = t } }, "json.encode: cycle at $.a.b.self", "CYCLE" },
    }
    for _, c in ipairs(bad_values) do
      local s, err, code = json.encode(c[1])
      assert.is_nil(s)
      assert.equal(c[2], err)
      assert.equal(c[3], code)
    end
  end)
end)

describe("json depth #c", function()
  it("decodes nesting up to max_depth and rejects deeper input", function()
    local ok = string.rep("[", 1000) .. string.rep("]", 1000)
    assert.is_table(json.decode(ok))
    local v, err, code = json.decode("[" .. ok .. "]")
    assert.is_nil(v)
    assert.equal("json: nesting deeper than 1000 at line 1 column 1001 (byte 1001)", err)
    assert.equal("DEPTH", code)
    v, err = json.decode('{"a":{"a":{"a":1}}}', { max_depth = 2 })
    assert.is_nil(v)
    assert.equal("json: nesting deeper than 2 at line 1 column 11 (byte 11)", err)
    assert.same({ a = { a = 1 } }, json.decode('{"a":{"a":1}}', { max_depth = 2 }))
  end)

  it("survives 100000 open brackets without a crash", function()
    local v, err = json.decode(string.rep("[", 100000))
    assert.is_nil(v)
    assert.equal("json: nesting deeper than 1000 at line 1 column 1001 (byte 1001)", err)
    v, err = json.decode(string.rep('{"a":', 100000))
    assert.is_nil(v)
    assert.equal("json: nesting deeper than 1000 at line 1 column 5001 (byte 5001)", err)
  end)

  it("accepts max_depth up to 10000 and stays within the runtime's stack", function()
    local s = string.rep("[", 10000) .. string.rep("]", 10000)
    local v, err, code = json.decode(s, { max_depth = 10000 })
    if HAS_INT64 then
      assert.is_table(v)
      assert.is_true(s == json.encode(v, { max_depth = 10000 }))
    else
      assert.is_nil(v)
      assert.truthy(err:match("^json: nesting too deep for the Lua stack at line 1 column %d+ %(byte %d+%)$"), err)
      assert.equal("DEPTH", code)
    end
  end)

  it("limits encode nesting", function()
    local deep = {}
    local cur = deep
    for _ = 1, 1000 do cur[1] = {}; cur = cur[1] end
    local s, err, code = json.encode(deep)
    assert.is_nil(s)
    assert.equal("DEPTH", code)
    assert.truthy(err:match("^json%.encode: nesting deeper than 1000 at %$%[1%]%[1%][%[%]1]*%.%.%.$"), err)
    local expect = string.rep("[", 1000) .. "{}" .. string.rep("]", 1000)
    assert.is_true(expect == json.encode(deep, { max_depth = 1001 }))
  end)

  it("decodes arrays longer than the Lua stack", function()
    local n = 200000
    local s = "[" .. string.rep("1,", n - 1) .. "1]"
    local v = json.decode(s)
    assert.equal(n, #v)
    local parts = {}
    for i = 1, 3000 do parts[i] = '"k' .. i .. '":' .. i end
    local obj = json.decode("{" .. table.concat(parts, ",") .. "}")
    assert.equal(3000, obj.k3000)
    assert.equal(1, obj.k1)
  end)
end)

describe("json ordered #c", function()
  it("keeps member order and still indexes by name", function()
    local s = '{"z":1,"a":{"y":[1,{"k":"v","b":null}],"b":false},"m":"x"}'
    local v = json.decode(s, { ordered = true })
    assert.equal(1, v.z)
    assert.equal("v", v.a.y[2].k)
    assert.equal(s, json.encode(v))
    v.m = nil
    v.new = 5
    assert.equal('{"z":1,"a":{"y":[1,{"k":"v","b":null}],"b":false},"new":5}', json.encode(v))
    assert.equal('{"a":{"b":false,"y":[1,{"b":null,"k":"v"}]},"new":5,"z":1}', json.encode(v, { sort_keys = true }))
  end)

  it("writes member numbers back as they were read while unchanged", function()
    local s = '{"a":1E2,"b":-0,"c":1.50,"d":26.0,"e":{"f":0.10}}'
    local v = json.decode(s, { ordered = true })
    assert.equal(100, v.a)
    assert.equal(1.5, v.c)
    assert.equal(s, json.encode(v))
    v.c = 2.5
    v.e.f = 0.25
    assert.equal('{"a":1E2,"b":-0,"c":2.5,"d":26.0,"e":{"f":0.25}}', json.encode(v))
    -- array elements keep their text too (while unchanged), and canonical without ordered
    local list = json.decode("[1.0,1.50,1E2]", { ordered = true })
    assert.equal(json.array_mt, getmetatable(list))
    assert.equal("[1.0,1.50,1E2]", json.encode(list))
    list[2] = 2.5
    assert.equal("[1.0,2.5,1E2]", json.encode(list))
    assert.equal(HAS_INT64 and "[1.0,1.5,100.0]" or "[1,1.5,100]",
      json.encode(json.decode("[1.0,1.50,1E2]")))
  end)

  it("keeps one entry per repeated name, with the last value", function()
    local v = json.decode('{"a":1,"b":2,"a":3}', { ordered = true })
    assert.equal('{"a":3,"b":2}', json.encode(v))
  end)
end)

describe("json raw_members #c", function()
  it("lists top-level members with their exact value text", function()
    local s = ' {"id" : 531464955418787840,"amt":16.050,"o":{"a":[1, 2]} , "s":"\\u4e2d","n":null}\n'
    local list = json.raw_members(s)
    local expect = {
      { "id", "531464955418787840" }, { "amt", "16.050" }, { "o", '{"a":[1, 2]}' },
      { "s", '"\\u4e2d"' }, { "n", "null" },
    }
    assert.equal(#expect, #list)
    for i, e in ipairs(expect) do
      assert.equal(e[1], list[i].name)
      assert.equal(e[2], list[i].raw)
      assert.equal(e[1], list[i][1])
      assert.equal(e[2], list[i][2])
    end
    assert.same({}, json.raw_members("{}"))
  end)

  it("rejects what is not one valid object", function()
    local cases = {
      { "[1]", "json: unexpected '[' at line 1 column 1 (byte 1)" },
      { '{"a":1,}', "json: unexpected '}' at line 1 column 8 (byte 8)" },
      { '{"a":[1,]}', "json: unexpected ']' at line 1 column 9 (byte 9)" },
      { '{"a":1} {}', "json: unexpected '{' at line 1 column 9 (byte 9)" },
      { '{"a":01}', "json: unexpected '1' at line 1 column 7 (byte 7)" },
    }
    for _, c in ipairs(cases) do
      local v, err = json.raw_members(c[1])
      assert.is_nil(v)
      assert.equal(c[2], err)
    end
  end)
end)

describe("json lua-cjson interop #c", function()
  local doc = '{"code":"0","data":{"list":[{"id":12,"price":16.05,"tags":["a","b"],"note":null}],"total":1}}'

  it("encodes what cjson.decode made, and cjson reads what mallapi made", function()
    local from_cjson = cjson.decode(doc)
    assert.same(from_cjson, json.decode(json.encode(from_cjson)))
    local from_mallapi = json.decode(doc)
    assert.same(from_mallapi, cjson.decode(cjson.encode(from_mallapi)))
    assert.same(from_cjson, from_mallapi)
    assert.is_true(from_cjson.data.list[1].note == from_mallapi.data.list[1].note)
  end)

  it("re-encodes a vendor payload decoded by cjson to the same values", function()
    local from_cjson = cjson.decode(payload("orders_small.json"))
    local text = assert(json.encode(from_cjson))
    assert.same(from_cjson, json.decode(text))
    assert.same(from_cjson, cjson.decode(text))
  end)

  it("honours cjson.array_mt and cjson.empty_array when the loaded cjson has them", function()
    -- Debian's lua-cjson 2.1.0 has neither; stand in for a newer one.
    local real = package.loaded.cjson
    local fake = { array_mt = {}, empty_array = {}, null = real.null }
    package.loaded.cjson = fake
    local ok, err = pcall(function()
      assert.equal('{"a":[],"b":[],"c":{}}',
        json.encode({ a = setmetatable({}, fake.array_mt), b = fake.empty_array, c = {} }, { sort_keys = true }))
    end)
    package.loaded.cjson = real
    assert(ok, err)
    assert.equal('{"b":{}}', json.encode({ b = fake.empty_array }))
  end)
end)

describe("json vendor round trips #c", function()
  local docs = {
    sobot = '{"ret_code":"000000","ret_msg":"操作成功","item":{"total":2,"page_no":1,"page_size":20,' ..
      '"list":[{"orderid":"20240601001","ordercode":"SO-1","order_status":1,"create_time":1717200000000,' ..
      '"customer_name":"李飞","goods":[{"name":"智利进口车厘子JJ级2斤装","price":89.9,"num":2}]},' ..
      '{"orderid":"20240601002","ordercode":"SO-2","order_status":3,"create_time":1717200060000,' ..
      '"customer_name":"王芳","goods":[]}]}}',
    guanmai = '{"code":0,"msg":"ok","data":{"order_id":"PL10086","status":15,"receive_address":' ..
      '"广东省广州市天河区天河北路233号","details":[{"sku_id":"D123","name":"新疆阿克苏冰糖心苹果5斤",' ..
      '"std_unit_name":"斤","quantity":2.5,"sale_price":"12.80","remark":"不要放快递柜,谢谢"}],' ..
      '"freight":0,"total_price":32.0,"coupon":null}}',
    shoplus = '{"id":531464955418787840,"orderItems":[{"id":531464955276181517,"payAmount":16.05,' ..
      '"title":"大容量双肩包学生书包电脑包"}],"discounts":[],"customer":{},"test":false}',
  }

  for name, s in pairs(docs) do
    it(name .. ": compact input comes back byte for byte, values survive", function()
      local ordered = json.decode(s, { ordered = true })
      assert.equal(s, json.encode(ordered))
      local v = json.decode(s)
      assert.same(v, json.decode(json.encode(v)))
    end)
  end

  for _, name in ipairs({ "orders_small.json", "hd_saleorder.json", "orders_1k.json", "http_small.json" }) do
    it(name .. " (gen_payloads.lua): ordered round trip and deep equality", function()
      local s = payload(name)
      assert.equal(s, json.encode(json.decode(s, { ordered = true })))
      local v = json.decode(s)
      assert.same(v, json.decode(json.encode(v)))
    end)
  end

  it("the Shoplus ids in the generated payloads stay exact", function()
    local v = json.decode(payload("orders_small.json"))
    assert.equal("531464955418787840", tostring(v.id))
    local list = json.raw_members(payload("orders_small.json"))
    local raw
    for _, m in ipairs(list) do if m.name == "id" then raw = m.raw end end
    assert.equal("531464955418787840", raw)
  end)
end)
