-- mallapi.clock: the C core's clock area (now_ms, monotonic_ms, parse, format, ...)
-- by its module name, plus the engine's one sleep hook: clock.sleep_ms(ms) is the
-- core's blocking sleep until an adapter installs another with clock.set_sleep(fn)
-- (mallapi.ngx installs one that yields to nginx). Engine waits (token waiters) call
-- clock.sleep_ms, never probe for a runtime themselves.
local core_clock = require("mallapi.core").clock

local type, error = type, error

local M = setmetatable({}, { __index = core_clock })

local blocking = core_clock.sleep_ms
local sleep = blocking

function M.sleep_ms(ms) return sleep(ms) end

-- clock.set_sleep(fn | nil): fn(ms) becomes the sleep of every engine wait; nil puts
-- the blocking core sleep back. Returns the sleep that was installed before.
function M.set_sleep(fn)
  if fn ~= nil and type(fn) ~= "function" then
    error("bad argument #1 to 'set_sleep' (function or nil expected, got " .. type(fn) .. ")", 2)
  end
  local before = sleep
  sleep = fn or blocking
  return before
end

-- The core's blocking sleep, whatever is installed (for adapters that fall back to it).
M.blocking_sleep_ms = blocking

return M
