-- `mallapi jobs` and `mallapi worker` as processes (the modules mallapi.cli.jobs and
-- mallapi.cli.worker run under the spec's runtime): job definitions from the command
-- line, secrets only as references, the table for a person, a supervised worker with
-- two processes and --metrics, stopped with SIGTERM.
local core_clock = require("mallapi.core").clock
local fleet = require "mallapi.fleet"
local redis = require "support.redis_server"
local procs = require "support.procs"
local socket = require "socket"

local cli = require "support.fleet.cli"

local function args_for(srv, args)
  local all = { "--redis", "redis://127.0.0.1:" .. srv.port, "--password-env", "RPW" }
  for _, a in ipairs(args) do all[#all + 1] = a end
  return all
end

local function run(module, srv, args) return cli.run(module, args_for(srv, args), { RPW = srv.password }) end

describe("mallapi jobs / mallapi worker", function()
  local srv, dir
  setup(function() srv = redis.start(); dir = procs.temp_dir("fleetcli") end)
  teardown(function() srv:stop(); procs.remove_dir(dir) end)

  it("adds, lists, pauses, resumes and removes jobs; secrets are references", function()
    local out = run("jobs", srv, { "add", "shop-1", "--module", "spec/support/fleet/array_job.lua", "--settings",
      '{"count":3,"out":"' .. dir .. '/o"}', "--interval", "60", "--secret", "token=env:SHOP1_TOKEN" })
    assert.same("exit=0\n", out)
    out = run("jobs", srv, { "add", "shop-2", "--module", "m", "--secret", "token=s3cret-value" })
    assert.truthy(out:find("expected name=env:VAR or name=file:/path", 1, true), out)
    assert.falsy(out:find("s3cret-value", 1, true), out)
    assert.truthy(out:find("exit=2\n", 1, true))
    out = run("jobs", srv, { "add", "shop-2", "--module", "m", "--settings", "[1" })
    assert.truthy(out:find("--settings is not a JSON object", 1, true), out)
    assert.same("exit=0\n", run("jobs", srv, { "pause", "shop-1" }))
    out = run("jobs", srv, { "list" })
    assert.truthy(out:find("^JOB +STATE +LAST +READ +SENT +DEAD +DURATION +AGO +NEXT IN\n"), out)
    assert.truthy(out:find("\nshop%-1 +paused +%- +0 +0 +0 +0%.0s +%- +0s\n"), out)
    assert.same("exit=0\n", run("jobs", srv, { "resume", "shop-1" }))
    out = run("jobs", srv, { "list", "--json" })
    assert.truthy(out:find('"secrets":{"token":{"env":"SHOP1_TOKEN"}}', 1, true), out)
    assert.truthy(out:find('"paused":false', 1, true), out)
    assert.truthy(run("jobs", srv, { "remove", "nope" }):find("no job nope\nexit=1\n", 1, true))
    assert.same("exit=0\n", run("jobs", srv, { "remove", "shop-1" }))
    assert.truthy(run("jobs", srv, { "frobnicate" }):find("exit=2\n", 1, true))
  end)

  it("runs jobs with --processes 2 --metrics, and drains on SIGTERM", function()
    local fl = fleet.new{ redis = "redis://127.0.0.1:" .. srv.port, password = srv.password }
    local f = io.open(dir .. "/tok", "w"); f:write("abc"); f:close()
    for i = 1, 4 do
      assert(fl:add("w" .. i, { module = "spec/support/fleet/array_job.lua",
        settings = { count = 30, batch = 10, out = dir .. "/w" .. i, pause_ms = 20 },
        secrets = { token = { file = dir .. "/tok" } } }))
    end
    local port = procs.free_port()
    local pid = cli.start("worker", args_for(srv, { "--processes", "2", "--metrics", "127.0.0.1:" .. port,
      "--poll", "0.2", "--dead-letter-dir", dir }), { RPW = srv.password }, dir .. "/sup.log")
    local function all_ok()
      for _, j in ipairs(fl:list()) do if j.status ~= "ok" then return false end end
      return true
    end
    for _ = 1, 300 do if all_ok() then break end core_clock.sleep_ms(50) end
    assert.is_true(all_ok(), procs.capture("cat " .. dir .. "/sup.log"))
    local workers = {}
    for _, j in ipairs(fl:list()) do workers[j.worker] = true end
    local text
    for _ = 1, 50 do
      local c = socket.tcp()
      c:settimeout(2)
      if c:connect("127.0.0.1", port) then
        c:send("GET /metrics HTTP/1.0\r\n\r\n")
        text = c:receive("*a")
        c:close()
        break
      end
      core_clock.sleep_ms(50)
    end
    assert.truthy(text and text:find('mallapi_job_last_sent_records{job="w3"} 30', 1, true), text)
    os.execute("kill -TERM " .. pid)
    for _ = 1, 200 do if not procs.alive(pid) then break end core_clock.sleep_ms(50) end
    assert.is_false(procs.alive(pid))
    -- the runs were made by its children (consumer names host:pid), which left with it
    local consumers = 0
    for name in pairs(workers) do
      local child = name:match(":(%d+)$")
      assert.are_not.equal(pid, child)
      assert.is_false(procs.alive(child), "child " .. child .. " still alive")
      consumers = consumers + 1
    end
    assert.is_true(consumers >= 1)
    assert.same(0, fl:queue_stats().pending)
  end)
end)
