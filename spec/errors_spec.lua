-- One list of error codes: every code the Lua and C sources produce is in
-- mallapi.errors (and src/errors.h, and doc/errors.md), and every listed code is produced
-- somewhere. A code is an upper-case string literal in an engine, vendor or C file; the
-- literals that are not codes (HTTP methods, Redis words, webhook verdicts, ...) are named
-- here once, so a new literal must be either a listed code or a listed non-code.
local errors = require "mallapi.errors"

local NOT_CODES = {}
for word in ([[
  GET POST PUT PATCH HEAD DELETE OPTIONS TRACE METHOD
  SELECT EVAL DEL SET NX PX HSET HGETALL HKEYS SADD SREM SMEMBERS RPUSH ZADD ZCOUNT ZREM ZSCORE
  XAUTOCLAIM XCLAIM XGROUP XLEN XPENDING XREADGROUP COUNT CREATE GROUP BLOCK STREAMS MKSTREAM
  JUSTID BUSYGROUP KEYS
  TERM INT OK MISMATCH UNSIGNED HEX HMAC TRUE FALSE NUMBER MALLSEEN MALLAPI_REDIS CNY
]]):gmatch("%S+") do NOT_CODES[word] = true end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function files(cmd)
  local list, p = {}, assert(io.popen(cmd))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

-- upper-case literals of a source text, comments removed: { CODE = "file", ... }
local function literals(found, path, text, c)
  if c then
    text = text:gsub("/%*.-%*/", " "):gsub("//[^\n]*", " ")
  else
    text = text:gsub("%-%-%[%[.-%]%]", " "):gsub("%-%-[^\n]*", " ")
  end
  for word in text:gmatch('"([A-Z][A-Z_]+)"') do found[word] = found[word] or path end
end

local function produced()
  local found = {}
  for _, path in ipairs(files("find lua/mallapi -name '*.lua' ! -path '*/cli/*' ! -path '*/mappings/*'"
                              .. " ! -name model.lua ! -name errors.lua | sort")) do
    literals(found, path, read(path), false)
  end
  for _, path in ipairs(files("ls src/*.c src/*.h | grep -v 'src/errors.h'")) do
    local text = read(path)
    for name in text:gmatch("MALLAPI_E_([A-Z_]+)") do found[name] = found[name] or path end
    literals(found, path, text, true)
  end
  for word in pairs(NOT_CODES) do found[word] = nil end
  return found
end

describe("error codes", function()
  local found = produced()

  it("every code the sources produce is listed in mallapi.errors", function()
    local missing = {}
    for code, path in pairs(found) do
      if not errors.info[code] then missing[#missing + 1] = code .. " (" .. path .. ")" end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("every listed code is produced somewhere (no dead codes)", function()
    local dead = {}
    for _, code in ipairs(errors.list) do
      if not found[code] then dead[#dead + 1] = code end
    end
    assert.same({}, dead)
  end)

  it("src/errors.h and doc/errors.md hold the same list, in the same order", function()
    local header, doc = {}, {}
    for name, value in read("src/errors.h"):gmatch('#define MALLAPI_E_([A-Z_]+) +"([A-Z_]+)"') do
      assert.equal(name, value)
      header[#header + 1] = name
    end
    for code in read("doc/errors.md"):gmatch("\n| `([A-Z_]+)` |") do doc[#doc + 1] = code end
    assert.same(errors.list, header)
    assert.same(errors.list, doc)
  end)

  it("each code has a meaning and a retryable flag, and errors.retryable reads them", function()
    for _, code in ipairs(errors.list) do
      local info = errors.info[code]
      assert.equal(code, errors[code])
      assert.is_string(info.meaning)
      assert.truthy(info.retryable == true or info.retryable == false or info.retryable == "status", code)
    end
    assert.is_true(errors.retryable("TIMEOUT"))
    assert.is_false(errors.retryable("AUTH"))
    assert.is_true(errors.retryable("HTTP", 503))
    assert.is_false(errors.retryable("HTTP", 404))
    assert.is_false(errors.retryable("NO_SUCH_CODE"))
  end)

  it("is mallapi.errors", function()
    assert.equal(errors, require("mallapi").errors)
  end)
end)

describe("option errors (errors.option, errors.option_error)", function()
  -- The message and the reported line: the caller's, through helpers of any depth.
  local function line_of(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    return err
  end

  it("raise the one spelling at the caller's line of token.new and sync.run", function()
    local here = debug.getinfo(1, "l").currentline
    local err = line_of(function() require("mallapi.token").new{ key = "k", fetch = print,
      store = require("mallapi.store").memory(), clock = 5 } end)
    assert.equal("spec/errors_spec.lua:" .. (here + 1)
      .. ": bad argument #1 to 'mallapi.token.new' (option 'clock': function expected, got number)", err)
    err = line_of(function() require("mallapi.sync").run{ name = "j", source = 5, sink = print } end)
    assert.equal("spec/errors_spec.lua:" .. (here + 5) .. ": bad argument #1 to 'sync.run' (option 'source': "
      .. "source object, iterator or array expected, got number)", err)
  end)

  it("errors.option returns the value or the default, and checks the type", function()
    assert.equal(5, errors.option("f", { a = 5 }, "a", "number", 1))
    assert.equal(1, errors.option("f", {}, "a", "number", 1))
    assert.has_error(function() errors.option("f", { a = "x" }, "a", "number", 1) end,
      "bad argument #1 to 'f' (option 'a': number expected, got string)")
  end)
end)
