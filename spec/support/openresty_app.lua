-- Test helper loaded INSIDE nginx by spec/openresty_spec.lua: the vendor stand-in
-- (slow, echo, chunked, big answers) and the gateway side that runs mallapi's
-- cosocket transport, token manager and stores, answering in a plain line format
-- the spec parses ("name=value" lines, then the body after a "body=" line).
-- luacheck: globals ngx
local core_clock = require("mallapi.core").clock
local M = {}

local function result_text(res, err, code)
  local out = {}
  if res then
    out[#out + 1] = "status=" .. res.status
    local names = {}
    for name in pairs(res.headers) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local v = res.headers[name]
      if type(v) == "table" then v = "[" .. table.concat(v, "|") .. "]" end
      out[#out + 1] = "header." .. name .. "=" .. v
    end
    out[#out + 1] = "body=" .. res.body
  else
    out[#out + 1] = "code=" .. tostring(code)
    out[#out + 1] = "err=" .. tostring(err)
  end
  return table.concat(out, "\n")
end
M.result_text = result_text

---------------------------------------------------------------------------------------------
-- vendor stand-in

function M.vendor_echo()
  ngx.req.read_body()
  local lines = { ngx.req.get_method() .. " " .. ngx.var.request_uri,
                  "connection_requests=" .. ngx.var.connection_requests }
  local headers = ngx.req.get_headers()
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local v = headers[name]
    if type(v) == "table" then v = table.concat(v, "|") end
    lines[#lines + 1] = name .. ": " .. v
  end
  lines[#lines + 1] = "body=" .. (ngx.req.get_body_data() or "")
  local header = ngx.header
  header["X-Multi"] = { "one", "two" }
  ngx.print(table.concat(lines, "\n"))
end

function M.vendor_chunked()
  local n = tonumber(ngx.var.arg_n) or 3
  for i = 1, n do
    ngx.print("part" .. i)
    ngx.flush(true)
  end
end

function M.vendor_big()
  local header = ngx.header
  header["Content-Length"] = tonumber(ngx.var.arg_n) or 100
  ngx.print(string.rep("x", tonumber(ngx.var.arg_n) or 100))
end

-- 503 twice per key, then 200
function M.vendor_flaky()
  local n = ngx.shared.vendor:incr("flaky:" .. ngx.var.arg_key, 1, 0)
  if n <= 2 then return ngx.exit(503) end
  ngx.print("third time")
end

-- promises 100 bytes, sends 50, closes
function M.vendor_truncated()
  local header = ngx.header
  header["Content-Length"] = 100
  ngx.print(string.rep("y", 50))
  ngx.flush(true)
  ngx.exit(444)
end

function M.vendor_slow()
  local d = ngx.shared.vendor
  d:incr("slow_started", 1, 0)
  ngx.sleep(tonumber(ngx.var.arg_s) or 1)
  ngx.print("slow-ok")
end

---------------------------------------------------------------------------------------------
-- gateway side

local function transport(opts)
  return require("mallapi.ngx.http").new(opts)
end

-- Transport cases, by name; `base` is the vendor stand-in's URL, `tls` an https one,
-- `closed` a URL where nothing listens.
local CASES = {
  get_query = function(a)
    return transport():request{ url = a.base .. "/echo?z=1", query = { b = "2 3", a = "x/y" },
                                headers = { ["X-Test"] = "v" } }
  end,
  query_pairs = function(a)
    return transport():request{ url = a.base .. "/echo", query = { { "b", 1 }, { "a", true }, { "b", "ü" } } }
  end,
  post_body = function(a)
    return transport():request{ method = "post", url = a.base .. "/echo", body = "hello body",
                                headers = { { "Content-Type", "text/plain" } } }
  end,
  chunked = function(a) return transport():request{ url = a.base .. "/chunked?n=4" } end,
  via_http = function(a)
    local session = require("mallapi").http.new{ timeout = 5 }
    local res, err, code = session:request{ url = a.base .. "/echo", query = { q = 1 } }
    if not res then return nil, err, code end
    return { status = res.status, body = res.body, headers = { transport = tostring(session.c),
                                                               attempts = tostring(res.attempts) } }
  end,
  installed = function()
    local engine_http, ngx_http = require "mallapi.http", require "mallapi.ngx.http"
    local clock, adapter = require "mallapi.clock", require "mallapi.ngx"
    local before = ngx.now()
    ngx.update_time()
    local t0 = ngx.now()
    clock.sleep_ms(20)                                -- yields: ngx.sleep moves ngx's clock
    ngx.update_time()
    local slept = ngx.now() - t0
    return { status = 200, body = "", headers = {
      transport = tostring(engine_http.transport == ngx_http),
      installed = tostring(adapter.installed == true),
      slept = tostring(slept >= 0.015 and before > 0) } }
  end,
  via_http_retry = function(a)
    local session = require("mallapi").http.new{ timeout = 5 }
    local res, err, code = session:request{ url = a.base .. "/flaky?key=" .. ngx.now() }
    if not res then return nil, err, code end
    return { status = res.status, body = res.body, headers = { attempts = tostring(res.attempts) } }
  end,
  dropped = function(a) return transport():request{ url = a.base .. "/drop" } end,
  truncated = function(a) return transport():request{ url = a.base .. "/truncated" } end,
  until_close = function(a) return transport():request{ url = a.base .. "/close?n=3" } end,
  chunked_too_large = function(a) return transport{ max_body = 10 }:request{ url = a.base .. "/chunked?n=4" } end,
  too_large = function(a) return transport{ max_body = 10 }:request{ url = a.base .. "/big?n=100" } end,
  head = function(a) return transport():request{ method = "HEAD", url = a.base .. "/big?n=100" } end,
  timeout = function(a) return transport():request{ url = a.base .. "/slow?s=1", timeout = 0.2 } end,
  refused = function(a) return transport():request{ url = a.closed .. "/x" } end,
  dns = function() return transport():request{ url = "http://no-such-host.invalid/x" } end,
  bad_scheme = function() return transport():request{ url = "ftp://127.0.0.1/x" } end,
  bad_header = function(a) return transport():request{ url = a.base .. "/echo", headers = { X = "a\r\nB: c" } } end,
  -- issue 13 item 3: a caller's Content-Length would smuggle a second request in the body
  smuggle = function(a)
    local t = transport()
    local _, err, code = t:request{ method = "POST", url = a.base .. "/echo",
      body = "ab\r\n\r\nGET /count?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n", headers = { ["Content-Length"] = "2" } }
    local res = assert(t:request{ url = a.base .. "/echo" })
    return { status = 200, headers = {}, body = tostring(code) .. "|" .. tostring(err) .. "|"
             .. res.body:match("^[^\n]*") }
  end,
  framing_host = function(a) return transport():request{ url = a.base .. "/echo", headers = { { "host", "x" } } } end,
  framing_te = function(a)
    return transport():request{ url = a.base .. "/echo", headers = { ["Transfer-Encoding"] = "chunked" } }
  end,
  bad_body = function(a) return transport():request{ url = a.base .. "/echo", body = {} } end,
  keepalive = function(a)
    local t = transport()
    local first = assert(t:request{ url = a.base .. "/echo" })
    local second = assert(t:request{ url = a.base .. "/echo" })
    return { status = 200, headers = {}, body = first.body:match("connection_requests=%d+") .. ","
             .. second.body:match("connection_requests=%d+") }
  end,
  tls_verify = function(a) return transport():request{ url = a.tls .. "/echo" } end,
  tls_noverify = function(a) return transport{ verify = false }:request{ url = a.tls .. "/echo" } end,
  batch = function(a)
    local out = transport():batch({ { url = a.base .. "/echo?i=1" }, { url = a.closed .. "/x" },
                                    { url = a.base .. "/chunked?n=2" } }, 2)
    local res = { status = 200, headers = {}, body = "" }
    local parts = {}
    for i, r in ipairs(out) do parts[i] = r.status and ("status " .. r.status) or r.code end
    res.body = table.concat(parts, ",")
    return res
  end,
}

function M.run_case()
  local name = ngx.var.arg_case
  local a = ngx.req.get_uri_args()
  ngx.print(result_text(CASES[name](a)))
end

-- A vendor call from a phase that cannot yield: the error, kept in the shared dict.
function M.call_in_phase(tag, base)
  local res, err, code = require("mallapi").http.new():request{ url = base .. "/echo" }
  ngx.shared.gateway:set("phase:" .. tag, result_text(res, err, code))
end

-- Slow vendor calls in flight while /health answers: every answer takes a number from
-- one counter when it finishes, so the spec sees the order of completion.
function M.slow_call(base)
  local d = ngx.shared.gateway
  d:incr("in_flight", 1, 0)
  local res, err, code = transport():request{ url = base .. "/slow?s=1", timeout = 20 }
  d:incr("in_flight", -1)
  local seq = d:incr("seq", 1, 0)
  ngx.print("seq=" .. seq .. "\n" .. result_text(res, err, code))
end

-- The same through mallapi.client (Sobot stores/get against the sandbox): inside nginx its
-- transport must be the cosocket one, chosen by mallapi.http.new by itself.
local sobot_client
function M.client_call()
  local mallapi = require "mallapi"
  if not sobot_client then
    sobot_client = mallapi.client("sobot", { appid = os.getenv("SOBOT_APPID"), app_key = os.getenv("SOBOT_APP_KEY"),
                                             base_url = os.getenv("SOBOT_BASE_URL"), timeout = 20,
                                             token_store = mallapi.store.shdict("mallapi_tokens") })
  end
  local d = ngx.shared.gateway
  d:incr("in_flight", 1, 0)
  local data, err, code = sobot_client:call("stores/get", { page_no = 1, page_size = 10 })
  d:incr("in_flight", -1)
  local seq = d:incr("seq", 1, 0)
  local used = tostring(sobot_client:transport().c or sobot_client:transport())
  ngx.print("seq=" .. seq .. "\ntransport=" .. used .. "\n"
            .. result_text(data and { status = 200, headers = {}, body = "data" } or nil, err, code))
end

-- A receiver on a tiny shared dict whose handle fails while the spec says so: the queue
-- fills up, refuses with 503, and everything accepted is handled once it may succeed.
local tiny
function M.tiny_serve()
  local webhook = require "mallapi.ngx.webhook"
  if not tiny then
    local gw = ngx.shared.gateway
    tiny = webhook.new{ name = "tiny", vendor = "shoplus", secret = os.getenv("SHOPLUS_WEBHOOK_SECRET"),
      dict = "tiny", base_delay = 0.05, max_delay = 0.2, poll = 0.05,
      handle = function()
        if gw:get("tiny_block") then return nil, "blocked by the spec", "HTTP" end
        gw:incr("tiny_handled", 1, 0)
        return true
      end }
    assert(tiny:start())
  end
  return webhook.serve("tiny")
end

function M.tiny_stats()
  local s = require("mallapi.ngx.webhook").receivers.tiny:stats()
  ngx.print(string.format("queued=%d\ndone=%d\nretries=%d\ndead=%d\nhandled=%d", s.queued, s.done, s.retries, s.dead,
                          ngx.shared.gateway:get("tiny_handled") or 0))
end

function M.health()
  local d = ngx.shared.gateway
  local seq = d:incr("seq", 1, 0)
  ngx.print("seq=" .. seq .. "\nin_flight=" .. (d:get("in_flight") or 0))
end

---------------------------------------------------------------------------------------------
-- tokens across workers

-- The store the spec's config names: the "tokens" shared dict, or our Redis under prefix.
local function spec_store(conf, prefix)
  if conf.store == "redis" then
    return require("mallapi.ngx").redis_store{ host = "127.0.0.1", port = conf.redis_port,
                                               password = conf.redis_password, prefix = prefix }
  end
  return require("mallapi.store").shdict("tokens")
end

local manager

-- The token manager of this worker: a Sobot-like fetch over the cosocket transport,
-- slowed down so that the workers' refreshes overlap; the store from the config; a clock
-- that the spec can move forward (skew in the shared dict).
local function tokens(conf)
  if manager then return manager end
  local ctl = ngx.shared.gateway
  local store = spec_store(conf, "mallapi-spec:")
  manager = require("mallapi.token").new{
    key = "sobot:" .. conf.appid, store = store,
    clock = function() return core_clock.now_ms() + (ctl:get("skew") or 0) end,
    fetch = function()
      ngx.sleep(0.3)
      local created = tostring(ngx.time())
      local res, err, code = transport():request{ url = conf.token_base .. "/api/get_token",
        query = { appid = conf.appid, create_time = created, sign = ngx.md5(conf.appid .. created .. conf.app_key) } }
      if not res then return nil, err, code end
      local token = res.body:match('"token":"([^"]+)"')
      if not token then return nil, "get_token: " .. res.status, "AUTH" end
      ctl:incr("fetches_by:" .. ngx.worker.pid(), 1, 0)
      return token, tonumber(res.body:match('"expires_in":(%d+)'))
    end,
  }
  return manager
end

function M.token_get(conf)
  local token, err = tokens(conf):get()
  ngx.print(token or ("error: " .. tostring(err)))
end

-- Started by init_worker: waits (bounded) for the spec's "go", then gets the token once.
function M.token_race(conf)
  local ctl = ngx.shared.gateway
  ngx.timer.at(0, function(premature)
    if premature then return end
    for _ = 1, 3000 do                               -- at most 30 s
      if ctl:get("go") then break end
      ngx.sleep(0.01)
    end
    if not ctl:get("go") then return end
    local token, err = tokens(conf):get()
    ctl:set("result:" .. ngx.worker.pid(), token or ("error: " .. tostring(err)))
    ctl:incr("done", 1, 0)
  end)
end

function M.token_results()
  local ctl = ngx.shared.gateway
  local lines = { "done=" .. (ctl:get("done") or 0) }
  for _, key in ipairs(ctl:get_keys(0)) do
    if key:find("^result:") or key:find("^fetches_by:") then lines[#lines + 1] = key .. "=" .. ctl:get(key) end
  end
  table.sort(lines)
  ngx.print(table.concat(lines, "\n"))
end

-- Eight light threads of one request share one store (as a worker's requests and timers
-- do) and each sets and reads back keys of its own, 25 times: "ok <count>" when every read
-- returned what that thread wrote, else the first problems.
function M.store_concurrent(conf)
  local store = spec_store(conf, "conc:" .. ngx.now())
  local problems, count = {}, 0
  local threads = {}
  for t = 1, 8 do
    threads[t] = ngx.thread.spawn(function()
      for i = 1, 25 do
        local key, value = "t" .. t .. ":" .. i, string.rep(string.char(64 + t), 10 + i)
        local ok, err = store:set(key, value, 60000)
        local got, gerr = store:get(key)
        if ok ~= true or got ~= value then
          problems[#problems + 1] = key .. ": set " .. tostring(ok or err) .. ", got " .. tostring(got or gerr)
        else
          count = count + 1
        end
      end
    end)
  end
  for _, th in ipairs(threads) do ngx.thread.wait(th) end
  ngx.print(#problems == 0 and ("ok " .. count) or table.concat(problems, "\n", 1, math.min(#problems, 5)))
end

-- The store interface, step by step, on a shdict or a Redis store inside nginx: one
-- line per step with what it returned (lock ids shown as "id").
function M.store_steps(conf)
  local store = spec_store(conf, "steps:" .. ngx.now())
  local out = {}
  local function show(step, a, b, c)
    if type(a) == "string" and a:find(":", 1, true) and step:find("^lock") then a = "id" end
    out[#out + 1] = step .. " -> " .. tostring(a) .. (b and (", " .. tostring(b) .. ", " .. tostring(c)) or "")
  end
  local id
  show("get absent", store:get("k"))
  show("set", store:set("k", "v\n1=%", 60000))
  show("get", store:get("k"))
  id = store:lock("k", 60000)
  show("lock", id)
  show("lock again", store:lock("k", 60000))
  show("unlock other", store:unlock("k", "someone-else"))
  show("unlock", store:unlock("k", id))
  show("unlock twice", store:unlock("k", id))
  id = store:lock("k", 100)
  show("lock short lease", id)
  ngx.sleep(0.3)
  show("lock after lease", store:lock("k", 60000))
  show("unlock expired", store:unlock("k", id))
  id = store:lock("r", 60000)
  show("renew", store:renew("r", id, 60000))
  show("renew other", store:renew("r", "someone-else", 60000))
  store:unlock("r", id)
  -- a holder that died (pid 2147483000 cannot exist): taken over at once
  if store.kind == "shdict" then
    ngx.shared[store.name]:set("l:d", "2147483000:1:1.000", 60)
  else
    local host = require("mallapi.store.redis").host_name
    store:command("SET", store.prefix .. "d:lock", host .. ":2147483000:1:1", "PX", "60000")
  end
  show("lock from a dead holder", store:lock("d", 60000))
  store:delete("d")
  show("delete", store:delete("k"))
  show("get deleted", store:get("k"))
  show("set ttl", store:set("t", "x", 100))
  ngx.sleep(0.3)
  show("get after ttl", store:get("t"))
  show("tostring", (tostring(store):gsub("%(.*", "(...)")))
  ngx.print(table.concat(out, "\n"))
end

return M
