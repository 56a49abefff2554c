-- Test helper: random doubles for the float specs (dtoa_spec, strtod_spec), the
-- same under Lua 5.4 and LuaJIT: uniformly random mantissa bits and exponent,
-- subnormals included, either sign.
local M = {}

M.ldexp = math.ldexp or function(m, e) return m * 2.0 ^ e end -- luacheck: ignore

function M.random_double()
  local m = math.random(0, 2 ^ 26 - 1) * 2 ^ 26 + math.random(0, 2 ^ 26 - 1)
  local e = math.random(-1023, 1023)
  local x = e == -1023 and M.ldexp(m, -1074) or M.ldexp(1 + m / 2 ^ 52, e)
  return math.random(2) == 1 and -x or x
end

return M
