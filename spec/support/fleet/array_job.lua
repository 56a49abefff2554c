-- Spec job module for mallapi.fleet: syncs settings.count numbered records of one
-- account into a JSON-lines file (settings.out), settings.batch per batch, optionally
-- sleeping settings.pause_ms per batch; the token comes from the job's secret reference.
local core = require "mallapi.core"
return function(ctx)
  local s = ctx.settings
  local token = ctx.secret("token")
  local records = {}
  for i = 1, s.count do records[i] = { account = ctx.id, n = i } end
  return {
    batch = s.batch or 10,
    source = records,
    sink = { send_batch = function(docs)
      if s.pause_ms then core.clock.sleep_ms(s.pause_ms) end
      local f = assert(io.open(s.out, "a"))
      for _, d in ipairs(docs) do f:write(d.account, " ", d.n, " ", #token, "\n") end
      f:close()
      return true
    end },
  }
end
