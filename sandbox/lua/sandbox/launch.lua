-- Start and drive the vendor sandbox from Lua (specs, examples, `make sandbox`). It runs in
-- the caller's process (Lua 5.4 or LuaJIT) and starts a private nginx through
-- spec/support/nginx.lua, one 127.0.0.1 port per vendor.
--
--   package.path = "sandbox/lua/?.lua;spec/?.lua;" .. package.path   (from the repository root)
--   local sandbox = require "sandbox.launch"
--   local sb = sandbox.start{ credentials = { sobot = { appid = "a", app_key = "k" } } }
--   sb.urls.sobot, sb:knob("sobot", "rate_limit", 2), sb:seed("shoplus", "orders", {...}),
--   sb:dump("guanmai", "orders"), sb:send_webhook(url, "order_create", body, secret), sb:stop()
local json = require "sandbox.json"
local http = require "socket.http"
local ltn12 = require "ltn12"

local M = {}

M.VENDORS = { "sobot", "hd", "shoplus", "guanmai", "babycare" }

-- The directory holding the sandbox/ package: sandbox/lua in a checkout, or .../mallapi in a
-- LuaRocks tree (the rock installs these files as mallapi.sandbox.*), from where this file lives.
local function lua_dir()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/sandbox/launch%.lua$") or "sandbox/lua"
  if dir:sub(1, 1) ~= "/" then
    dir = assert(io.popen("pwd")):read("*l") .. "/" .. dir
  end
  return dir
end

local function long_bracket(s)
  local eq = "="
  while s:find("]" .. eq .. "]", 1, true) do eq = eq .. "=" end
  return "[" .. eq .. "[" .. s .. "]" .. eq .. "]"
end

local function server_block(port_var, vendor)
  return ([[
  server {
    listen 127.0.0.1:%s;
    location / { content_by_lua_block { require("sandbox.server").handle("%s") } }
  }
]]):format(port_var, vendor)
end

