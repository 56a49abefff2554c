-- Test helper: one sync job run as its own OS process, to be killed with SIGKILL by
-- spec/sync_spec.lua. Settings come as key=value lines in the file named by arg[1].
-- The sink appends each accepted id to a file (flushed per record): the file is the
-- sink's state, a log of upserts. Records whose number is a multiple of 97 fail
-- mapping, number 100 is refused by the sink; sources and sinks fail transiently
-- at random (seeded by the PID) when `flaky` is set: the runner does not retry them, the
-- run stops (exit 2) and the next run goes on from the checkpoint.
local core_clock = require("mallapi.core").clock
local mallapi = require "mallapi"
local sync = require "mallapi.sync"
local vendor_mod = require "support.sync_vendor"

local cfg = {}
for line in io.lines(arg[1]) do
  local k, v = line:match("^([%w_]+)=(.*)$")
  if k then cfg[k] = v end
end
local n, batch, delay = tonumber(cfg.n), tonumber(cfg.batch), tonumber(cfg.delay_ms or "0")
math.randomseed(mallapi.core.lock.pid())
local flaky = cfg.flaky == "1"

local orders = vendor_mod.orders(n, 4)
local number_of = {}
for i, o in ipairs(orders) do number_of[o.id] = i end

local source
if cfg.source == "updates" then
  local vendor = vendor_mod.new{ page_size = 25 }
  for _, o in ipairs(orders) do vendor:put(o) end
  if flaky then
    vendor.fail = function()
      if math.random() < 0.03 then return nil, "http.request: connection reset", "TRANSPORT" end
      return true
    end
  end
  source = sync.updates{ query = function(since) return vendor:query(since) end, page_size = 25, overlap = 2 }
else
  local i = 0
  source = function()
    i = i + 1
    return orders[i]
  end
end

local sink_file = assert(io.open(cfg.sink_file, "a"))
local summary, err, code = sync.run{
  name = "child", source = source, batch = batch, state = mallapi.store.file(cfg.state_dir),
  dead_letter = cfg.dead_letter, output = io.stdout, quiet = true,
  map = function(o)
    if number_of[o.id] % 97 == 0 then return nil, "map: amount not a number" end
    return { order_id = o.id, amount = o.amount }
  end,
  sink = function(doc)
    if delay > 0 then core_clock.sleep_ms(delay) end
    if flaky and math.random() < 0.005 then return nil, "sink: HTTP 503", "HTTP", { status = 503 } end
    if number_of[doc.order_id] == 100 then return nil, "sink: order refused (801001)", "VENDOR" end
    sink_file:write(doc.order_id, "\n")
    sink_file:flush()
    return true
  end,
}
sink_file:close()
if not summary then io.stdout:write("error: ", tostring(err), " ", tostring(code), "\n") end
os.exit(summary and summary.exit_code or 2)
