-- Shoplus orders -> canonical -> Sobot Mall Center orders (orders/add), incrementally.
-- Reads the orders updated since the job's checkpoint (Order.list, updatedAtMin), maps
-- them with the shipped mappings, pushes them in bulk, and advances the checkpoint
-- only after Sobot took the batch. Run it again (cron, systemd timer) to sync what
-- changed since. Exit status: 0 all sent, 1 some records in the dead-letter file,
-- 2 stopped (run again: it resumes).
--
--   SHOPLUS_APP_KEY=.. SHOPLUS_SECRET=.. SOBOT_APPID=.. SOBOT_APP_KEY=.. lua5.4 examples/sync_orders.lua
--   lua5.4 examples/sync_orders.lua --config /etc/mallapi/sync_orders.lua [--dry-run] [--quiet]
package.path = (arg and arg[0] and arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local mallapi = require "mallapi"
local common = require "sync_common"
local sync = mallapi.sync

local ENV = {
  ["shoplus.app_key"] = "SHOPLUS_APP_KEY", ["shoplus.secret"] = "SHOPLUS_SECRET",
  ["shoplus.base_url"] = "SHOPLUS_URL", ["shoplus.utc_offset"] = "SHOPLUS_UTC_OFFSET",
  ["sobot.appid"] = "SOBOT_APPID", ["sobot.app_key"] = "SOBOT_APP_KEY", ["sobot.base_url"] = "SOBOT_URL",
  name = "SYNC_NAME", state_dir = "SYNC_STATE_DIR", redis = "SYNC_REDIS", redis_password = "SYNC_REDIS_PASSWORD",
  dead_letter = "SYNC_DEAD_LETTER", since = "SYNC_SINCE", batch = "SYNC_BATCH", page_size = "SYNC_PAGE_SIZE",
  overlap_s = "SYNC_OVERLAP_S", total = "SYNC_TOTAL",
}
local cfg = common.config(arg, ENV, { name = "shoplus-orders-to-sobot", batch = 50, page_size = 100,
  overlap_s = 300, dead_letter = "sync_orders.dead.jsonl" })
common.require_settings(cfg, ENV, { "shoplus.app_key", "shoplus.secret", "sobot.appid", "sobot.app_key" })

local store = common.state_store(cfg)
local shoplus = mallapi.client("shoplus", cfg.shoplus)
cfg.sobot.token_store = store                  -- one live Sobot token for every run and machine
local sobot = mallapi.client("sobot", cfg.sobot)

-- Shoplus answers updateTime in epoch ms and filters on updatedAtMin, local time text.
local sign, hh, mm = (cfg.shoplus.utc_offset or "+08:00"):match("^([+-])(%d%d):?(%d%d)$")
local offset_s = (sign == "-" and -1 or 1) * (tonumber(hh) * 3600 + tonumber(mm) * 60)
local function local_text(ms) return sync.format_time(math.floor(ms / 1000) + offset_s) end

sync.main{
  name = cfg.name, state = store, batch = tonumber(cfg.batch), dead_letter = cfg.dead_letter,
  dry_run = cfg.dry_run, quiet = cfg.quiet, progress = cfg.progress, total = tonumber(cfg.total),
  source = sync.updates{
    id = "id", updated = "updateTime", overlap = tonumber(cfg.overlap_s) * 1000, page_size = tonumber(cfg.page_size),
    start = cfg.since and (sync.parse_time(cfg.since) - offset_s) * 1000 or nil,
    query = function(since_ms)
      local params = { limit = tonumber(cfg.page_size), orderStatus = -2 }
      if since_ms then params.updatedAtMin = local_text(since_ms) end
      return shoplus:each("Order.list", params)
    end,
  },
  map = function(order) return mallapi.map("shoplus.order", "sobot.order", order) end,
  sink = sync.client_sink(sobot, "orders/add", { list = "order_list", failed = "orderid" }),
}
