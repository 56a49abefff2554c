-- mallapi.http: the libcurl transport against a real nginx on loopback (started and
-- stopped here through support.http_server), plus C-level checks with no server (#c).
local mallapi = require "mallapi"
local http = require "mallapi.http"
local cjson = require "cjson"

-- the part of a message before curl's own words, e.g. "http.request: timed out: GET http://h/p ("
local function assert_starts(prefix, s)
  assert.equal(prefix, s:sub(1, #prefix))
end

local function fake_time()
  -- a clock that moves on when the retry policy sleeps, so no spec waits for back-off
  local t = { slept = {}, offset = 0 }
  t.clock = function() return http.now() + t.offset end
  t.sleep = function(s) t.slept[#t.slept + 1] = s; t.offset = t.offset + s end
  t.random = function() return 1 end            -- full jitter at its upper bound
  return t
end

describe("http #c", function()
  it("url_encode escapes all but RFC 3986 unreserved characters, upper-case hex", function()
    local cases = {
      { "", "" },
      { "AZaz09-._~", "AZaz09-._~" },
      { "a b", "a%20b" },
      { "!*'();:@&=+$,/?#[]", "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D" },
      { "é", "%C3%A9" },
      { "\0\255", "%00%FF" },
      { "%", "%25" },
    }
    for _, case in ipairs(cases) do assert.equal(case[2], http.url_encode(case[1])) end
  end)

  it("refuses bad requests before sending, with BAD_REQUEST", function()
    local s = http.new()
    local url = "http://127.0.0.1:1/x"                 -- never contacted: refused first
    local cases = {
      { { url = "::not a url" }, "http.request: URL does not parse (Bad scheme)" },
      { { url = "http://" }, "http.request: URL does not parse (No host part in the URL)" },
      { { url = "http://127.0.0.1:1/a\r\nX-Injected: 1" }, "http.request: URL does not parse (Bad path)" },
      { { url = "ftp://127.0.0.1/x" }, "http.request: scheme 'ftp' not allowed (http or https only)" },
      { { url = "file:///etc/passwd" }, "http.request: scheme 'file' not allowed (http or https only)" },
      { { url = 42 }, "http.request: url must be a string" },
      { {}, "http.request: url must be a string" },
      { { url = url, headers = { ["X-A"] = "v\r\nX-Injected: 1" } },
        "http.request: header 'X-A' value contains CR or LF" },
      { { url = url, headers = { ["X-A"] = "v\nw" } }, "http.request: header 'X-A' value contains CR or LF" },
      { { url = url, headers = { ["X-A\r\nX-B"] = "v" } }, "http.request: header name contains CR or LF" },
      { { url = url, headers = { ["X A"] = "v" } },
        "http.request: header name contains a character not allowed in a token" },
      { { url = url, headers = { [""] = "v" } }, "http.request: empty header name" },
      { { url = url, headers = { { "X-A", "a\rb" } } }, "http.request: header 'X-A' value contains CR or LF" },
      { { url = url, headers = { ["X-A"] = { "ok", "b\r\n" } } },
        "http.request: header 'X-A' value contains CR or LF" },
      { { url = url, headers = { ["X-A"] = true } }, "http.request: header values must be strings or numbers" },
      { { url = url, headers = "X-A: 1" }, "http.request: headers must be a table" },
      { { url = url, body = {} }, "http.request: body must be a string (got table)" },
      { { url = url, body = 12 }, "http.request: body must be a string (got number)" },
      { { url = url, body = false }, "http.request: body must be a string (got boolean)" },
      { { url = url, method = 1 }, "http.request: method must be a string" },
      { { url = url, method = "GET X" }, "http.request: method contains a character not allowed in a token" },
      { { url = url, method = "" }, "http.request: empty method" },
      { { url = url, method = "GE\0T" }, "http.request: method contains a character not allowed in a token" },
      { { url = url, method = string.rep("A", 40) }, "http.request: method is too long" },
      { { url = url, query = "a=1" }, "http.request: query must be a table" },
      { { url = url, query = { a = {} } }, "http.request: query values must be strings, numbers or booleans" },
      { { url = url, query = { [1.5] = "x" } }, "http.request: query names must be strings" },
      { { url = url, timeout = 0 }, "http.request: timeout must be a positive number" },
      { { url = url, timeout = "1" }, "http.request: timeout must be a positive number" },
      { { url = url, retry = 3 }, "http.request: retry must be a table or false" },
    }
    for _, case in ipairs(cases) do
      local res, err, code = s:request(case[1])
      assert.is_nil(res)
      assert.equal(case[2], err)
      assert.equal("BAD_REQUEST", code)
    end
    -- refused requests are not retried, and the raw C session refuses the same way
    local raw = mallapi.core.http.new()
    assert.same({ nil, "http.request: header 'X-A' value contains CR or LF", "BAD_REQUEST" },
                { raw:request { url = url, headers = { ["X-A"] = "\n" } } })
    raw:close()
    s:close()
  end)

  it("raises on caller mistakes with the function's name", function()
    local cases = {
      { function() http.new(1) end, "bad argument #1 to 'http.new' (table expected, got number)" },
      { function() http.new { timeout = -1 } end, "bad argument #1 to 'http.new' (option 'timeout': positive " ..
          "number expected)" },
      { function() http.new { max_body = "big" } end, "bad argument #1 to 'http.new' (option 'max_body': positive " ..
          "number expected)" },
      { function() http.new { verify = "yes" } end, "bad argument #1 to 'http.new' (option 'verify': boolean " ..
          "expected)" },
      { function() http.new { ca_file = 1 } end, "bad argument #1 to 'http.new' (option 'ca_file': string expected)" },
      { function() http.new { user_agent = "a\r\nX-Injected: 1" } end,
        "bad argument #1 to 'http.new' (option 'user_agent': must not contain CR or LF)" },
      { function() http.new { hook = 1 } end, "bad argument #1 to 'http.new' (option 'hook': function expected, " ..
          "got number)" },
      { function() http.new { retry = 1 } end, "bad argument #1 to 'http.new' (option 'retry': table or false " ..
          "expected, got number)" },
      { function() http.new { retry = { max_attempts = "x" } } end,
        "bad argument #1 to 'http.new' (option 'retry.max_attempts': non-negative number expected)" },
      { function() http.new { secrets = { 1 } } end, "bad argument #1 to 'http.new' (option 'secrets': list of " ..
          "names expected)" },
      { function() http.new():request("http://x") end, "bad argument #1 to 'http.request' (table expected, got " ..
          "string)" },
      { function() http.new():batch("x") end, "bad argument #1 to 'http.batch' (table expected, got string)" },
      { function() http.new():batch({ 1 }) end, "bad argument #1 to 'http.batch' (reqs[1]: table expected, got " ..
          "number)" },
      { function() http.new():batch({}, { concurrency = 0 }) end,
        "bad argument #2 to 'http.batch' (option 'concurrency': positive integer expected)" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.equal(case[2], (tostring(err):gsub("^[^:]*:%d+: ", "")))
    end
  end)

  it("closes twice harmlessly and raises when a closed session is used", function()
    for _, s in ipairs { http.new(), mallapi.core.http.new() } do
      assert.matches("Session %(open%)$", tostring(s))
      s:close()
      s:close()
      assert.matches("Session %(closed%)$", tostring(s))
      local ok, err = pcall(s.request, s, { url = "http://127.0.0.1:1/" })
      assert.is_false(ok)
      assert.equal("http.request: session is closed", err)
      ok, err = pcall(s.batch, s, {})
      assert.is_false(ok)
      assert.equal("http.batch: session is closed", err)
    end
    local raw = mallapi.core.http.new()
    assert.equal("userdata", type(raw))
    assert.equal(debug.getmetatable(raw), debug.getregistry()["mallapi.Session"])
    raw:close()
    for _ = 1, 20 do http.new() end                  -- left to __gc
    collectgarbage()
    collectgarbage()
  end)

  -- Lua 5.4 only: LuaJIT has no to-be-closed variables
  local it_54 = (_VERSION == "Lua 5.4" and not rawget(_G, "jit")) and it or function() end
  it_54("closes at the end of a <close> scope", function()
    local chunk = assert(load([[
      local http = ...
      local kept
      do
        local s <close> = http.new()
        kept = s
      end
      return tostring(kept)
    ]]))
    assert.equal("mallapi.http.Session (closed)", chunk(http))
  end)
end)

describe("http transport against nginx", function()
  local server = require "support.http_server"
  local srv, s
  local key_serial = 0

  local function key()
    key_serial = key_serial + 1
    return "k" .. key_serial .. "_" .. tostring(os.time())
  end

  local function hits(k)
    return tonumber(s:request { url = srv:url("/hits"), query = { key = k } }.body)
  end

  setup(function()
    srv = server.start()
    s = http.new { retry = false }
  end)

  teardown(function()
    if s then s:close() end
    if srv then srv:stop() end
  end)

  it("gets a fixed JSON answer with lower-cased header names", function()
    local res, err = s:request { url = srv:url("/json") }
    assert.is_nil(err)
    assert.equal(200, res.status)
    assert.equal('{"ok":true,"id":1}', res.body)
    assert.equal("application/json", res.headers["content-type"])
    assert.equal("18", res.headers["content-length"])
    assert.is_nil(res.headers["Content-Type"])
    assert.equal(1, res.attempts)
    assert.is_number(res.time)
  end)

  it("keeps repeated answer headers as a list in order", function()
    local res = assert(s:request { url = srv:url("/headers") })
    assert.same({ "a", "b" }, res.headers["x-multi"])
  end)

  it("parses odd answer headers: folding, padding, empty values; refuses a NUL byte", function()
    local res = assert(s:request { url = srv:url("/raw?kind=fold") })
    assert.equal("a b", res.headers["x-fold"])
    res = assert(s:request { url = srv:url("/raw?kind=spaces") })
    assert.equal("v", res.headers["x-pad"])
    assert.equal("", res.headers["x-empty"])
    assert.equal("ok", res.body)
    local _, err, code = s:request { url = srv:url("/raw?kind=nul") }
    assert.equal("PROTOCOL", code)
    assert_starts("http.request: broken answer: GET " .. srv:url("/raw") .. " (", err)
  end)

  it("sends method, query, headers and body as given", function()
    local cases = {
      { req = { method = "POST", url = srv:url("/echo"), body = "hello",
                headers = { ["Content-Type"] = "text/plain" } },
        method = "POST", body = "hello", query = "" },
      { req = { method = "put", url = srv:url("/echo"), body = "{}" }, method = "PUT", body = "{}", query = "" },
      { req = { method = "PATCH", url = srv:url("/echo") }, method = "PATCH", body = "", query = "" },
      { req = { method = "DELETE", url = srv:url("/echo") }, method = "DELETE", body = "", query = "" },
      { req = { method = "OPTIONS", url = srv:url("/echo") }, method = "OPTIONS", body = "", query = "" },
      { req = { url = srv:url("/echo"), query = { b = "a b/é", a = 1, t = true } },
        method = "GET", body = "", query = "a=1&b=a%20b%2F%C3%A9&t=true" },
      { req = { url = srv:url("/echo?x=1#frag"), query = { { "z", "1" }, { "a", "~*" } } },
        method = "GET", body = "", query = "x=1&z=1&a=~%2A" },
      { req = { url = srv:url("/echo?keep=%2f") }, method = "GET", body = "", query = "keep=%2f" },
    }
    for _, case in ipairs(cases) do
      local res = assert(s:request(case.req))
      local echo = cjson.decode(res.body)
      assert.equal(case.method, echo.method)
      assert.equal(case.body, echo.body)
      assert.equal(case.query, echo.query)
      assert.equal("/echo", echo.uri)
    end
    local body = string.rep("b", 300000)             -- large body, no 100-continue wait
    local echo = cjson.decode(assert(s:request { method = "POST", url = srv:url("/echo"), body = body }).body)
    assert.equal(#body, #echo.body)
  end)

  it("sends request headers from a map, a list value or a pair list, and the user agent", function()
    local res = assert(s:request { url = srv:url("/echo"), headers = {
      ["X-One"] = "1", ["X-Num"] = 42, ["X-Rep"] = { "p", "q" }, ["X-Empty"] = "" } })
    local h = cjson.decode(res.body).headers
    assert.equal("1", h["x-one"])
    assert.equal("42", h["x-num"])
    assert.same({ "p", "q" }, h["x-rep"])
    assert.equal("", h["x-empty"])
    assert.equal("mallapi/" .. mallapi.version, h["user-agent"])
    assert.equal("*/*", h["accept"])
    res = assert(s:request { url = srv:url("/echo"), headers = { accept = "application/json" } })
    assert.equal("application/json", cjson.decode(res.body).headers["accept"])
    res = assert(s:request { url = srv:url("/echo"), headers = { { "X-D", "1" }, { "X-D", "2" } } })
    assert.same({ "1", "2" }, cjson.decode(res.body).headers["x-d"])
    local other = http.new { user_agent = "agent/9" }
    res = assert(other:request { url = srv:url("/echo"), headers = { ["User-Agent"] = "override/1" } })
    assert.equal("override/1", cjson.decode(res.body).headers["user-agent"])
    res = assert(other:request { url = srv:url("/echo") })
    assert.equal("agent/9", cjson.decode(res.body).headers["user-agent"])
    res = assert(other:request { url = srv:url("/echo"), headers = { { "user-agent", "lower/2" } } })
    assert.equal("lower/2", cjson.decode(res.body).headers["user-agent"])   -- one value, not a list
    other:close()
  end)

  it("returns 4xx and 5xx answers as responses, not errors", function()
    for _, status in ipairs { 200, 201, 400, 401, 404, 418, 500, 502, 503 } do
      local res, err = s:request { url = srv:url("/status/" .. status) }
      assert.is_nil(err)
      assert.equal(status, res.status)
      assert.equal("status " .. status, res.body)
    end
    local res = assert(s:request { method = "HEAD", url = srv:url("/json") })
    assert.equal(200, res.status)
    assert.equal("", res.body)
  end)

  it("classifies each transport failure into a stable code", function()
    local small = http.new { retry = false, max_body = 1000, timeout = 0.3 }
    local cases = {
      { small, { url = srv:url("/slow?s=3") }, "TIMEOUT",
        "http.request: timed out: GET http://127.0.0.1:" .. srv.port .. "/slow (" },
      { s, { url = srv:url("/slow?s=3"), timeout = 0.3 }, "TIMEOUT",
        "http.request: timed out: GET http://127.0.0.1:" .. srv.port .. "/slow (" },
      { s, { url = srv.closed_url }, "CONNECT", "http.request: could not connect: GET " .. srv.closed_url .. " (" },
      { s, { url = "http://nonexistent.invalid/x", timeout = 5 }, "DNS",
        "http.request: could not resolve host: GET http://nonexistent.invalid/x (" },
      { s, { url = srv:https_url("/json") }, "TLS",
        "http.request: TLS handshake or certificate check failed: GET " .. srv:https_url("/json") .. " (" },
      { small, { url = srv:url("/big?n=100000") }, "TOO_LARGE",
        "http.request: answer larger than max_body: GET http://127.0.0.1:" .. srv.port .. "/big (" },
      { small, { url = srv:url("/big?n=100000&cl=1") }, "TOO_LARGE",
        "http.request: answer larger than max_body: GET http://127.0.0.1:" .. srv.port .. "/big (" },
      { s, { url = srv:url("/cut") }, "PROTOCOL", "http.request: broken answer: GET " .. srv:url("/cut") .. " (" },
      { s, { url = srv:url("/flaky"), query = { key = key(), fail = 1, mode = "close" } }, "IO",
        "http.request: connection failed: GET " .. srv:url("/flaky") .. " (" },
    }
    for _, case in ipairs(cases) do
      local res, err, code = case[1]:request(case[2])
      assert.is_nil(res)
      assert.equal(case[3], code)
      assert_starts(case[4], err)
    end
    -- the cap is inclusive: exactly max_body bytes pass
    local res = assert(small:request { url = srv:url("/big?n=1000") })
    assert.equal(1000, #res.body)
    small:close()
  end)

  it("never shows the query, user info or secrets in error messages", function()
    local _, err, code = s:request { url = "http://user:pw1@127.0.0.1:" .. srv.port .. "/slow?sign=abc123&s=3",
                                     query = { token = "t0ken" }, timeout = 0.2 }
    assert.equal("TIMEOUT", code)
    assert.is_nil(err:find("abc123", 1, true))
    assert.is_nil(err:find("t0ken", 1, true))
    assert.is_nil(err:find("pw1", 1, true))
    assert_starts("http.request: timed out: GET http://127.0.0.1:" .. srv.port .. "/slow (", err)
  end)

  it("checks TLS: accepted with ca_file, HTTP/2 when offered and asked for", function()
    local tls = http.new { ca_file = srv.ca_file, retry = false }
    local res = assert(tls:request { url = srv:https_url("/echo") })
    assert.equal("HTTP/2.0", cjson.decode(res.body).protocol)
    tls:close()
    local h1 = http.new { ca_file = srv.ca_file, http2 = false }
    res = assert(h1:request { url = srv:https_url("/echo") })
    assert.equal("HTTP/1.1", cjson.decode(res.body).protocol)
    h1:close()
    local noverify = http.new { verify = false }
    assert.equal(200, assert(noverify:request { url = srv:https_url("/json") }).status)
    noverify:close()
  end)

  it("goes through the proxy given", function()
    local via = http.new { proxy = srv.proxy_url, retry = false }
    local res = assert(via:request { url = srv:url("/json"), query = { via = "proxy" } })
    assert.equal('{"ok":true,"id":1}', res.body)
    assert.matches("/json%?via=proxy 200", srv:wait_log("proxy.log", "/json?via=proxy 200"))
    via:close()
    local bad = http.new { proxy = srv.closed_url:match("^(http://[^/]+)"), retry = false }
    local _, _, code = bad:request { url = srv:url("/json") }
    assert.equal("CONNECT", code)
    bad:close()
  end)

  it("multiplexes a batch over one HTTP/2 connection", function()
    local h2 = http.new { ca_file = srv.ca_file, retry = false }
    local reqs = {}
    for i = 1, 8 do reqs[i] = { url = srv:https_url("/slow?s=0.2&h2=1"), query = { i = i } } end
    srv:clear_log()
    local results = h2:batch(reqs, { concurrency = 8 })
    for i = 1, 8 do assert.equal("slow", results[i].res.body) end
    assert.equal(1, (srv:connections("^/slow%?s=0%.2&h2=1", 8)))
    h2:close()
  end)

  it("reuses one connection for 1000 sequential requests, also after a retried request", function()
    local t = fake_time()
    local kept = http.new { sleep = t.sleep, clock = t.clock, random = t.random }
    srv:clear_log()
    local k = key()
    local res = assert(kept:request { url = srv:url("/flaky"), query = { key = k, fail = 1, status = 503 } })
    assert.equal(2, res.attempts)
    local ok, give_up_at = 0, http.now() + 60          -- bounded in count and in time
    local req = { url = srv:url("/json"), timeout = 5 }
    for _ = 1, 1000 do
      local r = kept:request(req)
      if r and r.status == 200 then ok = ok + 1 end
      if http.now() > give_up_at then break end
    end
    assert.equal(1000, ok)
    local conns, lines = srv:connections(function(uri)   -- late lines of other specs' /slow
      return uri == "/json" or uri:find("key=" .. k, 1, true) ~= nil
    end, 1002)
    assert.equal(1002, lines)
    assert.equal(1, conns)
    kept:close()
  end)

  it("sends each request to its own URL as URLs and queries change and repeat", function()
    -- each easy handle keeps the last URL it parsed: a repeat must reuse it, a change must not
    local steps = {
      { req = { url = srv:url("/echo?n=1") }, query = "n=1" },
      { req = { url = srv:url("/echo?n=1") }, query = "n=1" },
      { req = { url = srv:url("/echo"), query = { n = 2 } }, query = "n=2" },
      { req = { url = srv:url("/echo?n=1") }, query = "n=1" },
      { req = { url = srv:url("/echo?n=1"), query = { m = 3 } }, query = "n=1&m=3" },
      { req = { url = srv:url("/echo?n=1#f") }, query = "n=1" },
      { req = { url = srv:url("/echo") }, query = "" },
      { req = { url = srv:url("/json") }, body = '{"ok":true,"id":1}' },
      { req = { url = srv:url("/echo") }, query = "" },
    }
    for i, step in ipairs(steps) do
      local res = assert(s:request(step.req))
      if step.body then
        assert.equal(step.body, res.body, "step " .. i)
      else
        assert.equal(step.query, cjson.decode(res.body).query, "step " .. i)
      end
    end
    local reqs = {}
    for i, step in ipairs(steps) do reqs[i] = step.req end
    for _, concurrency in ipairs { 1, 2, 4 } do
      for round = 1, 2 do                            -- the second round finds the handles' last URLs
        local results = s:batch(reqs, { concurrency = concurrency })
        for i, step in ipairs(steps) do
          local res = assert(results[i].res, results[i].err)
          local where = ("concurrency %d round %d step %d"):format(concurrency, round, i)
          if step.body then
            assert.equal(step.body, res.body, where)
          else
            assert.equal(step.query, cjson.decode(res.body).query, where)
          end
        end
      end
    end
  end)

  describe("batch", function()
    it("returns results in request order: {res=} or {err=, code=}", function()
      local refused_key = key()
      local results = s:batch({
        { url = srv:url("/slow?s=0.3") },
        { url = srv:url("/json") },
        { url = srv.closed_url },
        { url = "ftp://x/" },
        { url = srv:url("/status/404") },
        { method = "POST", url = srv:url("/echo"), body = "b5" },
        { url = srv:url("/flaky"), query = { key = refused_key }, retry = "often" },
        { url = srv:url("/json"), timeout = -1 },
      }, { concurrency = 3 })
      assert.equal(8, #results)
      assert.same({ err = "http.request: retry must be a table or false", code = "BAD_REQUEST" }, results[7])
      assert.equal(0, hits(refused_key))              -- refused before anything was sent
      assert.same({ err = "http.request: timeout must be a positive number", code = "BAD_REQUEST" }, results[8])
      assert.equal("slow", results[1].res.body)
      assert.equal('{"ok":true,"id":1}', results[2].res.body)
      assert.equal(1, results[2].res.attempts)
      assert.equal("CONNECT", results[3].code)
      assert_starts("http.request: could not connect: GET " .. srv.closed_url .. " (", results[3].err)
      assert.is_nil(results[3].res)
      assert.same({ err = "http.request: scheme 'ftp' not allowed (http or https only)", code = "BAD_REQUEST" },
                  results[4])
      assert.equal(404, results[5].res.status)
      assert.equal("b5", cjson.decode(results[6].res.body).body)
      assert.same({}, s:batch({}))
    end)

    it("runs at most `concurrency` requests at once and reuses their connections", function()
      local b = http.new { retry = false }
      local reqs = {}
      for i = 1, 8 do reqs[i] = { url = srv:url("/slow?s=0.2"), query = { i = i } } end
      srv:clear_log()
      for _, r in ipairs(b:batch(reqs, { concurrency = 4 })) do assert.equal(200, r.res.status) end
      assert.equal(4, (srv:connections("^/slow%?s=0%.2&", 8)))
      for _, r in ipairs(b:batch(reqs, { concurrency = 4 })) do assert.equal(200, r.res.status) end
      local conns, lines = srv:connections("^/slow%?s=0%.2&", 16)
      assert.equal(4, conns)
      assert.equal(16, lines)
      b:close()
      local one = http.new { retry = false }
      srv:clear_log()
      one:batch(reqs, { concurrency = 1 })
      assert.equal(1, (srv:connections("^/slow%?s=0%.2&", 8)))
      one:close()
    end)

    it("opens at most max_connections connections", function()
      local capped = http.new { retry = false, max_connections = 2 }
      local reqs = {}
      for i = 1, 6 do reqs[i] = { url = srv:url("/slow?s=0.1&cap=1"), query = { i = i } } end
      srv:clear_log()
      for _, r in ipairs(capped:batch(reqs, { concurrency = 6 })) do assert.equal(200, r.res.status) end
      assert.equal(2, (srv:connections("^/slow%?s=0%.1&cap=1", 6)))
      capped:close()
    end)

    it("retries in rounds by the same rules", function()
      local t = fake_time()
      local b = http.new { sleep = t.sleep, clock = t.clock, random = t.random }
      local k1, k2 = key(), key()
      local results = b:batch({
        { url = srv:url("/flaky"), query = { key = k1, fail = 2, status = 503 } },
        { url = srv:url("/json") },
        { method = "POST", url = srv:url("/flaky"), query = { key = k2, fail = 1, status = 503 } },
        { url = srv:url("/status/503"), retry = false },           -- a per-request policy: none
        { url = srv:url("/json"), retry = { max_attempts = 2 } },  -- its own policy, answered at once
      })
      assert.equal(5, #results)
      assert.same({ 503, 1 }, { results[4].res.status, results[4].res.attempts })
      assert.same({ 200, 1 }, { results[5].res.status, results[5].res.attempts })
      assert.equal(200, results[1].res.status)
      assert.equal(3, results[1].res.attempts)
      assert.equal(1, results[2].res.attempts)
      assert.equal(503, results[3].res.status)
      assert.equal(1, results[3].res.attempts)
      assert.equal(3, hits(k1))
      assert.equal(1, hits(k2))
      assert.same({ 0.2, 0.4 }, t.slept)
      b:close()
    end)
  end)

  describe("retries", function()
    local function session(extra)
      local t = fake_time()
      local opts = { sleep = t.sleep, clock = t.clock, random = t.random }
      for k, v in pairs(extra or {}) do opts[k] = v end
      return http.new(opts), t
    end

    it("retries 429, 502, 503 and 504 for idempotent methods, with exponential back-off", function()
      for _, status in ipairs { 429, 502, 503, 504 } do
        local r, t = session()
        local k = key()
        local res = assert(r:request { url = srv:url("/flaky"), query = { key = k, fail = 2, status = status } })
        assert.equal(200, res.status)
        assert.equal("ok 3", res.body)
        assert.equal(3, res.attempts)
        assert.equal(3, hits(k))
        assert.same({ 0.2, 0.4 }, t.slept)           -- random()=1: base_delay * 2^(n-1)
        r:close()
      end
    end)

    it("draws each delay with full jitter between 0 and the cap", function()
      local draws = { 0.5, 0.25 }
      local r, t = session()
      r.random = function() return table.remove(draws, 1) end
      assert(r:request { url = srv:url("/flaky"), query = { key = key(), fail = 2, status = 502 } })
      assert.same({ 0.1, 0.1 }, t.slept)             -- 0.5 * 0.2, 0.25 * 0.4
      r:close()
    end)

    it("gives up after max_attempts and returns the last answer", function()
      local r = session { retry = { max_attempts = 2 } }
      local k = key()
      local res = assert(r:request { url = srv:url("/flaky"), query = { key = k, fail = 5, status = 503 } })
      assert.equal(503, res.status)
      assert.equal(2, res.attempts)
      assert.equal(2, hits(k))
      r:close()
    end)

    it("does not retry other statuses", function()
      for _, status in ipairs { 500, 404, 400 } do
        local r, t = session()
        local k = key()
        local res = assert(r:request { url = srv:url("/flaky"), query = { key = k, fail = 1, status = status } })
        assert.equal(status, res.status)
        assert.equal(1, res.attempts)
        assert.equal(1, hits(k))
        assert.same({}, t.slept)
        r:close()
      end
    end)

    it("retries POST and PATCH only when marked idempotent, GET not when marked otherwise", function()
      local cases = {
        { "POST", nil, 1 }, { "PATCH", nil, 1 }, { "POST", true, 2 }, { "GET", false, 1 },
        { "PUT", nil, 2 }, { "DELETE", nil, 2 }, { "get", nil, 2 },
      }
      for _, case in ipairs(cases) do
        local r = session()
        local k = key()
        local res = assert(r:request { method = case[1], url = srv:url("/flaky"), idempotent = case[2],
                                       query = { key = k, fail = 1, status = 503 } })
        assert.equal(case[3], res.attempts)
        assert.equal(case[3], hits(k))
        r:close()
      end
    end)

    it("retries connection faults for idempotent requests only", function()
      local cases = {
        { "GET", "close", "IO" }, { "GET", "cut", "PROTOCOL" },
      }
      for _, case in ipairs(cases) do
        local r = session()
        local k = key()
        local res = assert(r:request { url = srv:url("/flaky"), query = { key = k, fail = 1, mode = case[2] } })
        assert.equal(200, res.status)
        assert.equal(2, res.attempts)
        r:close()
        -- a fresh session: on a reused connection libcurl itself resends once when the
        -- connection dies before any answer byte (the stale keep-alive race; see doc)
        r = session()
        local k2 = key()
        local _, err, code = r:request { method = "POST", url = srv:url("/flaky"),
                                         query = { key = k2, fail = 1, mode = case[2] } }
        assert.equal(case[3], code)
        assert.is_nil(err:find("attempts", 1, true))
        assert.equal(1, hits(k2))
        r:close()
      end
      local r, t = session()
      local _, err, code = r:request { url = srv.closed_url }
      assert.equal("CONNECT", code)
      assert.equal(" [3 attempts]", err:sub(-13))
      assert.same({ 0.2, 0.4 }, t.slept)
      r:close()
    end)

    it("does not retry timeouts, DNS or TLS failures", function()
      local cases = {
        { { url = srv:url("/slow?s=3"), timeout = 0.3 }, "TIMEOUT" },
        { { url = "http://nonexistent.invalid/", timeout = 5 }, "DNS" },
        { { url = srv:https_url("/json") }, "TLS" },
      }
      for _, case in ipairs(cases) do
        local r, t = session()
        local _, err, code = r:request(case[1])
        assert.equal(case[2], code)
        assert.is_nil(err:find("attempts", 1, true))
        assert.same({}, t.slept)
        r:close()
      end
    end)

    it("honours Retry-After on 429 and 503, in seconds or as an HTTP-date", function()
      local cases = {
        { { status = 429, after = 7 }, 7 }, { { status = 503, after = 3 }, 3 },
        { { status = 503, after_date = 4 }, 4 }, { { status = 502, after = 9 }, 0.2 },
      }
      for _, case in ipairs(cases) do
        local r, t = session()
        local q = { key = key(), fail = 1 }
        for k, v in pairs(case[1]) do q[k] = v end
        local res = assert(r:request { url = srv:url("/flaky"), query = q })
        assert.equal(200, res.status)
        assert.equal(2, res.attempts)
        assert.same({ case[2] }, t.slept)
        r:close()
      end
    end)

    it("never waits past the call's deadline", function()
      local r, t = session()
      local k = key()
      local res = assert(r:request { url = srv:url("/flaky"), timeout = 5,
                                     query = { key = k, fail = 1, status = 503, after = 100 } })
      assert.equal(503, res.status)                  -- Retry-After beyond the deadline: answer as is
      assert.equal(1, res.attempts)
      assert.same({}, t.slept)
      local r2, t2 = session { retry = { max_attempts = 10, base_delay = 0.3, max_delay = 100 } }
      res = assert(r2:request { url = srv:url("/flaky"), timeout = 1,
                                query = { key = key(), fail = 10, status = 503 } })
      assert.equal(503, res.status)
      assert.equal(3, res.attempts)                  -- waits 0.3 and 0.6; 1.2 more would pass 1 s
      assert.same({ 0.3, 0.6 }, t2.slept)
      r:close()
      r2:close()
    end)

    it("takes the policy per request or per session, or none", function()
      local r, t = session { retry = false }
      local k = key()
      local first = assert(r:request { url = srv:url("/flaky"), query = { key = k, fail = 1, status = 503 } })
      assert.equal(1, first.attempts)
      local res = assert(r:request { url = srv:url("/flaky"), retry = { max_attempts = 4, base_delay = 1 },
                                     query = { key = key(), fail = 3, status = 503 } })
      assert.equal(4, res.attempts)
      assert.same({ 1, 2, 4 }, t.slept)
      local r2 = session()
      res = assert(r2:request { url = srv:url("/flaky"), retry = false,
                                query = { key = key(), fail = 1, status = 503 } })
      assert.equal(1, res.attempts)
      r:close()
      r2:close()
    end)
  end)

  describe("hook", function()
    it("sees each attempt with secrets masked in URL, query and headers", function()
      local seen = {}
      local t = fake_time()
      local h = http.new { hook = function(e) seen[#seen + 1] = e end, sleep = t.sleep, clock = t.clock,
                           random = t.random, secrets = { "token", "sign", "app_key", "Authorization", "x-multi" } }
      local k = key()
      local res = assert(h:request { method = "post", idempotent = true,
        url = srv:url("/flaky?sign=S1GN&app_key=AK"),
        query = { key = k, fail = 1, status = 503, token = "T0K" },
        headers = { Authorization = "Bearer B34R", ["X-Trace"] = "t1" }, body = "payload" })
      assert.equal(2, res.attempts)
      assert.equal(2, #seen)
      local e1, e2 = seen[1], seen[2]
      assert.equal("POST", e1.method)
      assert.equal(srv:url("/flaky?sign=***&app_key=***"), e1.url)
      assert.equal("***", e1.query.token)
      assert.equal(k, e1.query.key)
      assert.equal("***", e1.headers.Authorization)
      assert.equal("t1", e1.headers["X-Trace"])
      assert.equal(7, e1.request_bytes)
      assert.equal(1, e1.attempt)
      assert.equal(503, e1.status)
      assert.equal(0.2, e1.retry_in)
      assert.equal(2, e2.attempt)
      assert.equal(200, e2.status)
      assert.is_nil(e2.retry_in)
      local dump = cjson.encode(seen)
      for _, secret in ipairs { "S1GN", "AK", "T0K", "B34R" } do assert.is_nil(dump:find(secret, 1, true)) end
      -- the request itself was sent unmasked
      assert.equal(2, hits(k))
      -- answers' headers are masked too, and failures are reported
      seen = {}
      h:request { url = srv:url("/headers") }
      assert.equal("***", seen[1].response_headers["x-multi"])
      seen = {}
      h:request { method = "POST", url = srv.closed_url, query = { { "sign", "S" } } }
      assert.equal("CONNECT", seen[1].code)
      assert.same({ { "sign", "***" } }, seen[1].query)
      assert.matches("^http.request: could not connect", seen[1].err)
      h:close()
    end)
  end)
  -- issue 13 item 3: with Content-Length: 2 and a longer body, the server read the rest of
  -- the body as a second request of the caller's making, and the session's next request
  -- got that request's answer. The transport owns the framing headers.
  describe("framing headers", function()
    local SMUGGLED = "ab\r\n\r\nGET /status/299?smuggled=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    local cases = {
      { "Content-Length", "2" }, { "content-length", "999" }, { "CONTENT-LENGTH", "0" },
      { "Transfer-Encoding", "chunked" }, { "transfer-encoding", "identity" },
      { "Host", "other.example" }, { "Connection", "keep-alive" }, { "connection", "Upgrade" },
      { "Upgrade", "h2c" }, { "TE", "trailers" }, { "Keep-Alive", "timeout=5" }, { "Trailer", "X" },
      { "Proxy-Connection", "keep-alive" },
    }
    for _, case in ipairs(cases) do
      it("refuses a caller's " .. case[1] .. " header (map and pair list), sending nothing", function()
        srv:clear_log()
        for _, headers in ipairs { { [case[1]] = case[2] }, { { case[1], case[2] } } } do
          local res, err, code = s:request { method = "POST", url = srv:url("/echo"), body = SMUGGLED,
                                             headers = headers }
          assert.is_nil(res)
          assert.equal("http.request: header '" .. case[1] .. "' is set by the transport, not the caller", err)
          assert.equal("BAD_REQUEST", code)
        end
        -- the session's next request gets its own answer, and nothing reached the server
        local res = assert(s:request { url = srv:url("/json") })
        assert.equal('{"ok":true,"id":1}', res.body)
        local _, lines = srv:connections(nil, 1)
        assert.equal(1, lines)
        assert.is_nil(srv.nginx:log("conn.log"):find("smuggled", 1, true))
      end)
    end

    it("a body is framed by its own length: the server reads one request", function()
      srv:clear_log()
      local res = assert(s:request { method = "POST", url = srv:url("/echo"), body = SMUGGLED })
      assert.equal(SMUGGLED, cjson.decode(res.body).body)
      res = assert(s:request { url = srv:url("/json") })
      assert.equal(200, res.status)
      local _, lines = srv:connections(nil, 2)
      assert.equal(2, lines)
      assert.is_nil(srv.nginx:log("conn.log"):find("smuggled", 1, true))
    end)

    it("a batch refuses the same headers per request", function()
      local out = s:batch { { url = srv:url("/json"), headers = { ["Content-Length"] = "5" } },
                            { url = srv:url("/json") } }
      assert.equal("BAD_REQUEST", out[1].code)
      assert.equal(200, out[2].res.status)
    end)
  end)
end)
