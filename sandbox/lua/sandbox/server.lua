-- Entry point of every sandbox request (content_by_lua in each vendor's server block): the
-- loopback-only control endpoints under /_sandbox/, the fault knobs, then the vendor module.
-- A vendor module provides handle(req) -> status, answer table [, headers], error_body(status,
-- msg), entities {name = key member} for seeding, and optionally pre(req) (requests it serves
-- before the faults, e.g. Sobot's token API) and expire_token().
-- luacheck: globals ngx
local json = require "sandbox.json"
local store = require "sandbox.store"

local M = {}

local function send(status, answer, headers)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.print(type(answer) == "string" and answer or json.encode(answer))
  return ngx.exit(ngx.HTTP_OK)
end
M.send = send

-- The raw request body (also when nginx kept it in a temp file).
function M.read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if not file then return "" end
  local f = io.open(file, "rb")
  if not f then return "" end
  body = f:read("*a")
  f:close()
  return body
end

local NUMERIC_KNOBS = { latency_ms = true, error_rate = true, rate_limit = true, drop_next = true,
  fail_token = true, retry_after = true, error_status = true, token_ttl = true, token_latency_ms = true,
  ts_window = true, truncate_next = true }

local function control(vendor, mod, action)
  local addr = ngx.var.remote_addr
  if addr ~= "127.0.0.1" and addr ~= "::1" then
    return send(403, { error = "control endpoints are loopback only" })
  end
  local body = M.read_body()
  local args = body ~= "" and json.decode(body) or {}
  if type(args) ~= "table" then return send(400, { error = "body is not a JSON object" }) end
  if action == "knob" then
    local name, value = args.name, args.value
    if name == "expire_token" then
      if not mod.expire_token then return send(400, { error = "expire_token: not a token vendor" }) end
      mod.expire_token()
      return send(200, { ok = true })
    end
    if not NUMERIC_KNOBS[name] then return send(400, { error = "unknown knob: " .. tostring(name) }) end
    if value ~= nil and value ~= json.null and type(value) ~= "number" then
      return send(400, { error = "knob " .. name .. " takes a number" })
    end
    store.set_knob(vendor, name, value)
    if name == "error_rate" then ngx.shared.sandbox:delete("seq\0" .. vendor .. "\0error_counter") end
    return send(200, { ok = true })
  elseif action == "seed" then
    local entity, records = args.entity, args.records
    local key = mod.entities[entity or ""]
    if not key then return send(400, { error = "unknown entity: " .. tostring(entity) }) end
    if type(records) ~= "table" then return send(400, { error = "records must be an array" }) end
    for i, rec in ipairs(records) do
      local id = json.text(rec[key])
      if not id and mod.auto_keys and mod.auto_keys[entity] then   -- rows without a natural key
        rec[key] = store.next(vendor, "seed_" .. entity)
        id = json.text(rec[key])
      end
      if not id then return send(400, { error = "record " .. i .. " has no " .. key }) end
      store.put(vendor, entity, id, rec)
    end
    return send(200, { ok = true, count = #records })
  elseif action == "dump" then
    local entity = ngx.var.arg_entity or args.entity
    if not mod.entities[entity or ""] then return send(400, { error = "unknown entity: " .. tostring(entity) }) end
    local records = json.array(store.list(vendor, entity))
    return send(200, { records = records })
  elseif action == "reset" then
    store.reset(vendor)
    return send(200, { ok = true })
  elseif action == "stats" then
    local busiest, now = 0, math.floor(ngx.now())
    for s = now - 600, now do busiest = math.max(busiest, store.kv_get(vendor, "rps\0" .. s) or 0) end
    return send(200, { requests = store.kv_get(vendor, "requests") or 0,
                       token_fetches = store.kv_get(vendor, "token_fetches") or 0,
                       max_per_second = busiest, order_adds = store.kv_get(vendor, "order_adds") or 0 })
  end
  return send(404, { error = "unknown control action: " .. action })
end

-- error_rate r in [0,1]: request n fails when floor(n*r) > floor((n-1)*r), so exactly
-- round-down(n*r) of the first n requests fail, the same way on every run.
local function injected_error(vendor)
  local rate = store.knob(vendor, "error_rate")
  if not rate or rate <= 0 then return false end
  local n = store.next(vendor, "error_counter")
  return math.floor(n * rate + 1e-9) > math.floor((n - 1) * rate + 1e-9)
end

function M.handle(vendor)
  local mod = require("sandbox." .. vendor)
  local uri = ngx.var.uri
  if uri:sub(1, 10) == "/_sandbox/" then return control(vendor, mod, uri:sub(11)) end
  local req = {
    vendor = vendor,
    method = ngx.req.get_method(),
    uri = uri,
    path = (ngx.var.request_uri or uri):match("^[^?]*"),
    raw_query = ngx.var.args or "",
    headers = ngx.req.get_headers(),
    body = M.read_body(),
  }
  if mod.pre and mod.pre(req) then return end
  ngx.shared.sandbox:incr("kv\0" .. vendor .. "\0requests", 1, 0)
  ngx.update_time()                                       -- requests per wall-clock second (fleet rate spec)
  ngx.shared.sandbox:incr("kv\0" .. vendor .. "\0rps\0" .. math.floor(ngx.now()), 1, 0, 900)
  if store.take(vendor, "drop_next") then return ngx.exit(444) end
  local latency = store.knob(vendor, "latency_ms")
  if latency and latency > 0 then ngx.sleep(latency / 1000) end
  if store.take(vendor, "rate_limit") then
    return send(429, mod.error_body(429, "too many requests"),
                { ["Retry-After"] = tostring(store.knob(vendor, "retry_after") or 1) })
  end
  if injected_error(vendor) then
    local status = store.knob(vendor, "error_status") or 500
    return send(status, mod.error_body(status, "sandbox injected server error"))
  end
  local status, answer, headers = mod.handle(req)
  if store.take(vendor, "truncate_next") then            -- promise the whole body, send half, close
    local text = json.encode(answer)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    ngx.header["Content-Length"] = #text
    ngx.print(text:sub(1, math.floor(#text / 2)))
    ngx.flush(true)
    return ngx.exit(444)
  end
  return send(status, answer, headers)
end

return M
