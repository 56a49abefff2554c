-- mallapi.sync.sinks: sinks that push with a vendor client (mallapi.client). One record
-- per call: `client:call(op, doc)`. A bulk operation: `list` names its list parameter,
-- and which records the answer refused comes from `failed` (a function (data, docs) ->
-- { [i] = reason }), else from the profile's hook `bulk_refused(data, docs, op)` (the
-- vendor knows how its bulk answers report refused items; this file names no vendor),
-- else from `failed` naming the id member that refused items and documents share (the
-- items' `code` and `msg`/`message` give the reason). Pushes are upserts: they are sent
-- as idempotent, so the transport's retry budget covers them. Dry runs use
-- `client:prepare`, which builds and signs the request without sending.
local type, tostring, pairs, ipairs, error = type, tostring, pairs, ipairs, error
local string_format = string.format

local M = {}

local SEND = { idempotent = true }

-- reasons { [i] = {error=, code=} } from a hook's list { {index=, code=, msg=}, ... }
local function by_index(op, list)
  if type(list) ~= "table" then return nil end
  local rejected = {}
  for _, item in ipairs(list) do
    if type(item) == "table" and type(item.index) == "number" then
      rejected[item.index] = { error = string_format("%s: %s %s", op, tostring(item.code or ""),
        tostring(item.msg or "refused")), code = "VENDOR" }
    end
  end
  return rejected
end

-- refused items named by a shared id member, with generic code/msg members
local function failed_by_id(id_name, op)
  return function(data, docs)
    if type(data) ~= "table" then return nil end
    local index = {}
    for i, doc in ipairs(docs) do index[tostring(doc[id_name])] = i end
    local list = {}
    for _, item in ipairs(data) do
      local i = type(item) == "table" and index[tostring(item[id_name])]
      if i then list[#list + 1] = { index = i, code = item.code, msg = item.msg or item.message } end
    end
    return by_index(op, list)
  end
end

local function refused_reader(client, op, failed)
  if type(failed) == "function" then return failed end
  local hook = type(client.profile) == "table" and client.profile.bulk_refused
  if type(hook) == "function" then
    return function(data, docs) return by_index(op, hook(data, docs, op)) end
  end
  if type(failed) == "string" then return failed_by_id(failed, op) end
  return nil
end

function M.client_sink(client, op, opts)
  if type(client) ~= "table" or type(client.call) ~= "function" then
    error("bad argument #1 to 'sync.client_sink' (client expected, got " .. type(client) .. ")", 2)
  end
  if type(op) ~= "string" then error("bad argument #2 to 'sync.client_sink' (operation name expected)", 2) end
  opts = opts or {}
  if opts.list then
    local failed = refused_reader(client, op, opts.failed)
    local function params(docs)
      local p = {}
      for k, v in pairs(opts.params or {}) do p[k] = v end
      p[opts.list] = docs
      return p
    end
    return {
      send_batch = function(docs)
        local data, err, code, detail = client:call(op, params(docs), SEND)
        if data == nil then return nil, err, code, detail end
        return true, failed and failed(data, docs) or nil
      end,
      prepare_batch = function(docs) return client:prepare(op, params(docs)) end,
    }
  end
  return {
    send = function(doc)
      local data, err, code, detail = client:call(op, doc, SEND)
      if data == nil then return nil, err, code, detail end
      return true
    end,
    prepare = function(doc) return client:prepare(op, doc) end,
  }
end

return M
