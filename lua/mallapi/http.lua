-- mallapi.http: the public HTTP transport. A thin layer over the C session
-- (core.http, libcurl) for what reads better in Lua: the retry policy (exponential
-- back-off with full jitter, Retry-After, deadline, idempotency), the per-attempt
-- hook that sees requests and answers with secrets masked, and batch retries.
-- The shape session:request(req) -> res | nil, err, code is the transport contract
-- other layers depend on (an OpenResty cosocket transport implements the same).
local core = require "mallapi.core"

local chttp = core.http
local units = require "mallapi.units"            -- duration names: timeout_ms, base_ms ...
local type, error, pairs, ipairs, tostring, tonumber, setmetatable =
  type, error, pairs, ipairs, tostring, tonumber, setmetatable
local math_random, math_min, math_max, floor = math.random, math.min, math.max, math.floor
local os_time = os.time

local core_clock = core.clock

-- The transport's clock is core.clock's (the one home of time): now() in monotonic
-- seconds, sleep(seconds) blocking the process.
local function clock_now() return core_clock.monotonic_ms() / 1000 end
local function clock_sleep(seconds)
  if seconds ~= seconds or seconds <= 0 then return end   -- NaN or nothing to wait
  if seconds > 1e9 then seconds = 1e9 end                 -- math.huge: not a millisecond count
  core_clock.sleep_ms(math.ceil(seconds * 1000))
end

-- The libcurl transport: core.http's sessions with core.clock's time.
local curl = { new = chttp.new, now = clock_now, sleep = clock_sleep }

local M = {
  now = clock_now,               -- monotonic seconds
  sleep = clock_sleep,           -- sleep(seconds), blocks the process
  url_encode = chttp.url_encode, -- RFC 3986: all but ALPHA DIGIT - . _ ~ escaped
}

-- Retried unless a request says otherwise: at most max_attempts in all, waiting
-- random() * min(max_delay, base_delay * 2^(attempt-1)) between them (full jitter),
-- or the Retry-After of a 429/503 answer, and never past the call's deadline.
M.default_retry = {
  max_attempts = 3,
  base_delay = 0.2,
  max_delay = 5,
  statuses = { [429] = true, [502] = true, [503] = true, [504] = true },
  codes = { CONNECT = true, IO = true, PROTOCOL = true },  -- connection faults
}

-- Names (query parameters and headers, any case) whose values the hook never sees.
M.default_secrets = {
  "token", "access_token", "refresh_token", "sign", "signature", "app_key", "app_secret",
  "secret", "client_secret", "password", "authorization", "proxy-authorization", "cookie",
  "set-cookie", "x-api-key", "apisecret",
}

local IDEMPOTENT = { GET = true, HEAD = true, OPTIONS = true, PUT = true, DELETE = true, TRACE = true }
local RETRY_AFTER_STATUS = { [429] = true, [503] = true }
local MASK = "***"
M.MASK = MASK                     -- what a masked value reads as, here and in the command

local function bad_request(msg)
  return nil, "http.request: " .. msg, "BAD_REQUEST"
end

-- ---- retry policy ----

local function check_policy(p, where)
  if type(p) ~= "table" then error(where .. "retry': table or false expected, got " .. type(p) .. ")", 3) end
  for _, name in ipairs { "max_attempts", "base_delay", "max_delay" } do
    local v = p[name]
    if v ~= nil and (type(v) ~= "number" or v < 0) then
      error(where .. "retry." .. name .. "': non-negative number expected)", 3)
    end
  end
  for _, name in ipairs { "statuses", "codes" } do
    if p[name] ~= nil and type(p[name]) ~= "table" then error(where .. "retry." .. name .. "': table expected)", 3) end
  end
end

-- A full policy: fields of `p` over those of `base`.
local function merge_policy(base, p)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(p) do out[k] = v end
  return out
end

-- Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to epoch seconds (core.clock's calendar).
local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
                 Oct = 10, Nov = 11, Dec = 12 }
local function http_date(s)
  local d, mon, y, hms = s:match("^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d:%d%d:%d%d) GMT$")
  local m = MONTHS[mon]
  if not m then return nil end
  local ms = core.clock.parse(string.format("%s-%02d-%s %s", y, m, d, hms), "+00:00")
  return ms and floor(ms / 1000)
