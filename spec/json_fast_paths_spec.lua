-- json_fast_paths_spec.lua: the speed paths of issue 15 give the same results as the
-- general ones. json.encode of tables built by Lua code: a sequence without the
-- codec's array metatable is written in one traversal, and any other shape falls back
-- (output rewound) to the same text or error as before. Escape-dense strings: plain
-- runs of every length between escapes unescape like lua-cjson does.
local json = require("mallapi").json
local cjson = require "cjson"

local HAS_INT64 = math.type ~= nil

describe("json.encode of Lua-built tables #c", function()
  local function appended(n, f)
    local t = {}
    for i = 1, n do t[#t + 1] = f(i) end
    return t
  end

  local cases = {
    { "a literal sequence", { 1, 2, 3 }, "[1,2,3]" },
    { "an appended sequence of floats", appended(4, function(i) return i * 1.5 end),
      HAS_INT64 and "[1.5,3.0,4.5,6.0]" or "[1.5,3,4.5,6]" },
    { "a sequence filled backwards", (function() local t = {}; t[3] = "c"; t[2] = "b"; t[1] = "a"; return t end)(),
      '["a","b","c"]' },
    { "nested sequences and objects", { { 1, { 2, { 3 } } }, { a = { 1, 2 } } }, '[[1,[2,[3]]],{"a":[1,2]}]' },
    { "a sequence with a hole", { 1, nil, 3 }, '{"1":1,"3":3}' },
    { "a sequence that lost an element", (function() local t = { 1, 2, 3 }; t[2] = nil; return t end)(),
      '{"1":1,"3":3}' },
    { "integer keys with a gap", { [1] = "a", [2] = "b", [4] = "d" }, '{"1":"a","2":"b","4":"d"}' },
    { "a long appended sequence", appended(1000, function(i) return "s" .. i end), nil },
  }
  for _, c in ipairs(cases) do
    it("writes " .. c[1], function()
      local text = assert(json.encode(c[2]))
      if c[3] then assert.equal(c[3], text) end
      if c[1] == "a long appended sequence" then
        assert.equal(1000, #json.decode(text))
        assert.equal("s1000", json.decode(text)[1000])
      end
    end)
  end

  local errors = {
    { "mixed keys after the sequence", { 1, 2, x = 1 }, "json.encode: table with mixed keys at $" },
    { "a float key after the sequence", { 1, 2, [1.5] = 3 }, "json.encode: unsupported key type number at $" },
    { "a function inside the sequence", { 1, print }, "json.encode: cannot encode function at $[2]" },
  }
  for _, c in ipairs(errors) do
    it("reports " .. c[1], function()
      local text, err = json.encode(c[2])
      assert.is_nil(text)
      assert.equal(c[3], err)
    end)
  end
end)

describe("json.decode of escape-dense strings #c", function()
  local escapes = { '\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u20ac",
    "\\ud83d\\ude00", "\\u0000" }
  local plain = { "", "a", "caf\195\169", "0123456", "01234567", "0123456789abcdef", ("x"):rep(47),
    ("y"):rep(48), ("z"):rep(63), ("w"):rep(200), ("\226\130\172"):rep(30) }

  it("unescapes like lua-cjson for runs of every length around each escape", function()
    local n = 0
    for _, e in ipairs(escapes) do
      for _, a in ipairs(plain) do
        for _, b in ipairs(plain) do
          local doc = '["' .. a .. e .. b .. e .. e .. a .. '"]'
          assert.equal(cjson.decode(doc)[1], json.decode(doc)[1], doc)
          n = n + 1
        end
      end
    end
    assert.equal(#escapes * #plain * #plain, n)
  end)

  it("unescapes one long string with thousands of escapes", function()
    local parts = {}
    for i = 1, 5000 do parts[i] = escapes[i % #escapes + 1] .. plain[i % #plain + 1] end
    local doc = '"' .. table.concat(parts) .. '"'
    assert.equal(cjson.decode(doc), json.decode(doc))
  end)
end)
