-- An example handle for mallapi.ngx.webhook, built from the generic pieces: the receiver
-- has verified the Shoplus delivery (the Shoplus profile's webhook rule); this maps an
-- order event with mallapi.map ("shoplus.order" -> "sobot.order") and pushes it with
-- Sobot's orders/add. Events that are not orders are done at once. Used by
-- examples/openresty/nginx.conf (lua_package_path "$prefix/?.lua;...").
--
--   handle = require("shoplus_to_sobot")(sobot_client, { store_id = "S1" })
--
-- `client` is mallapi.client("sobot", cfg) (inside nginx its transport is the cosocket
-- one); `extra` fields go into the canonical record (e.g. store_id).
local webhook = require "mallapi.ngx.webhook"

local ipairs, tostring, type = ipairs, tostring, type

-- Sobot answers orders/add with the list of the orders it refused ({retCode, retMsg} each);
-- the Sobot profile's bulk_refused hook reads it when it has one.
local function refused_orders(answer)
  if type(answer) ~= "table" or answer[1] == nil then return nil end
  local out = {}
  for i, item in ipairs(answer) do
    out[i] = { index = i, code = tostring(item.retCode), msg = tostring(item.retMsg) }
  end
  return out
end

return function(client, extra)
  return webhook.handler{
    accept = function(event) return tostring(event.type):find("^order_") ~= nil end,
    map = { from = "shoplus.order", to = "sobot.order", extra = extra },
    -- the client raises on a request the profile refuses (a required field the mapped order
    -- lacks, e.g. no shippingAddress for `receiver`): the same every time, so the event is
    -- kept as dead instead of retried for ever
    push = webhook.push(client, "orders/add", function(order) return { order_list = { order } } end,
                        client.profile.bulk_refused or refused_orders),
  }
end
