-- Spec job module for the fleet against the sandbox: account settings.account's
-- settings.count orders (demo_data numbering, account * 10000 + n) as a local export,
-- mapped Shoplus -> Sobot and pushed with orders/add through the fleet-wide rate limit
-- of the Sobot app. The app key comes from the job's secret reference (an env var).
local mallapi = require "mallapi"
local sync = require "mallapi.sync"
local data = require "demo_data"
local sjson = require "sandbox.json"

return function(ctx)
  local s = ctx.settings
  local records = {}
  for n = 1, s.count do
    local o = data.order(s.account * 10000 + n)
    records[n] = mallapi.json.decode(sjson.encode(o.record))   -- as a vendor export reads it back
  end
  local sobot = mallapi.client("sobot", { appid = s.appid, app_key = ctx.secret("app_key"), base_url = s.url,
    token_store = ctx.state, timeout = 10,
    limiter = ctx.limiter("sobot", s.appid, { per_second = s.per_second, burst = s.burst }) })
  return {
    batch = s.batch, source = records,
    map = function(order) return mallapi.map("shoplus.order", "sobot.order", order) end,
    sink = sync.client_sink(sobot, "orders/add", { list = "order_list", failed = "orderid" }),
  }
end
