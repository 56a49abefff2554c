-- bench/vendors.lua: complete signed requests per second from client:prepare (operation
-- lookup, required-parameter check, JSON body, signature, URL) for Shoplus, Guanmai and
-- Babycare, next to the Shoplus request built by hand in Lua over luaossl and dkjson (the
-- peer) in the same run. Prints rates and ratios; asserts nothing about time.
local mallapi = require "mallapi"
local ossl_digest = require "openssl.digest"
local dkjson = require "dkjson"

local clock = os.clock
local ROUNDS, MIN_TIME = 2000, 0.3

local function rate(fn)
  local n, start = 0, clock()
  repeat
    for _ = 1, ROUNDS do fn() end
    n = n + ROUNDS
  until clock() - start >= MIN_TIME
  return n / (clock() - start)
end

local fixed = { clock = function() return 1763805600000 end, nonce = function() return "n-1" end }
local function cfg(t) for k, v in pairs(fixed) do t[k] = v end return t end

local params = { id = 19945, fields = { 1, 2, 3 }, pageNum = 1, pageSize = 50, title = "夏季 T恤" }
local shoplus = mallapi.client("shoplus", cfg { app_key = "sp_app_1001", secret = "sp-secret-xyz" })
local guanmai = mallapi.client("guanmai", cfg { appid = "a1", secret = "s1", base_url = "http://h" })
local babycare = mallapi.client("babycare", cfg { appId = "b1", secret = "s2" })

-- The peer: the Shoplus request written directly (dkjson, Java URL encoding by gsub,
-- luaossl MD5), no lookup or checks.
local HEX = {}
for b = 0, 255 do HEX[string.char(b)] = string.format("%02X", b) end
local function java_encode(s)
  return (s:gsub("[^A-Za-z0-9%.%-%*_ ]", function(c) return "%" .. HEX[c] end):gsub(" ", "+"))
end
local function shoplus_by_hand()
  local system = { name = "products", version = "1.0", app_key = "sp_app_1001",
    data = java_encode(dkjson.encode(params)), timestamp = "2025-11-22 18:00:00" }
  local s = "sp-secret-xyz" .. "app_key" .. system.app_key .. "data" .. system.data .. "name"
    .. system.name .. "timestamp" .. system.timestamp .. "version" .. system.version .. "sp-secret-xyz"
  system.sign = ossl_digest.new("md5"):final(s):gsub(".", HEX)
  return { method = "POST", url = "https://api-portal.shoplus.net/open-api", body = dkjson.encode(system) }
end

local peer = rate(shoplus_by_hand)
local rows = {
  { "shoplus products", rate(function() return shoplus:prepare("products", params) end) },
  { "guanmai order/get (GET)", rate(function() return guanmai:prepare("order/get", { order_id = "PL1" }) end) },
  { "guanmai order/update (POST)", rate(function()
      return guanmai:prepare("order/update", { order_id = "PL1", remark = "x", status = 5 }) end) },
  { "babycare order/package/list", rate(function()
      return babycare:prepare("order/package/list", { platformOrderNo = "3064563540143586756" }) end) },
}
print(string.format("%-32s %12s %8s", "request", "per second", "vs peer"))
print(string.format("%-32s %12.0f %8s", "peer: shoplus by hand (dkjson)", peer, "1.00"))
for _, row in ipairs(rows) do
  print(string.format("%-32s %12.0f %8.2f", row[1], row[2], row[2] / peer))
end
