-- cjson_compat_spec.lua: the meaningful cases of lua-cjson's tests/test.lua and the
-- OpenResty fork's agentzh.t (../shared/lua-cjson-tests/), table-driven. Each case
-- gives the input, mallapi's outcome, and, where it differs from cjson on purpose,
-- `differs` naming the reason.
local json = require("mallapi").json

local N = json.null
local suite_counts = require "support.suite_counts"   -- one line per suite after the run

-- decode cases: { name, input, expected value | nil (rejected), differs = reason }
local decode_cases = {
  { "string", '"test string"', "test string" },
  { "numbers", '[ 0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10 ]', { 0.0, -5e3, -1, 0.3e-3, 1023.2, 0.0 } },
  { "null", "null", N },
  { "true", "true", true },
  { "false", "false", false },
  { "object with numeric keys", '{ "1": "one", "3": "three" }', { ["1"] = "one", ["3"] = "three" } },
  { "object with string keys", '{ "a": "a", "b": "b" }', { a = "a", b = "b" } },
  { "array with null", '[ "one", null, "three" ]', { "one", N, "three" } },
  { "UTF-16BE", '\0"\0"', nil },
  { "UTF-16LE", '"\0"\0', nil },
  { "partial JSON", '{ "unexpected eof": ', nil },
  { "extra comma", '{ "extra data": true }, false', nil },
  { "invalid escape", [[ { "bad escape \q code" } ]], nil },
  { "invalid unicode escape", [[ { "bad unicode \u0f6 escape" } ]], nil },
  { "invalid keyword", [[ [ "bad keyword", bad ] ]], nil },
  { "invalid number #1", "[ -+12 ]", nil },
  { "invalid number #2", "-v", nil },
  { "invalid number exponent", "[ 0.4eg10 ]", nil },
  { "hexadecimal", "0x6", nil,
    differs = "cjson accepts it under decode_invalid_numbers (its default); JSON has no hex, strict only" },
  { "leading zero", "[ 0123, 00.33 ]", nil, differs = "cjson's decode_invalid_numbers; strict grammar only" },
  { "+-Inf", "[ +Inf, Inf, -Inf ]", nil, differs = "cjson's decode_invalid_numbers; not JSON" },
  { "+-NaN", "[ +NaN, NaN, -NaN ]", nil, differs = "cjson's decode_invalid_numbers; not JSON" },
  { "Infrared", "Infrared", nil },
  { "Noodle", "Noodle", nil },
  { "single UTF-16 escape", [["\uF800"]], "\239\160\128" },
  { "surrogate pair", [["\uD834\uDD1E"]], "\240\157\132\158" },
  { "swapped surrogate pair", [["\uDC00\uD800"]], nil },
  { "duplicate high surrogate", [["\uDB00\uDB00"]], nil },
  { "duplicate low surrogate", [["\uDB00\uDB00"]], nil },
  { "missing low surrogate", [["\uDB00"]], nil },
  { "invalid low surrogate", [["\uDB00\uD"]], nil },
  { "single-line comment", '{//comment\n}', nil,
    differs = "only cjson's decode_allow_comments fork option; comments are not JSON" },
  { "integer beyond 2^53 stays exact", "[9007199254740993]", nil, exact_int = "9007199254740993",
    differs = "cjson reads every number as a double (9007199254740992); ids must stay exact" },
}

-- encode cases: { name, value, expected text | nil (error), opts = ..., differs = reason }
local encode_cases = {
  { "null", N, "null" },
  { "true", true, "true" },
  { "false", false, "false" },
  { "empty object", {}, "{}" },
  { "integer", 10, "10" },
  { "string", "hello", '"hello"' },
  { "function", function() end, nil },
  { "NaN", 0 / 0, nil },
  { "Infinity", math.huge, nil },
  { "NaN with allow_nan", 0 / 0, "NaN", opts = { allow_nan = true },
    differs = "cjson's encode_invalid_numbers(true) writes nan or NaN by platform; one spelling here" },
  { "+Infinity with allow_nan", math.huge, "Infinity", opts = { allow_nan = true } },
  { "-Infinity with allow_nan", -math.huge, "-Infinity", opts = { allow_nan = true } },
  { "sparse table", { [4] = "sparse test" }, '{"4":"sparse test"}',
    differs = "cjson pads short gaps with null (encode_sparse_array); integer keys that are not 1..n are names here" },
  { "numeric string key", { ["2"] = "numeric string key test" }, '{"2":"numeric string key test"}' },
  { "mixed keys", { [1] = "a", b = "c" }, nil,
    differs = "cjson writes such a table as an object; a JSON object keyed 1 and \"1\" is ambiguous, refused here" },
  { "boolean key", { [false] = "wrong" }, nil },
  { "float", 0.1, "0.1", differs = "cjson writes %.14g (lossy); shortest round-trip text here" },
  { "integral float", 2 ^ 60, "1.152921504606847e+18", runtime = "luajit" },
  { "slash", "a/b", '"a/b"', differs = "cjson escapes / as \\/ by default (encode_escape_forward_slash)" },
  { "nested arrays at depth 5", { { { { { "nested" } } } } }, '[[[[["nested"]]]]]', opts = { max_depth = 5 } },
  { "nested arrays past depth 5", { { { { { { "nested" } } } } } }, nil, opts = { max_depth = 5 } },
}

local function cjson_stub()
  -- agentzh.t's markers, as a stand-in: the system lua-cjson (2.1.0) has none.
  return { array_mt = {}, empty_array_mt = {}, empty_array = { "empty_array marker" } }
end

