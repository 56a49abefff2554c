-- mallapi.webhook.verify: Shoplus webhooks against ../shared/vectors/signing.json, Guanmai
-- pushed messages against a signature computed here with luaossl; tampering, wrong secrets,
-- missing signatures, stale ts and non-JSON bodies are refused with a reason.
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"


local function stripped(err) return (err:gsub("^[^:]*:%d+: ", "")) end

describe("webhook.verify shoplus", function()
  local vector = F.vector("shoplus.webhook_sign.flat")
  local secret = vector.input.api_secret
  -- the vector's body with its own expected signature filled in
  local signed = vector.input.raw_body:gsub('"sign":""', '"sign":"' .. vector.expect.sign .. '"')
  local headers = { ["Content-Type"] = "application/json", ["WebHook-Event"] = "order_create" }

  it("accepts the vector's body and names the event from WebHook-Event", function()
    local event, err = mallapi.webhook.verify("shoplus", { body = signed, headers = headers,
      secret = secret })
    assert.is_nil(err)
    assert.equal("shoplus", event.vendor)
    assert.equal("order_create", event.type)
    assert.equal("5202012027521001", event.data.orderNo)
    assert.equal("USD", event.data.currency)
  end)

  it("keeps the 64-bit order id exact", function()
    local event = mallapi.webhook.verify("shoplus", { body = signed, headers = headers, secret = secret })
    assert.equal("531464955418787840", tostring(event.data.id))
  end)

  it("compares the hex case-insensitively and finds the header in any case", function()
    local upper = vector.input.raw_body:gsub('"sign":""', '"sign":"' .. vector.expect.sign:upper() .. '"')
    local event = mallapi.webhook.verify("shoplus", { body = upper, secret = secret,
      headers = { ["webhook-event"] = "order_update" } })
    assert.equal("order_update", event.type)
  end)

  it("signs nested members by their raw JSON text", function()
    local body_unsigned = '{"id":7,"customer":{"email":"a@b.c"},"tags":[1,2],"sign":"%s"}'
    local sign = F.sha256_hex('{"email":"a@b.c"}' .. "7" .. "[1,2]" .. "s3cret")
    local event = mallapi.webhook.verify("shoplus", { body = body_unsigned:format(sign),
      secret = "s3cret", headers = headers })
    assert.is_table(event)
    local skip = F.sha256_hex("7" .. "s3cret")
    event = mallapi.webhook.verify("shoplus", { body = body_unsigned:format(skip),
      secret = "s3cret", headers = headers, nested = "skip" })
    assert.is_table(event)
  end)

  local REJECT = {
    { "a tampered body", signed:gsub('"USD"', '"EUR"'), secret, headers,
      "webhook.verify: shoplus: signature does not match", "SIGNATURE" },
    { "a wrong secret", signed, "whsec-other", headers,
      "webhook.verify: shoplus: signature does not match", "SIGNATURE" },
    { "a missing signature", vector.input.raw_body, secret, headers,
      "webhook.verify: shoplus: missing signature", "SIGNATURE" },
    { "a body without sign", '{"id":1}', secret, headers,
      "webhook.verify: shoplus: missing signature", "SIGNATURE" },
    { "a non-JSON body", "id=1&sign=abc", secret, headers,
      "webhook.verify: shoplus: body is not a JSON object", "BAD_BODY" },
    { "a JSON array", '[{"sign":"x"}]', secret, headers,
      "webhook.verify: shoplus: body is not a JSON object", "BAD_BODY" },
    { "a missing event header", signed, secret, { ["Content-Type"] = "application/json" },
      "webhook.verify: shoplus: missing WebHook-Event header", "BAD_BODY" },
    { "no body", nil, secret, headers, "webhook.verify: shoplus: no body", "BAD_BODY" },
  }
  for _, case in ipairs(REJECT) do
    it("rejects " .. case[1], function()
      local event, err, code = mallapi.webhook.verify("shoplus", { body = case[2], secret = case[3],
        headers = case[4] })
      assert.is_nil(event)
      assert.equal(case[5], err)
      assert.equal(case[6], code)
      assert.not_matches(secret, err, 1, true)
    end)
  end
end)

