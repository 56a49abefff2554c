-- Issue 13 item 6: the nginx transport refused a valid certificate for https://127.0.0.1
-- that lists IP:127.0.0.1 (libcurl accepts it): nginx matches names against DNS names
-- only. IP hosts are now matched against the certificate's IP addresses. Certificates are
-- made now by `openssl req`, trusted by the gateway's lua_ssl_trusted_certificate.
local nginx = require "support.nginx"
local procs = require "support.procs"
local socket_http = require "socket.http"

local VENDOR = [[
server {
  listen 127.0.0.1:$PORT1 ssl;
  ssl_certificate DIR/ip.pem; ssl_certificate_key DIR/ip.key;
  location / { return 200 'ip-ok'; }
}
server {
  listen 127.0.0.1:$PORT2 ssl;
  ssl_certificate DIR/dns.pem; ssl_certificate_key DIR/dns.key;
  location / { return 200 'dns-ok'; }
}
]]

local GATEWAY = [[
lua_ssl_trusted_certificate DIR/trusted.pem;
lua_ssl_verify_depth 2;
server {
  listen 127.0.0.1:$PORT;
  location /tls {
    content_by_lua_block {
      local t = require("mallapi.ngx.http").new{ verify = ngx.var.arg_verify ~= "0" }
      local res, err, code = t:request{ url = ngx.var.arg_url }
      ngx.print(res and ("status=" .. res.status .. " body=" .. res.body) or (tostring(code) .. " " .. tostring(err)))
    }
  }
}
]]

describe("nginx transport TLS to an IP host", function()
  local dir, vendor, gateway

  local function cert(name, san)
    assert(procs.sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      .. " -subj /CN=" .. name .. " -addext 'subjectAltName=" .. san .. "' -keyout '" .. dir .. "/" .. name
      .. ".key' -out '" .. dir .. "/" .. name .. ".pem' >/dev/null 2>&1"))
  end

  setup(function()
    dir = procs.temp_dir("ngxtls")
    cert("ip", "IP:127.0.0.1")
    cert("dns", "DNS:localhost")
    assert(procs.sh("cat '" .. dir .. "/ip.pem' '" .. dir .. "/dns.pem' > '" .. dir .. "/trusted.pem'"))
    vendor = nginx.start { ports = 2, http = (VENDOR:gsub("DIR", dir)) }
    gateway = nginx.start { http = (GATEWAY:gsub("DIR", dir)) }
  end)

  teardown(function()
    if gateway then gateway:stop() end
    if vendor then vendor:stop() end
    if dir then procs.remove_dir(dir) end
  end)

  local function call(url, verify)
    local body, status = socket_http.request(gateway:url("/tls?url=" .. url .. (verify == false and "&verify=0" or "")))
    assert.equal(200, status)
    return body
  end

  it("accepts a trusted certificate that lists IP:127.0.0.1", function()
    assert.equal("status=200 body=ip-ok", call("https://127.0.0.1:" .. vendor.ports[1] .. "/"))
  end)

  it("refuses a trusted certificate that lists only DNS:localhost for https://127.0.0.1", function()
    local body = call("https://127.0.0.1:" .. vendor.ports[2] .. "/")
    assert.equal("TLS http.request: TLS handshake or certificate check failed: GET https://127.0.0.1:"
      .. vendor.ports[2] .. "/ (certificate does not list IP address 127.0.0.1)", body)
  end)

  it("verify = false still skips the check", function()
    assert.equal("status=200 body=dns-ok", call("https://127.0.0.1:" .. vendor.ports[2] .. "/", false))
  end)
end)
