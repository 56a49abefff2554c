-- Test support only: while the C areas (crypto, codec, sign, json, token) are built in
-- parallel, give the vendor specs stand-ins for the ones that have not landed, built on
-- luaossl and dkjson. Each stand-in is installed only when mallapi has no such area, so the
-- real modules are used as soon as they exist. `missing` lists what was replaced.
local mallapi = require "mallapi"

local M = { missing = {} }

local function has(area, field)
  local ok, value = pcall(function() return mallapi[area] end)
  return ok and type(value) == "table" and (field == nil or value[field] ~= nil)
end

local function install(area, value)
  rawset(mallapi, area, value)
  M.missing[#M.missing + 1] = area
end

local function hex(s, upper)
  local fmt = upper and "%02X" or "%02x"
  return (s:gsub(".", function(c) return string.format(fmt, c:byte()) end))
end

local function encode_as(raw, enc)
  if enc == nil or enc == "hex" then return hex(raw) end
  if enc == "HEX" then return hex(raw, true) end
  if enc == "raw" then return raw end
  error("fallback crypto: unsupported encoding " .. tostring(enc))
end

if not has("crypto", "digest") then
  local digest = require "openssl.digest"
  local hmac = require "openssl.hmac"
  local rand = require "openssl.rand"
  install("crypto", {
    digest = function(alg, data, enc) return encode_as(digest.new(alg):final(data), enc) end,
    hmac = function(alg, key, data, enc) return encode_as(hmac.new(key, alg):final(data), enc) end,
    nonce = function(n) return hex(rand.bytes(n or 16)) end,
    uuid4 = function()
      local b = { rand.bytes(16):byte(1, 16) }
      b[7] = (b[7] % 16) + 64; b[9] = (b[9] % 64) + 128
      local unpack = table.unpack or unpack
      local h = hex(string.char(unpack(b)))
      return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-"
        .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
    end,
    equals = function(a, b) return a == b end,
  })
end

if not has("codec", "urlencode") then
  local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  install("codec", {
    urlencode = function(s, style)
      if style == "java" or style == "form" then
        return (s:gsub("[^A-Za-z0-9%.%-%*_ ]", function(c)
          return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
      end
      return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
    end,
    base64encode = function(s)
      return ((s:gsub(".", function(x)
        local r, b = "", x:byte()
        for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
        return r
      end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
        if #x < 6 then return "" end
        local c = 0
        for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
        return b64chars:sub(c + 1, c + 1)
      end) .. ({ "", "==", "=" })[#s % 3 + 1])
    end,
  })
end

if not has("sign", "canonical") then
  install("sign", {
    canonical = function(params, o)
      o = o or {}
      local keys = {}
      for k, v in pairs(params) do
        if not (o.skip_empty and (v == "" or v == nil)) then keys[#keys + 1] = k end
      end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do
        local v = tostring(params[k])
        if o.style == "pairs" then parts[#parts + 1] = k .. "=" .. v
        elseif o.style == "values" then parts[#parts + 1] = v
        else parts[#parts + 1] = k .. v end
      end
      return (o.prefix or "") .. table.concat(parts, o.sep or "") .. (o.suffix or "")
    end,
  })
end

if not has("json", "decode") then
  local dkjson = require "dkjson"
  local null = dkjson.null
  -- top-level members of an object with their exact value text
  local function raw_members(s)
    local out, pos = {}, s:find("{") + 1
    local function skip_ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
    local function skip_value()
      local c = s:sub(pos, pos)
      if c == '"' then
        local i = pos + 1
        while true do
          local ch = s:sub(i, i)
          if ch == "\\" then i = i + 2 elseif ch == '"' then break else i = i + 1 end
        end
        pos = i + 1
      elseif c == "{" or c == "[" then
        local depth, i, instr = 0, pos, false
        while i <= #s do
          local ch = s:sub(i, i)
          if instr then
            if ch == "\\" then i = i + 1 elseif ch == '"' then instr = false end
          elseif ch == '"' then instr = true
          elseif ch == "{" or ch == "[" then depth = depth + 1
          elseif ch == "}" or ch == "]" then depth = depth - 1; if depth == 0 then break end end
          i = i + 1
        end
        pos = i + 1
      else
        pos = s:find("[,}%s]", pos)
      end
    end
    while true do
      skip_ws()
      if s:sub(pos, pos) == "}" then break end
      local start = pos
      skip_value()
      local name = dkjson.decode(s:sub(start, pos - 1))
      skip_ws(); pos = pos + 1; skip_ws()
      local vstart = pos
      skip_value()
      out[#out + 1] = { name = name, raw = s:sub(vstart, pos - 1) }
      skip_ws()
      if s:sub(pos, pos) == "," then pos = pos + 1 end
    end
    return out
  end
  install("json", {
    null = null,
    decode = function(s)
      local v, _, err = dkjson.decode(s, 1, null)
      if err then error(err) end
      return v
    end,
    encode = function(v) return dkjson.encode(v) end,
    array = function(t) return setmetatable(t, { __jsontype = "array" }) end,
    raw_members = raw_members,
  })
end

if not has("token", "new") then
  install("token", {
    new = function(o)
      local mgr = { current = nil }
      function mgr:get()
        if not self.current then
          local tok, err, code = o.fetch()
          if not tok then return nil, err, code end
          self.current = tok
        end
        return self.current
      end
      function mgr:invalidate(tok) if self.current == tok then self.current = nil end end
      return mgr
    end,
  })
end

if not has("http", "new") then
  local socket_http = require "socket.http"
  local ltn12 = require "ltn12"
  install("http", {
    new = function()
      return {
        request = function(_, req)
          local out, headers = {}, {}
          for k, v in pairs(req.headers or {}) do headers[k] = v end
          if req.body then headers["Content-Length"] = tostring(#req.body) end
          local ok, status, h = socket_http.request { url = req.url, method = req.method,
            headers = headers, sink = ltn12.sink.table(out),
            source = req.body and ltn12.source.string(req.body) or nil }
          if not ok then return nil, "http.request: " .. tostring(status), "CONNECT" end
          return { status = status, headers = h or {}, body = table.concat(out) }
        end,
      }
    end,
  })
end

return M
