-- Issue 13 item 5: token faults. One HTTP 500 from the Sobot token API was reported as
-- AUTH (fatal: a sync stopped), and after an invalid-token answer the single retry reused
-- the store's token although it was dead too. Against a Sobot stand-in on 127.0.0.1
-- (nginx): the token API fails on demand, and the data API accepts only the last token.
local mallapi = require "mallapi"
local nginx = require "support.nginx"
local sync = require "mallapi.sync"
local socket_http = require "socket.http"

local CONF = [[
lua_shared_dict sobot 1m;
server {
  listen 127.0.0.1:$PORT;
  default_type application/json;
  location = /api/get_token {
    content_by_lua_block {
      local d = ngx.shared.sobot
      d:incr("token_requests", 1, 0)
      if (d:get("fail") or 0) > 0 then
        d:incr("fail", -1)
        ngx.status = tonumber(d:get("fail_status")) or 500
        return ngx.say('{"ret_code":"999999","ret_msg":"token service down"}')
      end
      local n = d:incr("issued", 1, 0)
      d:set("current", "tok-" .. n)
      ngx.say('{"ret_code":"000000","ret_msg":"ok","item":{"token":"tok-' .. n .. '","expires_in":86400}}')
    }
  }
  location /zk-data-adapter/ {
    content_by_lua_block {
      local d = ngx.shared.sobot
      d:incr("data_requests", 1, 0)
      if ngx.var.http_token ~= d:get("current") then
        return ngx.say('{"retCode":"900001","retMsg":"token invalid"}')
      end
      ngx.say('{"retCode":"000000","retMsg":"ok","data":{"data":[],"page_count":0}}')
    }
  }
  location = /admin {
    content_by_lua_block {
      local d, a = ngx.shared.sobot, ngx.req.get_uri_args()
      if a.fail then d:set("fail", tonumber(a.fail)) end
      if a.fail_status then d:set("fail_status", a.fail_status) end
      if a.current then d:set("current", a.current) end
      ngx.say(d:get(a.get or "none") or 0)
    }
  }
}
]]

describe("token faults", function()
  local srv

  setup(function() srv = nginx.start { http = CONF } end)
  teardown(function() if srv then srv:stop() end end)

  local function admin(q) return tonumber((socket_http.request(srv:url("/admin?" .. q)))) end

  local function client(store)
    return mallapi.client("sobot", { appid = "app1", app_key = "sobot-SECRET-key-1", base_url = srv:url(""),
      token_store = store or mallapi.store.memory(), timeout = 5, http = { retry = false } })
  end

  for _, status in ipairs { 500, 502, 503, 429 } do
    it("HTTP " .. status .. " from the token API is HTTP and retryable, not AUTH", function()
      admin("fail=1&fail_status=" .. status)
      local c = client()
      local data, err, code, detail = c:call("items/get", { page_no = 1, page_size = 5 })
      assert.is_nil(data)
      assert.equal("HTTP", code)
      assert.matches("sobot get_token: HTTP " .. status, err, 1, true)
      assert.is_true(detail.retryable)
      assert.equal("retry", sync.classify(code, detail))
      -- the next call fetches and succeeds
      assert.is_table((c:call("items/get", { page_no = 1, page_size = 5 })))
    end)
  end

  it("a token API that cannot be reached is a retryable transport fault", function()
    local c = mallapi.client("sobot", { appid = "app1", app_key = "k", base_url = "http://127.0.0.1:1",
      timeout = 2, http = { retry = false } })
    local data, _, code, detail = c:call("items/get", { page_no = 1, page_size = 5 })
    assert.is_nil(data)
    assert.equal("CONNECT", code)
    assert.is_true(detail.retryable)
    assert.equal("retry", sync.classify(code, detail))
  end)

  it("a sync stops on token API 500s (the runner never resends) and the next runs sync every record", function()
    admin("fail=2&fail_status=500")
    local c = client()
    local sent, store, stopped = 0, mallapi.store.memory(), 0
    local function run()
      return sync.run { name = "tf", source = { { id = 1 }, { id = 2 }, { id = 3 } }, output = false,
        state = store, batch = 1,
        sink = function()
          local data, err, code, detail = c:call("items/get", { page_no = 1, page_size = 5 })
          if data == nil then return nil, err, code, detail end
          sent = sent + 1
          return true
        end }
    end
    local summary, err = run()
    while not summary and stopped < 5 do          -- bounded: each stop keeps the checkpoint
      assert.matches("HTTP 500", err)
      stopped = stopped + 1
      summary, err = run()
    end
    assert.equal("ok", summary.status)
    assert.is_true(stopped >= 1)
    assert.equal(3, sent)
  end)

  it("after an invalid-token answer, an older dead token in the store is not reused: a fresh one is fetched",
     function()
    local store = mallapi.store.memory()
    local c = client(store)
    assert.is_table((c:call("items/get", { page_no = 1, page_size = 5 })))   -- fetched tok-N, cached
    local mine = c.token.cache
    -- the store holds an older token (an earlier generation), dead as well; the vendor revokes ours
    local older = { token = "tok-old-dead", fetched_at = mine.fetched_at - 1000, expires_at = mine.expires_at,
                    generation = mine.generation - 1, source = "pid 1" }
    assert(store:set("sobot:app1", mallapi.token.encode_record(older), 60000))
    admin("current=tok-revoked")
    local issued = admin("get=issued")
    local data, answer, code = c:call("items/get", { page_no = 1, page_size = 5 })
    assert.is_table(data, tostring(answer) .. " " .. tostring(code))
    assert.equal(issued + 1, admin("get=issued"))           -- one fresh fetch
  end)

  it("a newer token in the store (another caller refreshed) is tried once, with no fetch", function()
    local store = mallapi.store.memory()
    local c = client(store)
    assert.is_table((c:call("items/get", { page_no = 1, page_size = 5 })))
    local mine = c.token.cache
    local newer = { token = "tok-newer", fetched_at = mine.fetched_at + 1000, expires_at = mine.expires_at + 1000,
                    generation = mine.generation + 1, source = "pid 2" }
    assert(store:set("sobot:app1", mallapi.token.encode_record(newer), 60000))
    admin("current=tok-newer")
    local issued = admin("get=issued")
    local data, answer, code = c:call("items/get", { page_no = 1, page_size = 5 })
    assert.is_table(data, tostring(answer) .. " " .. tostring(code))
    assert.equal(issued, admin("get=issued"))                -- no fetch: the store's newer token worked
  end)
end)
