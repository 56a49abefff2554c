-- Counts of the outside conformance suites the specs run (JSONTestSuite, nativejson's
-- jsonchecker and roundtrip, lua-cjson's tests): a spec wraps each case's function
-- with count(fn); spec/support/counting.lua requires this module before any spec
-- file (so busted's per-file insulation keeps the same table) and prints one line
-- per suite after the run: "JSONTestSuite: 318 cases, 318 passed".
local M = { order = {}, suites = {} }

-- Returns count(fn): fn wrapped to count one case of the named suite when it
-- starts and one pass when it returns without error.
function M.suite(name)
  local s = M.suites[name]
  if not s then
    s = { cases = 0, passed = 0 }
    M.suites[name] = s
    M.order[#M.order + 1] = name
  end
  return function(fn)
    return function(...)
      s.cases = s.cases + 1
      fn(...)
      s.passed = s.passed + 1
    end
  end
end

-- "NAME: N cases, N passed" for each suite that ran, in first-use order.
function M.lines()
  local out = {}
  for _, name in ipairs(M.order) do
    local s = M.suites[name]
    if s.cases > 0 then out[#out + 1] = ("%s: %d cases, %d passed"):format(name, s.cases, s.passed) end
  end
  return out
end

return M
