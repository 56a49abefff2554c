-- Busted output handler: the plain terminal output, plus the counts of passed and
-- failed tests written to the file named by MALLAPI_COUNT_FILE ("passed failed"),
-- so spec/run.sh can add up the runs under Lua 5.4 and LuaJIT; then one line per
-- outside conformance suite that ran (spec/support/suite_counts.lua).
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)
  local suite_counts = require "support.suite_counts"   -- loaded before any spec file

  busted.subscribe({ "suite", "end" }, function()
    local path = os.getenv("MALLAPI_COUNT_FILE")
    if path then
      local f = assert(io.open(path, "w"))
      f:write(handler.successesCount, " ",
              handler.failuresCount + handler.errorsCount, "\n")
      f:close()
    end
    for _, line in ipairs(suite_counts.lines()) do io.stdout:write(line, "\n") end
    io.stdout:flush()
    return nil, true
  end, { priority = 2 })

  return handler
end
