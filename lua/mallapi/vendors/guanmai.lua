-- Guanmai (观麦) fresh-food B2B open platform profile (seeds/003_*.txt). REST below
-- {base}/api/: GET with query parameters, POST with a JSON body; answer {code, msg, data}
-- with code 0 for success and `pagenation` {page, more} on lists. The document describes
-- no request authentication: the default (appid, ts, HMAC-SHA256 sign in the query) is an
-- ASSUMPTION, see doc/assumptions.md; replace it with cfg.auth.
local mallapi = require "mallapi"
local util = require "mallapi.util"
local paging = require "mallapi.paging"

local ipairs, pairs, tostring, type = ipairs, pairs, tostring, type
local concat, sort, floor = table.concat, table.sort, math.floor

local M = {
  name = "guanmai",
  base_url = nil,          -- SILENT in the document: cfg.base_url is required
  credentials = { "appid", "secret" },
  secrets = { "secret" },
  sign_window_s = 300,
  -- Failure codes meaning "authentication refused" (settable: cfg.auth_codes); HTTP 401 as well.
  auth_codes = { "401" },
}

local G, P = "GET", "POST"
local CURSOR, OFFSET = "cursor", "offset"

-- Name = the path below /api/. `required` = the document's "M" (mandatory) flags;
-- "a[].b" = in every element of list a. paging: "cursor" (page_obj + offset/limit) or
-- "offset" (offset/limit only).
M.operations = {
  -- order/create: amount is float here and int in order/sku/create (003:L193 vs L356); the
  -- price is unit_price here and price there (L194 vs L357): sent as the caller gives them.
  ["order/create"] = { method = P, required = { "sid", "products", "products[].sku_id",
    "products[].amount", "products[].unit_price" } },
  ["order/delete"] = { method = P, required = { "order_id" } },
  -- status has no type in the document (003:L223): sent as given.
  ["order/update"] = { method = P, required = { "order_id" } },
  ["order/get"] = { method = G, required = { "order_id" } },
  ["order/list"] = { method = G, required = { "query_type", "start_date", "end_date" },
    paging = CURSOR },
  ["order/sku/create"] = { method = P, required = { "order_id", "products",
    "products[].sku_id", "products[].amount", "products[].price" } },
  ["order/sku/delete"] = { method = P, required = { "order_id", "sku_ids" } },
  ["order/sku/update"] = { method = P, required = { "order_id", "products",
    "products[].sku_id" } },
  -- The data structure spells the key `abnomal` (003:L70, L279); the API uses `abnormal`.
  ["order/abnormal/create"] = { method = P, required = { "order_id", "abnormal",
    "abnormal[].sku_id", "abnormal[].exception_reason", "abnormal[].final_amount",
    "abnormal[].money_delta" } },
  ["order/refund/create"] = { method = P, required = { "order_id", "refund", "refund[].sku_id",
    "refund[].exception_reason", "refund[].request_amount" } },
  -- Two operations share each of these two paths (003:L424-484); the body key (`abnormal` or
  -- `refund`) tells them apart. Their names carry that key after "#"; the bare path also
  -- works and picks the operation from the key present in params.
  ["order/after_sales/update#abnormal"] = { method = P, path = "order/after_sales/update",
    required = { "order_id", "abnormal", "abnormal[].id", "abnormal[].sku_id",
      "abnormal[].exception_reason", "abnormal[].final_amount", "abnormal[].money_delta" } },
  ["order/after_sales/update#refund"] = { method = P, path = "order/after_sales/update",
    required = { "order_id", "refund", "refund[].id", "refund[].sku_id",
      "refund[].exception_reason", "refund[].request_amount" } },
  ["order/after_sales/delete#abnormal"] = { method = P, path = "order/after_sales/delete",
    required = { "order_id", "abnormal", "abnormal[].id", "abnormal[].sku_id" } },
  ["order/after_sales/delete#refund"] = { method = P, path = "order/after_sales/delete",
    required = { "order_id", "refund", "refund[].id", "refund[].sku_id" } },
  -- Dictionary answers with integer keys ({1:"..."}, 003:L493, L688) are not JSON; a real
  -- server must send string keys, which is what the client expects.
  ["order/after_sales/exception_reason/list"] = { method = G, required = {} },
  ["product/category1/list"] = { method = G, required = {}, paging = CURSOR },
  -- category2/list takes offset/limit only, no page_obj (003:L529).
  ["product/category2/list"] = { method = G, required = {}, paging = OFFSET },
  ["product/pinlei/list"] = { method = G, required = {}, paging = CURSOR },
  -- spu/create has no types (003:L583-588); p_type default 1 while the examples show 0.
  ["product/spu/create"] = { method = P, required = { "name", "std_unit_name", "pinlei_id" } },
  -- spu/list repeats the key category1_id (003:L617-618); the second is category2_id.
  ["product/spu/list"] = { method = G, required = {}, paging = CURSOR },
  ["product/spu/get"] = { method = G, required = { "spu_id" } },
  ["product/spu/update"] = { method = P, required = { "spu_id", "name" } },
  ["product/spu/delete"] = { method = P, required = { "spu_id" } },
  ["std_unit_name/list"] = { method = G, required = {} },
  -- Marked "暂不开放" (not open yet, 003:L694): kept so that the call is possible when it opens.
  ["product/sku/create"] = { method = P, required = { "spu_id", "sku_name", "salemenu_id",
    "std_price", "sale_price", "sale_num_least", "sale_ratio", "sale_unit_name",
    "std_unit_name", "is_weigh", "state" } },
  ["product/sku/update"] = { method = P, required = { "sku_id", "sku_name", "std_price",
    "sale_price", "sale_num_least", "sale_ratio", "sale_unit_name", "std_unit_name",
    "is_weigh", "state" } },
  ["product/sku/list"] = { method = G, required = {}, paging = CURSOR },
  ["product/sku/get"] = { method = G, required = { "sku_id" } },
  ["product/sku/delete"] = { method = P, required = { "sku_id" } },
  -- The path line carries trailing text "按商户" (003:L816); the path is salemenu/list.
  ["product/salemenu/list"] = { method = G, required = {} },
  ["delivery/task/list"] = { method = G, required = {}, paging = CURSOR },
  ["delivery/driver/assign"] = { method = P, required = { "order_ids", "driver_id" } },
  ["delivery/driver/cancel"] = { method = P, required = { "order_ids" } },
  ["delivery/driver/create"] = { method = P, required = { "name", "phone", "carrier_id",
    "car_model_id", "plate_number" } },
  ["delivery/driver/update"] = { method = P, required = { "driver_id", "name", "phone",
    "carrier_id", "car_model_id", "plate_number", "state" } },
  ["delivery/driver/list"] = { method = G, required = {}, paging = CURSOR },
  ["delivery/car_model/list"] = { method = G, required = {}, paging = CURSOR },
  ["delivery/carrier/list"] = { method = G, required = {}, paging = CURSOR },
  ["delivery/route/create"] = { method = P, required = { "route_name", "customer_ids" } },
  ["delivery/route/update"] = { method = P, required = { "route_id" } },
  ["delivery/route/delete"] = { method = P, required = { "route_id" } },
  ["delivery/route/list"] = { method = G, required = {}, paging = CURSOR },
  ["delivery/route/get"] = { method = G, required = { "route_id" }, paging = CURSOR },
  -- payer_telephone/receiver_telephone are typed int (003:L1101, L1104), which would drop a
  -- leading zero, and district_code/area_level* int while the examples are strings: the
  -- client sends what the caller gives (strings recommended).
  ["customer/create"] = { method = P, required = { "username", "password", "payer_name",
    "payer_telephone", "restaurant_name", "receiver_name", "receiver_telephone",
    "district_code", "area_level1", "area_level2", "restaurant_address", "salemenu_ids" } },
  -- The path is misspelt `upadte` in the document (003:L1122) and that is the real path;
  -- `customer/update` is accepted as an alias.
  ["customer/upadte"] = { method = P, required = { "customer_id" } },
  ["customer/list"] = { method = G, required = {}, paging = CURSOR },
  -- customer_id is the sid here and the kid in finance (003:L1192 vs L1215).
  ["area/list"] = { method = G, required = { "customer_id" } },
  -- arrival_money is int fen in the request, string yuan in the flow answer (003:L1220 vs
  -- L1260): sent as given.
  ["finance/strike"] = { method = P, required = { "customer_id", "arrival_time", "deal_code",
    "arrival_id", "arrival_method", "arrival_money", "remark" } },
  ["finance/order/refund"] = { method = P, required = { "order_id", "type" } },
  ["finance/strike_flow/list"] = { method = G, required = {}, paging = CURSOR },
  ["finance/cash_flow/list"] = { method = G, required = {}, paging = CURSOR },
}
for name, op in pairs(M.operations) do op.path = op.path or name end

