-- mallapi inside a real nginx (Debian nginx-core + libnginx-mod-http-lua, LuaJIT):
-- the cosocket transport against a vendor stand-in (another nginx), calls from
-- phases that cannot yield, a worker that keeps answering while slow vendor calls
-- are in flight, and one token fetch when four workers refresh at once (shared dict
-- and Redis stores). nginx always runs LuaJIT; this spec drives it from both runtimes.
-- Assertions are on answers, counts and order of completion, never on durations.
local nginx = require "support.nginx"
local token_server = require "support.token_server"
local redis_server = require "support.redis_server"
local socket = require "socket"
local http = require "socket.http"

local function get(url)
  http.TIMEOUT = 10
  local body, status = http.request(url)
  return body, status
end

-- "name=value" lines; everything after "body=" is the body.
local function parse(text)
  local out = { headers = {} }
  local head, body = text:match("^(.-)\nbody=(.*)$")
  if not head then head = text end
  out.body = body
  for line in (head .. "\n"):gmatch("([^\n]*)\n") do
    local name, value = line:match("^([^=]+)=(.*)$")
    if name and name:find("^header%.") then
      out.headers[name:sub(8)] = value
    elseif name then
      out[name] = value
    end
  end
  out.status = tonumber(out.status)
  return out
end

local function closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local VENDOR = [[
lua_shared_dict vendor 1m;
server {
  listen 127.0.0.1:$PORT1;
  location /echo { content_by_lua_block { require("support.openresty_app").vendor_echo() } }
  location /chunked { content_by_lua_block { require("support.openresty_app").vendor_chunked() } }
  location /big { content_by_lua_block { require("support.openresty_app").vendor_big() } }
  location /drop { return 444; }
  location /flaky { content_by_lua_block { require("support.openresty_app").vendor_flaky() } }
  location /truncated { content_by_lua_block { require("support.openresty_app").vendor_truncated() } }
  location /close {
    chunked_transfer_encoding off;          # no length, no chunks: the body ends at close
    content_by_lua_block { require("support.openresty_app").vendor_chunked() }
  }
  location /slow { content_by_lua_block { require("support.openresty_app").vendor_slow() } }
  location /count { content_by_lua_block { ngx.print(ngx.shared.vendor:get("slow_started") or 0) } }
}
server {
  listen 127.0.0.1:$PORT2 ssl;
  ssl_certificate $PREFIX/../CERT;
  ssl_certificate_key $PREFIX/../KEY;
  location /echo { content_by_lua_block { require("support.openresty_app").vendor_echo() } }
}
]]

local GATEWAY = [[
lua_shared_dict gateway 1m;
lua_shared_dict tokens 1m;
init_worker_by_lua_block {
  require("support.openresty_app").call_in_phase("init_worker", "BASE")
}
server {
  listen 127.0.0.1:$PORT;
  location /case { content_by_lua_block { require("support.openresty_app").run_case() } }
  location /call { content_by_lua_block { require("support.openresty_app").slow_call("BASE") } }
  location /health { content_by_lua_block { require("support.openresty_app").health() } }
  location /phases {
    set_by_lua_block $from_set { require("support.openresty_app").call_in_phase("set", "BASE") return "x" }
    content_by_lua_block { ngx.print("ok") }
    header_filter_by_lua_block { require("support.openresty_app").call_in_phase("header_filter", "BASE") }
    body_filter_by_lua_block {
      if ngx.arg[2] then require("support.openresty_app").call_in_phase("body_filter", "BASE") end
    }
    log_by_lua_block { require("support.openresty_app").call_in_phase("log", "BASE") }
  }
  location /phase {
    content_by_lua_block { ngx.print(ngx.shared.gateway:get("phase:" .. ngx.var.arg_tag) or "none") }
  }
}
]]

