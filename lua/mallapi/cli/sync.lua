-- `mallapi sync JOB.lua [--dry-run] [--replay-dead FILE]`: run a sync job. The job file
-- returns the options of mallapi.sync.run (it is called with a context whose client(vendor)
-- builds a client from the same settings as `mallapi call`). Progress on a terminal, the
-- summary line otherwise; exit 0 all sent, 1 dead letters, 2 stopped or a usage mistake.
-- --replay-dead FILE sends the records of a dead-letter file again (after a fix), as the job
-- "<name>-replay" with its own checkpoint and dead-letter file.
local common = require "mallapi.cli.common"

local M = { summary = "run a sync job file (mallapi.sync.run options); replay dead letters" }

-- The context a job file receives as `...`.
local function context(config)
  local ctx = { config = config }
  function ctx.settings(vendor)
    local cfg, err = common.settings(vendor, config)
    if not cfg then error(err, 0) end
    return cfg
  end
  function ctx.client(vendor, extra)
    local cfg = ctx.settings(vendor)
    for k, v in pairs(extra or {}) do cfg[k] = v end
    return require("mallapi").client(vendor, cfg)
  end
  return ctx
end

-- The records of a dead-letter file (JSON lines with a `record` member).
local function dead_records(file)
  local f, err = io.open(file, "rb")
  if not f then return nil, "cannot read dead-letter file: " .. tostring(err) end
  local json = require("mallapi").json
  local records, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if line:match("%S") then
      local ok, entry = pcall(json.decode, line)
      if not ok or type(entry) ~= "table" or entry.record == nil then
        f:close()
        return nil, file .. ":" .. n .. ": not a dead-letter entry"
      end
      records[#records + 1] = entry.record
    end
  end
  f:close()
  return records
end

function M.run(argv)
  local p = common.parser("sync", "Run a sync job: JOB.lua returns the options of mallapi.sync.run.")
  p:argument("job", "job file (Lua)")
  p:option("--config", "Lua file returning settings by vendor")
  p:flag("--dry-run", "read and map, send nothing, write no checkpoint")
  p:option("--replay-dead", "send the records of this dead-letter file again")
  p:flag("--debug", "one line per HTTP exchange on stderr (secrets masked)")
  local args, ucode = common.parse(p, argv)
  if not args then return ucode end
  local config, cerr = common.load_config(args.config)
  if not config then return common.usage_error(cerr) end
  local chunk, lerr = loadfile(args.job)
  if not chunk then return common.usage_error("cannot load job " .. args.job .. ": " .. tostring(lerr)) end
  local ok, opts = pcall(chunk, context(config))
  if not ok then return common.usage_error("job " .. args.job .. ": " .. tostring(opts)) end
  if type(opts) ~= "table" then
    return common.usage_error("job " .. args.job .. " must return a table of sync options")
  end
  local mallapi = require "mallapi"
  if args.dry_run then opts.dry_run = true end
  if args.replay_dead then
    local records, rerr = dead_records(args.replay_dead)
    if not records then return common.usage_error(rerr) end
    opts.name = (opts.name or "sync") .. "-replay"
    opts.source = mallapi.sync.iterate(records)
    opts.dead_letter = args.replay_dead .. ".replay.jsonl"
    opts.total = #records
  end
  if args.debug then mallapi.http.log_hook = common.debug_line end
  local run_ok, summary, _, _, failed = pcall(mallapi.sync.run, opts)
  mallapi.http.log_hook = nil
  if not run_ok then return common.usage_error(tostring(summary)) end
  return (summary or failed).exit_code
end

return M
