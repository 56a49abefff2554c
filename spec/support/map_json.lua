-- Test support for the mapping specs: read a fixture from spec/fixtures/map/ as a Lua
-- table with 64-bit integers exact. Uses mallapi.json when the core has it; otherwise
-- lua-cjson after quoting bare integers of 16+ digits (cjson reads numbers as
-- doubles), which the id converters then read as digit strings.
local M = {}

local function read(name)
  local f = assert(io.open("spec/fixtures/map/" .. name, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

function M.decode(text)
  local ok, core = pcall(require, "mallapi.core")
  if ok and core.json and core.json.decode then
    return assert(core.json.decode(text))
  end
  local cjson = require "cjson"
  text = text:gsub("([:%[,]%s*)(%-?%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d+)(%s*[,%]}])", '%1"%2"%3')
  return cjson.decode(text)
end

function M.fixture(name) return M.decode(read(name)) end

M.read = read
M.null = (function()
  local ok, cjson = pcall(require, "cjson")
  return ok and cjson.null or nil
end)()

return M
