-- mallapi.sync.job: one run of a sync job. Reads records from a source in batches, maps
-- each, pushes them to a sink, and only then advances the job's checkpoint in a store
-- (mallapi.sync.checkpoint). Killed at any point and started again, a job resends at
-- most the batch it was on. A failure is classified: a record's own fault (mapping, a
-- sink's refusal) goes to the dead-letter file (JSON lines) and the run goes on; a
-- transient one stops the run with its checkpoint kept (the next run goes on from it): the
-- runner never resends, the transport owns retries (one retry budget per logical call: see
-- Job:attempt); anything else stops the run too. See doc/sync.md.
local core = require "mallapi.core"
local source = require "mallapi.sync.source"
local report = require "mallapi.sync.report"
local jsonl = require "mallapi.sync.jsonl"
local checkpoint = require "mallapi.sync.checkpoint"
local units = require "mallapi.units"
local errors = require "mallapi.errors"

local type, tostring, tonumber, ipairs, pcall, error, setmetatable, getmetatable =
  type, tostring, tonumber, ipairs, pcall, error, setmetatable, getmetatable
local string_format, table_concat, math_floor, io_open, os_date =
  string.format, table.concat, math.floor, io.open, os.date

local M = {}

--------------------------------------------------------------------------------------
-- Failure classes: "retry" (transient), "refuse" (the record's own fault: dead
-- letter), "fatal" (stop the run; the checkpoint stays where it is).
function M.classify(code, detail)
  local retryable, status
  if type(detail) == "table" then retryable, status = detail.retryable, tonumber(detail.status) end
  if retryable == true then return "retry" end
  if retryable ~= false then
    if code == "TRANSPORT" or code == "TIMEOUT" or code == "RATE_LIMIT" then return "retry" end
    if code == "HTTP" and status and (status >= 500 or status == 429 or status == 408) then return "retry" end
  end
  if code == "VENDOR" or code == "REJECTED" or code == "INVALID" then return "refuse" end
  if code == "HTTP" and status and status >= 400 and status < 500
    and status ~= 401 and status ~= 403 and status ~= 404 and status ~= 408 and status ~= 429 then
    return "refuse"
  end
  return "fatal"
end

--------------------------------------------------------------------------------------
--------------------------------------------------------------------------------------
local Job = {}
Job.__index = Job

