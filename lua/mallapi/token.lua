-- mallapi.token: one live token per vendor account (key), shared through a store by
-- every coroutine, process and machine using the account; refreshed ahead of expiry
-- in an advisory and a mandatory window, one refresh at a time (the store's lock),
-- and re-acquired only when the token in hand is really dead. The OS pieces (locks,
-- atomic files, clocks, window arithmetic) are C (core.lock); this file orchestrates.
local core = require "mallapi.core"
local record_codec = require "mallapi.record_codec"

local setmetatable, type, error, tostring, tonumber, pcall, select =
  setmetatable, type, error, tostring, tonumber, pcall, select
local string_format, math_floor, math_max = string.format, math.floor, math.max
local MAX_LIFETIME_S = 10 * 366 * 86400          -- 10 years
local unpack = table.unpack or unpack -- luacheck: ignore 143
local lock = core.lock

local M = {}

local DEFAULTS = { mandatory_window = 60000, lease = 15000, wait = 30000, poll = 50, retry_interval = 30000 }
local RECORD_MAGIC = "mallapi-token 1"
local RECORD_FIELDS = { "token", "expires_at", "fetched_at", "generation", "source" }

-- Records in the store: the shared record text (mallapi.record_codec): a magic line,
-- then one "name=value" line per field.
function M.encode_record(rec) return record_codec.encode(RECORD_MAGIC, RECORD_FIELDS, rec) end

function M.decode_record(text)
  local rec = record_codec.decode(RECORD_MAGIC, text)
  if not rec then return nil end
  rec.expires_at, rec.fetched_at = tonumber(rec.expires_at), tonumber(rec.fetched_at)
  rec.generation = tonumber(rec.generation) or 0
  if type(rec.token) ~= "string" or rec.token == "" or not rec.expires_at or not rec.fetched_at then return nil end
  return rec
end

local function mask(token)
  if type(token) ~= "string" then return nil end
  return token:sub(1, 3) .. "..." .. "(" .. #token .. " chars)"
end

-- Remove every occurrence of the given secrets from a message (plain text).
local function scrub(msg, ...)
  msg = tostring(msg)
  for i = 1, select("#", ...) do
    local secret = select(i, ...)
    if type(secret) == "string" and #secret >= 4 then
      local from = 1
      while true do
        local s, e = msg:find(secret, from, true)
        if not s then break end
        msg = msg:sub(1, s - 1) .. "***" .. msg:sub(e + 1)
        from = s + 3
      end
    end
  end
  return msg
end

-- The engine's sleep (mallapi.clock): blocking, or what an adapter installed (inside
-- nginx a waiter must yield to the worker, not block it; mallapi.ngx installs that).
local engine_clock = require "mallapi.clock"
local units = require "mallapi.units"
local errors = require "mallapi.errors"
local function default_sleep(ms) return engine_clock.sleep_ms(ms) end

local function default_log(level, message)
  if level == "warn" or level == "error" then io.stderr:write("mallapi ", level, ": ", message, "\n") end
end

local Manager = {}
Manager.__index = Manager

function Manager:__tostring()
  return string_format("mallapi.token(key=%s, store=%s, phase=%s)", self.key, tostring(self.store),
                       self.cache and self:phase(self.cache) or "empty")
end

