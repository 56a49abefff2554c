-- Child process of spec/seen_spec.lua: open the seen set at the argument file's first line
-- with the lock take-over time of the second (ms), add one key and print "added <result>".
local lines = {}
for line in io.lines(arg[1]) do lines[#lines + 1] = line end
local set = assert(require("mallapi.core").seen.open(lines[1], nil, tonumber(lines[2])))
print("added " .. tostring(set:add("from a child", 60)))
