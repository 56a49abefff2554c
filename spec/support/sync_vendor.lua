-- Test helper: an in-memory vendor list endpoint for mallapi.sync specs. Records
-- have `id` (a 64-bit id as a string), `updated_at` ("YYYY-MM-DD HH:MM:SS") and
-- the fields given. `vendor:query(since)` returns an iterator that pages like a
-- real API: each page is a fresh offset query over the records updated at or after
-- `since`, in (updated_at, id) order, so records that change while it pages shift
-- the later pages. `on_page(page_no)` runs before each page is served, and
-- `fail(page_no)` may return an error (nil, msg, code, detail) instead.
local sync = require "mallapi.sync"

local M = {}
local Vendor = {}
Vendor.__index = Vendor

function M.new(opts)
  opts = opts or {}
  return setmetatable({ records = {}, page_size = opts.page_size or 10, pages_served = 0, queries = 0 }, Vendor)
end

function Vendor:put(record) self.records[record.id] = record end

local function sorted(self, since)
  local list = {}
  for _, r in pairs(self.records) do
    if since == nil or sync.parse_time(r.updated_at) >= since then list[#list + 1] = r end
  end
  table.sort(list, function(a, b)
    if a.updated_at ~= b.updated_at then return a.updated_at < b.updated_at end
    return a.id < b.id
  end)
  return list
end

function Vendor:query(since)
  self.queries = self.queries + 1
  local page_no, page, index = 0, {}, 1
  local finished = false
  return function()
    if index > #page then
      if finished then return nil end
      page_no = page_no + 1
      if self.fail then
        local r, msg, code, detail = self.fail(page_no)
        if r == nil and msg then return nil, msg, code, detail end
      end
      if self.on_page then self.on_page(page_no) end
      self.pages_served = self.pages_served + 1
      local list = sorted(self, since)
      page, index = {}, 1
      for i = (page_no - 1) * self.page_size + 1, math.min(#list, page_no * self.page_size) do
        local r = list[i]
        local copy = {}
        for k, v in pairs(r) do copy[k] = v end
        page[#page + 1] = copy
      end
      if #page < self.page_size then finished = true end
      if #page == 0 then return nil end
    end
    index = index + 1
    return page[index - 1]
  end
end

-- A deterministic data set: n orders with 64-bit ids, Chinese text, amounts in cents
-- as decimal text, `per_second` orders sharing each update second (ties).
function M.orders(n, per_second)
  local list = {}
  for i = 1, n do
    list[i] = {
      id = string.format("92233720368%08d", i * 7),
      updated_at = sync.format_time(1764000000 + math.floor((i - 1) / (per_second or 3))),
      buyer = "买家" .. i, amount = (1605 + i) / 100,
    }
  end
  return list
end

return M
