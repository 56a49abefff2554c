-- Babycare order-center emulation (004): POST {gateway}/order/..., business JSON body, gateway
-- parameters appId, requestId, requestTime (s), apiVersion and sign in the query, sign =
-- upper-hex MD5(secret .. sorted name..value .. body .. secret) per doc/assumptions.md,
-- checked by this file's own code; stale requestTime and replayed requestId refused.
-- Envelope {code:0, data, message}; errors add success:false.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local crypto = require "sandbox.crypto"
local config = require "sandbox.config"
local ops = require "sandbox.ops"

local M = {}

local V = "babycare"
local PREFIX = "/api/gateway/open/v5/"
M.entities = { orders = "platformOrderNo", packages = "id", exchanges = "id", supplies = "id", returns = "id" }
M.auto_keys = { packages = true }     -- package rows (one per SKU) share an expressNo

M.AUTH_ERROR, M.FORBIDDEN, M.PARAM_ERROR, M.NOT_FOUND, M.CONFLICT = 401, 403, 400, 404, 409

function M.error_body(status, msg)
  return { code = status, data = json.null, message = msg, success = false }
end

local function ok(data) return 200, { code = 0, data = data == nil and json.null or data, message = "" } end
local function fail(code, msg, status) return status or 200, M.error_body(code, msg) end

local function key(v) return json.text(v) end

local lookup = require("sandbox.records").for_vendor(V, M, ok)
local function find_order(no) return lookup.find("orders", no, "order") end

local h = {}

local function create_order(p, order_type)
  local no = key(p.platformOrderNo)
  if store.get(V, "orders", no) then return nil, M.CONFLICT, "platformOrderNo already exists: " .. no end
  local n = store.next(V, "sales_order")
  local order = json.copy(p)
  order.salesOrderId = 100000 + n
  order.salesOrderCode = string.format("SO%s%06d", os.date("!%Y%m%d"), n)
  order.orderType = order_type or order.orderType
  order.orderStatus, order.deliveryStatus, order.dispatchStatus, order.refundStatus = 10, 10, 10, 0
  order.orderFrom = 0
  order.created = util.datetime()
  local lines = json.array()
  for i, line in ipairs(order.detailList or {}) do
    local l = json.copy(line)
    l.id = order.salesOrderId * 100 + i
    l.salesOrderId = order.salesOrderId
    l.detailStatus, l.refundStatus, l.isGift = 20, 0, 0
    lines[i] = l
  end
  order.detailList = lines
  store.put(V, "orders", no, order)
  return order
end

h["order/sales/createV2"] = function(p)
  local t = util.num(p.orderType)
  if t ~= 0 and t ~= 3 then return fail(M.PARAM_ERROR, "orderType must be 0 or 3") end
  for i, line in ipairs(p.detailList) do
    if (util.num(line.qty) or 0) < 1 then return fail(M.PARAM_ERROR, "detailList[" .. i .. "].qty must be >= 1") end
  end
  local order, code, msg = create_order(p)
  if not order then return fail(code, msg) end
  return ok({ platformOrderNo = order.platformOrderNo, salesOrderId = order.salesOrderId,
              salesOrderCode = order.salesOrderCode })
end

h["order/sales/cancel"] = function(p)
  local o, err = find_order(p.platformOrderNo)
  if not o then return 200, err end
  if key(o.salesOrderCode) ~= key(p.salesOrderCode) then
    return fail(M.NOT_FOUND, "salesOrderCode does not match the order")
  end
  if o.orderStatus == 40 or o.orderStatus == 70 then return fail(M.CONFLICT, "order already shipped") end
  o.orderStatus, o.deliveryStatus, o.cancelReason = 60, 60, p.reason or json.null
  store.put(V, "orders", key(o.platformOrderNo), o)
  return ok({})
end

local function record(entity, p)
  local id = tostring(store.next(V, entity))
  local rec = json.copy(p)
  rec.id = id
  rec.created = util.datetime()
  store.put(V, entity, id, rec)
  return rec
end

local function check_sales_order(p)
  local o, err = find_order(p.platformOrderNo)
  if not o then return nil, err end
  if p.salesOrderId ~= nil and key(o.salesOrderId) ~= key(p.salesOrderId) then
    return nil, M.error_body(M.NOT_FOUND, "salesOrderId does not match the order")
  end
  return o
