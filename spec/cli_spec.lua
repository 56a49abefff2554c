-- The `mallapi` command (bin/mallapi under this run's runtime) against the vendor sandbox:
-- every subcommand, the exit codes (0 done, 1 vendor/transport failure, 2 usage or missing
-- setting), settings from the environment and --config (the environment winning), and that no
-- secret or token is printed by --dry-run, --debug or a failure.
package.path = "sandbox/lua/?.lua;examples/?.lua;" .. package.path
local sandbox = require "sandbox.launch"
local data = require "demo_data"
local cli = require "support.cli"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

describe("mallapi command", function()
  local sb, env, tmp

  setup(function()
    sb = sandbox.start { workers = 1 }
    env = cli.sandbox_env(sb)
    tmp = assert(io.popen("mktemp -d /tmp/mallapi-cli.XXXXXX")):read("*l")
  end)

  teardown(function()
    if sb then sb:stop() end
    os.execute("rm -rf " .. cli.quote(tmp))
  end)

  before_each(function() sb:reset() end)

  describe("mallapi --help", function()
    it("lists the commands found, exit 0; no command exits 2, an unknown one 2", function()
      local out, _, rc = cli.run({ "--help" })
      assert.equal(0, rc)
      for _, cmd in ipairs { "ops", "call", "sync", "sandbox" } do
        assert.truthy(out:match("\n  " .. cmd .. " +%S"), out)
      end
      assert.falsy(out:find("common", 1, true))
      local _, err
      _, err, rc = cli.run({})
      assert.equal(2, rc)
      assert.truthy(err:find("usage: mallapi", 1, true))
      _, err, rc = cli.run({ "nosuch" })
      assert.equal(2, rc)
      assert.truthy(err:find("unknown command 'nosuch'", 1, true), err)
    end)

    it("every subcommand has --help (exit 0); a bad option exits 2", function()
      for _, cmd in ipairs { "ops", "call", "sync", "sandbox" } do
        local out, err, rc = cli.run({ cmd, "--help" })
        assert.equal(0, rc, cmd .. ": " .. err)
        assert.truthy(out:find("mallapi " .. cmd, 1, true), out)
        _, err, rc = cli.run({ cmd, "--no-such-option" })
        assert.equal(2, rc, cmd)
        assert.truthy(err:find("no-such-option", 1, true), err)
      end
    end)
  end)

  describe("mallapi ops", function()
    it("prints one line per operation with method, path and paging", function()
      local out, _, rc = cli.run({ "ops", "shoplus" })
      assert.equal(0, rc)
      assert.truthy(out:match("\nOrder%.list +POST +Order%.list +paged:page"), out)
      local n = select(2, out:gsub("\n", ""))
      assert.equal(#require("mallapi").client("shoplus", { app_key = "a", secret = "s" }):operations(), n)
    end)

    it("names an unknown vendor, exit 2", function()
      local _, err, rc = cli.run({ "ops", "nosuch" })
      assert.equal(2, rc)
      assert.truthy(err:find("unknown vendor 'nosuch'", 1, true), err)
    end)
  end)

  describe("mallapi call", function()
    it("prints the data as JSON with 64-bit ids exact, exit 0", function()
      data.seed(sb, 3)
      local out, err, rc = cli.run({ "call", "shoplus", "Order.list", '{"orderStatus":-2}', "--param", "limit=10" },
        env)
      assert.equal(0, rc, err)
      for _, o in ipairs(sb:dump("shoplus", "orders")) do     -- above 2^53: digits kept
        assert.truthy(out:find('"id":' .. tostring(o.id) .. "[,}]"), tostring(o.id) .. " in " .. out)
      end
      local decoded = require("mallapi").json.decode(out)
      assert.equal(3, #decoded.orders)
    end)

    it("--all-pages prints every record of a paged operation as one array", function()
      data.seed(sb, 7)
      local out, err, rc = cli.run({ "call", "shoplus", "Order.list", "--param", "limit=3", "--param", "orderStatus=-2",
        "--all-pages" }, env)
      assert.equal(0, rc, err)
      assert.equal(7, #require("mallapi").json.decode(out))
    end)

    it("a missing setting exits 2 naming its variable, never a value", function()
      local e = cli.sandbox_env(sb)
      e.MALLAPI_SHOPLUS_SECRET = nil
      local _, err, rc = cli.run({ "call", "shoplus", "Order.list" }, e)
      assert.equal(2, rc)
      assert.truthy(err:find("MALLAPI_SHOPLUS_SECRET", 1, true), err)
      assert.falsy(err:find(sb.credentials.shoplus.app_key, 1, true))
    end)

    it("usage mistakes exit 2: bad PARAMS_JSON, an unknown operation, a bad --param", function()
      local _, err, rc = cli.run({ "call", "shoplus", "Order.list", "{not json" }, env)
      assert.equal(2, rc)
      assert.truthy(err:find("PARAMS_JSON", 1, true), err)
      _, err, rc = cli.run({ "call", "shoplus", "Order.lst" }, env)
      assert.equal(2, rc)
      assert.truthy(err:find("Order.list", 1, true), err)  -- the close name
      _, err, rc = cli.run({ "call", "shoplus", "Order.list", "--param", "novalue" }, env)
      assert.equal(2, rc)
      assert.truthy(err:find("NAME=VALUE", 1, true), err)
    end)

    it("a vendor failure prints msg and code on stderr, exit 1, the secret nowhere", function()
      local secret = "wrong-secret-for-the-cli-spec"
      local out, err, rc = cli.run({ "call", "shoplus", "Order.list" },
        cli.sandbox_env(sb, { MALLAPI_SHOPLUS_SECRET = secret }))
      assert.equal(1, rc, err)
      assert.equal("", out)
      assert.truthy(err:find("code: %u+"), err)
      assert.falsy(err:find(secret, 1, true))
    end)

    it("a transport failure exits 1 with its code", function()
      local port = require("support.procs").free_port()
      local _, err, rc = cli.run({ "call", "sobot", "orders/get", "--base-url", "http://127.0.0.1:" .. port,
        "--param", "page_no=1", "--param", "page_size=1" }, env)
      assert.equal(1, rc, err)
      assert.truthy(err:find("code: CONNECT", 1, true), err)
    end)

    it("settings from --config, the environment winning", function()
      local c = sb.credentials
      write(tmp .. "/config.lua", ("return { shoplus = { app_key = %q, secret = %q, base_url = %q } }")
        :format(c.shoplus.app_key, "config-secret-loses", sb.urls.shoplus))
      local only = { MALLAPI_SHOPLUS_SECRET = c.shoplus.secret }
      local _, err, rc = cli.run({ "call", "shoplus", "Order.list", "--config", tmp .. "/config.lua" }, only)
      assert.equal(0, rc, err)
      _, err, rc = cli.run({ "call", "shoplus", "Order.list", "--config", tmp .. "/config.lua" })
      assert.equal(1, rc, err)                                          -- the config's wrong secret
      _, err, rc = cli.run({ "call", "shoplus", "Order.list", "--config", tmp .. "/none.lua" })
      assert.equal(2, rc)
      assert.truthy(err:find("none.lua", 1, true), err)
    end)

    it("--dry-run prints method, URL, headers, body and signature, secrets and token masked, sends nothing", function()
      local before = sb:stats("shoplus")
      local out, err, rc = cli.run({ "call", "shoplus", "Order.list", "--param", "limit=2", "--dry-run" }, env)
      assert.equal(0, rc, err)
      assert.truthy(out:find("POST " .. sb.urls.shoplus, 1, true), out)
      assert.truthy(out:find('"name":"Order.list"', 1, true), out)
      local sign = out:match('"sign":"(%x+)"')
      assert.truthy(sign, out)
      assert.truthy(out:find("signature: " .. sign, 1, true), out)
      assert.falsy(out:find(sb.credentials.shoplus.secret, 1, true))
      assert.falsy(out:find(sb.credentials.shoplus.app_key, 1, true))
      assert.same(before, sb:stats("shoplus"))
      -- Sobot: the token header masked, no token fetched, the key nowhere
      local sbefore = sb:stats("sobot")
      out, err, rc = cli.run({ "call", "sobot", "orders/get", "--param", "page_no=1", "--param", "page_size=1",
        "--dry-run" }, env)
      assert.equal(0, rc, err)
      assert.truthy(out:find("\ntoken: ***\n", 1, true), out)
      assert.falsy(out:find(sb.credentials.sobot.app_key, 1, true))
      assert.same(sbefore, sb:stats("sobot"))
      -- Hd: Basic credentials masked
      out, err, rc = cli.run({ "call", "hd", "saleorders/query", "--param", "page=0", "--dry-run" }, env)
      assert.equal(0, rc, err)
      assert.truthy(out:find("\nAuthorization: ***\n", 1, true), out)
      assert.falsy(out:find(sb.credentials.hd.password, 1, true))
    end)

    it("--debug prints one line per HTTP exchange on stderr, secrets masked", function()
      local out, err, rc = cli.run({ "call", "sobot", "orders/get", "--param", "page_no=1", "--param", "page_size=1",
        "--debug" }, env)
      assert.equal(0, rc, err)
      assert.truthy(out:find("page_no", 1, true), out)
      assert.truthy(err:find("vendor=sobot op=get_token attempt=1 GET ", 1, true), err)
      assert.truthy(err:match("vendor=sobot op=orders/get attempt=1 POST %S+ status=200 ms=%d+ bytes=%d+"), err)
      assert.truthy(err:find("sign=***", 1, true), err)
      assert.falsy(err:find(sb.credentials.sobot.app_key, 1, true))
      -- a retried exchange: one line per attempt
      sb:knob("hd", "rate_limit", 1)
      sb:knob("hd", "retry_after", 0)
      local _
      _, err = cli.run({ "call", "hd", "saleorder/{id}", "--param", 'id="88822222222"', "--debug" }, env)
      assert.truthy(err:find("vendor=hd op=saleorder/{id} attempt=1 GET %S+ status=429"), err)
      assert.truthy(err:find("vendor=hd op=saleorder/{id} attempt=2 GET", 1, true), err)
      assert.falsy(err:find(sb.credentials.hd.password, 1, true))
    end)
  end)

  describe("mallapi sync", function()
    local JOB = [[
local ctx = ...
local mallapi = require "mallapi"
local shoplus, sobot = ctx.client("shoplus"), ctx.client("sobot")
return {
  name = "cli-spec", state = mallapi.store.file(%q), dead_letter = %q, batch = 5,
  source = mallapi.sync.iterate(shoplus:each("Order.list", { limit = 4, orderStatus = -2 })),
  map = function(o) return mallapi.map("shoplus.order", "sobot.order", o) end,
  sink = mallapi.sync.client_sink(sobot, "orders/add", { list = "order_list", failed = "orderid" }),
}
]]

    it("runs a job file: exit 0, the summary line, the records in Sobot", function()
      data.seed(sb, 6)
      os.execute("rm -rf " .. cli.quote(tmp .. "/state"))
      os.execute("mkdir -p " .. cli.quote(tmp .. "/state"))
      write(tmp .. "/job.lua", JOB:format(tmp .. "/state", tmp .. "/dead.jsonl"))
      local _, err, rc = cli.run({ "sync", tmp .. "/job.lua" }, env)
      assert.equal(0, rc, err)
      assert.truthy(err:find("sync name=cli-spec status=ok read=6 sent=6", 1, true), err)
      assert.equal(6, #sb:dump("sobot", "orders"))
    end)

    it("--dry-run sends nothing; --replay-dead sends a dead-letter file's records again", function()
      data.seed(sb, 2)
      os.execute("rm -rf " .. cli.quote(tmp .. "/state") .. " && mkdir -p " .. cli.quote(tmp .. "/state"))
      write(tmp .. "/job.lua", JOB:format(tmp .. "/state", tmp .. "/dead.jsonl"))
      local _, err, rc = cli.run({ "sync", tmp .. "/job.lua", "--dry-run" }, env)
      assert.equal(0, rc, err)
      assert.equal(0, #sb:dump("sobot", "orders"))
      -- a dead-letter file as sync.run writes it: one JSON object per line with the record
      local json = require("mallapi").json
      local lines = {}
      local listed = cli.run({ "call", "shoplus", "Order.list", "--param", "orderStatus=-2" }, env)
      for i, o in ipairs(json.decode(listed).orders) do
        lines[i] = json.encode { job = "cli-spec", stage = "sink", error = "was refused", code = "VENDOR", record = o }
      end
      assert.equal(2, #lines)
      write(tmp .. "/dead.jsonl", table.concat(lines, "\n") .. "\n")
      _, err, rc = cli.run({ "sync", tmp .. "/job.lua", "--replay-dead", tmp .. "/dead.jsonl" }, env)
      assert.equal(0, rc, err)
      assert.truthy(err:find("name=cli-spec-replay status=ok read=2 sent=2", 1, true), err)
      assert.equal(2, #sb:dump("sobot", "orders"))
    end)

    it("a missing job file or settings exit 2", function()
      local _, err, rc = cli.run({ "sync", tmp .. "/nosuch.lua" }, env)
      assert.equal(2, rc)
      assert.truthy(err:find("nosuch.lua", 1, true), err)
      write(tmp .. "/job.lua", JOB:format(tmp .. "/state", tmp .. "/dead.jsonl"))
      _, err, rc = cli.run({ "sync", tmp .. "/job.lua" }, {})
      assert.equal(2, rc)
      assert.truthy(err:find("MALLAPI_SHOPLUS_APP_KEY", 1, true), err)
    end)
  end)

  describe("mallapi sandbox", function()
    it("starts on fixed ports from --port-base, prints URLs and settings, stops by itself", function()
      local base, out, err, rc
      for _ = 1, 5 do                   -- five ports in a row free: retried when one is taken
        base = require("support.procs").free_port()
        out, err, rc = cli.run({ "sandbox", "--port-base", tostring(base), "--duration-s", "1" })
        if not err:find("Address already in use", 1, true) then break end
      end
      assert.equal(0, rc, err .. out)
      assert.truthy(out:find("sobot     http://127.0.0.1:" .. base .. "\n", 1, true), out)
      assert.truthy(out:find("shoplus   http://127.0.0.1:" .. (base + 2) .. "/open-api", 1, true), out)
      assert.truthy(out:find("MALLAPI_SHOPLUS_SECRET=", 1, true), out)
      assert.truthy(out:find("sandbox stopped", 1, true), out)
    end)
  end)
end)
