-- Issue 16: a user's own vendor is files on the user's own package.path, and nothing else.
-- This spec writes a vendor `acme` into a temporary directory outside lua/ (a profile
-- mallapi/vendors/acme.lua built from mallapi.util and mallapi.paging, a mapping
-- mallapi/mappings/acme_order.lua), puts it on package.path, and proves with no engine
-- change that mallapi.client("acme", cfg) signs and calls a server on 127.0.0.1 (a
-- LuaSocket process started and stopped here, which checks the HMAC with luaossl),
-- client:each walks its pages with the shared paging rule, and mallapi.map maps its order.
local mallapi = require "mallapi"
local procs = require "support.procs"

local PROFILE = [==[
-- A user's vendor profile: the same contract as the shipped ones (doc/vendors.md).
local mallapi = require "mallapi"
local util = require "mallapi.util"
local paging = require "mallapi.paging"

local M = {
  name = "acme",
  credentials = { "key_id", "secret" },
  secrets = { "secret" },
  auth_codes = { "AUTH_FAILED" },
}

M.operations = {
  ["orders.list"] = { method = "GET", path = "orders", required = {}, paging = "page",
    limits = { { "per_page", min = 1, max = 50, doc = "acme docs" } } },
  ["orders.get"] = { method = "GET", path = "orders/{id}", required = { "id" } },
}

function M.api_path(_, path) return "/v1/" .. path end

-- X-Acme-Sign = hex HMAC-SHA256(secret, METHOD \n PATH \n QUERY \n TS)
function M.auth(req, cfg, c)
  local ts = util.text(math.floor(c:now_ms() / 1000))
  local text = req.method .. "\n" .. req.path .. "\n" .. util.query_string(req.query) .. "\n" .. ts
  req.headers["X-Acme-Key"] = cfg.key_id
  req.headers["X-Acme-Ts"] = ts
  req.headers["X-Acme-Sign"] = mallapi.crypto.hmac("sha256", cfg.secret, text, "hex")
  return true
end

function M.envelope(answer, _, c)
  if answer.ok == true then return util.data(answer.result) end
  local kind = util.is_auth_code(c, answer.error) and "AUTH" or "VENDOR"
  return nil, answer.error, answer.message, kind
end

M.paging = {
  page = paging.pages { page = "page", size = "per_page", default_size = 2, records = "items",
    total = "total" },
}

return M
]==]

