-- Shoplus open API profile (seeds/002_*.txt). RPC style: every operation is a POST of one
-- JSON object {app_key, data, name, sign, timestamp, version} to a single endpoint; `data` is
-- the Java-URL-encoded compact JSON of the business parameters; sign = upper hex
-- MD5(secret .. sorted name..value .. secret) over the five other members.
local mallapi = require "mallapi"
local util = require "mallapi.util"
local paging = require "mallapi.paging"

local error, ipairs, pairs, tostring, type = error, ipairs, pairs, tostring, type
local concat = table.concat

local M = {
  name = "shoplus",
  base_url = "https://api-portal.shoplus.net/open-api",   -- the whole endpoint
  credentials = { "app_key", "secret" },
  secrets = { "secret" },
  version = "1.0",
  json_text_params = true,     -- params may be pre-encoded JSON text (the `data` member)
  -- Failure codes that mean "not authenticated" are not documented; these, HTTP 401/403, or a
  -- msg naming the sign or app_key count as AUTH (settable: cfg.auth_codes).
  auth_codes = { "401", "403", "1001", "1002", "40001" },
}

-- The document's "是否必须" (required) column lost every flag in extraction (002, every
-- table). `required` therefore lists the parameters that identify the object an operation
-- works on, and the few without which the documented operation means nothing (a product's
-- title, 商品名称 002:L22; the order a shipping address belongs to, orderNo 002:L1209; the
-- order lines a fulfillment ships, lineItems 002:L1346). The sandbox's own list
-- (sandbox/lua/sandbox/ops.lua) is the same; spec/fidelity_spec.lua compares them.
-- `limits`: the documented ranges and enums, checked before sending (client.lua).
-- paging: "pageNum" (pageNum from 1, pageSize <= max_page_size) or "page" (page from 1 with
-- limit); `records` names the list in the answer's data.
M.operations = {
  ["products.add"] = { required = { "title" }, limits = {
    { "publishStatus", enum = { 0, 1 }, doc = "002:L39" },
    { "productVariants[].inventoryPolicy", enum = { "deny", "continue" }, doc = "002:L80" } } },
  -- 全量更新: the whole product is replaced, so it needs its title as products.add does.
  ["products.updateAll"] = { required = { "id", "title" }, limits = {
    { "publishStatus", enum = { 0, 1 }, doc = "002:L220" },
    { "productVariants[].inventoryPolicy", enum = { "deny", "continue" }, doc = "002:L262" } } },
  ["products.updateSpuSelective"] = { required = { "id" } },
  ["products.updateSpuSelectiveBatch"] = { required = { "products", "products[].id" } },
  ["products"] = { required = {}, paging = "pageNum", records = "productVOs", limits = {
    { "pageNum", min = 1, doc = "002:L458" },
    { "pageSize", min = 1, max = 200, doc = "002:L459" } } },             -- 最大可设置200
  ["products.detail"] = { required = { "id" } },
  ["products.delete"] = { required = { "ids" } },
  ["products.skus.addOrUpdate"] = { required = { "productId", "updateProductVariants" } },
  -- totalCount is glossed "总页数" (total pages) here only (002:L875): paging stops on a
  -- short or empty page instead of trusting it.
  ["Order.list"] = { required = {}, paging = "page", records = "orders", limits = {
    { "orderStatus", enum = { -2, -1, 0, 1, 2, 3 }, doc = "002:L868" } } },
  ["Order.detail"] = { required = { "id" } },
  -- Order.update changes the shipping address only. firstName/lastName glosses swap between
  -- Order.detail and Order.update (002:L934 vs L1212): passed through as given.
  ["Order.update"] = { required = { "orderShippingAddress", "orderShippingAddress.orderNo" } },
  ["UTM.list"] = { required = { "orderNos" } },
  ["UTM.listV2"] = { required = { "orderNos" } },      -- text identical to UTM.list (002:L1271)
  ["Fulfillment.list"] = { required = { "orderNo" } },
  ["Fulfillment.add"] = { required = { "orderNo", "trackingNumber", "trackingCompany", "lineItems",
    "lineItems[].id" } },
  ["Fulfillment.update"] = { required = { "id", "orderNo" } },
  ["collections"] = { required = {}, paging = "pageNum", records = "collections", limits = {
    { "pageNum", min = 1, doc = "002:L1391" },
    { "pageSize", min = 1, max = 200, doc = "002:L1392" } } },
  ["collections.add"] = { required = { "title" } },
  ["collections.update"] = { required = { "id" } },
  -- pages over the collection's products, pageSize up to 1000 (002:L1519)
  ["collections.detail"] = { required = { "id" }, paging = "pageNum", records = "products",
    total = "productCount", limits = {
      { "pageNum", min = 1, doc = "002:L1516" },
      { "pageSize", min = 1, max = 1000, doc = "002:L1517" } } },
  ["collections.delete"] = { required = { "id" } },
  ["merchant"] = { required = {} },
  -- ids is a comma-separated string here, an array everywhere else (002:L1618).
  -- The document gives customer.list no maximum pageSize (002:L1625): 200, the cap of the
  -- other pageNum lists, is an ASSUMPTION (doc/assumptions.md), shared with the sandbox.
  ["customer.list"] = { required = {}, paging = "pageNum", records = "customers", limits = {
    { "pageNum", min = 1, doc = "002:L1624" },
    { "pageSize", min = 1, max = 200, doc = "ASSUMPTION, 002:L1625 gives no maximum" } } },
  ["customer.detail"] = { required = { "id" } },
  -- acceptsMarketing is an int 0/1 here, a boolean elsewhere (002:L1733).
  ["customer.update"] = { required = { "id" } },
  -- webhook.event lists plural products_* names, webhook.create singular product_*
  -- (002:L1791 vs L1801): `event` is passed through as given.
  ["webhook.event"] = { required = {} },
  ["webhook.create"] = { required = { "url", "event" } },
  ["webhook.update"] = { required = { "id" } },
  ["webhook.list"] = { required = {}, paging = "page", records = "webHookVOList" },
  ["webhook.detail"] = { required = { "id" } },
  ["webhook.delete"] = { required = { "id" } },
}
for name, op in pairs(M.operations) do
  op.method, op.path, op.version = "POST", name, op.version or M.version
