-- The local vendor sandbox (sandbox/): every vendor's authentication, envelopes, push and query,
-- paging, required parameters, fault knobs, Sobot token rotation, 64-bit ids, the Shoplus
-- webhook sender, and a structural pass over all 106 documented operations. Requests are
-- signed by spec/support/sandbox_client.lua, written from the documents independently of the
-- sandbox's own checks.
package.path = "sandbox/lua/?.lua;" .. package.path

local sandbox = require "sandbox.launch"
local ops = require "sandbox.ops"
local json = require "sandbox.json"
local C = require "support.sandbox_client"
local nginx = require "support.nginx"

local read = require("support.files").read

local vectors = assert(json.decode(read("../shared/vectors/signing.json")))
local function vector(id)
  for _, c in ipairs(vectors.cases) do if c.id == id then return c end end
  error("no vector " .. id)
end

-- Shoplus credentials come from the vectors file, so its request cases can be replayed as is.
local shoplus_vec = vector("shoplus.request_sign.products.detail")

local sb, creds, urls

local function ids_of(list, field)
  local out = {}
  for _, r in ipairs(list) do out[#out + 1] = json.text(r[field]) end
  return out
end

local function assert_unique_complete(seen, expected)
  local set = {}
  for _, id in ipairs(seen) do
    assert.is_nil(set[id], "repeated " .. tostring(id))
    set[id] = true
  end
  assert.equal(#expected, #seen)
  for _, id in ipairs(expected) do assert.is_true(set[id], "missing " .. id) end
end

describe("sandbox", function()
  setup(function()
    sb = sandbox.start { credentials = {
      shoplus = { app_key = shoplus_vec.input.app_key, secret = shoplus_vec.input.secret },
      hd = { operator = "spec-operator" },
    } }
    creds, urls = sb.credentials, sb.urls
  end)

  teardown(function()
    if sb then sb:stop() end
  end)

  describe("operation list", function()
    it("has the documented number of operations per vendor", function()
      local expect = { sobot = 11, hd = 6, shoplus = 31, guanmai = 51, babycare = 7 }
      for vendor, n in pairs(expect) do assert.equal(n, #ops.of(vendor), vendor) end
      assert.equal(106, #ops.list)
    end)
  end)

  ---------------------------------------------------------------------------- Sobot
  describe("sobot", function()
    local token
    local function fresh_token()
      local status, answer = C.sobot_token(urls.sobot, creds.sobot)
      assert.equal(200, status)
      assert.equal("000000", answer.ret_code)
      return answer.item.token, answer.item
    end

    before_each(function() sb:reset("sobot") token = fresh_token() end)

    it("issues tokens with a lifetime and rotates them: the previous token stops working", function()
      local t1, item = fresh_token()
      assert.is_true(#t1 >= 32)
      assert.is_true(item.expires_in > 0)
      local _, a = C.sobot(urls.sobot, t1, "stores/get", { page_no = 1, page_size = 5 })
      assert.equal("000000", a.retCode)
      local t2 = fresh_token()
      assert.not_equal(t1, t2)
      _, a = C.sobot(urls.sobot, t1, "stores/get", { page_no = 1, page_size = 5 })
      assert.equal("900001", a.retCode)
      _, a = C.sobot(urls.sobot, t2, "stores/get", { page_no = 1, page_size = 5 })
      assert.equal("000000", a.retCode)
    end)

    it("token_ttl sets the lifetime of the next tokens", function()
      sb:knob("sobot", "token_ttl", 120)
      local _, item = fresh_token()
      assert.equal(120, item.expires_in)
    end)

    it("refuses a token request signed with the wrong app_key", function()
      local status, a = C.sobot_token(urls.sobot, { appid = creds.sobot.appid, app_key = "wrong-key" })
      assert.equal(200, status)
      assert.equal("900002", a.ret_code)
      assert.is_nil(a.item)
    end)

    it("refuses business calls without a token", function()
      local _, a = C.sobot(urls.sobot, nil, "stores/get", { page_no = 1, page_size = 5 })
      assert.same({ "900001", false }, { a.retCode, a.success })
    end)

    it("stores a push and returns it from the query, 64-bit ids exact", function()
      local raw = '{"timestamp":"1700000000000","nonce":"n1","store_list":[{"storeid":"531464955418787840",'
        .. '"store_name":"Big","status":1,"create_time":"1646233461000","update_time":"1646233461000",'
        .. '"delete_flag":0,"parent_storeid":"0"}]}'
      local _, a = C.sobot(urls.sobot, token, "stores/add", raw)
      assert.equal("000000", a.retCode)
      local _, q = C.sobot(urls.sobot, token, "stores/get", { page_no = 1, page_size = 10 })
      local rec = q.data.data[1]
      assert.equal("531464955418787840", rec.store_id)
      assert.equal("Big", rec.store_name)
      assert.equal("1646233461", rec.create_time)          -- the query answers seconds
      assert.equal(24, #rec.sobot_store_id)
    end)

    it("walks stores/get pages without gaps or repeats", function()
      local list, expected = {}, {}
      for i = 1, 23 do
        local id = string.format("S%03d", i)
        expected[#expected + 1] = id
        list[i] = { storeid = id, store_name = "n" .. i, status = 1, create_time = "1646233461000",
                    update_time = "1646233461000", delete_flag = 0 }
      end
      local _, a = C.sobot(urls.sobot, token, "stores/add", { store_list = list })
      assert.equal("000000", a.retCode)
      local seen, page, pages = {}, 1
      repeat
        local _, q = C.sobot(urls.sobot, token, "stores/get", { page_no = page, page_size = 5 })
        assert.equal("000000", q.retCode)
        pages = q.data.page_count
        for _, id in ipairs(ids_of(q.data.data, "store_id")) do seen[#seen + 1] = id end
        page = page + 1
      until page > pages or page > 20
      assert.equal(5, pages)
      assert_unique_complete(seen, expected)
    end)

    it("filters queries on the pushed update_time (ms) and deletes on delete_flag 1", function()
      local function store(id, updated, deleted)
        return { storeid = id, store_name = id, status = 1, create_time = "1646233461000", update_time = updated,
                 delete_flag = deleted or 0 }
      end
      C.sobot(urls.sobot, token, "stores/add", { store_list = { store("a", "1000000000000"),
        store("b", "2000000000000"), store("c", "3000000000000") } })
      local cases = {
        { { start_time_unix = "1500000000000" }, { "b", "c" } },
        { { end_time_unix = "2000000000000" }, { "a", "b" } },
        { { start_time_unix = "1500000000000", end_time_unix = "2500000000000" }, { "b" } },
      }
      for _, c in ipairs(cases) do
        c[1].page_no, c[1].page_size = 1, 10
        local _, a = C.sobot(urls.sobot, token, "stores/get", c[1])
        assert.same(c[2], ids_of(a.data.data, "store_id"))
      end
      C.sobot(urls.sobot, token, "stores/add", { store_list = { store("b", "2100000000000", 1) } })
      local _, a = C.sobot(urls.sobot, token, "stores/get", { page_no = 1, page_size = 10 })
      assert.same({ "a", "c" }, ids_of(a.data.data, "store_id"))
    end)

    it("items, orders, refunds, categories and logistics round-trip", function()
      local _, a = C.sobot(urls.sobot, token, "items/add", { item_list = { { storeid = "s1", itemid = "i1",
        name = "Tea", retail_price = "200", create_time = "1646233461000", update_time = "1646233461000",
        delete_flag = 0, status = 1 } } })
      assert.equal("000000", a.retCode)
      _, a = C.sobot(urls.sobot, token, "items/get", { page_no = 1, page_size = 5 })
      assert.same({ "i1", "200" }, { a.data.data[1].item_id, a.data.data[1].retail_price })
      local receiver = { name = "A", phone_number = "1", country = "CN", province = "P", city = "C",
                         district = "D", detail_address = "X" }
      local order = { storeid = "s1", orderid = "o1", order_no = "202103045600000323434",
        create_time = "1646233461000", update_time = "1646233461000", status = 2, actual_amount = "200",
        buyerid = "b1", buyerid_type = 2, receiver = receiver,
        item_list = { { itemid = "i1", name = "Tea", actual_price = "200", quantity = 1, total_price = "200" } } }
      local bad = json.copy(order)
      bad.orderid, bad.buyerid_type = "o2", 3
      _, a = C.sobot(urls.sobot, token, "orders/add", { order_list = { order, bad } })
      assert.equal("000000", a.retCode)
      assert.same({ { orderid = "o2", retCode = 801001, retMsg = "Buyer information does not exist" } }, a.data)
      _, a = C.sobot(urls.sobot, token, "orders/get", { page_no = 1, page_size = 5 })
      assert.equal(1, a.data.total_count)
      local got = a.data.data[1]
      assert.same({ "o1", "202103045600000323434", "i1" }, { got.order_id, got.order_no,
        got.order_item_list[1].item_id })
      _, a = C.sobot(urls.sobot, token, "refunds/add", { refund_list = { { order_no = "202103045600000323434",
        refund_no = "201709282209550100010711", fee = "100", status = 1, create_time = "1646233461000",
        update_time = "1646233461000" } } })
      assert.equal("000000", a.retCode)
      _, a = C.sobot(urls.sobot, token, "refunds/get", { page_no = 1, page_size = 5,
        sobot_order_id = got.sobot_order_id })
      assert.equal("201709282209550100010711", a.data.data[1].refund_no)
      _, a = C.sobot(urls.sobot, token, "item_category/add", { item_category = { category_id = "202103045600000323434",
        category_hierarchy = 1, has_child_node = 0, parent_node_id = "0", category_name = "Drinks" } })
      assert.equal("000000", a.retCode)
      _, a = C.sobot(urls.sobot, token, "item_categories/get", { category_id = "202103045600000323434" })
      assert.equal("Drinks", a.data[1].category_name)
      _, a = C.sobot(urls.sobot, token, "logistics/add", { logistics_list = { { order_no = "202103045600000323434",
        fee = "10", status = 2, company_name = "SF", tracking_number = "T1", create_time = "1646233461000",
        update_time = "1646233461000" } } })
      assert.equal("000000", a.retCode)
      assert.equal("T1", sb:dump("sobot", "logistics")[1].tracking_number)
    end)

    it("answers missing required parameters with the retCode envelope", function()
      local cases = {
        { "stores/get", { page_size = 5 }, "missing required parameter: page_no" },
        { "stores/add", { store_list = { { storeid = "x" } } },
          "missing required parameter: store_list[1].store_name" },
        { "stores/get", { page_no = 1, page_size = 5, nonce = "" }, "missing required parameter: nonce" },
        { "stores/get", { page_no = 1, page_size = 5, timestamp = "1652361292" },
          "timestamp must be milliseconds (13 digits)" },
      }
      for _, c in ipairs(cases) do
        local status, a = C.sobot(urls.sobot, token, c[1], c[2])
        assert.equal(200, status)
        assert.same({ "900003", c[3], false }, { a.retCode, a.retMsg, a.success })
      end
    end)

    it("expire_token kills the live token; fail_token fails the next token fetch", function()
      sb:knob("sobot", "expire_token")
      local _, a = C.sobot(urls.sobot, token, "stores/get", { page_no = 1, page_size = 5 })
      assert.equal("900001", a.retCode)
      sb:knob("sobot", "fail_token", 1)
      local status = C.sobot_token(urls.sobot, creds.sobot)
      assert.equal(500, status)
      local t = fresh_token()
      _, a = C.sobot(urls.sobot, t, "stores/get", { page_no = 1, page_size = 5 })
      assert.equal("000000", a.retCode)
      assert.equal(2, sb:stats("sobot").token_fetches)
    end)
  end)

  ---------------------------------------------------------------------------- Hd
  describe("hd", function()
    before_each(function() sb:reset("hd") end)

    local function submit(front)
      local status, a = C.hd(urls.hd, creds.hd, "POST", "saleorder", nil,
        { front = { order_id = front, platform = { id = "web" } }, shop = { id = "0002" } })
      assert.equal(200, status)
      assert.is_true(a.success)
      return a.sale_order_id
    end

    it("submits, reads by id, by front id and in batch, and delivers", function()
      local id = submit("F1")
      local status, o = C.hd(urls.hd, creds.hd, "GET", "saleorder/" .. id)
      assert.equal(200, status)
      assert.same({ id, "F1", "confirmed", "spec-operator" }, { o.id, o.front.order_id, o.state, o.creator })
      status, o = C.hd(urls.hd, creds.hd, "GET", "saleorder/front/F1", { { "platform_id", "web" } })
      assert.same({ 200, id }, { status, o.id })
      local id2 = submit("F2")
      status, o = C.hd(urls.hd, creds.hd, "GET", "saleorders", { { "sale_order_id", id }, { "sale_order_id", id2 } })
      assert.same({ 200, id, id2 }, { status, o.sale_orders[1].id, o.sale_orders[2].id })
      status, o = C.hd(urls.hd, creds.hd, "POST", "saleorder/" .. id .. "/action/deliver", nil,
        { operator = "x", waybillId = "W1", delivery_state = "shipped", front_modified = "2026-01-01 00:00:00" })
      assert.same({ 200, true }, { status, o.success })
      status, o = C.hd(urls.hd, creds.hd, "GET", "saleorder/" .. id)
      assert.same({ 200, "delivering", "shipped", "W1" },
        { status, o.state, o.delivery.state, o.waybills[1].waybill_id })
    end)

    it("pages saleorders/query from 0 without gaps or repeats and filters by state", function()
      local expected = {}
      for i = 1, 25 do expected[i] = submit("Q" .. i) end
      local seen, page = {}, 0
      while page < 10 do
        local status, a = C.hd(urls.hd, creds.hd, "POST", "saleorders/query",
          { { "page", tostring(page) }, { "page_size", "10" } }, { states = { "confirmed" } })
        assert.equal(200, status)
        assert.same({ 25, 3, page }, { a.total, a.page_count, a.page })
        for _, id in ipairs(ids_of(a.saleOrders, "id")) do seen[#seen + 1] = id end
        page = page + 1
        if page >= a.page_count then break end
      end
      assert_unique_complete(seen, expected)
      local _, a = C.hd(urls.hd, creds.hd, "POST", "saleorders/query", { { "page", "0" }, { "page_size", "10" } },
        { states = { "delivered" } })
      assert.equal(0, a.total)
      local filters = {
        { { front_order_id = "Q7" }, 1 },
        { { front_order_ids = { "Q1", "Q2" } }, 2 },
        { { front_order_id_prefix = "Q1" }, 11 },
        { { platform_id = "web", shop_id = "0002" }, 25 },
        { { shop_id_in = "0003" }, 0 },
        { { order_ids = { expected[3] } }, 1 },
        { { created_start = "2000-01-01 00:00:00", created_end = "2100-01-01 00:00:00" }, 25 },
        { { created_end = "2000-01-01 00:00:00" }, 0 },
      }
      for _, f in ipairs(filters) do
        _, a = C.hd(urls.hd, creds.hd, "POST", "saleorders/query", { { "page_size", "100" } }, f[1])
        assert.equal(f[2], a.total, next(f[1]))
      end
    end)

    it("answers wrong credentials with 401 and the SOMS envelope", function()
      for _, bad in ipairs {
        { tenant_id = creds.hd.tenant_id, user = creds.hd.user, password = "wrong" },
        { tenant_id = "other-tenant", user = creds.hd.user, password = creds.hd.password },
      } do
        local status, a = C.hd(urls.hd, bad, "GET", "saleorder/1")
        assert.equal(401, status)
        assert.same({ success = false, code = "401", message = "unauthorized" }, a)
      end
    end)

    it("answers bad parameters with the SOMS envelope", function()
      local status, a = C.hd(urls.hd, creds.hd, "POST", "saleorders/query", { { "page_size", "101" } }, {})
      assert.same({ 400, false, "400", "page_size must be in [1,100]" }, { status, a.success, a.code, a.message })
      status, a = C.hd(urls.hd, creds.hd, "POST", "saleorders/query", { { "page", "-1" } }, {})
      assert.same({ 400, "page must be an integer >= 0" }, { status, a.message })
      status, a = C.hd(urls.hd, creds.hd, "GET", "saleorders")
      assert.same({ 400, "missing required parameter: sale_order_id" }, { status, a.message })
      status, a = C.hd(urls.hd, creds.hd, "GET", "saleorder/nosuch")
      assert.same({ 404, "sale order not found: nosuch" }, { status, a.message })
    end)
  end)

  ---------------------------------------------------------------------------- Shoplus
  describe("shoplus", function()
    before_each(function() sb:reset("shoplus") end)

    it("accepts the requests of the vectors file and refuses them tampered", function()
      for _, c in ipairs(vectors.cases) do
        if c.id:match("^shoplus%.request_sign%.") then
          local body = { name = c.input.name, version = c.input.version, app_key = c.input.app_key,
                         data = c.expect.data, timestamp = c.input.timestamp, sign = c.expect.sign }
          local _, a = C.http("POST", urls.shoplus, require("cjson").encode(body))
          assert.is_string(a.code)
          assert.not_equal("401", a.code, c.id .. ": " .. tostring(a.msg))
          body.sign = c.expect.sign:sub(1, -2) .. (c.expect.sign:sub(-1) == "0" and "1" or "0")
          _, a = C.http("POST", urls.shoplus, require("cjson").encode(body))
          assert.same({ "401", "invalid sign" }, { a.code, a.msg })
        end
      end
    end)

    it("answers a wrong secret or app_key with code 401", function()
      local _, a = C.shoplus(urls.shoplus, { app_key = creds.shoplus.app_key, secret = "wrong" }, "merchant", {})
      assert.same({ "401", "invalid sign" }, { a.code, a.msg })
      _, a = C.shoplus(urls.shoplus, { app_key = "other", secret = creds.shoplus.secret }, "merchant", {})
      assert.same({ "401", "invalid app_key" }, { a.code, a.msg })
    end)

    it("adds a product and returns it by 64-bit id, and pages the product list", function()
      local _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.add", { title = "Tee", spuCode = "SPU1",
        productVariants = { { skuCode = "SKU1", salePrice = 16.05 } } })
      assert.equal("0", a.code)
      local id = json.text(a.data.id)
      assert.is_true(json.is_bignum(a.data.id) and #id == 18)
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.detail", '{"id":' .. id .. '}')
      local variant = a.data.productVariantDTOs[1]
      assert.same({ "0", id, "Tee", "SKU1", 16.05, id }, { a.code, json.text(a.data.id), a.data.title,
        variant.skuCode, variant.salePrice, json.text(variant.productId) })
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.skus.addOrUpdate", '{"productId":' .. id
        .. ',"updateProductVariants":[{"id":' .. json.text(variant.id) .. ',"salePrice":9.5},{"skuCode":"SKU2"}]}')
      local v = a.data.productVariantDTOs
      assert.same({ "0", 2, 9.5, "SKU1", "SKU2" }, { a.code, #v, v[1].salePrice, v[1].skuCode, v[2].skuCode })
      local expected = { id }
      for i = 2, 12 do
        _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.add", { title = "P" .. i })
        expected[i] = json.text(a.data.id)
      end
      local seen = {}
      for page = 1, 3 do
        _, a = C.shoplus(urls.shoplus, creds.shoplus, "products", { pageNum = page, pageSize = 5 })
        assert.equal(12, a.data.totalCount)
        for _, pid in ipairs(ids_of(a.data.productVOs, "id")) do seen[#seen + 1] = pid end
      end
      assert_unique_complete(seen, expected)
    end)

    it("keeps a pushed 64-bit number that a double cannot hold exact through push and query", function()
      local _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.add",
        '{"title":"Big","brandId":531464955276181500,"freightTemplateId":9007199254740993}')
      assert.equal("0", a.code)
      local id = json.text(a.data.id)
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.detail", '{"id":' .. id .. '}')
      assert.same({ "531464955276181500", "9007199254740993" },
        { json.text(a.data.brandId), json.text(a.data.freightTemplateId) })
      local _, _, raw = C.shoplus(urls.shoplus, creds.shoplus, "products", { ids = { id } })
      assert.truthy(raw:find('"brandId":531464955276181500', 1, true))
    end)

    it("keeps a seeded 64-bit order id exact through Order.list and Order.detail", function()
      sb:seed("shoplus", "orders", { { id = json.bignum("531464955418787840"), orderNo = "5202012027521001",
        status = 1, createTime = 1767232800000 }, { id = json.bignum("531464955418787841"), orderNo = "N2",
        status = 3 } })
      local _, a = C.shoplus(urls.shoplus, creds.shoplus, "Order.detail", '{"id":531464955418787840}')
      assert.same({ "0", "531464955418787840", "5202012027521001" }, { a.code, json.text(a.data.id), a.data.orderNo })
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "Order.list", '{"sinceId":531464955418787840}')
      assert.same({ 1, "531464955418787841" }, { a.data.totalCount, json.text(a.data.orders[1].id) })
      local dumped = sb:dump("shoplus", "orders")
      assert.equal("531464955418787840", tostring(dumped[1].id))
    end)

    it("collections, customers, fulfillments, UTM, merchant and webhooks keep their state", function()
      local function call(name, params)
        local _, a = C.shoplus(urls.shoplus, creds.shoplus, name, params)
        assert.equal("0", a.code, name .. ": " .. tostring(a.msg))
        return a.data
      end
      local pid = json.text(call("products.add", { title = "In collection" }).id)
      local cid = json.text(call("collections.add", '{"title":"Summer","dataType":2,"spuIds":[' .. pid .. ']}').result)
      call("collections.update", '{"id":' .. cid .. ',"title":"Summer 2"}')
      local detail = call("collections.detail", '{"id":' .. cid .. ',"pageNum":1,"pageSize":10}')
      assert.same({ "Summer 2", 1, pid }, { detail.title, detail.productCount, json.text(detail.products[1].id) })
      assert.equal(1, call("collections", {}).totalCount)
      call("collections.delete", '{"id":' .. cid .. '}')
      assert.equal(0, call("collections", {}).totalCount)

      sb:seed("shoplus", "customers", { { id = 11, email = "a@example.com", firstName = "A" },
                                        { id = 12, email = "b@example.com", firstName = "B" } })
      local list = call("customer.list", { ids = "11, 12", email = "b@example.com" })
      assert.same({ 1, "12" }, { list.totalCount, json.text(list.customers[1].id) })
      assert.equal("Z", call("customer.update", { id = 11, firstName = "Z", acceptsMarketing = 1 }).firstName)
      assert.equal("Z", call("customer.detail", { id = 11 }).firstName)

      sb:seed("shoplus", "orders", { { id = 7, orderNo = "N7", status = 1 } })
      local f = call("Fulfillment.add", { orderNo = "N7", trackingNumber = "T1", trackingCompany = "UPS",
        lineItems = { { id = 70 } } })
      call("Fulfillment.update", '{"id":' .. json.text(f.id) .. ',"orderNo":"N7","trackingNumber":"T2"}')
      local fl = call("Fulfillment.list", { orderNo = "N7" }).fulfillments
      assert.same({ 1, "T2", "UPS", 70 }, { #fl, fl[1].trackingNumber, fl[1].trackingCompany,
        fl[1].fulfillmentItems[1].orderItemId })
      assert.same({ success = true, errorMsg = "" }, call("Order.update", { orderShippingAddress = { orderNo = "N7",
        city = "Shenzhen" } }))
      assert.equal("Shenzhen", call("Order.detail", { id = 7 }).shippingAddress.city)

      sb:seed("shoplus", "utms", { { orderNo = "N7", utms = { { utmSource = "google" } } } })
      local utm = call("UTM.listV2", { orderNos = { "N7", "N8" } }).orderUtms
      assert.same({ "google", 0 }, { utm[1].utms[1].utmSource, #utm[2].utms })
      assert.equal("USD", call("merchant", {}).currency)

      local hook = call("webhook.create", { url = "http://127.0.0.1:1/h", event = "order_create", apiSecret = "s" })
      call("webhook.update", { id = hook.id, event = "order_update" })
      assert.equal("order_update", call("webhook.detail", { id = hook.id }).event)
      assert.equal(1, #call("webhook.list", { page = 1, limit = 10 }).webHookVOList)
      assert.is_true(#call("webhook.event", {}).events > 0)
      call("webhook.delete", { id = hook.id })
      assert.equal(0, #call("webhook.list", {}).webHookVOList)
      call("products.delete", '{"ids":[' .. pid .. ']}')
      assert.equal(0, call("products", {}).totalCount)
    end)

    it("filters Order.list on status and times and pages it with page/limit", function()
      sb:seed("shoplus", "orders", {
        -- the documented members, in epoch ms (002:L2186): 2026-01-0N 10:00:00 +08:00
        { id = 1, orderNo = "A", status = 1, createTime = 1767232800000, updateTime = 1767578400000 },
        { id = 2, orderNo = "B", status = 3, createTime = 1767319200000, updateTime = 1767319200000 },
        { id = 3, orderNo = "C", status = 1, createTime = 1767405600000, updateTime = 1767405600000 },
      })
      local cases = {
        { { orderStatus = 1 }, { "A", "C" } },
        { { orderStatus = -2 }, { "A", "B", "C" } },
        { { createdAtMin = "2026-01-02 00:00:00" }, { "B", "C" } },
        { { updatedAtMax = "2026-01-04 00:00:00" }, { "B", "C" } },
        { { ids = { 3, 1 } }, { "A", "C" } },
        { { limit = 2, page = 2 }, { "C" } },
      }
      for _, c in ipairs(cases) do
        local _, a = C.shoplus(urls.shoplus, creds.shoplus, "Order.list", c[1])
        assert.same(c[2], ids_of(a.data.orders, "orderNo"))
      end
    end)

    it("answers missing parameters and unknown names with its envelope", function()
      local _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.detail", {})
      assert.same({ "400", "missing required parameter: id" }, { a.code, a.msg })
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "products.nosuch", {})
      assert.same({ "404", "unknown api name: products.nosuch" }, { a.code, a.msg })
      _, a = C.shoplus(urls.shoplus, creds.shoplus, "products", { pageSize = 201 })
      assert.same({ "400", "pageSize must be an integer in [1,200]" }, { a.code, a.msg })
    end)

    it("sends webhook events signed per the vectors file", function()
      local receiver = nginx.start { http = [[
        server { listen 127.0.0.1:$PORT; location / { content_by_lua_block {
          ngx.req.read_body()
          ngx.say(ngx.req.get_headers()["webhook-event"] or "-")
          ngx.print(ngx.req.get_body_data() or "")
        } } }
      ]] }
      local v = vector("shoplus.webhook_sign.flat")
      local ok, err = pcall(function()
        local status, resp = sb:send_webhook(receiver:url("/hook"), "order_create", v.input.raw_body,
          v.input.api_secret)
        assert.equal(200, status)
        local event, body = resp:match("^(.-)\n(.*)$")
        assert.equal("order_create", event)
        assert.equal(v.expect.sign, body:match('"sign":"(%x+)"'))
        assert.truthy(body:find('"id":531464955418787840', 1, true))
      end)
      receiver:stop()
      assert(ok, err)
    end)
  end)

  ---------------------------------------------------------------------------- Guanmai
  describe("guanmai", function()
    before_each(function() sb:reset("guanmai") end)
    local function call(method, path, params, c, ts) return C.guanmai(urls.guanmai, c or creds.guanmai, method,
      path, params, ts) end

    it("creates, reads, updates and lists SPUs with the cursor, without gaps or repeats", function()
      local expected = {}
      for i = 1, 7 do
        local _, a = call("POST", "product/spu/create", { name = "菜 " .. i, std_unit_name = "斤", pinlei_id = "P1" })
        assert.equal(0, a.code)
        expected[i] = a.data.spu_id
      end
      local _, a = call("GET", "product/spu/get", { spu_id = expected[3] })
      assert.same({ 0, "菜 3" }, { a.code, a.data.name })
      _, a = call("POST", "product/spu/update", { spu_id = expected[3], name = "new & name" })
      assert.equal(0, a.code)
      _, a = call("GET", "product/spu/get", { spu_id = expected[3] })
      assert.equal("new & name", a.data.name)
      local seen, cursor = {}, nil
      for _ = 1, 10 do
        _, a = call("GET", "product/spu/list", { limit = 3, page = cursor })
        assert.equal(0, a.code)
        for _, id in ipairs(ids_of(a.data, "spu_id")) do seen[#seen + 1] = id end
        if not a.pagenation.more then break end
        cursor = a.pagenation.page
      end
      assert_unique_complete(seen, expected)
      _, a = call("GET", "product/spu/list", { offset = 5, limit = 3 })
      assert.same({ expected[6], expected[7] }, ids_of(a.data, "spu_id"))
      assert.is_false(a.pagenation.more)
    end)

    it("orders: create, lines, after-sales variants told apart by the body key", function()
      local _, a = call("POST", "order/create", { sid = "S1", products = { { sku_id = "D1", amount = 2.5,
        unit_price = 728 } } })
      assert.equal(0, a.code)
      local oid = a.data.order_id
      _, a = call("POST", "order/abnormal/create", { order_id = oid, abnormal = { { sku_id = "D1",
        exception_reason = 1, final_amount = 2, money_delta = -100 } } })
      assert.equal(0, a.code)
      _, a = call("POST", "order/refund/create", { order_id = oid, refund = { { sku_id = "D1", exception_reason = 5,
        request_amount = 1 } } })
      assert.equal(0, a.code)
      _, a = call("GET", "order/get", { order_id = oid })
      assert.same({ "D1", 2.5, "7.28", 1820 }, { a.data.details[1].id, a.data.details[1].quantity,
        a.data.details[1].sale_price, a.data.details[1].real_item_price })
      local ab, rf = a.data.abnomal[1], a.data.refund[1]           -- the document's spelling
      assert.same({ "D1", 1, "未按用户时间到达", -100 }, { ab.detail_id, ab.type_id, ab.type_text, ab.money_delta })
      _, a = call("POST", "order/after_sales/update", { order_id = oid, refund = { { id = rf.id, sku_id = "D1",
        exception_reason = 5, request_amount = 0.5 } } })
      assert.equal(0, a.code)
      _, a = call("POST", "order/after_sales/delete", { order_id = oid, abnormal = { { id = ab.id, sku_id = "D1" } } })
      assert.equal(0, a.code)
      _, a = call("GET", "order/get", { order_id = oid })
      assert.same({ 0, 0.5 }, { #a.data.abnomal, a.data.refund[1].request_amount })
      local today = os.date("!%Y-%m-%d", os.time() + 8 * 3600)
      _, a = call("GET", "order/list", { query_type = 1, start_date = today, end_date = today })
      assert.same({ oid }, ids_of(a.data, "order_id"))
    end)

    it("serves the misspelt customer/upadte path", function()
      local _, a = call("POST", "customer/create", { username = "u", password = "p", payer_name = "n",
        payer_telephone = 1380000, restaurant_name = "R", receiver_name = "r", receiver_telephone = 1390000,
        district_code = 440300, area_level1 = 1, area_level2 = 2, restaurant_address = "addr",
          salemenu_ids = { "S1" } })
      local cid = a.data.customer_id
      _, a = call("POST", "customer/upadte", { customer_id = cid, restaurant_name = "餐厅 R&2=~*+" })
      assert.equal(0, a.code)
      _, a = call("GET", "customer/list", { search_text = "厅 R&2=~*+" })   -- every byte class in the query
      assert.same({ cid }, ids_of(a.data, "customer_id"))
    end)

    it("SKUs, drivers, routes, sale menus, areas and finance keep their state", function()
      local function ok(method, path, params)
        local _, a = call(method, path, params)
        assert.equal(0, a.code, path .. ": " .. tostring(a.msg))
        return a.data, a.pagenation
      end
      local spu = ok("POST", "product/spu/create", { name = "白菜", std_unit_name = "斤", pinlei_id = "P1" }).spu_id
      local sku = ok("POST", "product/sku/create", { spu_id = spu, sku_name = "白菜|斤", salemenu_id = "S1",
        std_price = 728, sale_price = 728, sale_num_least = 1, sale_ratio = 1, sale_unit_name = "斤",
        std_unit_name = "斤", is_weigh = 1, state = 1 }).sku_id
      ok("POST", "product/sku/update", { sku_id = sku, sku_name = "白菜|斤", std_price = 700, sale_price = 700,
        sale_num_least = 1, sale_ratio = 1, sale_unit_name = "斤", std_unit_name = "斤", is_weigh = 1, state = 1 })
      assert.equal(700, ok("GET", "product/sku/get", { sku_id = sku }).sale_price)
      assert.same({ sku }, ids_of(ok("GET", "product/sku/list", { spu_id = spu }), "sku_id"))
      ok("POST", "product/sku/delete", { sku_id = sku })
      ok("POST", "product/spu/delete", { spu_id = spu })
      assert.equal(0, #ok("GET", "product/spu/list", {}))

      local driver = ok("POST", "delivery/driver/create", { name = "D", phone = "1", carrier_id = 1, car_model_id = 1,
        plate_number = "粤B" }).driver_id
      ok("POST", "delivery/driver/update", { driver_id = driver, name = "D2", phone = "1", carrier_id = 1,
        car_model_id = 1, plate_number = "粤B", state = 1 })
      assert.same({ "D2" }, ids_of(ok("GET", "delivery/driver/list", { search_text = "D2" }), "name"))
      local order = ok("POST", "order/create", { sid = "S1",
        products = { { sku_id = "D9", amount = 1, unit_price = 1 } } })
      ok("POST", "delivery/driver/assign", { order_ids = { order.order_id }, driver_id = driver })
      assert.equal(driver, ok("GET", "order/get", { order_id = order.order_id }).driver_id)
      ok("POST", "delivery/driver/cancel", { order_ids = { order.order_id } })

      local cust = ok("POST", "customer/create", { username = "u", password = "p", payer_name = "n",
        payer_telephone = 1, restaurant_name = "R", receiver_name = "r", receiver_telephone = 2, district_code = 1,
        area_level1 = 1, area_level2 = 2, restaurant_address = "a", salemenu_ids = { "S1" } }).customer_id
      ok("POST", "delivery/route/create", { route_name = "R1", customer_ids = { cust } })
      local route = ok("GET", "delivery/route/list", {})[1]
      ok("POST", "delivery/route/update", { route_id = route.route_id, route_name = "R2" })
      local on_route = ok("GET", "delivery/route/get", { route_id = route.route_id })
      assert.same({ cust, "R", "R2" }, { on_route[1].customer_id, on_route[1].customer_name, on_route[1].route_name })
      ok("POST", "delivery/route/delete", { route_id = route.route_id })

      sb:seed("guanmai", "salemenus", { { salemenu_id = "S1", name = "蔬菜报价单", is_active = 1 },
                                        { salemenu_id = "S2", name = "other", is_active = 0 } })
      assert.same({ "S1" }, ids_of(ok("GET", "product/salemenu/list", { customer_id = cust }), "salemenu_id"))
      sb:seed("guanmai", "areas", { { customer_id = cust, area = { { name = "深圳", code = "440300" } } } })
      assert.equal("440300", ok("GET", "area/list", { customer_id = cust })[1].code)

      ok("POST", "finance/strike", { customer_id = cust, arrival_time = "2026-01-02", deal_code = "x",
        arrival_id = "1", arrival_method = "bank", arrival_money = 6802, remark = "" })
      assert.equal(6802, ok("GET", "finance/strike_flow/list", { customer_id = cust, start_time = "2026-01-01" })[1]
        .arrival_money)
      ok("POST", "finance/order/refund", { order_id = order.order_id, type = 2 })
      sb:seed("guanmai", "cash_flows", { { balance = 5847110, change = -2300, change_type = "cash" } })
      assert.equal(-2300, ok("GET", "finance/cash_flow/list", {})[1].change)
      assert.equal("斤", ok("GET", "std_unit_name/list", {})["1"])
      ok("POST", "order/sku/update", { order_id = order.order_id, products = { { sku_id = "D9", amount = 3 } } })
      ok("POST", "order/sku/create", { order_id = order.order_id,
        products = { { sku_id = "D8", amount = 1, price = 5 } } })
      ok("POST", "order/sku/delete", { order_id = order.order_id, sku_ids = { "D9" } })
      ok("POST", "order/update", { order_id = order.order_id, status = 5, remark = "r" })
      local got = ok("GET", "order/get", { order_id = order.order_id })
      assert.same({ 5, "r", "D8", 5 }, { got.status, got.remark, got.details[1].id, got.total_pay })
      ok("POST", "order/delete", { order_id = order.order_id })
    end)

    it("refuses a wrong secret, a stale ts and a wrong appid with code 401", function()
      local cases = {
        { { appid = creds.guanmai.appid, secret = "wrong" }, nil, "invalid sign" },
        { creds.guanmai, os.time() - 1000, "ts out of the allowed window" },
        { { appid = "other", secret = creds.guanmai.secret }, nil, "invalid appid" },
      }
      for _, c in ipairs(cases) do
        local status, a = call("GET", "product/category1/list", {}, c[1], c[2])
        assert.equal(200, status)
        assert.same({ 401, c[3] }, { a.code, a.msg })
      end
    end)

    it("answers missing parameters with its envelope", function()
      local _, a = call("GET", "order/get", {})
      assert.same({ 400, "missing required parameter: order_id" }, { a.code, a.msg })
      _, a = call("POST", "order/after_sales/update", { order_id = "PL1" })
      assert.same({ 400, "missing required parameter: abnormal or refund" }, { a.code, a.msg })
      _, a = call("GET", "product/spu/list", { limit = 101 })
      assert.same({ 400, "limit must be an integer in [1,100]" }, { a.code, a.msg })
    end)
  end)

  describe("guanmai message sender", function()
    it("posts messages signed per doc/assumptions.md", function()
      local receiver = nginx.start { http = [[
        server { listen 127.0.0.1:$PORT; location / { content_by_lua_block {
          ngx.req.read_body()
          ngx.print(ngx.req.get_body_data() or "")
        } } }
      ]] }
      local ok, err = pcall(function()
        local status, body = sb:send_guanmai_message(receiver:url("/msg"), "order_sorting",
          { order_ids = { "PL000001", "PL000002" }, note = "a&b=c", gone = json.null }, { ts = 1588888888 })
        assert.equal(200, status)
        local msg = json.decode(body)
        assert.same({ "1.0", creds.guanmai.appid, 1588888888, "order_sorting" },
          { msg.version, msg.appid, msg.ts, msg.type })
        -- the string to sign, written out by hand from the rule
        local expect = C.hmac_sha256_hex(creds.guanmai.secret, "appid=" .. creds.guanmai.appid
          .. '&note=a%26b%3Dc&order_ids=["PL000001","PL000002"]&ts=1588888888&type=order_sorting&version=1.0')
        assert.equal(expect, msg.sign)
      end)
      receiver:stop()
      assert(ok, err)
    end)
  end)

  ---------------------------------------------------------------------------- Babycare
  describe("babycare", function()
    before_each(function() sb:reset("babycare") end)
    local order = { platformOrderNo = "3064563540143586756", orderType = 0, storeCode = "01TM1001",
      receiverName = "陈", mobile = "136", phone = "", memberName = "m", country = "中国", province = "广东省",
      city = "湛江市", district = "霞山区", address = "X", platformCreateTime = "2026-01-01 10:00:00",
      platformPayTime = "2026-01-01 10:00:01",
      detailList = { { platformNo = "3064563540143586757", skuCode = "6926523450105", qty = 1, settlementFee = 10,
                       settlementPrice = 10 } } }
    local function call(path, params, over, c) return C.babycare(urls.babycare, c or creds.babycare, path, params,
      over) end

    it("creates an order, returns it by its 19-digit number, and cancels it", function()
      local _
      local status, a = call("order/sales/createV2", order)
      assert.same({ 200, 0 }, { status, a.code })
      assert.equal("3064563540143586756", a.data.platformOrderNo)
      local code = a.data.salesOrderCode
      _, a = call("order/salesDetail/list", { platformOrderNo = "3064563540143586756" })
      local got = a.data.orderList[1]
      assert.same({ "3064563540143586756", code, "6926523450105" },
        { got.platformOrderNo, got.salesOrderCode, got.orderDetailList[1].skuCode })
      local banniu = { appId = "bn", projectId = "p", taskId = "t", userId = "u",
        platformOrderNo = "3064563540143586756" }
      local function with(extra)
        local t = json.copy(banniu)
        for k, v in pairs(extra) do t[k] = v end
        return t
      end
      _, a = call("order/exchange/create", with { isAutoFillAddress = true, salesOrderId = got.salesOrderId,
        exchangeOutDetailList = { { qty = 1, skuCode = "X" } } })
      assert.same({ 0, json.null }, { a.code, a.data })
      _, a = call("order/supply/create", with { isAutoFillAddress = true, storeCode = "01TM1001",
        supplyOrderExt = { platformPayTime = "2026-01-01 10:00:00" },
        supplyOrderDetailList = { { qty = 1, skuCode = "X" } } })
      assert.equal(0, a.code)
      _, a = call("order/return/create", with { storeCode = "01TM1001", salesOrderId = got.salesOrderId,
        platformRefundNo = "R1", backExpressNo = "E1", backExpressCode = "ZT", returnInDetailList = { {
        salesOrderDetailId = got.orderDetailList[1].id, platformNo = "3064563540143586757", skuCode = "6926523450105",
        qty = 1 } } })
      assert.same({ 0, 0, "" }, { a.code, a.data.code, a.data.errMsg })
      assert.equal(1, #sb:dump("babycare", "returns"))
      _, a = call("order/return/create", with { storeCode = "01TM1001", salesOrderId = 1, platformRefundNo = "R2",
        backExpressNo = "E1", backExpressCode = "ZT", returnInDetailList = { { salesOrderDetailId = 1, platformNo = "1",
        skuCode = "1", qty = 1 } } })
      assert.same({ 404, "salesOrderId does not match the order" }, { a.code, a.message })
      _, a = call("order/sales/cancel", { platformOrderNo = "3064563540143586756", salesOrderCode = code })
      assert.equal(0, a.code)
      _, a = call("order/salesDetail/list", { platformOrderNo = "3064563540143586756" })
      assert.equal(60, a.data.orderList[1].orderStatus)
      _, a = call("order/sales/createV2", order)
      assert.same({ 409, "platformOrderNo already exists: 3064563540143586756", false }, { a.code, a.message,
        a.success })
    end)

    it("lists seeded packages of an order, one row per SKU", function()
      sb:seed("babycare", "packages", {
        { platformOrderNo = "3064563540143586756", expressNo = "1200001", skuCode = "A", quantity = 2 },
        { platformOrderNo = "3064563540143586756", expressNo = "1200001", skuCode = "B", quantity = 1 },
        { platformOrderNo = "other", expressNo = "1200002", skuCode = "C", quantity = 1 },
      })
      local _, a = call("order/package/list", { platformOrderNo = "3064563540143586756" })
      assert.equal(0, a.code)
      assert.same({ "A", "B" }, ids_of(a.data.orderPackageList, "skuCode"))
    end)

    it("refuses a wrong secret, a replayed requestId and a stale requestTime", function()
      local status, a = call("order/salesDetail/list", { platformOrderNo = "1" }, nil,
        { appId = creds.babycare.appId, secret = "wrong" })
      assert.same({ 401, 401, "invalid sign", false }, { status, a.code, a.message, a.success })
      status, a = call("order/salesDetail/list", { platformOrderNo = "1" }, { requestId = "fixed-1" })
      assert.same({ 200, 0 }, { status, a.code })
      status, a = call("order/salesDetail/list", { platformOrderNo = "1" }, { requestId = "fixed-1" })
      assert.same({ 403, 403, "requestId already used" }, { status, a.code, a.message })
      status, a = call("order/salesDetail/list", { platformOrderNo = "1" }, { requestTime = os.time() - 1000 })
      assert.same({ 403, "requestTime out of the allowed window" }, { status, a.message })
    end)

    it("answers missing parameters with its envelope", function()
      local bad = json.copy(order)
      bad.storeCode = nil
      local _, a = call("order/sales/createV2", bad)
      assert.same({ 400, "missing required parameter: storeCode", false }, { a.code, a.message, a.success })
      _, a = call("order/return/create", { appId = "b" })
      assert.same({ 400, "missing required parameter: projectId" }, { a.code, a.message })
    end)
  end)

  ---------------------------------------------------------------------------- knobs
  describe("fault knobs", function()
    local sobot_token
    -- one cheap, successful call per vendor: returns the HTTP status (nil on a dropped connection)
    local cheap = {
      sobot = function() return C.sobot(urls.sobot, sobot_token, "stores/get", { page_no = 1, page_size = 1 }) end,
      hd = function() return C.hd(urls.hd, creds.hd, "POST", "saleorders/query", { { "page_size", "1" } }, {}) end,
      shoplus = function() return C.shoplus(urls.shoplus, creds.shoplus, "merchant", {}) end,
      guanmai = function() return C.guanmai(urls.guanmai, creds.guanmai, "GET", "product/category1/list", {}) end,
      babycare = function() return C.babycare(urls.babycare, creds.babycare, "order/package/list",
        { platformOrderNo = "1" }) end,
    }

    setup(function()
      local _, a = C.sobot_token(urls.sobot, creds.sobot)
      sobot_token = a.item.token
    end)

    for _, vendor in ipairs(sandbox.VENDORS) do
      it(vendor .. ": rate_limit, error_rate, drop_next, truncate_next and latency_ms", function()
        sb:knob(vendor, "rate_limit", 2)
        sb:knob(vendor, "retry_after", 7)
        for _ = 1, 2 do
          local status, _, _, headers = cheap[vendor]()
          assert.same({ 429, "7" }, { status, headers["retry-after"] })
        end
        assert.equal(200, (cheap[vendor]()))
        sb:knob(vendor, "error_rate", 0.5)
        local statuses = {}
        for i = 1, 4 do statuses[i] = cheap[vendor]() end
        assert.same({ 200, 500, 200, 500 }, statuses)
        sb:knob(vendor, "error_rate", nil)
        sb:knob(vendor, "drop_next", 1)
        local dropped = cheap[vendor]()
        assert.is_nil(dropped)
        assert.equal(200, (cheap[vendor]()))
        sb:knob(vendor, "truncate_next", 1)
        local truncated, err = cheap[vendor]()
        assert.same({ nil, "closed" }, { truncated, err })
        assert.equal(200, (cheap[vendor]()))
        sb:knob(vendor, "latency_ms", 20)
        assert.equal(200, (cheap[vendor]()))
        sb:knob(vendor, "latency_ms", nil)
      end)
    end

    it("rejects unknown knobs", function()
      assert.has_error(function() sb:knob("hd", "nosuch", 1) end,
        "sandbox knob hd: 400 unknown knob: nosuch")
    end)
  end)

  ---------------------------------------------------------------------------- every operation
  describe("every documented operation", function()
    -- a well-formed request per operation: each required parameter filled in
    local function params_for(op)
      local p = {}
      for _, spec in ipairs(op.required) do
        local parent, field = spec:match("^([%w_]+)%[%]%.([%w_]+)")
        local obj, member = spec:match("^([%w_]+)%.([%w_]+)$")
        if parent then
          if type(p[parent]) ~= "table" or type(p[parent][1]) ~= "table" then p[parent] = { {} } end
          p[parent][1][field] = spec:match("%[%]$") and { {} } or (spec:match("{}$") and { x = 1 } or "1")
        elseif obj then
          p[obj] = p[obj] or {}
          p[obj][member] = "1"
        else
          local name, kind = spec:match("^([%w_]+)(.-)$")
          if kind == "[]" then p[name] = p[name] or { "1" }
          elseif kind == "{}" then p[name] = p[name] or { x = "1" }
          else p[name] = "1" end
        end
      end
      if op.variant then p[op.variant] = p[op.variant] or { { id = 1, sku_id = "1" } } end
      return p
    end

    it("answers each of the 106 with the vendor's envelope, not a missing route", function()
      local _, t = C.sobot_token(urls.sobot, creds.sobot)
      local token = t.item.token
      local answered = {}
      for _, op in ipairs(ops.list) do
        local p = params_for(op)
        local status, a
        if op.vendor == "sobot" then
          status, a = C.sobot(urls.sobot, token, op.name, p)
          assert.is_string(a.retCode, op.name)
          assert.not_equal("900001", a.retCode)
        elseif op.vendor == "hd" then
          local path = op.name:gsub("{[%w_]+}", "nosuch")
          status, a = C.hd(urls.hd, creds.hd, op.method, path, { { "sale_order_id", "nosuch" } },
            op.method == "POST" and {} or nil)
          assert.is_table(a, op.name)
          if status ~= 200 then assert.same({ false, tostring(status) }, { a.success, a.code }) end
          assert.is_nil((a.message or ""):match("^no such operation"), op.name)
        elseif op.vendor == "shoplus" then
          status, a = C.shoplus(urls.shoplus, creds.shoplus, op.name, p)
          assert.is_string(a.code, op.name)
          assert.is_table(a.data, op.name)
          assert.not_equal("401", a.code)
          assert.is_nil(a.msg:match("^unknown api name"), op.name)
        elseif op.vendor == "guanmai" then
          local path = op.path:gsub("^/api/", "")
          if op.method == "GET" then for k, v in pairs(p) do if type(v) == "table" then p[k] = nil end end end
          status, a = C.guanmai(urls.guanmai, creds.guanmai, op.method, path, p)
          assert.is_number(a.code, op.name)
          assert.is_string(a.msg, op.name)
          assert.not_equal(401, a.code, op.name)
        else
          status, a = C.babycare(urls.babycare, creds.babycare, op.name, p)
          assert.is_number(a.code, op.name)
          assert.is_string(a.message, op.name)
          assert.not_equal(401, a.code, op.name)
        end
        assert.not_equal(405, status, op.name)
        answered[#answered + 1] = op.name
      end
      assert.equal(106, #answered)
    end)
  end)

  describe("logs", function()
    it("hold none of the secrets or tokens used", function()
      local logs = sb.server:log("access.log") .. sb.server:log("error.log")
      assert.is_true(#logs > 0)
      local _, t = C.sobot_token(urls.sobot, creds.sobot)
      local secrets = { creds.sobot.app_key, creds.hd.password, creds.shoplus.secret, creds.guanmai.secret,
        creds.babycare.secret, t.item.token }
      for _, secret in ipairs(secrets) do
        assert.is_nil(logs:find(secret, 1, true), "a secret appears in the sandbox logs")
      end
    end)
  end)
end)

describe("sandbox with 2 workers", function()
  it("shares state and the Sobot token across workers", function()
    local sb2 = sandbox.start { workers = 2 }
    local ok, err = pcall(function()
      local c = sb2.credentials
      local _, t = C.sobot_token(sb2.urls.sobot, c.sobot)
      local _, a = C.sobot(sb2.urls.sobot, t.item.token, "stores/add", { store_list = { { storeid = "w1",
        store_name = "W", status = 1, create_time = "1646233461000", update_time = "1646233461000",
        delete_flag = 0 } } })
      assert.equal("000000", a.retCode)
      for _ = 1, 8 do                                   -- new connections land on either worker
        _, a = C.sobot(sb2.urls.sobot, t.item.token, "stores/get", { page_no = 1, page_size = 5 })
        assert.same({ "000000", 1 }, { a.retCode, a.data.total_count })
      end
    end)
    sb2:stop()
    assert(ok, err)
  end)
end)
