-- core.signal (src/signal.c): SIGTERM and SIGINT are noted, not fatal, once trapped;
-- the worker polls stop_signal() between batches. Runs in a child process so the
-- spec runner's own signal handling is untouched.
local procs = require "support.procs"

describe("core.signal #c", function()
  it("notes SIGTERM and SIGINT after trap_stop, and forgets on clear", function()
    local dir = procs.temp_dir("signal")
    local script = dir .. "/child.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      local core = require "mallapi.core"
      local pid = core.lock.pid()
      io.write(tostring(core.signal.stop_signal()), " ")
      assert(core.signal.trap_stop())
      os.execute("kill -TERM " .. pid)
      core.clock.sleep_ms(50)
      io.write(tostring(core.signal.stop_signal()), " ")
      os.execute("kill -INT " .. pid)
      io.write(tostring(core.signal.stop_signal()), " ")     -- the first one is kept
      core.signal.clear()
      io.write(tostring(core.signal.stop_signal()), " ")
      -- (system() ignores SIGINT in the caller while its child runs: send it from the background)
      os.execute("(sleep 0.05; kill -INT " .. pid .. ") &")
      core.clock.sleep_ms(300)
      io.write(tostring(core.signal.stop_signal()), "\n")
    ]])
    f:close()
    local out = procs.spawn(script, {}, dir, 20):wait()
    procs.remove_dir(dir)
    assert.same("nil TERM TERM nil INT\n", out)
  end)
end)
