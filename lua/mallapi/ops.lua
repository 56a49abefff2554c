-- mallapi.ops: operation names of a vendor profile: resolve a name (aliases, body-key
-- variants) to its definition, and suggest close names when it is unknown. Used by the
-- client once per call (prepare/call/each).
local error, pairs, type = error, pairs, type
local concat, sort = table.concat, table.sort
local floor, min = math.floor, math.min

local M = {}

local function distance(a, b)
  local la, lb = #a, #b
  local prev = {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = (ca == b:byte(j)) and 0 or 1
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[lb]
end

function M.close_names(profile, name)
  local lname, scored = name:lower(), {}
  for opname in pairs(profile.operations) do
    local lop = opname:lower()
    local d = distance(lname, lop)
    if lop:find(lname, 1, true) or lname:find(lop, 1, true) then d = min(d, 1) end
    if d <= math.max(2, floor(#name / 3)) then scored[#scored + 1] = { opname, d } end
  end
  sort(scored, function(x, y) if x[2] ~= y[2] then return x[2] < y[2] end return x[1] < y[1] end)
  local out = {}
  for i = 1, min(5, #scored) do out[i] = scored[i][1] end
  return out
end

-- Resolve an operation name (aliases, body-key variants) to its definition.
function M.find(self, name, params, fn)
  if type(name) ~= "string" then
    error("bad argument #1 to 'client:" .. fn .. "' (operation name expected, got " .. type(name) .. ")", 3)
  end
  local profile = self.profile
  local real = profile.aliases and profile.aliases[name] or name
  if profile.variants and profile.variants[real] then
    local chosen
    for key, opname in pairs(profile.variants[real]) do
      if type(params) == "table" and params[key] ~= nil then
        if chosen then
          error("bad argument #2 to 'client:" .. fn .. "' (" .. self.vendor .. " " .. name
            .. ": pass exactly one of the variant keys)", 3)
        end
        chosen = opname
      end
    end
    if not chosen then
      local names = {}
      for _, opname in pairs(profile.variants[real]) do names[#names + 1] = opname end
      sort(names)
      error("bad argument #1 to 'client:" .. fn .. "' (" .. self.vendor .. " " .. name .. " serves several operations; "
        .. "use one of " .. concat(names, ", ") .. ")", 3)
    end
    real = chosen
  end
  local op = profile.operations[real]
  if not op then
    local close = M.close_names(profile, name)
    local hint = #close > 0 and "; close names: " .. concat(close, ", ") or ""
    error("bad argument #1 to 'client:" .. fn .. "' (unknown " .. self.vendor .. " operation '" .. name .. "'"
      .. hint .. ")", 3)
  end
  return op, real
end

return M
