-- Hd SOMS sale-order service emulation (001): HTTP Basic + tenant path segment + operator
-- query parameter (doc/assumptions.md), ActionResult envelopes on writes and errors, bare
-- objects on reads, page-from-0 paging with page_size in [1,100] on saleorders/query.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local crypto = require "sandbox.crypto"
local config = require "sandbox.config"

local M = {}

local V = "hd"
M.entities = { sale_orders = "id" }

local function result(success, code, message)
  return { success = success, code = code, message = message }
end

function M.error_body(status, msg)
  return result(false, tostring(status), msg)
end

local function fail(status, msg)
  return status, result(false, tostring(status), msg)
end

local function front_id(o)
  return type(o.front) == "table" and json.text(o.front.order_id) or nil
end

local function platform_id(o)
  return type(o.front) == "table" and type(o.front.platform) == "table" and json.text(o.front.platform.id) or nil
end

---------------------------------------------------------------------------- operations
local function submit(req, params)
  if type(params) ~= "table" or json.is_array(params) then return fail(400, "body must be a SaleOrder object") end
  local fid, pid = front_id(params), platform_id(params)
  if fid then                                           -- the same front order is not taken twice
    for _, o in ipairs(store.list(V, "sale_orders")) do
      if front_id(o) == fid and platform_id(o) == pid then
        return 200, { success = true, code = "0", message = "sale order already exists", sale_order_id = o.id }
      end
    end
  end
  local order = json.copy(params)
  order.id = tostring(88800000000 + store.next(V, "sale_order"))  -- generated: "do not fill"
  local now = util.datetime()
  order.created, order.modified = now, now
  order.creator, order.modifier = req.operator, req.operator
  order.state = (order.state == nil or order.state == json.null) and "confirmed" or order.state
  store.put(V, "sale_orders", order.id, order)
  return 200, { success = true, code = "0", message = "ok", sale_order_id = order.id }
end

local function get_by_id(_, _, id)
  local o = store.get(V, "sale_orders", id)
  if not o then return fail(404, "sale order not found: " .. id) end
  return 200, o
end

local function get_by_front(req, _, fid)
  local pid = req.query.platform_id
  for _, o in ipairs(store.list(V, "sale_orders")) do
    if front_id(o) == fid and (not pid or pid == "" or platform_id(o) == pid) then return 200, o end
  end
  return fail(404, "sale order not found for front order " .. fid)
end

local DELIVERY_STATES = { none = true, shipped = true, signed = true, refused = true, redeliver = true }

