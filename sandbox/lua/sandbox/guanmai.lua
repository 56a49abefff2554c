-- Guanmai open platform emulation (003): REST /api/..., GET with query parameters and POST with
-- a JSON body, signed per doc/assumptions.md (appid, ts, sign = HMAC-SHA256 over METHOD,
-- PATH, the RFC 3986 canonical query and the raw body), checked by this file's own code.
-- Envelope {code:0, msg:"ok", data}; lists page with offset/limit (max 100) and an opaque
-- `page` cursor, answering pagenation {page, more}.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local crypto = require "sandbox.crypto"
local config = require "sandbox.config"
local ops = require "sandbox.ops"

local M = {}

local V = "guanmai"
M.entities = { orders = "order_id", category1 = "id", category2 = "id", pinlei = "id", spus = "spu_id",
  skus = "sku_id", salemenus = "salemenu_id", tasks = "id", drivers = "driver_id", car_models = "car_model_id",
  carriers = "carrier_id", routes = "route_id", customers = "customer_id", areas = "customer_id",
  strike_flows = "id", cash_flows = "id", refunds = "id" }
M.auto_keys = { tasks = true, cash_flows = true, strike_flows = true }

M.AUTH_ERROR, M.PARAM_ERROR, M.NOT_FOUND = 401, 400, 404

local function envelope(code, msg, data, pagenation)
  return { code = code, msg = msg, data = data, pagenation = pagenation }
end

function M.error_body(status, msg)
  return envelope(status, msg, json.null)
end

local function ok(data, pagenation) return 200, envelope(0, "ok", data == nil and json.null or data, pagenation) end
local function fail(code, msg) return 200, envelope(code, msg, json.null) end

local function key(v) return json.text(v) end

local lookup = require("sandbox.records").for_vendor(V, M, ok)
local find = lookup.find

-- offset/limit plus the page cursor (an opaque text naming the next start).
local function page(records, p, no_cursor)
  local offset, limit = tonumber(p.offset or "0"), tonumber(p.limit or "20")
  if not offset or offset < 0 or offset ~= math.floor(offset) then return nil, "offset must be an integer >= 0" end
  if not limit or limit < 1 or limit > 100 or limit ~= math.floor(limit) then
    return nil, "limit must be an integer in [1,100]"
  end
  local start = offset
  if not no_cursor and p.page and p.page ~= "" and p.page ~= json.null then
    local decoded = ngx.decode_base64(p.page)
    start = decoded and tonumber(decoded:match("^offset:(%d+)$") or "")
    if not start then return nil, "bad page cursor" end
  end
  local rows = util.public_list(util.slice(records, start + 1, limit))
  local next_start = start + #rows
  local more = next_start < #records
  return rows, { page = more and ngx.encode_base64("offset:" .. next_start) or json.null, more = more }
end

local function paged(records, p, no_cursor)
  local rows, pagenation = page(records, p, no_cursor)
  if not rows then return fail(M.PARAM_ERROR, pagenation) end
  return ok(rows, pagenation)
end

local function eq_filter(p, names)
  return function(r)
    for _, n in ipairs(names) do
      local want = p[n]
      if want ~= nil and want ~= "" and key(r[n]) ~= key(want) then return false end
    end
    return true
  end
end

local function search(p, fields)
  local text = p.search_text
  return function(r)
    if not text or text == "" then return true end
    for _, f in ipairs(fields) do
      if type(r[f]) == "string" and r[f]:find(text, 1, true) then return true end
    end
    return false
  end
end

local function list_of(entity, p, names, text_fields)
  local by_eq, by_text = eq_filter(p, names or {}), search(p, text_fields or {})
  return util.filter(store.list(V, entity), function(r) return by_eq(r) and by_text(r) end)
end

local h = {}

---------------------------------------------------------------------------- orders
local function save_order(o) store.put(V, "orders", o.order_id, o) end

local REASONS = { ["1"] = "未按用户时间到达", ["5"] = "漏单" }