-- level: 4 from new_job, 5 from the as_* helpers it calls (reported at sync.run's caller)
local function option_error(name, expected, got, level)
  errors.option_error("sync.run", name, expected, got, level or 4)
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = type(v) == "table" and getmetatable(v)
  return mt ~= nil and mt ~= false and mt.__call ~= nil
end

local function as_source(src)
  if type(src) == "table" and type(src.next) == "function" then return src end
  if type(src) == "function" or type(src) == "table" then return source.iterate(src) end
  option_error("source", "source object, iterator or array", src, 5)
end

-- sink: a function(record) (one record per call), or a table with `send(record)` or
-- `send_batch(records)` and optionally `prepare(record)` / `prepare_batch(records)`
-- for dry runs.
local function as_sink(sink, dry_run)
  if type(sink) == "function" then return { send = sink } end
  if type(sink) == "table" and (type(sink.send) == "function" or type(sink.send_batch) == "function") then
    return sink
  end
  if sink == nil and dry_run then return {} end
  option_error("sink", "function or table with send/send_batch", sink, 5)
end

local function as_map(map)
  if map == nil then return function(record) return record end end
  if callable(map) then return map end
  if type(map) == "table" and type(map.map) == "function" then return function(doc) return map:map(doc) end end
  option_error("map", "function or mapper", map, 5)
end

local function new_job(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'sync.run' (table expected, got " .. type(opts) .. ")", 3) end
  if type(opts.name) ~= "string" or not opts.name:match("^[%w_.:%-]+$") then
    option_error("name", "job name of letters, digits, _ . : -", opts.name)
  end
  local batch = opts.batch or 100
  if type(batch) ~= "number" or batch < 1 or batch ~= math_floor(batch) then
    option_error("batch", "positive integer", batch)
  end
  local state = opts.state
  if state == nil then state = require("mallapi.store").memory() end
  if type(state) ~= "table" or type(state.get) ~= "function" or type(state.set) ~= "function" then
    option_error("state", "store", state)
  end
  local dead_letter = opts.dead_letter
  if dead_letter == nil then dead_letter = opts.name .. ".dead.jsonl" end
  if type(dead_letter) ~= "string" then option_error("dead_letter", "file name", dead_letter) end
  -- deprecated and ignored since issue 16: the runner never resends (the transport's
  -- policy, `cfg.http.retry` on the client, is the one budget); still type-checked
  if opts.retry ~= nil and opts.retry ~= false and type(opts.retry) ~= "table" then
    option_error("retry", "table or false", opts.retry)
  end
  local output = opts.output
  if output == nil then output = io.stderr end
  local mode = "none"
  if output then
    if opts.quiet then mode = "machine"
    elseif opts.progress ~= nil then mode = opts.progress and "tty" or "machine"
    else mode = report.stderr_is_tty() and output == io.stderr and "tty" or "machine" end
  end
  local job = setmetatable({
    name = opts.name, source = as_source(opts.source), sink = as_sink(opts.sink, opts.dry_run),
    map = as_map(opts.map), state = state, batch = batch, dead_letter = dead_letter,
    dry_run = opts.dry_run, output = output, mode = mode, total = opts.total,
    classify = opts.classify or M.classify, sleep = opts.sleep or core.clock.sleep_ms,
    clock = opts.clock or core.clock.monotonic_ms, lease = opts.lease or 60000,
    max_dead_in_a_row = opts.max_dead_in_a_row or 100,
    read = 0, sent = 0, skipped = 0, dead = 0, batches = 0, retries = 0, pages_before = 0, resumes = 0,
    dead_in_a_row = 0, pending_dead = {}, prepared = 0,
  }, Job)
  return job
end

-- Call fn(...) once: the runner never resends (one retry budget per logical call, spent
-- by the transport). Results: true, value, extra | false, msg, code, detail, class; a
-- transient failure ("retry") becomes "fatal": the run stops, its checkpoint stays and the
-- next run goes on from it. A Lua error in fn is fatal.
function Job:attempt(what, fn, ...)
  local ok, value, err, code, detail = pcall(fn, ...)
  if not ok then
    return false, "sync.run: " .. what .. " raised an error: " .. tostring(value), "ERROR", nil, "fatal"
  end
  if value ~= nil and value ~= false then return true, value, err end
  if err == nil then return true, nil end        -- end of a source
  local class = self.classify(code, detail)
  if class ~= "retry" then return false, err, code, detail, class end
  local sends = type(detail) == "table" and detail.retries_exhausted == true and tonumber(detail.attempts) or 1
  return false, string_format("sync.run: %s failed after %d attempts: %s", what, sends, tostring(err)), code,
    detail, "fatal"
end

function Job:bury(record, stage, msg, code, mapped)
  self.dead = self.dead + 1
  self.dead_in_a_row = self.dead_in_a_row + 1
  local entry = { time = os_date("!%Y-%m-%dT%H:%M:%SZ"), job = self.name, stage = stage, error = tostring(msg),
    code = code, record = record }
  if stage == "sink" then entry.mapped = mapped end
  self.pending_dead[#self.pending_dead + 1] = jsonl.encode(entry)
  if self.dry_run_hook then self.dry_run_hook(record, nil, msg, code) end
end

function Job:accepted(n)
  self.sent = self.sent + n
  if n > 0 then self.dead_in_a_row = 0 end
end

local function rejection(entry)
  if type(entry) == "table" then return entry.error or entry[1] or "refused", entry.code or entry[2] or "REJECTED" end
  return type(entry) == "string" and entry or "refused", "REJECTED"
end

-- items: { {record=, mapped=}, ... }. Bisects a batch the sink refused as a whole so
-- the refused records are found and the others still go through (pushes are upserts).
function Job:send_batch(items)
  local mapped = {}
  for i, item in ipairs(items) do mapped[i] = item.mapped end
  local ok, rejected, code, detail, class = self:attempt("sink", self.sink.send_batch, mapped)
  if ok then
    local refused = type(code) == "table" and code or {}     -- send_batch's second result
    local n = 0
    for i, item in ipairs(items) do
      if refused[i] ~= nil then
        local msg, reason_code = rejection(refused[i])
        self:bury(item.record, "sink", msg, reason_code, item.mapped)
      else
        n = n + 1
      end
    end
    self:accepted(n)
    return true
  end
  if class ~= "refuse" then return nil, rejected, code, detail end
  if #items == 1 then self:bury(items[1].record, "sink", rejected, code, items[1].mapped); return true end
  local half = math_floor(#items / 2)
  local left, right = {}, {}
  for i, item in ipairs(items) do if i <= half then left[#left + 1] = item else right[#right + 1] = item end end
  local done, err, err_code, err_detail = self:send_batch(left)
  if not done then return nil, err, err_code, err_detail end
  return self:send_batch(right)
end

function Job:send(items)
  local sink = self.sink
  if self.dry_run then
    if sink.prepare_batch then
      local mapped = {}
      for i, item in ipairs(items) do mapped[i] = item.mapped end
      local ok, request, code = self:attempt("prepare", sink.prepare_batch, mapped)
      if not ok then return nil, request, code end
      self.prepared = self.prepared + #items
      if self.dry_run_hook then self.dry_run_hook(items, request) end
      return true
    end
    for _, item in ipairs(items) do
      local request, err, code = true, nil, nil
      if sink.prepare then
        local ok
        ok, request, code = self:attempt("prepare", sink.prepare, item.mapped)
        if not ok then err = request; request = nil end
      end
      if request then
        self.prepared = self.prepared + 1
        if self.dry_run_hook then self.dry_run_hook(item.record, request) end
      else
        self:bury(item.record, "prepare", err, code, item.mapped)
      end
    end
    return true
  end
  if sink.send_batch then return self:send_batch(items) end
  for _, item in ipairs(items) do
    local ok, err, code, detail, class = self:attempt("sink", sink.send, item.mapped)
    if ok then self:accepted(1)
    elseif class == "refuse" then self:bury(item.record, "sink", err, code, item.mapped)
    else return nil, err, code, detail end
  end
  return true
end

function Job:map_record(record)
  local ok, mapped, err, code = pcall(self.map, record)
  if not ok then return nil, "map raised an error: " .. tostring(mapped), "MAP" end
  if mapped == nil and err ~= nil then return nil, tostring(err), code or "MAP" end
  return mapped
end

-- Dead-letter file: appended, flushed before the checkpoint that covers the batch;
-- on resume, lines past the checkpoint's byte count (a batch that will be redone)
-- are cut off so a record is never buried twice.
function Job:open_dead_letters(bytes)
  local size = 0
  local f = io_open(self.dead_letter, "rb")
  if f then size = f:seek("end"); f:close() end
  if bytes and size > bytes then
    f = assert(io_open(self.dead_letter, "rb"))
    local kept = f:read(bytes) or ""
    f:close()
    local ok, err, code = core.lock.write_file(self.dead_letter, kept)
    if not ok then return nil, "sync.run: cannot trim dead-letter file: " .. tostring(err), code end
    size = bytes
  end
  self.dead_letter_bytes = size
  return true
end

function Job:write_dead_letters()
  if #self.pending_dead == 0 or self.dry_run then self.pending_dead = {}; return true end
  if not self.dead_letter_file then
    -- the records hold buyers' names, phones and addresses: a new file is created 0600
    -- (core.lock.write_file), then appended to; io.open alone would create it 0644
    local probe = io_open(self.dead_letter, "rb")
    if probe then
      probe:close()
    else
      local made, merr, mcode = core.lock.write_file(self.dead_letter, "")
      if not made then return nil, "sync.run: cannot create dead-letter file: " .. tostring(merr), mcode or "IO" end
    end
    local f, err = io_open(self.dead_letter, "ab")
    if not f then return nil, "sync.run: cannot open dead-letter file: " .. tostring(err), "IO" end
    self.dead_letter_file = f
  end
  local f = self.dead_letter_file
  local ok, err = f:write(table_concat(self.pending_dead, "\n"), "\n")
  if ok then ok, err = f:flush() end
  if not ok then return nil, "sync.run: cannot write dead-letter file: " .. tostring(err), "IO" end
  self.dead_letter_bytes = f:seek("end")
  self.pending_dead = {}
  return true
end

function Job:pages()
  local pages = self.source.pages
  if type(pages) ~= "number" or pages == 0 then pages = self.batches_here or 0 end
  return self.pages_before + pages
end

function Job:save(finished)
  if self.dry_run then return true end
  local cp = {
    position = self.position or "", finished = finished, read = self.read, sent = self.sent, skipped = self.skipped,
    dead = self.dead, pages = self:pages(), batches = self.batches, retries = self.retries,
    dead_letter_bytes = self.dead_letter_bytes, started_at = self.started_at, saved_at = core.clock.now_ms(),
    resumes = self.resumes,
  }
  -- written once: a store that fails stops the run (the last checkpoint saved stays)
  local ok, err, code = self.state:set(checkpoint.key(self.name), checkpoint.encode(cp))
  if ok then return true end
  return nil, "sync.run: cannot save checkpoint: " .. tostring(err), code or "STATE"
end

function Job:take_lock()
  if self.dry_run or type(self.state.lock) ~= "function" then return true end
  local key = checkpoint.lock_key(self.name)
  if self.lock_id then self.state:unlock(key, self.lock_id) end
  local id, err, code = self.state:lock(key, self.lease)
  if id == nil then return nil, "sync.run: cannot lock job " .. self.name .. ": " .. tostring(err), code end
  if id == false then
    return nil, "sync.run: job " .. self.name .. " is running elsewhere (its lock is held)", "BUSY"
  end
  self.lock_id, self.lock_taken = id, self.clock()
  return true
end

-- The lease starts again while the job lives (a store without renew: unlock, lock again).
function Job:renew_lock()
  if type(self.state.renew) ~= "function" then return self:take_lock() end
  local renewed, err, code = self.state:renew(checkpoint.lock_key(self.name), self.lock_id, self.lease)
  if renewed == nil then
    return nil, "sync.run: cannot renew the lock of job " .. self.name .. ": " .. tostring(err), code
  end
  if not renewed then
    return nil, "sync.run: job " .. self.name .. " lost its lock (its lease ran out)", "BUSY"
  end
  self.lock_taken = self.clock()
  return true
end

function Job:release_lock()
  if self.lock_id then self.state:unlock(checkpoint.lock_key(self.name), self.lock_id) end
  self.lock_id = nil
end

function Job:summary()
  local seconds = (self.clock() - self.t0) / 1000
  return {
    name = self.name, read = self.read, sent = self.sent, skipped = self.skipped, dead = self.dead,
    pages = self:pages(), batches = self.batches, retries = self.retries, resumed = self.resumes > 0,
    seconds = seconds, rate = seconds > 0 and self.read / seconds or 0, dry_run = self.dry_run and true or nil,
    prepared = self.dry_run and self.prepared or nil, dead_letter = self.dead_letter, position = self.position,
  }
end

function Job:show_progress(force)
  if self.mode ~= "tty" then return end
  local now = self.clock()
  if not force and self.shown and now - self.shown < 200 then return end
  self.shown = now
  local total = self.total or (type(self.source.total) == "number" and self.source.total) or nil
  self.output:write("\r", report.progress_line(self:summary(), total), "\27[K")
  self.output:flush()
end

function Job:finish(status, msg, code)
  self:release_lock()
  if self.dead_letter_file then self.dead_letter_file:close(); self.dead_letter_file = nil end
  local s = self:summary()
  if status == "ok" and s.dead > 0 then status = "dead_letters" end
  s.status, s.error, s.code = status, msg, code
  s.exit_code = status == "ok" and 0 or status == "dead_letters" and 1 or 2
  if self.mode == "tty" then
    self:show_progress(true)
    self.output:write("\n", report.human_summary(s), "\n")
  elseif self.mode == "machine" then
    self.output:write(report.machine_line(s), "\n")
  end
  if self.output then self.output:flush() end
  if status == "failed" then return nil, msg, code, s end
  return s
end

-- One batch: read, map, send, bury, checkpoint. Returns true, ended | nil, msg, code.
function Job:step()
  local items, ended = {}, false
  while #items < self.batch do
    local ok, record, code = self:attempt("source", self.source.next, self.source)
    if not ok then return nil, record, code end
    if record == nil then ended = true; break end
    self.read = self.read + 1
    local mapped, err, err_code = self:map_record(record)
    if mapped ~= nil then items[#items + 1] = { record = record, mapped = mapped }
    elseif err then self:bury(record, "map", err, err_code)
    else self.skipped = self.skipped + 1 end
  end
  local position = self.source:position()
  if #items > 0 then
    local ok, err, code = self:send(items)
    if not ok then return nil, err, code end
  end
  if self.dead_in_a_row >= self.max_dead_in_a_row then
    return nil, string_format("sync.run: %d records in a row refused; stopping (check the sink)", self.dead_in_a_row),
      "DEAD_LETTERS"
  end
  local ok, err, code = self:write_dead_letters()
  if not ok then return nil, err, code end
  if #items > 0 or position ~= self.position then
    self.batches, self.batches_here = self.batches + 1, (self.batches_here or 0) + 1
  end
  self.position = position
  ok, err, code = self:save(ended)
  if not ok then return nil, err, code end
  if not ended and self.lock_id and self.clock() - self.lock_taken > self.lease / 2 then
    ok, err, code = self:renew_lock()
    if not ok then return nil, err, code end
  end
  self:show_progress(ended)
  return true, ended
end

--------------------------------------------------------------------------------------
--------------------------------------------------------------------------------------
-- mallapi.sync.run(opts) -> summary | nil, msg, code, summary
function M.run(opts)
  if type(opts) == "table" then opts = units.apply(opts, "sync.run", 2) end
  local job = new_job(opts)
  if type(opts.dry_run) == "function" then job.dry_run_hook = opts.dry_run end
  job.t0 = job.clock()
  local ok, err, code = job:take_lock()
  if not ok then return job:finish("failed", err, code) end
  local text
  text, err, code = job.state:get(checkpoint.key(job.name))
  if text == nil and err ~= nil then return job:finish("failed", "sync.run: cannot read checkpoint: " .. err, code) end
  local cp = checkpoint.decode(text)
  if text ~= nil and not cp then
    return job:finish("failed", "sync.run: checkpoint of job " .. job.name .. " is not a sync checkpoint", "STATE")
  end
  local bytes
  if cp and not cp.finished then              -- resume the run that was interrupted
    for _, key in ipairs({ "read", "sent", "skipped", "dead", "batches", "retries" }) do job[key] = cp[key] or 0 end
    job.pages_before, job.resumes = cp.pages or 0, (cp.resumes or 0) + 1
    job.started_at, bytes = cp.started_at, cp.dead_letter_bytes
  end
  job.started_at = job.started_at or core.clock.now_ms()
  job.position = cp and cp.position or nil
  if not job.dry_run then
    ok, err, code = job:open_dead_letters(bytes)
    if not ok then return job:finish("failed", err, code) end
  end
  ok, err, code = job:attempt("source", job.source.open, job.source, job.position ~= "" and job.position or nil)
  if not ok then return job:finish("failed", err, code) end
  while true do
    local done, ended_or_msg, step_code = job:step()
    if not done then return job:finish("failed", ended_or_msg, step_code) end
    if ended_or_msg then return job:finish("ok") end
    if opts.should_stop and opts.should_stop() then   -- drain (fleet worker): checkpoint saved, resume later
      return job:finish("stopped", "sync.run: stopped after a batch", "STOPPED")
    end
  end
end

-- For scripts: run, print the summary, exit 0 (all sent), 1 (dead letters) or 2 (failed).
function M.main(opts)
  local summary, _, _, failed = M.run(opts)
  os.exit((summary or failed).exit_code)
end

return M
