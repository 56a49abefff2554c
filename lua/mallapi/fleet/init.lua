-- mallapi.fleet: jobs for many merchant accounts kept as data in one Redis, handed to
-- workers on any number of machines. Each step is one Redis primitive or one script:
--   <p>jobs             set of job ids
--   <p>job:{id}         hash: module, settings (JSON), secrets (JSON refs), interval_s,
--                       paused, and the last run's status/read/sent/dead/duration/lag
--   <p>due              sorted set: job id -> next run (ms, Redis clock)
--   <p>queue            stream of due runs, consumer group "workers" (XREADGROUP/XACK);
--                       an entry whose worker stopped answering is taken over by
--                       XAUTOCLAIM once idle for the lease
--   <p>state:sync:...   checkpoints and job locks (mallapi.sync through store.redis)
--   <p>vendor:<name>    hash of per-vendor counters (requests, waits, errors by code)
-- A job is always in exactly one place: `due` or the stream's pending list, so a crash
-- or a Redis restart (with its AOF) loses none. Secrets are never stored: a definition
-- names an environment variable or a file on the workers. See doc/fleet.md.
local json = require("mallapi").json
local redis_store = require "mallapi.store.redis"

local type, error, tostring, tonumber, pairs, ipairs, setmetatable, pcall =
  type, error, tostring, tonumber, pairs, ipairs, setmetatable, pcall
local string_format, table_sort, os_getenv, io_open = string.format, table.sort, os.getenv, io.open

local M = { GROUP = "workers" }

-- redis://[:password@]host[:port][/db] -> { host=, port=, db=, password= }
function M.parse_url(url)
  if type(url) ~= "string" then error("bad argument #1 to 'fleet.parse_url' (redis URL expected)", 2) end
  local rest = url:match("^redis://(.*)$")
  if not rest then error("bad argument #1 to 'fleet.parse_url' (URL must start with redis://)", 2) end
  local cfg = {}
  local auth, hostpart = rest:match("^([^@]*)@(.*)$")
  if auth then cfg.password = auth:match("^[^:]*:(.*)$") or auth else hostpart = rest end
  local host, port, db = hostpart:match("^([^:/]+):?(%d*)/?(%d*)$")
  if not host then error("bad argument #1 to 'fleet.parse_url' (cannot read host in URL)", 2) end
  cfg.host, cfg.port, cfg.db = host, tonumber(port) or 6379, tonumber(db)
  return cfg
end

local Fleet = {}
Fleet.__index = Fleet
Fleet.__tostring = function(self) return "mallapi.fleet(" .. tostring(self.store) .. ")" end