end

-- Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or nil.
local function retry_after_seconds(res)
  local v = res.headers["retry-after"]
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" then return nil end
  local secs = v:match("^%s*(%d+)%s*$")
  if secs then return tonumber(secs) end
  local at = http_date(v)
  if not at then return nil end
  local date = res.headers["date"]
  local now = type(date) == "string" and http_date(date) or os_time()
  return math_max(0, at - now)
end
M.retry_after_seconds = retry_after_seconds

-- The Retry-After of a 429/503 answer in seconds, parsed once and kept as res.retry_after.
local function retry_after_of(res)
  local wait = res.retry_after
  if wait == nil and RETRY_AFTER_STATUS[res.status] then
    wait = retry_after_seconds(res)
    res.retry_after = wait
  end
  return wait
end

-- Whether the policy retries this outcome (an answer res, or a failure code).
local function retryable(policy, res, code)
  if res then return (policy.statuses and policy.statuses[res.status]) == true end
  return code ~= "BAD_REQUEST" and (policy.codes and policy.codes[code]) == true
end

-- How long to wait before attempt `attempt + 1`, or nil when the outcome is final.
local function retry_delay(self, policy, attempt, res, code)
  if attempt >= (policy.max_attempts or 1) then return nil end
  if not retryable(policy, res, code) then return nil end
  if res then
    local wait = retry_after_of(res)
    if wait then return wait end
  end
  local cap = math_min(policy.max_delay or 0, (policy.base_delay or 0) * 2 ^ (attempt - 1))
  return self.random() * cap
end

-- The policy for req (nil: no retries), or nil, err, code for a bad `retry` field.
local function policy_for(self, req)
  local r = req.retry
  if r == nil then
    local p = self.retry
    if not p then return nil end
    local idem = req.idempotent
    if idem == nil then
      local m = req.method
      if m == nil then return p end
      idem = type(m) == "string" and (IDEMPOTENT[m] or IDEMPOTENT[m:upper()])
    end
    return idem and p or nil
  end
  if r == false then return nil end
  if type(r) ~= "table" then return bad_request("retry must be a table or false") end
  local idem = req.idempotent
  if idem == nil then
    local m = req.method or "GET"
    idem = type(m) == "string" and IDEMPOTENT[m:upper()]
  end
  return idem and merge_policy(self.retry or M.default_retry, units.apply(r, "http retry")) or nil
end

-- ---- masking, for the hook ----

local function mask_query_string(self, q)
  return (q:gsub("([^&=]*)=([^&]*)", function(name, value)
    if self.secrets[name:lower()] and value ~= "" then return name .. "=" .. MASK end
  end))
end

local function mask_url(self, url)
  url = url:gsub("^(%a[%w+.-]*://)[^/@?#]*@", "%1" .. MASK .. "@")   -- user info
  local base, query = url:match("^([^?#]*)%?([^#]*)")
  if not base then return (url:gsub("#.*", "")) end
  return base .. "?" .. mask_query_string(self, query)
end

-- A copy of a name -> value map or a {name, value} pair list, secret values masked.
local function mask_pairs(self, t)
  if type(t) ~= "table" then return t end
  local out = {}
  if t[1] ~= nil then
    for i, pair in ipairs(t) do
      local name = type(pair) == "table" and pair[1]
      if type(name) == "string" and self.secrets[name:lower()] then
        out[i] = { name, MASK }
      else
        out[i] = pair
      end
    end
  else
    for name, value in pairs(t) do
      out[name] = (type(name) == "string" and self.secrets[name:lower()]) and MASK or value
    end
  end
  return out
end

-- M.log_hook(line): when set, called once per HTTP exchange (each attempt) of every
-- session with { vendor, op, method, url (secrets masked), attempt, status, ms, bytes, code }
-- (`mallapi call --debug` prints these). vendor and op come from a client's request.
M.log_hook = nil

