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

return M
