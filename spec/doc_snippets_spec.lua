-- The README's snippets run as written against the vendor sandbox: every ```lua block (a block
-- whose first line is `-- fragment` is skipped; `-- file: NAME` is saved as NAME and run by the
-- `mallapi` line that names it), and every `mallapi ...` line of the ```sh blocks except
-- `mallapi sandbox` itself (the spec starts the sandbox and exports what it prints); a ```sh block
-- whose first line is `# fragment` is skipped.
-- Every doc/*.md follows the same rules (blocks that need nginx, Redis or a real vendor are marked
-- `-- fragment`).
package.path = "sandbox/lua/?.lua;examples/?.lua;" .. package.path
local sandbox = require "sandbox.launch"
local data = require "demo_data"
local cli = require "support.cli"
local read = require("support.files").read

local DOCS, MUST_RUN = { "README.md" }, { ["README.md"] = true, ["doc/cli.md"] = true }
for name in assert(io.popen("ls doc/*.md")):lines() do DOCS[#DOCS + 1] = name end

-- The fenced blocks of a Markdown text: { lang = "lua", text = "..." }, in order.
local function blocks(md)
  local out = {}
  for lang, text in md:gmatch("\n```(%w*)\n(.-)\n```") do out[#out + 1] = { lang = lang, text = text } end
  return out
end

describe("documentation snippets", function()
  local sb, env, tmp, root, lua

  setup(function()
    sb = sandbox.start { workers = 1 }
    data.seed(sb, 12)
    env = cli.sandbox_env(sb)
    tmp = assert(io.popen("mktemp -d /tmp/mallapi-doc.XXXXXX")):read("*l")
    root = assert(io.popen("pwd")):read("*l")
    lua = os.getenv("MALLAPI_RUNTIME") == "luajit" and "luajit" or "lua5.4"
    local rt = lua == "luajit" and "luajit" or "5.4"
    env.LUA_PATH = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;"
    env.LUA_CPATH = root .. "/build/" .. rt .. "/?.so;;"
  end)

  teardown(function()
    if sb then sb:stop() end
    os.execute("rm -rf " .. cli.quote(tmp))
  end)

  -- Run a shell command line in tmp with the sandbox settings; returns output, exit code.
  local function shell(line)
    local parts = { "cd " .. cli.quote(tmp) .. " && env" }
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. cli.quote(v) end
    local p = assert(io.popen(table.concat(parts, " ") .. " sh -c " .. cli.quote(line) .. " 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    return out, tonumber(out:match("rc=(%d+)\n$"))
  end

  for _, doc in ipairs(DOCS) do
    it("runs the snippets of " .. doc, function()
      local ran, failed = 0, {}
      for i, block in ipairs(blocks("\n" .. read(doc))) do
        local first = block.text:match("^[^\n]*")
        if block.lang == "lua" and not first:match("^%-%- fragment") then
          local name = first:match("^%-%- file: ([%w_%.%-]+)") or ("snippet" .. i .. ".lua")
          local f = assert(io.open(tmp .. "/" .. name, "wb"))
          f:write(block.text, "\n")
          f:close()
          if not first:match("^%-%- file:") then
            local out, rc = shell(lua .. " " .. name)
            if rc ~= 0 then failed[#failed + 1] = doc .. " block " .. i .. ":\n" .. block.text .. "\n--> " .. out end
            ran = ran + 1
          end
        elseif block.lang == "sh" and not first:match("^# fragment") then
          for line in block.text:gmatch("[^\n]+") do
            if line:match("^mallapi ") and not line:match("^mallapi sandbox") then
              local cmd = line:gsub("^mallapi", lua .. " " .. cli.quote(root .. "/bin/mallapi"))
              local out, rc = shell(cmd)
              if rc ~= 0 then failed[#failed + 1] = doc .. ": " .. line .. "\n--> " .. out end
              ran = ran + 1
            end
          end
        end
      end
      assert.equal("", table.concat(failed, "\n\n"))
      if MUST_RUN[doc] then assert.is_true(ran > 0, doc .. " has no snippet that ran") end
    end)
  end

  it("the README's job file syncs the seeded orders into Sobot", function()
    local out, rc = shell(lua .. " " .. cli.quote(root .. "/bin/mallapi") .. " sync orders_job.lua")
    assert.equal(0, rc, out)
    assert.truthy(out:find("status=ok read=12 sent=12", 1, true), out)
    assert.equal(12, #sb:dump("sobot", "orders"))
  end)
end)
