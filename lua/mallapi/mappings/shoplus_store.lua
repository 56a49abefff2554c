-- Shoplus shop -> canonical store. Reads the `merchant` answer (002: L1587-1608) or the
-- shop_update webhook body (002: L2527-2549), which carry the same members: id, name,
-- email, category, customerEmail, legalPersonName, companyName, phone, address, zip,
-- currency. Shoplus has no call that writes a shop, so there is no from_canonical.
-- The shop is online by nature; it has no status member, so status is left out.
-- Copy and edit freely.
return {
  entity = "store",
  to_canonical = {
    id = { "id", "id_string", required = true },     -- the webhook example's id is 0 (002:L2544)
    name = { "name", required = true },
    type = { const = "online" },
    email = { "email", skip_empty = true },
    phone = { "phone", skip_empty = true },
    currency = { "currency", skip_empty = true },
    address = { fields = {
      company = { "companyName", skip_empty = true },
      street = { "address", skip_empty = true },
      zip = { "zip", skip_empty = true },
    } },
  },
}
