-- Every operation the five vendor documents list, as data: vendor, name (as the client names
-- it), HTTP method, the path the sandbox serves, and the parameters the document marks as
-- required. Markers after a name: "[]" a JSON array, "{}" a JSON object, "a[].b" a member
-- required in each item of array a. `query` lists required query parameters (Hd), `variant`
-- the body key that tells two operations on one path apart (Guanmai after_sales).
-- Used by the server to route and check, and by specs to enumerate (11/6/31/51/7 = 106).
local json = require "sandbox.json"

local M = {}

local SOBOT = "/zk-data-adapter/api/data/v1/"
local HD = "/{tenant_id}/soms/saleorderservice/"
local BABYCARE = "/api/gateway/open/v5/"

local list = {}
local function op(vendor, name, method, path, required, extra)
  local o = { vendor = vendor, name = name, method = method, path = path, required = required or {} }
  for k, v in pairs(extra or {}) do o[k] = v end
  list[#list + 1] = o
end

local function sobot(name, required) op("sobot", name, "POST", SOBOT .. name, required) end
local function hd(name, method, required, extra) op("hd", name, method, HD .. name, required, extra) end
local function shoplus(name, required) op("shoplus", name, "POST", "/open-api", required) end
local function guanmai(path, method, required, extra)
  local name = path
  if extra and extra.variant then name = path .. "#" .. extra.variant end
  op("guanmai", name, method, "/api/" .. path, required, extra)
end
local function babycare(name, required) op("babycare", name, "POST", BABYCARE .. name, required) end

-- Sobot Mall Center (000): every call also needs timestamp and nonce in the body.
sobot("stores/add", { "store_list[]", "store_list[].storeid", "store_list[].store_name",
  "store_list[].status", "store_list[].create_time", "store_list[].update_time", "store_list[].delete_flag" })
sobot("stores/get", { "page_no", "page_size" })
sobot("item_category/add", { "item_category{}", "item_category.category_id", "item_category.category_name" })
sobot("item_categories/get", { "category_id" })
sobot("items/add", { "item_list[]", "item_list[].storeid", "item_list[].itemid", "item_list[].name",
  "item_list[].retail_price", "item_list[].create_time", "item_list[].update_time",
  "item_list[].delete_flag", "item_list[].status" })
sobot("items/get", { "page_no", "page_size" })
sobot("orders/add", { "order_list[]", "order_list[].storeid", "order_list[].orderid", "order_list[].order_no",
  "order_list[].create_time", "order_list[].update_time", "order_list[].status", "order_list[].actual_amount",
  "order_list[].buyerid", "order_list[].buyerid_type", "order_list[].item_list[]", "order_list[].receiver{}" })
sobot("orders/get", { "page_no", "page_size" })
sobot("logistics/add", { "logistics_list[]", "logistics_list[].order_no", "logistics_list[].fee",
  "logistics_list[].status", "logistics_list[].company_name", "logistics_list[].tracking_number",
  "logistics_list[].create_time", "logistics_list[].update_time" })
sobot("refunds/add", { "refund_list[]", "refund_list[].order_no", "refund_list[].refund_no",
  "refund_list[].fee", "refund_list[].status", "refund_list[].create_time", "refund_list[].update_time" })
sobot("refunds/get", { "page_no", "page_size" })

-- Hd SOMS (001): no parameter is marked required; path parameters are, and the operator
-- query parameter travels on every call (doc/assumptions.md).
hd("saleorder", "POST", {}, { query = { "operator" } })
hd("saleorder/front/{front_order_id}", "GET", {}, { query = { "operator" } })
hd("saleorder/{id}", "GET", {}, { query = { "operator" } })
hd("saleorder/{id}/action/deliver", "POST", {}, { query = { "operator" } })
hd("saleorders", "GET", {}, { query = { "operator", "sale_order_id" } })
hd("saleorders/query", "POST", {}, { query = { "operator" } })

-- Shoplus (002): the required flags were lost from the document; the keys an operation
-- cannot work without are required here (title 002:L22, orderShippingAddress.orderNo L1209,
-- lineItems L1346). This list is the sandbox's own; the client's profile carries the same
-- one and spec/fidelity_spec.lua checks that every entry here is required there too.
shoplus("products.add", { "title" })
shoplus("products.updateAll", { "id", "title" })
shoplus("products.updateSpuSelective", { "id" })
shoplus("products.updateSpuSelectiveBatch", { "products[]", "products[].id" })
shoplus("products", {})
shoplus("products.detail", { "id" })
shoplus("products.delete", { "ids[]" })
shoplus("products.skus.addOrUpdate", { "productId", "updateProductVariants[]" })
shoplus("Order.list", {})
shoplus("Order.detail", { "id" })
shoplus("Order.update", { "orderShippingAddress{}", "orderShippingAddress.orderNo" })
shoplus("UTM.list", { "orderNos[]" })
shoplus("UTM.listV2", { "orderNos[]" })
shoplus("Fulfillment.list", { "orderNo" })
shoplus("Fulfillment.add", { "orderNo", "trackingNumber", "trackingCompany", "lineItems[]", "lineItems[].id" })
shoplus("Fulfillment.update", { "id", "orderNo" })
shoplus("collections", {})
shoplus("collections.add", { "title" })
shoplus("collections.update", { "id" })
shoplus("collections.detail", { "id" })
shoplus("collections.delete", { "id" })
shoplus("merchant", {})
shoplus("customer.list", {})
shoplus("customer.detail", { "id" })
shoplus("customer.update", { "id" })
shoplus("webhook.event", {})
shoplus("webhook.create", { "url", "event" })
shoplus("webhook.update", { "id" })
shoplus("webhook.list", {})
shoplus("webhook.detail", { "id" })
shoplus("webhook.delete", { "id" })

-- Guanmai (003): "M" parameters. GET parameters are query strings, POST bodies JSON.
guanmai("order/create", "POST", { "sid", "products[]", "products[].sku_id", "products[].amount",
  "products[].unit_price" })
guanmai("order/delete", "POST", { "order_id" })
guanmai("order/update", "POST", { "order_id" })
guanmai("order/get", "GET", { "order_id" })
guanmai("order/list", "GET", { "query_type", "start_date", "end_date" })
guanmai("order/sku/create", "POST", { "order_id", "products[]", "products[].sku_id", "products[].amount",
  "products[].price" })
guanmai("order/sku/delete", "POST", { "order_id", "sku_ids[]" })
guanmai("order/sku/update", "POST", { "order_id", "products[]", "products[].sku_id" })
guanmai("order/abnormal/create", "POST", { "order_id", "abnormal[]", "abnormal[].sku_id",
  "abnormal[].exception_reason", "abnormal[].final_amount", "abnormal[].money_delta" })
guanmai("order/refund/create", "POST", { "order_id", "refund[]", "refund[].sku_id",
  "refund[].exception_reason", "refund[].request_amount" })
guanmai("order/after_sales/update", "POST", { "order_id", "abnormal[]", "abnormal[].id", "abnormal[].sku_id",
  "abnormal[].exception_reason", "abnormal[].final_amount", "abnormal[].money_delta" }, { variant = "abnormal" })
guanmai("order/after_sales/update", "POST", { "order_id", "refund[]", "refund[].id", "refund[].sku_id",
  "refund[].exception_reason", "refund[].request_amount" }, { variant = "refund" })
guanmai("order/after_sales/delete", "POST", { "order_id", "abnormal[]", "abnormal[].id", "abnormal[].sku_id" },
  { variant = "abnormal" })
guanmai("order/after_sales/delete", "POST", { "order_id", "refund[]", "refund[].id", "refund[].sku_id" },
  { variant = "refund" })
guanmai("order/after_sales/exception_reason/list", "GET", {})
guanmai("product/category1/list", "GET", {})
guanmai("product/category2/list", "GET", {})
guanmai("product/pinlei/list", "GET", {})
guanmai("product/spu/create", "POST", { "name", "std_unit_name", "pinlei_id" })
guanmai("product/spu/list", "GET", {})
guanmai("product/spu/get", "GET", { "spu_id" })
guanmai("product/spu/update", "POST", { "spu_id", "name" })
guanmai("product/spu/delete", "POST", { "spu_id" })
guanmai("std_unit_name/list", "GET", {})
guanmai("product/sku/create", "POST", { "spu_id", "sku_name", "salemenu_id", "std_price", "sale_price",
  "sale_num_least", "sale_ratio", "sale_unit_name", "std_unit_name", "is_weigh", "state" })
guanmai("product/sku/update", "POST", { "sku_id", "sku_name", "std_price", "sale_price", "sale_num_least",
  "sale_ratio", "sale_unit_name", "std_unit_name", "is_weigh", "state" })
guanmai("product/sku/list", "GET", {})
guanmai("product/sku/get", "GET", { "sku_id" })
guanmai("product/sku/delete", "POST", { "sku_id" })
guanmai("product/salemenu/list", "GET", {})
guanmai("delivery/task/list", "GET", {})
guanmai("delivery/driver/assign", "POST", { "order_ids[]", "driver_id" })
guanmai("delivery/driver/cancel", "POST", { "order_ids[]" })
guanmai("delivery/driver/create", "POST", { "name", "phone", "carrier_id", "car_model_id", "plate_number" })
guanmai("delivery/driver/update", "POST", { "driver_id", "name", "phone", "carrier_id", "car_model_id",
  "plate_number", "state" })
guanmai("delivery/driver/list", "GET", {})
guanmai("delivery/car_model/list", "GET", {})
guanmai("delivery/carrier/list", "GET", {})
guanmai("delivery/route/create", "POST", { "route_name", "customer_ids[]" })
guanmai("delivery/route/update", "POST", { "route_id" })
guanmai("delivery/route/delete", "POST", { "route_id" })
guanmai("delivery/route/list", "GET", {})
guanmai("delivery/route/get", "GET", { "route_id" })
guanmai("customer/create", "POST", { "username", "password", "payer_name", "payer_telephone",
  "restaurant_name", "receiver_name", "receiver_telephone", "district_code", "area_level1", "area_level2",
  "restaurant_address", "salemenu_ids[]" })
guanmai("customer/upadte", "POST", { "customer_id" })
guanmai("customer/list", "GET", {})
guanmai("area/list", "GET", { "customer_id" })
guanmai("finance/strike", "POST", { "customer_id", "arrival_time", "deal_code", "arrival_id", "arrival_method",
  "arrival_money", "remark" })
guanmai("finance/order/refund", "POST", { "order_id", "type" })
guanmai("finance/strike_flow/list", "GET", {})
guanmai("finance/cash_flow/list", "GET", {})

-- Babycare (004): "是否必须 true" members of the body (the gateway parameters are checked
-- by the authentication step).
babycare("order/sales/createV2", { "platformOrderNo", "storeCode", "orderType", "memberName",
  "platformCreateTime", "platformPayTime", "receiverName", "mobile", "phone", "country", "province", "city",
  "district", "address", "detailList[]", "detailList[].platformNo", "detailList[].qty", "detailList[].skuCode",
  "detailList[].settlementFee", "detailList[].settlementPrice" })
babycare("order/sales/cancel", { "platformOrderNo", "salesOrderCode" })
babycare("order/exchange/create", { "appId", "projectId", "taskId", "userId", "isAutoFillAddress",
  "platformOrderNo", "salesOrderId" })
babycare("order/salesDetail/list", { "platformOrderNo" })
babycare("order/supply/create", { "appId", "projectId", "taskId", "userId", "isAutoFillAddress",
  "platformOrderNo", "storeCode", "supplyOrderExt{}", "supplyOrderExt.platformPayTime",
  "supplyOrderDetailList[].qty", "supplyOrderDetailList[].skuCode" })   -- the list itself: false (004:L709)
babycare("order/package/list", { "platformOrderNo" })
babycare("order/return/create", { "appId", "projectId", "taskId", "userId", "storeCode", "platformOrderNo",
  "salesOrderId", "platformRefundNo", "backExpressNo", "backExpressCode", "returnInDetailList[]",
  "returnInDetailList[].salesOrderDetailId", "returnInDetailList[].platformNo", "returnInDetailList[].skuCode",
  "returnInDetailList[].qty" })

M.list = list

-- Operations of one vendor, in document order.
function M.of(vendor)
  local out = {}
  for _, o in ipairs(list) do
    if o.vendor == vendor then out[#out + 1] = o end
  end
  return out
end

-- Find the first required parameter missing from params (a decoded JSON object or a query
-- table); returns its dotted name, or nil when all are present.
local function present(v)
  return v ~= nil and v ~= json.null
end

function M.missing(o, params)
  for _, spec in ipairs(o.required) do
    local parent, rest = spec:match("^([%w_]+)%[%]%.(.+)$")
    local obj_parent, member = spec:match("^([%w_]+)%.([%w_]+)$")
    if parent then
      local items = params[parent]
      if type(items) == "table" then
        local field, kind = rest:match("^([%w_]+)(.-)$")
        for i, item in ipairs(items) do
          if type(item) ~= "table" or not present(item[field]) then
            return parent .. "[" .. i .. "]." .. field
          end
          if kind == "[]" and type(item[field]) ~= "table" then return parent .. "[" .. i .. "]." .. field end
          if kind == "{}" and type(item[field]) ~= "table" then return parent .. "[" .. i .. "]." .. field end
        end
      end
    elseif obj_parent then
      local obj = params[obj_parent]
      if type(obj) == "table" and not present(obj[member]) then return spec end
    else
      local name, kind = spec:match("^([%w_]+)(.-)$")
      local v = params[name]
      if not present(v) then return name end
      if (kind == "[]" or kind == "{}") and type(v) ~= "table" then return name end
      if kind == "[]" and #v == 0 then return name end
    end
  end
  return nil
end

return M
