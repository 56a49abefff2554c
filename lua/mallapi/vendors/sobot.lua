-- Sobot "Mall Center" profile (seeds/000_*.txt). Every call is a JSON POST below
-- {base}/zk-data-adapter/api/data/v1/, with the access token in the `token` header and
-- `timestamp` (ms) plus `nonce` in the body. Tokens come from GET {base}/api/get_token.
local mallapi = require "mallapi"
local util = require "mallapi.util"
local paging = require "mallapi.paging"

local floor, tonumber, tostring, type = math.floor, tonumber, tostring, type
local pairs, pcall = pairs, pcall

local M = {
  name = "sobot",
  base_url = "https://sg.sobot.io",           -- scheme and host; the prefixes are appended
  api_prefix = "/zk-data-adapter/api/data/v1/",
  token_path = "/api/get_token",
  credentials = { "appid", "app_key" },
  secrets = { "app_key" },
  -- The document (000:L9) only says to re-acquire the token on "the token invalidation
  -- prompt"; its retCode is SILENT. These codes, HTTP 401, or a retMsg that mentions the
  -- token count as that prompt (settable: cfg.auth_codes; cfg.token_invalid_codes is its
  -- deprecated older name). ASSUMPTION.
  auth_codes = { "900001", "401" },
}

-- Operations: the path below the API root is the name. `required` follows the documents'
-- "Required: Yes" column ("a[].b": in every element of list a; "a.b": inside object a);
-- timestamp and nonce are added by the client.
local P = "page_no"
M.operations = {
  ["stores/add"] = { method = "POST", required = {
    "store_list", "store_list[].storeid", "store_list[].store_name", "store_list[].status",
    "store_list[].create_time", "store_list[].update_time", "store_list[].delete_flag" } },
  ["stores/get"] = { method = "POST", required = { "page_no", "page_size" }, paging = P },
  -- 000:L287 labels this object "Refund order item_category object": it is the category.
  ["item_category/add"] = { method = "POST", required = {
    "item_category", "item_category.category_id", "item_category.category_hierarchy",
    "item_category.has_child_node", "item_category.parent_node_id",
    "item_category.category_name" } },
  -- 000:L356 types data as an object, the example (L385) returns an array: data is passed
  -- through as the vendor sends it.
  ["item_categories/get"] = { method = "POST", required = { "category_id" } },
  ["items/add"] = { method = "POST", required = {
    "item_list", "item_list[].storeid", "item_list[].itemid", "item_list[].name",
    "item_list[].retail_price", "item_list[].create_time", "item_list[].update_time",
    "item_list[].delete_flag", "item_list[].status" } },
  ["items/get"] = { method = "POST", required = { "page_no", "page_size" }, paging = P },
  -- orders/add answers retCode "000000" with the orders that failed in data[] (000:L807),
  -- each with a numeric retCode: call returns that list, the caller inspects it.
  ["orders/add"] = { method = "POST", required = {
    "order_list", "order_list[].storeid", "order_list[].orderid", "order_list[].order_no",
    "order_list[].create_time", "order_list[].update_time", "order_list[].status",
    "order_list[].actual_amount", "order_list[].buyerid", "order_list[].buyerid_type",
    "order_list[].item_list", "order_list[].receiver",
    "order_list[].item_list[].itemid", "order_list[].item_list[].name",
    "order_list[].item_list[].actual_price", "order_list[].item_list[].quantity",
    "order_list[].item_list[].total_price",
    "order_list[].receiver.name", "order_list[].receiver.phone_number",
    "order_list[].receiver.country", "order_list[].receiver.province",
    "order_list[].receiver.city", "order_list[].receiver.district",
    "order_list[].receiver.detail_address" } },
  -- 000:L895 sends a 10-digit (seconds) timestamp in the example: the client always sends ms.
  ["orders/get"] = { method = "POST", required = { "page_no", "page_size" }, paging = P },
  ["logistics/add"] = { method = "POST", required = {
    "logistics_list", "logistics_list[].order_no", "logistics_list[].fee",
    "logistics_list[].status", "logistics_list[].company_name",
    "logistics_list[].tracking_number", "logistics_list[].create_time",
    "logistics_list[].update_time" } },
  -- 000:L1159-1163: the example repeats item_list where receiver is meant; send receiver.
  ["refunds/add"] = { method = "POST", required = {
    "refund_list", "refund_list[].order_no", "refund_list[].refund_no", "refund_list[].fee",
    "refund_list[].status", "refund_list[].create_time", "refund_list[].update_time",
    "refund_list[].item_list[].itemid", "refund_list[].item_list[].quantity",
    "refund_list[].item_list[].fee", "refund_list[].receiver.phone_number",
    "refund_list[].receiver.detail_address", "refund_list[].receiver.name" } },
  ["refunds/get"] = { method = "POST", required = { "page_no", "page_size" }, paging = P },
}
for name, op in pairs(M.operations) do op.path = name end

