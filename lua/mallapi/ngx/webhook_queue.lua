-- mallapi.ngx.webhook_queue: where the webhook receiver's events wait until its timer has
-- handled them. Two kinds with the same methods:
--   dict(shared_dict)  a list in a lua_shared_dict: fast, shared by the workers of one
--                      nginx, kept across reloads, lost on a restart;
--   redis(store)       lists and sorted sets in Redis (mallapi.ngx.redis_store): kept
--                      across restarts and shared by several nginx machines, one Redis
--                      round trip per operation.
-- An item is "<attempts> <next_at> <#id> <event type>\n<id><raw body>". A taken item is
-- claimed until a deadline; a worker that dies while handling it leaves the claim, and
-- sweep() puts lapsed claims back. Items leave only through done() or dead().
local type, tonumber, setmetatable, ipairs, tostring = type, tonumber, setmetatable, ipairs, tostring
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
-- lua_shared_dict: the list "q", claims "ev:<id>" (the item, the claim's end in unix s as
-- the dict's flags), "dead:<id>", counters "stat:*". Every write is safe_*: a full dict
-- refuses instead of evicting (eviction could drop queued events).

local Dict = { kind = "dict" }
Dict.__index = Dict

function M.dict(dict)
  for _, counter in ipairs { "stat:done", "stat:retries", "stat:dead" } do
    dict:safe_add(counter, 0)                         -- incr never has to allocate later
  end
  return setmetatable({ dict = dict, skipped = 0 }, Dict)
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
    if rec.next_at <= now then
      -- a worker that dies now leaves this claim; no room: handled without a claim mark
      dict:safe_set("ev:" .. rec.id, item, 0, claim_until)
      return rec
    end
    if not dict:rpush("q", item) then                 -- no room: a lapsed claim, the sweep re-queues it
      dict:safe_set("ev:" .. rec.id, item, 0, 1)
    end
    self.skipped = self.skipped + 1
    if self.skipped > (dict:llen("q") or 0) then return nil end
  end
end

function Dict:done(rec)
  self.dict:delete("ev:" .. rec.id)
  return true
end

function Dict:count_done(n)
  self.dict:incr("stat:done", n)
end

-- Back on the queue with its next attempt time (text = the item rewritten). No room: the
-- claim stays and the sweep re-queues it.
function Dict:retry(rec, text)
  local dict = self.dict
  dict:incr("stat:retries", 1)
  if dict:rpush("q", text) then dict:delete("ev:" .. rec.id) end
  return true
end

function Dict:dead(rec, text)
  local dict = self.dict
  if not dict:safe_set("dead:" .. rec.id, text) then return nil, "dict full" end   -- the sweep tries again
  dict:delete("ev:" .. rec.id)
  dict:incr("stat:dead", 1)
  return true
end

-- Lapsed claims back on the queue; one worker at a time sweeps (at most every `claim` s).
function Dict:sweep(now, claim)
  local dict = self.dict
  if not dict:safe_add("sweeping", true, claim) then return 0 end
  local count = 0
  for _, key in ipairs(dict:get_keys(0)) do
    if key:sub(1, 3) == "ev:" then
      local item, claimed_until = dict:get(key)
      if item and claimed_until and claimed_until > 0 and claimed_until < now then
        if dict:rpush("q", item) then
          dict:delete(key)
          count = count + 1
        end
      end
    end
  end
  return count
end

function Dict:stats()
  local dict = self.dict
  return { queued = dict:llen("q") or 0, done = dict:get("stat:done") or 0,
           retries = dict:get("stat:retries") or 0, dead = dict:get("stat:dead") or 0 }
end

---------------------------------------------------------------------------------------------
-- Redis (keys under the prefix): list "q" (due items), sorted sets "delayed" (retries, by
-- next attempt time) and "claimed" (taken items, by the claim's end), hash "dead" (id ->
-- item), hash "stats". Each step is one script, so Redis runs it whole or not at all, and
-- each writes the new place of an item before it removes the old one: a failure (Redis out
-- of memory) leaves the item where it was, never nowhere.

local SCRIPTS = {
  -- KEYS seen, q; ARGV item, ttl: 1 queued, 0 already seen
  accept = "if redis.call('exists', KEYS[1]) == 1 then return 0 end "
        .. "redis.call('rpush', KEYS[2], ARGV[1]) redis.call('set', KEYS[1], '1', 'EX', ARGV[2]) return 1",
  -- KEYS q, claimed; ARGV claim_until: the item taken, or nil
  take = "local item = redis.call('lindex', KEYS[1], 0) if not item then return false end "
      .. "redis.call('zadd', KEYS[2], ARGV[1], item) redis.call('lpop', KEYS[1]) return item",
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
  -- KEYS q, delayed, stats: queued (due + delayed), done, retries, dead
  stats = "local s = redis.call('hmget', KEYS[3], 'done', 'retries', 'dead') "
       .. "return { redis.call('llen', KEYS[1]) + redis.call('zcard', KEYS[2]), "
       .. "tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0 }",
}

local Redis = { kind = "redis" }
Redis.__index = Redis

-- store: mallapi.ngx.redis_store{...} (or any object with command(...)); prefix: the
-- receiver's key prefix, e.g. "mallapi:webhook:shoplus:".
function M.redis(store, prefix)
  return setmetatable({ store = store, prefix = prefix, q = prefix .. "q", delayed = prefix .. "delayed",
                        claimed = prefix .. "claimed", dead_key = prefix .. "dead", stats_key = prefix .. "stats",
                        batch = 1000 }, Redis)
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
  local item, err = self:eval("take", 2, self.q, self.claimed, string_format("%d", claim_until))
  if item == nil then return nil, err end
  return M.decode_head(item) or { id = "?", item = item, bad = true }
end

function Redis:done(rec)
  local reply, err = self.store:command("ZREM", self.claimed, rec.item)
  if reply == nil then return nil, err end
  return true
end

function Redis:count_done(n)
  return self.store:command("HINCRBY", self.stats_key, "done", n)
end

function Redis:retry(rec, text, next_at)
  local reply, err = self:eval("retry", 3, self.claimed, self.delayed, self.stats_key, rec.item, text,
                               string_format("%.3f", next_at))
  if reply == nil then return nil, err end
  return true
end

function Redis:dead(rec, text)
  local reply, err = self:eval("dead", 3, self.claimed, self.dead_key, self.stats_key, rec.item, text, rec.id)
  if reply == nil then return nil, err end
  return true
end

-- Lapsed claims back on the queue (the scripts are atomic: any worker may sweep).
function Redis:sweep(now)
  local moved, err = self:eval("promote", 2, self.claimed, self.q, string_format("%.3f", now), self.batch)
  if moved == nil then return nil, err end
  return moved
end

function Redis:stats()
  local s, err = self:eval("stats", 3, self.q, self.delayed, self.stats_key)
  if type(s) ~= "table" then return nil, err end
  return { queued = s[1], done = s[2], retries = s[3], dead = s[4] }
end

return M
