-- LuaRocks build description. The version must match src/mallapi.h
-- (spec/version_spec.lua checks it, and that every source file is listed).
rockspec_format = "3.0"
package = "mallapi"
version = "0.1.0-1"
-- PLACEHOLDER: the project has no public repository or homepage yet; source.url and
-- homepage below are placeholders (example.invalid) to replace when it is published.
-- `luarocks make` (the way this rock is built today) does not read source.url.
source = { url = "git+https://example.invalid/mallapi.git", tag = "v0.1.0" }
description = {
  summary = "Mall, e-commerce and order-management vendor APIs from Lua, with a C core",
  detailed = [[
Calls every documented endpoint of five vendors (Sobot Mall Center, Hd SOMS, Shoplus, Guanmai,
Babycare) correctly signed, keeps their tokens alive, verifies their webhooks and syncs records
between them. Installs the `mallapi` command (ops, call, sync, sandbox).]],
  homepage = "https://example.invalid/mallapi",
  license = "MIT",
}
-- Lua 5.4 (5.3 untested) or LuaJIT 2.1 (it reports 5.1: build it with
-- LUA_INCDIR=/usr/include/luajit-2.1); PUC Lua 5.1 headers are refused at build time (compat.h).
-- Runtime needs outside LuaRocks, from Debian: libcurl, libcrypto (below); the `mallapi`
-- command needs lua-argparse; `mallapi sandbox` needs nginx-core, libnginx-mod-http-lua,
-- lua-socket and lua-luaossl. They are not declared as rocks so that an offline Debian
-- install (luarocks --deps-mode=none or with the Debian packages) works.
dependencies = { "lua >= 5.1, < 5.5" }
external_dependencies = {
  -- no header check for curl: Debian keeps curl/curl.h under the multiarch include
  -- directory, which the compiler searches anyway
  CURL = { library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["mallapi.core"] = {
      sources = {
        "src/bind_crypto.c", "src/bind_codec.c", "src/bind_sign.c", "src/bind_clock.c", "src/bind_http.c", "src/bind_json.c", "src/bind_lock.c", "src/bind_token.c",
        "src/bind_map.c", "src/bind_map_compile.c", "src/bind_map_run.c", "src/bind_map_decode.c",
        "src/bind_util.c", "src/core.c", "src/lock.c", "src/token.c",
        "src/clock.c", "src/codec.c", "src/crypto.c", "src/sign.c", "src/json.c", "src/dtoa.c", "src/strtod.c",
        "src/map.c", "src/http.c", "src/webhook.c", "src/bind_webhook.c",
        "src/seen.c", "src/bind_seen.c", "src/signal.c", "src/bind_signal.c",
      },
      libraries = { "curl", "crypto" },
      incdirs = { "src", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
      defines = { "_GNU_SOURCE" },
    },
    ["mallapi"] = "lua/mallapi/init.lua",
    ["mallapi.client"] = "lua/mallapi/client.lua",
    ["mallapi.util"] = "lua/mallapi/util.lua",
    ["mallapi.ops"] = "lua/mallapi/ops.lua",
    ["mallapi.paging"] = "lua/mallapi/paging.lua",
    ["mallapi.json"] = "lua/mallapi/json.lua",
    ["mallapi.crypto"] = "lua/mallapi/crypto.lua",
    ["mallapi.codec"] = "lua/mallapi/codec.lua",
    ["mallapi.sign"] = "lua/mallapi/sign.lua",
    ["mallapi.clock"] = "lua/mallapi/clock.lua",
    ["mallapi.errors"] = "lua/mallapi/errors.lua",
    ["mallapi.units"] = "lua/mallapi/units.lua",
    ["mallapi.seen"] = "lua/mallapi/seen.lua",
    ["mallapi.lock"] = "lua/mallapi/lock.lua",
    ["mallapi.webhook"] = "lua/mallapi/webhook.lua",
    ["mallapi.vendors.sobot"] = "lua/mallapi/vendors/sobot.lua",
    ["mallapi.vendors.hd"] = "lua/mallapi/vendors/hd.lua",
    ["mallapi.vendors.shoplus"] = "lua/mallapi/vendors/shoplus.lua",
    ["mallapi.vendors.guanmai"] = "lua/mallapi/vendors/guanmai.lua",
    ["mallapi.vendors.babycare"] = "lua/mallapi/vendors/babycare.lua",
    ["mallapi.http"] = "lua/mallapi/http.lua",
    ["mallapi.token"] = "lua/mallapi/token.lua",
    ["mallapi.record_codec"] = "lua/mallapi/record_codec.lua",
    ["mallapi.store"] = "lua/mallapi/store/init.lua",
    ["mallapi.store.memory"] = "lua/mallapi/store/memory.lua",
    ["mallapi.store.file"] = "lua/mallapi/store/file.lua",
    ["mallapi.store.redis"] = "lua/mallapi/store/redis.lua",
    ["mallapi.store.shdict"] = "lua/mallapi/store/shdict.lua",
    ["mallapi.ngx"] = "lua/mallapi/ngx/init.lua",
    ["mallapi.ngx.http"] = "lua/mallapi/ngx/http.lua",
    ["mallapi.ngx.webhook"] = "lua/mallapi/ngx/webhook.lua",
    ["mallapi.ngx.webhook.receiver"] = "lua/mallapi/ngx/webhook/receiver.lua",
    ["mallapi.ngx.webhook.worker"] = "lua/mallapi/ngx/webhook/worker.lua",
    ["mallapi.ngx.webhook_queue"] = "lua/mallapi/ngx/webhook_queue.lua",
    ["mallapi.mapper"] = "lua/mallapi/mapper.lua",
    ["mallapi.model"] = "lua/mallapi/model.lua",
    ["mallapi.map"] = "lua/mallapi/map.lua",
    ["mallapi.mappings.babycare_exchange"] = "lua/mallapi/mappings/babycare_exchange.lua",
    ["mallapi.mappings.babycare_order"] = "lua/mallapi/mappings/babycare_order.lua",
    ["mallapi.mappings.babycare_reissue"] = "lua/mallapi/mappings/babycare_reissue.lua",
    ["mallapi.mappings.babycare_return"] = "lua/mallapi/mappings/babycare_return.lua",
    ["mallapi.mappings.babycare_shipment"] = "lua/mallapi/mappings/babycare_shipment.lua",
    ["mallapi.mappings.guanmai_aftersale"] = "lua/mallapi/mappings/guanmai_aftersale.lua",
    ["mallapi.mappings.guanmai_customer"] = "lua/mallapi/mappings/guanmai_customer.lua",
    ["mallapi.mappings.guanmai_order"] = "lua/mallapi/mappings/guanmai_order.lua",
    ["mallapi.mappings.guanmai_sku"] = "lua/mallapi/mappings/guanmai_sku.lua",
    ["mallapi.mappings.guanmai_spu"] = "lua/mallapi/mappings/guanmai_spu.lua",
    ["mallapi.mappings.hd_order"] = "lua/mallapi/mappings/hd_order.lua",
    ["mallapi.mappings.shoplus_customer"] = "lua/mallapi/mappings/shoplus_customer.lua",
    ["mallapi.mappings.shoplus_fulfillment"] = "lua/mallapi/mappings/shoplus_fulfillment.lua",
    ["mallapi.mappings.shoplus_order"] = "lua/mallapi/mappings/shoplus_order.lua",
    ["mallapi.mappings.shoplus_product"] = "lua/mallapi/mappings/shoplus_product.lua",
    ["mallapi.mappings.shoplus_store"] = "lua/mallapi/mappings/shoplus_store.lua",
    ["mallapi.mappings.sobot_category"] = "lua/mallapi/mappings/sobot_category.lua",
    ["mallapi.mappings.sobot_logistics"] = "lua/mallapi/mappings/sobot_logistics.lua",
    ["mallapi.mappings.sobot_order"] = "lua/mallapi/mappings/sobot_order.lua",
    ["mallapi.mappings.sobot_product"] = "lua/mallapi/mappings/sobot_product.lua",
    ["mallapi.mappings.sobot_refund"] = "lua/mallapi/mappings/sobot_refund.lua",
    ["mallapi.mappings.sobot_store"] = "lua/mallapi/mappings/sobot_store.lua",
    ["mallapi.sync"] = "lua/mallapi/sync.lua",
    ["mallapi.sync.source"] = "lua/mallapi/sync/source.lua",
    ["mallapi.sync.report"] = "lua/mallapi/sync/report.lua",
    ["mallapi.sync.jsonl"] = "lua/mallapi/sync/jsonl.lua",
    ["mallapi.sync.job"] = "lua/mallapi/sync/job.lua",
    ["mallapi.sync.checkpoint"] = "lua/mallapi/sync/checkpoint.lua",
    ["mallapi.sync.sinks"] = "lua/mallapi/sync/sinks.lua",
    ["mallapi.fleet"] = "lua/mallapi/fleet/init.lua",
    ["mallapi.fleet.worker"] = "lua/mallapi/fleet/worker.lua",
    ["mallapi.fleet.supervisor"] = "lua/mallapi/fleet/supervisor.lua",
    ["mallapi.fleet.options"] = "lua/mallapi/fleet/options.lua",
    ["mallapi.ratelimit"] = "lua/mallapi/ratelimit.lua",
    ["mallapi.metrics"] = "lua/mallapi/metrics.lua",
    ["mallapi.cli.jobs"] = "lua/mallapi/cli/jobs.lua",
    ["mallapi.cli.worker"] = "lua/mallapi/cli/worker.lua",
    ["mallapi.cli.common"] = "lua/mallapi/cli/common.lua",
    ["mallapi.cli.ops"] = "lua/mallapi/cli/ops.lua",
    ["mallapi.cli.call"] = "lua/mallapi/cli/call.lua",
    ["mallapi.cli.sync"] = "lua/mallapi/cli/sync.lua",
    ["mallapi.cli.sandbox"] = "lua/mallapi/cli/sandbox.lua",
    -- the vendor sandbox (mallapi sandbox), with the nginx helper it starts nginx through
    ["mallapi.sandbox.babycare"] = "sandbox/lua/sandbox/babycare.lua",
    ["mallapi.sandbox.config"] = "sandbox/lua/sandbox/config.lua",
    ["mallapi.sandbox.crypto"] = "sandbox/lua/sandbox/crypto.lua",
    ["mallapi.sandbox.guanmai"] = "sandbox/lua/sandbox/guanmai.lua",
    ["mallapi.sandbox.hd"] = "sandbox/lua/sandbox/hd.lua",
    ["mallapi.sandbox.json"] = "sandbox/lua/sandbox/json.lua",
    ["mallapi.sandbox.launch"] = "sandbox/lua/sandbox/launch.lua",
    ["mallapi.sandbox.ops"] = "sandbox/lua/sandbox/ops.lua",
    ["mallapi.sandbox.records"] = "sandbox/lua/sandbox/records.lua",
    ["mallapi.sandbox.server"] = "sandbox/lua/sandbox/server.lua",
    ["mallapi.sandbox.shoplus"] = "sandbox/lua/sandbox/shoplus.lua",
    ["mallapi.sandbox.sobot"] = "sandbox/lua/sandbox/sobot.lua",
    ["mallapi.sandbox.store"] = "sandbox/lua/sandbox/store.lua",
    ["mallapi.sandbox.util"] = "sandbox/lua/sandbox/util.lua",
    ["mallapi.sandbox.support.nginx"] = "spec/support/nginx.lua",
    ["mallapi.sandbox.support.procs"] = "spec/support/procs.lua",
  },
  install = { bin = { mallapi = "bin/mallapi" } },
  copy_directories = { "doc" },
}
