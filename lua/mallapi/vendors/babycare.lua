-- Babycare order-center open platform profile (seeds/004_*.txt). Every operation is a JSON
-- POST below the gateway (test https://openapi-test.babycare.com/api/gateway/open/v5,
-- production https://gateway.babycare.com/open/v5). The document names appId, requestId,
-- requestTime (s), apiVersion and sign but not where they go nor the algorithm: the default
-- (query parameters, upper hex MD5) is an ASSUMPTION, see doc/assumptions.md.
local mallapi = require "mallapi"
local util = require "mallapi.util"

local floor, pairs, tostring, type = math.floor, pairs, tostring, type

local M = {
  name = "babycare",
  base_url = "https://openapi-test.babycare.com/api/gateway/open/v5",
  production_url = "https://gateway.babycare.com/open/v5",
  credentials = { "appId", "secret" },
  secrets = { "secret" },
  api_version = "1.0",
  -- Failure codes meaning "authentication refused": the status codes the document lists
  -- (settable: cfg.auth_codes); HTTP 401/403 count as well.
  auth_codes = { "401", "403" },
}

-- Name = the path below the gateway. `required` = the document's "是否必须 true" rows of the
-- body object ("a[].b": in every element of list a; "a.b": inside object a). The gateway
-- parameters (appId, requestId, requestTime, sign, apiVersion) are added by the client.
-- Columns are shifted in the nested rows (004:L55-59, L217-251, L695-722, L876-891): the
-- "true" in the required place was read as the flag.
M.operations = {
  -- phone is required (004:L69) but the example sends "" (004:L23): the required check
  -- accepts an empty string as present (only nil and JSON null are missing).
  ["order/sales/createV2"] = { required = { "platformOrderNo", "storeCode", "orderType",
    "memberName", "platformCreateTime", "platformPayTime", "receiverName", "mobile", "phone",
    "country", "province", "city", "district", "address", "detailList",
    "detailList[].platformNo", "detailList[].qty", "detailList[].skuCode",
    "detailList[].settlementFee", "detailList[].settlementPrice" }, limits = {
      { "orderType", enum = { 0, 3 }, doc = "004:L63" },            -- 0:销售订单、3:补发订单
      { "detailList[].qty", min = 1, doc = "004:L82" },             -- 数量不能小于1
    } },
  ["order/sales/cancel"] = { required = { "platformOrderNo", "salesOrderCode" } },
  -- BanNiu operations carry their own appId/projectId/taskId/userId in the body. The example
  -- sends returnInDetailList[].id as a string while it is typed integer (004:L204 vs L247),
  -- and puts a province in district and a phone number in province (004:L174-200): values
  -- are sent as the caller gives them.
  ["order/exchange/create"] = { required = { "appId", "projectId", "taskId", "userId",
    "isAutoFillAddress", "platformOrderNo", "salesOrderId",
    "exchangeOutDetailList[].qty", "exchangeOutDetailList[].skuCode",
    "returnInDetailList[].id", "returnInDetailList[].platformNo",
    "returnInDetailList[].qty" } },
  ["order/salesDetail/list"] = { required = { "platformOrderNo" } },
  -- The reissue example sends null address fields, consistent with isAutoFillAddress true.
  -- supplyOrderDetailList itself is marked false (004:L709), like its sibling lists: only
  -- its elements' qty and skuCode are required (L711, L714).
  ["order/supply/create"] = { required = { "appId", "projectId", "taskId", "userId",
    "isAutoFillAddress", "platformOrderNo", "storeCode", "supplyOrderExt",
    "supplyOrderExt.platformPayTime",
    "supplyOrderDetailList[].qty", "supplyOrderDetailList[].skuCode" } },
  ["order/package/list"] = { required = { "platformOrderNo" } },
  -- The body parameter is named banNiuReturn2RefundAndNoticeCreateAO (004:L875) instead of
  -- ao: only a name in the doc generator, the body is the same JSON object. The answer
  -- nests a second result, data {code, errMsg}, checked as well.
  ["order/return/create"] = { required = { "appId", "projectId", "taskId", "userId",
    "storeCode", "platformOrderNo", "salesOrderId", "platformRefundNo", "backExpressNo",
    "backExpressCode", "returnInDetailList", "returnInDetailList[].salesOrderDetailId",
    "returnInDetailList[].platformNo", "returnInDetailList[].skuCode",
    "returnInDetailList[].qty" }, nested_result = true },
}
for name, op in pairs(M.operations) do op.method, op.path = "POST", name end

function M.api_path(_, path) return "/" .. path end

-- ASSUMPTION (doc/assumptions.md): query parameters apiVersion, appId, requestId (a fresh
-- UUID v4, or cfg.nonce()), requestTime (unix seconds) and
-- sign = upper hex MD5(secret .. "apiVersion"..v .. "appId"..v .. "requestId"..v ..
-- "requestTime"..v .. BODY .. secret).
function M.auth(req, cfg, c)
  local gateway = {
    apiVersion = util.text(cfg.api_version or M.api_version),
    appId = util.text(cfg.appId),
    requestId = cfg.nonce and cfg.nonce() or mallapi.crypto.uuid4(),
    requestTime = util.text(floor(c:now_ms() / 1000)),
  }
  local signed = mallapi.sign.canonical(gateway, { style = "concat",
    prefix = util.text(cfg.secret), suffix = (req.body or "") .. util.text(cfg.secret) })
  req.query = {
    { "apiVersion", gateway.apiVersion }, { "appId", gateway.appId },
    { "requestId", gateway.requestId }, { "requestTime", gateway.requestTime },
    { "sign", mallapi.crypto.digest("md5", signed, "HEX") },
  }
  return true
end

-- Envelope: code 0 (integer; "0" accepted) is success; return/create also needs data.code 0.
-- 401/403 (the status codes the document lists) are authentication failures.
function M.envelope(answer, op, c, status)
  local code = answer.code
  local kind = (util.is_auth_code(c, code) or status == 401 or status == 403) and "AUTH" or "VENDOR"
  if code == nil or tostring(code) ~= "0" or answer.success == false then
    return nil, code, answer.message or answer.msg, kind
  end
  local data = answer.data
  if op.nested_result and type(data) == "table" and data.code ~= nil
    and tostring(data.code) ~= "0" then
    return nil, data.code, data.errMsg, "VENDOR"
  end
  return util.data(data)
end

return M