-- One order line in the document's `details` shape (order/get example): id is the SKU id,
-- prices in fen except sale_price (yuan text).
local function detail_line(sku_id, amount, price_fen, remark)
  local sku = store.get(V, "skus", key(sku_id)) or {}
  local spu = sku.spu_id and store.get(V, "spus", key(sku.spu_id)) or {}
  local fen = util.num(price_fen) or 0
  return { id = sku_id, spu_id = sku.spu_id or json.null, name = sku.sku_name or spu.name or json.null,
    quantity = amount, real_quantity = amount, accept_quantity = amount, purchase_quantity = amount,
    sale_price = string.format("%.2f", fen / 100), real_item_price = (util.num(amount) or 0) * fen,
    std_unit_name = sku.std_unit_name or spu.std_unit_name or json.null,
    sale_unit_name = sku.sale_unit_name or json.null, sale_ratio = sku.sale_ratio or 1,
    spu_remark = remark or "", is_weight = sku.is_weigh == 1, has_weight = false }
end

local function recompute(o)
  local total = 0
  for _, line in ipairs(o.details) do total = total + (util.num(line.real_item_price) or 0) end
  o.real_price, o.total_pay = total, total + (util.num(o.freight) or 0)
end

h["order/create"] = function(p)
  local id = string.format("PL%06d", store.next(V, "order"))
  local now = ngx.now()
  local customer = store.get(V, "customers", key(p.sid)) or {}
  local order = { order_id = id, sid = p.sid, status = 1, pay_status = 1, remark = p.remark or json.null,
    receive_begin_time = p.receive_begin_time or json.null, receive_end_time = p.receive_end_time or json.null,
    time_config_id = p.time_config_id or json.null, sort_id = json.null,
    date_time = os.date("!%Y-%m-%dT%H:%M:%S", math.floor(now + 8 * 3600)) .. ".000",
    freight = 0, details = json.array(), abnomal = json.array(), refund = json.array(),
    customer = { resname = customer.restaurant_name or json.null, address = customer.restaurant_address or json.null,
      receiver_name = customer.receiver_name or json.null, receiver_phone = customer.receiver_telephone or json.null,
      receive_begin_time = p.receive_begin_time or json.null, receive_end_time = p.receive_end_time or json.null } }
  for _, line in ipairs(p.products) do
    table.insert(order.details, detail_line(line.sku_id, line.amount, line.unit_price, line.spu_remark))
  end
  recompute(order)
  save_order(order)
  return ok({ order_id = id })
end

h["order/delete"] = lookup.deleter("orders", "order_id", "order")

local ORDER_STATUS = { [1] = true, [5] = true, [10] = true, [15] = true }

h["order/update"] = function(p)
  local o, err = find("orders", p.order_id, "order")
  if not o then return 200, err end
  if p.status ~= nil and not ORDER_STATUS[util.num(p.status) or -1] then
    return fail(M.PARAM_ERROR, "status must be one of 1, 5, 10, 15")
  end
  util.assign_given(o, p, { "receive_begin_time", "receive_end_time", "status", "remark" })
  if type(o.customer) == "table" then
    o.customer.receive_begin_time, o.customer.receive_end_time = o.receive_begin_time, o.receive_end_time
  end
  save_order(o)
  return ok()
end

h["order/get"] = lookup.getter("orders", "order_id", "order")

h["order/list"] = function(p)
  local qt = tonumber(p.query_type)
  if qt ~= 1 and qt ~= 2 then return fail(M.PARAM_ERROR, "query_type must be 1 or 2") end
  local from, to = p.start_date, p.end_date
  if not (from:match("^%d%d%d%d%-%d%d%-%d%d$") and to:match("^%d%d%d%d%-%d%d%-%d%d$")) then
    return fail(M.PARAM_ERROR, "start_date and end_date must be YYYY-MM-DD")
  end
  local records = util.filter(store.list(V, "orders"), function(o)
    local day = qt == 1 and o.date_time or o.receive_begin_time
    day = type(day) == "string" and day:sub(1, 10) or nil
    return day ~= nil and day >= from and day <= to
      and (p.status == nil or key(o.status) == p.status)
      and (p.pay_status == nil or key(o.pay_status) == p.pay_status)
  end)
  return paged(records, p)
end

local function line_index(o, sku_id)
  for i, line in ipairs(o.details or {}) do
    if key(line.id) == key(sku_id) then return i end
  end
end

