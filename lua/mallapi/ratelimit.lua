-- mallapi.ratelimit: a token bucket per vendor app (vendor + credential) that every
-- process draws from before a request. Kept in Redis (one EVAL per request, Redis's own
-- clock, so machines need not agree on time), in an OpenResty lua_shared_dict, or in
-- process memory. On a 429 the bucket's rate is halved (down to min_factor) and climbs
-- back linearly over recover_s, in the spirit of botocore's adaptive retry mode. A wait
-- is reserved only when it fits in the caller's deadline (max_wait_ms), so waiting for
-- the bucket counts against the call's own timeout. See doc/fleet.md.
--
--   local rl = ratelimit.redis(store, "acme:my-appid", { per_second = 10, burst = 5 })
--   mallapi.client("acme", { ..., limiter = rl })   -- client:exchange draws from it
local type, error, tostring, tonumber, setmetatable = type, error, tostring, tonumber, setmetatable
local math_min, math_max, math_ceil, string_format = math.min, math.max, math.ceil, string.format
local core = require "mallapi.core"

local M = {}

-- The bucket step shared by the memory and shared-dict variants (the Redis script
-- below is the same arithmetic). state = { tokens, ts_ms, factor, throttled_ms }.
-- Returns the wait in ms (the token is reserved), or nil, wait when it would exceed max_wait_ms.
function M.step(state, now_ms, rate, burst, max_wait_ms, recover_ms)
  local factor = state.factor or 1
  if factor < 1 and state.throttled_ms then
    factor = math_min(1, factor + (1 - factor) * (now_ms - state.throttled_ms) / recover_ms)
  end
  local r = rate * factor / 1000                   -- tokens per ms
  local tokens = state.tokens or burst
  if state.ts_ms then tokens = math_min(burst, tokens + (now_ms - state.ts_ms) * r) end
  local wait = tokens >= 1 and 0 or math_ceil((1 - tokens) / r)
  if wait > max_wait_ms then return nil, wait end
  state.tokens, state.ts_ms = tokens - 1, now_ms
  return wait
end

function M.throttle(state, now_ms, min_factor, recover_ms)
  local factor = state.factor or 1
  if factor < 1 and state.throttled_ms then
    factor = math_min(1, factor + (1 - factor) * (now_ms - state.throttled_ms) / recover_ms)
  end
  state.factor, state.throttled_ms = math_max(min_factor, factor / 2), now_ms
  if state.tokens and state.tokens > 0 then state.tokens = 0 end
end

-- KEYS[1] bucket hash; ARGV rate, burst, max_wait_ms, recover_ms, op ("take"|"throttle"), min_factor.
local SCRIPT = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, max_wait, recover = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'factor', 'throttled')
local tokens, ts, factor, throttled = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]) or 1, tonumber(s[4])
if factor < 1 and throttled then factor = math.min(1, factor + (1 - factor) * (now - throttled) / recover) end
if ARGV[5] == 'throttle' then
  factor = math.max(tonumber(ARGV[6]), factor / 2)
  if tokens and tokens > 0 then tokens = 0 end
  redis.call('HSET', KEYS[1], 'factor', tostring(factor), 'throttled', now, 'tokens', tostring(tokens or 0), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return 0
end
local r = rate * factor / 1000
if not tokens then tokens = burst elseif ts then tokens = math.min(burst, tokens + (now - ts) * r) end
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) / r) end
if wait > max_wait then return -wait end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'ts', now, 'factor', tostring(factor))
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
]]

local Limiter = {}
Limiter.__index = Limiter
Limiter.__tostring = function(self) return "mallapi.ratelimit(" .. self.kind .. ", " .. self.name .. ")" end

local function check_rate(fn, name, rate)
  if type(name) ~= "string" or name == "" then error("bad argument #2 to '" .. fn .. "' (bucket name expected)", 3) end
  if type(rate) ~= "table" or type(rate.per_second) ~= "number" or rate.per_second <= 0 then
    error("bad argument #3 to '" .. fn .. "' (rate = { per_second = n > 0, burst = n } expected)", 3)
  end
  local burst = rate.burst or math_max(1, rate.per_second)
  if type(burst) ~= "number" or burst < 1 then error("bad argument #3 to '" .. fn .. "' (burst must be >= 1)", 3) end
  return {
    name = name, per_second = rate.per_second, burst = burst,
    min_factor = rate.min_factor or 0.1, recover_ms = (rate.recover_s or 10) * 1000,
    sleep = rate.sleep or core.clock.sleep_ms,
    stats = { requests = 0, waits = 0, wait_ms = 0, throttled = 0, refused = 0, errors = {} },
  }
end

-- Before a request: wait for a token, at most max_wait_ms. Returns the ms waited, or
-- nil, msg, "RATE_LIMIT" (nothing taken) when the wait would not fit.
function Limiter:wait(max_wait_ms)
  local wait, err, code = self:reserve(max_wait_ms or 30000)
  if wait == nil then
    if code == nil then
      self.stats.refused = self.stats.refused + 1
      return nil, string_format("rate limit %s: next token in %d ms, beyond the call's deadline", self.name, err),
        "RATE_LIMIT"
    end
    return nil, err, code
  end
  self.stats.requests = self.stats.requests + 1
  if wait > 0 then
    self.stats.waits, self.stats.wait_ms = self.stats.waits + 1, self.stats.wait_ms + wait
    self.sleep(wait)
  end
  return wait
