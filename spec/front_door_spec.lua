-- What a new user meets first besides the command: the example scripts' --help and their
-- missing settings (exit 2, named), map.required listing a mapping's required source fields,
-- and store.file creating its directory (or refusing clearly at creation).
local cli = require "support.cli"
local mallapi = require "mallapi"

local function run_example(script, args, env)
  local lua = os.getenv("MALLAPI_RUNTIME") == "luajit" and "luajit" or "lua5.4"
  local rt = lua == "luajit" and "luajit" or "5.4"
  local e = { LUA_PATH = "lua/?.lua;lua/?/init.lua;;", LUA_CPATH = "build/" .. rt .. "/?.so;;" }
  for k, v in pairs(env or {}) do e[k] = v end
  local parts = { "env -u SHOPLUS_APP_KEY -u SHOPLUS_SECRET -u SOBOT_APPID -u SOBOT_APP_KEY -u SYNC_CONFIG" }
  for k, v in pairs(e) do parts[#parts + 1] = k .. "=" .. cli.quote(v) end
  local p = assert(io.popen(table.concat(parts, " ") .. " " .. lua .. " " .. script .. " " .. (args or "")
    .. " 2>&1 </dev/null; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  return out, tonumber(out:match("rc=(%d+)\n$"))
end

describe("examples/sync_orders.lua", function()
  it("--help prints the flags and every setting with its variable, exit 0", function()
    local out, rc = run_example("examples/sync_orders.lua", "--help")
    assert.equal(0, rc, out)
    assert.truthy(out:find("--dry-run", 1, true), out)
    assert.truthy(out:find("SHOPLUS_SECRET", 1, true), out)
  end)

  it("without settings names every missing one, exit 2, no traceback", function()
    local out, rc = run_example("examples/sync_orders.lua", "", { SHOPLUS_APP_KEY = "given" })
    assert.equal(2, rc, out)
    assert.truthy(out:find("missing settings: shoplus.secret (SHOPLUS_SECRET), sobot.appid (SOBOT_APPID)", 1, true),
      out)
    assert.falsy(out:find("shoplus.app_key", 1, true))
    assert.falsy(out:find("traceback", 1, true))
  end)

  it("an unknown argument exits 2", function()
    local out, rc = run_example("examples/sync_guanmai_hd.lua", "--bogus")
    assert.equal(2, rc, out)
    assert.truthy(out:find("unknown argument: --bogus", 1, true), out)
  end)
end)

describe("mallapi.map.required", function()
  it("lists the required source fields of a shipped mapping, nested ones with their path", function()
    local fields = mallapi.map.required("shoplus.order")
    for _, name in ipairs { "id", "orderNo", "orderItems[].quantity" } do
      local found = false
      for _, f in ipairs(fields) do found = found or f == name end
      assert.is_true(found, name .. " in " .. table.concat(fields, ","))
    end
    assert.truthy(table.concat(mallapi.map.required("sobot.store"), ","):find("store_id|storeid", 1, true))
  end)

  it("every shipped mapping answers a list; an unknown one nil; a bad name raises", function()
    for _, name in ipairs(mallapi.map.names()) do assert.is_table(mallapi.map.required(name), name) end
    assert.is_nil(mallapi.map.required("nosuch.thing"))
    assert.has_error(function() mallapi.map.required(42) end)
  end)
end)

describe("mallapi.store.file", function()
  it("creates its directory, nested, when missing", function()
    local base = os.tmpname()
    os.remove(base)
    local dir = base .. "/a b/c"
    local store = assert(mallapi.store.file(dir))
    assert.truthy(store:set("k", "v", 60))
    assert.equal("v", (store:get("k")))
    os.execute("rm -rf " .. cli.quote(base))
  end)

  it("refuses a directory it cannot create, by name, at creation", function()
    local store, err, code = mallapi.store.file("/proc/no-such-dir/x")
    assert.is_nil(store)
    assert.truthy(err:find("/proc/no-such-dir/x", 1, true), err)
    assert.equal("IO", code)
  end)
end)
