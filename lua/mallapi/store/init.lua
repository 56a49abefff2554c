-- mallapi.store: where token managers keep one token per key, shared by every user
-- of the store. Each store is one short file with the same five methods (see
-- doc/tokens.md, "Store interface"); values are opaque strings to a store:
--   store:get(key)                  -> value | nil (absent) | nil, msg, code
--   store:set(key, value, ttl_ms)   -> true | nil, msg, code
--   store:lock(key, lease_ms)       -> lock_id | false (held elsewhere) | nil, msg, code
--   store:unlock(key, lock_id)      -> true | false (no longer ours) | nil, msg, code
--   store:delete(key)               -> true | nil, msg, code
local require, type, error = require, type, error

local M = {}

-- Caller mistakes raise naming the method and the argument ("bad argument #1 to
-- 'store.file:set' (key must be a non-empty string, got number)"), the same for every store: `wrap`
-- (called by each store's file)
-- puts these checks in front of the five methods of a store's metatable.
local function bad(api, method, n, what, v)
  error("bad argument #" .. n .. " to '" .. api .. ":" .. method .. "' (" .. what .. ", got "
    .. (v ~= v and "NaN" or v == "" and "empty string" or type(v)) .. ")", 4)
end

local function check_key(api, method, key)
  if type(key) ~= "string" or key == "" then bad(api, method, 1, "key must be a non-empty string", key) end
end

local function check_ms(api, method, n, name, v, optional)
  if optional and v == nil then return end
  if type(v) ~= "number" or v ~= v or v <= 0 then bad(api, method, n, name .. " must be a positive number", v) end
end

local function check_value(api, method, n, v)
  if type(v) ~= "string" then bad(api, method, n, "value must be a string", v) end
end

local function check_lock_id(api, method, n, v)
  if v == nil then bad(api, method, n, "lock_id expected", v) end
end

function M.wrap(Store, api)
  local get, set, delete, lock, unlock = Store.get, Store.set, Store.delete, Store.lock, Store.unlock
  function Store:get(key)
    check_key(api, "get", key)
    return get(self, key)
  end
  function Store:set(key, value, ttl_ms)
    check_key(api, "set", key)
    check_value(api, "set", 2, value)
    check_ms(api, "set", 3, "ttl_ms", ttl_ms, true)
    return set(self, key, value, ttl_ms)
  end
  function Store:delete(key)
    check_key(api, "delete", key)
    return delete(self, key)
  end
  function Store:lock(key, lease_ms)
    check_key(api, "lock", key)
    check_ms(api, "lock", 2, "lease_ms", lease_ms)
    return lock(self, key, lease_ms)
  end
  function Store:unlock(key, lock_id)
    check_key(api, "unlock", key)
    check_lock_id(api, "unlock", 2, lock_id)
    return unlock(self, key, lock_id)
  end
  return Store
end

function M.memory(opts) return require("mallapi.store.memory").new(opts) end
function M.file(dir, opts) return require("mallapi.store.file").new(dir, opts) end
function M.redis(opts) return require("mallapi.store.redis").new(opts) end
function M.shdict(name, opts) return require("mallapi.store.shdict").new(name, opts) end

return M
