-- LuaRocks build description. The version must match src/mallapi.h
-- (spec/version_spec.lua checks it, and that every source file is listed).
rockspec_format = "3.0"
package = "mallapi"
version = "0.1.0-1"
source = { url = "git+file:///mallapi" }
description = {
  summary = "Mall, e-commerce and order-management vendor APIs from Lua, with a C core",
  license = "MIT",
}
dependencies = { "lua >= 5.1" }
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["mallapi.core"] = {
      sources = {
        "src/bind_crypto.c", "src/bind_http.c", "src/bind_json.c", "src/bind_lock.c", "src/bind_map.c",
        "src/bind_util.c", "src/core.c", "src/lock.c", "src/token.c",
        "src/clock.c", "src/codec.c", "src/crypto.c", "src/sign.c", "src/json.c",
        "src/map.c", "src/http.c", "src/webhook.c", "src/bind_webhook.c",
        "src/seen.c", "src/bind_seen.c", "src/signal.c", "src/bind_signal.c",
      },
      libraries = { "curl", "crypto" },
      incdirs = { "src", "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
      defines = { "_GNU_SOURCE" },
    },
    ["mallapi"] = "lua/mallapi/init.lua",
    ["mallapi.client"] = "lua/mallapi/client.lua",
    ["mallapi.webhook"] = "lua/mallapi/webhook.lua",
    ["mallapi.vendors.sobot"] = "lua/mallapi/vendors/sobot.lua",
    ["mallapi.vendors.hd"] = "lua/mallapi/vendors/hd.lua",
    ["mallapi.vendors.shoplus"] = "lua/mallapi/vendors/shoplus.lua",
    ["mallapi.vendors.guanmai"] = "lua/mallapi/vendors/guanmai.lua",
    ["mallapi.vendors.babycare"] = "lua/mallapi/vendors/babycare.lua",
    ["mallapi.http"] = "lua/mallapi/http.lua",
    ["mallapi.token"] = "lua/mallapi/token.lua",
    ["mallapi.store"] = "lua/mallapi/store/init.lua",
    ["mallapi.store.memory"] = "lua/mallapi/store/memory.lua",
    ["mallapi.store.file"] = "lua/mallapi/store/file.lua",
    ["mallapi.store.redis"] = "lua/mallapi/store/redis.lua",
    ["mallapi.store.shdict"] = "lua/mallapi/store/shdict.lua",
    ["mallapi.ngx"] = "lua/mallapi/ngx/init.lua",
    ["mallapi.ngx.http"] = "lua/mallapi/ngx/http.lua",
    ["mallapi.ngx.webhook"] = "lua/mallapi/ngx/webhook.lua",
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
  },
}