-- Documented limits and enums (checked before sending, client.lua): "No more than N bytes /
-- chars" notes and the code lists of the push tables. The same notes on page_no/page_size
-- (000:L141-142) are a copy-paste and are not applied.
local function flag(path, line) return { path, enum = { 0, 1 }, doc = "000:L" .. line } end
local STORE = "store_list[]."
M.operations["stores/add"].limits = {
  { STORE .. "storeid", max_bytes = 128, doc = "000:L28" },
  { STORE .. "store_name", max_len = 30, doc = "000:L29" },
  { STORE .. "store_type", enum = { 0, 1, 2 }, doc = "000:L30, L159" },
  { STORE .. "detail_address", max_len = 256, doc = "000:L35" },
  { STORE .. "status", enum = { 1, 2 }, doc = "000:L40" },
  flag(STORE .. "delete_flag", 44),
  { STORE .. "employee_list[].employees_type", enum = { 0, 1, 2 }, required_with = "employeeid",
    doc = "000:L49" },
}
M.operations["item_category/add"].limits = { flag("item_category.has_child_node", 292) }
M.operations["items/add"].limits = {
  { "item_list[].storeid", max_bytes = 128, doc = "000:L435" },
  flag("item_list[].delete_flag", 445),
  { "item_list[].status", enum = { 0, 1, 2, 3 }, doc = "000:L449" },
}
M.operations["orders/add"].limits = {
  { "order_list[].storeid", max_bytes = 128, doc = "000:L665" },
  { "order_list[].status", enum = { 0, 1, 2, 3, 4, 5, 6 }, doc = "000:L671" },
  { "order_list[].buyerid_type", enum = { 1, 2, 4, 5 }, doc = "000:L676" },
  { "order_list[].dispatch_type", enum = { 0, 1, 2, 3, 4 }, doc = "000:L677" },
}
M.operations["logistics/add"].limits = {
  { "logistics_list[].status", enum = { 0, 1, 2, 3, 4, 5, 6 }, doc = "000:L1036" },
}
M.operations["refunds/add"].limits = {
  { "refund_list[].status", enum = { 0, 1, 2, 3 }, doc = "000:L1111" },
  { "refund_list[].return_goods", enum = { 1, 2 }, doc = "000:L1116" },
}

function M.api_path(_, path) return M.api_prefix .. path end

---------------------------------------------------------------------------------------------
-- Authentication recipe.

-- The token API request: create_time in unix seconds, sign = lower hex md5(appid..time..key).
function M.token_request(c)
  local cfg = c.cfg
  local create_time = tostring(floor(c:now_ms() / 1000))
  local sign = mallapi.crypto.digest("md5", cfg.appid .. create_time .. cfg.app_key, "hex")
  local query = { { "appid", cfg.appid }, { "create_time", create_time }, { "sign", sign } }
  return { method = "GET", url = cfg.base_url .. M.token_path .. "?" .. util.query_string(query),
           headers = {}, vendor = "sobot", op = "get_token" }
end

-- Fetch a token: token, lifetime in seconds | nil, err, code. The answer names the lifetime
-- `expires_in` (token API) or `expire_in` (000:L8); both are accepted.
function M.fetch_token(c)
  local transport, terr, tcode = c:transport()
  if not transport then return nil, "sobot get_token: " .. tostring(terr), tcode end
  local resp, err, code = transport:request(M.token_request(c))
  if not resp then return nil, "sobot get_token: " .. tostring(err), code end
  -- an overloaded or failing token API is a transient fault (retryable), not refused credentials
  if resp.status == 429 or (resp.status or 0) >= 500 then
    return nil, "sobot get_token: HTTP " .. tostring(resp.status), "HTTP"
  end
  local ok, answer = pcall(mallapi.json.decode, resp.body or "")
  if not ok or type(answer) ~= "table" then
    return nil, "sobot get_token: answer is not JSON (HTTP " .. tostring(resp.status) .. ")", "HTTP"
  end
  local item = type(answer.item) == "table" and answer.item or {}
  if tostring(answer.ret_code) ~= "000000" or type(item.token) ~= "string" then
    return nil, "sobot get_token: ret_code " .. tostring(answer.ret_code) .. " "
      .. tostring(answer.ret_msg or ""), "AUTH"
  end
  return item.token, tonumber(item.expires_in or item.expire_in) or 86400
