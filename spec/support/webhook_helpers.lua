-- Test helper for the webhook receiver specs (spec/openresty_webhook*_spec.lua): a GET,
-- a bounded wait on a condition, and the orders the Sobot sandbox holds.
local socket = require "socket"
local http = require "socket.http"

local M = {}

function M.get(url)
  http.TIMEOUT = 10
  return (http.request(url))
end

-- wait (bounded: 300 x 50 ms) until pred() is true; returns its last value
function M.wait_for(pred)
  local v
  for _ = 1, 300 do
    v = pred()
    if v then return v end
    socket.sleep(0.05)
  end
  return v
end

-- the Sobot sandbox's orders by order_id
function M.sobot_orders(sb)
  local by_id = {}
  for _, o in ipairs(sb:dump("sobot", "orders")) do by_id[tostring(o.order_id)] = o end
  return by_id
end

-- A Shoplus order webhook body (raw JSON text: 64-bit ids stay as written), unsigned.
local ORDER = '{"createTime":1616488739000,"currency":"USD","email":"a@b.c","id":ORDER_ID,"itemsAmount":16.05,'
  .. '"orderItems":[{"id":531464955276181500,"payAmount":16.05,"productId":PRODUCT_ID,"quantity":1,'
  .. '"saleAmount":16.05,"skuCode":"100003875459","title":"bag","variantId":37,"variantPrice":16.05}],'
  .. '"orderNo":"ORDER_NO","payTime":1606877591000,"payTotalAmount":16.05,"phone":"22222","shopId":0,'
  .. '"shippingAddress":{"address1":"Guangzhou","city":"guangzhou","country":"China","countryCode":"CN",'
  .. '"firstName":"chen","lastName":"dandan","phone":"22222","province":"Guangdong","zip":"00000"},'
  .. '"status":1,"test":false,"updateTime":1622098157000,"sign":""}'

function M.order(id, order_no, product_id)
  return (ORDER:gsub("ORDER_ID", id):gsub("ORDER_NO", order_no):gsub("PRODUCT_ID", product_id))
end

return M
