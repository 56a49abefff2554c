-- The sandbox's own JSON reader/writer (sandbox/lua/sandbox/json.lua): 64-bit integers kept as
-- their digits, arrays kept as arrays, strict syntax, raw top-level members.
package.path = "sandbox/lua/?.lua;" .. package.path
local json = require "sandbox.json"

describe("sandbox.json", function()
  it("round-trips texts exactly", function()
    local cases = {
      '{"id":531464955418787840}',
      '{"id":531464955276181500}',
      '{"a":[],"b":{},"c":[1,2.5,-3],"d":null,"e":true,"f":false}',
      '[-9223372036854775808,18446744073709551615,0.1,1e+300]',
      '{"s":"line\\nquote\\"back\\\\slash\\u0001"}',
      '{"t":"夏季 T恤"}',
    }
    for _, text in ipairs(cases) do
      assert.equal(text, json.encode(assert(json.decode(text))))
    end
  end)

  it("decodes integers beyond 15 digits as bignums and small ones as numbers", function()
    local v = json.decode('{"big":531464955276181500,"small":123456789012345,"neg":-1234567890123456789}')
    assert.is_true(json.is_bignum(v.big))
    assert.equal("531464955276181500", tostring(v.big))
    assert.equal(123456789012345, v.small)
    assert.equal("-1234567890123456789", json.text(v.neg))
  end)

  it("decodes escapes and surrogate pairs", function()
    assert.equal("é😀", json.decode('"\\u00e9\\ud83d\\ude00"'))
  end)

  it("rejects malformed texts with the byte offset", function()
    local cases = {
      { '{"a":1,}', "json: expected a member name at byte 8" },
      { '[1,2', "json: expected ',' or ']' at byte 5" },
      { '{"a" 1}', "json: expected ':' at byte 6" },
      { '012', "json: leading zero at byte 1" },
      { '"abc', "json: unterminated string at byte 5" },
      { '{"session", "123"}', "json: expected ':' at byte 11" },
      { '[1] x', "json: trailing text at byte 5" },
      { '', "json: unexpected end at byte 1" },
    }
    for _, c in ipairs(cases) do
      local v, err = json.decode(c[1])
      assert.is_nil(v)
      assert.equal(c[2], err)
    end
  end)

  it("lists raw top-level members as written", function()
    local members = assert(json.raw_members('{"id": 531464955418787840, "amount":16.050,"n":null}'))
    assert.same({ "id", "531464955418787840" }, { members[1].name, members[1].raw })
    assert.same({ "amount", "16.050", 16.05 }, { members[2].name, members[2].raw, members[2].value })
    assert.equal(json.null, members[3].value)
    assert.same({ nil, "json: expected an object at byte 1" }, { json.raw_members("[1]") })
  end)
end)
