-- mallapi.store.file: a store shared by the processes of one machine. One file per
-- key in a directory, replaced atomically (temp file + fsync + rename, mode 0600);
-- the refresh lock is an fcntl lock on a separate lock file with a lease (C in
-- src/lock.c). File names are derived from the key only, never from a token.
local core = require "mallapi.core"

local setmetatable, type, error, tostring, string_format = setmetatable, type, error, tostring, string.format
local lock, monotonic = core.lock, core.clock.monotonic_ms

local M = {}

local function plain(err) return (tostring(err):gsub("^lock%.[%w_]+: ", "")) end

-- fcntl locks belong to the process and any close() of the file drops them, so
-- the locks this process holds are kept here, shared by every file store object.
local held = {}
local serial = 0

local Store = { kind = "file" }
Store.__index = Store
Store.__tostring = function(self) return "mallapi.store.file(" .. self.dir .. ")" end

local function file_name(key)
  return (key:gsub("[^%w_%-]", function(c) return string_format("%%%02X", c:byte()) end))
end

function M.new(dir, opts)
  if type(dir) ~= "string" or dir == "" then
    error("bad argument #1 to 'mallapi.store.file' (directory name expected, got " .. type(dir) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'mallapi.store.file' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  dir = dir:gsub("/+$", "")
  if dir == "" then dir = "/" end
  -- the directory is created when missing (mode 0700 for new ones); one that cannot be
  -- made is refused here, by name, rather than at the first token write
  local quoted = "'" .. dir:gsub("'", "'\\''") .. "'"
  local made = os.execute("test -d " .. quoted .. " || (umask 077 && mkdir -p " .. quoted .. ") 2>/dev/null")
  if not (made == true or made == 0) then
    return nil, "mallapi.store.file: cannot create directory " .. dir, "IO"
  end
  return setmetatable({ dir = dir }, Store)
end

function Store:path(key, suffix)
  return self.dir .. "/" .. file_name(key) .. suffix
end

function Store:get(key)
  local data, err, code = lock.read_file(self:path(key, ".token"))
  if data == false then return nil end
  if not data then return nil, "store.file: " .. plain(err), code end
  return data
end

function Store:set(key, value)
  local ok, err, code = lock.write_file(self:path(key, ".token"), value)
  if not ok then return nil, "store.file: " .. plain(err), code end
  return true
end

function Store:delete(key)
  local ok, err = os.remove(self:path(key, ".token"))
  if not ok and not tostring(err):find("No such file", 1, true) then
    return nil, "store.file: " .. tostring(err), "IO"
  end
  return true
end

function Store:lock(key, lease_ms)
  local path = self:path(key, ".lock")
  local mine = held[path]
  if mine then
    if monotonic() < mine.expires then return false end
    mine.handle:release()                       -- a coroutine of ours outlived its lease
    held[path] = nil
  end
  serial = serial + 1
  local id = string_format("%d-%d-%d", lock.pid(), serial, monotonic())
  local handle, err, code = lock.try(path, id, lease_ms)
  if handle == false then return false end
  if not handle then return nil, "store.file: " .. plain(err), code end
  held[path] = { handle = handle, id = id, expires = monotonic() + lease_ms }
  return id
end

function Store:unlock(key, lock_id)
  local path = self:path(key, ".lock")
  local mine = held[path]
  if not mine or mine.id ~= lock_id then return false end
  mine.handle:release()
  held[path] = nil
  return true
end

require("mallapi.store").wrap(Store, "store.file")

return M
