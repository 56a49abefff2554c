-- mallapi.metrics: the fleet's state in the Prometheus text exposition format (0.0.4).
-- Per job: the last run's status, records read/sent/dead, duration and lag; per vendor:
-- requests, errors by code, 429 slow-downs and rate-limit waits; the queue's depth.
-- Everything is read from the fleet's Redis, so any worker (or the OpenResty side)
-- shows the whole fleet. Served by `mallapi worker --metrics 127.0.0.1:PORT`
-- (M.serve: LuaSocket, polled by the supervisor) or an OpenResty `location /metrics`
-- (M.ngx_handler). See doc/fleet.md.
local type, tostring, ipairs, pairs, tonumber, error = type, tostring, ipairs, pairs, tonumber, error
local concat, string_format, table_sort = table.concat, string.format, table.sort

local M = {}

local function escape(v) return (tostring(v):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"')) end

local function value_text(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" elseif v == -math.huge then return "-Inf" end
  if v == math.floor(v) and v > -1e15 and v < 1e15 then return string_format("%d", v) end
  return string_format("%.17g", v)
end

-- families: { { name=, help=, type = "gauge"|"counter", samples = { { labels = {k=v}, value = n } } } }
function M.render(families)
  if type(families) ~= "table" then error("bad argument #1 to 'metrics.render' (families table expected)", 2) end
  local out = {}
  for _, f in ipairs(families) do
    out[#out + 1] = "# HELP " .. f.name .. " " .. f.help:gsub("\\", "\\\\"):gsub("\n", "\\n")
    out[#out + 1] = "# TYPE " .. f.name .. " " .. f.type
    for _, s in ipairs(f.samples) do
      local keys = {}
      for k in pairs(s.labels or {}) do keys[#keys + 1] = k end
      table_sort(keys)
      local parts = {}
      for i, k in ipairs(keys) do parts[i] = k .. '="' .. escape(s.labels[k]) .. '"' end
      out[#out + 1] = f.name .. (#parts > 0 and "{" .. concat(parts, ",") .. "}" or "") .. " " .. value_text(s.value)
    end
  end
  return concat(out, "\n") .. "\n"
end

local STATUSES = { "ok", "dead_letters", "failed", "requeued", "gone" }

-- The families for one mallapi.fleet (reads its Redis).
function M.fleet_families(fleet)
  local jobs, err, code = fleet:list()
  if not jobs then return nil, err, code end
  local function fam(name, kind, help) return { name = name, type = kind, help = help, samples = {} } end
  local f = {
    status = fam("mallapi_job_last_status", "gauge", "1 for the status of the job's last run"),
    read = fam("mallapi_job_last_read_records", "gauge", "records read by the job's last run"),
    sent = fam("mallapi_job_last_sent_records", "gauge", "records sent by the job's last run"),
    dead = fam("mallapi_job_last_dead_records", "gauge", "records dead-lettered by the job's last run"),
    retries = fam("mallapi_job_last_retries", "gauge", "retried steps (requests, pages, saves) in the job's last run"),
    duration = fam("mallapi_job_last_duration_seconds", "gauge", "duration of the job's last run"),
    lag = fam("mallapi_job_last_lag_seconds", "gauge", "delay between the run's due time and its start"),
    runs = fam("mallapi_job_runs_total", "counter", "runs of the job finished"),
    paused = fam("mallapi_job_paused", "gauge", "1 when the job is paused"),
  }
  local function add(which, labels, v) local s = f[which].samples; s[#s + 1] = { labels = labels, value = v } end
  for _, j in ipairs(jobs) do
    local l = { job = j.id }
    if j.status then
      for _, st in ipairs(STATUSES) do
        add("status", { job = j.id, status = st }, j.status == st and 1 or 0)
      end
      add("read", l, j.read or 0); add("sent", l, j.sent or 0); add("dead", l, j.dead or 0)
      add("retries", l, j.retries or 0)
      add("duration", l, (j.duration_ms or 0) / 1000); add("lag", l, (j.lag_ms or 0) / 1000)
    end
    add("runs", l, j.runs or 0); add("paused", l, j.paused and 1 or 0)
  end
  local out = { f.status, f.read, f.sent, f.dead, f.retries, f.duration, f.lag, f.runs, f.paused }
  local v = {
    requests = fam("mallapi_vendor_requests_total", "counter", "requests sent to the vendor by fleet workers"),
    errors = fam("mallapi_vendor_errors_total", "counter", "failed requests by error code"),
    throttled = fam("mallapi_vendor_throttled_total", "counter", "429 answers (each slows the bucket down)"),
    waits = fam("mallapi_vendor_rate_waits_total", "counter", "requests that waited for the rate limit"),
    wait_s = fam("mallapi_vendor_rate_wait_seconds_total", "counter", "time spent waiting for the rate limit"),
  }
  for _, vendor in ipairs(fleet:vendors() or {}) do
    local c, l = vendor.counters, { vendor = vendor.name }
    local function vadd(which, labels, n) local s = v[which].samples; s[#s + 1] = { labels = labels, value = n } end
    vadd("requests", l, c.requests or 0); vadd("throttled", l, c.throttled or 0)
    vadd("waits", l, c.rate_waits or 0); vadd("wait_s", l, (c.rate_wait_ms or 0) / 1000)
    for k, n in pairs(c) do
      local ecode = type(k) == "string" and k:match("^errors_(.+)$")
      if ecode then vadd("errors", { vendor = vendor.name, code = ecode }, tonumber(n) or 0) end
    end
  end
  for _, k in ipairs({ "requests", "errors", "throttled", "waits", "wait_s" }) do out[#out + 1] = v[k] end
  local q = fleet:queue_stats()
  local queue = fam("mallapi_fleet_runs", "gauge", "runs scheduled, and handed out but not yet acked")
  queue.samples = { { labels = { state = "scheduled" }, value = q.scheduled },
    { labels = { state = "pending" }, value = q.pending } }
  out[#out + 1] = queue
  return out
end

function M.fleet_text(fleet)
  local fams, err, code = M.fleet_families(fleet)
  if not fams then return nil, err, code end
  return M.render(fams)
end

-- A listening LuaSocket server on "host:port" (127.0.0.1 by default), polled with
-- server:poll(timeout_s): answers one GET per call with text() (a function).
function M.serve(address, text)
  if type(address) ~= "string" then error("bad argument #1 to 'metrics.serve' (\"host:port\" expected)", 2) end
  local host, port = address:match("^([^:]*):(%d+)$")
  if not host then error("bad argument #1 to 'metrics.serve' (\"host:port\" expected)", 2) end
  local socket = require "socket"
  local server, err = socket.bind(host ~= "" and host or "127.0.0.1", tonumber(port))
  if not server then return nil, "metrics: cannot listen on " .. address .. ": " .. tostring(err), "SYSTEM" end
  local srv = { socket = server, port = select(2, server:getsockname()) }
  function srv.poll(_, timeout_s)
    server:settimeout(timeout_s or 0)
    local c = server:accept()
    if not c then return false end
    c:settimeout(2)
    local line = c:receive("*l") or ""
    repeat local h = c:receive("*l") until not h or h == ""
    local body, status = "not found\n", "404 Not Found"
    if line:match("^GET /metrics") or line:match("^GET / ") then
      local ok, t, terr = pcall(text)
      if ok and t then body, status = t, "200 OK"
      else body, status = "metrics: " .. tostring(ok and terr or t) .. "\n", "503 Service Unavailable" end
    end
    c:send("HTTP/1.1 " .. status .. "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " .. #body
      .. "\r\nConnection: close\r\n\r\n" .. body)
    c:close()
    return true
  end
  function srv.close() server:close() end
  return srv
end

-- OpenResty: `content_by_lua_block { require("mallapi.metrics").ngx_handler(fleet_or_fn) }`
-- where fleet_or_fn is a mallapi.fleet (with the cosocket option) or a function returning text.
function M.ngx_handler(source)
  local text, err
  if type(source) == "function" then text, err = source() else text, err = M.fleet_text(source) end
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"  -- luacheck: ignore 122
  if not text then
    ngx.status = 503                                      -- luacheck: ignore 122
    ngx.say("metrics: ", tostring(err))
    return
  end
  ngx.print(text)
end

return M
