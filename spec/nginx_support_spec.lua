-- The test-server helper itself: nginx starts on a free loopback port, serves Lua, and stops.
local nginx = require "support.nginx"
local http = require "socket.http"

describe("spec/support/nginx", function()
  it("starts nginx with a Lua location and stops it by PID", function()
    local srv = nginx.start{ http = [[
      server {
        listen 127.0.0.1:$PORT;
        location /hello { content_by_lua_block { ngx.say("hello ", ngx.var.arg_n) } }
      }
    ]] }
    local body, status = http.request(srv:url("/hello?n=42"))
    local pid = srv.pid
    srv:stop()
    assert.equal(200, status)
    assert.equal("hello 42\n", body)
    assert.is_false(nginx.alive(pid))
  end)
end)
