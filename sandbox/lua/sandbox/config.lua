-- Credentials the sandbox accepts, per vendor. Defaults below; the launcher passes overrides as
-- JSON at nginx start (init_by_lua), so every worker inherits them.
local json = require "sandbox.json"

local M = {}

M.defaults = {
  sobot = { appid = "sandbox-app", app_key = "sandbox-key" },
  hd = { tenant_id = "sandbox-tenant", user = "sandbox-user", password = "sandbox-password" },
  shoplus = { app_key = "sandbox-shoplus-app", secret = "sandbox-shoplus-secret" },
  guanmai = { appid = "sandbox-guanmai", secret = "sandbox-guanmai-secret" },
  babycare = { appId = "sandbox-babycare", secret = "sandbox-babycare-secret" },
}

M.credentials = json.copy(M.defaults)

-- Merge overrides given as JSON text {vendor = {name = value}}.
function M.set(text)
  local overrides = assert(json.decode(text))
  for vendor, creds in pairs(overrides) do
    M.credentials[vendor] = M.credentials[vendor] or {}
    for k, v in pairs(creds) do M.credentials[vendor][k] = json.text(v) or v end
  end
end

function M.get(vendor)
  return M.credentials[vendor]
end

return M
