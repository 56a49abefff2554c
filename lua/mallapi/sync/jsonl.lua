-- mallapi.sync.jsonl: one JSON value per line, for the dead-letter file, through the
-- project's codec (mallapi.json: 64-bit ids exact, keys sorted). A record the codec
-- cannot write (a function inside, a cycle) is still buried: its text form is kept
-- with the codec's reason, so no dead letter is ever dropped.
local require, tostring, pairs, assert = require, tostring, pairs, assert

local M = {}

local json

function M.encode(entry)
  json = json or require("mallapi").json
  local text, err = json.encode(entry, { sort_keys = true })
  if text then return text end
  local copy = {}
  for k, v in pairs(entry) do copy[k] = v end
  copy.record, copy.mapped = tostring(entry.record), nil
  copy.encode_error = tostring(err)
  return assert(json.encode(copy, { sort_keys = true }))
end

return M
