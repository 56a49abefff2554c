-- Shared fixtures for the vendor specs: test credentials, a fixed clock and nonce, a fake
-- transport that records requests and answers from a script, and independent reference
-- implementations (luaossl, dkjson) to check what the client computes.
local digest = require "openssl.digest"
local hmac = require "openssl.hmac"
local dkjson = require "dkjson"

local F = {}

F.NOW_MS = 1763805600000          -- 2025-11-22 10:00:00 UTC
F.NONCE = "c31ef7d26f5f42aab753daff73375bbf"

function F.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a") or f:read("*a")
  f:close()
  return s
end

F.SEEDS = "../shared/seeds/"
function F.seed(prefix)
  local p = assert(io.popen("ls " .. F.SEEDS .. prefix .. "_*.txt"))
  local name = p:read("*l")
  p:close()
  return F.read(name)
end

function F.vectors()
  return dkjson.decode(F.read("../shared/vectors/signing.json")).cases
end

function F.vector(id)
  for _, case in ipairs(F.vectors()) do if case.id == id then return case end end
  error("no vector " .. id)
end

local function hex(s, upper)
  return (s:gsub(".", function(c) return string.format(upper and "%02X" or "%02x", c:byte()) end))
end
function F.md5_hex(s) return hex(digest.new("md5"):final(s)) end
function F.md5_HEX(s) return hex(digest.new("md5"):final(s), true) end
function F.sha256_hex(s) return hex(digest.new("sha256"):final(s)) end
function F.hmac_sha256_hex(key, s) return hex(hmac.new(key, "sha256"):final(s)) end

-- RFC 3986 percent-encoding, written here independently of the module.
function F.pct(s)
  local out = {}
  for i = 1, #s do
    local c = s:sub(i, i)
    if c:match("[A-Za-z0-9%-%._~]") then out[#out + 1] = c
    else out[#out + 1] = string.format("%%%02X", c:byte()) end
  end
  return table.concat(out)
end

-- Reverse of java.net.URLEncoder.encode.
function F.java_urldecode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function F.json_decode(s) return dkjson.decode(s) end
function F.json_encode(v) return dkjson.encode(v) end

-- URL split into base, path and a list of {name, value} (percent-decoded).
function F.split_url(url)
  local base, path, query = url:match("^(%a+://[^/]+)([^?]*)%??(.*)$")
  local params, map = {}, {}
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    local function dec(x) return (x:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
    params[#params + 1] = { dec(k), dec(v) }
    map[dec(k)] = dec(v)
  end
  return { base = base, path = path, query = params, map = map, raw_query = query }
end

-- Test credentials, one set per vendor (not real).
function F.cfg(vendor, extra)
  local base = {
    sobot = { appid = "sobot-test-app", app_key = "sobot-SECRET-key-1" },
    hd = { tenant_id = "t100", user = "hd-user", password = "hd-SECRET-pass", operator = "zhangsan",
           base_url = "http://127.0.0.1:9/hd" },
    shoplus = { app_key = "sp_app_1001", secret = "shoplus-SECRET-1" },
    guanmai = { appid = "gm-app-1", secret = "guanmai-SECRET-1", base_url = "http://127.0.0.1:9/gm" },
    babycare = { appId = "bc-app-1", secret = "babycare-SECRET-1" },
  }
  local cfg = base[vendor]
  cfg.clock = function() return F.NOW_MS end
  cfg.nonce = function() return F.NONCE end
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return cfg
end

F.SECRETS = { "sobot-SECRET-key-1", "hd-SECRET-pass", "shoplus-SECRET-1", "guanmai-SECRET-1",
              "babycare-SECRET-1" }

-- A fake transport: answers(req, n) returns the n-th answer; every request is recorded.
function F.transport(answers)
  local t = { requests = {} }
  function t.request(_, req)
    t.requests[#t.requests + 1] = req
    if type(answers) == "function" then return answers(req, #t.requests) end
    local a = answers[#t.requests] or answers[#answers]
    if type(a) == "function" then return a(req) end
    return a
  end
  return t
end

function F.ok(body, status, headers)
  return { status = status or 200, headers = headers or {},
           body = type(body) == "string" and body or dkjson.encode(body) }
end

F.TOKEN_ANSWER = F.ok { ret_code = "000000", ret_msg = "ok",
  item = { token = "tok-1-abcdefabcdefabcdefabcdefabcdef", expires_in = 86400 } }

return F
