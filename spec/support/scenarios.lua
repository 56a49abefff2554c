-- Per vendor, every operation once, in an order where each call finds what it needs: creates
-- first (their answers give the ids later steps use), then reads, updates and deletes. Built
-- on the document examples (support/examples.lua); `ctx` carries ids between steps. Each step:
--   { op, params = overrides (values may be function(ctx)), check = function(data, ctx) }
-- `seed` lists records a vendor has no create operation for (entity -> records), stored with
-- the sandbox's seed control before the steps run.
local examples = require "support.examples"

local S = {}

local function today(offset_days)
  return os.date("!%Y-%m-%d", os.time() + 8 * 3600 + (offset_days or 0) * 86400)
end

-- The example for op with the overrides applied (function values are called with ctx).
function S.params(vendor, step, ctx)
  local out = {}
  if not step.replace then
    for k, v in pairs(examples[vendor][step[1]] or {}) do out[k] = v end
  end
  for k, v in pairs(step.params or {}) do
    if type(v) == "function" then out[k] = v(ctx) else out[k] = v end
  end
  return out
end

local function ctx_of(name) return function(ctx) return ctx[name] end end

S.sobot = {
  { "stores/add" },
  { "stores/get", replace = true, params = { page_no = 1, page_size = 5 }, check = function(data, _, t)
      local found = false
      for _, r in ipairs(data.data) do if r.store_id == "42870430" then found = true end end
      t.is_true(found)
    end },
  { "item_category/add" },
  { "item_categories/get", check = function(data, _, t)
      t.equal("202103045600000323434", data[1].category_id)
    end },
  { "items/add" },
  { "items/get", check = function(data, _, t) t.equal("1000001", data.data[1].item_id) end },
  { "orders/add", check = function(data, _, t) t.equal(0, #data) end },
  { "orders/get", check = function(data, _, t) t.equal("O16581373580000001", data.data[1].order_id) end },
  { "logistics/add" },
  { "refunds/add" },
  { "refunds/get", check = function(data, _, t)
      t.equal("201709282209550100010711", data.data[1].refund_no)
    end },
}

S.hd = {
  { "saleorder", check = function(data, ctx, t)
      t.is_true(data.success)
      ctx.id = data.sale_order_id
    end },
  { "saleorder/{id}", params = { id = ctx_of("id") }, check = function(data, ctx, t)
      t.equal(ctx.id, data.id)
      t.equal("32323232323323", data.front.order_id)
    end },
  { "saleorder/front/{front_order_id}", check = function(data, ctx, t) t.equal(ctx.id, data.id) end },
  { "saleorder/{id}/action/deliver", params = { id = ctx_of("id"), delivery_state = "shipped" },
    check = function(data, _, t) t.is_true(data.success) end },
  { "saleorders", params = { sale_order_id = function(ctx) return { ctx.id } end },
    check = function(data, ctx, t)
      t.equal(ctx.id, data.sale_orders[1].id)
      t.equal("delivering", data.sale_orders[1].state)
    end },
  { "saleorders/query", replace = true, params = { page = 0, page_size = 20, states = { "delivering" } },
    check = function(data, ctx, t) t.equal(ctx.id, data.saleOrders[1].id) end },
}

S.shoplus = {
  seed = {
    orders = { { id = 1001, orderNo = "5202012027521001", status = 1, currency = "USD",
                 createTime = 1616488739000, updateTime = 1616488739000 } },   -- 002:L2186
    customers = { { id = 101, email = "czj1@cc.com", firstName = "a", lastName = "b" } },
  },
  { "products.add", check = function(data, ctx, t)
      ctx.product_id = data.id
      ctx.variant_id = data.productVariantDTOs[1].id      -- the document's answer shape
      t.equal("夏季 T恤", data.title)
    end },
  { "products.detail", params = { id = ctx_of("product_id") },
    check = function(data, _, t) t.equal("SPU001", data.spuCode) end },
  { "products.updateAll", params = { id = ctx_of("product_id"), productVariants = function(ctx)
      return { { id = ctx.variant_id, skuCode = "SKU001", salePrice = 18.5 } } end },
    check = function(data, _, t) t.equal(18.5, data.productVariantDTOs[1].salePrice) end },
  { "products.updateSpuSelective", params = { id = ctx_of("product_id") } },
  { "products.updateSpuSelectiveBatch", params = { products = function(ctx)
      return { { id = ctx.product_id, publishStatus = 0 } } end } },
  { "products.skus.addOrUpdate", params = { productId = ctx_of("product_id"),
      updateProductVariants = { { skuCode = "SKU002", salePrice = 20 } } },
    check = function(data, _, t) t.equal(2, #data.productVariantDTOs) end },
  { "products", check = function(data, _, t) t.equal(1, data.totalCount) end },
  { "Order.list", check = function(data, _, t) t.equal("5202012027521001", data.orders[1].orderNo) end },
  { "Order.detail", check = function(data, _, t) t.equal("5202012027521001", data.orderNo) end },
  { "Order.update", check = function(data, _, t) t.is_true(data.success) end },
  { "UTM.list", check = function(data, _, t) t.equal("5202012027521001", data.orderUtms[1].orderNo) end },
  { "UTM.listV2", check = function(data, _, t) t.equal(1, #data.orderUtms) end },
  { "Fulfillment.add", check = function(data, ctx) ctx.fulfillment_id = data.id end },
  { "Fulfillment.list", check = function(data, _, t) t.equal("SF100101", data.fulfillments[1].trackingNumber) end },
  { "Fulfillment.update", params = { id = ctx_of("fulfillment_id") } },
  { "collections.add", check = function(data, ctx) ctx.collection_id = data.result end },
  { "collections", check = function(data, _, t) t.equal("Summer", data.collections[1].title) end },
  { "collections.update", params = { id = ctx_of("collection_id") } },
  { "collections.detail", params = { id = ctx_of("collection_id") },
    check = function(data, _, t) t.equal("Summer sale", data.title) end },
  { "collections.delete", params = { id = ctx_of("collection_id") } },
  { "merchant", check = function(data, _, t) t.is_not_nil(data.name) end },
  { "customer.list", check = function(data, _, t) t.equal(1, #data.customers) end },
  { "customer.detail", check = function(data, _, t) t.equal("czj1@cc.com", data.email) end },
  { "customer.update", check = function(data, _, t) t.equal("chen", data.firstName) end },
  { "webhook.event" },
  { "webhook.create", check = function(data, ctx) ctx.webhook_id = data.id end },
  { "webhook.list", check = function(data, _, t) t.equal(1, #data.webHookVOList) end },
  { "webhook.update", params = { id = ctx_of("webhook_id") } },
  { "webhook.detail", params = { id = ctx_of("webhook_id") },
    check = function(data, _, t) t.equal("order_update", data.event) end },
  { "webhook.delete", params = { id = ctx_of("webhook_id") } },
  { "products.delete", params = { ids = function(ctx) return { ctx.product_id } end } },
}

local function first_id(list) return list[1] and list[1].id end

S.guanmai = {
  { "customer/create", check = function(data, ctx) ctx.customer_id = data.customer_id end },
  { "customer/upadte", params = { customer_id = ctx_of("customer_id") } },
  { "customer/list", check = function(data, ctx, t) t.equal(ctx.customer_id, data[1].customer_id) end },
  { "area/list", params = { customer_id = ctx_of("customer_id") } },
  { "product/category1/list" },
  { "product/category2/list" },
  { "product/pinlei/list" },
  { "product/spu/create", check = function(data, ctx) ctx.spu_id = data.spu_id end },
  { "product/spu/get", params = { spu_id = ctx_of("spu_id") },
    check = function(data, _, t) t.equal("小白菜", data.name) end },
  { "product/spu/update", params = { spu_id = ctx_of("spu_id") } },
  { "product/spu/list", check = function(data, ctx, t) t.equal(ctx.spu_id, data[1].spu_id) end },
  { "product/sku/create", params = { spu_id = ctx_of("spu_id") },
    check = function(data, ctx) ctx.sku_id = data.sku_id end },
  { "product/sku/get", params = { sku_id = ctx_of("sku_id") },
    check = function(data, _, t) t.equal("小白菜 500g", data.sku_name) end },
  { "product/sku/update", params = { sku_id = ctx_of("sku_id") } },
  { "product/sku/list", params = { spu_id = ctx_of("spu_id") },
    check = function(data, ctx, t) t.equal(ctx.sku_id, data[1].sku_id) end },
  { "product/salemenu/list" },
  { "std_unit_name/list" },
  { "order/after_sales/exception_reason/list" },
  { "order/create", params = { sid = ctx_of("customer_id"), products = function(ctx)
      return { { sku_id = ctx.sku_id, amount = 2.5, unit_price = 728 } } end },
    check = function(data, ctx) ctx.order_id = data.order_id end },
  { "order/get", params = { order_id = ctx_of("order_id") },
    check = function(data, ctx, t) t.equal(ctx.sku_id, data.details[1].id) end },   -- id = SKU id
  { "order/update", params = { order_id = ctx_of("order_id") } },
  { "order/list", params = { start_date = today(-1), end_date = today(1) },
    check = function(data, ctx, t) t.equal(ctx.order_id, data[1].order_id) end },
  { "order/sku/create", params = { order_id = ctx_of("order_id") } },
  { "order/sku/update", params = { order_id = ctx_of("order_id"), products = function(ctx)
      return { { sku_id = ctx.sku_id, amount = 3 } } end } },
  { "order/sku/delete", params = { order_id = ctx_of("order_id") } },
  { "order/abnormal/create", params = { order_id = ctx_of("order_id"), abnormal = function(ctx)
      return { { sku_id = ctx.sku_id, exception_reason = 1, final_amount = 1.5, money_delta = -200 } } end } },
  { "order/refund/create", params = { order_id = ctx_of("order_id"), refund = function(ctx)
      return { { sku_id = ctx.sku_id, exception_reason = 5, request_amount = 1.0 } } end } },
  { "order/get", params = { order_id = ctx_of("order_id") }, check = function(data, ctx)
      -- the document spells the abnormal list `abnomal` in answers (003:L279)
      ctx.abnormal_id = first_id(data.abnomal or data.abnormal)
      ctx.refund_id = first_id(data.refund)
    end },
  { "order/after_sales/update#abnormal", params = { order_id = ctx_of("order_id"), abnormal = function(ctx)
      return { { id = ctx.abnormal_id, sku_id = ctx.sku_id, exception_reason = 1, final_amount = 2,
                 money_delta = -100 } } end } },
  { "order/after_sales/update#refund", params = { order_id = ctx_of("order_id"), refund = function(ctx)
      return { { id = ctx.refund_id, sku_id = ctx.sku_id, exception_reason = 5, request_amount = 0.5 } } end } },
  { "order/after_sales/delete#abnormal", params = { order_id = ctx_of("order_id"), abnormal = function(ctx)
      return { { id = ctx.abnormal_id, sku_id = ctx.sku_id } } end } },
  { "order/after_sales/delete#refund", params = { order_id = ctx_of("order_id"), refund = function(ctx)
      return { { id = ctx.refund_id, sku_id = ctx.sku_id } } end } },
  { "delivery/car_model/list" },
  { "delivery/carrier/list" },
  { "delivery/driver/create", check = function(data, ctx) ctx.driver_id = data.driver_id end },
  { "delivery/driver/update", params = { driver_id = ctx_of("driver_id") } },
  { "delivery/driver/list", check = function(data, ctx, t) t.equal(ctx.driver_id, data[1].driver_id) end },
  { "delivery/driver/assign", params = { driver_id = ctx_of("driver_id"), order_ids = function(ctx)
      return { ctx.order_id } end } },
  { "delivery/task/list", replace = true },
  { "delivery/driver/cancel", params = { order_ids = function(ctx) return { ctx.order_id } end } },
  { "delivery/route/create", params = { customer_ids = function(ctx) return { ctx.customer_id } end } },
  { "delivery/route/list", replace = true, check = function(data, ctx) ctx.route_id = data[1].route_id end },
  { "delivery/route/get", params = { route_id = ctx_of("route_id") },
    check = function(data, ctx, t) t.equal(ctx.customer_id, data[1].customer_id) end },
  { "delivery/route/update", params = { route_id = ctx_of("route_id") } },
  { "delivery/route/delete", params = { route_id = ctx_of("route_id") } },
  { "finance/strike", params = { customer_id = ctx_of("customer_id") } },
  { "finance/strike_flow/list", params = { customer_id = ctx_of("customer_id") },
    check = function(data, _, t) t.equal("D2018120501", data[1].deal_code) end },
  { "finance/cash_flow/list" },
  { "finance/order/refund", params = { order_id = ctx_of("order_id") } },
  { "order/delete", params = { order_id = ctx_of("order_id") } },
  { "product/sku/delete", params = { sku_id = ctx_of("sku_id") } },
  { "product/spu/delete", params = { spu_id = ctx_of("spu_id") } },
}

S.babycare = {
  seed = {
    packages = { { expressNo = "1200001", platformOrderNo = "3064563540143586756", storeCode = "01TM1001",
                   expressCode = "SF", expressName = "顺丰", deliveryTime = "2023-04-20 10:00:00" } },
  },
  { "order/sales/createV2", check = function(data, ctx, t)
      ctx.sales_order_id, ctx.sales_order_code = data.salesOrderId, data.salesOrderCode
      t.equal("3064563540143586756", tostring(data.platformOrderNo))
    end },
  { "order/salesDetail/list", check = function(data, ctx, t)
      local order = data.orderList[1]
      t.equal(ctx.sales_order_code, order.salesOrderCode)
      ctx.line_id = order.orderDetailList[1].id
    end },
  { "order/package/list", check = function(data, _, t) t.equal("1200001", data.orderPackageList[1].expressNo) end },
  { "order/exchange/create", params = { platformOrderNo = "3064563540143586756",
      salesOrderId = ctx_of("sales_order_id") } },
  { "order/supply/create", params = { platformOrderNo = "3064563540143586756" } },
  { "order/return/create", params = { platformOrderNo = "3064563540143586756",
      salesOrderId = ctx_of("sales_order_id"), returnInDetailList = function(ctx)
        return { { salesOrderDetailId = ctx.line_id, platformNo = "3064563540143586757",
                   skuCode = "6926523450105", qty = 1 } } end } },
  { "order/sales/cancel", params = { salesOrderCode = ctx_of("sales_order_code") } },
}

return S
