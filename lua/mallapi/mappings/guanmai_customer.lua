-- Guanmai customer (商户, a restaurant merchant) <-> canonical customer. Reads
-- customer/list items (003: L1144-1187); writes the customer/create body (003:
-- L1094-1120) without username/password/district codes/salemenu_ids, which are
-- account settings the caller adds. Telephones are typed int in the document; they
-- stay text here so leading zeros survive.
return {
  entity = "customer",
  to_canonical = {
    id = { { "SID", "customer_id", "user_id" }, "id_string", required = true },
    username = "username",
    company = "resname",
    name = { { "name", "receiveperson" } },
    phone = { { "telephone", "receivephone" }, "string" },
    created_at = { "create_time", { "datetime_to_ms", offset = "+08:00" } },
    addresses = { list = true, fields = {
      street = { { "addr_detail", "area_detail", "map_address" } },
      city = "city",
      district = "area_l1",
    } },
  },
  from_canonical = {
    restaurant_name = { { "company", "name" }, required = true },
    receiver_name = { "name", required = true },
    receiver_telephone = { "phone", "string", required = true },
    payer_name = { "name", required = true },
    payer_telephone = { "phone", "string", required = true },
    restaurant_address = { join = { "addresses[1].city", "addresses[1].district", "addresses[1].street" } },
  },
}