-- order/sku/*: each item of p[list] names a SKU that must already be a line of the order
-- (`in_order`) or must not; then apply(o, item, p) for each, recompute the totals and save.
local function line_change(list, sku_of, in_order, apply)
  return function(p)
    local o, err = find("orders", p.order_id, "order")
    if not o then return 200, err end
    for _, item in ipairs(p[list]) do
      local sku = sku_of(item)
      if in_order and not line_index(o, sku) then return fail(M.NOT_FOUND, "sku not in the order: " .. key(sku)) end
      if not in_order and line_index(o, sku) then
        return fail(M.PARAM_ERROR, "sku already in the order: " .. key(sku))
      end
    end
    for _, item in ipairs(p[list]) do apply(o, item, p) end
    recompute(o)
    save_order(o)
    return ok()
  end
end

local function line_sku(line) return line.sku_id end

h["order/sku/create"] = line_change("products", line_sku, false, function(o, line, p)
  table.insert(o.details, detail_line(line.sku_id, line.amount, line.price, p.remark))
end)

h["order/sku/delete"] = line_change("sku_ids", function(sku) return sku end, true, function(o, sku)
  table.remove(o.details, line_index(o, sku))
end)

h["order/sku/update"] = line_change("products", line_sku, true, function(o, line, p)
  local i = line_index(o, line.sku_id)
  local old = o.details[i]
  local amount = line.amount ~= nil and line.amount or old.quantity
  local fen = line.price ~= nil and line.price or math.floor((tonumber(old.sale_price) or 0) * 100 + 0.5)
  o.details[i] = detail_line(line.sku_id, amount, fen, p.remark ~= nil and p.remark or old.spu_remark)
end)

-- Abnormal and refund records live inside the order, in the document's order/get shape
-- (`abnomal` as the document spells it, and `refund`), each with an integer id.
local function after_sales_record(kind, order_id, item, id)
  local reason = key(item.exception_reason)
  local rec = { id = id, detail_id = item.sku_id, type_id = item.exception_reason,
                type_text = REASONS[reason or ""] or "", text = "" }
  if kind == "abnormal" then
    rec.final_amount, rec.money_delta = item.final_amount, item.money_delta
  else
    rec.out_sku_id, rec.out_order_id, rec.request_amount = item.sku_id, order_id, item.request_amount
    rec.real_amount, rec.state = 0, 1
  end
  return rec
end

local STORED = { abnormal = "abnomal", refund = "refund" }

local function after_sales_create(kind)
  return function(p)
    local o, err = find("orders", p.order_id, "order")
    if not o then return 200, err end
    local list = json.is_array(o[STORED[kind]]) and o[STORED[kind]] or json.array()
    for _, item in ipairs(p[kind]) do
      if not line_index(o, item.sku_id) then return fail(M.NOT_FOUND, "sku not in the order: " .. key(item.sku_id)) end
    end
    for _, item in ipairs(p[kind]) do
      table.insert(list, after_sales_record(kind, o.order_id, item, store.next(V, "after_sales")))
    end
    o[STORED[kind]] = list
    save_order(o)
    return ok()
  end
end
h["order/abnormal/create"] = after_sales_create("abnormal")
h["order/refund/create"] = after_sales_create("refund")

local function after_sales_change(kind, delete)
  return function(p)
    local o, err = find("orders", p.order_id, "order")
    if not o then return 200, err end
    local list = json.is_array(o[STORED[kind]]) and o[STORED[kind]] or json.array()
    local found = {}
    for n, item in ipairs(p[kind]) do
      for i, rec in ipairs(list) do
        if key(rec.id) == key(item.id) and key(rec.detail_id) == key(item.sku_id) then found[n] = i break end
      end
      if not found[n] then return fail(M.NOT_FOUND, kind .. " record not found: " .. tostring(key(item.id))) end
    end
    if delete then
      table.sort(found, function(x, y) return x > y end)
      for _, i in ipairs(found) do table.remove(list, i) end
    else
      for n, item in ipairs(p[kind]) do
        list[found[n]] = after_sales_record(kind, o.order_id, item, list[found[n]].id)
      end
    end
    o[STORED[kind]] = list
    save_order(o)
    return ok()
  end
end
h["order/after_sales/update#abnormal"] = after_sales_change("abnormal", false)
h["order/after_sales/update#refund"] = after_sales_change("refund", false)
h["order/after_sales/delete#abnormal"] = after_sales_change("abnormal", true)
h["order/after_sales/delete#refund"] = after_sales_change("refund", true)

-- Integer-keyed dictionaries in the document; JSON objects with string keys here.
h["order/after_sales/exception_reason/list"] = function()
  return ok({ ["1"] = "未按用户时间到达", ["5"] = "漏单" })
end
h["std_unit_name/list"] = function() return ok({ ["1"] = "斤", ["2"] = "瓶" }) end

---------------------------------------------------------------------------- catalog
h["product/category1/list"] = function(p) return paged(list_of("category1", p), p) end
h["product/category2/list"] = function(p) return paged(list_of("category2", p, { "category1_id" }), p, true) end
h["product/pinlei/list"] = function(p)
  return paged(list_of("pinlei", p, { "category1_id", "category2_id" }), p)
end

h["product/spu/create"] = function(p)
  local id = string.format("C%07d", store.next(V, "spu"))
  local pinlei = store.get(V, "pinlei", key(p.pinlei_id)) or {}
  local rec = { spu_id = id, name = p.name, std_unit_name = p.std_unit_name, pinlei_id = p.pinlei_id,
    category1_id = pinlei.category1_id or json.null, category2_id = pinlei.category2_id or json.null,
    desc = p.desc or "", dispatch_method = p.dispatch_method or 2, image = p.image or json.null,
    detail_images = p.detail_images or json.array(), p_type = p.p_type or 1 }
  store.put(V, "spus", id, rec)
  return ok({ spu_id = id })
end

h["product/spu/list"] = function(p)
  return paged(list_of("spus", p, { "category1_id", "category2_id", "pinlei_id", "spu_id" }), p)
end

h["product/spu/get"] = lookup.getter("spus", "spu_id", "spu")

h["product/spu/update"] = lookup.updater("spus", "spu_id", "spu", { "name", "desc", "std_unit_name", "pinlei_id" })

h["product/spu/delete"] = lookup.deleter("spus", "spu_id", "spu")

local SKU_FIELDS = { "sku_name", "salemenu_id", "std_price", "sale_price", "sale_num_least", "sale_ratio",
  "sale_unit_name", "std_unit_name", "is_weigh", "state", "desc" }

h["product/sku/create"] = function(p)           -- "暂不开放" in the document; served here anyway
  if not store.get(V, "spus", key(p.spu_id)) then return fail(M.NOT_FOUND, "spu not found: " .. key(p.spu_id)) end
  local id = string.format("D%07d", store.next(V, "sku"))
  local rec = { sku_id = id, spu_id = p.spu_id }
  for _, n in ipairs(SKU_FIELDS) do rec[n] = p[n] end
  store.put(V, "skus", id, rec)
  return ok({ sku_id = id })
end

h["product/sku/update"] = lookup.updater("skus", "sku_id", "sku", SKU_FIELDS)

h["product/sku/list"] = function(p)
  return paged(list_of("skus", p, { "spu_id", "salemenu_id" }, { "sku_name", "sku_id" }), p)
end

h["product/sku/get"] = lookup.getter("skus", "sku_id", "sku")

h["product/sku/delete"] = lookup.deleter("skus", "sku_id", "sku")

h["product/salemenu/list"] = function(p)
  local records = util.filter(store.list(V, "salemenus"), function(r)
    if p.is_active and p.is_active ~= "" and key(r.is_active) ~= p.is_active then return false end
    if p.customer_id and p.customer_id ~= "" then
      local c = store.get(V, "customers", p.customer_id)
      if not c then return false end
      for _, s in ipairs(c.salemenu_ids or {}) do if key(s) == key(r.salemenu_id) then return true end end
      return false
    end
    return true
  end)
  return ok(util.public_list(records))
end

---------------------------------------------------------------------------- delivery
h["delivery/task/list"] = function(p)
  return paged(list_of("tasks", p, { "driver_id", "carrier_id", "route_id" }), p)
end

local function assign(p, driver_id)
  for _, id in ipairs(p.order_ids) do
    if not store.get(V, "orders", key(id)) then return fail(M.NOT_FOUND, "order not found: " .. key(id)) end
  end
  for _, id in ipairs(p.order_ids) do
    local o = store.get(V, "orders", key(id))
    o.driver_id = driver_id
    save_order(o)
  end
  return ok()
end

h["delivery/driver/assign"] = function(p)
  if not store.get(V, "drivers", key(p.driver_id)) then return fail(M.NOT_FOUND, "driver not found: " ..
    key(p.driver_id)) end
  return assign(p, p.driver_id)
end
h["delivery/driver/cancel"] = function(p) return assign(p, json.null) end

local DRIVER_FIELDS = { "name", "phone", "carrier_id", "car_model_id", "plate_number", "state" }

h["delivery/driver/create"] = function(p)
  local id = store.next(V, "driver")
  local rec = { driver_id = id, state = 1 }
  util.assign_given(rec, p, DRIVER_FIELDS)
  store.put(V, "drivers", tostring(id), rec)
  return ok({ driver_id = id })
end

h["delivery/driver/update"] = function(p)
  local rec, err = find("drivers", p.driver_id, "driver")
  if not rec then return 200, err end
  util.assign_given(rec, p, DRIVER_FIELDS)
  store.put(V, "drivers", key(rec.driver_id), rec)
  return ok()
end

h["delivery/driver/list"] = function(p) return paged(list_of("drivers", p, {}, { "name", "phone",
  "plate_number" }), p) end
h["delivery/car_model/list"] = function(p) return paged(list_of("car_models", p), p) end
h["delivery/carrier/list"] = function(p) return paged(list_of("carriers", p), p) end

h["delivery/route/create"] = function(p)
  local id = store.next(V, "route")
  store.put(V, "routes", tostring(id), { route_id = id, route_name = p.route_name, customer_ids = p.customer_ids })
  return ok()
end

h["delivery/route/update"] = function(p)
  local rec, err = find("routes", p.route_id, "route")
  if not rec then return 200, err end
  if p.route_name ~= nil then rec.route_name = p.route_name end
  if p.customer_ids ~= nil then rec.customer_ids = p.customer_ids end
  store.put(V, "routes", key(rec.route_id), rec)
  return ok()
end

h["delivery/route/delete"] = lookup.deleter("routes", "route_id", "route")

h["delivery/route/list"] = function(p) return paged(list_of("routes", p), p) end

h["delivery/route/get"] = function(p)
  local route, err = find("routes", p.route_id, "route")
  if not route then return 200, err end
  local rows = {}
  for _, cid in ipairs(route.customer_ids or {}) do
    local c = store.get(V, "customers", key(cid)) or {}
    rows[#rows + 1] = { customer_id = cid, customer_name = c.restaurant_name or json.null,
      route_id = route.route_id, route_name = route.route_name, area = c.area or json.null }
  end
  return paged(rows, p)
end

---------------------------------------------------------------------------- customers, finance
local CUSTOMER_FIELDS = { "username", "payer_name", "payer_telephone", "restaurant_name", "receiver_name",
  "receiver_telephone", "district_code", "area_level1", "area_level2", "restaurant_address", "salemenu_ids",
  "settle_way", "pay_method", "whitelist", "check_out", "freezeState" }

h["customer/create"] = function(p)
  local id = tostring(178198 + store.next(V, "customer"))
  local rec = { customer_id = id, SID = "S" .. id, KID = "K" .. id, create_time = util.date(),
    settle_way = 1, pay_method = 1, whitelist = 0, check_out = 0, freezeState = 0 }
  util.assign_given(rec, p, CUSTOMER_FIELDS)
  store.put(V, "customers", id, rec)
  return ok({ customer_id = id })
end

-- "upadte": the document's (and the server's) spelling
h["customer/upadte"] = lookup.updater("customers", "customer_id", "customer", CUSTOMER_FIELDS)

h["customer/list"] = function(p)
  return paged(list_of("customers", p, {}, { "restaurant_name", "username", "receiver_name", "customer_id" }), p)
end

h["area/list"] = function(p)
  local rec = store.get(V, "areas", key(p.customer_id))
  if rec then return ok(rec.area or json.array()) end
  if not store.get(V, "customers", key(p.customer_id)) then
    return fail(M.NOT_FOUND, "customer not found: " .. key(p.customer_id))
  end
  return ok(json.array())
end

h["finance/strike"] = function(p)
  local id = string.format("CZ%06d", store.next(V, "strike"))
  local rec = util.merge({ id = id, time = util.datetime() }, p)
  store.put(V, "strike_flows", id, rec)
  return ok()
end

h["finance/order/refund"] = function(p)
  local o, err = find("orders", p.order_id, "order")
  if not o then return 200, err end
  local t = util.num(p.type)
  if t ~= 1 and t ~= 2 then return fail(M.PARAM_ERROR, "type must be 1 or 2") end
  local id = tostring(store.next(V, "finance_refund"))
  store.put(V, "refunds", id, { id = id, order_id = o.order_id, type = t, time = util.datetime() })
  return ok()
end

h["finance/strike_flow/list"] = function(p)
  local records = util.filter(store.list(V, "strike_flows"), function(r)
    local day = type(r.arrival_time) == "string" and r.arrival_time:sub(1, 10) or ""
    return (not p.customer_id or p.customer_id == "" or key(r.customer_id) == p.customer_id)
      and (not p.start_time or p.start_time == "" or day >= p.start_time:sub(1, 10))
      and (not p.end_time or p.end_time == "" or day <= p.end_time:sub(1, 10))
  end)
  return paged(records, p)
end

h["finance/cash_flow/list"] = function(p)
  local change_type = p.change_type or "cash"
  return paged(util.filter(store.list(V, "cash_flows"), function(r)
    return r.change_type == nil or r.change_type == change_type
  end), p)
end

---------------------------------------------------------------------------- auth, dispatch
local by_route = {}
for _, o in ipairs(ops.of(V)) do
  by_route[o.path] = by_route[o.path] or {}
  table.insert(by_route[o.path], o)
end

local function rfc3986(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- METHOD \n PATH \n canonical query (all but sign, sorted, RFC 3986) \n BODY.
local function string_to_sign(req, query_pairs)
  local items = {}
  for _, kv in ipairs(query_pairs) do
    if kv[1] ~= "sign" then items[#items + 1] = { rfc3986(kv[1]), rfc3986(kv[2]) } end
  end
  table.sort(items, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local parts = {}
  for i, kv in ipairs(items) do parts[i] = kv[1] .. "=" .. kv[2] end
  return req.method .. "\n" .. req.path .. "\n" .. table.concat(parts, "&") .. "\n"
    .. (req.method == "POST" and req.body or "")
end

local function check_auth(req, query_pairs, q)
  local creds = config.get(V)
  if not (q.appid and q.ts and q.sign) then return "appid, ts and sign are required" end
  if q.appid ~= creds.appid then return "invalid appid" end
  local ts = tonumber(q.ts)
  local window = store.knob(V, "ts_window") or 300
  if not ts or math.abs(ts - ngx.time()) > window then return "ts out of the allowed window" end
  local expect = crypto.hmac_sha256_hex(creds.secret, string_to_sign(req, query_pairs))
  if not crypto.equal(q.sign:lower(), expect) then return "invalid sign" end
  return nil
end

function M.handle(req)
  local candidates = by_route[req.path]
  if not candidates then return 404, envelope(404, "no such operation: " .. req.path, json.null) end
  if candidates[1].method ~= req.method then return 405, envelope(405, "method not allowed", json.null) end
  local query_pairs, q = util.parse_query(req.raw_query)
  local why = check_auth(req, query_pairs, q)
  if why then return fail(M.AUTH_ERROR, why) end
  local params
  if req.method == "GET" then
    params = {}
    for k, v in pairs(q) do
      if k ~= "appid" and k ~= "ts" and k ~= "sign" then params[k] = v end
    end
  else
    params = json.decode(req.body)
    if type(params) ~= "table" or json.is_array(params) then
      return fail(M.PARAM_ERROR, "request body must be a JSON object")
    end
  end
  local op = candidates[1]
  if #candidates > 1 then                       -- after_sales/update|delete: the body key decides
    op = nil
    for _, c in ipairs(candidates) do
      if params[c.variant] ~= nil then op = c break end
    end
    if not op then return fail(M.PARAM_ERROR, "missing required parameter: abnormal or refund") end
  end
  local missing = ops.missing(op, params)
  if missing then return fail(M.PARAM_ERROR, "missing required parameter: " .. missing) end
  return h[op.name](params)
end

return M
