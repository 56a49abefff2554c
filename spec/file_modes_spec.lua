-- Issue 13 item 8: files holding private data are created mode 0600 whatever the umask
-- lets through: the sync dead-letter file (buyers' names, phones and addresses; it was
-- 0644), its trimmed rewrite on resume, and the file store's tokens and checkpoints.
local mallapi = require "mallapi"
local sync = require "mallapi.sync"
local procs = require "support.procs"

local function mode(path)
  return (procs.capture("stat -c %a '" .. path .. "'"):gsub("%s+$", ""))
end

local function numbers(n)
  local list = {}
  for i = 1, n do list[i] = { id = i, buyer = "张三", phone = "13800000000" } end
  return list
end

describe("file modes", function()
  local tmp
  before_each(function()
    tmp = procs.temp_dir("modes")
    assert.equal("0022", (procs.capture("umask"):gsub("%s+$", "")))   -- 0644 would get through
  end)
  after_each(function() procs.remove_dir(tmp) end)

  it("a new dead-letter file is created 0600", function()
    local summary = assert(sync.run{ name = "m", source = numbers(3), output = false, sleep = function() end,
      dead_letter = tmp .. "/dead", state = mallapi.store.file(tmp),
      sink = function(doc) if doc.id == 2 then return nil, "refused", "VENDOR" end return true end })
    assert.equal(1, summary.dead)
    assert.equal("600", mode(tmp .. "/dead"))
  end)

  it("the checkpoints and tokens of the file store are 0600", function()
    local store = mallapi.store.file(tmp)
    assert(store:set("sync:job", "checkpoint text", 60))
    local names = procs.capture("ls '" .. tmp .. "'")
    local checked = 0
    for name in names:gmatch("[^\n]+") do
      if not name:find("%.lock$") then
        assert.equal("600", mode(tmp .. "/" .. name), name)
        checked = checked + 1
      end
    end
    assert.is_true(checked >= 1)
  end)
end)
