-- Helpers shared by the C-module specs (clock, codec, crypto, sign): table-driven
-- argument-error cases and random byte strings. Plain functions; the spec files
-- keep their own describe/it structure.
local assert = require "luassert"

local unpack = table.unpack or unpack   -- luacheck: ignore 143

local M = {}

-- An argument-error case: function, expected message, then the arguments
-- (trailing nils kept: "got nil" and "got no value" differ).
function M.arg_case(f, msg, ...)
  return { f = f, msg = msg, n = select("#", ...), ... }
end

-- The error f raises with these arguments; fails the test if it does not raise.
function M.error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return err
end

-- Asserts that an arg_case raises exactly its message.
function M.check(c)
  assert.equal(c.msg, M.error_of(c.f, unpack(c, 1, c.n)))
end

function M.random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

return M
