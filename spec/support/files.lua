-- Test helper: the whole content of a file (the specs' fixtures, vectors, the rockspec).
local M = {}

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

return M
