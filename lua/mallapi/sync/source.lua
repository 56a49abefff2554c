-- mallapi.sync.source: where a sync job reads records. A source is an object with
--   src:open(position)  position: the string of the last checkpoint, or nil
--   src:next()          -> record | nil (end) | nil, msg, code, detail (may be retried)
--   src:position()      -> string naming everything next() has returned so far
-- and optional counters `src.pages`, `src.total`. Two kinds ship: `iterate` (any Lua
-- iterator or array, position = records consumed) and `updates` (a cursor on update
-- time over an incremental query, with an overlap window and de-duplication by id).
local record_codec = require "mallapi.record_codec"

local setmetatable, type, tostring, tonumber, error, pairs = setmetatable, type, tostring, tonumber, error, pairs
local string_format = string.format

local M = {}

local number_text = record_codec.number_text
M.number_text = number_text

-- ids in the position text: the record codec's escape, spaces and "=" included
local function escape(s) return record_codec.escape(s, "[%%%s=]") end
local unescape = record_codec.unescape

--------------------------------------------------------------------------------------
-- iterate: a Lua iterator function (called until it returns nil; `nil, msg, code`
-- is an error) or an array. The position is the number of records returned; a
-- restarted job skips that many, so the iterator must give the same sequence again
-- (a file, a sorted query, a fixed list).
local Iterate = {}
Iterate.__index = Iterate

function M.iterate(from)
  if type(from) ~= "function" and type(from) ~= "table" then
    error("bad argument #1 to 'sync.iterate' (function or array expected, got " .. type(from) .. ")", 2)
  end
  return setmetatable({ from = from, count = 0, pages = 0 }, Iterate)
end

function Iterate:open(position)
  local skip = tonumber(position or "0")
  if not skip or skip < 0 then return nil, "sync.iterate: bad checkpoint position " .. tostring(position), "STATE" end
  self.count = 0
  if type(self.from) == "table" then self.count = skip; return true end
  while self.count < skip do
    local record, err, code, detail = self.from()
    if record == nil or record == false then
      if err ~= nil or record == false then return nil, err or "sync.iterate: iterator failed", code, detail end
      break                                      -- shorter than before: nothing left
    end
    self.count = self.count + 1
  end
  return true
end

function Iterate:next()
  local record, err, code, detail
  if type(self.from) == "table" then
    record = self.from[self.count + 1]
  else
    record, err, code, detail = self.from()
  end
  if record == false then return nil, err or "sync.iterate: iterator failed", code, detail end
  if record == nil then return nil, err, code, detail end
  self.count = self.count + 1
  return record
end

function Iterate:position() return number_text(self.count) end

--------------------------------------------------------------------------------------
-- Times: "YYYY-MM-DD HH:MM:SS" (or ISO 8601 with T, fraction, Z) <-> seconds since
-- 1970 counted as if the text were UTC. Only differences and order matter to the
-- cursor, so the vendor's zone never enters.
-- The calendar is core.clock's (one home for time).
local clock = require("mallapi.core").clock
local floor = math.floor

function M.parse_time(value)
  if type(value) == "number" then return value end
  if type(value) ~= "string" then return nil end
  local y, mo, d, h, mi, s = value:match("^(%d%d%d%d)-(%d%d)-(%d%d)[T ](%d%d):(%d%d):(%d%d)")
  if not y then return tonumber(value) end
  local ms = clock.parse(string_format("%s-%s-%s %s:%s:%s", y, mo, d, h, mi, s), "+00:00")
  return ms and floor(ms / 1000)
end

function M.format_time(seconds)
  return clock.format(floor(seconds) * 1000, "+00:00")
end