describe("webhook.verify guanmai", function()
  local TS = 1763805600
  local template = '{"version":"1.0","appid":"gm-app-1","ts":%d,"sign":"%s","type":"sku_updated",'
    .. '"sku_id":"D00001","stocks":100,"remark":null}'
  local function body(ts, secret)
    local s = "appid=gm-app-1&sku_id=D00001&stocks=100&ts=" .. ts .. "&type=sku_updated&version=1.0"
    return template:format(ts, F.hmac_sha256_hex(secret, s))
  end

  it("accepts a message signed by the default rule within the ts window", function()
    local event, err = mallapi.webhook.verify("guanmai", { body = body(TS, "gm-secret"),
      secret = "gm-secret", now = TS + 299, appid = "gm-app-1" })
    assert.is_nil(err)
    assert.equal("sku_updated", event.type)
    assert.equal("D00001", event.data.sku_id)
    assert.equal(100, event.data.stocks)
  end)

  it("uses a replacement rule when given one", function()
    local seen
    local event = mallapi.webhook.verify("guanmai", { body = template:format(TS, "fixed"),
      secret = "gm-secret", now = TS, rule = function(members, secret)
        seen = {}
        for _, m in ipairs(members) do seen[#seen + 1] = m.name end
        assert.equal("gm-secret", secret)
        return "FIXED"
      end })
    assert.is_table(event)
    assert.same({ "appid", "sku_id", "stocks", "ts", "type", "version" }, seen)
  end)

  local REJECT = {
    { "a stale ts", body(TS, "gm-secret"), "gm-secret", TS + 301, nil,
      "webhook.verify: guanmai: ts outside the 300 s window", "STALE" },
    { "a ts from the future", body(TS, "gm-secret"), "gm-secret", TS - 301, nil,
      "webhook.verify: guanmai: ts outside the 300 s window", "STALE" },
    { "a tampered body", body(TS, "gm-secret"):gsub('"stocks":100', '"stocks":900'), "gm-secret",
      TS, nil, "webhook.verify: guanmai: signature does not match", "SIGNATURE" },
    { "a wrong secret", body(TS, "gm-secret"), "gm-other", TS, nil,
      "webhook.verify: guanmai: signature does not match", "SIGNATURE" },
    { "a missing signature", template:format(TS, ""), "gm-secret", TS, nil,
      "webhook.verify: guanmai: missing signature", "SIGNATURE" },
    { "a missing ts", '{"appid":"gm-app-1","sign":"ab","type":"x"}', "gm-secret", TS, nil,
      "webhook.verify: guanmai: missing ts", "STALE" },
    { "another appid", body(TS, "gm-secret"), "gm-secret", TS, "gm-app-2",
      "webhook.verify: guanmai: appid does not match", "SIGNATURE" },
    { "a non-JSON body", "not json", "gm-secret", TS, nil,
      "webhook.verify: guanmai: body is not a JSON object", "BAD_BODY" },
  }
  for _, case in ipairs(REJECT) do
    it("rejects " .. case[1], function()
      local event, err, code = mallapi.webhook.verify("guanmai", { body = case[2], secret = case[3],
        now = case[4], appid = case[5] })
      assert.is_nil(event)
      assert.equal(case[6], err)
      assert.equal(case[7], code)
    end)
  end
end)

describe("webhook.verify arguments", function()
  local CASES = {
    { { "sobot", { secret = "s" } },
      "bad argument #1 to 'webhook.verify' (profile mallapi.vendors.sobot has no webhook rule)" },
    { { "shoplus", "x" }, "bad argument #2 to 'webhook.verify' (table expected, got string)" },
    { { "shoplus", { body = "{}" } }, "bad argument #2 to 'webhook.verify' (secret string expected)" },
  }
  for _, case in ipairs(CASES) do
    it("raises " .. case[2], function()
      local ok, err = pcall(mallapi.webhook.verify, case[1][1], case[1][2])
      assert.is_false(ok)
      assert.equal(case[2], stripped(err))
    end)
  end
end)

-- The one-pass C check (core.webhook.shoplus, the default Shoplus rule) against the vectors
-- file and against the Lua-level rule (M.rules.shoplus over json.raw_members, still used when
-- a rule is given) on random vendor-shaped bodies: the same verdict, message and code.
describe("webhook one-pass check #c", function()
  local core = require "mallapi.core"
  local webhook = require "mallapi.webhook"
  local vector = F.vector("shoplus.webhook_sign.flat")
  local headers = { ["WebHook-Event"] = "order_create" }

  it("accepts the vector's body with its expected signature and refuses other secrets", function()
    local body = vector.input.raw_body:gsub('"sign":""', '"sign":"' .. vector.expect.sign .. '"')
    assert.equal("OK", core.webhook.shoplus(body, vector.input.api_secret, false))
    assert.equal("OK", core.webhook.shoplus(body:gsub(vector.expect.sign, vector.expect.sign:upper()),
                                            vector.input.api_secret, false))
    assert.equal("MISMATCH", core.webhook.shoplus(body, vector.input.api_secret .. "x", false))
    assert.equal("UNSIGNED", core.webhook.shoplus(vector.input.raw_body, vector.input.api_secret, false))
    -- the vector's string to sign is the one the check hashes
    assert.equal(vector.expect.sign, F.sha256_hex(vector.expect.string_to_sign))
  end)

  it("hands back the requested members' texts without decoding the body", function()
    local body = '{"id":531464955418787840,"s":"a\\u00e9\\"b","n":null,"o":{"x":1},"a":[1],'
      .. '"e":"","f":1.5e3,"t":true,"d":2,"sign":"00"}'
    assert.same({ "MISMATCH", "531464955418787840", "a\195\169\"b", nil, false, false, "", "1.5e3", "true", "2" },
      { core.webhook.shoplus(body, "k", false, "id", "s", "n", "o", "a", "e", "f", "t", "d", "missing") })
  end)

  it("refuses a repeated member name (before verifying)", function()
    assert.same({ nil, "webhook.shoplus: repeated member name", "BAD_BODY" },
      { core.webhook.shoplus('{"d":1,"d":2,"sign":"00"}', "k", false, "d") })
    assert.same({ nil, "webhook.shoplus: repeated member name", "BAD_BODY" },
      { core.webhook.shoplus('{"a":1,"sign":"00","sign":"01"}', "k", false) })
  end)

  it("sorts many members (names in reverse body order)", function()
    local parts, values = {}, {}
    for i = 1, 5000 do
      parts[i] = string.format('"k%05d":%d', 5000 - i, i)   -- name k04999 holds 1, ..., k00000 holds 5000
      values[i] = tostring(5001 - i)                         -- by name: k00000 first
    end
    local sign = F.sha256_hex(table.concat(values) .. "many")
    local body = "{" .. table.concat(parts, ",") .. ',"sign":"' .. sign .. '"}'
    assert.equal("OK", core.webhook.shoplus(body, "many", false))
    assert.equal("MISMATCH", core.webhook.shoplus(body:gsub('"k00000":5000', '"k00000":5001'), "many", false))
  end)

  local ARGS = {
    { { nil, "k", false }, "bad argument #1 to '?' (string expected)" },
    { { "{}", 1, false }, "bad argument #2 to '?' (string expected)" },
    { { "{}", "k", false, {} }, "bad argument #4 to '?' (string expected)" },
  }
  for _, case in ipairs(ARGS) do
    it("raises " .. case[2], function()
      local ok, err = pcall(core.webhook.shoplus, case[1][1], case[1][2], case[1][3], case[1][4])
      assert.is_false(ok)
      assert.matches(case[2]:gsub("'%?'", "'.-'"):gsub("[%(%)]", "%%%0"), err)
    end)
  end

  -- random vendor-shaped bodies
  local seed = os.time()
  local rnd = (function()
    local x = seed % 2147483647 + 1
    return function(n) x = x * 48271 % 2147483647; return x % n + 1 end
  end)()
  local STRINGS = { '"USD"', '""', '"a\\"b"', '"\\u4e2d\\u6587"', '"\228\184\173"', '"x\\ny"', '"\\ud83d\\ude00"',
    '"5202012027521001"', '" "', '"\\/"' }
  local NUMBERS = { "0", "7", "-3", "16.05", "531464955418787840", "9007199254740993", "1e3", "-0.5E-2",
    "1616488739000", "123456789012345678901234567890" }
  local OTHERS = { "true", "false", "null", '{"email":"a@b.c","n":[1,{"k":null}]}', "[1,2,\"x\"]", "[]", "{}" }
  local NAMES = { "id", "orderNo", "createTime", "currency", "email", "remark", "test", "items", "a", "B",
    "_x", "zeta", "\\u0069d2", "sig", "signs", "Sign", "\228\184\173", "", "updateTime", "payTotalAmount" }
  local function value()
    local k = rnd(3)
    local list = k == 1 and STRINGS or (k == 2 and NUMBERS or OTHERS)
    return list[rnd(#list)]
  end
  local function ws() return ({ "", "", " ", "\n\t " })[rnd(4)] end
  local function body(sign)
    local used, parts = {}, {}
    for _ = 1, rnd(12) - 1 do
      local name = NAMES[rnd(#NAMES)]
      local key = name == "\\u0069d2" and "id2" or name
      if not used[key] then
        used[key] = true
        parts[#parts + 1] = ws() .. '"' .. name .. '"' .. ws() .. ":" .. ws() .. value() .. ws()
      end
    end
    if sign then table.insert(parts, rnd(#parts + 1), '"' .. ({ "sign", "s\\u0069gn" })[rnd(2)] .. '":' .. sign) end
    return ws() .. "{" .. table.concat(parts, ",") .. "}" .. ws()
  end

  it("gives the Lua-level rule's verdict on random bodies (seed " .. seed .. ")", function()
    for i = 1, 300 do
      local nested = rnd(2) == 1 and "skip" or nil
      local secret = "sec" .. i
      local text = body("SIGN")
      local signed
      local members = mallapi.json.raw_members(text:gsub("SIGN", '""'))
      local list = {}
      for _, m in ipairs(members) do
        if m.name ~= "sign" and m.raw ~= "null" and m.raw ~= '""' then
          list[#list + 1] = { name = m.name, raw = m.raw, value = mallapi.json.decode(m.raw) }
        end
      end
      table.sort(list, function(a, b) return a.name < b.name end)
      local good = webhook.rules.shoplus(list, secret, { nested = nested })
      local variants = {
        text:gsub("SIGN", '"' .. good .. '"'), text:gsub("SIGN", '"' .. good:upper() .. '"'),
        text:gsub("SIGN", '"' .. good:sub(2) .. '0"'), text:gsub("SIGN", '""'), text:gsub("SIGN", "null"),
        text:gsub("SIGN", "12"), body(nil),
      }
      signed = variants[1]
      variants[#variants + 1] = signed:sub(1, rnd(#signed) - 1)           -- cut: malformed
      variants[#variants + 1] = signed .. ","
      for _, b in ipairs(variants) do
        local fast, ferr, fcode = webhook.verify("shoplus", { body = b, headers = headers, secret = secret,
          nested = nested })
        local slow, serr, scode = webhook.verify("shoplus", { body = b, headers = headers, secret = secret,
          nested = nested, rule = webhook.rules.shoplus })
        assert.equal(slow ~= nil, fast ~= nil, b)
        assert.equal(serr, ferr, b)
        assert.equal(scode, fcode, b)
      end
      assert.is_table((webhook.verify("shoplus", { body = signed, headers = headers, secret = secret,
        nested = nested })), signed)
    end
  end)
end)

-- The nginx receiver's queue items (plain Lua: the text format only).
describe("ngx.webhook queue items", function()
  local receiver = require "mallapi.ngx.webhook"
  local CASES = {
    { attempts = 0, next_at = 0, id = "order_create:531464955418787840:1622098157000", type = "order_create",
      body = '{"id":531464955418787840}' },
    { attempts = 7, next_at = 1764000000.25, id = "a\nb:7:", type = "order_update", body = '{"x":"1\\n2"}\n' },
    { attempts = 1, next_at = 5, id = "t:" .. string.rep("9", 300), type = "", body = "" },
  }
  for i, rec in ipairs(CASES) do
    it("reads back what it wrote (" .. i .. ")", function()
      assert.same(rec, receiver.decode_record(receiver.encode_record(rec)))
    end)
  end
  it("refuses text that is not an item", function()
    assert.is_nil(receiver.decode_record("531464955418787840"))
    assert.is_nil(receiver.decode_record(nil))
  end)
end)
