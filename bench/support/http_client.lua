-- One benchmark client run (used by bench/http.lua, pinned with taskset there):
--   <lua> bench/support/http_client.lua MODE URL SECONDS
-- MODE: mallapi-seq (session:request in a loop), mallapi-batch (session:batch, 16 at
-- once), lua-curl (Lua-cURLv3, one reused easy handle; Lua 5.1 / LuaJIT only).
-- Prints "<requests> <seconds> <errors> <cpu seconds>". Bounded by SECONDS and a
-- request cap.
local mode, url, seconds = arg[1], arg[2], tonumber(arg[3] or "3")
local MAX_REQUESTS = 2000000

local now
if mode == "lua-curl" then
  now = require("socket").gettime
else
  now = require("mallapi.core").http.now
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
else
  error("unknown mode " .. tostring(mode))
end
io.write(count, " ", now() - start, " ", errors, " ", os.clock() - cpu_start, "\n")
