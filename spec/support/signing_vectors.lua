-- Loads ../shared/vectors/signing.json (computed outside the project) for the
-- signing specs. Returns the list of cases and a lookup by id prefix.
local ok, cjson = pcall(require, "cjson")
local decode
if ok then
  decode = cjson.decode
else
  decode = require("dkjson").decode
end

local M = {}

local read = require("support.files").read

M.cases = assert(decode(read("../shared/vectors/signing.json"))).cases

-- Every case whose id starts with prefix, in file order (at least one).
function M.with_prefix(prefix)
  local out = {}
  for _, case in ipairs(M.cases) do
    if case.id:sub(1, #prefix) == prefix then out[#out + 1] = case end
  end
  assert(#out > 0, "no vector with prefix " .. prefix)
  return out
end

return M
