-- Child process of spec/seen_spec.lua. Argument file lines: the seen set's path, a seed,
-- N and ROUNDS. Adds the keys "<round>:<i>" (i = 1..N, in an order shuffled by the seed, so
-- that processes meet on the same keys and slots) and prints how many this process added;
-- the others another process added first.
local lines = {}
for line in io.lines(arg[1]) do lines[#lines + 1] = line end
local path, seed, n, rounds = lines[1], tonumber(lines[2]), tonumber(lines[3]), tonumber(lines[4])
local set = assert(require("mallapi.core").seen.open(path))
math.randomseed(seed)
local order = {}
for i = 1, n do order[i] = i end
for i = n, 2, -1 do
  local j = math.random(i)
  order[i], order[j] = order[j], order[i]
end
local added = 0
for round = 1, rounds do
  for _, i in ipairs(order) do
    local ok, err = set:add(round .. ":" .. i, 3600)
    if ok == nil then error(err) end
    if ok then added = added + 1 end
  end
end
print("added " .. added)
