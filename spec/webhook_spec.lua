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
    { { "sobot", { secret = "s" } }, "webhook.verify: bad argument #1 (vendor 'shoplus' or 'guanmai' expected)" },
    { { "shoplus", "x" }, "webhook.verify: bad argument #2 (table expected)" },
    { { "shoplus", { body = "{}" } }, "webhook.verify: bad argument #2 (secret string expected)" },
  }
  for _, case in ipairs(CASES) do
    it("raises " .. case[2], function()
      local ok, err = pcall(mallapi.webhook.verify, case[1][1], case[1][2])
      assert.is_false(ok)
      assert.equal(case[2], stripped(err))
    end)
  end
end)