local MAPPING = [==[
-- acme order <-> canonical order (a user's mapping file).
local status = { NEW = "pending_payment", PAID = "paid", SENT = "shipped" }
local status_out = { pending_payment = "NEW", paid = "PAID", shipped = "SENT" }
return {
  entity = "order",
  status = { order_status = status },
  to_canonical = {
    id = { "id", "id_string", required = true },
    order_no = { "number", required = true },
    status = { "state", enum = status, enum_default = "other" },
    total = { "amount_cents", "int" },
    currency = { const = "USD" },
  },
  from_canonical = {
    id = "id",
    number = "order_no",
    state = { "status", enum = status_out, enum_default = "NEW" },
    amount_cents = "total",
  },
}
]==]

-- The acme server: GET /v1/orders?page=&per_page= (5 orders) and GET /v1/orders/{id}, both
-- signed; a wrong signature answers {"ok":false,"error":"AUTH_FAILED"}. It reads its secret
-- from a file (no secrets on command lines), writes its port to a file, serves at most 100
-- connections and quits after 20 s without one.
local SERVER = [==[
local socket = require "socket"
local hmac = require "openssl.hmac"
local dir = arg[1]
local secret = assert(io.open(dir .. "/secret")):read("*l")
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local f = assert(io.open(dir .. "/port.tmp", "w")); f:write(port, "\n"); f:close()
os.rename(dir .. "/port.tmp", dir .. "/port")
srv:settimeout(20)

local function hex(s) return (s:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end
local function order(i)
  return string.format('{"id":%d,"number":"A-%03d","state":"PAID","amount_cents":%d}', i, i, i * 100)
end

for _ = 1, 100 do
  local conn = srv:accept()
  if not conn then break end
  conn:settimeout(5)
  local line = conn:receive("*l") or ""
  local headers = {}
  while true do
    local h = conn:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.*)$")
    if k then headers[k:lower()] = v end
  end
  local method, path, query = line:match("^(%u+) ([^?%s]*)%??(%S*) HTTP")
  local ts = headers["x-acme-ts"] or ""
  local want = hex(hmac.new(secret, "sha256"):final((method or "") .. "\n" .. (path or "") .. "\n"
    .. (query or "") .. "\n" .. ts))
  local body
  if headers["x-acme-key"] ~= "k1" or headers["x-acme-sign"] ~= want then
    body = '{"ok":false,"error":"AUTH_FAILED","message":"signature does not match"}'
  elseif path == "/v1/orders" then
    local page = tonumber(query:match("page=(%d+)")) or 1
    local per = tonumber(query:match("per_page=(%d+)")) or 2
    local items = {}
    for i = (page - 1) * per + 1, math.min(5, page * per) do
      items[#items + 1] = order(i):gsub("}$", ',"page":' .. page .. "}")
    end
    body = '{"ok":true,"result":{"total":5,"items":[' .. table.concat(items, ",") .. "]}}"
  elseif path and path:match("^/v1/orders/%d+$") then
    body = '{"ok":true,"result":' .. order(tonumber(path:match("(%d+)$"))) .. "}"
  else
    body = '{"ok":false,"error":"NOT_FOUND"}'
  end
  conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nConnection: close\r\n\r\n" .. body)
  conn:close()
end
]==]

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

describe("a user's own vendor from files outside lua/ (issue 16)", function()
  local dir, pid, base_url, saved_path

  setup(function()
    dir = procs.temp_dir("acme")
    assert(procs.sh("mkdir -p '" .. dir .. "/mallapi/vendors' '" .. dir .. "/mallapi/mappings'"))
    write(dir .. "/mallapi/vendors/acme.lua", PROFILE)
    write(dir .. "/mallapi/mappings/acme_order.lua", MAPPING)
    write(dir .. "/server.lua", SERVER)
    write(dir .. "/secret", "s3cret-acme\n")
    local rt = os.getenv("MALLAPI_RUNTIME")
    local bin = (rt == "luajit" or (rt == nil and rawget(_G, "jit"))) and "luajit" or "lua5.4"
    pid = procs.start_background(bin .. " '" .. dir .. "/server.lua' '" .. dir .. "'", dir .. "/server.log")
    local port
    for _ = 1, 500 do
      local f = io.open(dir .. "/port")
      port = f and f:read("*l")
      if f then f:close() end
      if port then break end
      os.execute("sleep 0.01")
    end
    assert(port, "the acme server did not start")
    base_url = "http://127.0.0.1:" .. port
    saved_path = package.path
    package.path = dir .. "/?.lua;" .. package.path
  end)

  teardown(function()
    package.path = saved_path
    package.loaded["mallapi.vendors.acme"], package.loaded["mallapi.mappings.acme_order"] = nil, nil
    if pid then procs.stop_pid(pid) end
    if dir then procs.remove_dir(dir) end
  end)

  local function client(secret)
    return mallapi.client("acme", { key_id = "k1", secret = secret or "s3cret-acme", base_url = base_url })
  end

  it("is listed with the shipped vendors and mappings", function()
    local vendors = table.concat(require("mallapi.client").vendors(), ",")
    assert.matches("acme", vendors)
    assert.matches("sobot", vendors)
    local names = table.concat(mallapi.map.names(), ",")
    assert.matches("acme.order", names, 1, true)
  end)

  it("mallapi.client signs and calls it; the server checks the signature", function()
    local c = client()
    local order, answer = c:call("orders.get", { id = 3 })
    assert.is_table(order, tostring(answer))
    assert.equal("A-003", order.number)
    assert.equal(300, order.amount_cents)
    assert.is_true(answer.ok)
  end)

  it("a refused signature is AUTH through the profile's auth_codes", function()
    local data, err, code, detail = client("wrong-secret"):call("orders.get", { id = 1 })
    assert.is_nil(data)
    assert.equal("AUTH", code)
    assert.equal("AUTH_FAILED", detail.vendor_code)
    assert.matches("acme orders.get", err, 1, true)
    assert.not_matches("wrong%-secret", err)
  end)

  it("caller mistakes and limits are checked as for the shipped vendors", function()
    local c = client()
    assert.has_error(function() c:call("orders.get", {}) end,
      "bad argument #2 to 'client:call' (acme orders.get: missing required parameter 'id')")
    assert.has_error(function() c:call("orders.lst") end)
    local data, err, code = c:call("orders.list", { per_page = 99 })
    assert.is_nil(data)
    assert.equal("INVALID", code)
    assert.matches("per_page", err)
  end)

  it("client:each walks every page with the shared paging rule", function()
    local ids, pages = {}, {}
    for record, err in client():each("orders.list") do
      assert.is_table(record, tostring(err))
      ids[#ids + 1] = record.id
      pages[record.page] = true
    end
    assert.same({ 1, 2, 3, 4, 5 }, ids)
    assert.same({ true, true, true }, pages)     -- 2 + 2 + 1: the short third page ends the walk
  end)

  it("mallapi.map finds acme.order by name and maps both ways", function()
    local c = client()
    local order = assert(c:call("orders.get", { id = 2 }))
    local canonical = assert(mallapi.map("acme.order", "canonical.order", order))
    assert.equal("2", canonical.id)
    assert.equal("A-002", canonical.order_no)
    assert.equal("paid", canonical.status)
    assert.equal(200, canonical.total)
    assert.equal("USD", canonical.currency)
    local back = assert(mallapi.map("canonical.order", "acme.order", canonical))
    assert.equal("A-002", back.number)
    assert.equal("PAID", back.state)
    assert.equal(200, back.amount_cents)
    assert.equal("paid", require("mallapi.mappings.acme_order").status.order_status.PAID)
  end)
end)
