-- The vendor clients against the local vendor sandbox (sandbox/, built separately with its
-- own signature checks): every operation of every vendor succeeds in scenario order and
-- returns what the sandbox holds (spec/support/scenarios.lua), wrong secrets get AUTH, vendor
-- error envelopes become VENDOR with the vendor's code, `each` walks multi-page results
-- without gaps or repeats, Sobot's expired token is replaced transparently, and no secret
-- reaches the logs. MALLAPI_SANDBOX_DIR points at another copy of the sandbox directory.
local mallapi = require "mallapi"
local examples = require "support.examples"
local scenarios = require "support.scenarios"

local dir = os.getenv("MALLAPI_SANDBOX_DIR") or "sandbox"
local present = io.open(dir .. "/lua/sandbox/launch.lua", "r")
if present then present:close() end

describe("vendors against the sandbox", function()
  if not present then
    it("needs the sandbox", function() pending("sandbox/ is not in this tree") end)
    return
  end
  package.path = dir .. "/lua/?.lua;" .. package.path
  local sandbox = require "sandbox.launch"
  local sb

  local messages = {}           -- every error message the clients returned
  setup(function() sb = sandbox.start {} end)
  teardown(function() if sb then sb:stop() end end)

  local function client(vendor, change)
    local cfg = { base_url = sb.urls[vendor], operator = "tester", timeout = 10 }
    for k, v in pairs(sb.credentials[vendor]) do cfg[k] = v end
    for k, v in pairs(change or {}) do cfg[k] = v end
    return mallapi.client(vendor, cfg)
  end

  local VENDORS = { "sobot", "hd", "shoplus", "guanmai", "babycare" }

  for _, vendor in ipairs(VENDORS) do
    it(vendor .. ": every operation passes authentication", function()
      local c = client(vendor)
      local calls = 0
      for _, op in ipairs(c:operations()) do
        local data, err, code, detail = c:call(op.name, examples[vendor][op.name])
        if data == nil then
          messages[#messages + 1] = err
          -- the examples name objects the empty sandbox may not hold: "not found" is fine
          assert.equal("VENDOR", code, err)
          assert.matches("not found", detail.vendor_message, 1, true)
        end
        calls = calls + 1
      end
      assert.equal(#c:operations(), calls)
    end)
  end

  for _, vendor in ipairs(VENDORS) do
    it(vendor .. ": every operation succeeds and returns the data the sandbox holds", function()
      sb:reset(vendor)
      local steps = scenarios[vendor]
      for entity, records in pairs(steps.seed or {}) do sb:seed(vendor, entity, records) end
      local c, ctx, covered = client(vendor), {}, {}
      for i, step in ipairs(steps) do
        local data, err = c:call(step[1], scenarios.params(vendor, step, ctx))
        assert.is_not_nil(data, "step " .. i .. ": " .. tostring(err))
        if step.check then step.check(data, ctx, assert) end
        covered[step[1]] = true
      end
      for _, op in ipairs(c:operations()) do assert.is_true(covered[op.name], op.name) end
    end)
  end

  local WRONG = {
    sobot = { app_key = "wrong-key" }, hd = { password = "wrong" },
    shoplus = { secret = "wrong" }, guanmai = { secret = "wrong" }, babycare = { secret = "wrong" },
  }
  local PROBE = {
    sobot = "stores/get", hd = "saleorders/query", shoplus = "merchant",
    guanmai = "product/category1/list", babycare = "order/package/list",
  }
  for _, vendor in ipairs(VENDORS) do
    it(vendor .. ": a wrong secret gets AUTH", function()
      local c = client(vendor, WRONG[vendor])
      local data, err, code, detail = c:call(PROBE[vendor], examples[vendor][PROBE[vendor]])
      messages[#messages + 1] = err
      assert.is_nil(data)
      assert.equal("AUTH", code)
      assert.matches("^" .. vendor .. " ", err)
      assert.is_false(detail.retryable)
    end)
  end

  local MISSING = {
    { "sobot", "stores/get", { page_no = 0, page_size = 5 } },
    { "hd", "saleorder/{id}", { id = "no-such-order" } },
    { "shoplus", "products.detail", { id = 987654321 } },
    { "guanmai", "order/get", { order_id = "PL999999" } },
    { "babycare", "order/sales/cancel", { platformOrderNo = "nope", salesOrderCode = "SO0" } },
  }
  for _, case in ipairs(MISSING) do
    it(case[1] .. ": a vendor error envelope is VENDOR with the vendor's code", function()
      local data, err, code, detail = client(case[1]):call(case[2], case[3])
      assert.is_nil(data)
      assert.equal("VENDOR", code, err)
      assert.is_not_nil(detail.vendor_code)
      assert.matches("vendor error: " .. tostring(detail.vendor_code), err, 1, true)
    end)
  end

  -- Create n records, then walk them with a small page size.
  local WALKS = {
    { "sobot", "stores/get", { page_size = 2 }, "store_id", function(c, n)
      local list = {}
      for i = 1, n do
        list[i] = { storeid = "walk-" .. i, store_name = "s" .. i, status = 1,
          create_time = "1646233461000", update_time = "1646233461000", delete_flag = 0 }
      end
      assert(c:call("stores/add", { store_list = list }))
      local ids = {}
      for i = 1, n do ids[i] = "walk-" .. i end
      return ids
    end },
    { "hd", "saleorders/query", { page_size = 2 }, "id", function(c, n)
      local ids = {}
      for i = 1, n do
        local data = assert(c:call("saleorder", { front = { order_id = "walk-" .. i,
          platform = { id = "jdo2o" } } }))
        ids[i] = data.sale_order_id
      end
      return ids
    end },
    { "shoplus", "webhook.list", { limit = 2 }, "id", function(c, n)
      local ids = {}
      for i = 1, n do
        local data = assert(c:call("webhook.create", { url = "http://127.0.0.1:9/" .. i,
          event = "order_create", platform = "Shoplus_BI", apiSecret = "k" }))
        ids[i] = tostring(data.id)
      end
      return ids
    end },
    { "guanmai", "delivery/route/list", { limit = 2 }, "route_id", function(c, n)
      for i = 1, n do
        assert(c:call("delivery/route/create", { route_name = "walk-" .. i, customer_ids = { "c1" } }))
      end
      return nil
    end },
  }
  for _, walk in ipairs(WALKS) do
    it(walk[1] .. ": each walks " .. walk[2] .. " across pages without gaps or repeats", function()
      local c = client(walk[1])
      local before = {}
      for record in c:each(walk[2], walk[3]) do
        assert.is_truthy(record)
        before[#before + 1] = tostring(record[walk[4]])
      end
      local created = walk[5](c, 5)
      local seen, list = {}, {}
      for record, err in c:each(walk[2], walk[3]) do
        assert.is_truthy(record, err)
        local id = tostring(record[walk[4]])
        assert.is_nil(seen[id], "repeated " .. id)
        seen[id] = true
        list[#list + 1] = id
      end
      assert.equal(#before + 5, #list)
      for _, id in ipairs(created or {}) do assert.is_true(seen[tostring(id)], tostring(id)) end
    end)
  end

  it("sobot: an expired token is re-acquired and the call retried once", function()
    local c = client("sobot")
    assert(c:call("stores/get", { page_no = 1, page_size = 1 }))
    local fetches = sb:stats("sobot").token_fetches
    sb:knob("sobot", "expire_token", true)
    assert(c:call("stores/get", { page_no = 1, page_size = 1 }))
    assert.equal(fetches + 1, sb:stats("sobot").token_fetches)
  end)

  it("babycare: an order created is the order its detail query returns", function()
    local c = client("babycare")
    local params = {}
    for k, v in pairs(examples.babycare["order/sales/createV2"]) do params[k] = v end
    params.platformOrderNo = "3064563540143500001"
    local made = assert(c:call("order/sales/createV2", params))
    assert.equal(params.platformOrderNo, tostring(made.platformOrderNo))
    local detail = assert(c:call("order/salesDetail/list", { platformOrderNo = params.platformOrderNo }))
    assert.equal(params.platformOrderNo, tostring(detail.orderList[1].platformOrderNo))
  end)

  it("shoplus: a product added is the product its detail returns (64-bit id)", function()
    local c = client("shoplus")
    local made = assert(c:call("products.add", examples.shoplus["products.add"]))
    local got = assert(c:call("products.detail", { id = made.id }))
    assert.equal("夏季 T恤", got.title)
  end)

  it("leaves no secret in the sandbox logs or in the clients' error messages", function()
    local secrets = {}
    for _, vendor in ipairs(VENDORS) do
      for _, name in ipairs(require("mallapi.vendors." .. vendor).secrets) do
        secrets[#secrets + 1] = sb.credentials[vendor][name]
      end
    end
    local p = assert(io.popen("find " .. sb.prefix .. " -type f -name '*.log'"))
    local texts = { table.concat(messages, "\n") }
    for path in p:lines() do
      local f = assert(io.open(path, "rb"))
      texts[#texts + 1] = f:read("*a")
      f:close()
    end
    p:close()
    assert.is_true(#texts > 1)
    for _, secret in ipairs(secrets) do
      assert.is_true(#secret >= 8)
      for _, text in ipairs(texts) do assert.is_nil(text:find(secret, 1, true), secret) end
    end
  end)
end)
