-- The version lives in src/mallapi.h; the module and the rockspec must agree with it,
-- and the rockspec must list every C source and Lua module of the tree.
local mallapi = require "mallapi"

local read = require("support.files").read

local function lines_of(cmd)
  local out, p = {}, assert(io.popen(cmd))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function load_rockspec()
  local name = lines_of("ls *.rockspec")
  assert.equal(1, #name, "exactly one rockspec at the top")
  local env = {}
  local chunk = assert(load(read(name[1]), name[1], "t", env))
  if setfenv then setfenv(chunk, env) end
  chunk()
  return env, name[1]
end

describe("version", function()
  local header_version = read("src/mallapi.h"):match('#define MALLAPI_VERSION "([^"]+)"')

  it("is exposed by the module and equals the header's", function()
    assert.is_string(header_version)
    assert.equal(header_version, mallapi.version)
    assert.equal(header_version, require("mallapi.core").version)
  end)

  it("agrees with the rockspec's version and file name", function()
    local rock, file = load_rockspec()
    assert.equal(header_version .. "-1", rock.version)
    assert.equal("mallapi-" .. rock.version .. ".rockspec", file)
  end)

  it("rockspec lists every C source and every Lua module", function()
    local rock = load_rockspec()
    local listed = {}
    for _, src in ipairs(rock.build.modules["mallapi.core"].sources) do listed[src] = true end
    for _, src in ipairs(lines_of("ls src/*.c")) do
      assert.is_true(listed[src] == true, src .. " missing from the rockspec")
    end
    local lua_listed = {}
    for name, path in pairs(rock.build.modules) do
      if type(path) == "string" then lua_listed[path] = name end
    end
    for _, path in ipairs(lines_of("find lua -name '*.lua' | sort")) do
      local modname = path:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", ".")
      assert.equal(modname, lua_listed[path], path .. " missing from the rockspec")
    end
  end)
end)
