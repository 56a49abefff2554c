-- mallapi.units: the API's one convention for durations, and the deprecated names it
-- still accepts. A duration option carries its unit in its name: `_ms` milliseconds,
-- `_s` seconds (doc/primitives.md, "Units"). The older unit-less names (`timeout` in
-- seconds here, ms there; `max_attempts`; `base_delay` ...) keep working as aliases.
-- units.apply(opts, api) is called where an API takes its options: it turns the
-- documented names into the module's internal fields, so the modules themselves read
-- one set of fields.
local type, error, pairs, ipairs, string_format = type, error, pairs, ipairs, string.format

local M = {}

-- [api] = list of { documented name, internal field (= the deprecated alias), scale from
-- the documented unit to the internal one, the alias's unit as documented }.
M.aliases = {
  ["http.new"] = {
    { "timeout_ms", "timeout", 0.001, "s" },
    { "connect_timeout_ms", "connect_timeout", 0.001, "s" },
  },
  ["http retry"] = {                                      -- http.new{ retry = {...} }, req.retry
    { "attempts", "max_attempts", 1, "count" },
    { "base_ms", "base_delay", 0.001, "s" },
    { "max_ms", "max_delay", 0.001, "s" },
  },
  ["http.request"] = {                                    -- session:request(req), batch reqs
    { "timeout_ms", "timeout", 0.001, "s" },
  },
  ["mallapi.client"] = {                                  -- client cfg and per-call opts
    { "timeout_ms", "timeout", 0.001, "s" },
  },
  ["mallapi.token.new"] = {
    { "advisory_window_ms", "advisory_window", 1, "ms" },
    { "mandatory_window_ms", "mandatory_window", 1, "ms" },
    { "lease_ms", "lease", 1, "ms" },
    { "wait_ms", "wait", 1, "ms" },
    { "poll_ms", "poll", 1, "ms" },
    { "retry_interval_ms", "retry_interval", 1, "ms" },
  },
  ["store.redis.new"] = {
    { "timeout_ms", "timeout", 1, "ms" },
  },
  ["mallapi.ngx.webhook.new"] = {                          -- the OpenResty webhook receiver
    { "attempts", "max_attempts", 1, "count" },
    { "base_ms", "base_delay", 0.001, "s" },
    { "max_ms", "max_delay", 0.001, "s" },
    { "poll_ms", "poll", 0.001, "s" },
    { "claim_ms", "claim", 0.001, "s" },
    { "dedup_ttl_s", "dedup_ttl", 1, "s" },
  },
  ["webhook.verify"] = {                                    -- webhook.verify's cfg (and the receiver's checker)
    { "tolerance_s", "tolerance", 1, "s" },
  },
  ["sync.run"] = {
    { "lease_ms", "lease", 1, "ms" },
  },
  ["mallapi.ngx.redis_store"] = {
    { "timeout_ms", "timeout", 1, "ms" },
    { "keepalive_ms", "keepalive", 1, "ms" },
  },
}

-- opts with every documented duration name of `api` turned into its internal field
-- (a copy when something changed; opts itself otherwise). A documented name wins over
-- its alias when both are given. A non-number raises at the caller's caller, naming
-- argument #argn (default 1).
function M.apply(opts, api, level, argn)
  if type(opts) ~= "table" then return opts end
  local copy
  for _, a in ipairs(M.aliases[api]) do
    local v = opts[a[1]]
    if v ~= nil then
      if type(v) ~= "number" then
        error(string_format("bad argument #%d to '%s' (option '%s': number expected, got %s)", argn or 1, api, a[1],
          type(v)),
          (level or 2) + 1)
      end
      if not copy then
        copy = {}
        for k, x in pairs(opts) do copy[k] = x end
      end
      copy[a[1]] = nil
      copy[a[2]] = v * a[3]
    end
  end
  return copy or opts
end

return M
