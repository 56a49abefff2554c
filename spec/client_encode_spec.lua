-- Issue 13 item 4: a parameter that cannot be JSON-encoded (NaN, a cycle, invalid UTF-8)
-- made the Guanmai, Hd and Babycare clients sign and send a POST with no body (and `call`
-- reported success), and Shoplus raised about opts.data_json, an option never passed.
-- Every vendor now returns nil, "<vendor> <op>: parameter 'name': why", "INVALID" and sends
-- nothing: asserted against a real server on 127.0.0.1 that logs every request it reads.
local mallapi = require "mallapi"
local F = require "support.vendor_fixtures"
local examples = require "support.examples"
local server = require "support.http_server"

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = type(v) == "table" and copy(v) or v end
  return out
end

-- vendor, a POST operation
local OPS = {
  { "guanmai", "order/delete" }, { "hd", "saleorder" }, { "babycare", "order/sales/createV2" },
  { "shoplus", "products.detail" }, { "sobot", "stores/get" },
}

local cycle = {}
cycle.self = cycle

-- name, bad value, the reason in the message, the parameter named
local BAD = {
  { "NaN", 0 / 0, "cannot encode NaN", "remark" },
  { "infinity", math.huge, "cannot encode inf", "remark" },
  { "cycle", cycle, "cycle", "remark.self" },
  { "invalid UTF-8", "ab\255", "invalid UTF-8 in string", "remark" },
}

describe("client body encoding", function()
  local srv

  setup(function() srv = server.start() end)
  teardown(function() if srv then srv:stop() end end)

  local function client(vendor)
    return mallapi.client(vendor, F.cfg(vendor, { base_url = srv:url("/status/200"), timeout = 5,
                                                  http = { retry = false } }))
  end

  for _, op in ipairs(OPS) do
    local vendor, opname = op[1], op[2]
    for _, bad in ipairs(BAD) do
      it(vendor .. " " .. opname .. ": " .. bad[1] .. " in a parameter is INVALID and nothing is sent", function()
        srv:clear_log()
        local c = client(vendor)
        local params = copy(examples[vendor][opname])
        params.remark = bad[2]
        local want = vendor .. " " .. opname .. ": parameter '" .. bad[4] .. "': " .. bad[3]
        local req, err, code = c:prepare(opname, params)
        assert.is_nil(req)
        assert.equal(want, err)
        assert.equal("INVALID", code)
        local data, cerr, ccode = c:call(opname, params)
        assert.is_nil(data)
        assert.equal(want, cerr)
        assert.equal("INVALID", ccode)
        -- the server saw nothing; a good call afterwards is seen (the log does count)
        c:call(opname, examples[vendor][opname])
        local _, lines = srv:connections(nil, 1)
        assert.equal(1, lines)
      end)
    end
  end

  it("a nested parameter is named by its path", function()
    local c = client("guanmai")
    local _, err, code = c:prepare("order/delete", { order_id = "PL1", items = { { price = 0 / 0 } } })
    assert.equal("guanmai order/delete: parameter 'items[1].price': cannot encode NaN", err)
    assert.equal("INVALID", code)
  end)
end)
