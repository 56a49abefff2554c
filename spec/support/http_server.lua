-- Test server for the HTTP transport specs and benchmark: a private nginx (through
-- support.nginx) on 127.0.0.1 with an HTTP and an HTTPS port (certificate made now by
-- `openssl req`), plus a free port where nothing listens.
--
--   local server = require "support.http_server"
--   local srv = server.start()          -- or server.start{ cpu = "1" } for benchmarks
--   srv:url("/json"), srv:https_url("/json"), srv.ca_file, srv.closed_url,
--   srv.proxy_url (a forward proxy to the HTTP port, logging to proxy.log)
--   srv:connections()                   -- distinct $connection values in the access log
--   srv:stop()
--
-- Locations (HTTP and HTTPS):
--   /json            fixed JSON answer (no Lua: nginx's `return`)
--   /headers         answer with a repeated header (x-multi: a, x-multi: b)
--   /echo            JSON of method, uri, protocol, query string, request headers and body
--   /slow?s=N        answers after N seconds
--   /status/NNN      answers with status NNN
--   /flaky?key=K&fail=N&status=S&after=A&mode=M
--                    the first N hits of K fail: status S (with Retry-After: A when given,
--                    or an HTTP-date D seconds ahead with after_date=D),
--                    or mode=cut (Content-Length larger than the body, then close) or
--                    mode=close (close with no answer); later hits answer 200 "ok N"
--   /hits?key=K      how many times K was hit
--   /big?n=N&cl=1    N bytes of body (chunked, or with Content-Length when cl=1)
--   /cut             Content-Length: 100 but 10 bytes, then the connection closes
--   /raw?kind=K      a hand-written answer with odd headers: fold (obsolete line folding),
--                    nul (a NUL byte in a value), spaces (padding, an empty value),
--                    huge (one 1 MiB header), many (100 headers of 1 KB)
local nginx = require "support.nginx"
local procs = require "support.procs"
local socket = require "socket"

local M = {}

local sh = procs.sh

local LOCATIONS = [[
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_buffer_size 1m;
    client_max_body_size 10m;
    access_log $PREFIX/logs/conn.log conn;
    location = /json { default_type application/json; return 200 '{"ok":true,"id":1}'; }
    location = /headers { add_header X-Multi a; add_header X-Multi b; return 200 'h'; }
    location = /echo {
      content_by_lua_block {
        ngx.req.read_body()
        local cjson = require "cjson"
        ngx.header["Content-Type"] = "application/json"
        ngx.print(cjson.encode{ method = ngx.req.get_method(), uri = ngx.var.uri,
          protocol = ngx.var.server_protocol,
          query = ngx.var.args or "", headers = ngx.req.get_headers(100),
          body = ngx.req.get_body_data() or "" })
      }
    }
    location = /slow { content_by_lua_block { ngx.sleep(tonumber(ngx.var.arg_s) or 1) ngx.print("slow") } }
    location ~ ^/status/(\d+)$ {
      content_by_lua_block { ngx.status = tonumber(ngx.var[1]) ngx.print("status ", ngx.var[1]) }
    }
    location = /hits { content_by_lua_block { ngx.print(ngx.shared.hits:get(ngx.var.arg_key) or 0) } }
    location = /flaky {
      content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local n = ngx.shared.hits:incr(args.key, 1, 0)
        if n <= (tonumber(args.fail) or 0) then
          if args.mode == "close" then return ngx.exit(444) end
          if args.mode == "cut" then
            local sock = ngx.req.socket(true)
            sock:send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            return ngx.exit(444)
          end
          if args.after then ngx.header["Retry-After"] = args.after end
          if args.after_date then
            ngx.header["Retry-After"] = ngx.http_time(ngx.time() + tonumber(args.after_date))
          end
          ngx.status = tonumber(args.status) or 503
          return ngx.print("fail ", n)
        end
        ngx.print("ok ", n)
      }
    }
    location = /big {
      content_by_lua_block {
        local n = tonumber(ngx.var.arg_n) or 0
        if ngx.var.arg_cl then ngx.header["Content-Length"] = n end
        local chunk = string.rep("x", 65536)
        while n > 0 do
          ngx.print(n >= #chunk and chunk or chunk:sub(1, n))
          n = n - #chunk
        end
      }
    }
    location = /raw {
      content_by_lua_block {
        local kinds = {
          fold = "X-Fold: a\r\n  b\r\n",
          nul = "X-Nul: a\0b\r\n",
          spaces = "X-Pad:   v  \r\nX-Empty:\r\n",
          huge = "X-Huge: " .. string.rep("h", 1048576) .. "\r\n",
          many = string.rep("X-Many: " .. string.rep("m", 1000) .. "\r\n", 100),
        }
        ngx.req.read_body()
        local sock = ngx.req.socket(true)
        sock:send("HTTP/1.1 200 OK\r\n" .. kinds[ngx.var.arg_kind] .. "Content-Length: 2\r\n\r\nok")
        return ngx.exit(444)
      }
    }
    location = /cut {
      content_by_lua_block {
        local sock = ngx.req.socket(true)
        sock:send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        return ngx.exit(444)
      }
    }
]]

local Server = {}
Server.__index = Server

function Server:url(path) return "http://127.0.0.1:" .. self.port .. (path or "/") end
function Server:https_url(path) return "https://127.0.0.1:" .. self.tls_port .. (path or "/") end

-- Distinct connections in the access log (lines "$connection $request_uri $status"),
-- counting only lines whose URI matches `pattern` (a Lua pattern or a function of the
-- URI) when given, and the line count.
-- nginx writes a line after the answer has gone, so with `want_lines` this waits
-- (up to 3 s) until that many matching lines are there.
function Server:connections(pattern, want_lines)
  local count, lines
  for _ = 1, 60 do
    count, lines = self:count_connections(pattern)
    if not want_lines or lines >= want_lines then break end
    socket.sleep(0.05)
  end
  return count, lines
end

-- The text of log `name` once it contains `plain` (up to 3 s: nginx logs after answering).
function Server:wait_log(name, plain)
  local text
  for _ = 1, 60 do
    text = self.nginx:log(name)
    if text:find(plain, 1, true) then break end
    socket.sleep(0.05)
  end
  return text
end

function Server:count_connections(pattern)
  local seen, count, lines = {}, 0, 0
  for line in (self.nginx:log("conn.log")):gmatch("[^\n]+") do
    local conn, uri = line:match("^(%d+) (%S+)")
    local wanted = conn and (not pattern or (type(pattern) == "function" and pattern(uri))
                             or (type(pattern) == "string" and uri:find(pattern)))
    if wanted then
      lines = lines + 1
      if not seen[conn] then seen[conn], count = true, count + 1 end
    end
  end
  return count, lines
end

function Server:clear_log()
  local f = io.open(self.nginx.prefix .. "/logs/conn.log", "wb")   -- nginx keeps appending
  if f then f:close() end
end

function Server:stop()
  if self.nginx then self.nginx:stop() self.nginx = nil end
  if self.cert_dir then procs.remove_dir(self.cert_dir) self.cert_dir = nil end
end

-- opts.cpu: pin nginx (taskset list); opts.workers (default 1).
function M.start(opts)
  opts = opts or {}
  local dir = procs.temp_dir("cert")
  local made = sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    .. " -keyout '" .. dir .. "/key.pem' -out '" .. dir .. "/cert.pem' -days 2 -subj /CN=localhost"
    .. " -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' >/dev/null 2>&1")
  if not made then
    procs.remove_dir(dir)
    error("openssl req could not make a certificate", 2)
  end
  local config = table.concat({
    "lua_shared_dict hits 1m;",
    "log_format conn '$connection $request_uri $status';",
    "server { listen 127.0.0.1:$PORT1; " .. LOCATIONS .. " }",
    "server { listen 127.0.0.1:$PORT2 ssl http2;",
    "  ssl_certificate " .. dir .. "/cert.pem; ssl_certificate_key " .. dir .. "/key.pem;",
    LOCATIONS .. " }",
    "server { listen 127.0.0.1:$PORT3; access_log $PREFIX/logs/proxy.log conn;",
    "  location / { proxy_pass http://127.0.0.1:$PORT1; } }",
  }, "\n")
  local ok, srv = pcall(nginx.start, { http = config, ports = 3, cpu = opts.cpu, workers = opts.workers })
  if not ok then
    procs.remove_dir(dir)
    error(srv, 2)
  end
  local closed_port = procs.free_port()
  return setmetatable({
    nginx = srv, port = srv.ports[1], tls_port = srv.ports[2], cert_dir = dir,
    proxy_url = "http://127.0.0.1:" .. srv.ports[3],
    ca_file = dir .. "/cert.pem", closed_url = "http://127.0.0.1:" .. closed_port .. "/json",
  }, Server)
end

return M
