-- The rock: `luarocks make` (through spec/support/rock_build.sh, as `make rock` does) builds and
-- installs mallapi into a fresh tree for the runtime of this run (Lua 5.4, or LuaJIT through
-- --lua-version=5.1 LUA_INCDIR=/usr/include/luajit-2.1), leaves no object file in src/, and the
-- installed `mallapi` command and `require "mallapi"` work from outside the repository.
local cli = require "support.cli"

local rt = os.getenv("MALLAPI_RUNTIME") == "luajit" and "luajit" or "5.4"
local luaver = rt == "luajit" and "5.1" or "5.4"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  return out, tonumber(out:match("rc=(%d+)\n$"))
end

describe("the rock (" .. rt .. ")", function()
  local tree, env, outside

  setup(function()
    tree = assert(io.popen("mktemp -d /tmp/mallapi-rock.XXXXXX")):read("*l")
    outside = assert(io.popen("mktemp -d /tmp/mallapi-outside.XXXXXX")):read("*l")
    local out, rc = sh("sh spec/support/rock_build.sh " .. rt .. " " .. tree .. "/tree")
    assert.equal(0, rc, out)
    -- the paths `luarocks path` gives for that tree
    env = {
      LUA_PATH = tree .. "/tree/share/lua/" .. luaver .. "/?.lua;"
        .. tree .. "/tree/share/lua/" .. luaver .. "/?/init.lua;;",
      LUA_CPATH = tree .. "/tree/lib/lua/" .. luaver .. "/?.so;;",
    }
  end)

  teardown(function()
    os.execute("rm -rf " .. cli.quote(tree) .. " " .. cli.quote(outside))
  end)

  it("leaves no object file in src/", function()
    local out = sh("ls src/*.o 2>/dev/null | wc -l")
    assert.equal("0", out:match("^%s*(%d+)"))
  end)

  it("loads mallapi from the installed tree", function()
    local lua = rt == "luajit" and "luajit" or "lua5.4"
    local out, rc = sh("cd " .. cli.quote(outside) .. " && env LUA_PATH=" .. cli.quote(env.LUA_PATH)
      .. " LUA_CPATH=" .. cli.quote(env.LUA_CPATH) .. " " .. lua
      .. " -e 'local m = require \"mallapi\"; print(\"loaded \" .. m.version, "
      .. "package.searchpath(\"mallapi.core\", package.cpath))'")
    assert.equal(0, rc, out)
    assert.truthy(out:find("loaded " .. require("mallapi").version, 1, true), out)
    assert.truthy(out:find(tree, 1, true), out)
  end)

  it("installs the mallapi command: --help, ops and a dry-run call from outside the checkout", function()
    local opts = { command = cli.quote(tree .. "/tree/bin/mallapi"), dir = outside }
    local out, err, rc = cli.run({ "--help" }, env, opts)
    assert.equal(0, rc, err)
    for _, cmd in ipairs { "ops", "call", "sync", "sandbox" } do
      assert.truthy(out:find("\n  " .. cmd .. " ", 1, true), out)
    end
    out, err, rc = cli.run({ "ops", "sobot" }, env, opts)
    assert.equal(0, rc, err)
    assert.truthy(out:find("orders/add", 1, true), out)
    local secret = "rock-spec-secret-value"
    out, err, rc = cli.run({ "call", "shoplus", "Order.list", "--param", "limit=1", "--dry-run" },
      { LUA_PATH = env.LUA_PATH, LUA_CPATH = env.LUA_CPATH, MALLAPI_SHOPLUS_APP_KEY = "app",
        MALLAPI_SHOPLUS_SECRET = secret }, opts)
    assert.equal(0, rc, err)
    assert.truthy(out:find("POST https://", 1, true), out)
    assert.falsy(out:find(secret, 1, true))
    local wrapper = assert(io.open(tree .. "/tree/bin/mallapi")):read("*a")
    assert.truthy(wrapper:find(rt == "luajit" and "/usr/bin/luajit" or "/usr/bin/lua5.4", 1, true), wrapper)
  end)

  it("packs as a binary rock (luarocks pack)", function()
    local out, rc = sh("cd " .. cli.quote(outside) .. " && luarocks --lua-version=" .. luaver .. " --tree "
      .. cli.quote(tree .. "/tree") .. " pack mallapi")
    assert.equal(0, rc, out)
    assert.truthy(out:match("Packed: %S+mallapi%-0%.1%.0%-1%.linux%-[%w_]+%.rock"), out)
  end)

  it("ships the sandbox: mallapi sandbox starts it from the installed tree and stops it", function()
    local opts = { command = cli.quote(tree .. "/tree/bin/mallapi"), dir = outside }
    local out, err, rc = cli.run({ "sandbox", "--duration-s", "1" }, env, opts)
    assert.equal(0, rc, err .. out)
    assert.truthy(out:match("shoplus%s+http://127%.0%.0%.1:%d+/open%-api"), out)
    assert.truthy(out:find("sandbox stopped", 1, true), out)
  end)
end)
