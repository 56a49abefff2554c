-- mallapi.client: construction, operation lookup, required parameters, envelopes and error
-- codes, the Sobot invalidate-and-retry-once path and paging, all over a fake transport
-- (cfg.transport) that records each request and answers from a script.
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"

local function client(vendor, answers, extra)
  local transport = F.transport(answers)
  local cfg = F.cfg(vendor, extra)
  cfg.transport = transport
  return mallapi.client(vendor, cfg), transport
end

describe("mallapi.client", function()
  it("is callable and builds a client per vendor", function()
    for _, vendor in ipairs { "sobot", "hd", "shoplus", "guanmai", "babycare" } do
      local c = mallapi.client(vendor, F.cfg(vendor))
      assert.equal("mallapi.client(" .. vendor .. ")", tostring(c))
    end
  end)

  local BAD = {
    { { "nope", {} }, "bad argument #1 to 'mallapi.client' (unknown vendor 'nope'; known: babycare, guanmai, hd, "
      .. "shoplus, sobot)" },
    { { "../sobot", {} },
      "bad argument #1 to 'mallapi.client' (unknown vendor '../sobot'; known: babycare, guanmai, hd, shoplus, sobot)" },
    { { "sobot", { appid = "", app_key = "k" } }, "bad argument #2 to 'mallapi.client' (option 'appid': required "
      .. "by sobot)" },
    { { 42 }, "bad argument #1 to 'mallapi.client' (vendor name expected)" },
    { { "sobot", "x" }, "bad argument #2 to 'mallapi.client' (cfg table expected)" },
    { { "sobot", { appid = "a" } }, "bad argument #2 to 'mallapi.client' (option 'app_key': required by sobot)" },
    { { "shoplus", { secret = "s" } }, "bad argument #2 to 'mallapi.client' (option 'app_key': required by shoplus)" },
    { { "babycare", { appId = "a" } }, "bad argument #2 to 'mallapi.client' (option 'secret': required by babycare)" },
    { { "hd", { tenant_id = "t", user = "u", password = "p", operator = "o" } },
      "bad argument #2 to 'mallapi.client' (option 'base_url': required by hd, its document names no host)" },
    { { "hd", { tenant_id = "t", user = "u", password = "p" } }, "bad argument #2 to 'mallapi.client' (option "
      .. "'operator': required by hd)" },
    { { "guanmai", { appid = "a", secret = "s" } },
      "bad argument #2 to 'mallapi.client' (option 'base_url': required by guanmai, its document names no host)" },
    { { "shoplus", { app_key = "a", secret = "s", utc_offset = "8" } },
      "bad argument #2 to 'mallapi.client' (option 'utc_offset': must look like +08:00)" },
  }
  for _, case in ipairs(BAD) do
    it("rejects " .. case[2], function()
      local ok, err = pcall(mallapi.client, case[1][1], case[1][2])
      assert.is_false(ok)
      assert.equal(case[2], (err:gsub("^[^:]*:%d+: ", "")))
    end)
  end

  it("never shows a secret in tostring or in error messages", function()
    local c = mallapi.client("shoplus", F.cfg("shoplus"))
    assert.not_matches("SECRET", tostring(c))
    local ok, err = pcall(c.prepare, c, "products.detail", {})
    assert.is_false(ok)
    assert.not_matches("SECRET", err)
  end)
end)

