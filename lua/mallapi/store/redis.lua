-- mallapi.store.redis: a store shared by many machines through a redis-server.
-- Values are plain keys with a TTL (SET PX); the refresh lock is a second key taken
-- with SET NX PX <lease> and released only by its holder (an EVAL script compares
-- the lock id first). The lock id names its holder (host, pid): a lock whose holder is
-- known dead (same host, no such pid) is taken over at once; renew() extends a live
-- holder's lease, so a short lease is safe. The RESP client below talks to any socket object with the
-- LuaSocket/cosocket shape (connect, settimeout, send, receive, close), so the same
-- file serves LuaSocket in Lua 5.4 and LuaJIT and, later, ngx.socket.tcp.
local setmetatable, type, error, tostring, tonumber, select = setmetatable, type, error, tostring, tonumber, select
local concat, string_format, math_floor = table.concat, string.format, math.floor

local M = {}

local UNLOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then "
  .. "return redis.call('del', KEYS[1]) else return 0 end"
-- KEYS lock; ARGV id, lease ms: the holder's lease starts again
local RENEW_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then "
  .. "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
-- KEYS lock; ARGV dead holder's id, new id, lease ms: taken over only from that holder
local TAKEOVER_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then "
  .. "redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end"

local Store = { kind = "redis" }
Store.__index = Store
Store.__tostring = function(self)
  return string_format("mallapi.store.redis(%s:%d, prefix=%s)", self.host, self.port, self.prefix)
end

local core = require "mallapi.core"

-- lock ids: unique across machines and processes (host, pid, wall clock, serial)
local host_name do
  local f = io.open("/proc/sys/kernel/hostname", "r")
  host_name = f and f:read("*l") or "host"
  if f then f:close() end
end
M.host_name = host_name                             -- also names the webhook queue's claims
local serial = 0

