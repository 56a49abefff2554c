-- Test helper: start a private nginx (with the Lua module) on 127.0.0.1 with a
-- config written by the spec, in its own prefix directory, and stop it by the PID it
-- started. Ports are chosen at run time.
--
--   local nginx = require "support.nginx"
--   local srv = nginx.start{ http = [[ server { listen 127.0.0.1:$PORT; ... } ]], ports = 1 }
--   -- srv.port, srv.ports[i], srv.prefix, srv:url("/path"), srv:log("access.log")
--   srv:stop()
--
-- In the config text, $PORT is the first port, $PORT1..$PORTn each port, $PREFIX the prefix
-- directory, $ROOT the repository root and $CPATH the LUA_CPATH of the current runtime's build.
local socket = require "socket"
local procs = require "support.procs"

local M = {}

local MODULES = "/usr/lib/nginx/modules"

-- Debian puts nginx in /usr/sbin, which a user's PATH often lacks; MALLAPI_NGINX overrides.
local function nginx_binary()
  local given = os.getenv("MALLAPI_NGINX")
  if given and given ~= "" then return given end
  local f = io.open("/usr/sbin/nginx", "rb")
  if f then f:close(); return "/usr/sbin/nginx" end
  return "nginx"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function port_open(port)
  local c = socket.tcp()
  c:settimeout(0.2)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end

M.alive = procs.alive

local Server = {}
Server.__index = Server

function Server:url(path)
  return "http://127.0.0.1:" .. self.port .. (path or "/")
end

function Server:log(name)
  return read_file(self.prefix .. "/logs/" .. name) or ""
end

function Server:stop()
  if self.pid then
    procs.stop_pid(self.pid)
    self.pid = nil
  end
  if self.prefix and not os.getenv("MALLAPI_KEEP_NGINX") then
    sh("rm -rf '" .. self.prefix .. "'")
  end
end

-- opts.http: text inside the http{} block; opts.main: text at the top level;
-- opts.ports: how many ports to choose (default 1); opts.port_list: fixed ports instead; opts.workers (default 1);
-- opts.cpu: pin nginx to these CPUs (taskset -c list, for benchmarks); opts.lua_path: more
-- lua_package_path entries (e.g. a user's own vendor profiles).
function M.start(opts)
  local prefix = assert(io.popen("mktemp -d /tmp/mallapi-nginx.XXXXXX")):read("*l")
  sh("mkdir -p '" .. prefix .. "/logs' '" .. prefix .. "/conf' '" .. prefix .. "/html'")
  local ports = {}
  -- distinct ports: the kernel may hand out the same free port twice in a row, and nginx
  -- takes two server blocks on one port as virtual hosts (one answering for the other)
  local taken = {}
  for i = 1, opts.port_list and 0 or opts.ports or 1 do
    local port
    repeat port = procs.free_port() until not taken[port]
    taken[port], ports[i] = true, port
  end
  for i, port in ipairs(opts.port_list or {}) do ports[i] = port end
  local root = assert(io.popen("pwd")):read("*l")
  local cpath = root .. "/build/luajit/?.so;;"
  local lpath = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/spec/?.lua;"
    .. root .. "/examples/openresty/?.lua;" .. (opts.lua_path and opts.lua_path .. ";" or "") .. ";"
  local conf = table.concat({
    "load_module " .. MODULES .. "/ndk_http_module.so;",
    "load_module " .. MODULES .. "/ngx_http_lua_module.so;",
    "worker_processes " .. (opts.workers or 1) .. ";",
    "pid " .. prefix .. "/logs/nginx.pid;",
    "error_log " .. prefix .. "/logs/error.log " .. (opts.log_level or "warn") .. ";",
    opts.main or "",
    "events { worker_connections 1024; }",
    "http {",
    "  access_log " .. prefix .. "/logs/access.log;",
    "  client_body_temp_path " .. prefix .. "/body;",
    "  proxy_temp_path " .. prefix .. "/proxy;",
    "  fastcgi_temp_path " .. prefix .. "/fastcgi;",
    "  uwsgi_temp_path " .. prefix .. "/uwsgi;",
    "  scgi_temp_path " .. prefix .. "/scgi;",
    "  lua_package_path '" .. lpath .. "';",
    "  lua_package_cpath '" .. cpath .. "';",
    -- the OpenResty adapter installs its transport and sleep into the engine
    (opts.http or ""):find("init_by_lua", 1, true) and "" or '  init_by_lua_block { require "mallapi.ngx" }',
    opts.http or "",
    "}",
  }, "\n")
  conf = conf:gsub("%$PORT(%d+)", function(i) return tostring(ports[tonumber(i)]) end)
  conf = conf:gsub("%$PORT", tostring(ports[1]))
  conf = conf:gsub("%$PREFIX", prefix):gsub("%$ROOT", root):gsub("%$CPATH", cpath)
  write_file(prefix .. "/conf/nginx.conf", conf)
  local srv = setmetatable({ prefix = prefix, port = ports[1], ports = ports }, Server)
  local pin = opts.cpu and ("taskset -c " .. opts.cpu .. " ") or ""
  if not sh(pin .. nginx_binary() .. " -p '" .. prefix .. "' -c '" .. prefix .. "/conf/nginx.conf' -e '"
            .. prefix .. "/logs/error.log' 2>'" .. prefix .. "/logs/start.log'") then
    local why = (read_file(prefix .. "/logs/start.log") or "") .. (read_file(prefix .. "/logs/error.log") or "")
    srv:stop()
    error("nginx did not start: " .. why, 2)
  end
  for _ = 1, 100 do                                 -- up to 5 s for the pid file and ports
    local pid = read_file(prefix .. "/logs/nginx.pid")
    if pid and pid:match("%d+") then srv.pid = pid:match("%d+") end
    if srv.pid and port_open(ports[1]) then return srv end
    socket.sleep(0.05)
  end
  srv:stop()
  error("nginx did not listen on 127.0.0.1:" .. ports[1], 2)
end

return M
