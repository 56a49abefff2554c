-- Sobot Mall Center emulation (000 and the token API of seeds/README.md): token issue with
-- md5(appid .. create_time .. app_key), one live token that every fetch replaces, `token`
-- header check, timestamp (ms) and nonce in every body, retCode envelope, pushes stored in the
-- query shape (push ids renamed: storeid -> store_id ...), page_no/page_size paging.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local crypto = require "sandbox.crypto"
local config = require "sandbox.config"
local ops = require "sandbox.ops"

local M = {}

local V = "sobot"
local PREFIX = "/zk-data-adapter/api/data/v1/"

-- Codes the sandbox uses where the documents are silent (doc/sandbox.md lists them).
M.TOKEN_INVALID = "900001"
M.TOKEN_SIGN_ERROR = "900002"
M.PARAM_ERROR = "900003"
M.NOT_FOUND = "900004"

M.entities = { stores = "store_id", categories = "category_id", items = "item_id", orders = "order_id",
  logistics = "logistics_key", refunds = "refund_no" }

local function envelope(code, msg, data)
  return { retCode = code, retMsg = msg, data = data, logMessageId = json.null, success = code == "000000" }
end

function M.error_body(status, msg)
  return envelope(tostring(status), msg, json.null)
end

local function ok(data)
  return 200, envelope("000000", "Operation succeeded", data)
end

local function fail(code, msg)
  return 200, envelope(code, msg, json.null)
end

---------------------------------------------------------------------------- token API
function M.expire_token()
  store.kv_set(V, "token", nil)
end

local function token_api(req)
  local latency = store.knob(V, "token_latency_ms")
  if latency and latency > 0 then ngx.sleep(latency / 1000) end
  if store.take(V, "fail_token") then
    return 500, { ret_code = "500", ret_msg = "token service unavailable" }
  end
  local _, q = util.parse_query(req.raw_query)
  local creds = config.get(V)
  if not (q.appid and q.create_time and q.sign) then
    return 200, { ret_code = M.PARAM_ERROR, ret_msg = "appid, create_time and sign are required" }
  end
  local expect = crypto.md5_hex(creds.appid .. q.create_time .. creds.app_key)
  if q.appid ~= creds.appid or not crypto.equal(q.sign, expect) then
    return 200, { ret_code = M.TOKEN_SIGN_ERROR, ret_msg = "appid or sign is wrong" }
  end
  local ttl = store.knob(V, "token_ttl") or 86400
  local token = crypto.md5_hex(util.random_hex(32) .. ngx.now() .. store.next(V, "token_seq"))
  store.kv_set(V, "token", token, ttl)    -- replaces (and so invalidates) the previous token
  ngx.shared.sandbox:incr("kv\0" .. V .. "\0token_fetches", 1, 0)
  return 200, { ret_code = "000000", ret_msg = "success", item = { token = token, expires_in = ttl } }
end

function M.pre(req)
  if req.uri == "/api/get_token" then
    local status, answer = token_api(req)
    require("sandbox.server").send(status, answer)
    return true
  end
  return false
end

---------------------------------------------------------------------------- pushes
local function ms_to_s(v)
  local t = json.text(v)
  if t and #t >= 13 then return t:sub(1, #t - 3) end
  return t
end

local function rename(rec, names)
  local out = {}
  for k, v in pairs(rec) do out[names[k] or k] = v end
  return out
end

local function sobot_id(entity, key)
  local old = store.get(V, entity, key)
  return old and old["sobot_" .. entity:gsub("ies$", "y"):gsub("s$", "") .. "_id"] or util.random_hex(24)
end

-- Upsert one pushed record under `entity`, keyed by its renamed id; delete_flag 1 deletes.
local function upsert(entity, key, rec)
  if tonumber(json.text(rec.delete_flag) or "0") == 1 then
    store.delete(V, entity, key)
    return
  end
  rec._update_ms = tonumber(json.text(rec.update_time) or "") or ngx.now() * 1000
  rec.update_time = nil
  rec.create_time = ms_to_s(rec.create_time)
  rec.source = rec.source or 1
  store.put(V, entity, key, rec)
end

local handlers = {}

handlers["stores/add"] = function(p)
  for _, s in ipairs(p.store_list) do
    local rec = rename(s, { storeid = "store_id", parent_storeid = "parent_store_id" })
    rec.sobot_store_id = sobot_id("stores", json.text(rec.store_id))
    upsert("stores", json.text(rec.store_id), rec)
  end
  return ok(json.array())
end

handlers["item_category/add"] = function(p)
  local rec = json.copy(p.item_category)
  local key = json.text(rec.category_id)
  rec.sobot_category_id = sobot_id("categories", key)
  upsert("categories", key, rec)
  return ok(json.null)
end

handlers["items/add"] = function(p)
  for _, it in ipairs(p.item_list) do
    local rec = rename(it, { storeid = "store_id", itemid = "item_id" })
    rec.sobot_item_id = sobot_id("items", json.text(rec.item_id))
    upsert("items", json.text(rec.item_id), rec)
  end
  return ok(json.null)
end

local BUYER_TYPES = { ["1"] = true, ["2"] = true, ["4"] = true, ["5"] = true }

