-- Shared by the sync examples: settings from a Lua config file and the environment,
-- the job's state store, and the command-line flags. A config file is a Lua file that
-- returns a table with the same keys as the environment names below, lower-case and
-- nested by vendor (see doc/sync.md), e.g.
--   return { shoplus = { app_key = "...", secret = "..." }, sobot = { appid = "...", app_key = "..." },
--            state_dir = "/var/lib/mallapi/sync", batch = 50 }
local mallapi = require "mallapi"

local M = {}

-- The --help text: the flags, then every setting with its environment variable.
local function help(env)
  local script = arg and arg[0] or "sync script"
  local lines = { "usage: " .. script .. " [--config FILE] [--dry-run] [--quiet] [--progress] [--help]", "",
    "Settings (a --config file, then the environment, which wins; SYNC_CONFIG names a config file):" }
  local names = {}
  for path in pairs(env) do names[#names + 1] = path end
  table.sort(names)
  for _, path in ipairs(names) do lines[#lines + 1] = string.format("  %-22s %s", path, env[path]) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Exit status: 0 all sent, 1 some records in the dead-letter file, 2 stopped or a usage mistake."
  io.stdout:write(table.concat(lines, "\n"), "\n")
end

-- argv: the script's `arg`; env: { ["shoplus.app_key"] = "SHOPLUS_APP_KEY", ... }.
function M.config(argv, env, defaults)
  local cfg, flags, file = {}, {}, os.getenv("SYNC_CONFIG")
  local i = 1
  while argv and argv[i] do
    local a = argv[i]
    if a == "--config" then file = argv[i + 1]; i = i + 1
    elseif a == "--dry-run" then flags.dry_run = true
    elseif a == "--quiet" then flags.quiet = true
    elseif a == "--progress" then flags.progress = true
    elseif a == "--help" or a == "-h" then help(env); os.exit(0)
    else io.stderr:write("unknown argument: ", a, "\n"); os.exit(2) end
    i = i + 1
  end
  for k, v in pairs(defaults or {}) do cfg[k] = v end
  if file then
    local chunk, err = loadfile(file)
    if not chunk then io.stderr:write("cannot read config: ", tostring(err), "\n"); os.exit(2) end
    for k, v in pairs(chunk()) do cfg[k] = v end
  end
  for path, name in pairs(env) do
    local value = os.getenv(name)
    if value and value ~= "" then
      local section, key = path:match("^([%w_]+)%.([%w_]+)$")
      if section then
        cfg[section] = cfg[section] or {}
        cfg[section][key] = value
      else
        cfg[path] = tonumber(value) or value
      end
    end
  end
  for k, v in pairs(flags) do cfg[k] = v end
  return cfg
end

-- Fail early, naming the setting and its variable; never print a value.
function M.require_settings(cfg, env, names)
  local missing = {}
  for _, path in ipairs(names) do
    local section, key = path:match("^([%w_]+)%.([%w_]+)$")
    local v
    if section then v = cfg[section] and cfg[section][key] else v = cfg[path] end
    if v == nil or v == "" then missing[#missing + 1] = path .. " (" .. env[path] .. ")" end
  end
  if #missing > 0 then
    io.stderr:write("missing settings: ", table.concat(missing, ", "), "\n")
    os.exit(2)
  end
  for _, path in ipairs(names) do                   -- every section named exists from here on
    local section = path:match("^([%w_]+)%.")
    if section then cfg[section] = cfg[section] or {} end
  end
end

-- The job's state (checkpoint, Sobot token): Redis when SYNC_REDIS is host:port, else
-- files in state_dir (created if missing).
function M.state_store(cfg)
  if cfg.redis then
    local host, port = tostring(cfg.redis):match("^([^:]+):?(%d*)$")
    return mallapi.store.redis{ host = host, port = tonumber(port) or 6379, password = cfg.redis_password }
  end
  local dir = cfg.state_dir or "sync-state"
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  return mallapi.store.file(dir)
end

return M
