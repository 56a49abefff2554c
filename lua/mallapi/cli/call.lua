-- `mallapi call VENDOR OP [PARAMS_JSON] [--param k=v ...]`: call one operation and print the
-- answer's data as JSON on stdout (64-bit ids exact), exit 0; a vendor or transport failure
-- prints msg and code on stderr, exit 1; a usage mistake or missing setting exits 2.
-- --dry-run prints the signed request with secrets and tokens masked and sends nothing;
-- --debug prints one line per HTTP exchange on stderr (mallapi.http.log_hook).
local common = require "mallapi.cli.common"

local M = { summary = "call one vendor operation and print its data as JSON" }

local function parser()
  local p = common.parser("call", "Call one vendor operation; settings from MALLAPI_<VENDOR>_<SETTING> "
    .. "or --config FILE (the environment wins).")
  p:argument("vendor", "vendor name (mallapi ops VENDOR lists operations)")
  p:argument("op", "operation name")
  p:argument("params", "parameters as one JSON object"):args("?")
  p:option("--param", "one parameter NAME=VALUE (VALUE is JSON when it parses, else text)"):count("*")
  p:option("--base-url", "the vendor's base URL (e.g. the sandbox's)")
  p:option("--config", "Lua file returning settings by vendor")
  p:flag("--all-pages", "walk every page of a paged operation; print the records as one array")
  p:flag("--dry-run", "print the request as it would be sent (secrets masked); send nothing")
  p:flag("--debug", "one line per HTTP exchange on stderr (secrets masked)")
  return p
end

-- A stand-in token manager for --dry-run: the request is complete without a token fetch.
local DRY_TOKEN = { get = function() return "dry-run-token" end, invalidate = function() end }

local function dry_run(client, args, params, secrets)
  client.token = DRY_TOKEN
  local req, err, code = client:prepare(args.op, params)
  if not req then return common.failure(err, code) end
  local out = io.stdout
  out:write(req.method, " ", common.mask(req.url, secrets), "\n")
  local names = {}
  for name in pairs(req.headers or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local value = tostring(req.headers[name])
    if common.is_secret_name(name) then value = common.MASK end
    out:write(name, ": ", common.mask(value, secrets), "\n")
  end
  out:write("\n", req.body and common.mask(req.body, secrets) or "", "\n")
  local sign = req.body and req.body:match('"sign"%s*:%s*"([^"]*)"') or req.url:match("[?&]sign=([^&]*)")
  out:write("signature: ", sign or "(in the headers above)", "\n")
  out:write("(dry run: nothing sent)\n")
  return common.OK
end

function M.run(argv)
  local args, ucode = common.parse(parser(), argv)
  if not args then return ucode end
  local mallapi = require "mallapi"
  local config, cerr = common.load_config(args.config)
  if not config then return common.usage_error(cerr) end
  local cfg, profile = common.settings(args.vendor, config)
  if not cfg then return common.usage_error(profile) end
  if args.base_url then cfg.base_url = args.base_url end
  local params = {}
  if args.params then
    local ok, decoded = pcall(mallapi.json.decode, args.params)
    if not ok or type(decoded) ~= "table" then
      return common.usage_error("PARAMS_JSON must be a JSON object: " .. tostring(ok and "not an object" or decoded))
    end
    params = decoded
  end
  for _, kv in ipairs(args.param or {}) do
    local k, v = common.param(kv)
    if not k then return common.usage_error(v) end
    params[k] = v
  end
  local secrets = common.secret_values(cfg, profile)
  local ok, client = pcall(mallapi.client, args.vendor, cfg)
  if not ok then return common.usage_error(common.mask(tostring(client), secrets)) end
  local run_ok, result = pcall(function()
    if args.dry_run then return dry_run(client, args, params, secrets) end
    if args.debug then mallapi.http.log_hook = common.debug_line end
    if args.all_pages then
      local records = {}
      for record, err, code in client:each(args.op, params) do
        if record == false then return common.failure(common.mask(err, secrets), code) end
        records[#records + 1] = record
      end
      io.stdout:write(#records == 0 and "[]" or mallapi.json.encode(records), "\n")
      return common.OK
    end
    local data, err, code = client:call(args.op, params)
    if data == nil then return common.failure(common.mask(err, secrets), code) end
    io.stdout:write(mallapi.json.encode(data), "\n")
    return common.OK
  end)
  mallapi.http.log_hook = nil
  if not run_ok then return common.usage_error(common.mask(tostring(result), secrets)) end
  return result
end

return M