end

-- After an answer: a 429 slows the bucket down; errors are counted by code.
function Limiter:after(status, code)
  if code then self.stats.errors[code] = (self.stats.errors[code] or 0) + 1 end
  if status == 429 then
    self.stats.throttled = self.stats.throttled + 1
    return self:throttle()
  end
  return true
end

-- Redis variant: store is a mallapi.store.redis (its prefix applies).
local RedisLimiter = setmetatable({ kind = "redis" }, { __index = Limiter })
RedisLimiter.__index, RedisLimiter.__tostring = RedisLimiter, Limiter.__tostring

function M.redis(store, name, rate)
  if type(store) ~= "table" or type(store.command) ~= "function" then
    error("bad argument #1 to 'ratelimit.redis' (redis store expected)", 2)
  end
  local self = check_rate("ratelimit.redis", name, rate)
  self.store, self.key = store, store.prefix .. "rate:" .. name
  return setmetatable(self, RedisLimiter)
end

function RedisLimiter:eval(max_wait_ms, op)
  return self.store:command("EVAL", SCRIPT, 1, self.key, tostring(self.per_second), tostring(self.burst),
    string_format("%d", max_wait_ms), string_format("%d", self.recover_ms), op, tostring(self.min_factor))
end

function RedisLimiter:reserve(max_wait_ms)
  local wait, err, code = self:eval(max_wait_ms, "take")
  if wait == nil then return nil, "ratelimit: " .. tostring(err), code or "STORE" end
  if wait < 0 then return nil, -wait end
  return wait
end

function RedisLimiter:throttle()
  local ok, err, code = self:eval(0, "throttle")
  if ok == nil then return nil, err, code end
  return true
end

-- Memory / shared-dict variants share M.step; `dict` has get/set (ngx.shared.DICT or a table shim).
local DictLimiter = setmetatable({ kind = "dict" }, { __index = Limiter })
DictLimiter.__index, DictLimiter.__tostring = DictLimiter, Limiter.__tostring

local function table_dict()
  local t = {}
  return { get = function(_, k) return t[k] end, set = function(_, k, v) t[k] = v; return true end }
end

local function dict_state(self)
  local text = self.dict:get(self.key)
  local s = {}
  if text then
    local a, b, c, d = text:match("^([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*)$")
    s.tokens, s.ts_ms, s.factor, s.throttled_ms = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  end
  return s
end

local function dict_save(self, s)
  self.dict:set(self.key, string_format("%s %s %s %s", tostring(s.tokens or ""), tostring(s.ts_ms or ""),
    tostring(s.factor or 1), tostring(s.throttled_ms or "")))
end

-- Under OpenResty the shared dict is one per nginx, shared by its worker processes: the
-- get .. set step runs under a short lock taken with dict:add (atomic across workers).
function M.shdict(dict, name, rate)
  if type(dict) ~= "table" and type(dict) ~= "userdata" then
    error("bad argument #1 to 'ratelimit.shdict' (shared dict expected)", 2)
  end
  local self = check_rate("ratelimit.shdict", name, rate)
  self.dict, self.key = dict, "rate:" .. name
  local nx = rawget(_G, "ngx")
  self.clock = rate.clock or (nx and function() nx.update_time(); return nx.now() * 1000 end) or core.clock.now_ms
  if nx and not rate.sleep then self.sleep = require("mallapi.ngx").sleep_ms end
  self.spin = nx and require("mallapi.ngx").sleep_ms or core.clock.sleep_ms
  return setmetatable(self, DictLimiter)
end

function M.memory(name, rate)
  local self = check_rate("ratelimit.memory", name, rate)
  self.dict, self.key, self.clock = table_dict(), "rate:" .. name, rate.clock or core.clock.monotonic_ms
  return setmetatable(self, DictLimiter)
end

-- fn under the dict's lock (only a shared dict has add; a table dict has one user)
local function locked(self, fn)
  local d = self.dict
  if not d.add then return fn() end
  local lock_key = self.key .. ":lock"
  for _ = 1, 1000 do
    if d:add(lock_key, true, 0.05) then
      local ok, a, b = pcall(fn)
      d:delete(lock_key)
      if not ok then error(a, 0) end
      return a, b
    end
    self.spin(1)
  end
  return nil, "ratelimit: bucket lock " .. self.name .. " not free within 1 s", "RATE_LIMIT"
end

function DictLimiter:reserve(max_wait_ms)
  return locked(self, function()
    local s = dict_state(self)
    local wait, over = M.step(s, self.clock(), self.per_second, self.burst, max_wait_ms, self.recover_ms)
    if wait == nil then return nil, over end
    dict_save(self, s)
    return wait
  end)
end

function DictLimiter:throttle()
  return locked(self, function()
    local s = dict_state(self)
    M.throttle(s, self.clock(), self.min_factor, self.recover_ms)
    dict_save(self, s)
    return true
  end)
end

return M
