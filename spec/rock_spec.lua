-- `luarocks make` builds and installs mallapi from the rockspec into a fresh tree,
-- and `require "mallapi"` works from that tree. Run under Lua 5.4 only (one build is enough).
if os.getenv("MALLAPI_RUNTIME") == "luajit" then return end

describe("luarocks", function()
  it("builds, installs and loads the module from the rockspec", function()
    local p = assert(io.popen("sh spec/support/rock_check.sh 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    assert.truthy(out:match("rc=0\n$"), out)
    assert.truthy(out:match("loaded mallapi ([%d%.]+)"), out)
  end)
end)
