-- Demo data: Shoplus orders as Order.list returns them (002: L852-1030), for seeding
-- the sandbox. 64-bit ids above 2^53, Chinese names and addresses, amounts with cents
-- (16.05, ...), update times one second apart. The numbers are written as JSON
-- number text (sandbox.json bignums), so the seeded documents hold them exactly.
-- Also the expectations the demo checks on the Sobot side: each order's id digits
-- and its amount in fen, computed from the text, never through a double.
local json = require "sandbox.json"

local M = {}

local CITIES = { { "广东省", "广州市", "天河区" }, { "浙江省", "杭州市", "西湖区" }, { "四川省", "成都市", "武侯区" },
  { "上海市", "上海市", "浦东新区" } }
local GOODS = { "有机绿茶 250克", "手工月饼礼盒", "不锈钢保温杯", "纯棉T恤（白色）", "川味火锅底料" }

M.BASE_MS = 1764000000000        -- 2025-11-24 16:00:00 UTC
M.FIRST_ID = "531464955418787840"

-- Adds n to a decimal digit string (ids beyond what a double holds).
local function add(digits, n)
  local out, carry, i = {}, n, #digits
  while i >= 1 or carry > 0 do
    local d = (i >= 1 and tonumber(digits:sub(i, i)) or 0) + carry
    out[#out + 1] = tostring(d % 10)
    carry = math.floor(d / 10)
    i = i - 1
  end
  return string.reverse(table.concat(out))
end
M.add = add

-- Order i (1-based): { record = <seed record>, id = "<digits>", fen = "<integer text>" }.
function M.order(i)
  local id = add(M.FIRST_ID, i * 1009)
  local cents = 1605 + (i * 7919) % 50000              -- 16.05, 95.24, ...
  local amount = string.format("%d.%02d", math.floor(cents / 100), cents % 100)
  local place, goods = CITIES[i % #CITIES + 1], GOODS[i % #GOODS + 1]
  local updated = M.BASE_MS + i * 1000
  local record = {
    id = json.bignum(id), orderNo = string.format("52020120%08d", i), shopId = 10086,
    status = 1, fulfillmentStatus = 0, currency = "CNY", gateway = "Alipay",
    email = string.format("buyer%d@example.cn", i), phone = string.format("138%08d", i),
    itemsAmount = json.bignum(amount), payTotalAmount = json.bignum(amount), discountsAmount = 0,
    createTime = updated - 60000, updateTime = updated, payTime = updated - 30000,
    buyerRemark = "请尽快发货，谢谢！",
    shippingAddress = { firstName = "张", lastName = "三" .. i, phone = string.format("138%08d", i),
      country = "中国", countryCode = "CN", province = place[1], city = place[2],
      address1 = place[3] .. "文化路 " .. i .. " 号", zip = "510000" },
    orderItems = json.array{ {
      id = json.bignum(add(id, 1)), productId = 9000 + i % 17, variantId = 70000 + i % 17,
      skuCode = "SKU-" .. (i % 17), title = goods, quantity = 1,
      variantPrice = json.bignum(amount), saleAmount = json.bignum(amount),
      payAmount = json.bignum(amount), totalDiscount = 0, financialStatus = "Paid",
    } },
  }
  return { record = record, id = id, fen = tostring(cents) }
end

function M.orders(n)
  local list = {}
  for i = 1, n do list[i] = M.order(i) end
  return list
end

-- Seed n orders in pages of `chunk` (the control endpoint takes one JSON body).
function M.seed(sb, n, chunk)
  chunk = chunk or 500
  local expected, batch = {}, {}
  for i = 1, n do
    local o = M.order(i)
    expected[#expected + 1] = o
    batch[#batch + 1] = o.record
    if #batch == chunk or i == n then
      assert(sb:seed("shoplus", "orders", batch))
      batch = {}
    end
  end
  return expected
end

-- Compare the Sobot sandbox's orders with the expectations: every id once, amount in
-- fen as sent. Returns ok, a one-line report, the list of problems.
function M.check(sobot_orders, expected)
  local want, seen, problems = {}, {}, {}
  for _, e in ipairs(expected) do want[e.id] = e end
  local intact, dup, unexpected = 0, 0, 0
  for _, o in ipairs(sobot_orders) do
    local id = json.text(o.order_id)
    local e = want[id]
    if seen[id] then dup = dup + 1
    elseif not e then unexpected = unexpected + 1
    elseif json.text(o.actual_amount) ~= e.fen then
      problems[#problems + 1] = string.format("order %s: amount %s, expected %s fen", id, json.text(o.actual_amount),
        e.fen)
    else
      intact = intact + 1
    end
    seen[id] = true
  end
  for _, e in ipairs(expected) do
    if not seen[e.id] then problems[#problems + 1] = "missing order " .. e.id end
  end
  local ok = intact == #expected and dup == 0 and unexpected == 0
  return ok, string.format("%d of %d orders arrived with ids and amounts intact (%d missing or altered, "
    .. "%d duplicated, %d unexpected)", intact, #expected, #problems, dup, unexpected), problems
end

return M