handlers["orders/add"] = function(p)
  local failed = json.array()
  for _, o in ipairs(p.order_list) do
    if not BUYER_TYPES[json.text(o.buyerid_type) or ""] then
      failed[#failed + 1] = { orderid = o.orderid, retCode = 801001, retMsg = "Buyer information does not exist" }
    else
      local rec = rename(o, { storeid = "store_id", orderid = "order_id", buyerid = "buyer_id",
        buyerid_type = "buyer_id_type", item_list = "order_item_list" })
      local lines = json.array()
      for i, line in ipairs(rec.order_item_list) do lines[i] = rename(line, { itemid = "item_id" }) end
      rec.order_item_list = lines
      local key = json.text(rec.order_id)
      ngx.shared.sandbox:incr("kv\0" .. V .. "\0order_adds", 1, 0)   -- every add, repeats included
      local old = store.get(V, "orders", key)
      rec.sobot_order_id = old and old.sobot_order_id or util.random_hex(24)
      rec.sobot_customer_id = old and old.sobot_customer_id or util.random_hex(32)
      rec.payment_time = ms_to_s(rec.payment_time)
      upsert("orders", key, rec)
    end
  end
  return ok(failed)
end

handlers["logistics/add"] = function(p)
  for _, l in ipairs(p.logistics_list) do
    local rec = rename(l, { logisticsid = "logistics_id" })
    rec.logistics_key = json.text(rec.order_no) .. "/" .. (json.text(rec.tracking_number) or "")
    upsert("logistics", rec.logistics_key, rec)
  end
  return ok(json.null)
end

handlers["refunds/add"] = function(p)
  for _, r in ipairs(p.refund_list) do
    local rec = json.copy(r)
    if json.is_array(rec.item_list) then
      local lines = json.array()
      for i, line in ipairs(rec.item_list) do lines[i] = rename(line, { itemid = "item_id" }) end
      rec.item_list = lines
    end
    local key = json.text(rec.refund_no)
    local old = store.get(V, "refunds", key)
    rec.sobot_refund_id = old and old.sobot_refund_id or util.random_hex(24)
    local order_no = json.text(rec.order_no)
    rec.sobot_order_id = ""
    for _, o in ipairs(store.list(V, "orders")) do
      if json.text(o.order_no) == order_no then rec.sobot_order_id = o.sobot_order_id break end
    end
    rec.success_time = ms_to_s(rec.success_time)
    upsert("refunds", key, rec)
  end
  return ok(json.null)
end

---------------------------------------------------------------------------- queries
-- page_no from 1, page_size >= 1; start_time_unix/end_time_unix (ms) filter the pushed
-- update_time; extra(rec) filters further.
local function page_query(entity, p, extra)
  local page_no, page_size = util.num(p.page_no), util.num(p.page_size)
  if not page_no or page_no < 1 or page_no ~= math.floor(page_no) then
    return fail(M.PARAM_ERROR, "page_no must be an integer >= 1")
  end
  if not page_size or page_size < 1 or page_size > 1000 or page_size ~= math.floor(page_size) then
    return fail(M.PARAM_ERROR, "page_size must be an integer in [1,1000]")
  end
  local from, to = util.num(p.start_time_unix), util.num(p.end_time_unix)
  local records = util.filter(store.list(V, entity), function(r)
    local t = r._update_ms or 0
    if from and t < from then return false end
    if to and t > to then return false end
    return not extra or extra(r)
  end)
  local total = #records
  return ok({
    page_no = page_no, page_size = page_size, total_count = total,
    page_count = math.ceil(total / page_size),
    data = util.public_page(records, page_no, page_size),
  })
end

handlers["stores/get"] = function(p) return page_query("stores", p) end
handlers["items/get"] = function(p) return page_query("items", p) end
handlers["orders/get"] = function(p) return page_query("orders", p) end
handlers["refunds/get"] = function(p)
  local so, sr = json.text(p.sobot_order_id), json.text(p.sobot_refund_id)
  return page_query("refunds", p, function(r)
    return (not so or r.sobot_order_id == so) and (not sr or r.sobot_refund_id == sr)
  end)
end

handlers["item_categories/get"] = function(p)
  local rec = store.get(V, "categories", json.text(p.category_id))
  return ok(json.array({ rec and util.public(rec) or nil }))
end

---------------------------------------------------------------------------- dispatch
local by_path = {}
for _, o in ipairs(ops.of(V)) do by_path[o.path] = o end

function M.handle(req)
  local op = by_path[req.uri]
  if not op then return 404, envelope("404", "no such operation: " .. req.uri, json.null) end
  if req.method ~= "POST" then return 405, envelope("405", "method not allowed", json.null) end
  local live = store.kv_get(V, "token")
  local sent = req.headers["token"]
  if not live or type(sent) ~= "string" or not crypto.equal(sent, live) then
    return fail(M.TOKEN_INVALID, "token invalid or expired, please reacquire the token")
  end
  local params = json.decode(req.body)
  if type(params) ~= "table" or json.is_array(params) then
    return fail(M.PARAM_ERROR, "request body must be a JSON object")
  end
  for _, name in ipairs { "timestamp", "nonce" } do
    if params[name] == nil or params[name] == json.null or params[name] == "" then
      return fail(M.PARAM_ERROR, "missing required parameter: " .. name)
    end
  end
  if not (json.text(params.timestamp) or ""):match("^%d%d%d%d%d%d%d%d%d%d%d%d%d$") then
    return fail(M.PARAM_ERROR, "timestamp must be milliseconds (13 digits)")
  end
  local missing = ops.missing(op, params)
  if missing then return fail(M.PARAM_ERROR, "missing required parameter: " .. missing) end
  return handlers[op.name](params)
end

M.PREFIX = PREFIX
return M
