-- mallapi.cli.common: what every `mallapi` subcommand shares. Vendor settings from
-- MALLAPI_<VENDOR>_<SETTING> environment variables and a --config FILE (a Lua file returning
-- a table by vendor), the environment winning; the exit codes; an argparse parser whose
-- mistakes exit 2; masking of secret values in anything printed. Values are never printed.
local argparse = require "argparse"

local M = { OK = 0, FAIL = 1, USAGE = 2 }

-- Names (any case) whose values are masked wherever they are printed: headers, query
-- parameters and JSON members. The transport's list (mallapi.http.default_secrets), but a
-- dry run shows the signature it would send.
local http = require "mallapi.http"
local SHOWN = { sign = true, signature = true }
M.SECRET_NAMES = {}
for _, name in ipairs(http.default_secrets) do
  if not SHOWN[name] then M.SECRET_NAMES[#M.SECRET_NAMES + 1] = name end
end
M.MASK = http.MASK

-- Settings every vendor accepts besides its credentials.
local COMMON_SETTINGS = { "base_url", "utc_offset", "timeout" }

-- A parser for one subcommand; parse(argv) -> args | nil, exit code (message written).
function M.parser(name, description)
  local p = argparse("mallapi " .. name, description)
  p:add_help(true)
  return p
end

function M.parse(parser, argv)
  local ok, args = parser:pparse(argv)
  if not ok then
    io.stderr:write(parser:get_usage(), "\nerror: ", tostring(args), "\n")
    return nil, M.USAGE
  end
  return args
end

function M.usage_error(msg)
  io.stderr:write("mallapi: ", msg, "\n")
  return M.USAGE
end

function M.failure(msg, code)
  io.stderr:write("mallapi: ", tostring(msg), "\n", "code: ", tostring(code or "ERROR"), "\n")
  return M.FAIL
end

-- The profile of a vendor, or nil, message.
function M.profile(vendor)
  if type(vendor) ~= "string" or not vendor:match("^[%w_]+$")
    or not package.searchpath("mallapi.vendors." .. vendor, package.path) then
    return nil, "unknown vendor '" .. tostring(vendor) .. "' (known: " ..
      table.concat(require("mallapi.client").vendors(), ", ") .. ")"
  end
  return require("mallapi.vendors." .. vendor)
end

-- Load a --config file: a Lua table by vendor. Returns table | nil, message.
function M.load_config(file)
  if not file then return {} end
  local chunk, err = loadfile(file)
  if not chunk then return nil, "cannot read config " .. file .. ": " .. tostring(err) end
  local ok, t = pcall(chunk)
  if not ok or type(t) ~= "table" then return nil, "config " .. file .. " must return a table by vendor" end
  return t
end

function M.env_name(vendor, setting)
  return "MALLAPI_" .. vendor:upper() .. "_" .. setting:upper()
end

-- The settings of a vendor: cfg, profile | nil, message (missing ones named with their variable).
-- getenv is injectable for the specs.
function M.settings(vendor, config, getenv)
  getenv = getenv or os.getenv
  local profile, perr = M.profile(vendor)
  if not profile then return nil, perr end
  local cfg = {}
  for k, v in pairs(config and config[vendor] or {}) do cfg[k] = v end
  local names = {}
  for _, n in ipairs(profile.credentials or {}) do names[#names + 1] = n end
  for _, n in ipairs(COMMON_SETTINGS) do names[#names + 1] = n end
  for _, n in ipairs(profile.settings or {}) do names[#names + 1] = n end
  for _, n in ipairs(names) do
    local v = getenv(M.env_name(vendor, n))
    if v and v ~= "" then cfg[n] = v end
  end
  cfg.timeout = tonumber(cfg.timeout)
  local missing = {}
  for _, n in ipairs(profile.credentials or {}) do
    if cfg[n] == nil or cfg[n] == "" then missing[#missing + 1] = n .. " (" .. M.env_name(vendor, n) .. ")" end
  end
  if #missing > 0 then return nil, "missing settings for " .. vendor .. ": " .. table.concat(missing, ", ") end
  return cfg, profile
end

-- Secret values of a vendor's settings (profile.secrets, plus any setting named like a secret).
function M.secret_values(cfg, profile)
  local out = {}
  local names = {}
  for _, n in ipairs(profile and profile.secrets or {}) do names[n:lower()] = true end
  for _, n in ipairs(M.SECRET_NAMES) do names[n] = true end
  for k, v in pairs(cfg or {}) do
    if type(k) == "string" and names[k:lower()] and type(v) == "string" and #v > 0 then out[#out + 1] = v end
  end
  table.sort(out, function(a, b) return #a > #b end)
  return out
end

local function is_secret_name(name)
  name = tostring(name):lower()
  for _, n in ipairs(M.SECRET_NAMES) do if n == name then return true end end
  return false
end
M.is_secret_name = is_secret_name

-- Text with every secret value replaced by the mask, and the values of secret-named JSON
-- members and query parameters masked too.
function M.mask(text, secrets)
  if type(text) ~= "string" then return text end
  for _, v in ipairs(secrets or {}) do
    text = text:gsub(v:gsub("%p", "%%%0"), M.MASK)
  end
  text = text:gsub('("([%w_%-]+)"%s*:%s*)"([^"]*)"', function(prefix, name, value)
    if is_secret_name(name) and value ~= "" then return prefix .. '"' .. M.MASK .. '"' end
  end)
  text = text:gsub("([?&])([%w_%-]+)=([^&]*)", function(sep, name, value)
    if is_secret_name(name) and value ~= "" then return sep .. name .. "=" .. M.MASK end
  end)
  return text
end

-- Parse KEY=VALUE: VALUE as JSON when it is JSON (numbers, true, [..], {..}, "quoted"), else text.
function M.param(kv)
  local k, v = tostring(kv):match("^([^=]+)=(.*)$")
  if not k then return nil, "--param wants NAME=VALUE, got '" .. tostring(kv) .. "'" end
  local json = require("mallapi").json
  local ok, decoded = pcall(json.decode, v)
  if ok and decoded ~= nil and decoded ~= json.null then return k, decoded end
  return k, v
end

-- mallapi.http.log_hook line printer for --debug (stderr, secrets already masked by http.lua).
function M.debug_line(line)
  io.stderr:write(string.format("mallapi: vendor=%s op=%s attempt=%s %s %s status=%s ms=%s bytes=%s%s\n",
    tostring(line.vendor or "-"), tostring(line.op or "-"), tostring(line.attempt), line.method,
    tostring(line.url), tostring(line.status or "-"), tostring(line.ms or "-"), tostring(line.bytes or 0),
    line.code and (" code=" .. tostring(line.code)) or ""))
end

return M
