-- mallapi.sync.report: what a sync job tells its operator. On a terminal, a progress
-- line rewritten in place (records, pages, rate, errors, ETA when the total is known)
-- and a readable summary; otherwise, or when asked to be quiet, one machine-readable
-- summary line (`key=value` pairs, values without spaces or quoted).
local string_format, type, tostring, ipairs, math_floor = string.format, type, tostring, ipairs, math.floor
local os_execute = os.execute

local M = {}

-- Is file descriptor 2 a terminal? A child shell inherits our descriptors.
function M.stderr_is_tty()
  local ok = os_execute("test -t 2")
  return ok == true or ok == 0
end

local function duration(seconds)
  seconds = math_floor(seconds + 0.5)
  if seconds >= 3600 then
    return string_format("%d:%02d:%02d", math_floor(seconds / 3600), math_floor(seconds % 3600 / 60), seconds % 60)
  end
  return string_format("%d:%02d", math_floor(seconds / 60), seconds % 60)
end

function M.progress_line(s, total)
  local rate = s.seconds > 0 and s.read / s.seconds or 0
  local parts = {
    string_format("%s: %d%s records", s.name, s.read, total and ("/" .. total) or ""),
    string_format("%d pages", s.pages),
    string_format("%.0f/s", rate),
    string_format("%d errors", s.retries),
    string_format("%d dead", s.dead),
  }
  if total and rate > 0 and total >= s.read then parts[#parts + 1] = "ETA " .. duration((total - s.read) / rate) end
  return table.concat(parts, ", ")
end

local FIELDS = { "status", "read", "sent", "skipped", "dead", "pages", "batches", "retries", "resumed", "seconds",
  "rate", "dry_run" }

local function value_text(v)
  if type(v) == "number" then
    if v == math_floor(v) then return string_format("%d", v) end
    return string_format("%.2f", v)
  end
  v = tostring(v)
  if v:find("[%s\"=]") or v == "" then return '"' .. v:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"' end
  return v
end

-- One line: `sync name=orders status=ok read=2000 ... dead_letter=/x error="..."`.
function M.machine_line(s)
  local parts = { "sync", "name=" .. value_text(s.name) }
  for _, key in ipairs(FIELDS) do
    local v = s[key]
    if v ~= nil then parts[#parts + 1] = key .. "=" .. value_text(type(v) == "boolean" and (v and 1 or 0) or v) end
  end
  if s.dead > 0 and s.dead_letter then parts[#parts + 1] = "dead_letter=" .. value_text(s.dead_letter) end
  if s.error then parts[#parts + 1] = "code=" .. value_text(s.code or "") .. " error=" .. value_text(s.error) end
  return table.concat(parts, " ")
end

local STATUS_WORDS = { ok = "done", dead_letters = "done with dead letters", failed = "stopped" }

function M.human_summary(s)
  local lines = {
    string_format("%s: %s%s in %s (%.0f records/s)", s.name, STATUS_WORDS[s.status] or s.status,
      s.dry_run and " (dry run, nothing sent)" or "", duration(s.seconds), s.rate),
    string_format("  read %d, sent %d, skipped %d, dead letters %d, pages %d, retries %d%s",
      s.read, s.sent, s.skipped, s.dead, s.pages, s.retries, s.resumed and ", resumed from a checkpoint" or ""),
  }
  if s.dead > 0 then lines[#lines + 1] = string_format("  %d dead letter%s in %s", s.dead, s.dead == 1 and "" or "s",
    tostring(s.dead_letter)) end
  if s.error then lines[#lines + 1] = "  stopped: " .. s.error end
  return table.concat(lines, "\n")
end

return M
