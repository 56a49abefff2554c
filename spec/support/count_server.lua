-- Test server for the retry-budget spec: one process on 127.0.0.1 that counts every
-- request it answers. Started by the spec (arguments: port, log file), it prints
-- "HIT <key>" for each request to the log and answers by the path:
--   /<key>/fail/<status>/...            always <status>
--   /<key>/after/<s>/...                503 with Retry-After: <s>
--   /<key>/heal/<n>/...                 503 with Retry-After: 1 for the first n hits, then 200 {"id":1}
-- It serves one connection at a time and exits after 120 s, or at once on /quit.
local socket = require "socket"

local port, log = tonumber(arg[1]), arg[2]
local server = assert(socket.bind("127.0.0.1", port))
server:settimeout(0.2)
local out = assert(io.open(log, "a"))
local hits, started = {}, socket.gettime()

local function answer(client, status, headers, body)
  local lines = { "HTTP/1.1 " .. status .. " X", "Content-Type: application/json",
    "Content-Length: " .. #body, "Connection: close" }
  for _, h in ipairs(headers) do lines[#lines + 1] = h end
  client:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
end

local function serve(client)
  client:settimeout(5)
  local line = client:receive("*l")
  if not line then return end
  local path = line:match("^%u+ (%S+)") or "/"
  local length = 0
  while true do
    local h = client:receive("*l")
    if not h or h == "" then break end
    local n = h:lower():match("^content%-length:%s*(%d+)")
    if n then length = tonumber(n) end
  end
  if length > 0 then client:receive(length) end
  if path == "/quit" then answer(client, 200, {}, "{}"); return true end
  local key, mode, n = path:match("^/([^/]+)/(%a+)/(%d+)")
  key = key or "?"
  hits[key] = (hits[key] or 0) + 1
  out:write("HIT ", key, "\n")
  out:flush()
  if mode == "fail" then
    answer(client, tonumber(n), {}, '{"success":false,"message":"busy"}')
  elseif mode == "after" then
    answer(client, 503, { "Retry-After: " .. n }, '{"success":false,"message":"busy"}')
  elseif mode == "heal" and hits[key] <= tonumber(n) then
    answer(client, 503, { "Retry-After: 1" }, '{"success":false,"message":"busy"}')
  else
    answer(client, 200, {}, '{"id":1}')
  end
end

print("listening " .. port)
io.stdout:flush()
while socket.gettime() - started < 120 do
  local client = server:accept()
  if client then
    local quit = serve(client)
    client:close()
    if quit then break end
  end
end
out:close()
server:close()