describe("cjson compatibility #c", function()
  local count = suite_counts.suite("lua-cjson tests")
  for _, c in ipairs(decode_cases) do
    local name, input, want = c[1], c[2], c[3]
    it("decode: " .. name .. (c.differs and " (differs: " .. c.differs .. ")" or ""), count(function()
      local v, err = json.decode(input)
      if c.exact_int then
        assert.is_nil(err)
        assert.equal(c.exact_int, tostring(v[1]))
      elseif want == nil then
        assert.is_nil(v)
        assert.truthy(err:match("^json: .+ at line %d+ column %d+"), err)
      else
        assert.is_nil(err)
        assert.same(want, v)
      end
    end))
  end

  for _, c in ipairs(encode_cases) do
    local name, value, want = c[1], c[2], c[3]
    if not c.runtime or c.runtime == os.getenv("MALLAPI_RUNTIME") then
      it("encode: " .. name .. (c.differs and " (differs: " .. c.differs .. ")" or ""), count(function()
        local text, err, code = json.encode(value, c.opts)
        if want == nil then
          assert.is_nil(text)
          assert.truthy(err:match("^json%.encode: "), err)
          assert.is_string(code)
        else
          assert.is_nil(err)
          assert.equal(want, text)
        end
      end))
    end
  end

  it("decode: every escaped octet (octets-escaped.dat) and the RFC examples", count(function()
    local read = require("support.files").read
    -- differs: the file holds bytes 0x80-0xFF raw; cjson passes them through, strict UTF-8
    -- input refuses them (replace_invalid_utf8 gives U+FFFD each), the escaped 0x00-0x7F match.
    local dat = read("../shared/lua-cjson-tests/octets-escaped.dat")
    local v, err = json.decode(dat)
    assert.is_nil(v)
    assert.truthy(err:match("invalid UTF%-8"), err)
    local octets = assert(json.decode(dat, { replace_invalid_utf8 = true }))
    for i = 0, 127 do assert.equal(string.char(i), octets:sub(i + 1, i + 1)) end
    assert.equal(128 + 128 * 3, #octets)
    for _, f in ipairs { "rfc-example1.json", "rfc-example2.json", "types.json", "numbers.json",
                         "example1.json", "example2.json", "example3.json", "example4.json", "example5.json" } do
      local doc, derr = json.decode(read("../shared/lua-cjson-tests/" .. f))
      assert.is_nil(derr, f)
      assert.same(doc, json.decode(json.encode(doc)), f)
    end
  end))

  it("encode: all 8-bit clean text that is UTF-8; control bytes escaped", count(function()
    local s = {}
    for i = 0, 127 do s[#s + 1] = string.char(i) end
    s = table.concat(s)
    assert.equal(s, json.decode(json.encode(s)))
    -- differs: cjson writes any byte; invalid UTF-8 (\255) is refused here so output is always JSON
    assert.is_nil(json.encode("\255"))
  end))

  -- agentzh.t
  describe("OpenResty markers (agentzh.t), from cjson and from cjson.safe", function()
    for _, modname in ipairs { "cjson", "cjson.safe" } do
      it(modname .. ": empty_array_mt, array_mt, empty_array", count(function()
        local saved = package.loaded[modname]
        local other = modname == "cjson" and "cjson.safe" or "cjson"
        local saved_other = package.loaded[other]
        local m = cjson_stub()
        package.loaded[modname] = m
        package.loaded[other] = nil
        local ok, e = pcall(function()
          -- "empty tables as objects" / "empty_array_mt"
          assert.equal('{"a":[]}', json.encode({ a = setmetatable({}, m.empty_array_mt) }))
          assert.equal('{"a":{"b":1}}', json.encode({ a = setmetatable({ b = 1 }, m.empty_array_mt) }))
          assert.equal("[1,2]", json.encode(setmetatable({ 1, 2 }, m.empty_array_mt)))
          -- "array_mt on empty / non-empty tables"; array_mt writes the sequence part only
          assert.equal("[]", json.encode(setmetatable({}, m.array_mt)))
          assert.equal('[1,2,3]', json.encode(setmetatable({ 1, 2, 3, x = 1 }, m.array_mt)))
          -- "cjson.empty_array"
          assert.equal('{"list":[]}', json.encode({ list = m.empty_array }))
          -- "decode_array_with_array_mt": decoded arrays carry cjson's array_mt
          local v = json.decode('{"a":[],"b":[1]}', { array_mt = m.array_mt })
          assert.equal(m.array_mt, getmetatable(v.a))
          assert.equal('{"a":[],"b":[1]}', json.encode(v, { sort_keys = true }))
          -- and without it (array_mt = false), an empty array comes back as {} like plain cjson
          local plain = json.decode("[]", { array_mt = false })
          assert.is_nil(getmetatable(plain))
          assert.equal("{}", json.encode(plain))
        end)
        package.loaded[modname], package.loaded[other] = saved, saved_other
        assert(ok, e)
      end))
    end

    it("mixed: markers of both modules at once (distinct instances)", count(function()
      local saved, saved_safe = package.loaded.cjson, package.loaded["cjson.safe"]
      local a, b = cjson_stub(), cjson_stub()
      package.loaded.cjson, package.loaded["cjson.safe"] = a, b
      local text = json.encode({ x = setmetatable({}, a.empty_array_mt), y = setmetatable({}, b.array_mt),
                                 z = b.empty_array, w = setmetatable({}, b.empty_array_mt) }, { sort_keys = true })
      package.loaded.cjson, package.loaded["cjson.safe"] = saved, saved_safe
      assert.equal('{"w":[],"x":[],"y":[],"z":[]}', text)
    end))

    it("rejects a wrong array_mt option", count(function()
      assert.has_error(function() json.decode("[]", { array_mt = true }) end,
        "bad argument #2 to 'decode' (option 'array_mt' must be a table or false)")
    end))
  end)
end)
