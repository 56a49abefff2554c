-- Vendor profiles: every operation of the five documents is present with its method and
-- path (read from the documents themselves), and `prepare` shows each vendor's documented
-- (or assumed, doc/assumptions.md) authentication on every operation. Signatures are
-- recomputed here with luaossl and compared; Shoplus also against ../shared/vectors.
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"
local examples = require "support.examples"

-- Operations as the documents list them: a list of "METHOD path" rows (duplicates kept).
local function documented(vendor)
  local rows = {}
  if vendor == "sobot" then
    for path in F.seed("000"):gmatch("https://sg%.sobot%.io/zk%-data%-adapter/api/data/v1/(%S+)") do
      rows[#rows + 1] = "POST " .. path
    end
  elseif vendor == "hd" then
    for method, path in F.seed("001"):gmatch("\n(%u+) /{tenant_id}/soms/saleorderservice/(%S+)") do
      rows[#rows + 1] = method .. " " .. path
    end
  elseif vendor == "shoplus" then
    for name in F.seed("002"):gmatch("接口名%(name%):(%S+)") do rows[#rows + 1] = "POST " .. name end
  elseif vendor == "guanmai" then
    for path, method in F.seed("003"):gmatch("接口: /api/(%S+)[^\n]*\nMethod: (%u+)") do
      rows[#rows + 1] = method .. " " .. path
    end
  elseif vendor == "babycare" then
    for path in F.seed("004"):gmatch("接口地址:/(%S+)") do rows[#rows + 1] = "POST " .. path end
  end
  table.sort(rows)
  return rows
end

local COUNTS = { sobot = 11, hd = 6, shoplus = 31, guanmai = 51, babycare = 7 }

describe("vendor profiles", function()
  for vendor, count in pairs(COUNTS) do
    it(vendor .. " lists every documented operation (" .. count .. ")", function()
      local c = mallapi.client(vendor, F.cfg(vendor))
      local rows = {}
      for _, op in ipairs(c:operations()) do rows[#rows + 1] = op.method .. " " .. op.path end
      table.sort(rows)
      local doc = documented(vendor)
      assert.equal(count, #doc)
      assert.same(doc, rows)
    end)

    it(vendor .. " has one example per operation and no stray example", function()
      local c = mallapi.client(vendor, F.cfg(vendor))
      local names = {}
      for _, op in ipairs(c:operations()) do
        names[op.name] = true
        assert.is_table(examples[vendor][op.name], op.name)
      end
      for name in pairs(examples[vendor]) do assert.is_true(names[name], name) end
    end)
  end

  it("are all listed in doc/vendors.md with method and required parameters", function()
    local doc = F.read("doc/vendors.md")
    local rows = 0
    for vendor in pairs(COUNTS) do
      local c = mallapi.client(vendor, F.cfg(vendor))
      for _, op in ipairs(c:operations()) do
        local req = {}
        for i, r in ipairs(op.required) do req[i] = "`" .. r .. "`" end
        local row = "| " .. vendor .. " | `" .. op.name .. "` | " .. op.method .. " | "
        local at = doc:find(row, 1, true)
        assert.is_number(at, row)
        local line = doc:sub(at, doc:find("\n", at, true) - 1)
        assert.equal(#req > 0 and table.concat(req, ", ") or "–", line:match("| ([^|]+) |$"))
        rows = rows + 1
      end
    end
    assert.equal(106, rows)
  end)

  it("names the shared Guanmai paths after their body key", function()
    local c = mallapi.client("guanmai", F.cfg("guanmai"))
    local names = {}
    for _, op in ipairs(c:operations()) do
      if op.path:match("^order/after_sales/[ud]") then names[#names + 1] = op.name end
    end
    assert.same({ "order/after_sales/delete#abnormal", "order/after_sales/delete#refund",
                  "order/after_sales/update#abnormal", "order/after_sales/update#refund" }, names)
  end)

  -- Required parameters taken from the documents' required columns (spot checks per vendor).
  local REQUIRED = {
    { "sobot", "stores/get", { "page_no", "page_size" } },
    { "sobot", "item_categories/get", { "category_id" } },
    { "hd", "saleorder/{id}/action/deliver", { "id" } },
    { "shoplus", "products.detail", { "id" } },
    { "guanmai", "order/list", { "query_type", "start_date", "end_date" } },
    { "guanmai", "delivery/driver/assign", { "order_ids", "driver_id" } },
    { "babycare", "order/sales/cancel", { "platformOrderNo", "salesOrderCode" } },
    { "babycare", "order/package/list", { "platformOrderNo" } },
  }
  for _, case in ipairs(REQUIRED) do
    it(case[1] .. " " .. case[2] .. " requires " .. table.concat(case[3], ", "), function()
      local c = mallapi.client(case[1], F.cfg(case[1]))
      for _, op in ipairs(c:operations()) do
        if op.name == case[2] then
          local top = {}
          for _, r in ipairs(op.required) do if not r:find("[%.%[]") then top[#top + 1] = r end end
          assert.same(case[3], top)
        end
      end
    end)
  end
end)

-- Run prepare on every example of a vendor with a token-serving fake transport.
local function prepared(vendor, extra)
  local transport = F.transport { F.TOKEN_ANSWER }
  local cfg = F.cfg(vendor, extra)
  cfg.transport = transport
  local c = mallapi.client(vendor, cfg)
  local out = {}
  for _, op in ipairs(c:operations()) do
    out[#out + 1] = { op = op, req = assert(c:prepare(op.name, examples[vendor][op.name])) }
  end
  return out, transport, cfg
end

describe("prepare: Sobot token recipe", function()
  it("signs the token request as the vectors say", function()
    for _, id in ipairs { "sobot.token_sign.1", "sobot.token_sign.2" } do
      local v = F.vector(id)
      local c = mallapi.client("sobot", { appid = v.input.appid, app_key = v.input.app_key,
        clock = function() return tonumber(v.input.create_time) * 1000 end })
      local req = require("mallapi.vendors.sobot").token_request(c)
      local u = F.split_url(req.url)
      assert.equal("GET", req.method)
      assert.equal("https://sg.sobot.io", u.base)
      assert.equal("/api/get_token", u.path)
      assert.same({ appid = v.input.appid, create_time = v.input.create_time,
                    sign = v.expect.sign }, u.map)
    end
  end)

  it("sends the token header, timestamp (ms) and nonce on every operation", function()
    local list, transport = prepared("sobot")
    assert.equal(11, #list)
    assert.equal(1, #transport.requests)      -- one token fetch for all operations
    for _, item in ipairs(list) do
      local req = item.req
      assert.equal("POST", req.method)
      assert.equal("https://sg.sobot.io/zk-data-adapter/api/data/v1/" .. item.op.name, req.url)
      assert.equal("tok-1-abcdefabcdefabcdefabcdefabcdef", req.headers.token)
      assert.matches("^application/json", req.headers["Content-Type"])
      local body = F.json_decode(req.body)
      assert.equal(tostring(F.NOW_MS), body.timestamp)
      assert.equal(F.NONCE, body.nonce)
      for k in pairs(examples.sobot[item.op.name]) do assert.is_not_nil(body[k], k) end
    end
  end)

  it("appends the prefix and token path to a sandbox base URL", function()
    local transport = F.transport { F.TOKEN_ANSWER }
    local c = mallapi.client("sobot", F.cfg("sobot", { base_url = "http://127.0.0.1:8080/",
                                                        transport = transport }))
    local req = c:prepare("stores/get", { page_no = 1, page_size = 5 })
    assert.equal("http://127.0.0.1:8080/zk-data-adapter/api/data/v1/stores/get", req.url)
    assert.matches("^http://127%.0%.0%.1:8080/api/get_token%?", transport.requests[1].url)
  end)
end)

describe("prepare: Hd (assumed Basic + operator)", function()
  it("uses HTTP Basic, the tenant path and the operator query on every operation", function()
    local c = mallapi.client("hd", F.cfg("hd", { user = "Aladdin", password = "open sesame" }))
    for _, op in ipairs(c:operations()) do
      local req = c:prepare(op.name, examples.hd[op.name])
      -- RFC 7617's example credentials and their encoding
      assert.equal("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", req.headers.Authorization)
      local u = F.split_url(req.url)
      assert.equal("http://127.0.0.1:9", u.base)
      assert.matches("^/hd/t100/soms/saleorderservice/", u.path)
      assert.equal("zhangsan", u.map.operator)
      assert.equal(op.method, req.method)
    end
  end)

  it("fills path parameters and repeats array query parameters", function()
    local c = mallapi.client("hd", F.cfg("hd"))
    local req = c:prepare("saleorder/{id}/action/deliver", { id = "SO 1/2", waybillId = "W1" })
    assert.equal("/hd/t100/soms/saleorderservice/saleorder/SO%201%2F2/action/deliver",
      F.split_url(req.url).path)
    assert.same({ waybillId = "W1" }, F.json_decode(req.body))
    req = c:prepare("saleorders", { sale_order_id = { "a1", "b2" }, parts = "items" })
    assert.equal("parts=items&sale_order_id=a1&sale_order_id=b2&operator=zhangsan",
      F.split_url(req.url).raw_query)
    assert.is_nil(req.body)
    req = c:prepare("saleorders/query", { page = 0, page_size = 20, states = { "confirmed" } })
    local u = F.split_url(req.url)
    assert.equal("0", u.map.page)
    assert.equal("20", u.map.page_size)
    assert.same({ states = { "confirmed" } }, F.json_decode(req.body))
  end)
end)

describe("prepare: Shoplus request signature", function()
  for _, id in ipairs { "shoplus.request_sign.products.detail", "shoplus.request_sign.products.add" } do
    it("matches vector " .. id, function()
      local v = F.vector(id).input
      local expect = F.vector(id).expect
      local c = mallapi.client("shoplus", { app_key = v.app_key, secret = v.secret })
      -- pre-encoded JSON text, as opts.data_json and as the params string
      for _, form in ipairs { "opts", "string" } do
        local req
        if form == "opts" then
          req = c:prepare(v.name, {}, { data_json = v.data_json, timestamp = v.timestamp })
        else
          req = c:prepare(v.name, v.data_json, { timestamp = v.timestamp })
        end
        assert.equal("POST", req.method)
        assert.equal("https://api-portal.shoplus.net/open-api", req.url)
        local body = F.json_decode(req.body)
        assert.same({ name = v.name, version = v.version, app_key = v.app_key,
                      data = expect.data, timestamp = v.timestamp, sign = expect.sign }, body)
      end
    end)
  end

  it("signs every operation: sorted name..value wrapped in the secret, upper MD5", function()
    local list, _, cfg = prepared("shoplus")
    assert.equal(31, #list)
    for _, item in ipairs(list) do
      local body = F.json_decode(item.req.body)
      assert.equal(item.op.name, body.name)
      assert.equal("1.0", body.version)
      assert.equal(cfg.app_key, body.app_key)
      assert.equal("2025-11-22 18:00:00", body.timestamp)      -- NOW_MS at +08:00
      local s = cfg.secret .. "app_key" .. body.app_key .. "data" .. body.data .. "name"
        .. body.name .. "timestamp" .. body.timestamp .. "version" .. body.version .. cfg.secret
      assert.equal(F.md5_HEX(s), body.sign)
      assert.same(F.json_decode(F.json_encode(examples.shoplus[item.op.name])),
        F.json_decode(F.java_urldecode(body.data)))
    end
  end)

  it("formats the timestamp at the configured UTC offset", function()
    local c = mallapi.client("shoplus", F.cfg("shoplus", { utc_offset = "-05:30",
      clock = function() return 0 end }))
    local body = F.json_decode(c:prepare("merchant", {}).body)
    assert.equal("1969-12-31 18:30:00", body.timestamp)
    assert.equal("%7B%7D", body.data)
  end)
end)

local function guanmai_expected_sign(req, secret)
  local u = F.split_url(req.url)
  local list = {}
  for _, p in ipairs(u.query) do if p[1] ~= "sign" then list[#list + 1] = p end end
  table.sort(list, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
  local parts = {}
  for i, p in ipairs(list) do parts[i] = F.pct(p[1]) .. "=" .. F.pct(p[2]) end
  local s = req.method .. "\n" .. u.path .. "\n" .. table.concat(parts, "&") .. "\n"
    .. (req.method == "GET" and "" or req.body)
  return F.hmac_sha256_hex(secret, s), u
end

describe("prepare: Guanmai (assumed HMAC-SHA256 query sign)", function()
  it("adds appid, ts and the sign to every operation", function()
    local list, _, cfg = prepared("guanmai")
    assert.equal(51, #list)
    for _, item in ipairs(list) do
      local req = item.req
      local sign, u = guanmai_expected_sign(req, cfg.secret)
      assert.equal("/gm/api/" .. item.op.path, u.path)
      assert.equal(cfg.appid, u.map.appid)
      assert.equal(tostring(math.floor(F.NOW_MS / 1000)), u.map.ts)
      assert.equal(sign, u.map.sign)
      assert.equal("sign", u.query[#u.query][1])
      if req.method == "GET" then
        assert.is_nil(req.body)
        for k in pairs(examples.guanmai[item.op.name]) do assert.is_not_nil(u.map[k], k) end
      else
        assert.same(F.json_decode(F.json_encode(examples.guanmai[item.op.name])),
          F.json_decode(req.body))
      end
    end
  end)

  it("encodes query names and values per RFC 3986 before signing", function()
    local c = mallapi.client("guanmai", F.cfg("guanmai"))
    local req = c:prepare("customer/list", { search_text = "沙县 a+b~" })
    local u = F.split_url(req.url)
    assert.matches("search_text=%%E6%%B2%%99%%E5%%8E%%BF%%20a%%2Bb~", u.raw_query)
    assert.equal(guanmai_expected_sign(req, "guanmai-SECRET-1"), u.map.sign)
  end)

  it("routes the bare shared path by its body key and accepts customer/update", function()
    local c = mallapi.client("guanmai", F.cfg("guanmai"))
    local req = c:prepare("order/after_sales/update",
      examples.guanmai["order/after_sales/update#refund"])
    assert.equal("order/after_sales/update#refund", req.op)
    assert.equal("/gm/api/order/after_sales/update", F.split_url(req.url).path)
    req = c:prepare("customer/update", { customer_id = "178199" })
    assert.equal("/gm/api/customer/upadte", F.split_url(req.url).path)
  end)
end)

describe("prepare: Babycare (assumed MD5 gateway sign)", function()
  it("adds the gateway parameters and sign to every operation", function()
    local list, _, cfg = prepared("babycare")
    assert.equal(7, #list)
    for _, item in ipairs(list) do
      local req = item.req
      local u = F.split_url(req.url)
      assert.equal("https://openapi-test.babycare.com", u.base)
      assert.equal("/api/gateway/open/v5/" .. item.op.name, u.path)
      assert.same({ "apiVersion", "appId", "requestId", "requestTime", "sign" },
        { u.query[1][1], u.query[2][1], u.query[3][1], u.query[4][1], u.query[5][1] })
      assert.equal("1.0", u.map.apiVersion)
      assert.equal(cfg.appId, u.map.appId)
      assert.equal(F.NONCE, u.map.requestId)
      assert.equal(tostring(math.floor(F.NOW_MS / 1000)), u.map.requestTime)
      local s = cfg.secret .. "apiVersion1.0appId" .. cfg.appId .. "requestId" .. F.NONCE
        .. "requestTime" .. u.map.requestTime .. req.body .. cfg.secret
      assert.equal(F.md5_HEX(s), u.map.sign)
      assert.same(F.json_decode(F.json_encode(examples.babycare[item.op.name])),
        F.json_decode(req.body))
    end
  end)

  it("uses a fresh UUID v4 requestId when no nonce function is set", function()
    local c = mallapi.client("babycare", { appId = "a", secret = "s" })
    local a = F.split_url(c:prepare("order/package/list", { platformOrderNo = "1" }).url)
    local b = F.split_url(c:prepare("order/package/list", { platformOrderNo = "1" }).url)
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$", a.map.requestId)
    assert.not_equal(a.map.requestId, b.map.requestId)
  end)
end)
