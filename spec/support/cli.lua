-- Test helper: run the `mallapi` command (bin/mallapi from the checkout, or an installed one)
-- under the runtime of the current spec run, with a chosen environment and working directory.
--   local out, err, rc = cli.run({ "call", "shoplus", "Order.list" }, { MALLAPI_... = ... })
local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = quote

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  os.remove(path)
  return s
end

-- The vendor settings variables are cleared first, so the caller's shell cannot leak in.
local CLEARED = { "SOBOT_APPID", "SOBOT_APP_KEY", "SOBOT_BASE_URL", "SHOPLUS_APP_KEY", "SHOPLUS_SECRET",
  "SHOPLUS_BASE_URL", "HD_TENANT_ID", "HD_USER", "HD_PASSWORD", "HD_OPERATOR", "HD_BASE_URL",
  "GUANMAI_APPID", "GUANMAI_SECRET", "GUANMAI_BASE_URL", "BABYCARE_APPID", "BABYCARE_SECRET", "BABYCARE_BASE_URL" }

-- run(argv, env, opts) -> stdout, stderr, exit code. opts.command: the command line to start
-- (default: this runtime's interpreter on bin/mallapi); opts.dir: working directory.
function M.run(argv, env, opts)
  opts = opts or {}
  local command = opts.command
  if not command then
    local lua = os.getenv("MALLAPI_RUNTIME") == "luajit" and "luajit" or "lua5.4"
    local root = assert(io.popen("pwd")):read("*l")
    command = lua .. " " .. quote(root .. "/bin/mallapi")
  end
  local parts = { "env" }
  for _, name in ipairs(CLEARED) do parts[#parts + 1] = "-u MALLAPI_" .. name end
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. quote(v) end
  local args = {}
  for i, a in ipairs(argv) do args[i] = quote(a) end
  local out, err = os.tmpname(), os.tmpname()
  local cmd = (opts.dir and ("cd " .. quote(opts.dir) .. " && ") or "") .. table.concat(parts, " ") .. " "
    .. command .. " " .. table.concat(args, " ") .. " >" .. out .. " 2>" .. err .. " </dev/null; echo $?"
  local p = assert(io.popen(cmd))
  local rc = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  return slurp(out), slurp(err), rc
end

-- The environment that points every vendor of a started sandbox at it.
function M.sandbox_env(sb, extra)
  local env = {}
  for vendor, url in pairs(sb.urls) do
    env["MALLAPI_" .. vendor:upper() .. "_BASE_URL"] = url
    for k, v in pairs(sb.credentials[vendor]) do env["MALLAPI_" .. vendor:upper() .. "_" .. k:upper()] = tostring(v) end
  end
  env.MALLAPI_HD_OPERATOR = "spec"
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

return M
