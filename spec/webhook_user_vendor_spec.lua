-- A user's own vendor's webhook rule, from files outside lua/ (issue 16): a profile
-- mallapi/vendors/acme.lua written to a temp dir put on package.path, whose `webhook` table
-- signs the raw body with HMAC-SHA256 in an X-Acme-Signature header, names the event by its
-- `event` member and the event id by `delivery_id`. mallapi.webhook.verify and the OpenResty
-- receiver (mallapi.ngx.webhook, in a real nginx whose lua_package_path holds the temp dir)
-- verify acme deliveries with no engine change. Signatures are computed here with luaossl.
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"
local nginx = require "support.nginx"
local helpers = require "support.webhook_helpers"
local http = require "socket.http"
local ltn12 = require "ltn12"

local SECRET = "acme-webhook-secret"

local PROFILE = [[
-- acme: a user's vendor (written by spec/webhook_user_vendor_spec.lua)
local crypto = require("mallapi").crypto
return {
  name = "acme",
  webhook = {
    signature_header = "X-Acme-Signature",
    type_member = "event",
    sign = function(_, secret, _, body) return crypto.hmac("sha256", secret, body, "hex") end,
    event_id = function(event) return "acme:" .. tostring(event.data.delivery_id) end,
  },
}
]]

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function delivery(n, event)
  return '{"delivery_id":' .. n .. ',"event":"' .. (event or "parcel.sent") .. '","parcel":{"id":9007199254740993}}'
end

describe("a user's vendor (acme) from outside lua/", function()
  local dir, saved_path

  setup(function()
    dir = assert(io.popen("mktemp -d /tmp/mallapi-acme.XXXXXX")):read("*l")
    os.execute("mkdir -p '" .. dir .. "/mallapi/vendors'")
    write(dir .. "/mallapi/vendors/acme.lua", PROFILE)
    os.execute("chmod -R a+rX '" .. dir .. "'")        -- nginx workers of a root master run as nobody
    saved_path = package.path
    package.path = dir .. "/?.lua;" .. package.path
  end)

  teardown(function()
    package.path = saved_path
    package.loaded["mallapi.vendors.acme"] = nil
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  it("the profile is found on package.path, not under lua/", function()
    assert.equal(dir .. "/mallapi/vendors/acme.lua", package.searchpath("mallapi.vendors.acme", package.path))
  end)

  it("mallapi.webhook.verify(vendor, headers, body, cfg) verifies an acme delivery", function()
    local body = delivery(41)
    local event, err = mallapi.webhook.verify("acme", { ["x-acme-signature"] = F.hmac_sha256_hex(SECRET, body) },
                                              body, { secret = SECRET })
    assert.is_nil(err)
    assert.equal("acme", event.vendor)
    assert.equal("parcel.sent", event.type)
    assert.equal("acme:41", event.id)
    assert.equal(41, event.data.delivery_id)
    -- the table form reads the same rule
    assert.truthy(mallapi.webhook.verify("acme", { body = body, secret = SECRET,
      headers = { ["X-Acme-Signature"] = F.hmac_sha256_hex(SECRET, body):upper() } }))
  end)

  it("refuses what the acme rule does not sign", function()
    local body = delivery(42)
    local sig = F.hmac_sha256_hex(SECRET, body)
    local cases = {
      { { ["X-Acme-Signature"] = sig }, body:gsub("42", "43"), "signature does not match", "SIGNATURE" },
      { { ["X-Acme-Signature"] = F.hmac_sha256_hex("other", body) }, body, "signature does not match", "SIGNATURE" },
      { {}, body, "missing signature", "SIGNATURE" },
      { { ["X-Acme-Signature"] = sig }, body:gsub("}$", ',"event":"x"}'), "repeated member name", "BAD_BODY" },
      { { ["X-Acme-Signature"] = sig }, "[1]", "body is not a JSON object", "BAD_BODY" },
    }
    for _, case in ipairs(cases) do
      local event, err, code = mallapi.webhook.verify("acme", case[1], case[2], { secret = SECRET })
      assert.is_nil(event)
      assert.equal("webhook.verify: acme: " .. case[3], err)
      assert.equal(case[4], code)
    end
  end)

  it("names the profile in a caller's mistake", function()
    local ok, err = pcall(mallapi.webhook.verify, "acme_missing", {}, "{}", { secret = SECRET })
    assert.is_false(ok)
    assert.truthy(err:find("bad argument #1 to 'webhook.verify' (no profile mallapi.vendors.acme_missing on "
                           .. "package.path)", 1, true), err)
  end)

  describe("through the OpenResty receiver", function()
    local srv

    setup(function()
      srv = nginx.start{ ports = 1, lua_path = dir .. "/?.lua", http = [[
        lua_shared_dict acme_q 1m;
        init_worker_by_lua_block {
          local webhook = require "mallapi.ngx.webhook"
          local d = ngx.shared.acme_q
          assert(webhook.new{ vendor = "acme", secret = "]] .. SECRET .. [[", dict = "acme_q", poll = 0.05,
            handle = function(event, id)
              d:incr("handled", 1, 0)
              d:set("last", id .. " " .. event.type .. " " .. tostring(event.data.delivery_id))
              return true
            end }:start())
        }
        server {
          listen 127.0.0.1:$PORT;
          location = /webhooks/acme { content_by_lua_block { require("mallapi.ngx.webhook").serve("acme") } }
          location = /handled {
            content_by_lua_block {
              local d = ngx.shared.acme_q
              ngx.print((d:get("handled") or 0) .. "|" .. tostring(d:get("last")))
            }
          }
        }
      ]] }
    end)

    teardown(function()
      if srv then srv:stop() end
    end)

    local function post(body, sig)
      local out = {}
      local _, status = http.request{ url = srv:url("/webhooks/acme"), method = "POST",
        source = ltn12.source.string(body), sink = ltn12.sink.table(out),
        headers = { ["Content-Length"] = tostring(#body), ["Content-Type"] = "application/json",
                    ["X-Acme-Signature"] = sig } }
      return status, table.concat(out)
    end

    it("queues a signed delivery, drops its redelivery, refuses a forged one, and handles it once", function()
      local body = delivery(7, "parcel.delivered")
      local status, answer = post(body, F.hmac_sha256_hex(SECRET, body))
      assert.equal(200, status)
      assert.equal('{"code":"OK","msg":"queued"}', answer)
      status, answer = post(body, F.hmac_sha256_hex(SECRET, body))
      assert.equal(200, status)
      assert.equal('{"code":"DUPLICATE","msg":"already received"}', answer)
      status = post(delivery(8), F.hmac_sha256_hex("not-the-secret", delivery(8)))
      assert.equal(401, status)
      local seen = helpers.wait_for(function()
        local text = helpers.get(srv:url("/handled"))
        return text and text:match("^1|") and text
      end)
      assert.equal("1|acme:7 parcel.delivered 7", seen)
    end)
  end)
end)
