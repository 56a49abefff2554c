-- mallapi.ngx.webhook_queue: where the webhook receiver's events wait until its timer has
-- handled them. Two kinds with the same methods:
--   dict(shared_dict)  a list in a lua_shared_dict: fast, shared by the workers of one
--                      nginx, kept across reloads, lost on a restart;
--   redis(store)       lists and sorted sets in Redis (mallapi.ngx.redis_store): kept
--                      across restarts and shared by several nginx machines, one Redis
--                      round trip per operation.
-- An item is "<attempts> <next_at> <#id> <event type>\n<id><raw body>". A taken item is
-- claimed by its worker (pid, and host for Redis) until a deadline; a worker that dies while
-- handling it leaves the claim: sweep_dead() puts back at once the claims of workers known
-- dead (core.lock.alive), sweep() the claims whose deadline passed. Items leave only through
-- done() or dead(); stats().queued counts waiting and claimed items alike.
local type, tonumber, setmetatable, ipairs, tostring = type, tonumber, setmetatable, ipairs, tostring
local alive = require("mallapi.core").lock.alive
local string_format, math_max, math_ceil = string.format, math.max, math.ceil

local M = {}

function M.encode(rec)
  return string_format("%d %.3f %d %s\n%s%s", rec.attempts, rec.next_at, #rec.id, rec.type, rec.id,
                       rec.body or rec.item:sub(rec.body_at))
end

-- A new delivery's item (first attempt, due at once): concatenation, not string.format
-- (this runs for every request).
function M.new_item(id, event_type, body)
  return "0 0 " .. #id .. " " .. event_type .. "\n" .. id .. body
end

-- The head of an item; the body stays in it (rec.item from rec.body_at) until someone
-- needs it, so a handled event's body is not copied once more.
function M.decode_head(text)
  if type(text) ~= "string" then return nil end
  local attempts, next_at, n, etype, pos = text:match("^(%d+) ([%d.]+) (%d+) ([^\n]*)\n()")
  if not attempts then return nil end
  n = tonumber(n)
  return { attempts = tonumber(attempts), next_at = tonumber(next_at), type = etype,
           id = text:sub(pos, pos + n - 1), item = text, body_at = pos + n }
end

function M.decode(text)
  local rec = M.decode_head(text)
  if rec then rec.body, rec.item, rec.body_at = text:sub(rec.body_at), nil, nil end
  return rec
end

---------------------------------------------------------------------------------------------
-- lua_shared_dict: the list "q", claims "ev:<pid>:<id>" (the item, the claim's end in unix s
-- as the dict's flags), "claims:<pid>" (how many the worker holds: raised before a claim,
-- lowered after it ends, so a kill leaves it too high, never too low), "pids" (the workers
-- that claim, space separated), "dead:<id>", counters "stat:*". Every write is safe_*: a
-- full dict refuses instead of evicting (eviction could drop queued events).

local Dict = { kind = "dict" }
Dict.__index = Dict

function M.dict(dict, pid)
  for _, counter in ipairs { "stat:done", "stat:retries", "stat:dead" } do
    dict:safe_add(counter, 0)                         -- incr never has to allocate later
  end
  pid = pid or require("mallapi.core").lock.pid()
  local q = setmetatable({ dict = dict, skipped = 0, pid = pid, claim_prefix = "ev:" .. pid .. ":",
                           claims_key = "claims:" .. pid }, Dict)
  q.registered = q:register()                        -- now, while the dict has room
  return q
end

-- fn() under the dict's "pids:lock" (bounded: about 1 s; it is held for microseconds). A
-- dict too full for the lock key runs fn without it (a rare race on "pids" beats no sweep).
local sleep = function(s) if not pcall(ngx.sleep, s) then ngx.update_time() end end   -- init_worker: spin
local function with_pids_lock(dict, fn)
  for _ = 1, 1000 do
    local locked, err = dict:safe_add("pids:lock", true, 5)
    if locked or err ~= "exists" then
      local ok, ferr = pcall(fn)
      if locked then dict:delete("pids:lock") end
      if not ok then error(ferr, 0) end
      return true
    end
    sleep(0.001)
  end
  return nil, "pids lock busy"
end