local function call_log_hook(self, req, attempt, res, code, ms)
  local url = req.url
  M.log_hook {
    vendor = req.vendor, op = req.op, attempt = attempt,
    method = type(req.method) == "string" and req.method:upper() or "GET",
    url = type(url) == "string" and mask_url(self, url) or url,
    status = res and res.status, ms = ms or (res and res.time and floor(res.time * 1000 + 0.5)),
    bytes = res and #res.body or 0, code = code,
  }
end

-- One call per attempt: what was sent and what came back, secrets masked.
local function call_hook(self, req, attempt, res, err, code, retry_in, ms)
  if M.log_hook then call_log_hook(self, req, attempt, res, code, ms) end
  if not self.hook then return end
  local url = req.url
  local body = req.body
  self.hook {
    method = type(req.method) == "string" and req.method:upper() or "GET",
    url = type(url) == "string" and mask_url(self, url) or url,
    query = mask_pairs(self, req.query),
    headers = mask_pairs(self, req.headers),
    request_bytes = type(body) == "string" and #body or 0,
    attempt = attempt,
    status = res and res.status,
    response_headers = res and mask_pairs(self, res.headers),
    response_bytes = res and #res.body,
    time = res and res.time,
    err = err,
    code = code,
    retry_in = retry_in,
  }
end

-- ---- sessions ----

local Session = {}
Session.__index = Session

-- session:request(req) -> res | nil, err, code. See doc/http.md for req and res.
function Session:request(req)
  if type(req) ~= "table" then
    error("bad argument #1 to 'http.request' (table expected, got " .. type(req) .. ")", 2)
  end
  req = units.apply(req, "http.request")
  local c = self.c
  local timeout = req.timeout
  if timeout == nil then
    timeout = self.timeout
  elseif type(timeout) ~= "number" or timeout <= 0 or timeout ~= timeout then
    return bad_request("timeout must be a positive number")
  end
  local policy
  if req.method == nil and req.retry == nil and req.idempotent == nil then
    policy = self.retry                            -- a plain GET: the session's policy
  else
    local perr, pcode
    policy, perr, pcode = policy_for(self, req)
    if perr then return nil, perr, pcode end
  end
  local hook = self.hook or M.log_hook
  if not policy and not hook then                  -- no retries, no hook: one attempt
    return c:request(req, timeout)
  end
  local clock = self.clock
  local start = clock()
  local deadline = start + timeout
  local t_attempt = start
  local res, err, code = c:request(req, timeout)
  if not hook then                                 -- the usual outcome, decided at once
    if res then
      local statuses = policy.statuses
      if not (statuses and statuses[res.status]) then return res end
    elseif code == "BAD_REQUEST" or not (policy.codes and policy.codes[code]) then
      return nil, err, code
    end
  end
  local attempt = 1
  while true do
    local delay = policy and code ~= "BAD_REQUEST" and retry_delay(self, policy, attempt, res, code)
    if delay and clock() + delay >= deadline then delay = nil end
    if hook then
      call_hook(self, req, attempt, res, err, code, delay or nil, floor((clock() - t_attempt) * 1000 + 0.5))
    end
    if not delay then break end
    self.sleep(delay)
    attempt = attempt + 1
    t_attempt = clock()
    res, err, code = c:request(req, deadline - clock())
  end
  -- a retryable outcome here spent this call's budget (attempts or deadline): callers
  -- above (client, sync runner, webhook worker) must not send it again on their own
  local exhausted = policy and retryable(policy, res, code) or nil
  if res then
    res.attempts, res.retries_exhausted = attempt, exhausted
    if attempt > 1 then res.time = clock() - start end
    retry_after_of(res)
    return res
  end
  if attempt > 1 then err = err .. " [" .. attempt .. " attempts]" end
  return nil, err, code, { attempts = attempt, retries_exhausted = exhausted }
end

-- session:batch(reqs [, opts]) -> results, in request order: results[i] is {res = res}
-- or {err = msg, code = CODE}. opts.concurrency (default 8) requests run at once.
-- Retries go in rounds: the requests to retry wait for the longest delay among
-- them, then run again together.
local NO_STATUSES = {}

