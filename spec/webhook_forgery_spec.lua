-- Webhook forgery (issue 13 item 2): a body with a repeated member name is refused with
-- BAD_BODY before it is verified, on the C path (the default Shoplus rule, also the nginx
-- receiver's verify-only path) and the Lua path (Guanmai, a Shoplus option); the Guanmai
-- join escapes "%", "&" and "=" so a value cannot pose as further members.
local mallapi = require "mallapi"
local webhook = require "mallapi.webhook"
local F = require "support.vendor_fixtures"
package.path = "sandbox/lua/?.lua;" .. package.path

local shoplus_rule = require("mallapi.vendors.shoplus").webhook
local SECRET = "forgery-secret"
local HEADERS = { ["WebHook-Event"] = "order_update" }

-- a Shoplus body signed by the documented rule (values of non-empty members sorted by name)
local function shoplus_signed(members_json, values_sorted)
  local sign = mallapi.crypto.digest("sha256", table.concat(values_sorted) .. SECRET, "hex")
  return "{" .. members_json .. ',"sign":"' .. sign .. '"}'
end

describe("webhook forgery: repeated member names", function()
  local good = shoplus_signed('"id":7,"orderNo":"PL1","payTotalAmount":"9.90"', { "7", "PL1", "9.90" })

  it("the untouched delivery verifies", function()
    local event, err = webhook.verify("shoplus", { body = good, headers = HEADERS, secret = SECRET })
    assert.is_nil(err)
    assert.equal("9.90", event.data.payTotalAmount)
  end)

  local edits = {
    { "a null appended after a member", good:gsub("}$", ',"payTotalAmount":null}') },
    { "an empty id appended", good:gsub("}$", ',"id":""}') },
    { "a member split in two", shoplus_signed('"id":7,"orderNo":"PL","orderNo":"1","payTotalAmount":"9.90"',
                                              { "7", "PL", "1", "9.90" }) },
    { "a second sign", good:gsub("}$", ',"sign":"00"}') },
  }
  for _, case in ipairs(edits) do
    it("refuses " .. case[1] .. " (C path and the nginx check)", function()
      local event, err, code = webhook.verify("shoplus", { body = case[2], headers = HEADERS, secret = SECRET })
      assert.is_nil(event)
      assert.equal("BAD_BODY", code)
      assert.equal("webhook.verify: shoplus: repeated member name", err)
      local ok, _, ccode = shoplus_rule.one_pass(case[2], "order_update", SECRET, false, "id")
      assert.is_nil(ok)
      assert.equal("BAD_BODY", ccode)
    end)
    it("refuses " .. case[1] .. " (Lua path: a replacement rule)", function()
      local called = false
      local event, _, code = webhook.verify("shoplus", { body = case[2], headers = HEADERS, secret = SECRET,
        rule = function(...) called = true return webhook.rules.shoplus(...) end })
      assert.is_nil(event)
      assert.equal("BAD_BODY", code)
      assert.is_false(called)                        -- refused before verifying
    end)
  end

  it("keeps refusing a repeated name nested members would hide (top level only is read)", function()
    local nested = shoplus_signed('"a":{"x":1,"x":2},"id":7', { '{"x":1,"x":2}', "7" })
    local event = webhook.verify("shoplus", { body = nested, headers = HEADERS, secret = SECRET })
    assert.truthy(event)                             -- signed as raw text: nothing can change unseen
  end)
end)

describe("webhook forgery: guanmai", function()
  local TS = 1763805600
  local function guanmai_body(fields_json, to_sign)
    return '{"appid":"gm-app-1","ts":' .. TS .. ',"type":"order_status",' .. fields_json
      .. ',"sign":"' .. F.hmac_sha256_hex(SECRET, to_sign) .. '"}'
  end
  local opts = function(body) return { body = body, secret = SECRET, now = TS } end

  it("escapes % & = in names and values (an unambiguous join)", function()
    local body = guanmai_body('"order_id":"PL1&status=10%"',
      "appid=gm-app-1&order_id=PL1%26status%3D10%25&ts=" .. TS .. "&type=order_status")
    local event, err = webhook.verify("guanmai", opts(body))
    assert.is_nil(err)
    assert.equal("PL1&status=10%", event.data.order_id)
  end)

  it("a value holding '&status=10' no longer verifies as two members", function()
    local split = "appid=gm-app-1&order_id=PL10001&status=10&ts=" .. TS .. "&type=order_status"
    local genuine = guanmai_body('"order_id":"PL10001","status":10', split)
    assert.truthy(webhook.verify("guanmai", opts(genuine)))
    local forged = genuine:gsub('"order_id":"PL10001","status":10', '"order_id":"PL10001&status=10"')
    local event, _, code = webhook.verify("guanmai", opts(forged))
    assert.is_nil(event)
    assert.equal("SIGNATURE", code)
  end)

  it("refuses a repeated member name with BAD_BODY", function()
    local body = guanmai_body('"order_id":"PL1"', "appid=gm-app-1&order_id=PL1&ts=" .. TS .. "&type=order_status")
    local event, err, code = webhook.verify("guanmai", opts(body:gsub("}$", ',"order_id":null}')))
    assert.is_nil(event)
    assert.equal("BAD_BODY", code)
    assert.equal("webhook.verify: guanmai: repeated member name", err)
  end)

  it("the sandbox signs by the same rule", function()
    local launch = require "sandbox.launch"
    local raw = '{"appid":"gm-app-1","ts":' .. TS .. ',"type":"order_status","order_id":"A&b=c%"}'
    local signed = raw:gsub("}$", ',"sign":"' .. launch.guanmai_message_sign(raw, SECRET) .. '"}')
    assert.truthy(webhook.verify("guanmai", opts(signed)))
  end)
end)

describe("webhook forgery: the receiver's event id comes from signed content only", function()
  local receiver = { default_event_id = shoplus_rule.event_id }   -- the Shoplus profile's rule

  it("ignores the unsigned WebHook-Event header", function()
    local data = { id = 7, updateTime = 1622098157000, sign = "ab" }
    assert.equal(receiver.default_event_id { type = "order_create", data = data },
                 receiver.default_event_id { type = "order_cancel", data = data })
    assert.equal("7:1622098157000", receiver.default_event_id { type = "x", data = data })
  end)

  it("counts \"\" members (skipped by the signature) as absent", function()
    assert.equal("ab", receiver.default_event_id { type = "x", data = { id = "", sign = "ab" } })
    assert.equal("7:", receiver.default_event_id { type = "x", data = { id = 7, updateTime = "", sign = "ab" } })
  end)
end)
