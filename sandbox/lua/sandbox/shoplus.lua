-- Shoplus open API emulation (002): one POST endpoint /open-api taking {name, version, app_key,
-- data, timestamp, sign}; sign = upper-hex MD5(secret .. sorted name..value .. secret) over
-- every member but sign, checked by this file's own code; `data` is the Java-URL-encoded JSON
-- of the business parameters. Envelope {code:"0", msg, data}. Product, collection and
-- fulfillment ids are 64-bit (18 digits) to exercise exact id handling.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local crypto = require "sandbox.crypto"
local config = require "sandbox.config"
local ops = require "sandbox.ops"

local M = {}

local V = "shoplus"
M.entities = { products = "id", orders = "id", collections = "id", customers = "id", webhooks = "id",
  fulfillments = "id", utms = "orderNo", merchant = "id" }

local function envelope(code, msg, data)
  return { code = code, msg = msg, data = data }
end

function M.error_body(status, msg)
  return envelope(tostring(status), msg, {})
end

local function ok(data) return 200, envelope("0", "success", data or {}) end
local function fail(code, msg) return 200, envelope(code, msg, {}) end

M.AUTH_ERROR, M.PARAM_ERROR, M.NOT_FOUND = "401", "400", "404"

-- A fresh 18-digit id, above 2^53 (kept as a bignum end to end).
local function new_id(kind)
  return json.bignum(string.format("5314649554%08d", store.next(V, "id_" .. kind)))
end

local function key(v) return json.text(v) end

local lookup = require("sandbox.records").for_vendor(V, M, ok)
local find = lookup.find

-- pageNum from 1, pageSize default 10, max `max`.
local function page_num(p, max)
  local num, size = util.num(p.pageNum) or 1, util.num(p.pageSize) or 10
  if num < 1 or num ~= math.floor(num) then return nil, "pageNum must be an integer >= 1" end
  if size < 1 or size > max or size ~= math.floor(size) then
    return nil, "pageSize must be an integer in [1," .. max .. "]"
  end
  return num, size
end

local function in_ids(ids, id)
  if ids == nil or ids == json.null then return true end
  for _, x in ipairs(ids) do if key(x) == key(id) then return true end end
  return false
end

-- Times: the document types createTime/updateTime/payTime as `date` (002:L111-113, L989-990,
-- L1321-1322) and its only values are epoch ms (002:L2186, L2229, L2269), so records carry
-- epoch ms; the query bounds are `date` too, glossed yyyy-MM-dd HH:mm:ss (002:L862-867).
-- A time in either shape (ms number or text at +08:00) is read as epoch seconds.
local function seconds(v)
  if v == nil or v == json.null then return nil end
  if type(v) == "string" and v:find("-", 1, true) then return util.parse_datetime(v) end
  local n = util.num(v)
  return n and n / 1000 or nil
end

local function time_between(value, min, max)
  local t = seconds(value)
  local lo, hi = seconds(min), seconds(max)
  if lo and (not t or t < lo) then return false end
  if hi and (not t or t > hi) then return false end
  return true
end

local h = {}

---------------------------------------------------------------------------- products
-- Products are stored in the document's answer shape (productImgDTOs, productOptionDTOs,
-- productCustomizedOptionDTOs, productVariantDTOs with productVariantInventoryDTO); the
-- request's arrays are turned into those with generated 64-bit ids.
local SPU_FIELDS = { "spuCode", "title", "vendor", "brandId", "productType", "tags", "freightTemplateId",
  "productSizeDesc", "productShortDesc", "productLongDesc", "specialReturnDesc", "currencyCode", "taxStatus",
  "seoTitle", "seoDesc", "seoKeyword", "seoUrl", "spuRemark", "publishStatus" }

local function joined(v)
  if type(v) ~= "table" then return v end
  local parts = {}
  for i, x in ipairs(v) do parts[i] = json.text(x) or "" end
  return table.concat(parts, ",")
end

local function present(v) return v ~= nil and v ~= json.null end

