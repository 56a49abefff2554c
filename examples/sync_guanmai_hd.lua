-- Guanmai (观麦) orders -> canonical -> Hd (海鼎) SOMS sale orders, incrementally.
-- Guanmai's order/list filters by order day (query_type 1) and its orders carry no
-- update time, so the cursor is the order time (`date_time`): new orders are picked
-- up; later edits of an order already sent are not (run a full resync for those:
-- delete the checkpoint with SYNC_RESET=1). Hd takes one sale order per call and
-- ignores a front order it already has, so a resent order is harmless. Exit status:
-- 0 all sent, 1 dead letters, 2 stopped (run again: it resumes).
--
--   GUANMAI_URL=.. GUANMAI_APPID=.. GUANMAI_SECRET=.. HD_URL=.. HD_TENANT_ID=.. HD_OPERATOR=.. \
--   HD_USER=.. HD_PASSWORD=.. lua5.4 examples/sync_guanmai_hd.lua [--config FILE] [--dry-run] [--quiet]
package.path = (arg and arg[0] and arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local mallapi = require "mallapi"
local common = require "sync_common"
local sync = mallapi.sync

local ENV = {
  ["guanmai.appid"] = "GUANMAI_APPID", ["guanmai.secret"] = "GUANMAI_SECRET", ["guanmai.base_url"] = "GUANMAI_URL",
  ["hd.tenant_id"] = "HD_TENANT_ID", ["hd.operator"] = "HD_OPERATOR", ["hd.user"] = "HD_USER",
  ["hd.password"] = "HD_PASSWORD", ["hd.base_url"] = "HD_URL",
  name = "SYNC_NAME", state_dir = "SYNC_STATE_DIR", redis = "SYNC_REDIS", redis_password = "SYNC_REDIS_PASSWORD",
  dead_letter = "SYNC_DEAD_LETTER", since = "SYNC_SINCE", batch = "SYNC_BATCH", page_size = "SYNC_PAGE_SIZE",
  total = "SYNC_TOTAL", reset = "SYNC_RESET",
}
local cfg = common.config(arg, ENV, { name = "guanmai-orders-to-hd", batch = 20, page_size = 100,
  dead_letter = "sync_guanmai_hd.dead.jsonl", since = "2020-01-01 00:00:00" })
common.require_settings(cfg, ENV, { "guanmai.appid", "guanmai.secret", "guanmai.base_url", "hd.tenant_id",
  "hd.operator", "hd.user", "hd.password", "hd.base_url" })

local store = common.state_store(cfg)
if tostring(cfg.reset) == "1" then sync.reset(store, cfg.name) end
local guanmai = mallapi.client("guanmai", cfg.guanmai)
local hd = mallapi.client("hd", cfg.hd)

sync.main{
  name = cfg.name, state = store, batch = tonumber(cfg.batch), dead_letter = cfg.dead_letter,
  dry_run = cfg.dry_run, quiet = cfg.quiet, progress = cfg.progress, total = tonumber(cfg.total),
  source = sync.updates{
    id = "order_id", updated = "date_time", overlap = 3600, page_size = tonumber(cfg.page_size),
    start = sync.parse_time(cfg.since),
    query = function(since)                     -- seconds, read from Guanmai's own (local) time text
      return guanmai:each("order/list", { query_type = 1, start_date = sync.format_time(since):sub(1, 10),
        end_date = "2099-12-31", limit = tonumber(cfg.page_size) })
    end,
  },
  map = function(order) return mallapi.map("guanmai.order", "hd.order", order) end,
  sink = sync.client_sink(hd, "saleorder"),
}