--------------------------------------------------------------------------------------
-- updates: records changed since a cursor. `query(since)` returns an iterator over
-- the records updated at or after `since` (nil on the very first run: everything;
-- the iterator yields `nil, msg, code` or `false, msg, code` on failure), in
-- ascending update order, paging by itself (a client's `each`). The source reads at
-- most one page from a query, then queries again from its cursor (the newest update
-- time returned): records that moved while it paged are not skipped. A run's first
-- query starts `overlap` before the checkpoint's cursor, so records that became
-- visible late with a time inside the overlap are still seen. Records already
-- returned with the same or a newer time are skipped (by id); the ids kept for that
-- are the ones within the overlap, so the checkpoint stays small.
local Updates = {}
Updates.__index = Updates

local function field_reader(spec, what)
  if type(spec) == "function" then return spec end
  if type(spec) == "string" then return function(record) return record[spec] end end
  error("bad argument #1 to 'sync.updates' (option '" .. what .. "': field name or function expected, got "
    .. type(spec) .. ")", 3)
end

function M.updates(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'sync.updates' (table expected, got " .. type(opts)
    .. ")", 2) end
  if type(opts.query) ~= "function" then
    error("bad argument #1 to 'sync.updates' (option 'query': function expected, got " .. type(opts.query) .. ")", 2)
  end
  local page_size = opts.page_size or 100
  if type(page_size) ~= "number" or page_size < 1 then
    error("bad argument #1 to 'sync.updates' (option 'page_size': positive number expected)", 2)
  end
  local overlap = opts.overlap or 0
  if type(overlap) ~= "number" or overlap < 0 then
    error("bad argument #1 to 'sync.updates' (option 'overlap': number >= 0 expected)", 2)
  end
  local updated = field_reader(opts.updated or "updated_at", "updated")
  return setmetatable({
    query = opts.query, id = field_reader(opts.id or "id", "id"),
    updated = function(record) return M.parse_time(updated(record)) end,
    page_size = page_size, overlap = overlap, start = opts.start, total = opts.total,
    cursor = nil, seen = {}, pages = 0,
  }, Updates)
end

function Updates:open(position)
  self.cursor, self.seen, self.iter, self.done, self.queried = nil, {}, nil, false, false
  if position == nil or position == "" then return true end
  local head, rest = position:match("^u1 ([^\n]*)\n?(.*)$")
  if not head then return nil, "sync.updates: bad checkpoint position", "STATE" end
  self.cursor = tonumber(head)
  for id, time in rest:gmatch("([^ \n]+) ([^\n]+)") do self.seen[unescape(id)] = tonumber(time) end
  return true
end

function Updates:next()
  local page_size = self.page_size
  while true do
    if not self.iter then
      if self.done then return nil end
      local since = self.start
      if self.cursor then since = self.queried and self.cursor or self.cursor - self.overlap end
      self.queried = true
      local iter, err, code, detail = self.query(since)
      if not iter then return nil, err, code, detail end
      self.iter, self.read, self.fresh = iter, 0, 0
    end
    local record, err, code, detail = self.iter()
    if record == nil or record == false then           -- a client's each() yields false, err on failure
      self.iter = nil
      if err ~= nil or record == false then
        return nil, err or "sync.updates: query failed", code, detail   -- the next call queries again
      end
      if self.fresh == 0 then self.done = true; return nil end
    else
      self.read = self.read + 1
      if self.read % page_size == 1 or page_size == 1 then self.pages = self.pages + 1 end
      local id, time = self.id(record), self.updated(record)
      if id == nil or type(time) ~= "number" then
        self.iter = nil
        return nil, "sync.updates: record without id or update time (id " .. tostring(id) .. ")", "SOURCE"
      end
      local key = type(id) == "string" and id or tostring(id):gsub("U?LL$", "")
      local before = self.seen[key]
      -- older than the overlap: covered before (a coarse filter, such as a day, gives those again)
      local fresh = (before == nil or time > before) and (self.cursor == nil or time >= self.cursor - self.overlap)
      if fresh then
        self.seen[key] = time
        if self.cursor == nil or time > self.cursor then self.cursor = time end
        self.fresh = self.fresh + 1
      end
      if self.read % page_size == 0 and self.fresh > 0 then self.iter = nil end  -- query again
      if fresh then return record end
    end
  end
end

function Updates:position()
  if self.cursor == nil then return "" end
  local oldest, parts = self.cursor - self.overlap, { "u1 " .. number_text(self.cursor) }
  for id, time in pairs(self.seen) do
    if time < oldest then self.seen[id] = nil else parts[#parts + 1] = escape(id) .. " " .. number_text(time) end
  end
  return table.concat(parts, "\n")
end

return M
