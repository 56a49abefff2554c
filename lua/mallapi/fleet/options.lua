-- mallapi.fleet.options: the command-line pieces `mallapi jobs` and `mallapi worker`
-- share: the Redis connection options (the password from an environment variable,
-- never from the command line) and opening the fleet from them.
local fleet = require "mallapi.fleet"

local M = {}

function M.add_redis(parser)
  parser:option("--redis", "Redis URL (redis://host:port/db)", os.getenv("MALLAPI_REDIS") or "redis://127.0.0.1:6379")
  parser:option("--password-env", "name of the environment variable holding the Redis password")
  parser:option("--prefix", "key prefix of the fleet in Redis", "mallapi:fleet:")
end

-- fleet, or nil, msg
function M.open(args)
  local password
  if args.password_env then
    password = os.getenv(args.password_env)
    if not password or password == "" then
      return nil, "environment variable " .. args.password_env .. " (Redis password) is not set"
    end
  end
  local ok, f = pcall(fleet.new, { redis = args.redis, password = password, prefix = args.prefix })
  if not ok then return nil, tostring(f):gsub("^[^:]*:%d+: ", "") end
  return f
end

-- parser:pparse with the error printed; returns args or nil, exit code
function M.parse(parser, argv)
  local list = {}
  for i = 1, #(argv or {}) do list[i] = argv[i] end
  local ok, args = parser:pparse(list)
  if not ok then
    io.stderr:write(parser:get_usage(), "\n", "error: ", tostring(args), "\n")
    return nil, 2
  end
  return args
end

return M
