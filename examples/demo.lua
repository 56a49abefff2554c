-- `make demo`: the main job end to end on this machine. Starts the vendor sandbox,
-- seeds a few hundred Shoplus orders (64-bit ids, Chinese text, amounts with cents,
-- several pages), runs examples/sync_orders.lua against it exactly as it would run
-- against the real vendors (settings in the environment), reads the orders back from
-- the Sobot sandbox, checks every id and amount, and stops the sandbox.
--   DEMO_ORDERS=300 (orders to seed)   DEMO_LUA=lua5.4 (runtime of the sync process)
package.path = "sandbox/lua/?.lua;spec/?.lua;examples/?.lua;" .. package.path
local sandbox = require "sandbox.launch"
local data = require "demo_data"

local N = tonumber(os.getenv("DEMO_ORDERS") or "300")
local LUA = os.getenv("DEMO_LUA") or (rawget(_G, "jit") and "luajit" or "lua5.4")

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function say(...) io.stdout:write("demo: ", ..., "\n"); io.stdout:flush() end

local function mktemp()
  local p = assert(io.popen("mktemp -d /tmp/mallapi-demo.XXXXXX"))
  local dir = p:read("*l")
  p:close()
  return dir
end

say("starting the vendor sandbox (nginx on 127.0.0.1)")
local sb = sandbox.start{ workers = 1 }
local tmp = mktemp()
local ok, result = pcall(function()
  say(("seeding %d Shoplus orders at %s"):format(N, sb.urls.shoplus))
  local expected = data.seed(sb, N)
  for _, vendor in ipairs({ "shoplus", "sobot" }) do sb:knob(vendor, "latency_ms", 60) end  -- a visible progress line
  local c = sb.credentials
  local env = {
    SHOPLUS_URL = sb.urls.shoplus, SHOPLUS_APP_KEY = c.shoplus.app_key, SHOPLUS_SECRET = c.shoplus.secret,
    SOBOT_URL = sb.urls.sobot, SOBOT_APPID = c.sobot.appid, SOBOT_APP_KEY = c.sobot.app_key,
    SYNC_STATE_DIR = tmp .. "/state", SYNC_DEAD_LETTER = tmp .. "/dead.jsonl", SYNC_TOTAL = N,
    SYNC_PAGE_SIZE = 50, SYNC_BATCH = 50,
  }
  local parts = {}
  for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. quote(v) end
  say(("syncing Shoplus -> canonical -> Sobot orders/add (%s examples/sync_orders.lua)"):format(LUA))
  local run = os.execute("env " .. table.concat(parts, " ") .. " " .. LUA .. " examples/sync_orders.lua")
  local exit_ok = run == true or run == 0
  say("reading the orders back from the Sobot sandbox")
  local orders = assert(sb:dump("sobot", "orders"))
  local check_ok, line, problems = data.check(orders, expected)
  for i = 1, math.min(5, #problems) do say("  ", problems[i]) end
  if #orders > 0 then
    local o = orders[1]
    say(("  e.g. order_id %s, actual_amount %s fen, buyer %s, %s%s"):format(tostring(o.order_id),
      tostring(o.actual_amount), tostring(o.buyer_id), tostring(o.receiver and o.receiver.city or ""),
      tostring(o.order_item_list and o.order_item_list[1] and (" " .. o.order_item_list[1].name) or "")))
  end
  say((check_ok and exit_ok and "CHECK OK: " or "CHECK FAILED: ") .. line)
  return check_ok and exit_ok
end)
sb:stop()
os.execute("rm -rf " .. quote(tmp))
say("sandbox stopped")
if not ok then io.stderr:write("demo: ", tostring(result), "\n") end
os.exit(ok and result and 0 or 1)
