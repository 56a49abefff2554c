-- Shoplus customer <-> canonical customer. Reads a customer.list / customer.detail
-- record or a customer_* webhook body (002: L1612-1720, L2486-2526); writes the
-- customer.update body (002: L1723-1774: id, firstName, lastName, phone,
-- acceptsMarketing as 0/1). totalOrderAmount is bigdecimal in the shop currency.
-- Times are `date` (002:L112-113): epoch ms in every example (002:L2186, L2269), while the
-- query bounds of the same type are yyyy-MM-dd HH:mm:ss text (002:L862): both are read.
local T = require("mallapi.mapper").ms_or_datetime("+08:00")
local address_in = {
  id = { "id", "id_string" },
  first_name = "firstName", last_name = "lastName",
  name = { join = { "firstName", "lastName" }, sep = " " },
  email = "email", phone = "phone", street = "address1", street2 = "address2",
  city = "city", province = "province", province_code = "provinceCode",
  country = "country", country_code = "countryCode", zip = "zip",
}

return {
  entity = "customer",
  to_canonical = {
    id = { "id", "id_string", required = true },
    email = "email",
    phone = "phone",
    first_name = "firstName",
    last_name = "lastName",
    name = { join = { "firstName", "lastName" }, sep = " " },
    accepts_marketing = { "acceptsMarketing", "bool" },
    orders_count = { "totalOrderCount", "int" },
    total_spent = { "totalOrderAmount", "money_to_minor" },
    created_at = { "createTime", "ms", fn = T },
    updated_at = { "updateTime", "ms", fn = T },
    addresses = { each = "addresses", fields = address_in },
  },
  from_canonical = {
    id = { "id", "id_number", required = true },
    firstName = "first_name",
    lastName = "last_name",
    phone = "phone",
    acceptsMarketing = { "accepts_marketing", "bool_int" },
  },
}
