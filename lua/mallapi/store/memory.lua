-- mallapi.store.memory: a store inside one Lua state. Single flight across the
-- coroutines of a process comes from its lock table; nothing is shared with other
-- processes. Lock leases and value TTLs run on the monotonic clock.
local core = require "mallapi.core"

local setmetatable, tostring, type, error = setmetatable, tostring, type, error
local monotonic = core.clock.monotonic_ms

local M = {}

local Store = { kind = "memory" }
Store.__index = Store
Store.__tostring = function() return "mallapi.store.memory" end

function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'mallapi.store.memory' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  return setmetatable({ values = {}, locks = {}, serial = 0, clock = opts and opts.clock or monotonic }, Store)
end

function Store:get(key)
  local entry = self.values[key]
  if not entry then return nil end
  if entry.expires and self.clock() >= entry.expires then
    self.values[key] = nil
    return nil
  end
  return entry.value
end

function Store:set(key, value, ttl_ms)
  self.values[key] = { value = value, expires = ttl_ms and ttl_ms > 0 and self.clock() + ttl_ms or nil }
  return true
end

function Store:delete(key)
  self.values[key] = nil
  return true
end

function Store:lock(key, lease_ms)
  local now, held = self.clock(), self.locks[key]
  if held and now < held.expires then return false end
  self.serial = self.serial + 1
  local id = "m" .. tostring(self.serial)
  self.locks[key] = { id = id, expires = now + lease_ms }
  return id
end

function Store:renew(key, lock_id, lease_ms)
  local held = self.locks[key]
  if not held or held.id ~= lock_id or self.clock() >= held.expires then return false end
  held.expires = self.clock() + lease_ms
  return true
end

function Store:unlock(key, lock_id)
  local held = self.locks[key]
  if not held or held.id ~= lock_id then return false end
  self.locks[key] = nil
  return true
end

require("mallapi.store").wrap(Store, "store.memory")

return M
