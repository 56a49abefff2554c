-- mallapi.sign.canonical: the Shoplus request and webhook vectors of
-- signing.json (string to sign and signature), each style and option, byte
-- order of keys, number text on both runtimes, raw-number userdata, big
-- tables, and exact argument errors.
local mallapi = require "mallapi"
local vectors = require "support.signing_vectors"
local arg_cases = require "support.arg_cases"
local bignum = require "openssl.bignum"

local sign, crypto, codec = mallapi.sign, mallapi.crypto, mallapi.codec
local is_luajit = type(jit) == "table"
local arg_case, check, error_of = arg_cases.arg_case, arg_cases.check, arg_cases.error_of

-- Top-level members of a FLAT JSON object (no nesting, no escapes), as
-- { name = ..., kind = "string"|"number"|"true"|"false"|"null", text = ... },
-- numbers kept as their exact text. A test stand-in only: the webhook verifier
-- itself will take the members from mallapi.json.raw_members.
local function flat_members(body)
  assert(not body:find("\\", 1, true), "flat_members: escapes not supported")
  local members, pos = {}, body:match("^%s*{()")
  assert(pos, "flat_members: not an object")
  while true do
    local name, after = body:match('^%s*"([^"]*)"%s*:%s*()', pos)
    if not name then break end
    local text, stop = body:match('^"([^"]*)"()', after)
    local kind = "string"
    if not text then
      text, stop = body:match("^(-?[%d.eE+-]+)()", after)
      kind = "number"
    end
    if not text then
      text, stop = body:match("^(%a+)()", after)
      kind = text
    end
    assert(text, "flat_members: bad value at " .. after)
    members[#members + 1] = { name = name, kind = kind, text = text }
    pos = body:match("^%s*,()", stop) or stop
  end
  assert(body:match("^%s*}%s*$", pos), "flat_members: trailing text at " .. pos)
  return members
end

describe("sign #c", function()
  describe("Shoplus request (signing.json)", function()
    for _, case in ipairs(vectors.with_prefix("shoplus.request_sign")) do
      it(case.id, function()
        local input = case.input
        local params = {
          name = input.name,
          version = input.version,
          app_key = input.app_key,
          data = codec.urlencode(input.data_json, "java"),
          timestamp = input.timestamp,
        }
        local s = sign.canonical(params, { prefix = input.secret, suffix = input.secret })
        assert.equal(case.expect.string_to_sign, s)
        assert.equal(case.expect.sign, crypto.digest("md5", s, "HEX"))
      end)
    end
  end)

  describe("Shoplus webhook (signing.json)", function()
    for _, case in ipairs(vectors.with_prefix("shoplus.webhook_sign")) do
      local members = flat_members(case.input.raw_body)
      local opts = { style = "values", suffix = case.input.api_secret, skip_empty = true, exclude = { "sign" } }

      it(case.id .. ": values as their raw text", function()
        local params = {}
        for _, m in ipairs(members) do
          if m.kind ~= "null" then params[m.name] = m.text end
        end
        local s = sign.canonical(params, opts)
        assert.equal(case.expect.string_to_sign, s)
        assert.equal(case.expect.sign, crypto.digest("sha256", s))
      end)

      it(case.id .. ": numbers, booleans and raw-number userdata as values", function()
        local params = {}
        for _, m in ipairs(members) do
          if m.kind == "number" then
            local n = tonumber(m.text)
            if math.type and math.type(n) == "integer" then
              params[m.name] = n                           -- exact on 5.4
            elseif n == math.floor(n) and math.abs(n) > 2 ^ 53 then
              params[m.name] = bignum.new(m.text)          -- a userdata whose __tostring is the text
            else
              params[m.name] = n                           -- 16.05 and integral doubles
            end
          elseif m.kind == "true" or m.kind == "false" then
            params[m.name] = m.kind == "true"
          elseif m.kind == "string" then
            params[m.name] = m.text
          end
        end
        local s = sign.canonical(params, opts)
        assert.equal(case.expect.string_to_sign, s)
        assert.equal(case.expect.sign, crypto.digest("sha256", s))
      end)
    end
  end)

  describe("styles and options", function()
    local params = { b = "2", a = "1", c = "", d = true }
    local cases = {
      { nil, "a1b2cdtrue" },
      { {}, "a1b2cdtrue" },
      { { style = "concat" }, "a1b2cdtrue" },
      { { style = "pairs" }, "a=1b=2c=d=true" },
      { { style = "pairs", sep = "&" }, "a=1&b=2&c=&d=true" },
      { { style = "pairs", sep = "&", skip_empty = true }, "a=1&b=2&d=true" },
      { { style = "values" }, "12true" },
      { { style = "values", sep = "|" }, "1|2||true" },
      { { style = "values", sep = "|", skip_empty = true }, "1|2|true" },
      { { exclude = { "b", "d", "zz" } }, "a1c" },
      { { skip_empty = false }, "a1b2cdtrue" },
      { { prefix = "S", suffix = "T" }, "Sa1b2cdtrueT" },
      { { prefix = "S", suffix = "T", sep = "," }, "Sa1,b2,c,dtrueT" },
      { { style = "pairs", sep = "\n", exclude = { "a" }, skip_empty = true, prefix = "<", suffix = ">" },
        "<b=2\nd=true>" },
    }
    for i, case in ipairs(cases) do
      it("case " .. i .. " gives " .. case[2]:gsub("\n", "\\n"), function()
        assert.equal(case[2], sign.canonical(params, case[1]))
      end)
    end

    it("gives prefix .. suffix for an empty or all-skipped table", function()
      assert.equal("", sign.canonical({}))
      assert.equal("ST", sign.canonical({}, { prefix = "S", suffix = "T" }))
      assert.equal("ST", sign.canonical({ a = "", sign = "x" }, { prefix = "S", suffix = "T",
        skip_empty = true, exclude = { "sign" } }))
    end)
  end)

  it("sorts keys by byte order", function()
    -- ASCII: 'B' 66 < 'Z' 90 < '_' 95 < 'a' 97; a prefix sorts first; UTF-8 bytes >= 0xC3 last
    local params = { b = "", B = "", a = "", aa = "", a_ = "", Z = "", _ = "", ["é"] = "", ["a\0"] = "" }
    assert.equal("B|Z|_|a|a\0|a_|aa|b|é", sign.canonical(params, { sep = "|" }))
  end)

  it("writes numbers exactly and alike on both runtimes", function()
    local cases = {
      { 0, "0" }, { 1, "1" }, { -7, "-7" }, { 1616488739000, "1616488739000" },
      { 2.0 ^ 53, "9007199254740992" }, { -(2.0 ^ 53), "-9007199254740992" },
      { 1e15, "1000000000000000" }, { 3.0, "3" }, { -0.0, "0" },
      { 16.05, "16.05" }, { 0.1, "0.1" }, { 0.1 + 0.2, "0.30000000000000004" },
      { 1 / 3, "0.3333333333333333" }, { 2.5e-8, "2.5e-08" }, { 2.0 ^ 63, "9.223372036854776e+18" },
      { 1e300, "1e+300" },
    }
    if not is_luajit then
      cases[#cases + 1] = { math.maxinteger, "9223372036854775807" }
      cases[#cases + 1] = { math.mininteger, "-9223372036854775808" }
      cases[#cases + 1] = { 531464955418787840, "531464955418787840" }
    end
    for _, case in ipairs(cases) do
      assert.equal(case[2], sign.canonical({ n = case[1] }, { style = "values" }), case[2])
    end
  end)

  it("signs a userdata by its __tostring (the JSON raw number)", function()
    local raw = bignum.new("531464955418787840")
    assert.equal("id531464955418787840", sign.canonical({ id = raw }))
  end)

  it("skips a JSON null (NULL light userdata, as cjson.null) with skip_empty, refuses it otherwise", function()
    local null = require("cjson").null
    assert.equal("a1", sign.canonical({ a = 1, b = null }, { skip_empty = true }))
    assert.equal(
      "bad argument #1 to 'canonical' (value of 'b' is a null, expected string, number, boolean or raw number)",
      error_of(sign.canonical, { a = 1, b = null }))
  end)

  it("handles big tables and long strings past the stack buffers", function()
    local params, keys = {}, {}
    for i = 1, 300 do
      local key = string.format("k%04d", (i * 7919) % 1000)
      params[key] = i % 2 == 0 and i or string.rep("v", i % 17)
      keys[#keys + 1] = key
    end
    table.sort(keys)
    local expected = {}
    for i, key in ipairs(keys) do
      expected[i] = key .. "=" .. (type(params[key]) == "number" and string.format("%d", params[key])
        or params[key])
    end
    assert.equal(table.concat(expected, "&"), sign.canonical(params, { style = "pairs", sep = "&" }))
    local long = string.rep("x", 5000)
    assert.equal(long .. "a1" .. long, sign.canonical({ a = 1 }, { prefix = long, suffix = long }))
  end)

  describe("argument errors", function()
    local nan = 0 / 0
    local cases = {
      arg_case(sign.canonical, "bad argument #1 to 'canonical' (table expected, got string)", "a=1"),
      arg_case(sign.canonical, "bad argument #1 to 'canonical' (table expected, got no value)"),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (table expected, got string)", {}, "pairs"),
      arg_case(sign.canonical, "bad argument #1 to 'canonical' (key must be a string, got number)", { "a" }),
      arg_case(sign.canonical,
        "bad argument #1 to 'canonical' (value of 'a' is a table, expected string, number, boolean or raw number)",
        { a = {} }),
      arg_case(sign.canonical,
        "bad argument #1 to 'canonical' (value of 'f' is a function, expected string, number, boolean or raw number)",
        { f = print }),
      arg_case(sign.canonical, "bad argument #1 to 'canonical' (value of 'x' is not a finite number)", { x = nan }),
      arg_case(sign.canonical, "bad argument #1 to 'canonical' (value of 'x' is not a finite number)",
        { x = math.huge }),
      arg_case(sign.canonical,
        "bad argument #2 to 'canonical' (unknown style 'kv', expected concat, pairs or values)", {}, { style = "kv" }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (unknown option 'seperator')", {}, { seperator = "&" }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (unknown option '(number)')", {}, { "&" }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.sep must be a string, got table)",
        {}, { sep = {} }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.prefix must be a string, got boolean)",
        {}, { prefix = true }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.sep must be a string, got number)",
        {}, { sep = 1 }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.style must be a string, got number)",
        {}, { style = 1 }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.skip_empty must be a boolean, got number)",
        {}, { skip_empty = 1 }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.exclude must be a list of keys, got string)",
        {}, { exclude = "sign" }),
      arg_case(sign.canonical, "bad argument #2 to 'canonical' (opts.exclude[2] must be a string, got number)",
        {}, { exclude = { "a", 2 } }),
    }
    for i, c in ipairs(cases) do
      it("case " .. i .. ": " .. c.msg, function() check(c) end)
    end

    it("never shows the prefix or suffix (the secret)", function()
      local err = error_of(sign.canonical, { a = {} }, { prefix = "TOP-SECRET", suffix = "TOP-SECRET" })
      assert.is_nil(err:find("TOP-SECRET", 1, true))
    end)
  end)
end)