-- The outcome of attempt `attempt` of batch request i: final (into results[i]) or a
-- retry (i appended to `again`); returns the delay asked for, or 0.
local function batch_outcome(self, st, i, r)
  local req = st.reqs[i]
  local attempt = st.attempts[i]
  local policy = st.policies[i]
  if policy == nil then policy = policy_for(self, req) or false; st.policies[i] = policy end
  local res, err, code = nil, r.err, r.code
  if r.status then res = r end
  local delay
  if policy and code ~= "BAD_REQUEST" then
    delay = retry_delay(self, policy, attempt, res, code)
    if delay and self.clock() + delay >= st.deadlines[i] then delay = nil end
  end
  if self.hook or M.log_hook then call_hook(self, req, attempt, res, err, code, delay) end
  if delay then
    st.again[#st.again + 1] = i
    st.last[i] = r
    return delay
  end
  if res then
    res.attempts = attempt
    if attempt > 1 then res.time = self.clock() - st.start end
    st.results[i] = { res = res }
  else
    if attempt > 1 then err = err .. " [" .. attempt .. " attempts]" end
    st.results[i] = { err = err, code = code }
  end
  return 0
end

-- session:batch(reqs [, opts]) -> results, in request order: results[i] is {res = res}
-- or {err = msg, code = CODE}. opts.concurrency (default 8) requests run at once.
-- Retries go in rounds: the requests to retry wait for the longest delay among
-- them, then run again together.
function Session:batch(reqs, opts)
  if type(reqs) ~= "table" then
    error("bad argument #1 to 'http.batch' (table expected, got " .. type(reqs) .. ")", 2)
  end
  local concurrency = 8
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("bad argument #2 to 'http.batch' (table expected, got " .. type(opts) .. ")", 2)
    end
    concurrency = opts.concurrency or concurrency
    if type(concurrency) ~= "number" or concurrency < 1 or concurrency % 1 ~= 0 then
      error("bad argument #2 to 'http.batch' (option 'concurrency': positive integer expected)", 2)
    end
  end
  local n = #reqs
  if n == 0 then return self.c:batch(reqs) end    -- {} (or raises when closed)
  local refused, given = nil, reqs
  for i = 1, n do
    local req = reqs[i]
    if type(req) ~= "table" then
      error("bad argument #1 to 'http.batch' (reqs[" .. i .. "]: table expected, got " .. type(req) .. ")", 2)
    end
    req = units.apply(req, "http.request")
    if req ~= given[i] then                        -- timeout_ms: a copy, the caller's list stays
      if reqs == given then reqs = {} for k = 1, n do reqs[k] = given[k] end end
      reqs[i] = req
    end
    local retry = req.retry
    if retry ~= nil and retry ~= false and type(retry) ~= "table" then
      refused = refused or {}
      refused[i] = true
    end
  end
  local clock, hook = self.clock, self.hook or M.log_hook
  local st = { reqs = reqs, results = {}, policies = {}, deadlines = {}, attempts = {}, last = {},
               again = {}, start = clock() }
  local results, deadlines, attempts = st.results, st.deadlines, st.attempts
  local timeout = self.timeout

  -- round 1: every request with its own timeout (C reads req.timeout or the session's)
  local first, index = reqs, nil
  if refused then
    first, index = {}, {}
    for i = 1, n do
      if refused[i] then
        results[i] = { err = "http.request: retry must be a table or false", code = "BAD_REQUEST" }
      else
        first[#first + 1], index[#first + 1] = reqs[i], i
      end
    end
  end
  local out, unsettled
  if hook then                                     -- every outcome goes through the hook
    out = self.c:batch(first, concurrency)
  else
    -- C wraps the final answers (no req.retry, status not retried) as {res = r} and
    -- lists the others in `unsettled`; with none and nothing refused, out is the result
    out, unsettled = self.c:batch(first, concurrency, nil, self.retry and self.retry.statuses or NO_STATUSES)
    if not unsettled and not index then return out end
  end
  local wait = 0
  for k = 1, #first do
    local i = index and index[k] or k
    local r = out[k]
    if r.res then
      results[i] = r                               -- the usual outcome: final at once
    else
      local t = reqs[i].timeout
      deadlines[i] = st.start + (type(t) == "number" and t or timeout)
      attempts[i] = 1
      wait = math_max(wait, batch_outcome(self, st, i, r))
    end
  end

  -- later rounds: what asked for a retry, after the longest delay among them
  local sub, timeouts = {}, {}
  while #st.again > 0 do
    self.sleep(wait)
    local now = clock()
    local pending = {}
    for _, i in ipairs(st.again) do
      if now < deadlines[i] then
        pending[#pending + 1] = i
      else
        local r = st.last[i]                       -- out of time while waiting: keep the last
        if r.status then
          r.attempts = attempts[i]
          r.time = now - st.start
          results[i] = { res = r }
        else
          results[i] = { err = r.err .. " [" .. attempts[i] .. " attempts]", code = r.code }
        end
      end
    end
    st.again, wait = {}, 0
    for k = 1, #sub do sub[k], timeouts[k] = nil, nil end
    for k, i in ipairs(pending) do sub[k], timeouts[k] = reqs[i], deadlines[i] - now end
    if #pending == 0 then break end
    out = self.c:batch(sub, concurrency, timeouts)
    for k, i in ipairs(pending) do
      attempts[i] = attempts[i] + 1
      wait = math_max(wait, batch_outcome(self, st, i, out[k]))
    end
  end
  return results
end

-- close(): free connections now; closing twice is harmless; using a closed session raises.
function Session:close()
  self.c:close()
end

Session.__close = Session.close
Session.__gc = Session.close                       -- Lua 5.4 tables; the C session has its own __gc
function Session:__tostring()
  return (tostring(self.c):gsub("^mallapi%.Session", "mallapi.http.Session"))
end

local C_OPTIONS = { "timeout", "connect_timeout", "max_body", "proxy", "verify", "ca_file",
                    "user_agent", "max_connections", "http2" }

-- mallapi.http.new([opts]) -> session. Transport options go to the C session;
-- retry, hook, secrets, sleep, random and clock stay here.
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("bad argument #1 to 'http.new' (table expected, got " .. type(opts) .. ")", 2) end
  opts = units.apply(opts, "http.new")
  local copts = {}
  for _, name in ipairs(C_OPTIONS) do copts[name] = opts[name] end
  local retry = units.apply(opts.retry, "http retry")
  if retry == nil then
    retry = M.default_retry
  elseif retry ~= false then
    check_policy(retry, "bad argument #1 to 'http.new' (option '")
    retry = merge_policy(M.default_retry, retry)
  end
  for _, name in ipairs { "hook", "sleep", "random", "clock" } do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error("bad argument #1 to 'http.new' (option '" .. name .. "': function expected, got "
        .. type(opts[name]) .. ")", 2)
    end
  end
  local secret_list = opts.secrets or M.default_secrets
  if type(secret_list) ~= "table" then
    error("bad argument #1 to 'http.new' (option 'secrets': list of names expected)", 2)
  end
  local secrets = {}
  for _, name in ipairs(secret_list) do
    if type(name) ~= "string" then
      error("bad argument #1 to 'http.new' (option 'secrets': list of names expected)", 2)
    end
    secrets[name:lower()] = true
  end
  local transport = M.transport
  local c, err, code = transport.new(copts)
  if not c then return nil, err, code end
  return setmetatable({
    c = c,
    timeout = opts.timeout or 30,
    retry = retry,
    hook = opts.hook,
    secrets = secrets,
    sleep = opts.sleep or transport.sleep,
    random = opts.random or math_random,
    clock = opts.clock or transport.now,
  }, Session)
end

-- The transport sessions are made on: libcurl (core.http) unless an adapter installed
-- another with http.set_transport (mallapi.ngx installs the cosocket transport,
-- lua/mallapi/ngx/http.lua). A transport has new(opts), now() (seconds) and sleep(seconds).
M.transport = curl
function M.set_transport(t)
  if t ~= nil and (type(t) ~= "table" or type(t.new) ~= "function") then
    error("bad argument #1 to 'set_transport' (transport table with new() or nil expected, got " .. type(t) .. ")", 2)
  end
  local before = M.transport
  M.transport = t or curl
  return before
end

M.Session = Session
M._mask_url = mask_url                              -- for the specs
return M