end

-- cfg.token_invalid_codes: the older name of cfg.auth_codes, still read.
function M.init(c)
  if c.cfg.auth_codes == nil then c.cfg.auth_codes = c.cfg.token_invalid_codes end
end

-- Body: the business parameters plus timestamp (ms, string) and a fresh nonce.
function M.build(c, opname, op, params)
  local req = c:base_request(opname, op, params)
  req.body_table.timestamp = util.text(c:now_ms())
  req.body_table.nonce = c:nonce()
  local err, code
  req.body, err, code = util.encode_body(c, opname, req.body_table)
  if not req.body then return nil, err, code end
  req.headers["Content-Type"] = "application/json; charset=utf-8"
  return req
end

-- Header: the shared token.
function M.auth(req, _, c)
  local token, err, code = c:token_manager():get()
  if not token then return nil, tostring(err), code or "AUTH" end
  req.headers["token"] = token
  return true
end

-- The token-invalid prompt: drop that token (not a newer one) and let the client retry once.
-- A refused token request (nothing was sent with a token) is not retried.
function M.on_auth_failure(c, detail)
  local used = detail.request and detail.request.headers and detail.request.headers.token
  if not used then return false end
  c:token_manager():invalidate(used)
  return true
end

---------------------------------------------------------------------------------------------
-- Envelope: retCode "000000" (a string) is success; data may be absent on pushes.

local function is_token_invalid(c, code, msg, status)
  if status == 401 or util.is_auth_code(c, code) then return true end
  return type(msg) == "string" and msg:lower():find("%f[%a]token%f[%A]") ~= nil
end

function M.envelope(answer, _, c, status)
  local code = answer.retCode
  if code == nil then code = answer.ret_code end
  if code ~= nil and tostring(code) == "000000" then return util.data(answer.data) end
  local msg = answer.retMsg or answer.ret_msg
  local kind = is_token_invalid(c, code, msg, status) and "AUTH" or "VENDOR"
  return nil, code, msg, kind
end

---------------------------------------------------------------------------------------------
-- Paging: page_no from 1 and page_size in; page_count out (it alone ends the walk when
-- given, else a short page does); records in data.data[].

M.paging = {
  page_no = paging.pages { page = "page_no", size = "page_size", default_size = 50,
    records = "data", page_count = "page_count", count_decides = true },
}


---------------------------------------------------------------------------------------------
-- Bulk answers (orders/add, items/add, ... with a *_list): retCode "000000" and the refused
-- items in data[] (000:L807), each with its own retCode/retMsg and the id member it shares
-- with the document sent (orderid, itemid, order_no...). Called by mallapi.sync's client
-- sink with the call's data and the list sent: { {index=, code=, msg=}, ... } or nil.
local function unique_index(sent, key)
  local index = {}
  for i, doc in ipairs(sent) do
    local v = type(doc) == "table" and doc[key]
    if v ~= nil then
      v = tostring(v)
      if index[v] then index[v] = false else index[v] = i end
    end
  end
  return index
end

function M.bulk_refused(answer, sent)
  if type(answer) ~= "table" or type(sent) ~= "table" then return nil end
  local list, indexes = {}, {}
  for _, item in ipairs(answer) do
    if type(item) == "table" and item.retCode ~= nil then
      local keys = {}
      for key in pairs(item) do
        if type(key) == "string" and key ~= "retCode" and key ~= "retMsg" then keys[#keys + 1] = key end
      end
      table.sort(keys)
      for _, key in ipairs(keys) do
        indexes[key] = indexes[key] or unique_index(sent, key)
        local i = indexes[key][tostring(item[key])]
        if i then
          list[#list + 1] = { index = i, code = tostring(item.retCode), msg = item.retMsg }
          break
        end
      end
    end
  end
  return list
end

return M
