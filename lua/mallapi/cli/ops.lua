-- `mallapi ops VENDOR`: one line per operation of a vendor profile (name, method, path,
-- paging, required parameters). Needs no settings and sends nothing.
local common = require "mallapi.cli.common"

local M = { summary = "list a vendor's operations (name, method, path, paging)" }

function M.run(argv)
  local p = common.parser("ops", "List the operations of a vendor profile.")
  p:argument("vendor", "vendor name: " .. table.concat(require("mallapi.client").vendors(), ", "))
  local args, code = common.parse(p, argv)
  if not args then return code end
  local profile, err = common.profile(args.vendor)
  if not profile then return common.usage_error(err) end
  local names = {}
  for name in pairs(profile.operations) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local op = profile.operations[name]
    local paging = op.paging and ("paged:" .. tostring(op.paging)) or "-"
    local req = op.required and #op.required > 0 and ("required:" .. table.concat(op.required, ",")) or ""
    io.stdout:write(string.format("%-42s %-6s %-48s %-14s %s\n", name, op.method or "-", op.path or "-", paging, req))
  end
  return common.OK
end

return M