-- fleet.new{ redis = "redis://127.0.0.1:6379" | { host=, port=, db= }, password =,
--            prefix = "mallapi:fleet:", new_store = mallapi.store.redis.new (or mallapi.ngx.redis_store) }
function M.new(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'fleet.new' (table expected, got " .. type(opts) .. ")", 2)
  end
  local prefix = opts.prefix or "mallapi:fleet:"
  if type(prefix) ~= "string" then error("bad argument #1 to 'fleet.new' (option 'prefix': string expected)", 2) end
  local cfg
  if type(opts.redis) == "string" then
    cfg = M.parse_url(opts.redis)
  elseif type(opts.redis) == "table" and opts.redis.host then
    cfg = opts.redis
  else
    error("bad argument #1 to 'fleet.new' (option 'redis': redis:// URL or { host=, port= } expected)", 2)
  end
  local password = opts.password or cfg.password
  -- new_store(conf) makes the connections: under OpenResty pass mallapi.ngx.redis_store
  local make = opts.new_store or redis_store.new
  local function store(p, timeout_ms)
    return make{ host = cfg.host, port = cfg.port, db = cfg.db, password = password, prefix = p,
      timeout = timeout_ms or opts.timeout_ms or 5000 }
  end
  return setmetatable({ prefix = prefix, store = store(prefix), new_store = store }, Fleet)
end

function Fleet:key(name) return self.prefix .. name end
function Fleet:job_key(id) return self.prefix .. "job:{" .. id .. "}" end

-- The store for checkpoints and job locks (one connection per caller).
function Fleet:state_store() return self.new_store(self.prefix .. "state:") end

local function fail(err, code) return nil, "fleet: " .. tostring(err), code or "STORE" end

local function check_id(fn, id)
  if type(id) ~= "string" or not id:match("^[%w_.:%-]+$") then
    error("bad argument #1 to 'fleet." .. fn .. "' (job id of letters, digits, _ . : - expected)", 3)
  end
end

local function check_secrets(secrets)
  for name, ref in pairs(secrets or {}) do
    local named = type(ref) == "table" and (type(ref.env) == "string" or type(ref.file) == "string")
    if type(name) ~= "string" or not named then
      error("bad argument #2 to 'fleet.add' (option 'secrets': each secret must be { env = VAR } or { file = path " ..
          "}, never a value)", 3)
    end
  end
end

-- fleet:add(id, { module =, settings = {}, interval_s = 300, secrets = { key = { env = "VAR" } } })
function Fleet:add(id, def)
  check_id("add", id)
  if type(def) ~= "table" then error("bad argument #2 to 'fleet.add' (job definition table expected)", 2) end
  if type(def.module) ~= "string" or def.module == "" then
    error("bad argument #2 to 'fleet.add' (option 'module': Lua module name or .lua file path expected)", 2)
  end
  local interval = def.interval_s or 300
  if type(interval) ~= "number" or interval <= 0 then
    error("bad argument #2 to 'fleet.add' (option 'interval_s': positive number expected)", 2)
  end
  if def.settings ~= nil and type(def.settings) ~= "table" then
    error("bad argument #2 to 'fleet.add' (option 'settings': table expected)", 2)
  end
  check_secrets(def.secrets)
  local s = self.store
  local _, err, code = s:command("HSET", self:job_key(id), "module", def.module,
    "settings", json.encode(def.settings or {}), "secrets", json.encode(def.secrets or {}),
    "interval_s", tostring(interval), "paused", def.paused and "1" or "0")
  if err then return fail(err, code) end
  _, err, code = s:command("SADD", self:key("jobs"), id)
  if err then return fail(err, code) end
  -- due now unless already scheduled (NX) or on its way through the stream
  local at = def.start_at_ms or 0
  _, err, code = s:command("ZADD", self:key("due"), "NX", string_format("%d", at), id)
  if err then return fail(err, code) end
  return true
end

local JOB_NUMBERS = { "interval_s", "runs", "read", "sent", "dead", "retries", "duration_ms", "lag_ms", "finished_at",
  "started_at", "next_at" }

local function decode_hash(flat)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

function Fleet:get(id)
  check_id("get", id)
  local flat, err, code = self.store:command("HGETALL", self:job_key(id))
  if flat == nil then return fail(err, code) end
  if #flat == 0 then return nil end
  local h = decode_hash(flat)
  local job = { id = id, module = h.module, paused = h.paused == "1", status = h.status, error = h.error,
    worker = h.worker }
  for _, k in ipairs(JOB_NUMBERS) do job[k] = tonumber(h[k]) end
  local ok, settings = pcall(json.decode, h.settings or "{}")
  job.settings = ok and settings or {}
  local ok2, secrets = pcall(json.decode, h.secrets or "{}")
  job.secrets = ok2 and secrets or {}
  local score = self.store:command("ZSCORE", self:key("due"), id)
  job.next_at = tonumber(score)
  return job
end

-- Every job (sorted by id) with its last run.
function Fleet:list()
  local ids, err, code = self.store:command("SMEMBERS", self:key("jobs"))
  if ids == nil then return fail(err, code) end
  table_sort(ids)
  local jobs = {}
  for _, id in ipairs(ids) do
    local job = self:get(id)
    if job then jobs[#jobs + 1] = job end
  end
  return jobs
end

function Fleet:remove(id)
  check_id("remove", id)
  local n, err, code = self.store:command("DEL", self:job_key(id))
  if err then return fail(err, code) end
  self.store:command("SREM", self:key("jobs"), id)
  self.store:command("ZREM", self:key("due"), id)
  return n == 1
end

function Fleet:pause(id, paused)
  check_id("pause", id)
  if paused == nil then paused = true end
  local n, err, code = self.store:command("EVAL",
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], 'paused', ARGV[1]) return 1",
    1, self:job_key(id), paused and "1" or "0")
  if err then return fail(err, code) end
  return n == 1
