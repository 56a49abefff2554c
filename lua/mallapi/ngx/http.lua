-- mallapi.ngx.http: the HTTP transport inside nginx. An HTTP/1.1 client on cosockets
-- (ngx.socket.tcp) with the same contract as the libcurl session (core.http):
-- c:request(req [, timeout_s]) -> {status, headers (lower-case), body, time, attempts}
-- | nil, msg, code; c:batch(reqs, concurrency, timeouts); c:close(). It never blocks
-- the worker: every wait yields to nginx. lua/mallapi/http.lua wraps it (retries,
-- hook) exactly as it wraps the C session. libcurl is never called from here.
local ngx = ngx
local type, error, pairs, ipairs, tostring, tonumber, setmetatable, pcall =
  type, error, pairs, ipairs, tostring, tonumber, setmetatable, pcall
local concat, sort = table.concat, table.sort
local string_format, math_floor, math_max = string.format, math.floor, math.max

local M = {}

-- Phases in which cosockets and ngx.sleep work (the others cannot yield).
M.YIELDABLE = { rewrite = true, access = true, content = true, timer = true,
                ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true }

-- true, or nil, msg, "PHASE" when the current phase cannot wait for the network.
function M.check_phase(api)
  local phase = ngx.get_phase()
  if M.YIELDABLE[phase] then return true end
  return nil, api .. ": cannot wait for the network in nginx's " .. tostring(phase)
    .. " phase (use rewrite, access, content or an ngx.timer; libcurl would block the worker)", "PHASE"
end

function M.now()
  ngx.update_time()
  return ngx.now()
end

function M.sleep(seconds) ngx.sleep(seconds) end

local function url_encode(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(ch) return string_format("%%%02X", ch:byte()) end))
end
M.url_encode = url_encode

local function text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  if t == "boolean" then return v and "true" or "false" end
  return nil
end

local is_ip, check_ip                            -- TLS to IP hosts (defined with exchange)

local Bad = {}                                   -- raised (and caught) for refused requests
local function refuse(msg) error({ Bad, msg }, 0) end