local function pid_list(dict)
  local list = {}
  for pid in (dict:get("pids") or ""):gmatch("%d+") do list[#list + 1] = pid end
  return list
end

-- This worker among those that claim (once, before its first take).
function Dict:register()
  if self.registered then return true end
  local dict, mine = self.dict, tostring(self.pid)
  dict:safe_add(self.claims_key, 0)
  return with_pids_lock(dict, function()
    local list = pid_list(dict)
    for _, pid in ipairs(list) do if pid == mine then return end end
    list[#list + 1] = mine
    dict:safe_set("pids", table.concat(list, " "))
  end)
end

function Dict:push(item)
  local ok, err = self.dict:rpush("q", item)
  if not ok then return nil, "queue full: " .. tostring(err) end
  return true
end

function Dict:begin_drain()
  self.skipped = 0
  return true
end

-- The next due item, claimed until claim_until: rec | nil (none due). Items not due yet go
-- back to the tail; once the drain went round the whole list, nothing is due.
function Dict:take(now, claim_until)
  local dict = self.dict
  while true do
    local item = dict:lpop("q")
    if not item then return nil end
    local rec = M.decode_head(item)
    if not rec then return { id = "?", item = item, bad = true } end   -- cannot be handled: dropped
    rec.claim = self.claim_prefix .. rec.id
    if rec.next_at <= now then
      -- a worker that dies now leaves this claim; no room: handled without a claim mark
      dict:incr(self.claims_key, 1, 0)
      if not dict:safe_set(rec.claim, item, 0, claim_until) then dict:incr(self.claims_key, -1) end
      return rec
    end
    if not dict:rpush("q", item) then                 -- no room: a lapsed claim, the sweep re-queues it
      dict:incr(self.claims_key, 1, 0)
      dict:safe_set(rec.claim, item, 0, 1)
    end
    self.skipped = self.skipped + 1
    if self.skipped > (dict:llen("q") or 0) then return nil end
  end
end

-- The claim ends (rec.claim absent: an item that did not decode, never claimed).
local function unclaim(self, rec)
  local dict = self.dict
  if rec.claim and dict:get(rec.claim) ~= nil then
    dict:delete(rec.claim)
    dict:incr(self.claims_key, -1, 0)
  end
end

-- Handled: the claim ends and the event is counted (each event once it is done, so a kill
-- loses no count of finished ones).
function Dict:done(rec)
  unclaim(self, rec)
  if not rec.bad then self.dict:incr("stat:done", 1) end
  return true
end

-- Back on the queue with its next attempt time (text = the item rewritten). No room: the
-- claim stays and the sweep re-queues it.
function Dict:retry(rec, text)
  local dict = self.dict
  dict:incr("stat:retries", 1)
  if dict:rpush("q", text) then unclaim(self, rec) end
  return true
end

function Dict:dead(rec, text)
  local dict = self.dict
  if not dict:safe_set("dead:" .. rec.id, text) then return nil, "dict full" end   -- the sweep tries again
  unclaim(self, rec)
  dict:incr("stat:dead", 1)
  return true
end

-- Claims back on the queue: those of the pids in `dead` (a set), and those whose deadline
-- passed when `now` is given. Returns how many.
local function requeue_claims(dict, dead, now)
  local count = 0
  for _, key in ipairs(dict:get_keys(0)) do
    local pid = key:match("^ev:(%d+):")
    if pid then
      local item, claimed_until = dict:get(key)
      if item and (dead[pid] or (now and claimed_until and claimed_until > 0 and claimed_until < now)) then
        if dict:rpush("q", item) then
          dict:delete(key)
          if not dead[pid] then dict:incr("claims:" .. pid, -1, 0) end
          count = count + 1
        end
      end
    end
  end
  return count
end

-- Lapsed claims back on the queue; one worker at a time sweeps (at most every `claim` s).
function Dict:sweep(now, claim)
  local dict = self.dict
  if not dict:safe_add("sweeping", true, claim) then return 0 end
  return requeue_claims(dict, {}, now)
end

-- The claims of workers that died (SIGKILL, a crash, or an old worker gone after a HUP) back
-- on the queue at once; cheap when none died (one get, a kill(pid, 0) per worker).
function Dict:sweep_dead()
  local dict = self.dict
  local dead, any = {}, false
  for _, pid in ipairs(pid_list(dict)) do
    if not alive(tonumber(pid)) then dead[pid], any = true, true end
  end
  if not any then return 0 end
  local count = 0
  local ok, err = with_pids_lock(dict, function()
    count = requeue_claims(dict, dead)
    local live = {}
    for _, pid in ipairs(pid_list(dict)) do
      if dead[pid] then dict:delete("claims:" .. pid) else live[#live + 1] = pid end
    end
    dict:safe_set("pids", table.concat(live, " "))
  end)
  if not ok then return nil, err end
  return count
end

function Dict:stats()
  local dict = self.dict
  local claimed = 0
  for _, pid in ipairs(pid_list(dict)) do claimed = claimed + math_max(0, dict:get("claims:" .. pid) or 0) end
  return { queued = (dict:llen("q") or 0) + claimed, claimed = claimed, done = dict:get("stat:done") or 0,
           retries = dict:get("stat:retries") or 0, dead = dict:get("stat:dead") or 0 }
end

---------------------------------------------------------------------------------------------
-- Redis (keys under the prefix): list "q" (due items), sorted sets "delayed" (retries, by
-- next attempt time) and "claimed" (taken items as "@<host>:<pid>\n<item>", by the claim's
-- end), hash "owners" (the workers that claim), hash "dead" (id -> item), hash "stats".
-- Each step is one script, so Redis runs it whole or not at all, and each writes the new
-- place of an item before it removes the old one: a failure (Redis out of memory) leaves
-- the item where it was, never nowhere.

local SCRIPTS = {
  -- KEYS seen, q; ARGV item, ttl: 1 queued, 0 already seen
  accept = "if redis.call('exists', KEYS[1]) == 1 then return 0 end "
        .. "redis.call('rpush', KEYS[2], ARGV[1]) redis.call('set', KEYS[1], '1', 'EX', ARGV[2]) return 1",
  -- KEYS q, claimed; ARGV claim_until: the item taken, or nil
  -- KEYS q, claimed; ARGV claim_until, owner mark "@<host>:<pid>\n": the item taken, or nil
  take = "local item = redis.call('lindex', KEYS[1], 0) if not item then return false end "
      .. "redis.call('zadd', KEYS[2], ARGV[1], ARGV[2] .. item) redis.call('lpop', KEYS[1]) return item",
  -- KEYS claimed, stats; ARGV member: the claim ends, the event counted once
  done = "if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then redis.call('hincrby', KEYS[2], 'done', 1) end "
      .. "return 1",
  -- KEYS claimed, q, owners; ARGV now or '', limit, owner mark or '': claims whose end passed
  -- (or all of one owner's) back on q without their mark
  reclaim = "local list if ARGV[3] ~= '' then list = redis.call('zrange', KEYS[1], 0, -1) "
         .. "else list = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2]) end "
         .. "local n = 0 for _, m in ipairs(list) do "
         .. "if ARGV[3] == '' or m:sub(1, #ARGV[3]) == ARGV[3] then local item = m "
         .. "if m:sub(1, 1) == '@' then item = m:sub((m:find('\\n', 1, true) or 0) + 1) end "
         .. "redis.call('rpush', KEYS[2], item) redis.call('zrem', KEYS[1], m) n = n + 1 end end "
         .. "if ARGV[3] ~= '' then redis.call('hdel', KEYS[3], ARGV[3]) end return n",
  -- KEYS from (sorted set), q; ARGV now, limit: items whose score passed, moved to q
  promote = "local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2]) "
         .. "for _, item in ipairs(due) do redis.call('rpush', KEYS[2], item) redis.call('zrem', KEYS[1], item) end "
         .. "return #due",
  -- KEYS claimed, delayed, stats; ARGV old item, new item, next_at
  retry = "redis.call('zadd', KEYS[2], ARGV[3], ARGV[2]) redis.call('zrem', KEYS[1], ARGV[1]) "
       .. "redis.call('hincrby', KEYS[3], 'retries', 1) return 1",
  -- KEYS claimed, dead, stats; ARGV old item, new item, id
  dead = "redis.call('hset', KEYS[2], ARGV[3], ARGV[2]) redis.call('zrem', KEYS[1], ARGV[1]) "
      .. "redis.call('hincrby', KEYS[3], 'dead', 1) return 1",
  -- KEYS q, delayed, stats, claimed: queued (due + delayed + claimed), done, retries, dead, claimed
  stats = "local s = redis.call('hmget', KEYS[3], 'done', 'retries', 'dead') "
       .. "local claimed = redis.call('zcard', KEYS[4]) "
       .. "return { redis.call('llen', KEYS[1]) + redis.call('zcard', KEYS[2]) + claimed, "
       .. "tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0, claimed }",
}

local Redis = { kind = "redis" }
Redis.__index = Redis

-- store: mallapi.ngx.redis_store{...} (or any object with command(...)); prefix: the
-- receiver's key prefix, e.g. "mallapi:webhook:acme:".
-- pid, host: the claiming worker (default this process on this machine).
function M.redis(store, prefix, pid, host)
  -- this machine's name, as in the Redis store's lock ids
  pid, host = pid or require("mallapi.core").lock.pid(), host or require("mallapi.store.redis").host_name
  return setmetatable({ store = store, prefix = prefix, q = prefix .. "q", delayed = prefix .. "delayed",
                        claimed = prefix .. "claimed", dead_key = prefix .. "dead", stats_key = prefix .. "stats",
                        owners = prefix .. "owners", host = host, owner = "@" .. host .. ":" .. pid .. "\n",
                        batch = 1000 }, Redis)
end

function Redis:register()
  return self.store:command("HSET", self.owners, self.owner, "1")
end

function Redis:eval(name, nkeys, ...)
  return self.store:command("EVAL", SCRIPTS[name], nkeys, ...)
end

-- The id and the item in one step: "OK" | "DUPLICATE" | nil, err.
function Redis:accept(id, item, ttl)
  local reply, err = self:eval("accept", 2, self.prefix .. "seen:" .. id, self.q, item,
                               string_format("%d", math_max(1, math_ceil(ttl))))
  if reply == nil then return nil, err end
  return reply == 1 and "OK" or "DUPLICATE"
end

function Redis:push(item)
  local reply, err = self.store:command("RPUSH", self.q, item)
  if reply == nil then return nil, err end
  return true
end

-- Retries whose time came go to the queue.
function Redis:begin_drain(now)
  local moved, err = self:eval("promote", 2, self.delayed, self.q, string_format("%.3f", now), self.batch)
  if moved == nil then return nil, err end
  return true
end

function Redis:take(_, claim_until)
  local item, err = self:eval("take", 2, self.q, self.claimed, string_format("%d", claim_until), self.owner)
  if item == nil then return nil, err end
  local rec = M.decode_head(item) or { id = "?", item = item, bad = true }
  rec.member = self.owner .. item
  return rec
end

function Redis:done(rec)
  local reply, err
  if rec.bad then reply, err = self.store:command("ZREM", self.claimed, rec.member)
  else reply, err = self:eval("done", 2, self.claimed, self.stats_key, rec.member) end
  if reply == nil then return nil, err end
  return true
end

function Redis:retry(rec, text, next_at)
  local reply, err = self:eval("retry", 3, self.claimed, self.delayed, self.stats_key, rec.member, text,
                               string_format("%.3f", next_at))
  if reply == nil then return nil, err end
  return true
end

function Redis:dead(rec, text)
  local reply, err = self:eval("dead", 3, self.claimed, self.dead_key, self.stats_key, rec.member, text, rec.id)
  if reply == nil then return nil, err end
  return true
end

-- Lapsed claims back on the queue (the scripts are atomic: any worker may sweep).
function Redis:sweep(now)
  local moved, err = self:eval("reclaim", 3, self.claimed, self.q, self.owners, string_format("%.3f", now),
                               self.batch, "")
  if moved == nil then return nil, err end
  return moved
end

-- The claims of this machine's workers that died back on the queue at once (another
-- machine's pids cannot be checked here: their claims wait for their deadline).
function Redis:sweep_dead()
  local owners, err = self.store:command("HKEYS", self.owners)
  if type(owners) ~= "table" then return nil, err end
  local count = 0
  for _, owner in ipairs(owners) do
    local host, pid = owner:match("^@(.*):(%d+)\n$")
    if host == self.host and not alive(tonumber(pid)) then
      local moved, merr = self:eval("reclaim", 3, self.claimed, self.q, self.owners, "", self.batch, owner)
      if moved == nil then return nil, merr end
      count = count + moved
    end
  end
  return count
end

function Redis:stats()
  local s, err = self:eval("stats", 4, self.q, self.delayed, self.stats_key, self.claimed)
  if type(s) ~= "table" then return nil, err end
  return { queued = s[1], done = s[2], retries = s[3], dead = s[4], claimed = s[5] }
end

return M
