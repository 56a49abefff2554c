-- mallapi.ngx.webhook: the front of the nginx webhook receiver. The receiving half
-- (content phase: read, verify by the vendor profile's webhook rule, dedup, queue, answer)
-- is mallapi.ngx.webhook.receiver; the processing half (timers: take, run `handle`,
-- classify a failure, stop or go on) is mallapi.ngx.webhook.worker, which also has the
-- generic pieces a handle is built from (handler, push). See doc/openresty.md and, for a
-- handle that maps one vendor's events and pushes them to another,
-- the example handler in examples/openresty/.
local receiver = require "mallapi.ngx.webhook.receiver"
local worker = require "mallapi.ngx.webhook.worker"
local queues = require "mallapi.ngx.webhook_queue"

return {
  receivers = receiver.receivers,      -- name -> receiver made by new
  new = receiver.new,
  open_seen = receiver.open_seen,
  serve = receiver.serve,
  handler = worker.handler,
  push = worker.push,
  classify = worker.classify,
  encode_record = queues.encode,
  decode_record = queues.decode,
}
