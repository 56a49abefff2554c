-- mallapi.store.shdict: a store shared by all workers of one nginx, on a
-- lua_shared_dict. Values are "v:<key>" entries with a TTL; the refresh lock is an
-- "l:<key>" entry taken with dict:add (fails while present) and the lease as its
-- expiry, so a worker that dies holding it frees it when the lease ends, or at once once
-- its pid is known gone (the id starts with the holder's pid; one taker wins the takeover
-- through an "l:<key>:takeover:<id>" entry); renew restarts a live holder's lease. unlock
-- deletes the entry only while it still holds our id (get and delete run without
-- yielding, so no other coroutine of this worker runs in between). safe_set/safe_add:
-- a full dict gives an error instead of evicting another key's token or lock.
local ngx = ngx
local setmetatable, type, error, tostring, tonumber, string_format =
  setmetatable, type, error, tostring, tonumber, string.format

local alive = require("mallapi.core").lock.alive

local M = {}

local Store = { kind = "shdict" }
Store.__index = Store
Store.__tostring = function(self) return "mallapi.store.shdict(" .. self.name .. ")" end

local serial = 0

function M.new(name, opts)
  if type(name) ~= "string" or name == "" then
    error("bad argument #1 to 'mallapi.store.shdict' (lua_shared_dict name expected, got " .. type(name) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'mallapi.store.shdict' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  local dict = ngx and ngx.shared and ngx.shared[name]
  if not dict then
    error("mallapi.store.shdict: no lua_shared_dict named '" .. name .. "' (declare it in nginx.conf)", 2)
  end
  return setmetatable({ name = name, dict = dict }, Store)
end

local function failed(what, err)
  return nil, "store.shdict: " .. what .. ": " .. tostring(err), "STORE"
end

function Store:get(key)
  local value, err = self.dict:get("v:" .. key)
  if value == nil and err then return failed("get", err) end
  return value
end

function Store:set(key, value, ttl_ms)
  local ok, err = self.dict:safe_set("v:" .. key, value, (ttl_ms and ttl_ms >= 1) and ttl_ms / 1000 or 0)
  if not ok then return failed("set", err) end
  return true
end

function Store:delete(key)
  self.dict:delete("v:" .. key)
  self.dict:delete("l:" .. key)
  return true
end

function Store:lock(key, lease_ms)
  serial = serial + 1
  local id = string_format("%d:%d:%.3f", ngx.worker.pid(), serial, ngx.now())
  local dict, lock_key = self.dict, "l:" .. key
  local ok, err = dict:safe_add(lock_key, id, lease_ms / 1000)
  if ok then return id end
  if err ~= "exists" then return failed("lock", err) end
  local holder = dict:get(lock_key)
  local pid = type(holder) == "string" and tonumber(holder:match("^(%d+):"))
  if not pid or alive(pid) then return false end
  -- the holder is gone: the one taker that adds the takeover mark replaces its entry
  if not dict:safe_add(lock_key .. ":takeover:" .. holder, true, lease_ms / 1000) then return false end
  if dict:get(lock_key) ~= holder then return false end
  ok, err = dict:safe_set(lock_key, id, lease_ms / 1000)
  if not ok then return failed("lock", err) end
  return id
end

-- renew(key, lock_id, lease_ms) -> true | false (not the holder any more)
function Store:renew(key, lock_id, lease_ms)
  if self.dict:get("l:" .. key) ~= lock_id then return false end
  return self.dict:expire("l:" .. key, lease_ms / 1000) == true
end

function Store:unlock(key, lock_id)
  if self.dict:get("l:" .. key) ~= lock_id then return false end
  self.dict:delete("l:" .. key)
  return true
end

require("mallapi.store").wrap(Store, "store.shdict")

return M
