-- mallapi: vendor API toolkit for Lua. This file joins the C core (mallapi.core)
-- with the Lua layer: `mallapi.X` loads lua/mallapi/X.lua on first use when that
-- file exists, and otherwise is the C core's area of the same name.
local core = require "mallapi.core"

local package, require, rawset, setmetatable = package, require, rawset, setmetatable

local M = { version = core.version, core = core }

return setmetatable(M, {
  __index = function(t, name)
    if type(name) ~= "string" then return nil end
    local value
    if package.searchpath("mallapi." .. name, package.path) then
      value = require("mallapi." .. name)
    else
      value = core[name]
    end
    if value ~= nil then rawset(t, name, value) end
    return value
  end,
})
