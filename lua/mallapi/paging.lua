-- mallapi.paging: the shared paging rules a vendor profile builds its `paging` table from.
-- Each builder returns one rule { first, records, next } as client:each uses it:
--   first(params, op, client) -> the first page's parameters (params is the caller's copy)
--   records(data, op, answer) -> the list of records of one answer
--   next(params, data, answer, got, state, op) -> the next page's parameters, or nil at the end
-- (got = records on this page, state.seen = records so far). Two families cover the shipped
-- vendors: numbered pages (`pages`) and offset/limit with an optional cursor (`offsets`).
local ipairs, tonumber, type = ipairs, tonumber, type
local copy = require("mallapi.util").copy

local M = {}

-- A records rule from a description: a member name of data ("orders"), a list of member
-- names (the first list present wins), `true` (data itself is the list) or a function.
function M.records(how)
  if type(how) == "function" then return how end
  local names = type(how) == "table" and how or { how }
  return function(data)
    if type(data) ~= "table" then return {} end
    if how == true then return data end
    for _, name in ipairs(names) do
      if type(data[name]) == "table" then return data[name] end
    end
    return {}
  end
end

-- A number from an answer: `how` is a member name of data or a function(data, op).
local function count_of(how, data, op)
  if how == nil or type(data) ~= "table" then return nil end
  if type(how) == "function" then return tonumber(how(data, op)) end
  return tonumber(data[how])
end

--- Numbered pages. spec: page (parameter name), start (first page number, 1 unless 0),
-- size (page-size parameter name), default_size, records (see M.records), page_count
-- (member or function: number of pages), total (member or function(data, op): number of
-- records), count_decides (when the answer gives page_count, a short page does not end).
-- Ends on an empty page, a short page, the last counted page, or when total records are seen.
function M.pages(spec)
  local page, size, start = spec.page, spec.size, spec.start or 1
  return {
    first = function(params)
      if params[page] == nil then params[page] = start end
      if params[size] == nil then params[size] = spec.default_size end  -- range: op.limits
      return params
    end,
    records = M.records(spec.records),
    next = function(params, data, _, got, state, op)
      if got == 0 then return nil end
      local pages = count_of(spec.page_count, data, op)
      if pages and params[page] - start + 1 >= pages then return nil end
      if not (pages and spec.count_decides) and got < tonumber(params[size]) then return nil end
      local total = count_of(spec.total, data, op)
      if total and state.seen >= total then return nil end
      local nxt = copy(params)
      nxt[page] = params[page] + 1
      return nxt
    end,
  }
end

--- Offset and limit, optionally with a cursor. spec: limit, offset (parameter names),
-- default_limit, records, more (function(answer) -> true/false/nil: whether there is a
-- next page), cursor (parameter name the next page's token goes in) and cursor_of
-- (function(answer) -> that token or nil). With a token, the next request sends it and no
-- offset; otherwise offset advances by the records seen. Without `more`, a short page ends.
function M.offsets(spec)
  local limit, offset = spec.limit, spec.offset
  return {
    first = function(params)
      if params[limit] == nil then params[limit] = spec.default_limit end  -- range: op.limits
      return params
    end,
    records = M.records(spec.records),
    next = function(params, _, answer, got)
      if got == 0 then return nil end
      local more = spec.more and spec.more(answer)
      if more == false then return nil end
      if more == nil and got < tonumber(params[limit]) then return nil end
      local nxt = copy(params)
      local token = spec.cursor and spec.cursor_of(answer)
      if token ~= nil then
        nxt[spec.cursor], nxt[offset] = token, nil
      else
        nxt[offset] = (tonumber(params[offset]) or 0) + got
      end
      return nxt
    end,
  }
end

return M
