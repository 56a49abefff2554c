-- Test helper: a private redis-server on 127.0.0.1 (free port, own directory, no
-- persistence, a password), started and stopped by PID by the spec.
--   local redis = require "support.redis_server"
--   local srv = redis.start()   -- srv.port, srv.password, srv.dir, srv.pid
--   srv:stop()
local socket = require "socket"
local procs = require "support.procs"

local M = {}

local function ping(port, password)
  local c = socket.tcp()
  c:settimeout(0.5)
  if not c:connect("127.0.0.1", port) then c:close() return false end
  c:send("AUTH " .. password .. "\r\nPING\r\n")
  local a, b = c:receive("*l"), c:receive("*l")
  c:close()
  return a == "+OK" and b == "+PONG"
end

local Server = {}
Server.__index = Server

function Server:stop()
  if self.pid then
    procs.stop_pid(self.pid)
    self.pid = nil
  end
  if self.dir then procs.remove_dir(self.dir) end
end

-- Kill it by PID but keep its directory (its AOF), for M.start{ dir =, port = } again.
function Server:kill()
  if self.pid then procs.stop_pid(self.pid); self.pid = nil end
end

-- opts (optional): appendonly = true (AOF, fsync always), dir =, port = (a restart).
function M.start(opts)
  opts = opts or {}
  local port = opts.port or procs.free_port()
  local dir = opts.dir or procs.temp_dir("redis")
  local password = "r3dis-Pass-" .. port
  local aof = opts.appendonly and "yes --appendfsync always" or "no"
  local p = assert(io.popen("redis-server --bind 127.0.0.1 --port " .. port .. " --dir '" .. dir
    .. "' --save '' --appendonly " .. aof .. " --requirepass " .. password
    .. " >'" .. dir .. "/redis.log' 2>&1 & echo $!"))
  local pid = p:read("*l")
  p:close()
  local srv = setmetatable({ port = port, dir = dir, password = password, pid = pid }, Server)
  for _ = 1, 100 do
    if ping(port, password) then return srv end
    socket.sleep(0.05)
  end
  srv:stop()
  error("redis-server did not start on 127.0.0.1:" .. port, 2)
end

return M
