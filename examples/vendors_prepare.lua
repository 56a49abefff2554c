-- Show what the clients would send for one operation of each vendor, without sending it.
-- Run from the repository root after `make`:
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/vendors_prepare.lua
-- The credentials are placeholders; Sobot is left out because its prepare fetches a token.
local mallapi = require "mallapi"

local clients = {
  { mallapi.client("shoplus", { app_key = "my-app", secret = "my-secret" }),
    "products.detail", { id = 19945 } },
  { mallapi.client("hd", { base_url = "https://soms.example.com", tenant_id = "t1",
      operator = "zhangsan", user = "api", password = "pw" }),
    "saleorder/{id}/action/deliver", { id = "88822222222", delivery_state = "shipped" } },
  { mallapi.client("guanmai", { base_url = "https://open.example.com", appid = "a1", secret = "s1" }),
    "order/get", { order_id = "PL000001" } },
  { mallapi.client("babycare", { appId = "b1", secret = "s2" }),
    "order/package/list", { platformOrderNo = "3064563540143586756" } },
}

for _, item in ipairs(clients) do
  local c, op, params = item[1], item[2], item[3]
  local req = assert(c:prepare(op, params))
  print(("%s %s\n  %s %s"):format(c.vendor, op, req.method, req.url))
  for name, value in pairs(req.headers) do print(("  %s: %s"):format(name, value)) end
  if req.body then print("  " .. req.body) end
end
