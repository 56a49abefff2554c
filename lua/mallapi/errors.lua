-- mallapi.errors: every error code mallapi returns, listed once. A runtime failure is
-- `nil, msg, CODE` (CODE one of these); caller mistakes raise a Lua error instead
-- ("bad argument #n to 'name' (...)"). The same list is src/errors.h for the C core and
-- the table in doc/errors.md; spec/errors_spec.lua checks that the sources produce
-- exactly these codes.
--
--   errors.TIMEOUT            --> "TIMEOUT"
--   errors.info.TIMEOUT       --> { code = "TIMEOUT", retryable = true, from = "...", meaning = "..." }
--   errors.retryable(code [, status]) --> true | false
--   errors.list               --> the codes in the order of the table
-- retryable: true (worth trying again after a pause), false, or "status" (HTTP: only for
-- 5xx, 408 and 429).
local M = { info = {}, list = {} }

local rows = {
  -- code           retryable  from
  --   meaning
  { "TIMEOUT",       true,     "transport",
    "the deadline passed before the answer was complete (also a token waiter that waited too long)" },
  { "CONNECT",       true,     "transport",
    "could not connect to the host" },
  { "DNS",           true,     "transport",
    "the host (or proxy) name could not be resolved" },
  { "TLS",           false,    "transport",
    "TLS handshake or certificate check failed" },
  { "PROXY",         false,    "transport",
    "the proxy refused the request" },
  { "PROTOCOL",      true,     "transport",
    "broken answer: cut mid-body, not HTTP, bad chunking or length" },
  { "IO",            true,     "transport, files",
    "send/receive failed with nothing answered, or a file could not be read or written" },
  { "TOO_LARGE",     false,    "transport, webhook",
    "an answer or a request body over its size limit" },
  { "BAD_REQUEST",   false,    "transport",
    "the request was refused before anything was sent (bad URL, method, header)" },
  { "INTERNAL",      false,    "transport",
    "out of memory or libcurl misuse inside the transport" },
  { "TRANSPORT",     true,     "client",
    "the transport failed without naming a code (a user's transport)" },
  { "HTTP",          "status", "client, vendors",
    "an HTTP status the vendor does not explain, or an answer that is not JSON; retryable for 5xx, 408, 429" },
  { "AUTH",          false,    "client, tokens, vendors",
    "credentials or token refused, or the token fetch failed" },
  { "VENDOR",        false,    "client, vendors",
    "the vendor answered with a business error for this call" },
  { "INVALID",       false,    "client",
    "parameters refused by the operation's limits before anything was sent" },
  { "RATE_LIMIT",    true,     "ratelimit",
    "the rate limit wait would not fit in the time left" },
  { "STORE",         true,     "tokens, stores, fleet",
    "the token/state store (shared dict, Redis) failed" },
  { "DECODE",        false,    "codec, clock",
    "text that does not decode (URL, base64, hex, date-time)" },
  { "CRYPTO",        false,    "crypto, webhook",
    "the crypto library failed" },
  { "SYNTAX",        false,    "json",
    "the JSON text is not valid JSON" },
  { "DEPTH",         false,    "json, mapper",
    "nesting deeper than the limit" },
  { "MEMORY",        false,    "json, mapper, webhook",
    "out of memory (or Lua stack) while decoding or encoding" },
  { "TYPE",          false,    "json",
    "a value JSON cannot encode (function, userdata, ...)" },
  { "CYCLE",         false,    "json",
    "a table that contains itself, met while encoding" },
  { "JSON",          false,    "mapper",
    "mapper:decode got text that is not a JSON object" },
  { "MAP",           false,    "mapper, map, sync, webhook worker",
    "a document does not map (missing or malformed field)" },
  { "FULL",          false,    "seen",
    "the seen-ids set is full" },
  { "SYSTEM",        false,    "signal, metrics",
    "an operating system call failed (signal trap, listening socket)" },
  { "BAD_BODY",      false,    "webhook",
    "the webhook body is not one JSON object, or a header/id it needs is missing" },
  { "SIGNATURE",     false,    "webhook",
    "the webhook signature is missing or does not match" },
  { "STALE",         false,    "webhook",
    "the webhook timestamp is missing or outside the tolerance window" },
  { "DUPLICATE",     false,    "webhook",
    "the webhook event was already received (answered 200)" },
  { "QUEUE",         true,     "webhook",
    "the webhook queue is unavailable (answered 503)" },
  { "PERMANENT",     false,    "webhook worker",
    "the handler says the event can never succeed (dead letter at once)" },
  { "TIMER",         false,    "webhook worker",
    "nginx could not start the worker timer" },
  { "PHASE",         false,    "nginx transport",
    "the current nginx phase cannot wait on the network" },
  { "STATE",         false,    "sync",
    "a checkpoint that cannot be read or saved" },
  { "SOURCE",        false,    "sync",
    "a source record without the id or update time it needs" },
  { "REJECTED",      false,    "sync",
    "the sink refused a record (dead letter)" },
  { "DEAD_LETTERS",  false,    "sync",
    "too many records refused in a row; the run stops" },
  { "BUSY",          true,     "sync, fleet",
    "the job's lock is held elsewhere or was lost" },
  { "STOPPED",       false,    "sync",
    "the run stopped on request after a batch" },
  { "ERROR",         false,    "sync, fleet, webhook worker",
    "a user function (map, sink, handler, job) raised an error" },
  { "CONFIG",        false,    "fleet",
    "a job definition or secret reference is unusable" },
}

for _, row in ipairs(rows) do
  local code = row[1]
  M[code] = code
  M.info[code] = { code = code, retryable = row[2], from = row[3], meaning = row[4] }
  M.list[#M.list + 1] = code
end

-- true when a failure with this code (and HTTP status, for "HTTP") is worth retrying.
function M.retryable(code, status)
  local info = M.info[code]
  if not info then return false end
  if info.retryable == "status" then
    status = tonumber(status)
    return status ~= nil and (status >= 500 or status == 408 or status == 429)
  end
  return info.retryable
end

-- Caller mistakes, one spelling: raise "bad argument #1 to 'fname' (option 'name': expected
-- expected, got <type>)" at `level`, counted from the function calling option_error (1 is
-- that function, 2 its caller ...).
function M.option_error(fname, name, expected, got, level)
  error(string.format("bad argument #1 to '%s' (option '%s': %s expected, got %s)", fname, name, expected,
    type(got)), (level or 2) + 1)
end

-- opts[name] when it has Lua type `want`, `default` when nil; otherwise the error above at
-- `level`, counted the same way from the function calling option.
function M.option(fname, opts, name, want, default, level)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= want then M.option_error(fname, name, want, v, (level or 2) + 1) end
  return v
end

return M