end

h["order/exchange/create"] = function(p)
  local o, err = check_sales_order(p)
  if not o then return 200, err end
  record("exchanges", p)
  o.isExchange = 1
  store.put(V, "orders", key(o.platformOrderNo), o)
  return ok()
end

h["order/supply/create"] = function(p)
  local o, err = find_order(p.platformOrderNo)
  if not o then return 200, err end
  record("supplies", p)
  return ok()
end

h["order/return/create"] = function(p)
  local o, err = check_sales_order(p)
  if not o then return 200, err end
  record("returns", p)
  o.refundStatus = 10
  store.put(V, "orders", key(o.platformOrderNo), o)
  return ok({ code = 0, errMsg = "" })
end

h["order/salesDetail/list"] = function(p)
  local o = store.get(V, "orders", key(p.platformOrderNo))
  local list = json.array()
  if o and (p.storeCode == nil or key(p.storeCode) == key(o.storeCode)) then
    local view = util.public(o)
    view.orderDetailList, view.detailList = view.detailList, nil
    view.orderExt = { platformOrderStatus = o.platformOrderStatus or json.null, platformPayTime = o.platformPayTime,
      memberName = o.memberName, buyerMemo = o.buyerMemo or json.null, sellerMemo = o.sellerMemo or json.null,
      postFee = o.postFee or 0 }
    list[1] = view
  end
  return ok({ orderList = list })
end

h["order/package/list"] = function(p)
  local list = util.filter(store.list(V, "packages"), function(r)
    return key(r.platformOrderNo) == key(p.platformOrderNo)
      and (p.storeCode == nil or key(r.storeCode) == key(p.storeCode))
      and (p.storeName == nil or r.storeName == p.storeName)
      and (p.expressNo == nil or key(r.expressNo) == key(p.expressNo))
  end)
  return ok({ orderPackageList = util.public_list(list) })
end

---------------------------------------------------------------------------- auth, dispatch
local by_path = {}
for _, o in ipairs(ops.of(V)) do by_path[o.path] = o end

local GATEWAY = { "apiVersion", "appId", "requestId", "requestTime" }

local function check_auth(req, q)
  local creds = config.get(V)
  for _, n in ipairs { "appId", "requestId", "requestTime", "sign" } do
    if not q[n] or q[n] == "" then return M.AUTH_ERROR, "missing gateway parameter: " .. n end
  end
  if q.appId ~= creds.appId then return M.AUTH_ERROR, "invalid appId" end
  local parts = { creds.secret }
  for _, n in ipairs(GATEWAY) do                        -- already in name order
    if q[n] then parts[#parts + 1] = n .. q[n] end
  end
  parts[#parts + 1] = req.body
  parts[#parts + 1] = creds.secret
  if not crypto.equal(q.sign:upper(), crypto.md5_hex(table.concat(parts)):upper()) then
    return M.AUTH_ERROR, "invalid sign"
  end
  local t = tonumber(q.requestTime)
  if not t or math.abs(t - ngx.time()) > (store.knob(V, "ts_window") or 300) then
    return M.FORBIDDEN, "requestTime out of the allowed window"
  end
  local seen = ngx.shared.sandbox:add("kv\0" .. V .. "\0request\0" .. q.requestId, true, 600)
  if not seen then return M.FORBIDDEN, "requestId already used" end
  return nil
end

function M.handle(req)
  local op = by_path[req.uri]
  if not op then return 404, M.error_body(404, "no such operation: " .. req.uri) end
  if req.method ~= "POST" then return 405, M.error_body(405, "method not allowed") end
  local _, q = util.parse_query(req.raw_query)
  local code, why = check_auth(req, q)
  if code then return fail(code, why, code) end
  local params = json.decode(req.body)
  if type(params) ~= "table" or json.is_array(params) then
    return fail(M.PARAM_ERROR, "request body must be a JSON object")
  end
  local missing = ops.missing(op, params)
  if missing then return fail(M.PARAM_ERROR, "missing required parameter: " .. missing) end
  return h[op.name](params)
end

M.PREFIX = PREFIX
return M