end

-- Move due jobs (at most `limit`) from the schedule into the stream. Any worker runs it;
-- the script is atomic, so a job is dispatched once however many workers tick.
local TICK = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for i = 1, #ids, 2 do
  local id, due = ids[i], ids[i + 1]
  local job = ARGV[1] .. 'job:{' .. id .. '}'
  local h = redis.call('HMGET', job, 'paused', 'interval_s')
  if not h[2] then
    redis.call('ZREM', KEYS[1], id)
  elseif h[1] == '1' then
    redis.call('ZADD', KEYS[1], now + tonumber(h[2]) * 1000, id)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('XADD', KEYS[2], '*', 'job', id, 'due', due)
    n = n + 1
  end
end
return n
]]

function Fleet:ensure_group()
  if self.group_ready then return true end
  local _, err, code = self.store:command("XGROUP", "CREATE", self:key("queue"), M.GROUP, "0", "MKSTREAM")
  if err and not tostring(err):find("BUSYGROUP", 1, true) then return fail(err, code) end
  self.group_ready = true
  return true
end

function Fleet:tick(limit)
  local ok, gerr, gcode = self:ensure_group()
  if not ok then return nil, gerr, gcode end
  local n, err, code = self.store:command("EVAL", TICK, 2, self:key("due"), self:key("queue"), self.prefix,
    tostring(limit or 100))
  if n == nil then return fail(err, code) end
  return n
end

local function entry_of(item)
  if type(item) ~= "table" or type(item[2]) ~= "table" then return nil end
  local fields = decode_hash(item[2])
  return { entry = item[1], job = fields.job, due = tonumber(fields.due) }
end

-- One run for `consumer`: first an entry idle longer than lease_ms (its worker died),
-- else a new one, waiting up to block_ms. Returns { entry=, job=, due=, claimed= } or false.
function Fleet:claim(consumer, lease_ms, block_ms, store)
  local s = store or self.store
  local ok, gerr, gcode = self:ensure_group()
  if not ok then return nil, gerr, gcode end
  local r, err, code = s:command("XAUTOCLAIM", self:key("queue"), M.GROUP, consumer,
    string_format("%d", lease_ms), "0-0", "COUNT", "1")
  if r == nil then return fail(err, code) end
  local e = type(r[2]) == "table" and entry_of(r[2][1])
  if e then e.claimed = true; return e end
  r, err, code = s:command("XREADGROUP", "GROUP", M.GROUP, consumer, "COUNT", "1",
    "BLOCK", string_format("%d", block_ms or 1000), "STREAMS", self:key("queue"), ">")
  if err then return fail(err, code) end
  if type(r) ~= "table" or type(r[1]) ~= "table" or type(r[1][2]) ~= "table" then return false end
  return entry_of(r[1][2][1]) or false
end

-- The worker still runs this entry: reset its idle time so no one takes it over.
function Fleet:heartbeat(consumer, entry, store)
  local _, err, code = (store or self.store):command("XCLAIM", self:key("queue"), M.GROUP, consumer, "0", entry,
    "JUSTID")
  if err then return fail(err, code) end
  return true
end

