-- mallapi.ngx: what the rest of mallapi needs to behave inside nginx (OpenResty):
-- whether we run in nginx and may yield, a sleep that yields, and the Redis store on
-- cosockets. The transport is mallapi.ngx.http, the webhook receiver
-- mallapi.ngx.webhook. Requiring this module inside nginx installs the cosocket
-- transport (mallapi.http.set_transport) and the yielding sleep (mallapi.clock.set_sleep)
-- into the engine, so mallapi.http.new and mallapi.token use them; the engine itself
-- never looks for `ngx`. Put `require "mallapi.ngx"` in init_by_lua(_block).
local core = require "mallapi.core"

local ngx = ngx
local type, error, tostring, setmetatable, getmetatable, string_format =
  type, error, tostring, setmetatable, getmetatable, string.format

local M = {}

local YIELDABLE = require("mallapi.ngx.http").YIELDABLE

-- true inside an nginx worker or master with the Lua module (not under plain Lua).
function M.active()
  return type(ngx) == "table" and type(ngx.get_phase) == "function"
end

-- true when the current phase can wait on the network or a timer.
function M.yieldable()
  return M.active() and YIELDABLE[ngx.get_phase()] == true
end

-- sleep(ms): yields to nginx where it can; blocks only where nothing could yield
-- (init phases), as core.clock.sleep_ms would.
function M.sleep_ms(ms)
  if M.yieldable() then ngx.sleep(ms / 1000) else core.clock.sleep_ms(ms) end
end

-- install(): the cosocket transport and the yielding sleep become the engine's (done
-- once when this module is required inside nginx; again is harmless). uninstall() puts
-- libcurl and the blocking sleep back.
function M.install()
  require("mallapi.http").set_transport(require "mallapi.ngx.http")
  require("mallapi.clock").set_sleep(M.sleep_ms)
  M.installed = true
end

function M.uninstall()
  require("mallapi.http").set_transport(nil)
  require("mallapi.clock").set_sleep(nil)
  M.installed = false
end

---------------------------------------------------------------------------------------------
-- Redis on cosockets. store.redis speaks RESP over a LuaSocket-shaped socket and keeps
-- one connection in the store object; in nginx a cosocket belongs to the request (or
-- timer) that made it and two requests must never share one, so each command here takes
-- a connection from nginx's keepalive pool and gives it back afterwards.

-- A LuaSocket-shaped wrapper of ngx.socket.tcp (settimeout in seconds; close puts a
-- healthy connection back in the pool).
local Socket = {}
Socket.__index = Socket

local function new_socket(pool, pool_size, keepalive_ms)
  return setmetatable({ sock = ngx.socket.tcp(), pool = pool, pool_size = pool_size,
                        keepalive_ms = keepalive_ms }, Socket)
end

function Socket:settimeout(seconds) self.sock:settimeout(seconds * 1000) end
function Socket:connect(host, port) return self.sock:connect(host, port, { pool = self.pool }) end
function Socket:send(data) return self.sock:send(data) end
function Socket:receive(pattern) return self.sock:receive(pattern) end
function Socket:close() return self.sock:close() end
function Socket:release() return self.sock:setkeepalive(self.keepalive_ms, self.pool_size) end
function Socket:reused() return (self.sock:getreusedtimes() or 0) > 0 end

-- mallapi.ngx.redis_store(opts): mallapi.store.redis with the same options (host, port,
-- password, db, prefix, timeout in ms) plus pool_size (default 16) and keepalive (ms,
-- default 60000). Several nginx machines on one Redis share one token.
function M.redis_store(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'mallapi.ngx.redis_store' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = require("mallapi.units").apply(opts, "mallapi.ngx.redis_store")   -- timeout_ms, keepalive_ms
  local host, port, db = opts.host or "127.0.0.1", opts.port or 6379, opts.db
  -- connections authenticated for another db or password must not be mixed
  local password = opts.password
  local pool = string_format("mallapi-redis:%s:%s:%s:%s", host, tostring(port), tostring(db or 0),
                             password and ngx.md5("mallapi-pool:" .. password) or "-")
  local pool_size, keepalive_ms = opts.pool_size or 16, opts.keepalive or 60000
  local copy = {}
  for k, v in pairs(opts) do copy[k] = v end
  copy.pool_size, copy.keepalive = nil, nil
  copy.socket = function() return new_socket(pool, pool_size, keepalive_ms) end
  local store = require("mallapi.store.redis").new(copy)
  local Base = getmetatable(store)
  local Pooled = setmetatable({ kind = "redis" }, { __index = Base })
  Pooled.__index = Pooled
  Pooled.__tostring = Base.__tostring

  -- One command on a pooled connection; a pooled connection the server closed while idle
  -- is replaced once. The connection lives in a view of the store made for this call (its
  -- own `sock` field): requests and light threads of one worker that share the store yield
  -- in the middle of a command, and must never see each other's socket.
  function Pooled:command(...)
    local name = (...)
    for attempt = 1, 2 do
      local call = setmetatable({}, { __index = self })
      local ok, err = call:connect()                -- AUTH and SELECT only on a new connection
      if not ok then return nil, "store.redis: " .. tostring(err), "STORE" end
      local sock = call.sock
      local reused = sock:reused()
      local reply, rerr, how = call:raw(...)        -- raw closes the socket on a broken connection
      if how ~= "conn" then sock:release() end
      if not rerr then return reply end
      if how ~= "conn" or not reused or attempt == 2 then
        return nil, "store.redis: " .. name .. ": " .. tostring(rerr), "STORE"
      end
    end
  end

  return setmetatable(store, Pooled)
end

if M.active() then M.install() end

return M
