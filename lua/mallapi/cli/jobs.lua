-- mallapi jobs add|list|remove|pause|resume: the fleet's job definitions in Redis
-- (mallapi.fleet). Secrets are given as references only: --secret name=env:VAR or
-- --secret name=file:/path (read on the workers, never stored).
local core_clock = require("mallapi.core").clock
local argparse = require "argparse"
local json = require("mallapi").json
local options = require "mallapi.fleet.options"

local M = { summary = "add, list, pause or remove the fleet's jobs (Redis)" }

local function parser()
  local p = argparse("mallapi jobs", M.summary)
  options.add_redis(p)
  p:command_target("command")
  local add = p:command("add", "add or replace a job")
  add:argument("id", "job id (letters, digits, _ . : -), usually the account")
  add:option("--module", "job module: Lua module name or path to a .lua file"):count(1)
  add:option("--settings", "the account's settings as a JSON object", "{}")
  add:option("--interval", "seconds between runs", "300"):convert(tonumber)
  add:option("--secret", "a secret reference name=env:VAR or name=file:/path"):count("*")
  add:flag("--paused", "add it paused")
  local list = p:command("list", "the jobs and their last run")
  list:flag("--json", "one JSON object per line")
  p:command("remove", "remove a job"):argument("id")
  p:command("pause", "pause a job (it stays scheduled, not run)"):argument("id")
  p:command("resume", "resume a paused job"):argument("id")
  return p
end

local function parse_secrets(list)
  local secrets = {}
  for _, s in ipairs(list or {}) do
    local name, kind, ref = s:match("^([%w_]+)=(%a+):(.+)$")
    if not name or (kind ~= "env" and kind ~= "file") then
      return nil, "--secret " .. s:gsub("=.*", "=...") .. ": expected name=env:VAR or name=file:/path"
    end
    secrets[name] = { [kind] = ref }
  end
  return secrets
end

local function ago(ms, now)
  if not ms then return "-" end
  return string.format("%ds", math.floor((now - ms) / 1000 + 0.5))
end

function M.run(argv)
  local args, rc = options.parse(parser(), argv)
  if not args then return rc end
  local fl, err = options.open(args)
  if not fl then io.stderr:write("mallapi jobs: ", err, "\n"); return 2 end
  local cmd = args.command
  local ok, res, ferr
  if cmd == "add" then
    local dok, settings = pcall(json.decode, args.settings)
    if not dok or type(settings) ~= "table" then
      io.stderr:write("mallapi jobs add: --settings is not a JSON object\n"); return 2
    end
    local secrets, serr = parse_secrets(args.secret)
    if not secrets then io.stderr:write("mallapi jobs add: ", serr, "\n"); return 2 end
    ok, res, ferr = pcall(fl.add, fl, args.id, { module = args.module, settings = settings,
      interval_s = args.interval, secrets = secrets, paused = args.paused })
  elseif cmd == "remove" then
    ok, res, ferr = pcall(fl.remove, fl, args.id)
    if ok and res == false then io.stderr:write("mallapi jobs remove: no job ", args.id, "\n"); return 1 end
  elseif cmd == "pause" or cmd == "resume" then
    ok, res, ferr = pcall(fl.pause, fl, args.id, cmd == "pause")
    if ok and res == false then io.stderr:write("mallapi jobs ", cmd, ": no job ", args.id, "\n"); return 1 end
  elseif cmd == "list" then
    ok, res, ferr = pcall(fl.list, fl)
    if ok and res then
      local now = core_clock.now_ms()
      if args.json then
        for _, j in ipairs(res) do io.stdout:write(json.encode(j), "\n") end
      else
        io.stdout:write(string.format("%-24s %-8s %-13s %6s %6s %6s %9s %8s %s\n", "JOB", "STATE", "LAST", "READ",
          "SENT", "DEAD", "DURATION", "AGO", "NEXT IN"))
        for _, j in ipairs(res) do
          io.stdout:write(string.format("%-24s %-8s %-13s %6d %6d %6d %8.1fs %8s %s\n", j.id,
            j.paused and "paused" or "active", j.status or "-", j.read or 0, j.sent or 0, j.dead or 0,
            (j.duration_ms or 0) / 1000, ago(j.finished_at, now),
            j.next_at and string.format("%ds", math.max(0, math.floor((j.next_at - now) / 1000))) or "running"))
        end
      end
    end
  end
  if not ok then
    io.stderr:write("mallapi jobs ", cmd, ": ", (tostring(res):gsub("^[^:]*:%d+: ", "")), "\n")
    return 2
  end
  if res == nil then io.stderr:write("mallapi jobs ", cmd, ": ", tostring(ferr), "\n"); return 2 end
  return 0
end

return M
