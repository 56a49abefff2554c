-- Busted output handler: the plain terminal output, plus the counts of passed and
-- failed tests written to the file named by MALLAPI_COUNT_FILE ("passed failed"),
-- so spec/run.sh can add up the runs under Lua 5.4 and LuaJIT.
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)

  busted.subscribe({ "suite", "end" }, function()
    local path = os.getenv("MALLAPI_COUNT_FILE")
    if path then
      local f = assert(io.open(path, "w"))
      f:write(handler.successesCount, " ",
              handler.failuresCount + handler.errorsCount, "\n")
      f:close()
    end
    return nil, true
  end, { priority = 2 })

  return handler
end