describe("openresty", function()
  local vendor, gateway, tmp, base

  setup(function()
    tmp = assert(io.popen("mktemp -d /tmp/mallapi-openresty.XXXXXX")):read("*l")
    assert(sh("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 -keyout '" .. tmp
              .. "/key.pem' -out '" .. tmp .. "/cert.pem' >/dev/null 2>&1"))
    vendor = nginx.start{ ports = 2, http = (VENDOR:gsub("%$PREFIX/%.%./CERT", tmp .. "/cert.pem")
                                             :gsub("%$PREFIX/%.%./KEY", tmp .. "/key.pem")) }
    base = "http://127.0.0.1:" .. vendor.ports[1]
    gateway = nginx.start{ http = GATEWAY:gsub("BASE", base) }
  end)

  teardown(function()
    if gateway then gateway:stop() end
    if vendor then vendor:stop() end
    sh("rm -rf '" .. tmp .. "'")
  end)

  local function run_case(name)
    local closed = "http://127.0.0.1:" .. closed_port()
    local body, status = get(gateway:url("/case?case=" .. name .. "&base=" .. base .. "&closed=" .. closed
                                          .. "&tls=https://127.0.0.1:" .. vendor.ports[2]))
    assert.equal(200, status, body)
    return parse(body), closed
  end

  describe("cosocket transport", function()
    it("sends the query sorted and encoded, headers, and reads lower-case headers", function()
      local r = run_case("get_query")
      assert.equal(200, r.status)
      assert.matches("^GET /echo%?z=1&a=x%%2Fy&b=2%%203\n", r.body)
      assert.matches("\nx%-test: v\n", r.body)
      assert.equal("[one|two]", r.headers["x-multi"])
      assert.equal("text/plain", r.headers["content-type"])
    end)

    it("sends query pairs in order, numbers and booleans as text", function()
      assert.matches("^GET /echo%?b=1&a=true&b=%%C3%%BC\n", run_case("query_pairs").body)
    end)

    it("posts a body with its length", function()
      local r = run_case("post_body")
      assert.matches("^POST /echo\n", r.body)
      assert.matches("\ncontent%-length: 10\n", r.body)
      assert.matches("\ncontent%-type: text/plain\n", r.body)
      assert.matches("\nbody=hello body$", r.body)
    end)

    it("reads a chunked answer", function()
      local r = run_case("chunked")
      assert.equal("chunked", r.headers["transfer-encoding"])
      assert.equal("part1part2part3part4", r.body)
    end)

    it("mallapi.ngx installs its transport and yielding sleep into the engine", function()
      local r = run_case("installed")
      assert.equal(200, r.status)
      assert.equal("true", r.headers.transport)
      assert.equal("true", r.headers.installed)
      assert.equal("true", r.headers.slept)
    end)

    it("mallapi.http.new inside nginx is the cosocket transport, with its retries", function()
      local r = run_case("via_http")
      assert.equal(200, r.status)
      assert.equal("mallapi.ngx.http.Session (open)", r.headers.transport)
      assert.matches("^GET /echo%?q=1\n", r.body)
      local again = run_case("via_http_retry")
      assert.equal(200, again.status)
      assert.equal("3", again.headers.attempts)            -- two 503 answers retried after ngx.sleep
      assert.equal("third time", again.body)
    end)

    it("reads an answer that ends when the server closes", function()
      local r = run_case("until_close")
      assert.equal(200, r.status)
      assert.is_nil(r.headers["content-length"])
      assert.is_nil(r.headers["transfer-encoding"])
      assert.equal("part1part2part3", r.body)
    end)

    it("HEAD reads no body", function()
      local r = run_case("head")
      assert.equal(200, r.status)
      assert.equal("100", r.headers["content-length"])
      assert.equal("", r.body)
    end)

    it("reuses a kept-alive connection", function()
      local first, second =
        run_case("keepalive").body:match("^connection_requests=(%d+),connection_requests=(%d+)$")
      assert.equal(tonumber(first) + 1, tonumber(second))
    end)

    it("verifies certificates by default; verify = false skips that", function()
      local r = run_case("tls_verify")
      assert.equal("TLS", r.code)
      assert.matches("^http%.request: TLS handshake or certificate check failed: GET https://127%.0%.0%.1:%d+/echo %(",
                     r.err)
      local ok = run_case("tls_noverify")
      assert.equal(200, ok.status)
      assert.matches("^GET /echo\n", ok.body)
    end)

    it("refuses a caller's Content-Length: no second request is smuggled in the body", function()
      assert.equal("BAD_REQUEST|http.request: header 'Content-Length' is set by the transport, not the caller"
                   .. "|GET /echo", run_case("smuggle").body)
      assert.is_nil(vendor:log("access.log"):find("smuggled", 1, true))
    end)

    it("runs a batch on light threads, results in request order", function()
      assert.equal("status 200,CONNECT,status 200", run_case("batch").body)
    end)

    -- name, code, message (plain text; %d for the port of the closed URL)
    local failures = {
      { "too_large", "TOO_LARGE", "http.request: answer larger than max_body: GET http://127.0.0.1:V/big (100 bytes)" },
      { "chunked_too_large", "TOO_LARGE",
        "http.request: answer larger than max_body: GET http://127.0.0.1:V/chunked (15 bytes)" },
      { "timeout", "TIMEOUT", "http.request: timed out: GET http://127.0.0.1:V/slow (timeout)" },
      { "refused", "CONNECT", "http.request: could not connect: GET http://127.0.0.1:C/x (connection refused)" },
      { "dns", "DNS", "http.request: could not resolve host: GET http://no-such-host.invalid/x "
        .. "(no resolver defined to resolve \"no-such-host.invalid\"; add a 'resolver' directive to nginx.conf)" },
      { "dropped", "IO", "http.request: connection failed: GET http://127.0.0.1:V/drop (closed)" },
      { "truncated", "PROTOCOL", "http.request: broken answer: GET http://127.0.0.1:V/truncated (closed)" },
      { "bad_scheme", "BAD_REQUEST", "http.request: scheme 'ftp' not allowed (http or https only)" },
      { "bad_header", "BAD_REQUEST", "http.request: header 'X' value contains CR or LF" },
      { "bad_body", "BAD_REQUEST", "http.request: body must be a string (got table)" },
      { "framing_host", "BAD_REQUEST", "http.request: header 'host' is set by the transport, not the caller" },
      { "framing_te", "BAD_REQUEST",
        "http.request: header 'Transfer-Encoding' is set by the transport, not the caller" },
    }
    for _, case in ipairs(failures) do
      it("fails with " .. case[2] .. " (" .. case[1] .. ")", function()
        local r, closed = run_case(case[1])
        local expected = case[3]:gsub("127%.0%.0%.1:V", "127.0.0.1:" .. vendor.ports[1])
                                :gsub("http://127%.0%.0%.1:C", closed)
        assert.equal(case[2], r.code)
        assert.equal(expected, r.err)
      end)
    end
  end)

  describe("phases that cannot yield", function()
    setup(function()
      local body, status = get(gateway:url("/phases"))
      assert.equal(200, status)
      assert.equal("ok", body)
    end)
    for _, phase in ipairs { "init_worker", "set", "header_filter", "body_filter", "log" } do
      it("a vendor call in the " .. phase .. " phase fails at once with PHASE", function()
        local r
        for _ = 1, 50 do                               -- the log phase runs after the answer is sent
          r = parse(get(gateway:url("/phase?tag=" .. phase)))
          if r.code then break end
          socket.sleep(0.02)
        end
        assert.equal("PHASE", r.code)
        assert.equal("http.request: cannot wait for the network in nginx's " .. phase .. " phase "
                     .. "(use rewrite, access, content or an ngx.timer; libcurl would block the worker)", r.err)
      end)
    end
  end)

  describe("one worker", function()
    it("answers /health while slow vendor calls are in flight, all before the calls end", function()
      local slow_before = tonumber((get("http://127.0.0.1:" .. vendor.ports[1] .. "/count")))
      local calls = {}
      for i = 1, 4 do                                  -- 4 calls of 1 s each, sent without waiting
        local c = assert(socket.tcp())
        c:settimeout(10)
        assert(c:connect("127.0.0.1", gateway.port))
        assert(c:send("GET /call?i=" .. i .. " HTTP/1.0\r\nHost: x\r\n\r\n"))
        calls[i] = c
      end
      local in_flight = 0
      for _ = 1, 200 do                                -- wait until all 4 are waiting on the vendor
        in_flight = tonumber(parse(get(gateway:url("/health"))).in_flight)
        if in_flight == 4 then break end
        socket.sleep(0.005)
      end
      assert.equal(4, in_flight)
      local health_seqs = {}
      for i = 1, 10 do                                 -- a stream of health checks meanwhile
        local body, status = get(gateway:url("/health"))
        assert.equal(200, status)
        health_seqs[i] = tonumber(parse(body).seq)
      end
      local call_seqs = {}
      for i, c in ipairs(calls) do
        local answer = c:receive("*a")
        c:close()
        local r = parse(answer:match("\r\n\r\n(.*)$"))
        assert.equal(200, r.status)
        assert.equal("slow-ok", r.body)
        call_seqs[i] = tonumber(r.seq)
      end
      table.sort(health_seqs)
      table.sort(call_seqs)
      assert.is_true(health_seqs[#health_seqs] < call_seqs[1],
                     "health " .. table.concat(health_seqs, ",") .. " calls " .. table.concat(call_seqs, ","))
      assert.equal(slow_before + 4, tonumber((get("http://127.0.0.1:" .. vendor.ports[1] .. "/count"))))
    end)
  end)
end)

describe("openresty tokens", function()
  local token_srv, token_base, redis

  setup(function()
    token_srv = token_server.start()
    token_base = "http://127.0.0.1:" .. token_srv.port
    redis = redis_server.start()
  end)
  teardown(function()
    if token_srv then token_srv:stop() end
    if redis then redis:stop() end
  end)

  local function gateway_for(store)
    local conf = string.format("{ store = %q, token_base = %q, appid = %q, app_key = %q, redis_port = %d, "
                               .. "redis_password = %q }", store, token_base, token_server.APPID,
                               token_server.APP_KEY, redis.port, redis.password)
    return nginx.start{ workers = 4, http = ([[
      lua_shared_dict gateway 1m;
      lua_shared_dict tokens 1m;
      init_worker_by_lua_block { require("support.openresty_app").token_race(CONF) }
      server {
        listen 127.0.0.1:$PORT;
        location /prime { content_by_lua_block { require("support.openresty_app").token_get(CONF) } }
        location /skew { content_by_lua_block { ngx.shared.gateway:set("skew", tonumber(ngx.var.arg_ms)) } }
        location /go { content_by_lua_block { ngx.shared.gateway:set("go", true) } }
        location /steps { content_by_lua_block { require("support.openresty_app").store_steps(CONF) } }
        location /concurrent { content_by_lua_block { require("support.openresty_app").store_concurrent(CONF) } }
        location /results { content_by_lua_block { require("support.openresty_app").token_results() } }
      }
    ]]):gsub("CONF", function() return conf end) }, conf
  end

  for _, store in ipairs { "shdict", "redis" } do
    it("the store interface inside nginx (" .. store .. " store)", function()
      local srv = gateway_for(store)
      local body, status = get(srv:url("/steps"))
      srv:stop()
      assert.equal(200, status)
      assert.equal(table.concat({
        "get absent -> nil", "set -> true", "get -> v\n1=%", "lock -> id", "lock again -> false",
        "unlock other -> false", "unlock -> true", "unlock twice -> false", "lock short lease -> id",
        "lock after lease -> id", "unlock expired -> false", "renew -> true", "renew other -> false",
        "lock from a dead holder -> id", "delete -> true", "get deleted -> nil",
        "set ttl -> true", "get after ttl -> nil", "tostring -> mallapi.store." .. store .. "(...)",
      }, "\n"), body)
    end)

    it("light threads of one worker sharing a " .. store .. " store each read what they wrote", function()
      local srv = gateway_for(store)
      local body, status = get(srv:url("/concurrent"))
      srv:stop()
      assert.equal(200, status)
      assert.equal("ok 200", body)
    end)

    it("four workers in the mandatory window at once make one fetch (" .. store .. " store)", function()
      assert.equal("ok", token_server.admin(token_base, "reset=1&expires_in=3600"))
      local conf
      local srv
      srv, conf = gateway_for(store)
      local ok, err = pcall(function()
        assert(conf)
        local first = get(srv:url("/prime"))
        assert.equal("valid", token_server.check(token_base, first))
        assert.equal(1, token_server.count(token_base))
        get(srv:url("/skew?ms=" .. (3600 * 1000 - 30000)))  -- 30 s left: mandatory window
        get(srv:url("/go"))
        local r
        for _ = 1, 500 do                                  -- bounded: up to 10 s
          r = parse(get(srv:url("/results")))
          if r.done == "4" then break end
          socket.sleep(0.02)
        end
        assert.equal("4", r.done)
        local tokens, pids = {}, 0
        for name, value in pairs(r) do
          if type(name) == "string" and name:find("^result:") then
            pids = pids + 1
            tokens[value] = true
          end
        end
        assert.equal(4, pids)                              -- four different workers
        local token = next(tokens)
        assert.is_nil(next(tokens, token))                 -- all hold the same token
        assert.are_not.equal(first, token)
        assert.equal(2, token_server.count(token_base))   -- one refresh for all four
        assert.equal("valid", token_server.check(token_base, token))
      end)
      srv:stop()
      assert(ok, err)
    end)
  end
end)