local function deliver(req, params, id)
  local o = store.get(V, "sale_orders", id)
  if not o then return fail(404, "sale order not found: " .. id) end
  if type(params) ~= "table" then return fail(400, "body must be a SaleOrderDeliverRequest object") end
  local state = params.delivery_state
  if state ~= nil and not DELIVERY_STATES[state] then return fail(400, "bad delivery_state: " .. tostring(state)) end
  o.delivery = type(o.delivery) == "table" and o.delivery or {}
  if state then o.delivery.state = state end
  if params.waybillId and params.waybillId ~= json.null then
    o.waybills = json.is_array(o.waybills) and o.waybills or json.array()
    o.waybills[#o.waybills + 1] = { waybill_id = params.waybillId }
  end
  if state == "shipped" then o.state = "delivering" elseif state == "signed" then o.state = "delivered" end
  o.modified, o.modifier = util.datetime(), req.operator
  store.put(V, "sale_orders", id, o)
  return 200, result(true, "0", "ok")
end

local function batch_get(req)
  local out = json.array()
  for _, id in ipairs(req.multi.sale_order_id or {}) do
    local o = store.get(V, "sale_orders", id)
    if o then out[#out + 1] = o end
  end
  local now = util.datetime()
  return 200, { created = now, modified = now, creator = req.operator, modifier = req.operator, sale_orders = out }
end

local function list_has(list, v)
  if type(list) ~= "table" then list = { list } end   -- the document's examples send scalars
  for _, x in ipairs(list) do if json.text(x) == v then return true end end
  return false
end

local function matches(o, f)
  local function eq(name, value) return f[name] == nil or f[name] == json.null or json.text(f[name]) == value end
  local function has(name, value)
    return f[name] == nil or f[name] == json.null or list_has(f[name], value)
  end
  local function prefix(name, value)
    local want = json.text(f[name])
    return want == nil or (value or ""):sub(1, #want) == want
  end
  local function after(name, value)
    local t = util.parse_datetime(f[name])
    return not t or (util.parse_datetime(value) or 0) >= t
  end
  local function before(name, value)
    local t = util.parse_datetime(f[name])
    return not t or (util.parse_datetime(value) or math.huge) <= t
  end
  local shop = type(o.shop) == "table" and json.text(o.shop.id) or nil
  local customer = type(o.customer) == "table" and o.customer or {}
  local front_created = type(o.front) == "table" and o.front.created or nil
  return eq("order_id", o.id) and has("order_ids", o.id) and prefix("id_prefix", o.id)
    and eq("front_order_id", front_id(o)) and has("front_order_ids", front_id(o))
    and prefix("front_order_id_prefix", front_id(o))
    and eq("platform_id", platform_id(o)) and has("platformIds", platform_id(o))
    and eq("shop_id", shop) and has("shop_id_in", shop) and has("states", o.state)
    and eq("customer_id", json.text(customer.id)) and eq("customer_name", customer.name)
    and eq("customer_mobile", customer.mobile)
    and after("created_start", o.created) and before("created_end", o.created)
    and after("front_created_start", front_created) and before("front_created_end", front_created)
end

local SORT_KEYS = { created = true, modified = true, front_created = true }

local function query(req, params)
  local page, page_size = tonumber(req.query.page or "0"), tonumber(req.query.page_size or "20")
  if not page or page < 0 or page ~= math.floor(page) then return fail(400, "page must be an integer >= 0") end
  if not page_size or page_size < 1 or page_size > 100 or page_size ~= math.floor(page_size) then
    return fail(400, "page_size must be in [1,100]")
  end
  local sort_key = req.query.sort_key
  if sort_key and sort_key ~= "" and not SORT_KEYS[sort_key] then return fail(400, "bad sort_key: " .. sort_key) end
  local filter = type(params) == "table" and params or {}
  local records = util.filter(store.list(V, "sale_orders"), function(o) return matches(o, filter) end)
  if sort_key and sort_key ~= "" then
    local function key(o)
      if sort_key == "front_created" then return type(o.front) == "table" and o.front.created or "" end
      return o[sort_key] or ""
    end
    for i, o in ipairs(records) do o._i = i end              -- stable: insertion order breaks ties
    table.sort(records, function(a, b)
      local ka, kb = key(a), key(b)
      if ka == kb then return a._i < b._i end
      return ka < kb
    end)
  end
  if req.query.desc == "true" then
    local rev = {}
    for i = #records, 1, -1 do rev[#rev + 1] = records[i] end
    records = rev
  end
  local total = #records
  return 200, {
    total = total, page = page, page_size = page_size, page_count = math.ceil(total / page_size),
    saleOrders = util.public_list(util.slice(records, page * page_size + 1, page_size)),
  }
end

---------------------------------------------------------------------------- dispatch
local routes = {
  { "POST", "^/saleorder$", submit },
  { "GET", "^/saleorder/front/([^/]+)$", get_by_front },
  { "POST", "^/saleorder/([^/]+)/action/deliver$", deliver },
  { "GET", "^/saleorder/([^/]+)$", get_by_id },
  { "GET", "^/saleorders$", batch_get },
  { "POST", "^/saleorders/query$", query },
}

local function authorized(req, tenant)
  local creds = config.get(V)
  local auth = req.headers["authorization"]
  if type(auth) ~= "string" then return false end
  local b64 = auth:match("^Basic%s+(%S+)$")
  local decoded = b64 and ngx.decode_base64(b64)
  if not decoded then return false end
  return crypto.equal(decoded, creds.user .. ":" .. creds.password) and tenant == creds.tenant_id
end

function M.handle(req)
  local tenant, rest = req.uri:match("^/([^/]+)/soms/saleorderservice(/.*)$")
  local route, captured
  if rest then
    for _, r in ipairs(routes) do
      local m = rest:match(r[2])
      if m then
        if r[1] ~= req.method then return fail(405, "method not allowed") end
        route, captured = r, m
        break
      end
    end
  end
  if not route then return fail(404, "no such operation: " .. req.uri) end
  if not authorized(req, tenant) then return 401, result(false, "401", "unauthorized") end
  local _, q, multi = util.parse_query(req.raw_query:gsub("%+", "%%20"))
  req.query, req.multi = q, multi
  req.operator = q.operator
  if not q.operator or q.operator == "" then return fail(400, "missing required parameter: operator") end
  local params
  if req.method == "POST" then
    local err
    params, err = json.decode(req.body)
    if params == nil then return fail(400, "body is not JSON: " .. err) end
  end
  if route[3] == batch_get and not multi.sale_order_id then
    return fail(400, "missing required parameter: sale_order_id")
  end
  return route[3](req, params, captured and ngx.unescape_uri(captured))
end

return M