-- query: a map (sent sorted by name) or a list of {name, value} pairs (in order)
local function query_string(q)
  local out = {}
  if q[1] ~= nil then
    for _, pair in ipairs(q) do
      if type(pair) ~= "table" then refuse("query list items must be {name, value} pairs") end
      local name, value = pair[1], text(pair[2])
      if type(name) ~= "string" or not value then
        refuse("query pair needs a string name and a string, number or boolean value")
      end
      out[#out + 1] = url_encode(name) .. "=" .. url_encode(value)
    end
  else
    local names = {}
    for name in pairs(q) do
      if type(name) ~= "string" then refuse("query names must be strings") end
      names[#names + 1] = name
    end
    sort(names)
    for _, name in ipairs(names) do
      local value = text(q[name])
      if not value then refuse("query values must be strings, numbers or booleans") end
      out[#out + 1] = url_encode(name) .. "=" .. url_encode(value)
    end
  end
  return concat(out, "&")
end

-- Headers the transport owns (framing and connection use, RFC 9112 section 6, RFC 9110
-- section 7.6.1): a caller's Content-Length would let a body carry a second request.
-- The same list as src/http.c.
local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true, host = true, connection = true,
                  ["keep-alive"] = true, te = true, trailer = true, upgrade = true,
                  ["proxy-connection"] = true }

local function header_line(lines, seen, name, value)
  if type(value) == "boolean" then value = nil else value = text(value) end
  if not value then refuse("header values must be strings or numbers") end
  if name == "" then refuse("empty header name") end
  if name:find("[\r\n]") then refuse("header name contains CR or LF") end
  if name:find("[^!#$%%&'*+%-.^_`|~%w]") then refuse("header name contains a character not allowed in a token") end
  if value:find("[\r\n]") then refuse("header '" .. name .. "' value contains CR or LF") end
  if value:find("%z") then refuse("header '" .. name .. "' value contains NUL") end
  local lower = name:lower()
  if FRAMING[lower] then refuse("header '" .. name .. "' is set by the transport, not the caller") end
  seen[lower] = true
  lines[#lines + 1] = name .. ": " .. value .. "\r\n"
end

local function header_lines(h)
  local lines, seen = {}, {}
  if h[1] ~= nil then
    for _, pair in ipairs(h) do
      if type(pair) ~= "table" then refuse("header list items must be {name, value} pairs") end
      if type(pair[1]) ~= "string" then refuse("header names must be strings") end
      header_line(lines, seen, pair[1], pair[2])
    end
  else
    for name, value in pairs(h) do
      if type(name) ~= "string" then refuse("header names must be strings") end
      if type(value) == "table" then
        for _, v in ipairs(value) do header_line(lines, seen, name, v) end
      else
        header_line(lines, seen, name, value)
      end
    end
  end
  return lines, seen
end

-- The request as parts: { method, scheme, host, port, target, shown, head (text), body }.
local function parse_request(self, req, timeout_s)
  local method = req.method
  if method == nil then
    method = "GET"
  elseif type(method) ~= "string" then
    refuse("method must be a string")
  elseif method == "" then
    refuse("empty method")
  elseif method:find("[^!#$%%&'*+%-.^_`|~%w]") then
    refuse("method contains a character not allowed in a token")
  end
  method = method:upper()
  local url = req.url
  if type(url) ~= "string" then refuse("url must be a string") end
  if url:find("%z") then refuse("URL does not parse (contains NUL)") end
  url = url:gsub("#.*$", "")
  local scheme, authority, rest = url:match("^(%a[%w+.-]*)://([^/?]*)(.*)$")
  if not scheme then refuse("URL does not parse (" .. url:gsub("%?.*", "") .. ")") end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    refuse("scheme '" .. scheme .. "' not allowed (http or https only)")
  end
  if authority:find("@", 1, true) then refuse("URL does not parse (user info not supported)") end
  local host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" or rest:find("[%s]") then refuse("URL does not parse (" .. url:gsub("%?.*", "") .. ")") end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then refuse("URL does not parse (bad port)") end
  if rest == "" or rest:sub(1, 1) == "?" then rest = "/" .. rest end
  local path = rest:match("^[^?]*")
  if req.query ~= nil then
    if type(req.query) ~= "table" then refuse("query must be a table") end
    local qs = query_string(req.query)
    if qs ~= "" then rest = rest .. (rest:find("?", 1, true) and "&" or "?") .. qs end
  end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then refuse("body must be a string (got " .. type(body) .. ")") end
  if timeout_s == nil then
    timeout_s = req.timeout
    if timeout_s ~= nil and (type(timeout_s) ~= "number" or timeout_s ~= timeout_s or timeout_s <= 0) then
      refuse("timeout must be a positive number")
    end
  end
  local lines, seen = {}, {}
  if req.headers ~= nil then
    if type(req.headers) ~= "table" then refuse("headers must be a table") end
    lines, seen = header_lines(req.headers)
  end
  local default_port = (scheme == "https" and 443 or 80)
  local host_header = (host:find(":", 1, true) and "[" .. host .. "]" or host)
    .. (port ~= default_port and ":" .. port or "")
  local head = { method, " ", rest, " HTTP/1.1\r\n" }
  head[#head + 1] = "Host: " .. host_header .. "\r\n"
  if not seen["user-agent"] then head[#head + 1] = "User-Agent: " .. self.user_agent .. "\r\n" end
  if not seen.accept then head[#head + 1] = "Accept: */*\r\n" end
  if body or method == "POST" or method == "PUT" or method == "PATCH" then
    head[#head + 1] = "Content-Length: " .. #(body or "") .. "\r\n"
  end
  for _, line in ipairs(lines) do head[#head + 1] = line end
  head[#head + 1] = "\r\n"
  return {
    method = method, scheme = scheme, host = host, port = port,
    shown = scheme .. "://" .. host_header .. path,
    head = concat(head), body = body, timeout_s = timeout_s or self.timeout,
  }
end

local function fail(p, code, what, detail)
  return nil, string_format("http.request: %s: %s %s (%s)", what, p.method, p.shown, tostring(detail)), code
end

-- Sets the three cosocket timeouts to what is left before the deadline (ms);
-- false when nothing is left.
local function arm(sock, deadline, connect_cap)
  local left = math_floor((deadline - M.now()) * 1000)
  if left < 1 then return false end
  local connect = connect_cap and math.min(left, connect_cap) or left
  sock:settimeouts(connect, left, left)
  return true
end

local function classify_connect(err)
  if err == "timeout" then return "TIMEOUT", "timed out" end
  if err:find("resolve", 1, true) or err:find("resolver", 1, true) then
    return "DNS", "could not resolve host"
  end
  return "CONNECT", "could not connect"
end

-- Read one response from sock. Returns res, keepalive | nil, code, what, detail.
local function read_response(self, sock, p, deadline)
  local line, err, status
  repeat                                                   -- skip 1xx interim answers
    if not arm(sock, deadline) then return nil, "TIMEOUT", "timed out", "deadline" end
    line, err = sock:receive("*l")
    if not line then return nil, err == "timeout" and "TIMEOUT" or "IO", err == "timeout" and "timed out"
      or "connection failed", err end
    local version
    version, status = line:match("^HTTP/(%d%.%d) (%d%d%d)")
    status = tonumber(status)
    if not status then return nil, "PROTOCOL", "broken answer", "not an HTTP status line" end
    p.version = version
    local headers = {}
    local header_bytes = 0
    while true do
      line, err = sock:receive("*l")
      if not line then return nil, err == "timeout" and "TIMEOUT" or "PROTOCOL",
        err == "timeout" and "timed out" or "broken answer", err end
      if line == "" then break end
      header_bytes = header_bytes + #line
      if header_bytes > 65536 then return nil, "TOO_LARGE", "answer headers too large", "over 64 KiB" end
      local name, value = line:match("^([^:%s]+):%s*(.-)%s*$")
      if not name then return nil, "PROTOCOL", "broken answer", "bad header line" end
      name = name:lower()
      local old = headers[name]
      if old == nil then
        headers[name] = value
      elseif type(old) == "string" then
        headers[name] = { old, value }
      else
        old[#old + 1] = value
      end
    end
    p.headers = headers
  until status >= 200 or status == 101
  local headers = p.headers
  local function one(name)
    local v = headers[name]
    if type(v) == "table" then return v[#v] end
    return v
  end
  local connection = (one("connection") or ""):lower()
  local keepalive = not connection:find("close", 1, true)
    and (p.version == "1.1" or connection:find("keep-alive", 1, true) ~= nil)
  local body = ""
  local max = self.max_body
  if p.method ~= "HEAD" and status ~= 204 and status ~= 304 then
    local te = (one("transfer-encoding") or ""):lower()
    if te:find("chunked", 1, true) then
      local parts, total = {}, 0
      while true do
        if not arm(sock, deadline) then return nil, "TIMEOUT", "timed out", "deadline" end
        local size_line, serr = sock:receive("*l")
        if not size_line then return nil, serr == "timeout" and "TIMEOUT" or "PROTOCOL",
          serr == "timeout" and "timed out" or "broken answer", serr end
        local size = tonumber(size_line:match("^%s*(%x+)"), 16)
        if not size then return nil, "PROTOCOL", "broken answer", "bad chunk size" end
        if size == 0 then
          repeat                                           -- trailers up to the empty line
            local trailer, terr = sock:receive("*l")
            if not trailer then return nil, "PROTOCOL", "broken answer", terr end
          until trailer == ""
          break
        end
        total = total + size
        if total > max then return nil, "TOO_LARGE", "answer larger than max_body", total .. " bytes" end
        local data, derr = sock:receive(size + 2)
        if not data then return nil, derr == "timeout" and "TIMEOUT" or "PROTOCOL",
          derr == "timeout" and "timed out" or "broken answer", derr end
        parts[#parts + 1] = data:sub(1, size)
      end
      body = concat(parts)
    elseif one("content-length") then
      local length = tonumber(one("content-length"))
      if not length or length < 0 or length % 1 ~= 0 then
        return nil, "PROTOCOL", "broken answer", "bad Content-Length"
      end
      if length > max then return nil, "TOO_LARGE", "answer larger than max_body", length .. " bytes" end
      if length > 0 then
        if not arm(sock, deadline) then return nil, "TIMEOUT", "timed out", "deadline" end
        local data, derr = sock:receive(length)
        if not data then return nil, derr == "timeout" and "TIMEOUT" or "PROTOCOL",
          derr == "timeout" and "timed out" or "broken answer", derr end
        body = data
      end
    else                                                   -- until the server closes
      keepalive = false
      local reader = sock:receiveuntil("\0\0\0never\0\0\0")
      local parts, total = {}, 0
      while true do
        if not arm(sock, deadline) then return nil, "TIMEOUT", "timed out", "deadline" end
        local data, derr, partial = reader(65536)
        if data then
          parts[#parts + 1] = data
          total = total + #data
        else
          if partial and partial ~= "" then parts[#parts + 1] = partial end
          if derr == "timeout" then return nil, "TIMEOUT", "timed out", derr end
          if derr ~= "closed" then return nil, "PROTOCOL", "broken answer", derr end
          break
        end
        if total > max then return nil, "TOO_LARGE", "answer larger than max_body", total .. " bytes" end
      end
      body = concat(parts)
      if #body > max then return nil, "TOO_LARGE", "answer larger than max_body", #body .. " bytes" end
    end
  end
  return { status = status, headers = headers, body = body, attempts = 1 }, keepalive
end

-- An IPv4 or IPv6 literal (the URL's brackets already removed)?
is_ip = function(host)
  return host:find("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil
end

-- Does the peer certificate of a verified TLS session list IP address `host`?
-- true | nil, why. The session is the SSL_SESSION the cosocket handshake returns.
local ffi_ready
check_ip = function(session, host)
  local okffi, ffi = pcall(require, "ffi")
  if not okffi then return nil, "cannot check an IP certificate without LuaJIT's FFI" end
  if not ffi_ready then
    pcall(ffi.cdef, [[
      void *SSL_SESSION_get0_peer(void *s);
      int X509_check_ip_asc(void *x, const char *address, unsigned int flags);
    ]])                                            -- pcall: declared already by another module
    ffi_ready = true
  end
  if type(session) ~= "cdata" or session == nil then return nil, "no TLS session to check the certificate of" end
  local okcall, cert = pcall(ffi.C.SSL_SESSION_get0_peer, session)
  if not okcall or cert == nil then return nil, "no peer certificate" end
  if ffi.C.X509_check_ip_asc(cert, host, 0) ~= 1 then
    return nil, "certificate does not list IP address " .. host
  end
  return true
end

-- One attempt on one connection (pooled or new). nil, "retry", "again" when a pooled
-- connection turned out to be closed by the server before answering.
local function exchange(self, p, deadline)
  local sock = ngx.socket.tcp()
  if not arm(sock, deadline, self.connect_timeout_ms) then return fail(p, "TIMEOUT", "timed out", "deadline") end
  local pool = p.scheme .. "://" .. p.host .. ":" .. p.port .. (self.verify and "" or "#noverify")
  local ok, err = sock:connect(p.host, p.port, { pool = pool })
  if not ok then
    local code, what = classify_connect(tostring(err))
    if code == "DNS" and tostring(err):find("no resolver", 1, true) then
      err = tostring(err) .. "; add a 'resolver' directive to nginx.conf"
    end
    return fail(p, code, what, err)
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if p.scheme == "https" and not reused then
    -- Debian's lua-resty-core 0.1.25 raises "assertion failed!" when a handshake that
    -- completes at once fails verification (and with reused_session = false reports
    -- success on a closed socket instead): catch the raise and call it a TLS failure.
    -- nginx checks the name against DNS names only: an IP host is handshaken without a
    -- name (the chain is still verified) and then matched against the certificate's IP
    -- addresses here (check_ip, OpenSSL's X509_check_ip_asc), as libcurl does.
    local ip = self.verify and is_ip(p.host)
    local okcall, session
    okcall, session, err = pcall(sock.sslhandshake, sock, nil, not ip and p.host or nil, self.verify)
    if not okcall then session, err = nil, "certificate verify failed" end
    if session and ip then
      local matched, why = check_ip(session, p.host)
      if not matched then session, err = nil, why end
    end
    if not session then
      sock:close()
      if err == "timeout" then return fail(p, "TIMEOUT", "timed out", err) end
      return fail(p, "TLS", "TLS handshake or certificate check failed", err)
    end
  end
  local _, serr = sock:send(p.body and { p.head, p.body } or p.head)
  if serr then
    sock:close()
    if serr == "timeout" then return fail(p, "TIMEOUT", "timed out", serr) end
    return nil, "retry", reused and "again" or "IO", serr
  end
  local res, code_or_keep, what, detail = read_response(self, sock, p, deadline)
  if not res then
    sock:close()
    if reused and code_or_keep == "IO" then return nil, "retry", "again", detail end
    return fail(p, code_or_keep, what, detail)
  end
  if code_or_keep then
    sock:setkeepalive(self.keepalive_timeout_ms, self.pool_size)
  else
    sock:close()
  end
  return res
end

local Session = {}
Session.__index = Session
Session.__tostring = function(self)
  return string_format("mallapi.ngx.http.Session (%s)", self.closed and "closed" or "open")
end

local function check_open(self, api)
  if self.closed then error(api .. ": session is closed", 0) end
end

-- c:request(req [, timeout_s]) -> res | nil, msg, code
function Session:request(req, timeout_s)
  check_open(self, "http.request")
  if type(req) ~= "table" then
    error("bad argument #1 to 'http.request' (table expected, got " .. type(req) .. ")", 2)
  end
  local ok, why, code = M.check_phase("http.request")
  if not ok then return nil, why, code end
  local parsed_ok, p = pcall(parse_request, self, req, timeout_s)
  if not parsed_ok then
    if type(p) == "table" and p[1] == Bad then return nil, "http.request: " .. p[2], "BAD_REQUEST" end
    error(p, 0)
  end
  local start = M.now()
  local deadline = start + p.timeout_s
  local res, err, how, detail
  for _ = 1, 4 do                                  -- stale pooled connections are dropped and retried
    res, err, how, detail = exchange(self, p, deadline)
    if res or err ~= "retry" or how ~= "again" then break end
  end
  if not res and err == "retry" then return fail(p, "IO", "connection failed", detail) end
  if not res then return nil, err, how end
  res.time = M.now() - start
  return res
end

-- c:batch(reqs [, concurrency [, timeouts]]) -> results (res or {err=, code=}), in order.
-- Runs up to `concurrency` requests at once on light threads.
function Session:batch(reqs, concurrency, timeouts)
  check_open(self, "http.batch")
  local n = #reqs
  local results = {}
  if n == 0 then return results end
  local ok, why, code = M.check_phase("http.batch")
  if not ok then
    for i = 1, n do results[i] = { err = why, code = code } end
    return results
  end
  local next_index = 0
  local function worker()
    while next_index < n do
      next_index = next_index + 1
      local i = next_index
      local res, err, ecode = self:request(reqs[i], timeouts and timeouts[i])
      results[i] = res or { err = err, code = ecode }
    end
  end
  local threads = {}
  for t = 1, math_max(1, math.min(concurrency or 8, n)) do threads[t] = ngx.thread.spawn(worker) end
  for _, th in ipairs(threads) do ngx.thread.wait(th) end
  return results
end

function Session:close() self.closed = true end

local function opt_number(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v <= 0 then
    error("bad argument #1 to 'http.new' (option '" .. name .. "': positive number expected)", 3)
  end
  return v
end

-- mallapi.ngx.http.new([opts]) -> c. Options as core.http.new (timeout, connect_timeout,
-- max_body, verify, user_agent, max_connections = keepalive pool size) plus
-- keepalive_timeout (s). proxy, ca_file and http2 are not supported here: certificates
-- come from nginx's lua_ssl_trusted_certificate.
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("bad argument #1 to 'http.new' (table expected, got " .. type(opts) .. ")", 2) end
  if opts.proxy ~= nil then
    error("bad argument #1 to 'http.new' (option 'proxy': not supported by the nginx transport)", 2)
  end
  if opts.ca_file ~= nil then
    error("bad argument #1 to 'http.new' (option 'ca_file': not supported by the nginx transport; use " ..
        "lua_ssl_trusted_certificate)", 2)
  end
  if opts.verify ~= nil and type(opts.verify) ~= "boolean" then
    error("bad argument #1 to 'http.new' (option 'verify': boolean expected)", 2)
  end
  if opts.user_agent ~= nil and type(opts.user_agent) ~= "string" then
    error("bad argument #1 to 'http.new' (option 'user_agent': string expected)", 2)
  end
  if opts.user_agent and opts.user_agent:find("[\r\n]") then
    error("bad argument #1 to 'http.new' (option 'user_agent': must not contain CR or LF)", 2)
  end
  return setmetatable({
    timeout = opt_number(opts, "timeout", 30),
    connect_timeout_ms = math_floor(opt_number(opts, "connect_timeout", 10) * 1000),
    max_body = opt_number(opts, "max_body", 16 * 1024 * 1024),
    verify = opts.verify ~= false,
    user_agent = opts.user_agent or "mallapi (nginx cosocket)",
    pool_size = opt_number(opts, "max_connections", 32),
    keepalive_timeout_ms = math_floor(opt_number(opts, "keepalive_timeout", 60) * 1000),
  }, Session)
end

return M
