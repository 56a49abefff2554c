-- mallapi.sync: the sync runner's public face. The pieces live under mallapi.sync.*:
--   job         one run: batches from a source, map, sink, dead letters, checkpoint
--   checkpoint  the checkpoint's text (the shared record codec) and its store keys
--   sinks       sinks that push with a vendor client (bulk refusals asked of the profile)
--   source      sources (iterate, updates) and the time helpers
--   report      progress line and summaries
-- See doc/sync.md.
local source = require "mallapi.sync.source"
local job = require "mallapi.sync.job"
local checkpoint = require "mallapi.sync.checkpoint"
local sinks = require "mallapi.sync.sinks"

return {
  run = job.run, main = job.main, classify = job.classify,
  client_sink = sinks.client_sink,
  checkpoint = checkpoint.get, reset = checkpoint.reset,
  encode_checkpoint = checkpoint.encode, decode_checkpoint = checkpoint.decode,
  iterate = source.iterate, updates = source.updates,
  parse_time = source.parse_time, format_time = source.format_time,
}