-- Ack a run and schedule the next one; the last run's figures go to the job's hash.
-- An entry acked already (a second runner of a taken-over entry) changes nothing; a
-- failed run comes back after min(interval, 60 s).
local FINISH = [[
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 0 then return 1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == 'requeue' then
  redis.call('XADD', KEYS[1], '*', 'job', ARGV[4], 'due', ARGV[5])
  redis.call('HSET', KEYS[3], 'status', 'requeued')
  return 1
end
local interval = tonumber(redis.call('HGET', KEYS[3], 'interval_s')) or 300
if ARGV[3] == 'failed' then interval = math.min(interval, 60) end   -- a failed run is tried again soon
redis.call('ZADD', KEYS[2], now + interval * 1000, ARGV[4])
redis.call('HSET', KEYS[3], 'status', ARGV[3], 'read', ARGV[6], 'sent', ARGV[7], 'dead', ARGV[8],
  'duration_ms', ARGV[9], 'lag_ms', ARGV[10], 'error', ARGV[11], 'worker', ARGV[12], 'finished_at', now,
  'retries', ARGV[13])
redis.call('HINCRBY', KEYS[3], 'runs', 1)
return 1
]]

local function num(v) return string_format("%d", tonumber(v) or 0) end

function Fleet:finish(e, result, store)
  result = result or {}
  local r, err, code = (store or self.store):command("EVAL", FINISH, 3, self:key("queue"), self:key("due"),
    self:job_key(e.job), M.GROUP, e.entry, result.status or "ok", e.job, num(e.due),
    num(result.read), num(result.sent), num(result.dead), num(result.duration_ms), num(result.lag_ms),
    result.error or "", result.worker or "", num(result.retries))
  if r == nil then return fail(err, code) end
  return r == 1
end

-- Hand a run back at once (a draining worker): another worker picks it up and resumes.
function Fleet:requeue(e, store)
  return self:finish(e, { status = "requeue" }, store)
end

-- Add per-vendor counters (a worker after each run).
function Fleet:count_vendor(name, counters, store)
  local args = {}
  for k, v in pairs(counters) do
    if v ~= 0 then args[#args + 1] = k; args[#args + 1] = v end
  end
  if #args == 0 then return true end
  local script = "redis.call('SADD', KEYS[2], ARGV[1]) for i = 2, #ARGV, 2 do "
    .. "redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end return 1"
  local _, err, code = (store or self.store):command("EVAL", script, 2, self:key("vendor:" .. name),
    self:key("vendors"), name, (table.unpack or unpack)(args))
  if err then return fail(err, code) end
  return true
end

function Fleet:vendors()
  local names, err, code = self.store:command("SMEMBERS", self:key("vendors"))
  if names == nil then return fail(err, code) end
  table_sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local flat = self.store:command("HGETALL", self:key("vendor:" .. name)) or {}
    local h = decode_hash(flat)
    for k, v in pairs(h) do h[k] = tonumber(v) or v end
    out[#out + 1] = { name = name, counters = h }
  end
  return out
end

-- Queue depth and pending runs, for metrics and `jobs list`.
function Fleet:queue_stats()
  local due = self.store:command("ZCOUNT", self:key("due"), "-inf", "+inf") or 0
  local pending = self.store:command("XPENDING", self:key("queue"), M.GROUP)
  return { scheduled = due, pending = type(pending) == "table" and tonumber(pending[1]) or 0,
    stream = self.store:command("XLEN", self:key("queue")) or 0 }
end

-- A secret named by a job definition: { env = "VAR" } or { file = "/path" } on this worker.
function M.resolve_secret(ref)
  if type(ref) ~= "table" then return nil, "secret reference must be { env = } or { file = }", "CONFIG" end
  if ref.env then
    local v = os_getenv(ref.env)
    if v == nil or v == "" then return nil, "secret: environment variable " .. ref.env .. " is not set", "CONFIG" end
    return v
  end
  local f, ferr = io_open(ref.file, "r")
  if not f then return nil, "secret: cannot read " .. ref.file .. ": " .. tostring(ferr), "CONFIG" end
  local v = f:read("*a"):gsub("%s+$", "")
  f:close()
  return v
end

return M