local function check_ms(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < 0 then
    error("bad argument #1 to 'mallapi.token.new' (option '" .. name .. "': milliseconds >= 0 expected, got "
          .. tostring(v) .. ")", 3)
  end
  return v
end

-- Function-valued options of M.new, reported at M.new's caller.
local function check_fn(opts, name, default)
  local v = errors.option("mallapi.token.new", opts, name, "function", default, 3)
  return v   -- not a tail call: the level counts this frame
end

-- mallapi.token.new{ key=, fetch=, store=, advisory_window=, mandatory_window=,
--   lease=, wait=, poll=, retry_interval=, clock=, sleep=, log= }. Times in ms;
-- see doc/tokens.md.
function M.new(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'mallapi.token.new' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = units.apply(opts, "mallapi.token.new")   -- lease_ms, wait_ms ... (old names: aliases)
  if type(opts.key) ~= "string" or opts.key == "" then
    error("bad argument #1 to 'mallapi.token.new' (option 'key': non-empty string expected, got "
      .. type(opts.key) .. ")", 2)
  end
  if type(opts.fetch) ~= "function" then
    error("bad argument #1 to 'mallapi.token.new' (option 'fetch': function expected, got "
      .. type(opts.fetch) .. ")", 2)
  end
  local store = opts.store
  if store == nil then
    store = require("mallapi.store.memory").new()
  elseif type(store) ~= "table" or type(store.get) ~= "function" or type(store.set) ~= "function"
      or type(store.lock) ~= "function" or type(store.unlock) ~= "function" then
    error("bad argument #1 to 'mallapi.token.new' (option 'store': store with get, set, lock, unlock expected)", 2)
  end
  local self = setmetatable({
    key = opts.key, fetch = opts.fetch, store = store,
    advisory_window = check_ms(opts, "advisory_window", nil),
    mandatory_window = check_ms(opts, "mandatory_window", DEFAULTS.mandatory_window),
    lease = check_ms(opts, "lease", DEFAULTS.lease),
    wait = check_ms(opts, "wait", DEFAULTS.wait),
    poll = check_ms(opts, "poll", DEFAULTS.poll),
    retry_interval = check_ms(opts, "retry_interval", DEFAULTS.retry_interval),
    clock = check_fn(opts, "clock", core.clock.now_ms),
    sleep = check_fn(opts, "sleep", default_sleep),
    log = check_fn(opts, "log", default_log),
    cache = nil, source = nil,
  }, Manager)
  if self.lease < 1 then error("bad argument #1 to 'mallapi.token.new' (option 'lease': must be at least 1 ms)", 2) end
  return self
end

function Manager:phase(rec, now)
  return lock.phase(now or self.clock(), rec.fetched_at, rec.expires_at, self.advisory_window, self.mandatory_window)
end

-- A record callers may use now: not the dead token, and outside the mandatory window.
function Manager:usable(rec, dead_token)
  if not rec or rec.token == dead_token then return false end
  local phase = self:phase(rec)
  return phase == "fresh" or phase == "advisory"
end

-- After `dead_token` was refused: may the store's record replace it? Only a usable record
-- newer than the refused one (a later generation, or the same generation fetched later);
-- an older token in the store is likely dead too, and a fresh fetch is what works. When
-- the refused record is unknown (dead_rec nil), any other usable token is tried once.
function Manager:replaces(stored, dead_token, dead_rec)
  if not self:usable(stored, dead_token) then return false end
  if not dead_rec then return true end
  local g, dg = stored.generation or 0, dead_rec.generation or 0
  return g > dg or (g == dg and (stored.fetched_at or 0) > (dead_rec.fetched_at or 0))
end

function Manager:adopt(rec, source)
  self.cache, self.source = rec, source
  return rec.token
end

-- The store's record for the key: rec | nil (none or unreadable) | nil, msg, code
function Manager:read_store()
  local text, err, code = self.store:get(self.key)
  if err then return nil, scrub(err, self.cache and self.cache.token), code end
  return M.decode_record(text)
end

-- Call fetch, save the new record in the store. Must hold the store lock.
-- Returns the record, or nil, msg, code (msg without the tokens we know).
function Manager:fetch_and_save(previous)
  local ok, token, expires_in, code = pcall(self.fetch)
  local known = previous and previous.token
  if not ok then return nil, "fetch raised: " .. scrub(token, known, self.cache and self.cache.token), "AUTH" end
  if token == nil then
    return nil, scrub(expires_in or "fetch returned no token", known, self.cache and self.cache.token),
           type(code) == "string" and code or "AUTH"
  end
  if type(token) ~= "string" or token == "" or type(expires_in) ~= "number"
      or expires_in ~= expires_in or expires_in <= 0 then
    return nil, "fetch returned no token and lifetime (expected token string, expires_in seconds > 0)", "AUTH"
  end
  -- a lifetime past any real token's (up to math.huge) is capped, so that times in ms stay
  -- integers (string.format("%d") and the store's TTL refuse 9.2e18 s * 1000)
  if expires_in > MAX_LIFETIME_S then expires_in = MAX_LIFETIME_S end
  local now = self.clock()
  local generation = math_max(previous and previous.generation or 0, self.cache and self.cache.generation or 0) + 1
  local rec = { token = token, fetched_at = now, expires_at = now + math_floor(expires_in * 1000),
                generation = generation, source = "pid " .. lock.pid() }
  local saved, err = self.store:set(self.key, M.encode_record(rec), math_floor(expires_in * 1000))
  if not saved then
    self.log("warn", string_format("token: could not save the new token of key %s in the store: %s",
                                   self.key, scrub(err, token)))
  end
  self.log("info", string_format("token: fetched a new token for key %s (generation %d, expires in %d s)",
                                 self.key, generation, math_floor(expires_in)))
  self:adopt(rec, "fetch")
  return rec
end

local function release(self, lock_id)
  local ok, err = self.store:unlock(self.key, lock_id)
  if ok == nil then self.log("warn", "token: releasing the refresh lock of key " .. self.key .. " failed: " .. err) end
end

-- Advisory window: refresh if nobody else is; never wait; on failure keep rec and
-- let this manager try again only after retry_interval (a failing endpoint is not
-- hit on every call).
function Manager:refresh_advisory(rec)
  if self.advisory_retry_at and self.clock() < self.advisory_retry_at then return rec.token end
  local lock_id, err = self.store:lock(self.key, self.lease)
  if not lock_id then
    if err then self.log("warn", "token: advisory refresh of key " .. self.key .. " skipped: " .. err) end
    return rec.token
  end
  local stored = self:read_store()
  if stored and stored.token ~= rec.token and self:usable(stored) then
    release(self, lock_id)
    return self:adopt(stored, "store")
  end
  local fresh, ferr = self:fetch_and_save(stored or rec)
  release(self, lock_id)
  if not fresh then
    self.advisory_retry_at = self.clock() + self.retry_interval
    self.log("warn", string_format("token: advisory refresh failed for key %s, keeping the current token: %s",
                                   self.key, ferr))
    return rec.token
  end
  self.advisory_retry_at = nil
  return fresh.token
end

-- Mandatory window, no token, or a dead token: one caller fetches, the others wait
-- (at most self.wait ms) and read the new token from the store.
function Manager:refresh_wait(api, dead_token, dead_rec)
  local started, slept = core.clock.monotonic_ms(), 0
  while true do
    local lock_id, err, code = self.store:lock(self.key, self.lease)
    if lock_id == nil then
      return nil, string_format("%s: store failed for key %s: %s", api, self.key, tostring(err)), code or "STORE"
    end
    if lock_id then
      local stored = self:read_store()
      if self:replaces(stored, dead_token, dead_rec) then
        release(self, lock_id)
        return self:adopt(stored, "store")
      end
      local fresh, ferr, fcode = self:fetch_and_save(stored or self.cache)
      release(self, lock_id)
      if fresh then return fresh.token end
      return nil, string_format("%s: refresh failed for key %s: %s", api, self.key, ferr), fcode
    end
    local waited = math_max(slept, core.clock.monotonic_ms() - started)
    if waited >= self.wait then
      return nil, string_format("%s: timed out after %d ms waiting for another refresh of key %s",
                                api, math_floor(waited), self.key), "TIMEOUT"
    end
    self.sleep(self.poll)
    slept = slept + self.poll
    local stored = self:read_store()
    if self:replaces(stored, dead_token, dead_rec) then return self:adopt(stored, "store") end
  end
end

-- A valid token for the key: the cached one while fresh, else the store's, else a
-- refresh. Returns token | nil, msg, code.
function Manager:get()
  local rec = self.cache
  if rec and self:phase(rec) == "fresh" then return rec.token end
  local stored, err, code = self:read_store()
  if err then
    if self:usable(rec) then
      self.log("warn", "token: store failed for key " .. self.key .. ", using the cached token: " .. err)
      return rec.token
    end
    return nil, string_format("token.get: store failed for key %s: %s", self.key, err), code or "STORE"
  end
  if stored then
    self:adopt(stored, (rec and rec.token == stored.token) and self.source or "store")
    rec = stored
  end
  local phase = rec and self:phase(rec)
  if phase == "fresh" then return rec.token end
  if phase == "advisory" then return self:refresh_advisory(rec) end
  return self:refresh_wait("token.get", nil)
end

-- The vendor said `token` is invalid. Returns a different valid token: the store's
-- if another caller has already replaced it with a newer one, else a newly fetched one.
function Manager:invalidate(token)
  if type(token) ~= "string" then
    error("bad argument #1 to 'invalidate' (token string expected, got " .. type(token) .. ")", 2)
  end
  local dead_rec = self.cache and self.cache.token == token and self.cache or nil
  if dead_rec then self.cache = nil end
  local stored, err, code = self:read_store()
  if err then
    return nil, string_format("token.invalidate: store failed for key %s: %s", self.key, scrub(err, token)),
           code or "STORE"
  end
  if stored and stored.token == token and not dead_rec then dead_rec = stored end
  if self:replaces(stored, token, dead_rec) then return self:adopt(stored, "store") end
  return self:refresh_wait("token.invalidate", token, dead_rec)
end

-- Run fn(token); when is_invalid(...) says fn's results mean "token invalid",
-- invalidate that token and run fn once more with the new one.
function Manager:call(fn, is_invalid)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'call' (function expected, got " .. type(fn) .. ")", 2)
  end
  if type(is_invalid) ~= "function" then
    error("bad argument #2 to 'call' (function expected, got " .. type(is_invalid) .. ")", 2)
  end
  local token, err, code = self:get()
  if not token then return nil, err, code end
  local results = { n = 0 }
  local function pack(...) results = { n = select("#", ...), ... } end
  pack(fn(token))
  if not is_invalid(unpack(results, 1, results.n)) then return unpack(results, 1, results.n) end
  local again, ierr, icode = self:invalidate(token)
  if not again then return nil, ierr, icode end
  return fn(again)
end

-- Expiry, age and source of the token in hand; the token itself masked.
function Manager:status()
  local rec, now = self.cache, self.clock()
  if not rec then return { key = self.key, phase = "empty", store = tostring(self.store) } end
  return {
    key = self.key, token = mask(rec.token), phase = self:phase(rec, now),
    expires_at = rec.expires_at, fetched_at = rec.fetched_at,
    expires_in = rec.expires_at - now, age = now - rec.fetched_at,
    generation = rec.generation, fetched_by = rec.source, source = self.source,
    store = tostring(self.store),
  }
end

return M
