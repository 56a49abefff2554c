-- mallapi.sync.checkpoint: a sync job's checkpoint and where it lives. The text is the
-- shared record form of mallapi.record_codec (the token store's too): the line
-- "mallapi-sync 1", then key=value lines, readable in a file or Redis without a JSON
-- codec. A job's checkpoint is the store key "sync:<name>", its run lock "sync:<name>:run".
local record_codec = require "mallapi.record_codec"

local pairs, tonumber = pairs, tonumber

local M = {}

local MAGIC = "mallapi-sync 1"
local FIELDS = { "position", "finished", "read", "sent", "skipped", "dead", "pages", "batches", "retries",
  "dead_letter_bytes", "started_at", "saved_at", "resumes" }

function M.encode(cp) return record_codec.encode(MAGIC, FIELDS, cp) end

-- The checkpoint of a text (position as text, counters as numbers), or nil when it is not one.
function M.decode(text)
  local cp = record_codec.decode(MAGIC, text)
  if not cp then return nil end
  for key, value in pairs(cp) do
    if key ~= "position" then cp[key] = tonumber(value) or value end
  end
  cp.finished = cp.finished == 1
  return cp
end

function M.key(name) return "sync:" .. name end
function M.lock_key(name) return "sync:" .. name .. ":run" end

-- The checkpoint of job `name` in `store` (decoded), or nil (| nil, msg, code).
function M.get(store, name)
  local text, err, code = store:get(M.key(name))
  if text == nil then return nil, err, code end
  return M.decode(text)
end

-- Forget job `name`: the next run starts from the beginning.
function M.reset(store, name) return store:delete(M.key(name)) end

return M