-- Documented limits (checked before sending, client.lua): every list's "limit ... 默认20,
-- 最大100" line, and the order/list enums (003:L312, L316).
local LIMIT_LINE = {
  ["order/list"] = 319, ["product/category1/list"] = 505, ["product/category2/list"] = 531,
  ["product/pinlei/list"] = 558, ["product/spu/list"] = 606, ["product/sku/list"] = 749,
  ["delivery/task/list"] = 846, ["delivery/driver/list"] = 939, ["delivery/car_model/list"] = 972,
  ["delivery/carrier/list"] = 994, ["delivery/route/list"] = 1052, ["delivery/route/get"] = 1076,
  ["customer/list"] = 1151, ["finance/strike_flow/list"] = 1249, ["finance/cash_flow/list"] = 1304,
}
for name, line in pairs(LIMIT_LINE) do
  M.operations[name].limits = { { "limit", min = 1, max = 100, doc = "003:L" .. line } }
end
local order_list = M.operations["order/list"].limits
order_list[#order_list + 1] = { "query_type", enum = { 1, 2 }, doc = "003:L312" }
order_list[#order_list + 1] = { "pay_status", enum = { 1, 5, 10 }, doc = "003:L316" }

---------------------------------------------------------------------------------------------
-- Pushed messages (003:L1324-1462): {version, appid, ts, sign, type, <the type's fields>}.
-- The 25 documented types and their fields; webhook.verify returns them as event.fields and
-- flags a type not listed here as event.unknown (it is still delivered). The example
-- message (003:L1331-1334) sends sku_updated with a `stocks` member the list does not name.
M.messages = {
  order_sorting = { fields = { "order_ids" }, doc = "003:L1338" },
  order_delivering = { fields = { "order_ids" }, doc = "003:L1343" },
  category1_create = { fields = { "category1_id" }, doc = "003:L1348" },
  category2_create = { fields = { "category2_id" }, doc = "003:L1353" },
  pinlei_create = { fields = { "pinlei_id" }, doc = "003:L1358" },
  spu_create = { fields = { "spu_id" }, doc = "003:L1363" },
  sku_create = { fields = { "sku_id" }, doc = "003:L1368" },
  category1_updated = { fields = { "category1_id" }, doc = "003:L1373" },
  category2_updated = { fields = { "category2_id" }, doc = "003:L1378" },
  pinlei_updated = { fields = { "pinlei_id" }, doc = "003:L1383" },
  spu_updated = { fields = { "spu_id" }, doc = "003:L1388" },
  sku_updated = { fields = { "sku_id" }, doc = "003:L1393" },
  customer_create = { fields = { "customer_id" }, doc = "003:L1398" },
  customer_update = { fields = { "customer_id" }, doc = "003:L1403" },
  customer_delete = { fields = { "customer_id" }, doc = "003:L1408" },
  in_stock_sheet_create = { fields = { "sheet_id" }, doc = "003:L1413" },
  in_stock_sheet_update = { fields = { "sheet_id" }, doc = "003:L1418" },
  in_stock_sheet_delete = { fields = { "sheet_id" }, doc = "003:L1423" },
  in_stock_sheet_submit = { fields = { "sheet_id" }, doc = "003:L1428" },
  in_stock_sheet_reject = { fields = { "sheet_id" }, doc = "003:L1433" },
  out_stock_sheet_create = { fields = { "sheet_id" }, doc = "003:L1438" },
  out_stock_sheet_update = { fields = { "sheet_id" }, doc = "003:L1443" },
  out_stock_sheet_delete = { fields = { "sheet_id" }, doc = "003:L1448" },
  out_stock_sheet_submit = { fields = { "sheet_id" }, doc = "003:L1453" },
  stock_edit = { fields = { "spu_id", "stock" }, doc = "003:L1458" },
}

M.aliases = { ["customer/update"] = "customer/upadte" }
M.variants = {
  ["order/after_sales/update"] = { abnormal = "order/after_sales/update#abnormal",
                                   refund = "order/after_sales/update#refund" },
  ["order/after_sales/delete"] = { abnormal = "order/after_sales/delete#abnormal",
                                   refund = "order/after_sales/delete#refund" },
}

function M.api_path(_, path) return "/api/" .. path end

---------------------------------------------------------------------------------------------
-- ASSUMPTION (doc/assumptions.md): appid and ts (unix seconds) in the query, then
-- sign = lower hex HMAC-SHA256(secret, METHOD \n PATH \n CANONICAL_QUERY \n BODY).

-- The URL path as sent: the base URL's own path (if any) and the operation path.
local function path_as_sent(req)
  local base_path = req.base:match("^%a[%w+.-]*://[^/]+(/.*)$") or ""
  return base_path .. req.path
end

-- Every query parameter except sign, RFC 3986 encoded, sorted by encoded name (then value);
-- the string is built by mallapi.sign.canonical when no name repeats.
function M.canonical_query(query)
  local list, by_name, repeated = {}, {}, false
  for _, p in ipairs(query) do
    if p[1] ~= "sign" then
      local name, value = util.rfc3986(p[1]), util.rfc3986(util.text(p[2]))
      list[#list + 1] = { name, value }
      if by_name[name] then repeated = true end
      by_name[name] = value
    end
  end
  sort(list, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
  if not repeated and mallapi.sign and mallapi.sign.canonical then
    return list, mallapi.sign.canonical(by_name, { style = "pairs", sep = "&" })
  end
  local parts = {}
  for i, p in ipairs(list) do parts[i] = p[1] .. "=" .. p[2] end
  return list, concat(parts, "&")
end

function M.string_to_sign(req)
  local _, canonical = M.canonical_query(req.query)
  return req.method:upper() .. "\n" .. path_as_sent(req) .. "\n" .. canonical .. "\n"
    .. (req.method:upper() == "GET" and "" or (req.body or ""))
end

function M.auth(req, cfg, c)
  req.query[#req.query + 1] = { "appid", util.text(cfg.appid) }
  req.query[#req.query + 1] = { "ts", util.text(floor(c:now_ms() / 1000)) }
  local sign = mallapi.crypto.hmac("sha256", util.text(cfg.secret), M.string_to_sign(req), "hex")
  -- the URL carries the parameters in canonical order, then the sign
  local sorted = {}
  for i, p in ipairs(req.query) do sorted[i] = p end
  sort(sorted, function(a, b)
    local an, bn = util.rfc3986(a[1]), util.rfc3986(b[1])
    if an ~= bn then return an < bn end
    return util.rfc3986(util.text(a[2])) < util.rfc3986(util.text(b[2]))
  end)
  sorted[#sorted + 1] = { "sign", sign }
  req.query = sorted
  return true
end

---------------------------------------------------------------------------------------------
-- Envelope: code 0 (an integer; "0" accepted) is success; 401 is an authentication failure.

function M.envelope(answer, _, c, status)
  local code = answer.code
  if code ~= nil and tostring(code) == "0" then return util.data(answer.data) end
  local kind = (util.is_auth_code(c, code) or status == 401) and "AUTH" or "VENDOR"
  return nil, code, answer.msg, kind
end

---------------------------------------------------------------------------------------------
-- Paging: limit default 20, at most 100 (op.limits). The answer's pagenation.page is the next page_obj;
-- pagenation.more says whether there is one. How offset combines with page is SILENT: the
-- next request sends the page_obj and no offset; without a page_obj it advances offset.

local function pagenation(answer)
  local pag = type(answer) == "table" and answer.pagenation
  return type(pag) == "table" and pag or nil
end

local function more(answer)
  local pag = pagenation(answer)
  return pag and pag.more
end

local function next_page_obj(answer)
  local pag = pagenation(answer)
  if pag and type(pag.page) == "string" and pag.page ~= "" then return pag.page end
  return nil
end

M.paging = {
  [CURSOR] = paging.offsets { limit = "limit", offset = "offset", default_limit = 20,
    records = true, more = more, cursor = "page", cursor_of = next_page_obj },
  [OFFSET] = paging.offsets { limit = "limit", offset = "offset", default_limit = 20,
    records = true, more = more },
}


---------------------------------------------------------------------------------------------
-- Webhook rule for pushed messages (the contract: doc/webhook-profile.md). ASSUMPTION
-- (doc/assumptions.md, the document gives no rule): name=value of the top-level members
-- except sign, nulls skipped, sorted by name, joined by "&"; "%", "&" and "=" in names and
-- values written %25, %26, %3D so that the join is unambiguous; lower hex
-- HMAC-SHA256(secret, that string). ts (unix s) must lie within cfg.tolerance (default
-- mallapi.webhook.tolerance_s) of cfg.now (default: the clock); cfg.appid, when given,
-- must match. The event type is the `type` member; the event id the signature.
local webhook_crypto = require("mallapi").crypto   -- this block's own locals: it stands alone
local WEBHOOK_ESCAPES = { ["%"] = "%25", ["&"] = "%26", ["="] = "%3D" }
local function webhook_escape(text) return (text:gsub("[%%&=]", WEBHOOK_ESCAPES)) end

M.webhook = {
  signature = "sign",
  type_member = "type",
  escape = webhook_escape,
  skip = function(raw) return raw == "null" end,
  sign = function(members, secret)
    local member_text = require("mallapi.webhook").member_text
    local parts = {}
    for i, m in ipairs(members) do parts[i] = webhook_escape(m.name) .. "=" .. webhook_escape(member_text(m)) end
    return webhook_crypto.hmac("sha256", secret, table.concat(parts, "&"), "hex")
  end,
  check = function(data, cfg)
    local ts = data.ts ~= nil and tonumber(tostring(data.ts)) or nil
    if not ts then return nil, "missing ts", "STALE" end
    local now = cfg.now or os.time()
    local tolerance = cfg.tolerance or require("mallapi.webhook").tolerance_s
    if ts > now + tolerance or ts < now - tolerance then
      return nil, "ts outside the " .. tostring(tolerance) .. " s window", "STALE"
    end
    if cfg.appid ~= nil and tostring(data.appid) ~= tostring(cfg.appid) then
      return nil, "appid does not match", "SIGNATURE"
    end
    return true
  end,
  -- event.fields = {name = value} of the type's documented fields (M.messages), or
  -- event.unknown = true for a type the document does not list (still delivered)
  message = function(event)
    local known = M.messages[event.type]
    event.fields = {}
    if not known then
      event.unknown = true
      return event
    end
    for _, name in ipairs(known.fields) do event.fields[name] = event.data[name] end
    return event
  end,
}

return M
