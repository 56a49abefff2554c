-- Hd (海鼎) SOMS sale-order service profile (seeds/001_*.txt). REST below
-- {base}/{tenant_id}/soms/saleorderservice/. The document gives no host and no
-- authentication: the default (HTTP Basic + `operator` query) is an ASSUMPTION, see
-- doc/assumptions.md; replace it with cfg.auth.
local mallapi = require "mallapi"
local client = require "mallapi.client"
local util = client.util

local pairs, tonumber, tostring, type = pairs, tonumber, tostring, type

local M = {
  name = "hd",
  base_url = nil,          -- SILENT in the document: cfg.base_url is required
  credentials = { "tenant_id", "operator", "user", "password" },
  secrets = { "password" },
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
function M.envelope(answer, _, _, status)
  if answer.success == false then
    local code = answer.code
    local kind = (tostring(code) == "401" or status == 401) and "AUTH" or "VENDOR"
    return nil, code, answer.message, kind
  end
  return answer
end

-- Paging: page from 0, page_size in [1,100] (op.limits refuse others); stop at page_count (or total, or a short page).
M.paging = {
  page = {
    first = function(params)
      params.page = params.page or 0
      params.page_size = params.page_size or 100   -- its range is checked by op.limits
      return params
    end,
    records = function(data)
      local list = data.saleOrders or data.sale_orders
      return type(list) == "table" and list or {}
    end,
    next = function(params, data, _, got, state)
      if got == 0 or got < tonumber(params.page_size) then return nil end
      local page_count, total = tonumber(data.page_count), tonumber(data.total)
      if page_count and params.page + 1 >= page_count then return nil end
      if total and state.seen >= total then return nil end
      local nxt = util.copy(params)
      nxt.page = params.page + 1
      return nxt
    end,
  },
}

return M