describe("client operation names", function()
  local CASES = {
    { "shoplus", "product.detail",
      "bad argument #1 to 'client:prepare' (unknown shoplus operation 'product.detail'; close names: "
        .. "products.detail)" },
    { "shoplus", "order.list", "bad argument #1 to 'client:prepare' (unknown shoplus operation 'order.list'; close "
      .. "names: Order.list)" },
    { "sobot", "store/add",
      "bad argument #1 to 'client:prepare' (unknown sobot operation 'store/add'; close names: stores/add)" },
    { "hd", "frobnicate", "bad argument #1 to 'client:prepare' (unknown hd operation 'frobnicate')" },
    { "guanmai", "order/after_sales/update",
      "bad argument #1 to 'client:prepare' (guanmai order/after_sales/update serves several operations; "
      .. "use one of order/after_sales/update#abnormal, order/after_sales/update#refund)" },
  }
  for _, case in ipairs(CASES) do
    it(case[1] .. " " .. case[2], function()
      local c = mallapi.client(case[1], F.cfg(case[1]))
      local ok, err = pcall(c.prepare, c, case[2], {})
      assert.is_false(ok)
      assert.equal(case[3], (err:gsub("^[^:]*:%d+: ", "")))
    end)
  end

  it("takes JSON text params only where the vendor signs that text (Shoplus)", function()
    local c = mallapi.client("guanmai", F.cfg("guanmai"))
    for _, fn in ipairs { "prepare", "call" } do
      local ok, err = pcall(c[fn], c, "order/get", '{"order_id":"PL1"}')
      assert.is_false(ok)
      assert.equal("bad argument #2 to 'client:" .. fn .. "' (params table expected)", (err:gsub("^[^:]*:%d+: ", "")))
    end
  end)

  it("lists operations with method, path and required parameters", function()
    local c = mallapi.client("hd", F.cfg("hd"))
    local ops = c:operations()
    assert.equal(6, #ops)
    assert.same({ name = "saleorder/{id}/action/deliver", method = "POST",
      path = "saleorder/{id}/action/deliver", required = { "id" }, paged = false,
      limits = { { "delivery_state", enum = { "none", "shipped", "signed", "refused", "redeliver" },
                   doc = "001:L3389" } } }, ops[4])
    assert.is_true(ops[6].paged)
  end)
end)

describe("client required parameters", function()
  local CASES = {
    { "sobot", "stores/get", { page_no = 1 }, "missing required parameter 'page_size'" },
    { "sobot", "stores/add", { store_list = { { storeid = "1", store_name = "n", status = 1,
        create_time = "1", update_time = "1", delete_flag = 0 }, { storeid = "2" } } },
      "missing required parameter 'store_list[2].store_name'" },
    { "sobot", "orders/add", { order_list = { { storeid = "1", orderid = "o", order_no = "n",
        create_time = "1", update_time = "1", status = 1, actual_amount = "1", buyerid = "b",
        buyerid_type = 2, item_list = {}, receiver = { name = "x" } } } },
      "missing required parameter 'order_list[1].receiver.phone_number'" },
    { "guanmai", "order/create", { sid = "S1" }, "missing required parameter 'products'" },
    { "babycare", "order/supply/create", { appId = "1", projectId = "1", taskId = "1",
        userId = "1", isAutoFillAddress = true, platformOrderNo = "1", storeCode = "s",
        supplyOrderExt = {}, supplyOrderDetailList = {} },
      "missing required parameter 'supplyOrderExt.platformPayTime'" },
    { "hd", "saleorder/{id}", {}, "missing required parameter 'id'" },
  }
  for _, case in ipairs(CASES) do
    it(case[1] .. " " .. case[2] .. ": " .. case[4], function()
      local c, transport = client(case[1], { F.TOKEN_ANSWER })
      for _, fn in ipairs { "prepare", "call" } do
        local ok, err = pcall(c[fn], c, case[2], case[3])
        assert.is_false(ok)
        assert.equal("bad argument #2 to 'client:" .. fn .. "' (" .. case[1] .. " " .. case[2] .. ": "
          .. case[4] .. ")",
          (err:gsub("^[^:]*:%d+: ", "")))
      end
      assert.equal(0, #transport.requests)     -- nothing was sent
    end)
  end

  it("reports caller mistakes at the caller's line, an empty path parameter included", function()
    local hd = mallapi.client("hd", F.cfg("hd"))
    local shoplus = mallapi.client("shoplus", F.cfg("shoplus"))
    local CALLS = {
      { function() hd:prepare("saleorder/{id}", { id = "" }) end,
        "bad argument #2 to 'client:prepare' (hd saleorder/{id}: missing required parameter 'id')" },
      { function() hd:call("saleorder/{id}", { id = "" }) end,
        "bad argument #2 to 'client:call' (hd saleorder/{id}: missing required parameter 'id')" },
      { function() shoplus:call("product.detail", {}) end,
        "bad argument #1 to 'client:call' (unknown shoplus operation 'product.detail'; close names: products.detail)" },
      { function() shoplus:prepare("products.detail", { id = 1 }, { data_json = 5 }) end,
        "bad argument #3 to 'client:prepare' (option 'data_json': string expected, got number)" },
      { function() shoplus:call("products.detail", { id = 1 }, { data_json = 5 }) end,
        "bad argument #3 to 'client:call' (option 'data_json': string expected, got number)" },
      { function() shoplus:token_manager() end,
        "calling 'client:token_manager' on bad self (shoplus has no fetch_token recipe)" },
      { function() mallapi.client("shoplus", { app_key = "a", secret = "s", utc_offset = "8" }) end,
        "bad argument #2 to 'mallapi.client' (option 'utc_offset': must look like +08:00)" },
    }
    for _, case in ipairs(CALLS) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.equal("spec/client_spec.lua:", err:match("^[^:]*:"))
      assert.equal(case[2], (err:gsub("^[^:]*:%d+: ", "")))
    end
  end)

  it("treats JSON null as missing and an empty string as given", function()
    local c = mallapi.client("babycare", F.cfg("babycare"))
    local ok, err = pcall(c.prepare, c, "order/sales/cancel",
      { platformOrderNo = mallapi.json.null, salesOrderCode = "SO1" })
    assert.is_false(ok)
    assert.matches("missing required parameter 'platformOrderNo'", err)
    assert.is_table(c:prepare("order/sales/cancel", { platformOrderNo = "", salesOrderCode = "SO1" }))
  end)
end)

describe("client:call envelopes", function()
  local SUCCESS = {
    { "sobot", "item_categories/get", { category_id = "1" },
      { retCode = "000000", retMsg = "ok", data = { { category_id = "1" } } }, { { category_id = "1" } } },
    { "hd", "saleorder/{id}", { id = "1" }, { id = "1", state = "confirmed" }, { id = "1", state = "confirmed" } },
    { "hd", "saleorder/{id}/action/deliver", { id = "1" }, { success = true, code = "0", message = "" },
      { success = true, code = "0", message = "" } },
    { "shoplus", "products.detail", { id = 1 }, { code = "0", msg = "", data = { id = 1 } }, { id = 1 } },
    { "guanmai", "order/get", { order_id = "PL1" }, { code = 0, msg = "ok", data = { order_id = "PL1" } },
      { order_id = "PL1" } },
    { "babycare", "order/sales/cancel", { platformOrderNo = "1", salesOrderCode = "SO1" },
      { code = 0, message = "", data = {} }, {} },
  }
  for _, case in ipairs(SUCCESS) do
    it(case[1] .. " success returns the business data", function()
      local answers = case[1] == "sobot" and { F.TOKEN_ANSWER, F.ok(case[4]) } or { F.ok(case[4]) }
      local c = client(case[1], answers)
      local data, answer = c:call(case[2], case[3])
      assert.same(case[5], data)
      assert.is_table(answer)
    end)
  end

  it("returns JSON null when a successful answer has no data", function()
    local c = client("guanmai", { F.ok '{"code":0,"msg":"ok","data":null}' })
    assert.equal(mallapi.json.null, c:call("order/delete", { order_id = "PL1" }))
  end)

  local FAILURE = {
    { "sobot", "stores/get", { page_no = 1, page_size = 5 },
      F.ok { retCode = "801001", retMsg = "Buyer information does not exist" },
      "VENDOR", "sobot stores/get: vendor error: 801001 Buyer information does not exist",
      { status = 200, vendor_code = "801001", vendor_message = "Buyer information does not exist",
        retryable = false } },
    { "hd", "saleorder/{id}", { id = "1" },
      F.ok({ success = false, code = "401", message = "unauthorized" }, 401),
      "AUTH", "hd saleorder/{id}: authentication refused: 401 unauthorized",
      { status = 401, vendor_code = "401", vendor_message = "unauthorized", retryable = false } },
    { "hd", "saleorder/{id}/action/deliver", { id = "1" },
      F.ok { success = false, code = "E100", message = "bad state" },
      "VENDOR", "hd saleorder/{id}/action/deliver: vendor error: E100 bad state",
      { status = 200, vendor_code = "E100", vendor_message = "bad state", retryable = false } },
    { "shoplus", "products.detail", { id = 1 }, F.ok { code = "10001", msg = "product not found" },
      "VENDOR", "shoplus products.detail: vendor error: 10001 product not found",
      { status = 200, vendor_code = "10001", vendor_message = "product not found", retryable = false } },
    { "shoplus", "products.detail", { id = 1 }, F.ok { code = "10002", msg = "designer not found" },
      "VENDOR", "shoplus products.detail: vendor error: 10002 designer not found",
      { status = 200, vendor_code = "10002", vendor_message = "designer not found", retryable = false } },
    { "shoplus", "products.detail", { id = 1 }, F.ok { code = "1002", msg = "invalid sign" },
      "AUTH", "shoplus products.detail: authentication refused: 1002 invalid sign",
      { status = 200, vendor_code = "1002", vendor_message = "invalid sign", retryable = false } },
    { "guanmai", "order/get", { order_id = "PL1" }, F.ok { code = 401, msg = "invalid sign" },
      "AUTH", "guanmai order/get: authentication refused: 401 invalid sign",
      { status = 200, vendor_code = 401, vendor_message = "invalid sign", retryable = false } },
    { "guanmai", "order/get", { order_id = "PL1" }, F.ok { code = 5, msg = "no such order" },
      "VENDOR", "guanmai order/get: vendor error: 5 no such order",
      { status = 200, vendor_code = 5, vendor_message = "no such order", retryable = false } },
    { "babycare", "order/return/create", { appId = "1", projectId = "1", taskId = "1", userId = "1",
        storeCode = "s", platformOrderNo = "1", salesOrderId = 1, platformRefundNo = "r",
        backExpressNo = "n", backExpressCode = "c", returnInDetailList = {} },
      F.ok { code = 0, message = "", data = { code = 3, errMsg = "order not shipped" } },
      "VENDOR", "babycare order/return/create: vendor error: 3 order not shipped",
      { status = 200, vendor_code = 3, vendor_message = "order not shipped", retryable = false } },
    { "babycare", "order/sales/cancel", { platformOrderNo = "1", salesOrderCode = "SO1" },
      F.ok({ code = 401, success = false, message = "bad sign" }, 401),
      "AUTH", "babycare order/sales/cancel: authentication refused: 401 bad sign",
      { status = 401, vendor_code = 401, vendor_message = "bad sign", retryable = false } },
    { "guanmai", "order/get", { order_id = "PL1" },
      { status = 429, headers = { ["retry-after"] = "3" }, body = "slow down" },
      "HTTP", "guanmai order/get: HTTP 429",
      { status = 429, retryable = true, retry_after = 3 } },
    { "shoplus", "merchant", {}, { status = 502, headers = {}, body = "<html>bad gateway</html>" },
      "HTTP", "shoplus merchant: HTTP 502", { status = 502, retryable = true } },
    { "shoplus", "merchant", {}, { status = 200, headers = {}, body = "not json" },
      "HTTP", "shoplus merchant: answer is not a JSON object (HTTP 200)",
      { status = 200, retryable = false } },
  }
  for _, case in ipairs(FAILURE) do
    it(case[1] .. " " .. case[6], function()
      local c = client(case[1], case[1] == "sobot" and { F.TOKEN_ANSWER, case[4] } or { case[4] })
      local data, err, code, detail = c:call(case[2], case[3])
      assert.is_nil(data)
      assert.equal(case[6], err)
      assert.equal(case[5], code)
      assert.same(case[7], detail)
    end)
  end

  it("passes a transport failure through with its code", function()
    local c = mallapi.client("guanmai", F.cfg("guanmai", { transport = { request = function()
      return nil, "http.request: connect to 127.0.0.1:9 refused", "CONNECT" end } }))
    local data, err, code, detail = c:call("order/get", { order_id = "PL1" })
    assert.is_nil(data)
    assert.equal("guanmai order/get: http.request: connect to 127.0.0.1:9 refused", err)
    assert.equal("CONNECT", code)
    assert.same({ retryable = true }, detail)
  end)
end)

describe("client:call Sobot token lifecycle", function()
  local function token(n)
    return F.ok { ret_code = "000000", item = { token = "tok-" .. n, expire_in = 86400 } }
  end
  local INVALID = F.ok { retCode = "900001", retMsg = "token invalid" }
  local GOOD = F.ok { retCode = "000000", retMsg = "ok", data = { ok = true } }

  it("invalidates the token and retries once on the token-invalid answer", function()
    local c, transport = client("sobot", { token(1), INVALID, token(2), GOOD })
    local data = c:call("item_categories/get", { category_id = "1" })
    assert.same({ ok = true }, data)
    assert.equal(4, #transport.requests)
    assert.matches("/api/get_token%?", transport.requests[1].url)
    assert.equal("tok-1", transport.requests[2].headers.token)
    assert.matches("/api/get_token%?", transport.requests[3].url)
    assert.equal("tok-2", transport.requests[4].headers.token)
  end)

  it("gives up after one retry with an AUTH error", function()
    local c, transport = client("sobot", { token(1), INVALID, token(2), INVALID, token(3), GOOD })
    local data, err, code, detail = c:call("item_categories/get", { category_id = "1" })
    assert.is_nil(data)
    assert.equal("sobot item_categories/get: authentication refused: 900001 token invalid", err)
    assert.equal("AUTH", code)
    assert.equal("900001", detail.vendor_code)
    assert.equal(4, #transport.requests)
  end)

  it("reports a refused token request as AUTH without sending the call", function()
    local c, transport = client("sobot", { F.ok { ret_code = "100002", ret_msg = "sign error" } })
    local data, err, code = c:call("item_categories/get", { category_id = "1" })
    assert.is_nil(data)
    assert.equal("sobot item_categories/get: token.get: refresh failed for key sobot:sobot-test-app: "
      .. "sobot get_token: ret_code 100002 sign error", err)
    assert.equal("AUTH", code)
    assert.equal(1, #transport.requests)
    assert.matches("/api/get_token%?", transport.requests[1].url)
  end)
end)

describe("client:each", function()
  local function collect(c, op, params)
    local got = {}
    for record, err, code in c:each(op, params) do
      if record == false then got.err, got.code = err, code; break end
      got[#got + 1] = record
    end
    return got
  end

  it("walks Sobot pages by page_no until page_count, fetching lazily", function()
    local function page(n, ids)
      local data = {}
      for i, id in ipairs(ids) do data[i] = { store_id = id } end
      return F.ok { retCode = "000000", data = { page_no = n, page_size = 2, page_count = 3,
        total_count = 5, data = data } }
    end
    local c, transport = client("sobot", { F.TOKEN_ANSWER, page(1, { "a", "b" }),
      page(2, { "c", "d" }), page(3, { "e" }) })
    local iter = c:each("stores/get", { page_size = 2 })
    assert.equal(0, #transport.requests)
    assert.same({ store_id = "a" }, iter())
    assert.equal(2, #transport.requests)
    assert.same({ store_id = "b" }, iter())
    assert.equal(2, #transport.requests)
    local rest = {}
    for r in iter do rest[#rest + 1] = r.store_id end
    assert.same({ "c", "d", "e" }, rest)
    assert.equal(4, #transport.requests)
    for i = 2, 4 do
      local body = F.json_decode(transport.requests[i].body)
      assert.equal(i - 1, body.page_no)
      assert.equal(2, body.page_size)
    end
  end)

  it("walks Hd pages from 0 and stops at page_count", function()
    local c, transport = client("hd", {
      F.ok { total = 3, page = 0, page_count = 2, page_size = 2, saleOrders = { { id = "1" }, { id = "2" } } },
      F.ok { total = 3, page = 1, page_count = 2, page_size = 2, saleOrders = { { id = "3" } } },
    })
    local got = collect(c, "saleorders/query", { page_size = 2, states = { "confirmed" } })
    assert.same({ { id = "1" }, { id = "2" }, { id = "3" } }, got)
    assert.equal(2, #transport.requests)
    assert.equal("0", F.split_url(transport.requests[1].url).map.page)
    assert.equal("1", F.split_url(transport.requests[2].url).map.page)
    -- a page size out of the documented range is a runtime value: yielded, nothing sent
    local first, err, code = c:each("saleorders/query", { page_size = 101 })()
    assert.same({ false, "hd saleorders/query: parameter 'page_size' = 101 is above the maximum 100 (001:L2073)",
      "INVALID" }, { first, err, code })
    assert.equal(2, #transport.requests)
  end)

  it("follows the Guanmai page_obj cursor until more is false", function()
    local c, transport = client("guanmai", {
      F.ok { code = 0, data = { { id = "A1" }, { id = "A2" } }, pagenation = { page = "cur-2", more = true } },
      F.ok { code = 0, data = { { id = "A3" } }, pagenation = { page = "cur-3", more = false } },
    })
    local got = collect(c, "product/category1/list", { limit = 2 })
    assert.same({ { id = "A1" }, { id = "A2" }, { id = "A3" } }, got)
    assert.equal(2, #transport.requests)
    assert.is_nil(F.split_url(transport.requests[1].url).map.page)
    assert.equal("cur-2", F.split_url(transport.requests[2].url).map.page)
    assert.equal("2", F.split_url(transport.requests[2].url).map.limit)
  end)

  it("advances Guanmai offset where there is no page_obj (category2/list)", function()
    local c, transport = client("guanmai", {
      F.ok { code = 0, data = { { id = "B1" }, { id = "B2" } }, pagenation = { more = true } },
      F.ok { code = 0, data = { { id = "B3" } }, pagenation = { more = false } },
    })
    local got = collect(c, "product/category2/list", { limit = 2 })
    assert.equal(3, #got)
    assert.equal("2", F.split_url(transport.requests[2].url).map.offset)
  end)

  it("walks Shoplus pageNum pages until totalCount", function()
    local c, transport = client("shoplus", {
      F.ok { code = "0", data = { totalCount = 3, productVOs = { { id = 1 }, { id = 2 } } } },
      F.ok { code = "0", data = { totalCount = 3, productVOs = { { id = 3 } } } },
    })
    local got = collect(c, "products", { pageSize = 2 })
    assert.same({ { id = 1 }, { id = 2 }, { id = 3 } }, got)
    local second = F.json_decode(F.java_urldecode(F.json_decode(transport.requests[2].body).data))
    assert.same({ pageNum = 2, pageSize = 2 }, second)
  end)

  it("walks Shoplus page/limit pages until a short page", function()
    local c, transport = client("shoplus", {
      F.ok { code = "0", data = { totalCount = 1, orders = { { id = 1 }, { id = 2 } } } },
      F.ok { code = "0", data = { totalCount = 1, orders = {} } },
    })
    local got = collect(c, "Order.list", { limit = 2 })
    assert.equal(2, #got)
    assert.equal(2, #transport.requests)
  end)

  it("yields false, err, code once when a page fails", function()
    local c = client("guanmai", {
      F.ok { code = 0, data = { { id = "A1" } }, pagenation = { page = "p2", more = true } },
      F.ok { code = 7, msg = "boom" },
    })
    local got = collect(c, "product/category1/list", { limit = 1 })
    assert.same({ id = "A1" }, got[1])
    assert.equal("guanmai product/category1/list: vendor error: 7 boom", got.err)
    assert.equal("VENDOR", got.code)
  end)

  it("refuses operations that are not paged", function()
    local c = mallapi.client("babycare", F.cfg("babycare"))
    local ok, err = pcall(c.each, c, "order/package/list", { platformOrderNo = "1" })
    assert.is_false(ok)
    assert.equal("bad argument #1 to 'client:each' (babycare order/package/list is not a paged operation)",
      (err:gsub("^[^:]*:%d+: ", "")))
  end)
end)