function M.new(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'mallapi.store.redis' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = require("mallapi.units").apply(opts, "store.redis.new")     -- timeout_ms (alias timeout)
  local port = opts.port or 6379
  if type(port) ~= "number" then
    error("bad argument #1 to 'mallapi.store.redis' (port must be a number)", 2)
  end
  local socket_factory = opts.socket
  if socket_factory == nil then
    local socket = require "socket"
    socket_factory = socket.tcp
  end
  -- the password lives in a closure, not a field, so no dump of the store shows it
  local password = opts.password
  return setmetatable({
    host = opts.host or "127.0.0.1", port = port, db = opts.db,
    prefix = opts.prefix or "mallapi:", timeout_ms = opts.timeout or 2000,
    socket_factory = socket_factory,
    auth = function() return password end,
  }, Store)
end

local function encode_command(...)
  local n = select("#", ...)
  local parts = { "*", n, "\r\n" }
  for i = 1, n do
    local arg = tostring((select(i, ...)))
    parts[#parts + 1] = "$" .. #arg .. "\r\n" .. arg .. "\r\n"
  end
  return concat(parts)
end

-- One RESP reply: a string, number, array, ngx-less null (nil), or nil, msg for
-- an error reply or a broken connection (third value "conn" then).
local function read_reply(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err, "conn" end
  local kind, rest = line:sub(1, 1), line:sub(2)
  if kind == "+" then return rest end
  if kind == "-" then return nil, rest end
  if kind == ":" then return tonumber(rest) end
  if kind == "$" then
    local len = tonumber(rest)
    if not len or len < 0 then return nil end
    local data, derr = sock:receive(len + 2)
    if not data then return nil, derr, "conn" end
    return data:sub(1, len)
  end
  if kind == "*" then
    local count = tonumber(rest)
    if not count or count < 0 then return nil end
    local items = {}
    for i = 1, count do
      local item, ierr, how = read_reply(sock)
      if ierr then return nil, ierr, how end
      items[i] = item
    end
    return items
  end
  return nil, "bad reply from redis", "conn"
end

function Store:close()
  if self.sock then self.sock:close() end
  self.sock = nil
end

function Store:connect()
  local sock = self.socket_factory()
  sock:settimeout(self.timeout_ms / 1000)
  local ok, err = sock:connect(self.host, self.port)
  if not ok then
    sock:close()
    return nil, string_format("connect to %s:%d: %s", self.host, self.port, tostring(err))
  end
  self.sock = sock
  -- a pooled connection (cosockets) is already authenticated and on its db
  if sock.reused and sock:reused() then return true end
  local password = self.auth()
  if password then
    local _, aerr = self:raw("AUTH", password)
    if aerr then self:close(); return nil, "AUTH: " .. aerr end
  end
  if self.db then
    local _, serr = self:raw("SELECT", self.db)
    if serr then self:close(); return nil, "SELECT: " .. serr end
  end
  return true
end

function Store:raw(...)
  local _, err = self.sock:send(encode_command(...))
  if err then self:close(); return nil, err, "conn" end
  local reply, rerr, how = read_reply(self.sock)
  if how == "conn" then self:close() end
  return reply, rerr, how
end

-- Run one command; a connection that broke while idle is retried once on a new one.
function Store:command(...)
  for attempt = 1, 2 do
    local reused = self.sock ~= nil
    if not reused then
      local ok, err = self:connect()
      if not ok then return nil, "store.redis: " .. err, "STORE" end
    end
    local reply, err, how = self:raw(...)
    if not err then return reply end
    if how ~= "conn" or not reused or attempt == 2 then
      return nil, "store.redis: " .. (select(1, ...)) .. ": " .. tostring(err), "STORE"
    end
  end
end

local function ms(n) return string_format("%d", math_floor(n)) end

function Store:get(key)
  local value, err, code = self:command("GET", self.prefix .. key)
  if err then return nil, err, code end
  return value
end

function Store:set(key, value, ttl_ms)
  local reply, err, code
  if ttl_ms and ttl_ms >= 1 then
    reply, err, code = self:command("SET", self.prefix .. key, value, "PX", ms(ttl_ms))
  else
    reply, err, code = self:command("SET", self.prefix .. key, value)
  end
  if err then return nil, err, code end
  return reply == "OK"
end

function Store:delete(key)
  local _, err, code = self:command("DEL", self.prefix .. key, self.prefix .. key .. ":lock")
  if err then return nil, err, code end
  return true
end

-- The holder of a lock id "<host>:<pid>:<ms>:<serial>" is known dead when it ran on this
-- host and its pid is gone.
local function holder_dead(id)
  local host, pid = tostring(id):match("^(.*):(%d+):%d+:%d+$")
  return host == host_name and not core.lock.alive(tonumber(pid))
end

function Store:lock(key, lease_ms)
  serial = serial + 1
  local id = string_format("%s:%d:%d:%d", host_name, core.lock.pid(), core.clock.now_ms(), serial)
  local lock_key = self.prefix .. key .. ":lock"
  local reply, err, code = self:command("SET", lock_key, id, "NX", "PX", ms(lease_ms))
  if err then return nil, err, code end
  if reply == "OK" then return id end
  local holder
  holder, err, code = self:command("GET", lock_key)
  if err then return nil, err, code end
  if type(holder) ~= "string" or not holder_dead(holder) then return false end
  reply, err, code = self:command("EVAL", TAKEOVER_SCRIPT, 1, lock_key, holder, id, ms(lease_ms))
  if err then return nil, err, code end
  return reply == 1 and id or false
end

-- renew(key, lock_id, lease_ms) -> true (the lease starts again) | false (not the holder
-- any more) | nil, err, code.
function Store:renew(key, lock_id, lease_ms)
  local reply, err, code = self:command("EVAL", RENEW_SCRIPT, 1, self.prefix .. key .. ":lock", lock_id, ms(lease_ms))
  if err then return nil, err, code end
  return reply == 1
end

function Store:unlock(key, lock_id)
  local reply, err, code = self:command("EVAL", UNLOCK_SCRIPT, 1, self.prefix .. key .. ":lock", lock_id)
  if err then return nil, err, code end
  return reply == 1
end

require("mallapi.store").wrap(Store, "store.redis")

return M
