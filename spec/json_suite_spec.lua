-- json_suite_spec.lua: mallapi.json against the JSONTestSuite parsing corpus
-- (../shared/json-test-suite/test_parsing): every y_ file decodes, every n_ file is
-- rejected with an error, every i_ file gets the outcome documented in doc/json.md.
-- Accepted documents also re-encode to text that decodes to the same value.
-- Also nativejson-benchmark's conformance data (../shared/nativejson/): jsonchecker/
-- (pass*.json decode, fail*.json are rejected; the two _EXCLUDE files, a top-level
-- scalar and 20 levels of nesting, are accepted as RFC 8259 and max_depth allow) and
-- roundtrip/ (decode with ordered = true, then encode: byte for byte).
local json = require("mallapi").json

local DIR = "../shared/json-test-suite/test_parsing/"

local read = require("support.files").read
local suite_counts = require "support.suite_counts"   -- one line per suite after the run

-- A rejected document: no value, a positioned error, a syntax or depth code.
local function assert_rejected(v, err, code)
  assert.is_nil(v)
  assert.is_string(err)
  assert.truthy(err:match("^json: .+ at line %d+ column %d+ %(byte %d+%)$"), err)
  assert.truthy(code == "SYNTAX" or code == "DEPTH")
end

local files = {}
do
  local p = assert(io.popen("ls " .. DIR))
  for name in p:lines() do
    if name:match("%.json$") then files[#files + 1] = name end
  end
  p:close()
end

-- i_ groups: true = accepted, false = rejected (see doc/json.md).
local implementation_defined = {
  ["^i_number_"] = true,              -- huge or tiny numbers: raw numbers / 0.0
  ["^i_structure_500_nested"] = true, -- below the default max_depth of 1000
  ["^i_structure_UTF%-8_BOM"] = false,
  ["^i_string_"] = false,             -- invalid UTF-8, lone surrogates, UTF-16
  ["^i_object_key_lone"] = false,
}

local function expected_outcome(name)
  local kind = name:sub(1, 1)
  if kind == "y" then return true end
  if kind == "n" then return false end
  for pattern, accepted in pairs(implementation_defined) do
    if name:match(pattern) then return accepted end
  end
  error("no documented outcome for " .. name)
end

describe("json JSONTestSuite #c", function()
  local count = suite_counts.suite("JSONTestSuite")
  it("finds the corpus", function()
    assert.is_true(#files > 300)
  end)

  for _, name in ipairs(files) do
    local want = expected_outcome(name)
    it((want and "accepts " or "rejects ") .. name, count(function()
      local s = read(DIR .. name)
      local v, err, code = json.decode(s)
      if want then
        assert.is_nil(err)
        local text = assert(json.encode(v))
        local again, err2 = json.decode(text)
        assert.is_nil(err2)
        assert.same(v, again)
      else
        assert_rejected(v, err, code)
      end
    end))
  end

  it("replace_invalid_utf8 turns every i_string_ file with UTF-8 input into a string", function()
    for _, name in ipairs(files) do
      if name:match("^i_string_") and not name:match("utf16") and not name:match("UTF%-16") then
        local v, err = json.decode(read(DIR .. name), { replace_invalid_utf8 = true })
        assert.is_nil(err, name)
        assert.is_table(v, name)
      end
    end
  end)
end)

local NATIVE = "../shared/nativejson/"

local function list(dir, pattern)
  local out = {}
  local p = assert(io.popen("ls " .. dir))
  for name in p:lines() do
    if name:match(pattern) then out[#out + 1] = name end
  end
  p:close()
  return out
end

describe("json nativejson jsonchecker and roundtrip #c", function()
  local checker = list(NATIVE .. "jsonchecker", "%.json$")
  local roundtrip = list(NATIVE .. "roundtrip", "%.json$")
  local count_checker = suite_counts.suite("nativejson jsonchecker")
  local count_roundtrip = suite_counts.suite("nativejson roundtrip")

  it("finds the corpora", function()
    assert.equal(36, #checker)
    assert.equal(27, #roundtrip)
  end)

  for _, name in ipairs(checker) do
    local accepted = name:match("^pass") or name:match("_EXCLUDE")
    it((accepted and "accepts " or "rejects ") .. "jsonchecker/" .. name, count_checker(function()
      local v, err, code = json.decode(read(NATIVE .. "jsonchecker/" .. name))
      if accepted then
        assert.is_nil(err)
        assert.same(v, json.decode(assert(json.encode(v))))
      else
        assert_rejected(v, err, code)
      end
    end))
  end

  for _, name in ipairs(roundtrip) do
    it("round-trips roundtrip/" .. name .. " byte for byte (ordered)", count_roundtrip(function()
      local s = read(NATIVE .. "roundtrip/" .. name)
      local v, err = json.decode(s, { ordered = true })
      assert.is_nil(err)
      assert.equal(s, json.encode(v))
    end))
  end

  it("canonical encode of the roundtrip files reads back to the same values", function()
    for _, name in ipairs(roundtrip) do
      local v = json.decode(read(NATIVE .. "roundtrip/" .. name))
      assert.same(v, json.decode(json.encode(v)), name)
    end
  end)
end)
