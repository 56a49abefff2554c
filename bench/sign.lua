-- bench/sign.lua: Shoplus-style request signatures per second (8 parameters,
-- sorted, name..value concatenated, wrapped in the secret, upper-case hex MD5)
-- through mallapi.sign.canonical + mallapi.crypto.digest, next to the same
-- recipe in Lua over luaossl, in one run; plus `openssl speed` MD5 of a
-- 448-byte block for reference. Prints rates and ratios; asserts nothing
-- about time. Run by `make bench` (pinned to one CPU by bench/run.sh).
local mallapi = require "mallapi"
local ossl_digest = require "openssl.digest"

local sign, crypto, codec = mallapi.sign, mallapi.crypto, mallapi.codec
local clock = os.clock

local secret = "sp-secret-xyz"
local params = {
  name = "products.detail",
  version = "1.0",
  app_key = "sp_app_1001",
  data = codec.urlencode('{"id":19945,"fields":"id,title,price,stock","lang":"zh-CN"}', "java"),
  timestamp = "2026-11-22 10:00:00",
  format = "json",
  sign_method = "md5",
  nonce = "2f1c7a9e0b3d4c5f",
}

-- mallapi: C builder and digest.
local opts = { prefix = secret, suffix = secret }
local function sign_mallapi(p)
  return crypto.digest("md5", sign.canonical(p, opts), "HEX")
end

-- The same recipe in Lua over luaossl, written the fast way (reused key
-- list, table.concat, byte-to-hex lookup table for gsub).
local HEX = {}
for b = 0, 255 do HEX[string.char(b)] = string.format("%02X", b) end
local keys, parts = {}, {}
local function sign_luaossl(p)
  local n = 0
  for k in pairs(p) do n = n + 1; keys[n] = k end
  for i = #keys, n + 1, -1 do keys[i] = nil end
  table.sort(keys)
  parts[1] = secret
  local j = 1
  for i = 1, n do
    local k = keys[i]
    parts[j + 1] = k
    parts[j + 2] = tostring(p[k])
    j = j + 2
  end
  parts[j + 1] = secret
  for i = #parts, j + 2, -1 do parts[i] = nil end
  local raw = ossl_digest.new("md5"):final(table.concat(parts))
  return (raw:gsub(".", HEX))
end

-- The recipe as usually written (fresh key list, string concatenation,
-- string.format per byte): shown for reference, the ratio uses the fast one.
local function sign_luaossl_plain(p)
  local names = {}
  for k in pairs(p) do names[#names + 1] = k end
  table.sort(names)
  local source = secret
  for _, k in ipairs(names) do source = source .. k .. tostring(p[k]) end
  source = source .. secret
  local raw = ossl_digest.new("md5"):final(source)
  return (raw:gsub(".", function(c) return string.format("%02X", c:byte()) end))
end

-- Calls per second of f over a fixed count (bounded: a few hundred ms each).
local function rate(f, count)
  f(params)   -- warm up
  local t0 = clock()
  for _ = 1, count do f(params) end
  return count / (clock() - t0)
end

local a, b = sign_mallapi(params), sign_luaossl(params)
assert(a == b and b == sign_luaossl_plain(params), "the paths disagree: " .. a .. " vs " .. b)
assert(#a == 32 and a:match("^[0-9A-F]+$"))

local count = tonumber(os.getenv("BENCH_SIGN_COUNT")) or 300000
local best_c, best_l, best_p = 0, 0, 0
for _ = 1, 3 do   -- best of three, interleaved
  best_c = math.max(best_c, rate(sign_mallapi, count))
  best_l = math.max(best_l, rate(sign_luaossl, count // 3))
  best_p = math.max(best_p, rate(sign_luaossl_plain, count // 6))
end

-- openssl speed: bare MD5 of 448-byte blocks, machine-readable "+R:count:md5:seconds".
local speed
local p = io.popen("openssl speed -mr -bytes 448 -seconds 1 md5 2>&1")
if p then
  local out = p:read("a")
  p:close()
  local n, secs = out:match("%+R:(%d+):md5:([%d.]+)")
  if n then speed = tonumber(n) / tonumber(secs) end
end

local s = sign.canonical(params, opts)
print(string.format("string to sign: %d bytes, %d parameters (%s, %s)", #s, 8, _VERSION, os.date("!%Y-%m-%d")))
print(string.format("%-42s %12.0f /s", "mallapi sign.canonical + crypto.digest", best_c))
print(string.format("%-42s %12.0f /s", "Lua over luaossl (same recipe)", best_l))
print(string.format("%-42s %12.0f /s", "Lua over luaossl, plain (reference)", best_p))
if speed then
  print(string.format("%-42s %12.0f /s", "openssl speed md5, 448-byte blocks", speed))
end
print(string.format("ratio mallapi / luaossl: %.2fx (target >= 3x)", best_c / best_l))
print(string.format("ratio mallapi / luaossl plain: %.2fx", best_c / best_p))
if speed then
  print(string.format("ratio mallapi / openssl speed md5: %.2f", best_c / speed))
end