local function variant_dto(v, product_id, id, now, old)
  old = old or {}
  local function pick(name) if present(v[name]) then return v[name] end return old[name] end
  local dto = { id = id, productId = product_id, shopId = 0, imgId = old.imgId or json.null,
    skuCode = pick("skuCode"), salePrice = pick("salePrice"), compareAtPrice = pick("compareAtPrice"),
    purchasePrice = pick("purchasePrice"), skuBarcode = pick("skuBarcode"), imgUrl = pick("imgUrl"),
    isTrackInventory = pick("isTrackInventory"), grams = pick("grams"), weight = pick("weight"),
    weightUnit = pick("weightUnit"),
    optionValueNames = present(v.optionValueNames) and joined(v.optionValueNames) or old.optionValueNames,
    customizedOptionNames = present(v.customizedOptionNames) and joined(v.customizedOptionNames)
      or old.customizedOptionNames,
    createTime = old.createTime or now, updateTime = now }
  local inv = type(old.productVariantInventoryDTO) == "table" and old.productVariantInventoryDTO or {}
  local track = util.num(dto.isTrackInventory)
  dto.productVariantInventoryDTO = { variantId = id,
    availableStockQuantity = present(v.availableStockQuantity) and v.availableStockQuantity
      or inv.availableStockQuantity or 0,
    lockedStockQuantity = inv.lockedStockQuantity or 0,
    isTrackInventory = track and (1 - track) or inv.isTrackInventory or json.null,   -- 0 = tracked here
    inventoryPolicy = present(v.inventoryPolicy) and v.inventoryPolicy or inv.inventoryPolicy or "deny" }
  return dto
end

local function product_record(p, id, now, old)
  old = old or {}
  local rec = { id = id, shopId = 0, isDeleted = old.isDeleted or 1, createTime = old.createTime or now,
    updateTime = now }
  for _, name in ipairs(SPU_FIELDS) do rec[name] = p[name] end
  rec.publishStatus = present(rec.publishStatus) and rec.publishStatus or 1
  rec.publishTime = rec.publishStatus == 1 and (old.publishTime or now) or json.null
  rec.productImgDTOs = json.array()
  for i, img in ipairs(json.is_array(p.productImages) and p.productImages or {}) do
    rec.productImgDTOs[i] = { id = new_id("image"), productId = id, shopId = 0, alt = img.alt, title = img.title,
      position = img.position or i, imgUrl = img.imgUrl or img.fileName, createTime = now, updateTime = now }
  end
  rec.productOptionDTOs = json.array()
  for i, opt in ipairs(json.is_array(p.productOptions) and p.productOptions or {}) do
    local opt_id = new_id("option")
    local values = json.array()
    for j, val in ipairs(json.is_array(opt.productOptionValues) and opt.productOptionValues or {}) do
      values[j] = { id = new_id("option_value"), productId = id, optionId = opt_id, value = val.value,
        position = val.position or j, createTime = now, updateTime = now }
    end
    rec.productOptionDTOs[i] = { id = opt_id, productId = id, shopId = 0, name = opt.name,
      position = opt.position or i, createTime = now, updateTime = now, productOptionValueDTOs = values }
  end
  rec.productCustomizedOptionDTOs = json.array()
  for i, opt in ipairs(json.is_array(p.productCustomizedOptions) and p.productCustomizedOptions or {}) do
    rec.productCustomizedOptionDTOs[i] = { id = new_id("custom_option"), productId = id, shopId = 0,
      name = opt.name, position = opt.position or i }
  end
  local old_variants = {}
  for _, v in ipairs(old.productVariantDTOs or {}) do old_variants[key(v.id)] = v end
  rec.productVariantDTOs = json.array()
  for i, v in ipairs(json.is_array(p.productVariants) and p.productVariants or {}) do
    local vid = present(v.id) and v.id or new_id("variant")
    rec.productVariantDTOs[i] = variant_dto(v, id, vid, now, old_variants[key(vid)])
  end
  return rec
end

h["products.add"] = function(p)
  local product = product_record(p, new_id("product"), util.epoch_ms())
  store.put(V, "products", key(product.id), product)
  return ok(product)
end

h["products.updateAll"] = function(p)
  local old, err = find("products", p.id, "product")
  if not old then return 200, err end
  for _, v in ipairs(json.is_array(p.productVariants) and p.productVariants or {}) do
    local known = false
    for _, ov in ipairs(old.productVariantDTOs or {}) do if key(ov.id) == key(v.id) then known = true end end
    if present(v.id) and not known then return fail(M.NOT_FOUND, "variant not found: " .. key(v.id)) end
  end
  local product = product_record(p, old.id, util.epoch_ms(), old)
  store.put(V, "products", key(product.id), product)
  return ok(product)
end

local function selective(p)
  local old, err = find("products", p.id, "product")
  if not old then return nil, err end
  util.assign_given(old, p, SPU_FIELDS)
  old.updateTime = util.epoch_ms()
  store.put(V, "products", key(old.id), old)
  return old
end

h["products.updateSpuSelective"] = function(p)
  local rec, err = selective(p)
  if not rec then return 200, err end
  return ok({ result = true })
