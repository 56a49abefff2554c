-- A minimal client for the sandbox specs, with request signing written here from the vendor
-- documents and doc/assumptions.md, independent of the sandbox's own checks and of
-- mallapi. Digests come from luaossl; JSON bodies from lua-cjson (or raw text when a 64-bit
-- number must go through); answers are read with sandbox.json so 64-bit ids stay exact.
local http = require "socket.http"
local ltn12 = require "ltn12"
local mime = require "mime"
local cjson = require "cjson"
local digest = require "openssl.digest"
local hmac = require "openssl.hmac"
local json = require "sandbox.json"

local M = {}

local function hex(bin)
  return (bin:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function M.md5_hex(s) return hex(digest.new("md5"):final(s)) end
function M.hmac_sha256_hex(key, s) return hex(hmac.new(key, "sha256"):final(s)) end

-- java.net.URLEncoder.encode(s, "UTF-8")
function M.java_urlencode(s)
  return (s:gsub("[^A-Za-z0-9%.%-%*_ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end

-- RFC 3986: unreserved kept, everything else %XX upper case
function M.rfc3986(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function body_text(params)
  if type(params) == "string" then return params end
  return cjson.encode(params or {})
end

-- One HTTP exchange: returns status, decoded answer (or nil), raw body, headers.
function M.http(method, url, body, headers)
  local chunks = {}
  headers = headers or {}
  if body then
    headers["Content-Type"] = headers["Content-Type"] or "application/json; charset=utf-8"
    headers["Content-Length"] = tostring(#body)
  end
  local ok, status, resp_headers = http.request {
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil, sink = ltn12.sink.table(chunks),
  }
  if not ok then return nil, status end                -- transport error (e.g. "closed")
  local raw = table.concat(chunks)
  return status, json.decode(raw), raw, resp_headers
end

local function query_string(list)
  local parts = {}
  for _, kv in ipairs(list) do parts[#parts + 1] = M.rfc3986(kv[1]) .. "=" .. M.rfc3986(kv[2]) end
  return table.concat(parts, "&")
end

---------------------------------------------------------------------------- Sobot
-- GET /api/get_token?appid=&create_time=&sign=md5(appid..create_time..app_key)
function M.sobot_token(base, creds, create_time)
  create_time = tostring(create_time or os.time())
  local sign = M.md5_hex(creds.appid .. create_time .. creds.app_key)
  return M.http("GET", base .. "/api/get_token?appid=" .. M.rfc3986(creds.appid) .. "&create_time="
    .. create_time .. "&sign=" .. sign)
end

-- POST {base}/zk-data-adapter/api/data/v1/{name} with the token header; timestamp (ms) and
-- nonce are added to params unless params is raw text.
function M.sobot(base, token, name, params)
  if type(params) ~= "string" then
    params = params or {}
    params.timestamp = params.timestamp or string.format("%d", os.time() * 1000)
    params.nonce = params.nonce or hex(digest.new("md5"):final(tostring(math.random()) .. os.clock()))
  end
  return M.http("POST", base .. "/zk-data-adapter/api/data/v1/" .. name, body_text(params), { token = token })
end

---------------------------------------------------------------------------- Hd
-- path below /{tenant}/soms/saleorderservice/, query a list of {name, value}.
function M.hd(base, creds, method, path, query, body)
  local q = { { "operator", creds.operator or "sandbox-operator" } }
  for _, kv in ipairs(query or {}) do q[#q + 1] = kv end
  local url = base .. "/" .. creds.tenant_id .. "/soms/saleorderservice/" .. path .. "?" .. query_string(q)
  local auth = "Basic " .. mime.b64(creds.user .. ":" .. creds.password)
  return M.http(method, url, body and body_text(body) or nil, { Authorization = auth })
end

---------------------------------------------------------------------------- Shoplus
-- The signed system parameters for one call (data_json: the business JSON text).
function M.shoplus_request(creds, name, data_json, timestamp)
  local p = { name = name, version = "1.0", app_key = creds.app_key, data = M.java_urlencode(data_json),
              timestamp = timestamp or os.date("%Y-%m-%d %H:%M:%S") }
  local names = {}
  for k in pairs(p) do names[#names + 1] = k end
  table.sort(names)
  local s = creds.secret
  for _, k in ipairs(names) do s = s .. k .. p[k] end
  p.sign = M.md5_hex(s .. creds.secret):upper()
  return p
end

function M.shoplus(url, creds, name, params)
  local p = M.shoplus_request(creds, name, body_text(params))
  return M.http("POST", url, cjson.encode(p))
end

---------------------------------------------------------------------------- Guanmai
-- GET: params go to the query; POST: params are the JSON body. appid, ts, sign added.
function M.guanmai(base, creds, method, path, params, ts)
  local q = {}
  local body
  if method == "GET" then
    for k, v in pairs(params or {}) do q[#q + 1] = { k, tostring(v) } end
  else
    body = body_text(params)
  end
  q[#q + 1] = { "appid", creds.appid }
  q[#q + 1] = { "ts", tostring(ts or os.time()) }
  local canon = {}
  for i, kv in ipairs(q) do canon[i] = { M.rfc3986(kv[1]), M.rfc3986(kv[2]) } end
  table.sort(canon, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local joined = {}
  for i, kv in ipairs(canon) do joined[i] = kv[1] .. "=" .. kv[2] end
  local urlpath = "/api/" .. path
  local sts = method .. "\n" .. urlpath .. "\n" .. table.concat(joined, "&") .. "\n" .. (body or "")
  q[#q + 1] = { "sign", M.hmac_sha256_hex(creds.secret, sts) }
  return M.http(method, base .. urlpath .. "?" .. query_string(q), body)
end

---------------------------------------------------------------------------- Babycare
local request_seq = 0
function M.babycare(gateway, creds, path, params, over)
  over = over or {}
  request_seq = request_seq + 1
  local body = body_text(params)
  local g = { apiVersion = "1.0", appId = creds.appId,
              requestId = over.requestId or string.format("%d-%d-%d", os.time(), request_seq, math.random(1e9)),
              requestTime = tostring(over.requestTime or os.time()) }
  local s = creds.secret .. "apiVersion" .. g.apiVersion .. "appId" .. g.appId .. "requestId" .. g.requestId
    .. "requestTime" .. g.requestTime .. body .. creds.secret
  local sign = M.md5_hex(s):upper()
  local q = query_string { { "apiVersion", g.apiVersion }, { "appId", g.appId }, { "requestId", g.requestId },
    { "requestTime", g.requestTime }, { "sign", over.sign or sign } }
  return M.http("POST", gateway .. "/" .. path .. "?" .. q, body)
end

return M
