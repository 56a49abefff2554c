-- Hd (海鼎) SOMS sale-order service profile (seeds/001_*.txt). REST below
-- {base}/{tenant_id}/soms/saleorderservice/. The document gives no host and no
-- authentication: the default (HTTP Basic + `operator` query) is an ASSUMPTION, see
-- doc/assumptions.md; replace it with cfg.auth.
local mallapi = require "mallapi"
local util = require "mallapi.util"
local paging = require "mallapi.paging"

local pairs = pairs

local M = {
  name = "hd",
  base_url = nil,          -- SILENT in the document: cfg.base_url is required
  credentials = { "tenant_id", "operator", "user", "password" },
  secrets = { "password" },
  -- Failure codes meaning "authentication refused" (settable: cfg.auth_codes); HTTP 401 as well.
  auth_codes = { "401" },
}

-- The document marks no parameter as required; path parameters necessarily are.
-- `query` names parameters sent in the query string; the other parameters of a POST form
-- the JSON body (the `order`, `request` or `filter` object of the document).
M.operations = {
  -- 1.1.1 submit: the body is the SaleOrder itself.
  ["saleorder"] = { method = "POST", required = {} },
  -- 1.1.2 (001:L537: the example path leaves out `parts`).
  ["saleorder/front/{front_order_id}"] = { method = "GET", required = { "front_order_id" },
    query = { "parts", "platform_id" } },
  -- 1.1.3: the path says {id} while the table names it sale_order_id (001:L1016); the
  -- parameter is `id`, as in the path.
  ["saleorder/{id}"] = { method = "GET", required = { "id" }, query = { "parts" } },
  -- 1.1.4: the body is SaleOrderDeliverRequest {operator, waybillId, delivery_state,
  -- front_modified}; the query `operator` comes from cfg.operator.
  ["saleorder/{id}/action/deliver"] = { method = "POST", required = { "id" }, limits = {
    { "delivery_state", enum = { "none", "shipped", "signed", "refused", "redeliver" },
      doc = "001:L3389" } } },
  -- 1.1.5 batch get (titled like 1.1.3 at 001:L1549): sale_order_id is array(multi), sent
  -- as a repeated query name.
  ["saleorders"] = { method = "GET", required = {}, query = { "parts", "sale_order_id" } },
  -- 1.1.6 query: page from 0, page_size in [1,100] (the example's page_size=0 at 001:L2089
  -- is outside the range); the body is the SaleOrderFilter. Filter fields typed array
  -- (shop_id_in, lock_state_in, front_order_ids, order_store_code_in) are shown as scalars
  -- in the example (001:L2098-2121): send arrays.
  ["saleorders/query"] = { method = "POST", required = {},
    query = { "desc", "page", "page_size", "sort_key" }, paging = "page", limits = {
      { "page", min = 0, doc = "001:L2069" },                  -- 页码,从0开始,必须>=0
      { "page_size", min = 1, max = 100, doc = "001:L2073" },  -- 分页大小,范围是[1,100]
    } },
}
for name, op in pairs(M.operations) do op.path = name end

function M.api_path(c, path)
  return "/" .. util.rfc3986(util.text(c.cfg.tenant_id)) .. "/soms/saleorderservice/" .. path
end

-- ASSUMPTION (doc/assumptions.md): HTTP Basic with cfg.user and cfg.password, and the
-- documented `operator` query parameter (cfg.operator, or opts.operator) on every call.
function M.auth(req, cfg, _, opts)
  req.query[#req.query + 1] = { "operator", opts and opts.operator or cfg.operator }
  req.headers["Authorization"] = "Basic "
    .. mallapi.codec.base64encode(util.text(cfg.user) .. ":" .. util.text(cfg.password))
  return true
end

-- Envelope: writes answer ActionResult {success, code, message}; reads answer the bare
-- object. success == false is a failure; code "401" (or HTTP 401) is an AUTH failure.
function M.envelope(answer, _, c, status)
  if answer.success == false then
    local code = answer.code
    local kind = (util.is_auth_code(c, code) or status == 401) and "AUTH" or "VENDOR"
    return nil, code, answer.message, kind
  end
  return answer
end

-- Paging: page from 0, page_size in [1,100] (op.limits refuse others); stop at page_count
-- (or total, or a short page).
M.paging = {
  page = paging.pages { page = "page", start = 0, size = "page_size", default_size = 100,
    records = { "saleOrders", "sale_orders" }, page_count = "page_count", total = "total" },
}

return M
