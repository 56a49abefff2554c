-- Test helper: a Sobot-like token endpoint on 127.0.0.1 (nginx + Lua) for the token
-- specs, and a fetch function that speaks to it over LuaSocket.
--   GET /api/get_token?appid=&create_time=&sign=  sign = md5(appid .. create_time .. app_key);
--       every success issues a new random token and invalidates the previous one
--   GET /count          number of tokens issued        GET /attempts  token requests seen
--   GET /check?token=   "valid" | "invalid"            GET /api/data?token=  a vendor call
--   GET /admin?fail=1|0&expires_in=N&revoke=1&reset=1   knobs
local http = require "socket.http"
local digest = require "openssl.digest"

local M = {}

M.APPID = "app1"
M.APP_KEY = "k3y-Secret-Of-app1-9d1c"

local CONF = [[
lua_shared_dict tokens 1m;
server {
  listen 127.0.0.1:$PORT;
  default_type application/json;
  location = /api/get_token {
    content_by_lua_block {
      local d = ngx.shared.tokens
      d:incr("attempts", 1, 0)
      if d:get("fail") then
        ngx.status = 500
        ngx.say('{"ret_code":"999999","ret_msg":"token service down"}')
        return
      end
      local a = ngx.req.get_uri_args()
      local appid, created, sign = a.appid, a.create_time, a.sign
      if appid ~= "APPID" or type(created) ~= "string" or type(sign) ~= "string"
         or sign ~= ngx.md5(appid .. created .. "APP_KEY") then
        ngx.say('{"ret_code":"900003","ret_msg":"sign error"}')
        return
      end
      local n = d:incr("count", 1, 0)
      local token = ngx.md5(n .. ":" .. ngx.now() .. ":" .. math.random() .. ":" .. ngx.worker.pid())
      d:set("current", token)
      ngx.say(string.format('{"ret_code":"000000","ret_msg":"success","item":{"token":"%s","expires_in":%d}}',
                            token, d:get("expires_in") or 86400))
    }
  }
  location = /count { content_by_lua_block { ngx.print(ngx.shared.tokens:get("count") or 0) } }
  location = /attempts { content_by_lua_block { ngx.print(ngx.shared.tokens:get("attempts") or 0) } }
  location = /check {
    content_by_lua_block {
      local current = ngx.shared.tokens:get("current")
      ngx.print((current and ngx.var.arg_token == current) and "valid" or "invalid")
    }
  }
  location = /api/data {
    content_by_lua_block {
      local current = ngx.shared.tokens:get("current")
      if current and ngx.var.arg_token == current then
        ngx.print('{"retCode":"000000","retMsg":"success","data":"ok"}')
      else
        ngx.print('{"retCode":"900002","retMsg":"token invalid"}')
      end
    }
  }
  location = /admin {
    content_by_lua_block {
      local d, a = ngx.shared.tokens, ngx.req.get_uri_args()
      if a.reset then d:flush_all() end
      if a.fail == "1" then d:set("fail", true) elseif a.fail == "0" then d:delete("fail") end
      if a.expires_in then d:set("expires_in", tonumber(a.expires_in)) end
      if a.revoke then d:set("current", "revoked-" .. ngx.now()) end
      ngx.print("ok")
    }
  }
}
]]

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function M.md5_hex(s) return hex(digest.new("md5"):final(s)) end

function M.start()
  local nginx = require "support.nginx"
  local conf = CONF:gsub('"APPID"', '"' .. M.APPID .. '"'):gsub('"APP_KEY"', '"' .. M.APP_KEY .. '"')
  return nginx.start{ http = conf }
end

local function get(url)
  http.TIMEOUT = 5
  local body, status = http.request(url)
  return body, status
end

function M.count(base) return tonumber((get(base .. "/count"))) end
function M.attempts(base) return tonumber((get(base .. "/attempts"))) end
function M.check(base, token) return (get(base .. "/check?token=" .. token)) end
function M.admin(base, query) return (get(base .. "/admin?" .. query)) end
function M.api(base, token) return (get(base .. "/api/data?token=" .. token)) end

-- fetch function for mallapi.token.new: returns token, expires_in or nil, msg, code.
-- `seen` (optional table) collects the signs it sent, for the secrets checks.
function M.fetcher(base, app_key, seen)
  return function()
    local created = tostring(os.time())
    local sign = M.md5_hex(M.APPID .. created .. (app_key or M.APP_KEY))
    if seen then seen[#seen + 1] = sign end
    local body, status = get(base .. "/api/get_token?appid=" .. M.APPID .. "&create_time=" .. created
                             .. "&sign=" .. sign)
    if not body then return nil, "get_token: " .. tostring(status), "HTTP" end
    local ret_code, ret_msg = body:match('"ret_code":"(%d+)"'), body:match('"ret_msg":"([^"]*)"')
    if status ~= 200 then
      return nil, string.format("get_token answered HTTP %d (%s: %s)", status, tostring(ret_code), tostring(ret_msg)),
             "HTTP"
    end
    if ret_code ~= "000000" then
      return nil, string.format("get_token refused (%s: %s)", tostring(ret_code), tostring(ret_msg)), "AUTH"
    end
    local token = body:match('"token":"([^"]+)"')
    local expires_in = tonumber(body:match('"expires?_in":(%d+)'))
    return token, expires_in
  end
end

return M