-- Raw HTTP exchange with the sandbox: returns status, body text, headers.
local function request(method, url, body, headers)
  local chunks = {}
  headers = headers or {}
  if body then
    headers["Content-Length"] = tostring(#body)
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local _, status, resp_headers = http.request {
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  return status, table.concat(chunks), resp_headers
end
M.request = request

local Sandbox = {}
Sandbox.__index = Sandbox

function Sandbox:control(vendor, action, args)
  local base = self.ports[vendor] and ("http://127.0.0.1:" .. self.ports[vendor]) or error("unknown vendor " ..
    tostring(vendor), 3)
  local status, body = request("POST", base .. "/_sandbox/" .. action, json.encode(args or {}))
  local answer = json.decode(body)
  if status ~= 200 then
    error("sandbox " .. action .. " " .. vendor .. ": " .. tostring(status) .. " " .. tostring(answer and
      answer.error or body), 3)
  end
  return answer
end

-- Set a fault knob (nil clears it). expire_token takes no value.
function Sandbox:knob(vendor, name, value)
  return self:control(vendor, "knob", { name = name, value = value })
end

function Sandbox:seed(vendor, entity, records)
  return self:control(vendor, "seed", { entity = entity, records = json.array(records) })
end

-- Records of an entity (decoded with sandbox.json: 64-bit ids are bignums, tostring gives digits).
function Sandbox:dump(vendor, entity)
  return self:control(vendor, "dump", { entity = entity }).records
end

function Sandbox:reset(vendor)
  for _, v in ipairs(vendor and { vendor } or M.VENDORS) do self:control(v, "reset") end
end

function Sandbox:stats(vendor)
  return self:control(vendor, "stats")
end

local function lower_hex(bin)
  return (bin:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- The pieces both push signatures sign: the top-level members of raw_body but sign, sorted by
-- name, each as piece(member, text) where text is the decoded string or the value as written;
-- a member whose piece is nil is skipped.
local function signed_pieces(raw_body, piece)
  local members = assert(json.raw_members(raw_body))
  table.sort(members, function(a, b) return a.name < b.name end)
  local parts = {}
  for _, m in ipairs(members) do
    if m.name ~= "sign" then
      parts[#parts + 1] = piece(m, type(m.value) == "string" and m.value or m.raw)
    end
  end
  return parts
end

-- Shoplus webhook signature (vectors file reading): top-level members except sign, null and
-- "" skipped, sorted by name, values concatenated (strings decoded, everything else as
-- written), api secret appended, lower-hex SHA-256.
function M.shoplus_webhook_sign(raw_body, secret)
  local digest = require "openssl.digest"
  local parts = signed_pieces(raw_body, function(m, text)
    if m.value ~= json.null and m.value ~= "" then return text end
  end)
  return lower_hex(digest.new("sha256"):final(table.concat(parts) .. secret))
end

-- POST a signed Shoplus event to url. body: a table (encoded by sandbox.json, bignums kept)
-- or raw JSON object text. Returns status, response body.
function Sandbox.send_webhook(_, url, event, body, secret)
  local raw = type(body) == "string" and body or json.encode(body)
  local members = assert(json.raw_members(raw))
  local sign = M.shoplus_webhook_sign(raw, secret)
  local parts = {}
  for _, m in ipairs(members) do
    if m.name ~= "sign" then parts[#parts + 1] = json.encode(m.name) .. ":" .. m.raw end
  end
  parts[#parts + 1] = '"sign":' .. json.encode(sign)
  local signed = "{" .. table.concat(parts, ",") .. "}"
  local status, resp = request("POST", url, signed,
    { ["Content-Type"] = "application/json", ["WebHook-Event"] = event })
  return status, resp, signed
end

-- Guanmai pushed-message signature (doc/assumptions.md): top-level members except sign,
-- nulls skipped, sorted by name, `name=value` (strings decoded, other values as written)
-- joined by "&", with "%", "&" and "=" in names and values written %25, %26, %3D;
-- lower-hex HMAC-SHA256 with the secret.
local GUANMAI_ESCAPES = { ["%"] = "%25", ["&"] = "%26", ["="] = "%3D" }
local function guanmai_escape(text) return (text:gsub("[%%&=]", GUANMAI_ESCAPES)) end

function M.guanmai_message_sign(raw_body, secret)
  local hmac = require "openssl.hmac"
  local parts = signed_pieces(raw_body, function(m, text)
    if m.value ~= json.null then return guanmai_escape(m.name) .. "=" .. guanmai_escape(text) end
  end)
  return lower_hex(hmac.new(secret, "sha256"):final(table.concat(parts, "&")))
end

-- POST a signed Guanmai message {version, appid, ts, type, sign, ...fields} to url.
-- opts: appid (default the sandbox's), secret (default the sandbox's), ts (default now).
-- Returns status, response body, sent body.
function Sandbox:send_guanmai_message(url, msg_type, fields, opts)
  opts = opts or {}
  local members = { version = "1.0", appid = opts.appid or self.credentials.guanmai.appid,
                    ts = opts.ts or os.time(), type = msg_type }
  for k, v in pairs(fields or {}) do members[k] = v end
  local raw = json.encode(members)
  members.sign = M.guanmai_message_sign(raw, opts.secret or self.credentials.guanmai.secret)
  local signed = json.encode(members)
  local status, resp = request("POST", url, signed, { ["Content-Type"] = "application/json" })
  return status, resp, signed
end

function Sandbox:stop()
  if self.server then self.server:stop() self.server = nil end
end

-- sandbox.start{ credentials = {vendor = {...}}, workers = 1, log_level = "warn", port_base = N } -> sb
-- (port_base: vendor i listens on port_base + i - 1, in M.VENDORS order; else free ports)
function M.start(opts)
  opts = opts or {}
  local dir = lua_dir()
  local root = dir:match("^(.*)/sandbox/lua$")
  -- the nginx helper: spec/support/nginx.lua in a checkout, mallapi/sandbox/support/ in a rock
  local helpers = root and (root .. "/spec/?.lua") or (dir .. "/sandbox/?.lua")
  if not package.path:find(helpers, 1, true) then package.path = helpers .. ";" .. package.path end
  local nginx = require "support.nginx"
  local creds = json.encode(opts.credentials or {})
  local blocks = {
    "  lua_shared_dict sandbox 64m;",
    "  client_max_body_size 16m;",
    "  client_body_buffer_size 1m;",
    "  init_by_lua_block {",
    -- Without lua-resty-core every shared-dict call is a classic C function, which makes
    -- LuaJIT's trace recorder abort over and over in the listing loops (ten times slower
    -- than the interpreter); the sandbox runs interpreted.
    "    jit.off()",
    "    package.path = " .. long_bracket(dir .. "/?.lua;") .. " .. package.path",
    "    require('sandbox.config').set(" .. long_bracket(creds) .. ")",
    "  }",
    "  init_worker_by_lua_block { math.randomseed(ngx.now() * 1000 + ngx.worker.pid()) }",
  }
  for i, vendor in ipairs(M.VENDORS) do blocks[#blocks + 1] = server_block("$PORT" .. i, vendor) end
  local fixed
  if opts.port_base then
    fixed = {}
    for i = 1, #M.VENDORS do fixed[i] = opts.port_base + i - 1 end
  end
  local srv = nginx.start { http = table.concat(blocks, "\n"), ports = #M.VENDORS, port_list = fixed,
                            workers = opts.workers or 1, log_level = opts.log_level }
  local sb = setmetatable({ server = srv, ports = {}, urls = {}, pid = srv.pid, prefix = srv.prefix }, Sandbox)
  for i, vendor in ipairs(M.VENDORS) do sb.ports[vendor] = srv.ports[i] end
  local function base(v) return "http://127.0.0.1:" .. sb.ports[v] end
  sb.urls = {
    sobot = base("sobot"),
    hd = base("hd"),
    shoplus = base("shoplus") .. "/open-api",
    guanmai = base("guanmai"),
    babycare = base("babycare") .. "/api/gateway/open/v5",
  }
  -- the credentials in force (defaults merged with the overrides)
  local effective = json.copy(require("sandbox.config").defaults)
  for v, c in pairs(opts.credentials or {}) do
    effective[v] = effective[v] or {}
    for k, x in pairs(c) do effective[v][k] = x end
  end
  sb.credentials = effective
  return sb
end

return M