end

function M.api_path() return "" end

-- Body members in the order they are written (sorted, like fastjson in the Java sample).
local BODY_ORDER = { "app_key", "data", "name", "sign", "timestamp", "version" }

-- The request before signing: the system parameters in req.system. `params` is a table
-- (encoded compact by mallapi.json) or pre-encoded JSON text (also opts.data_json), so that a
-- caller can fix the exact text and key order.
function M.build(c, opname, op, params, opts)
  local data_json = opts.data_json
  if data_json == nil then
    if type(params) == "string" then
      data_json = params
    else
      local err, code
      data_json, err, code = util.encode_body(c, opname, params)
      if not data_json then return nil, err, code end
    end
  end
  if type(data_json) ~= "string" then
    error("bad argument #3 to 'client:prepare' (option 'data_json': string expected for shoplus " .. opname .. ")", 3)
  end
  return {
    op = opname, method = "POST", base = c.cfg.base_url, path = "", query = {},
    headers = { ["Content-Type"] = "application/json; charset=utf-8" },
    system = {
      name = opname,
      version = op.version,
      app_key = util.text(c.cfg.app_key),
      data = mallapi.codec.urlencode(data_json, "java"),
      timestamp = opts.timestamp or c:format_time(),
    },
  }
end

-- The documented signature, then the JSON body.
function M.auth(req, cfg)
  local system = req.system
  local signed = mallapi.sign.canonical(system, { style = "concat",
    prefix = util.text(cfg.secret), suffix = util.text(cfg.secret) })
  system.sign = mallapi.crypto.digest("md5", signed, "HEX")
  local members = {}
  for _, name in ipairs(BODY_ORDER) do
    members[#members + 1] = mallapi.json.encode(name) .. ":" .. mallapi.json.encode(system[name])
  end
  req.body = "{" .. concat(members, ",") .. "}"
  return true
end

-- Envelope: code "0" (a string; 0 accepted) is success; data is {} when empty.
function M.envelope(answer, _, c, status)
  local code = answer.code
  if code ~= nil and tostring(code) == "0" then return util.data(answer.data) end
  local msg = answer.msg
  local kind = "VENDOR"
  if status == 401 or status == 403 then kind = "AUTH" end
  if util.is_auth_code(c, code) then kind = "AUTH" end
  if type(msg) == "string" then
    local lmsg = msg:lower()
    if lmsg:find("%f[%a]sign%f[%A]") or lmsg:find("app_key", 1, true) then kind = "AUTH" end
  end
  return nil, code, msg, kind
end

-- Paging: op.records names the list in the answer's data; op.total the record count
-- (totalCount unless set).
local function records_of(data, op)
  local list = type(data) == "table" and data[op.records]
  return type(list) == "table" and list or {}
end

local function total_of(data, op) return data[op.total or "totalCount"] end

M.paging = {
  pageNum = paging.pages { page = "pageNum", size = "pageSize", default_size = 50,
    records = records_of, total = total_of },
  page = paging.pages { page = "page", size = "limit", default_size = 50, records = records_of },
}


---------------------------------------------------------------------------------------------
-- Webhook rule (002, "签名"; the contract: doc/webhook-profile.md). SHA-256 (lower hex) over
-- the values of the non-empty top-level members except sign, sorted by name, concatenated,
-- then the api secret; the event type is the WebHook-Event header (not signed). Nested
-- objects and arrays are not canonicalised by the document: they enter as their raw JSON
-- text (cfg.nested = "skip" leaves them out). The default rule runs in C
-- (core.webhook.shoplus, src/webhook.c: one scan of the raw body, no decoded table).
local webhook_crypto = require("mallapi").crypto   -- this block's own locals: it stands alone
local webhook_core = require("mallapi.core").webhook
local select = select

-- check(body, event_type, secret, nested_skip, name...) -> true, text... (per name: a
-- string member's text, a number/boolean as written, false for an object or array, nil
-- when absent or null) | nil, reason, code. The one C pass; a repeated member name is
-- BAD_BODY before anything is verified.
local function webhook_check(body, event_type, secret, nested_skip, ...)
  local verdict, a, b, c, d, e = webhook_core.shoplus(body, secret, nested_skip, ...)
  if not verdict then
    if b == "BAD_BODY" then
      return nil, a == "webhook.shoplus: repeated member name" and "repeated member name"
        or "body is not a JSON object", "BAD_BODY"
    end
    return nil, (tostring(a):gsub("^webhook%.shoplus: ", "")), b
  end
  if verdict == "UNSIGNED" then return nil, "missing signature", "SIGNATURE" end
  if event_type == nil or event_type == "" then return nil, "missing WebHook-Event header", "BAD_BODY" end
  if verdict ~= "OK" then return nil, "signature does not match", "SIGNATURE" end
  if select("#", ...) <= 5 then return true, a, b, c, d, e end
  return true, select(2, webhook_core.shoplus(body, secret, nested_skip, ...))
end

local function present(text)
  if text == "" or text == false then return nil end
  return text
end

-- The event id from signed content only (the WebHook-Event header is not: a replay with
-- another header is the same event): the object's id and its update time when the body has
-- them, else the signature (a hash of the whole body). "" members count as absent (the rule
-- skips them, so anyone could add them).
local function event_id_of(id, update_time, updated_at, update_time2, sign)
  id = present(id)
  if id then return id .. ":" .. (present(update_time) or present(updated_at) or present(update_time2) or "") end
  return present(sign) and tostring(sign) or nil
end

M.webhook = {
  signature = "sign",
  type_header = "WebHook-Event",
  skip = function(raw) return raw == "null" or raw == '""' end,
  sign = function(members, secret, cfg)
    local member_text = require("mallapi.webhook").member_text
    local parts = {}
    for _, m in ipairs(members) do
      local first = m.raw:sub(1, 1)
      local nested = first == "{" or first == "["
      if not (nested and cfg.nested == "skip") then parts[#parts + 1] = member_text(m) end
    end
    parts[#parts + 1] = secret
    return webhook_crypto.digest("sha256", table.concat(parts), "hex")
  end,
  event_id = function(event)
    local data, text = event.data, require("mallapi.webhook").signed_text
    return event_id_of(text(data.id), text(data.updateTime), text(data.updatedAt), text(data.update_time),
                       text(data.sign))
  end,
  one_pass = webhook_check,          -- for specs and users: the C check itself
  -- the default rule in one C pass (verify then decodes the body)
  fast = function(body, event_type, secret, cfg)
    return webhook_check(body, event_type, secret, cfg.nested == "skip")
  end,
  -- the receiver's verify-only path: the event id from the member texts, nothing decoded
  fast_id = function(body, event_type, secret, cfg)
    local ok, id, update_time, updated_at, update_time2, sign =
      webhook_check(body, event_type, secret, cfg.nested == "skip", "id", "updateTime", "updatedAt", "update_time",
                    "sign")
    if not ok then return nil, id, update_time end
    return event_id_of(id, update_time, updated_at, update_time2, sign)
  end,
}

return M
