-- bench/sandbox.lua (run by bench/sandbox.sh): wrk for 2 s per case against the sandbox
-- (Sobot stores/get over 100 stored stores, page of 10; a signed Shoplus products.detail)
-- and against the peer, a bare content_by_lua answering a fixed JSON text. Prints req/s
-- and the ratio sandbox/peer. Servers on 127.0.0.1, stopped by PID at the end.
local sandbox = require "sandbox.launch"
local nginx = require "support.nginx"
local C = require "support.sandbox_client"
local json = require "sandbox.json"

local function wrk(url, method, body, headers)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("wrk.method = ", string.format("%q", method), "\n")
  if body then f:write("wrk.body = ", string.format("%q", body), "\n") end
  f:write('wrk.headers["Content-Type"] = "application/json"\n')
  for k, v in pairs(headers or {}) do
    f:write("wrk.headers[", string.format("%q", k), "] = ", string.format("%q", v), "\n")
  end
  f:close()
  local p = assert(io.popen("taskset -c 1 wrk -t1 -c8 -d2s -s " .. script .. " '" .. url .. "' 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  local non2xx = out:match("Non%-2xx or 3xx responses: (%d+)")
  assert(not non2xx, "wrk saw errors: " .. out)
  return assert(tonumber(out:match("Requests/sec:%s+([%d%.]+)")), out)
end

local sb = sandbox.start {}
local peer = nginx.start { http = [[
  server { listen 127.0.0.1:$PORT; location / { content_by_lua_block {
    ngx.req.read_body()
    ngx.header["Content-Type"] = "application/json"
    ngx.print('{"retCode":"000000","retMsg":"Operation succeeded","data":{"page_no":1,"data":[]}}')
  } } }
]] }

local ok, err = pcall(function()
  local _, t = C.sobot_token(sb.urls.sobot, sb.credentials.sobot)
  local token = t.item.token
  local stores = {}
  for i = 1, 100 do
    stores[i] = { storeid = "S" .. i, store_name = "store " .. i, status = 1, create_time = "1646233461000",
                  update_time = "1646233461000", delete_flag = 0 }
  end
  assert(C.sobot(sb.urls.sobot, token, "stores/add", { store_list = stores }))
  local _, p = C.shoplus(sb.urls.shoplus, sb.credentials.shoplus, "products.add", { title = "bench" })
  local detail = C.shoplus_request(sb.credentials.shoplus, "products.detail", '{"id":' .. json.text(p.data.id) .. '}')
  local cases = {
    { "sobot stores/get (page 10 of 100)", sb.urls.sobot .. "/zk-data-adapter/api/data/v1/stores/get",
      '{"timestamp":"1700000000000","nonce":"n","page_no":2,"page_size":10}', { token = token } },
    { "shoplus products.detail (signed)", sb.urls.shoplus, require("cjson").encode(detail), {} },
  }
  print(string.format("%-36s %12s   %-28s %12s   %s", "case", "sandbox", "peer", "peer", "ratio"))
  for _, c in ipairs(cases) do
    local ours = wrk(c[2], "POST", c[3], c[4])
    local theirs = wrk(peer:url("/"), "POST", c[3], c[4])
    print(string.format("%-36s %10.0f/s   %-28s %10.0f/s   %.2f", c[1], ours, "bare content_by_lua", theirs,
      ours / theirs))
  end
end)
sb:stop()
peer:stop()
assert(ok, err)
