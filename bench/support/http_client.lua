-- One benchmark client run (used by bench/http.lua, pinned with taskset there):
--   <lua> bench/support/http_client.lua MODE URL SECONDS
-- MODE: mallapi-seq (session:request in a loop), mallapi-batch (session:batch, 16 at
-- once), lua-curl (Debian's Lua-cURL 0.3, one reused easy handle, body only; Lua 5.1 /
-- LuaJIT), lua-curl-full (the same, also collecting status and headers like mallapi).
-- Prints "<requests> <seconds> <errors> <cpu seconds>". Bounded by SECONDS and a
-- request cap.
local mode, url, seconds = arg[1], arg[2], tonumber(arg[3] or "3")
local MAX_REQUESTS = 2000000

local now
if mode:match("^lua%-curl") then
  now = require("socket").gettime
else
  now = require("mallapi.http").now
end

local count, errors = 0, 0
local cpu_start = os.clock()
local start = now()
local stop_at = start + seconds

if mode == "mallapi-seq" then
  local http = require "mallapi.http"
  local session = assert(http.new())
  local req = { url = url }
  while count < MAX_REQUESTS do
    for _ = 1, 100 do
      local res = session:request(req)
      if not res or res.status ~= 200 then errors = errors + 1 end
    end
    count = count + 100
    if now() >= stop_at then break end
  end
  session:close()
elseif mode == "mallapi-batch" then
  local http = require "mallapi.http"
  local session = assert(http.new())
  local reqs = {}
  for i = 1, 1024 do reqs[i] = { url = url } end
  while count < MAX_REQUESTS do
    local results = session:batch(reqs, { concurrency = 16 })
    for i = 1, #results do
      local r = results[i].res
      if not r or r.status ~= 200 then errors = errors + 1 end
    end
    count = count + #reqs
    if now() >= stop_at then break end
  end
  session:close()
elseif mode == "lua-curl" then
  -- Debian's lua-curl is Lua-cURL 0.3 (setopt/perform only, no getinfo): the answer
  -- is collected like mallapi does (chunks joined into one string) and checked by size.
  local curl = require "curl"
  local easy = curl.easy_init()
  local chunks, n = {}, 0
  easy:setopt(curl.OPT_URL, url)
  easy:setopt(curl.OPT_NOSIGNAL, 1)
  easy:setopt(curl.OPT_WRITEFUNCTION, function(s) n = n + 1 chunks[n] = s return #s end)
  local expected
  while count < MAX_REQUESTS do
    for _ = 1, 100 do
      n = 0
      local rc = easy:perform()
      local body = table.concat(chunks, "", 1, n)
      expected = expected or #body
      if rc ~= 0 or #body ~= expected or expected == 0 then errors = errors + 1 end
    end
    count = count + 100
    if now() >= stop_at then break end
  end
elseif mode == "lua-curl-full" then
  -- the same work as session:request: status, a header table (lower-case names,
  -- repeated -> list), the body, with the same User-Agent and a timeout
  local curl = require "curl"
  local easy = curl.easy_init()
  local chunks, n, headers, status = {}, 0, nil, nil
  easy:setopt(curl.OPT_URL, url)
  easy:setopt(curl.OPT_NOSIGNAL, 1)
  easy:setopt(curl.OPT_USERAGENT, "mallapi/0.1.0")
  easy:setopt(curl.OPT_TIMEOUT, 30)
  easy:setopt(curl.OPT_WRITEFUNCTION, function(s) n = n + 1 chunks[n] = s return #s end)
  easy:setopt(curl.OPT_HEADERFUNCTION, function(line)
    local code = line:match("^HTTP/%S+ (%d%d%d)")
    if code then
      status, headers = tonumber(code), {}
    else
      local name, value = line:match("^([^:]+):%s*(.-)%s*$")
      if name then
        name = name:lower()
        local old = headers[name]
        if old == nil then headers[name] = value
        elseif type(old) == "table" then old[#old + 1] = value
        else headers[name] = { old, value } end
      end
    end
    return #line
  end)
  while count < MAX_REQUESTS do
    for _ = 1, 100 do
      n = 0
      local rc = easy:perform()
      local res = { status = status, headers = headers, body = table.concat(chunks, "", 1, n) }
      if rc ~= 0 or res.status ~= 200 then errors = errors + 1 end
    end
    count = count + 100
    if now() >= stop_at then break end
  end
else
  error("unknown mode " .. tostring(mode))
end
io.write(count, " ", now() - start, " ", errors, " ", os.clock() - cpu_start, "\n")