end

h["products.updateSpuSelectiveBatch"] = function(p)
  for _, item in ipairs(p.products) do
    if not store.get(V, "products", key(item.id)) then
      return fail(M.NOT_FOUND, "product not found: " .. tostring(key(item.id)))
    end
  end
  for _, item in ipairs(p.products) do selective(item) end
  return ok({ result = true })
end

h["products"] = function(p)
  local num, size = page_num(p, 200)
  if not num then return fail(M.PARAM_ERROR, size) end
  local records = util.filter(store.list(V, "products"), function(r)
    return in_ids(p.ids, r.id) and time_between(r.updateTime, p.updatedAtMin, p.updatedAtMax)
  end)
  return ok({ totalCount = #records, pageNum = num, pageSize = size,
              productVOs = util.public_page(records, num, size) })
end

h["products.detail"] = lookup.getter("products", "id", "product")

h["products.delete"] = function(p)
  for _, id in ipairs(p.ids) do store.delete(V, "products", key(id)) end
  return ok({ result = true })
end

h["products.skus.addOrUpdate"] = function(p)
  local product, err = find("products", p.productId, "product")
  if not product then return 200, err end
  local variants = json.is_array(product.productVariantDTOs) and product.productVariantDTOs or json.array()
  local now = util.epoch_ms()
  for _, v in ipairs(p.updateProductVariants) do
    if present(v.id) then
      local found
      for i, old in ipairs(variants) do if key(old.id) == key(v.id) then found = i break end end
      if not found then return fail(M.NOT_FOUND, "variant not found: " .. key(v.id)) end
      variants[found] = variant_dto(v, product.id, variants[found].id, now, variants[found])
    else
      variants[#variants + 1] = variant_dto(v, product.id, new_id("variant"), now)
    end
  end
  product.productVariantDTOs = variants
  product.updateTime = now
  store.put(V, "products", key(product.id), product)
  return ok(product)
end

---------------------------------------------------------------------------- orders
-- page from 1, limit default 10 (max 250); sinceId: ids greater than it; orderStatus -2 = all.
h["Order.list"] = function(p)
  local page, limit = util.num(p.page) or 1, util.num(p.limit) or 10
  if page < 1 or page ~= math.floor(page) then return fail(M.PARAM_ERROR, "page must be an integer >= 1") end
  if limit < 1 or limit > 250 or limit ~= math.floor(limit) then
    return fail(M.PARAM_ERROR, "limit must be an integer in [1,250]")
  end
  local status = util.num(p.orderStatus)
  local records = util.filter(store.list(V, "orders"), function(r)
    return in_ids(p.ids, r.id)
      and (p.sinceId == nil or p.sinceId == json.null or util.id_less(p.sinceId, r.id))
      and (status == nil or status == -2 or util.num(r.status) == status)
      and time_between(r.createTime, p.createdAtMin, p.createdAtMax)
      and time_between(r.updateTime, p.updatedAtMin, p.updatedAtMax)
      and time_between(r.payTime, p.payAtMin, p.payAtMax)
  end)
  return ok({ totalCount = #records, orders = util.public_page(records, page, limit) })
end

h["Order.detail"] = lookup.getter("orders", "id", "order")

h["Order.update"] = function(p)
  local addr = p.orderShippingAddress
  local order_no = key(addr.orderNo)
  for _, o in ipairs(store.list(V, "orders")) do
    if key(o.orderNo) == order_no then
      o.shippingAddress = util.merge(type(o.shippingAddress) == "table" and o.shippingAddress or {}, addr)
      o.updateTime = util.epoch_ms()
      store.put(V, "orders", key(o.id), o)
      return ok({ success = true, errorMsg = "" })
    end
  end
  return fail(M.NOT_FOUND, "order not found: " .. tostring(order_no))
end

local function utm_list(p)
  local out = json.array()
  for _, no in ipairs(p.orderNos) do
    local rec = store.get(V, "utms", key(no))
    out[#out + 1] = { orderNo = no, utms = rec and rec.utms or json.array() }
  end
  return ok({ orderUtms = out })
end
h["UTM.list"], h["UTM.listV2"] = utm_list, utm_list

---------------------------------------------------------------------------- fulfillments
h["Fulfillment.list"] = function(p)
  local list = util.filter(store.list(V, "fulfillments"), function(r) return key(r.orderNo) == key(p.orderNo) end)
  return ok({ fulfillments = util.public_list(list) })
end

h["Fulfillment.add"] = function(p)
  local id = new_id("fulfillment")
  local items = json.array()
  for _, line in ipairs(p.lineItems) do
    items[#items + 1] = { id = new_id("fulfillment_item"), fulfillmentId = id, orderItemId = line.id,
                          quantity = line.quantity or 1 }
  end
  local now = util.epoch_ms()
  store.put(V, "fulfillments", key(id), { id = id, orderNo = p.orderNo, status = "success",
    trackingNumber = p.trackingNumber, trackingCompany = p.trackingCompany, fulfillmentItems = items,
    createTime = now, updateTime = now })
  return ok({ id = id, orderNo = p.orderNo })
end

h["Fulfillment.update"] = function(p)
  local rec, err = find("fulfillments", p.id, "fulfillment")
  if not rec then return 200, err end
  if key(rec.orderNo) ~= key(p.orderNo) then return fail(M.PARAM_ERROR, "orderNo does not match the fulfillment") end
  rec.trackingNumber = p.trackingNumber or rec.trackingNumber
  rec.trackingCompany = p.trackingCompany or rec.trackingCompany
  rec.updateTime = util.epoch_ms()
  store.put(V, "fulfillments", key(rec.id), rec)
  return ok({ id = rec.id, orderNo = rec.orderNo })
end

---------------------------------------------------------------------------- collections
h["collections"] = function(p)
  local num, size = page_num(p, 200)
  if not num then return fail(M.PARAM_ERROR, size) end
  local records = util.filter(store.list(V, "collections"), function(r)
    return in_ids(p.ids, r.id) and time_between(r.updateTime, p.updatedAtMin, p.updatedAtMax)
  end)
  return ok({ totalCount = #records, collections = util.public_page(records, num, size) })
end

h["collections.add"] = function(p)
  local rec = json.copy(p)
  rec.id = new_id("collection")
  local now = util.epoch_ms()
  rec.createTime, rec.updateTime = now, now
  store.put(V, "collections", key(rec.id), rec)
  return ok({ result = rec.id })
end

h["collections.update"] = function(p)
  local rec, err = find("collections", p.id, "collection")
  if not rec then return 200, err end
  util.merge(rec, p, { id = true })
  rec.updateTime = util.epoch_ms()
  store.put(V, "collections", key(rec.id), rec)
  return ok({ result = rec.id })
end

h["collections.detail"] = function(p)
  local rec, err = find("collections", p.id, "collection")
  if not rec then return 200, err end
  local num, size = page_num(p, 1000)
  if not num then return fail(M.PARAM_ERROR, size) end
  local products = {}
  for _, spu in ipairs(json.is_array(rec.spuIds) and rec.spuIds or {}) do
    local prod = store.get(V, "products", key(spu))
    if prod then products[#products + 1] = prod end
  end
  local out = util.public(rec)
  out.productCount = #products
  out.products = util.public_page(products, num, size)
  return ok(out)
end

h["collections.delete"] = lookup.deleter("collections", "id", "collection", { result = true })

---------------------------------------------------------------------------- shop, customers
h["merchant"] = function()
  local rec = store.list(V, "merchant")[1] or { id = 1, name = "Sandbox Shop", email = "shop@example.com",
    category = "sandbox", customerEmail = "service@example.com", legalPersonName = "", companyName = "Sandbox",
    phone = "", address = "", zip = "", currency = "USD" }
  return ok(util.public(rec))
end

h["customer.list"] = function(p)
  local num, size = page_num(p, 200)
  if not num then return fail(M.PARAM_ERROR, size) end
  local ids
  if type(p.ids) == "string" and p.ids ~= "" then
    ids = {}
    for id in p.ids:gmatch("[^,%s]+") do ids[#ids + 1] = id end
  end
  local records = util.filter(store.list(V, "customers"), function(r)
    return in_ids(ids, r.id) and (p.email == nil or p.email == json.null or r.email == p.email)
      and time_between(r.createTime, p.createdAtMin, p.createdAtMax)
      and time_between(r.updateTime, p.updatedAtMin, p.updatedAtMax)
  end)
  return ok({ totalCount = #records, customers = util.public_page(records, num, size) })
end

h["customer.detail"] = lookup.getter("customers", "id", "customer")

h["customer.update"] = function(p)
  local rec, err = find("customers", p.id, "customer")
  if not rec then return 200, err end
  util.assign_given(rec, p, { "firstName", "lastName", "phone", "acceptsMarketing" })
  rec.updateTime = util.epoch_ms()
  store.put(V, "customers", key(rec.id), rec)
  return ok(util.public(rec))
end

---------------------------------------------------------------------------- webhooks
local EVENTS = { "products_create", "products_update", "products_delete", "order_create", "order_update",
  "customer_create", "customer_update" }
local ACCEPTED = { product_create = true, product_update = true, product_delete = true, order_create = true,
  order_update = true, customer_create = true, customer_update = true, shop_update = true,
  products_create = true, products_update = true, products_delete = true }

h["webhook.event"] = function() return ok({ events = json.array(EVENTS) }) end

h["webhook.create"] = function(p)
  if not ACCEPTED[p.event] then return fail(M.PARAM_ERROR, "unknown event: " .. tostring(p.event)) end
  local now = util.epoch_ms()
  local rec = { id = tostring(store.next(V, "webhook")), shopId = 0, url = p.url, event = p.event,
    platform = p.platform or "Shoplus_BI", apiSecret = p.apiSecret or "", createTime = now, updateTime = now }
  store.put(V, "webhooks", rec.id, rec)
  return ok(rec)
end

h["webhook.update"] = function(p)
  local rec, err = find("webhooks", p.id, "webhook")
  if not rec then return 200, err end
  if p.event ~= nil and not ACCEPTED[p.event] then return fail(M.PARAM_ERROR, "unknown event: " ..
    tostring(p.event)) end
  util.assign_given(rec, p, { "url", "event", "platform", "apiSecret" })
  rec.updateTime = util.epoch_ms()
  store.put(V, "webhooks", rec.id, rec)
  return ok(rec)
end

h["webhook.list"] = function(p)
  local page, limit = util.num(p.page) or 1, util.num(p.limit) or 10
  if page < 1 or limit < 1 or limit > 250 then return fail(M.PARAM_ERROR, "page >= 1 and limit in [1,250]") end
  return ok({ webHookVOList = util.slice(store.list(V, "webhooks"), (page - 1) * limit + 1, limit) })
end

h["webhook.detail"] = function(p)
  local rec, err = find("webhooks", p.id, "webhook")
  if not rec then return 200, err end
  return ok(rec)
end

h["webhook.delete"] = lookup.deleter("webhooks", "id", "webhook", { result = true })

---------------------------------------------------------------------------- dispatch
local by_name = {}
for _, o in ipairs(ops.of(V)) do by_name[o.name] = o end

-- upper-hex MD5(secret .. name1 value1 name2 value2 ... .. secret), names sorted ascending.
local function expected_sign(body, secret)
  local names = {}
  for name, value in pairs(body) do
    if name ~= "sign" and value ~= json.null then names[#names + 1] = name end
  end
  table.sort(names)
  local parts = { secret }
  for _, name in ipairs(names) do
    parts[#parts + 1] = name
    parts[#parts + 1] = json.text(body[name]) or json.encode(body[name])
  end
  parts[#parts + 1] = secret
  return crypto.md5_hex(table.concat(parts)):upper()
end

function M.handle(req)
  if req.uri ~= "/open-api" then return 404, envelope("404", "no such endpoint: " .. req.uri, {}) end
  if req.method ~= "POST" then return 405, envelope("405", "method not allowed", {}) end
  local body = json.decode(req.body)
  if type(body) ~= "table" or json.is_array(body) then return fail(M.PARAM_ERROR,
    "request body must be a JSON object") end
  for _, name in ipairs { "name", "version", "app_key", "data", "timestamp", "sign" } do
    if type(body[name]) ~= "string" then return fail(M.PARAM_ERROR, "missing system parameter: " .. name) end
  end
  local creds = config.get(V)
  if body.app_key ~= creds.app_key then return fail(M.AUTH_ERROR, "invalid app_key") end
  if not crypto.equal(body.sign:upper(), expected_sign(body, creds.secret)) then
    return fail(M.AUTH_ERROR, "invalid sign")
  end
  if not body.timestamp:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") then
    return fail(M.PARAM_ERROR, "timestamp must be yyyy-MM-dd HH:mm:ss")
  end
  local op = by_name[body.name]
  if not op then return fail(M.NOT_FOUND, "unknown api name: " .. body.name) end
  if body.version ~= "1.0" then return fail(M.PARAM_ERROR, "unsupported version: " .. body.version) end
  local params = body.data == "" and {} or json.decode(util.percent_decode(body.data, true))
  if type(params) ~= "table" or json.is_array(params) then
    return fail(M.PARAM_ERROR, "data must be the URL-encoded JSON object of the business parameters")
  end
  local missing = ops.missing(op, params)
  if missing then return fail(M.PARAM_ERROR, "missing required parameter: " .. missing) end
  return h[op.name](params)
end

return M
