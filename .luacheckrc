-- luacheck settings for mallapi
std = "max"
files["spec"] = { std = "+busted" }
files["spec/support/counting.lua"] = { std = "+busted" }
max_line_length = 120
globals = {}
read_globals = { "ngx" }
