-- mallapi.codec: URL encodings (RFC 3986, form, java.net.URLEncoder), base64
-- (RFC 4648, both alphabets) and hex; the Java vectors of signing.json; every
-- byte value against the flavors' rules written out here; decoder errors with
-- byte offsets; round trips over random byte strings; exact argument errors.
local mallapi = require "mallapi"
local vectors = require "support.signing_vectors"
local arg_cases = require "support.arg_cases"

local codec = mallapi.codec
local arg_case, check, random_bytes = arg_cases.arg_case, arg_cases.check, arg_cases.random_bytes

-- The flavors' rules, written independently of the C tables.
local function expected_url(byte, flavor)
  local c = string.char(byte)
  if c:match("^[A-Za-z0-9]$") or c == "-" or c == "." or c == "_" then return c end
  if c == "~" and flavor ~= "java" then return c end
  if c == "*" and flavor == "java" then return c end
  if c == " " and flavor ~= "rfc3986" then return "+" end
  return string.format("%%%02X", byte)
end

describe("codec #c", function()
  describe("urlencode", function()
    it("is java.net.URLEncoder for the java_urlencode vectors", function()
      for _, case in ipairs(vectors.with_prefix("java_urlencode")) do
        assert.equal(case.expect.encoded, codec.urlencode(case.input.s, "java"), case.id)
        assert.equal(case.input.s, codec.urldecode(case.expect.encoded, true), case.id)
      end
    end)

    it("encodes the Shoplus request data as signing.json says", function()
      for _, case in ipairs(vectors.with_prefix("shoplus.request_sign")) do
        assert.equal(case.expect.data, codec.urlencode(case.input.data_json, "java"), case.id)
      end
    end)

    it("follows each flavor's rule for every byte value", function()
      for _, flavor in ipairs({ "rfc3986", "form", "java" }) do
        for byte = 0, 255 do
          assert.equal(expected_url(byte, flavor), codec.urlencode(string.char(byte), flavor),
            flavor .. " byte " .. byte)
        end
      end
      for byte = 0, 255 do
        assert.equal(expected_url(byte, "rfc3986"), codec.urlencode(string.char(byte)))
      end
    end)

    it("keeps the order and length of mixed input", function()
      local cases = {
        { "", "rfc3986", "" },
        { "a b&c=d/é~", "rfc3986", "a%20b%26c%3Dd%2F%C3%A9~" },
        { "a b&c=d/é~", "form", "a+b%26c%3Dd%2F%C3%A9~" },
        { "a b&c=d/é~*", "java", "a+b%26c%3Dd%2F%C3%A9%7E*" },
        { string.rep("é", 600), "rfc3986", string.rep("%C3%A9", 600) },   -- past the stack buffer
      }
      for _, case in ipairs(cases) do
        assert.equal(case[3], codec.urlencode(case[1], case[2]))
      end
    end)
  end)

  describe("urldecode", function()
    it("decodes escapes of either case and '+' only when asked", function()
      local cases = {
        { "", false, "" },
        { "%41%6a%6A", false, "Ajj" },
        { "a+b%20c", false, "a+b c" },
        { "a+b%20c", true, "a b c" },
        { "%2B+", true, "+ " },
        { "%00%ff%FF", false, "\0\255\255" },
        { "é raw", false, "é raw" },
      }
      for _, case in ipairs(cases) do
        assert.equal(case[3], codec.urldecode(case[1], case[2]))
      end
    end)

    it("reports a bad escape with its byte offset", function()
      local cases = {
        { "%", 1 }, { "a%4", 2 }, { "abc%4", 4 }, { "%zz", 1 }, { "%4g", 1 }, { "ok%41%%41", 6 },
      }
      for _, case in ipairs(cases) do
        local value, msg, code = codec.urldecode(case[1])
        assert.is_nil(value)
        assert.equal("urldecode: bad percent escape at byte " .. case[2], msg)
        assert.equal("DECODE", code)
      end
    end)
  end)

  describe("base64", function()
    it("matches the RFC 4648 test vectors", function()
      local rfc4648 = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
      }
      for _, case in ipairs(rfc4648) do
        assert.equal(case[2], codec.base64encode(case[1]))
        assert.equal(case[1], codec.base64decode(case[2]))
        local unpadded = case[2]:gsub("=", "")
        assert.equal(unpadded, codec.base64encode(case[1], true))
        assert.equal(case[1], codec.base64decode(unpadded, true))
        assert.equal(case[1], codec.base64decode(unpadded))       -- padding is optional
        assert.equal(case[1], codec.base64decode(case[2], true))   -- in both alphabets
      end
    end)

    it("uses + / in the standard alphabet and - _ in the URL-safe one", function()
      assert.equal("+/8=", codec.base64encode("\251\255"))
      assert.equal("-_8", codec.base64encode("\251\255", true))
      assert.equal("\251\255", codec.base64decode("+/8="))
      assert.equal("\251\255", codec.base64decode("-_8", true))
    end)

    it("reports malformed input with its byte offset", function()
      local cases = {
        { "Zm9v!", false, "invalid character at byte 5" },
        { "Zm9v\n", false, "invalid character at byte 5" },
        { " Zm9v", false, "invalid character at byte 1" },
        { "-_8", false, "invalid character at byte 1" },
        { "+/8=", true, "invalid character at byte 1" },
        { "Zm9vY", false, "truncated input at byte 5" },
        { "Zg=", false, "misplaced padding at byte 3" },
        { "Z===", false, "misplaced padding at byte 2" },
        { "Zm=v", false, "misplaced padding at byte 3" },
        { "Zm9v=", false, "misplaced padding at byte 5" },
        { "====", false, "misplaced padding at byte 1" },
        { "Zh==", false, "non-zero trailing bits at byte 2" },
        { "Zm9=", false, "non-zero trailing bits at byte 3" },
      }
      for _, case in ipairs(cases) do
        local value, msg, code = codec.base64decode(case[1], case[2])
        assert.is_nil(value, case[1])
        assert.equal("base64decode: " .. case[3], msg)
        assert.equal("DECODE", code)
      end
    end)
  end)

  describe("hex", function()
    it("encodes lower case by default, upper on request, and decodes either", function()
      assert.equal("", codec.hexencode(""))
      assert.equal("00ff616263", codec.hexencode("\0\255abc"))
      assert.equal("00FF616263", codec.hexencode("\0\255abc", true))
      assert.equal("\0\255abc", codec.hexdecode("00fF616263"))
      assert.equal("", codec.hexdecode(""))
    end)

    it("reports malformed input with its byte offset", function()
      local cases = {
        { "abz", "invalid character at byte 3" },
        { "abzz", "invalid character at byte 3" },
        { "az", "invalid character at byte 2" },
        { "zz", "invalid character at byte 1" },
        { "abc", "odd number of digits at byte 3" },
        { "a", "odd number of digits at byte 1" },
        { "0x00", "invalid character at byte 2" },
      }
      for _, case in ipairs(cases) do
        local value, msg, code = codec.hexdecode(case[1])
        assert.is_nil(value)
        assert.equal("hexdecode: " .. case[2], msg)
        assert.equal("DECODE", code)
      end
    end)
  end)

  describe("round trips over random byte strings", function()
    math.randomseed(3986)
    local samples = {}
    for i = 1, 150 do samples[i] = random_bytes(math.random(0, i < 140 and 64 or 2000)) end

    it("urlencode then urldecode, every flavor", function()
      for _, s in ipairs(samples) do
        assert.equal(s, codec.urldecode(codec.urlencode(s)))
        assert.equal(s, codec.urldecode(codec.urlencode(s, "form"), true))
        assert.equal(s, codec.urldecode(codec.urlencode(s, "java"), true))
      end
    end)

    it("base64, both alphabets", function()
      for _, s in ipairs(samples) do
        local std, url = codec.base64encode(s), codec.base64encode(s, true)
        assert.equal(s, codec.base64decode(std))
        assert.equal(s, codec.base64decode(url, true))
        assert.equal(4 * math.ceil(#s / 3), #std)
        assert.equal(std:gsub("=", ""):gsub("%+", "-"):gsub("/", "_"), url)
      end
    end)

    it("hex", function()
      for _, s in ipairs(samples) do
        assert.equal(s, codec.hexdecode(codec.hexencode(s)))
        assert.equal(s, codec.hexdecode(codec.hexencode(s, true)))
      end
    end)
  end)

  describe("argument errors", function()
    local cases = {
      arg_case(codec.urlencode, "bad argument #1 to 'urlencode' (string expected, got table)", {}),
      arg_case(codec.urlencode,
        "bad argument #2 to 'urlencode' (unknown flavor 'url', expected rfc3986, form or java)", "x", "url"),
      arg_case(codec.urlencode, "bad argument #2 to 'urlencode' (string expected, got boolean)", "x", true),
      arg_case(codec.urldecode, "bad argument #1 to 'urldecode' (string expected, got nil)", nil),
      arg_case(codec.urldecode, "bad argument #2 to 'urldecode' (boolean expected, got string)", "x", "form"),
      arg_case(codec.base64encode, "bad argument #1 to 'base64encode' (string expected, got no value)"),
      arg_case(codec.base64encode, "bad argument #2 to 'base64encode' (boolean expected, got number)", "x", 1),
      arg_case(codec.base64decode, "bad argument #2 to 'base64decode' (boolean expected, got string)", "x", "yes"),
      arg_case(codec.hexencode, "bad argument #1 to 'hexencode' (string expected, got boolean)", false),
      arg_case(codec.hexdecode, "bad argument #1 to 'hexdecode' (string expected, got table)", {}),
    }
    for i, c in ipairs(cases) do
      it("case " .. i .. ": " .. c.msg, function() check(c) end)
    end
  end)
end)
