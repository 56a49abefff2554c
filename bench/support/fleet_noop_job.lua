-- bench/fleet.lua's job module: settings.count records, sent to a sink that does nothing.
return function(ctx)
  local records = {}
  for i = 1, ctx.settings.count or 0 do records[i] = { n = i } end
  return { batch = ctx.settings.batch or 100, source = records, sink = { send_batch = function() return true end } }
end
