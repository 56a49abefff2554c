-- mallapi.store: where token managers keep one token per key, shared by every user
-- of the store. Each store is one short file with the same five methods (see
-- doc/tokens.md, "Store interface"); values are opaque strings to a store:
--   store:get(key)                  -> value | nil (absent) | nil, msg, code
--   store:set(key, value, ttl_ms)   -> true | nil, msg, code
--   store:lock(key, lease_ms)       -> lock_id | false (held elsewhere) | nil, msg, code
--   store:unlock(key, lock_id)      -> true | false (no longer ours) | nil, msg, code
--   store:delete(key)               -> true | nil, msg, code
local require = require

local M = {}

function M.memory(opts) return require("mallapi.store.memory").new(opts) end
function M.file(dir, opts) return require("mallapi.store.file").new(dir, opts) end
function M.redis(opts) return require("mallapi.store.redis").new(opts) end
function M.shdict(name, opts) return require("mallapi.store.shdict").new(name, opts) end

return M
