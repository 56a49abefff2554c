-- bench/map.lua: 1000 Shoplus orders (bench/data/orders_1k.json) to canonical orders
-- with the compiled mapper (the shipped mappings/shoplus_order.lua) next to a
-- hand-written idiomatic Lua function doing the same mapping (exact money on the
-- number's text, like the mapper), and mapper:decode(text) next to cjson.decode
-- followed by that function. Prints times and ratios; one run, Lua 5.4.
local cjson = require "cjson"
local mapper = require "mallapi.mapper"
local spec = require("mallapi.mappings.shoplus_order").to_canonical

local f = assert(io.open("bench/data/orders_1k.json", "rb"))
local text = f:read("a")
f:close()
local list = cjson.decode(text).data.list
assert(#list == 1000)

local tostring, floor, type, fmt, tointeger = tostring, math.floor, type, string.format, math.tointeger

-- Exact decimal -> minor units (2 decimals) from the number's shortest text.
local function minor(v)
  if v == nil then return nil end
  local s = type(v) == "number" and (tointeger(v) and fmt("%d", v) or fmt("%.17g", v)) or v
  if type(v) == "number" and not tointeger(v) then
    for p = 15, 17 do
      local t = fmt("%." .. p .. "g", v)
      if tonumber(t) == v then s = t break end
    end
  end
  local sign, int, frac = s:match("^(-?)(%d*)%.?(%d*)$")
  if not int then error("bad money " .. s) end
  if #frac > 2 then
    if frac:sub(3):find("[1-9]") then error("more than 2 decimals: " .. s) end
    frac = frac:sub(1, 2)
  end
  frac = frac .. ("0"):rep(2 - #frac)
  local n = tointeger(tonumber(int ~= "" and int or "0") * 100 + tonumber(frac))
  return sign == "-" and -n or n
end

local function id(v)
  if v == nil then return nil end
  if type(v) == "number" then return fmt("%d", floor(v)) end
  return tostring(v)
end

local status = { [-1] = "payment_failed", [0] = "pending_payment", [1] = "paid", [2] = "shipped",
                 [3] = "cancelled", [4] = "completed" }
local fulfillment = { [0] = "unfulfilled", [1] = "partial", [2] = "fulfilled",
                      [3] = "partially_delivered", [4] = "delivered" }
local refund = { [-1] = "failed", [0] = "pending", [1] = "partially_refunded", [2] = "refunded" }

local function address(a)
  if a == nil then return nil end
  local name
  if a.firstName and a.lastName then name = a.firstName .. " " .. a.lastName
  else name = a.firstName or a.lastName end
  return {
    first_name = a.firstName, last_name = a.lastName, name = name, phone = a.phone,
    company = a.company, street = a.address1, street2 = a.address2, city = a.city,
    province = a.province, province_code = a.provinceCode, country = a.country,
    country_code = a.countryCode, zip = a.zip,
  }
end

local function by_hand(o)
  if o.id == nil or o.orderNo == nil or o.currency == nil or o.payTotalAmount == nil or o.createTime == nil then
    return nil, "missing required field"
  end
  local ship = o.shippingAddress
  local lines = {}
  for i, it in ipairs(o.orderItems or {}) do
    lines[i] = {
      id = id(it.id), product_id = id(it.productId), sku_id = id(it.variantId),
      sku_code = it.skuCode, title = it.title, options = it.variantOptionValue,
      quantity = it.quantity, unit_price = minor(it.variantPrice), total = minor(it.saleAmount),
      paid_total = minor(it.payAmount), discount = minor(it.totalDiscount),
      refund_status = it.refundStatus ~= nil and (refund[it.refundStatus] or "other") or nil,
    }
  end
  local discounts = {}
  for i, d in ipairs(o.discounts or {}) do
    discounts[i] = { id = id(d.discountId), code = d.code, type = d.type and tostring(d.type),
                     title = d.title, amount = minor(d.amount) }
  end
  local buyer_id_type
  if o.email and o.email ~= "" then buyer_id_type = "email"
  elseif o.phone and o.phone ~= "" then buyer_id_type = "mobile" end
  local payment = o.payment or {}
  local buyer_name
  if ship then
    if ship.firstName and ship.lastName then buyer_name = ship.firstName .. " " .. ship.lastName
    else buyer_name = ship.firstName or ship.lastName end
  end
  return {
    id = id(o.id), order_no = o.orderNo, store_id = id(o.shopId),
    status = o.status ~= nil and (status[o.status] or "other") or nil,
    fulfillment_status = o.fulfillmentStatus ~= nil and (fulfillment[o.fulfillmentStatus] or "other") or nil,
    currency = o.currency, subtotal = minor(o.itemsAmount),
    shipping_fee = minor(o.orderShipping and o.orderShipping.payShipAmount),
    discount_total = minor(o.discountsAmount), tax_total = minor(o.taxAmount),
    total = minor(o.payTotalAmount), created_at = o.createTime, updated_at = o.updateTime,
    paid_at = o.payTime, cancelled_at = o.cancelledTime,
    buyer_id = o.email or (o.customer and o.customer.email) or o.phone,
    buyer_id_type = buyer_id_type,
    buyer_email = o.email ~= "" and o.email or nil, buyer_phone = o.phone ~= "" and o.phone or nil,
    buyer_name = buyer_name, buyer_note = o.buyerRemark, seller_note = o.sellerRemark,
    shipping_address = address(ship), billing_address = address(o.billingAddress),
    payment = { gateway = o.gateway, method = payment.creditCardCompany,
                transaction_id = payment.paymentId, amount = minor(o.payTotalAmount), paid_at = o.payTime },
    lines = lines, discounts = discounts,
  }
end

local m = mapper(spec)

-- Same results first (the benchmark compares equal work).
local function same(a, b, path)
  if type(a) ~= "table" or type(b) ~= "table" then
    assert(a == b, path .. ": " .. tostring(a) .. " ~= " .. tostring(b))
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k, v in pairs(b) do same(a[k], v, path .. "." .. tostring(k)) end
end
for i = 1, #list do same(assert(m(list[i])), by_hand(list[i]), "order " .. i) end

-- best of 3 batches of `rounds` calls (the machine is shared), time per call
local sink
local function time(fn, rounds)
  local best = math.huge
  for _ = 1, 3 do
    collectgarbage("collect")
    local t0 = os.clock()
    for _ = 1, rounds do sink = fn() end
    best = math.min(best, (os.clock() - t0) / rounds)
  end
  return best
end

local ROUNDS = 10
-- one document at a time, each result dropped (both sides allocate the same targets)
local t_mapper = time(function() for i = 1, #list do m(list[i]) end end, ROUNDS)
local t_hand = time(function() for i = 1, #list do by_hand(list[i]) end end, ROUNDS)
local t_many = time(function() m:many(list) end, ROUNDS)
-- decode and map straight from the API answer's text, the records at data.list; both
-- sides keep the 1000 results (decode returns them as a list)
local t_decode = time(function() return assert(m:decode(text, "data.list")) end, ROUNDS)
local t_cjson = time(function()
  local docs, out = cjson.decode(text).data.list, {}
  for i = 1, #docs do out[i] = by_hand(docs[i]) end
  return out
end, ROUNDS)

assert(sink)
print(("map 1000 Shoplus orders to canonical (%s, best of 3 x %d rounds)"):format(_VERSION, ROUNDS))
print(("  mapper(doc)            %8.2f ms"):format(t_mapper * 1e3))
print(("  mapper:many(list)      %8.2f ms"):format(t_many * 1e3))
print(("  hand-written Lua       %8.2f ms   ratio %.2fx (target >= 3x)"):format(t_hand * 1e3, t_hand / t_mapper))
local c_decode = debug.getinfo(require("mallapi.core").map.methods.decode, "S").what == "C"
print(("  mapper:decode(text)    %8.2f ms   (%s)"):format(t_decode * 1e3,
  c_decode and "streamed from the text" or "fallback: whole decode, then map"))
print(("  cjson.decode + Lua     %8.2f ms   ratio %.2fx (target >= 2x)"):format(t_cjson * 1e3, t_cjson / t_decode))
