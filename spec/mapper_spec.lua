-- mallapi.mapper: converters, the spec language, compile errors and record errors.
-- luacheck: max line length 160
local mapper = require "mallapi.mapper"
local convert = mapper.convert
local is_54 = _VERSION == "Lua 5.4" and math.type ~= nil

local function T(name, params)
  local c = { name }
  for k, v in pairs(params) do c[k] = v end
  return c
end

describe("mapper converters #c", function()
  -- { converter, input, expected } or { converter, input, nil, error }
  local cases = {
    { "money_to_minor", 16.05, 1605 },
    { "money_to_minor", "16.05", 1605 },
    { "money_to_minor", 1138.11, 113811 },
    { "money_to_minor", 0.07, 7 },
    { "money_to_minor", -0.07, -7 },
    { "money_to_minor", "-16.05", -1605 },
    { "money_to_minor", 100, 10000 },
    { "money_to_minor", "0.30", 30 },
    { "money_to_minor", "16.050", 1605 },
    { "money_to_minor", "1.605e1", 1605 },
    { "money_to_minor", "  7.28 ", 728 },
    { "money_to_minor", 0.1 + 0.2, nil, "money_to_minor: '0.30000000000000004' has more than 2 decimals" },
    { "money_to_minor", "16.055", nil, "money_to_minor: '16.055' has more than 2 decimals" },
    { "money_to_minor", "12a", nil, "money_to_minor: '12a' is not a decimal number" },
    { "money_to_minor", "99999999999999999999", nil, "money_to_minor: '99999999999999999999' is out of range" },
    { "money_to_minor", true, nil, "money_to_minor: want a number or a string, got boolean" },
    { "money_to_minor", "", nil },
    { T("money_to_minor", { scale = 0 }), "16", 16 },
    { T("money_to_minor", { scale = 3 }), "1.5", 1500 },
    { "minor_to_money", 1605, 16.05 },
    { "minor_to_money", -5, -0.05 },
    { "minor_to_money", "200", 2 },
    { "minor_to_money_string", 1605, "16.05" },
    { "minor_to_money_string", -5, "-0.05" },
    { "minor_to_money_string", 0, "0.00" },
    { "minor_to_money_string", -100, "-1.00" },
    { T("minor_to_money_string", { scale = 0 }), 16, "16" },
    { "ms", "1646233461000", 1646233461000 },
    { "ms", 1616488739000, 1616488739000 },
    { "ms", "12.5", nil, "ms: '12.5' is not an integer" },
    { "s_to_ms", "1652357736", 1652357736000 },
    { "s_to_ms", 1.5, 1500 },
    { "ms_to_s", 1652357736999, 1652357736 },
    { "ms_to_s", -1, -1 },
    { "ms_string", 1350000123400, "1350000123400" },
    { "auto_ms", "1648742590", 1648742590000 },
    { "auto_ms", "1350000123400", 1350000123400 },
    { "datetime_to_ms", "2021-01-01 07:59:59", 1609459199000 },
    { "datetime_to_ms", "2021-01-01 08:00:00", 1609459200000 },
    { "datetime_to_ms", "2019-03-02 12:00:01", 1551499201000 },
    { "datetime_to_ms", "2024-02-29 00:00:00", 1709136000000 },
    { "datetime_to_ms", "2017-06-21T17:29:38.913", 1498037378913 },
    { "datetime_to_ms", "2019-02-23", 1550851200000 },
    { T("datetime_to_ms", { offset = "-05:00" }), "1999-12-31 23:59:59", 946702799000 },
    { T("datetime_to_ms", { offset = "Z" }), "1970-01-01 00:00:00", 0 },
    { T("datetime_to_ms", { offset = "+00:00" }), "1969-12-31 23:59:59", -1000 },
    { "datetime_to_ms", "2023-02-29 00:00:00", nil, "datetime_to_ms: '2023-02-29 00:00:00' is out of range" },
    { "datetime_to_ms", "2021/01/01", nil, "datetime_to_ms: '2021/01/01' is not yyyy-MM-dd HH:mm:ss" },
    { "ms_to_datetime", 1609459199000, "2021-01-01 07:59:59" },
    { "ms_to_datetime", 1609459200000, "2021-01-01 08:00:00" },
    { "ms_to_datetime", 1616488739000, "2021-03-23 16:38:59" },
    { T("ms_to_datetime", { offset = "-05:00" }), 946702799000, "1999-12-31 23:59:59" },
    { T("ms_to_datetime", { offset = "+00:00" }), -1, "1969-12-31 23:59:59" },
    { "id_string", "E20220331160309008300061", "E20220331160309008300061" },
    { "id_string", 47814, "47814" },
    { "id_string", 12.5, nil, "id_string: 12.5 is not an integer" },
    { "id_number", "47814", 47814 },
    { "int", "42", 42 },
    { "int", 3.0, 3 },
    { "int", "4x", nil, "int: '4x' is not a decimal number" },
    { "number", "7.28", 7.28 },
    { "number", "7.2.8", nil, "number: '7.2.8' is not a number" },
    { "bool", 1, true },
    { "bool", "0", false },
    { "bool", "true", true },
    { "bool", false, false },
    { "bool", "yes", nil, "bool: 'yes' is not 0/1/true/false" },
    { "bool_int", true, 1 },
    { "string", 1605, "1605" },
    { "string", 16.05, "16.05" },
    { "trim", " 00000323434 ", "00000323434" },
  }
  for i, c in ipairs(cases) do
    local name = type(c[1]) == "table" and c[1][1] or c[1]
    it(("%d: %s(%s)"):format(i, name, tostring(c[2])), function()
      local got, err, code = convert(c[1], c[2])
      if c[4] then
        assert.is_nil(got)
        assert.equal(c[4], err)
        assert.equal("MAP", code)
      else
        assert.is_nil(err)
        assert.equal(c[3], got)
        assert.equal(type(c[3]), type(got))
      end
    end)
  end

  it("keeps integers beyond 2^53 exact where the runtime can", function()
    if is_54 then
      assert.equal(9007199254740993, convert("int", "9007199254740993"))
      assert.equal(531464955276181500, convert("id_number", "531464955276181500"))
      assert.equal("531464955276181500", convert("id_string", 531464955276181500))
    else
      local got, err = convert("int", "9007199254740993")
      assert.is_nil(got)
      assert.equal("int: 9007199254740993 is beyond 2^53 on this Lua (use id_string)", err)
      assert.equal("531464955276181500", convert("id_number", "531464955276181500"))
    end
    assert.equal("202103045600000323434", convert("id_string", "202103045600000323434"))
  end)

  it("raises on an unknown converter", function()
    assert.has_error(function() convert("monye", 1) end,
      "bad argument #1 to 'convert' (map.convert: unknown converter 'monye')")
  end)
end)

describe("mapper spec language #c", function()
  local doc = {
    id = 7, no = "N7", total = "16.05", created = "2021-01-01 07:59:59", status = 2,
    receiver = { name = "Lee", phone = "137", first = "Yan", last = "Wu" },
    items = { { sku = "A", price = 1.5, qty = 2 }, { sku = "B", price = "0.1", qty = 1 } },
    tags = "a,b,,c", nothing = "", list = { "x", "y" },
  }

  it("maps paths, nested paths, indexes, converters, constants and defaults", function()
    local m = mapper {
      id = { "id", "id_string" },
      order_no = "no",
      total = { "total", "money_to_minor" },
      created_at = { "created", T("datetime_to_ms", { offset = "+08:00" }) },
      phone = "receiver.phone",
      first_sku = "items[1].sku",
      second_price = { "items[2].price", "money_to_minor" },
      vendor = { const = "shoplus" },
      currency = { "currency", default = "CNY" },
      absent = "no.such.path",
      ["ship.name"] = "receiver.name",
      ["ship.phone"] = "receiver.phone",
    }
    assert.same({
      id = "7", order_no = "N7", total = 1605, created_at = 1609459199000, phone = "137",
      first_sku = "A", second_price = 10, vendor = "shoplus", currency = "CNY",
      ship = { name = "Lee", phone = "137" },
    }, m(doc))
  end)

  it("takes the first present of several paths", function()
    local m = mapper { id = { { "order_id", "orderid", "id" }, "id_string" } }
    assert.same({ id = "7" }, m(doc))
    assert.same({ id = "x" }, m({ orderid = "x", id = 1 }))
  end)

  it("maps arrays with each and nested objects with fields", function()
    local m = mapper {
      lines = { each = "items", fields = { sku = "sku", price = { "price", "money_to_minor" }, qty = "qty" } },
      buyer = { "receiver", fields = { name = "name", mobile = "phone" } },
      same_doc = { fields = { no = "no" } },
      one = { list = true, fields = { no = "no" } },
      empty_obj = { fields = { x = "no.such" } },
      codes = { each = "list", conv = "string" },
    }
    assert.same({
      lines = { { sku = "A", price = 150, qty = 2 }, { sku = "B", price = 10, qty = 1 } },
      buyer = { name = "Lee", mobile = "137" },
      same_doc = { no = "N7" }, one = { { no = "N7" } }, codes = { "x", "y" },
    }, m(doc))
  end)

  it("maps enums, with a default for unknown codes", function()
    local m = mapper { s = { "status", enum = { [1] = "paid", [2] = "shipped" }, enum_default = "other" } }
    assert.same({ s = "shipped" }, m(doc))
    assert.same({ s = "other" }, m({ status = 9 }))
    assert.same({ s = "paid" }, m({ status = "1" }))          -- "1" finds the code 1
    local strict = mapper { s = { "status", enum = { [1] = "paid" } } }
    local got, err, code = strict({ status = 9 })
    assert.is_nil(got)
    assert.equal("mapper: field 's': unknown code '9' (no enum_default)", err)
    assert.equal("MAP", code)
  end)

  it("joins and splits", function()
    local m = mapper {
      name = { join = { "receiver.first", "receiver.last", "receiver.none" }, sep = " " },
      tags = { "tags", split = "," },
      list = { "list", join = "|" },
    }
    assert.same({ name = "Yan Wu", tags = { "a", "b", "", "c" }, list = "x|y" }, m(doc))
  end)

  it("calls a Lua function for one field", function()
    local m = mapper {
      twice = { "items[1].qty", fn = function(v, src) return v * 2 + #src.items end },
      whole = function(src) return src.no .. "!" end,
    }
    assert.same({ twice = 6, whole = "N7!" }, m(doc))
    local bad = mapper { x = { fn = function() error("no way", 0) end } }
    assert.same({ nil, "mapper: field 'x': fn: no way", "MAP" }, { bad(doc) })
  end)

  it("reads null and empty numeric text as missing", function()
    local null = require("support.map_json").null
    local m = mapper {
      a = { "a", default = 0 }, b = { "b", "money_to_minor" }, c = { "c", skip_empty = true }, d = "d",
    }
    assert.same({ a = 0, d = "" }, m({ a = null, b = "", c = "", d = "" }))
  end)

  it("names the field and the source path of a missing required value", function()
    local m = mapper {
      lines = { each = "items", fields = { price = { "price", "money_to_minor", required = true } } },
    }
    local got, err, code = m({ items = { { price = 1 }, { sku = "B" } } })
    assert.is_nil(got)
    assert.equal("mapper: field 'lines[2].price': required source 'items[2].price' missing", err)
    assert.equal("MAP", code)
    got, err = m({ items = { { price = "1.234" } } })
    assert.is_nil(got)
    assert.equal("mapper: field 'lines[1].price': money_to_minor: '1.234' has more than 2 decimals", err)
    err = select(2, m({ items = "x" }))
    assert.equal("mapper: field 'lines': source 'items' is not an array", err)
    err = select(2, mapper { a = { "x.y", required = true } } ({ x = { z = 1 } }))
    assert.equal("mapper: field 'a': required source 'x.y' missing", err)
    err = select(2, mapper { codes = { each = "c", conv = "int" } } ({ c = { 1, "z" } }))
    assert.equal("mapper: field 'codes[2]': int: 'z' is not a decimal number", err)
  end)

  it("many maps a list, reports record errors by index and goes on unless asked", function()
    local m = mapper { price = { "price", "money_to_minor", required = true } }
    local list = { { price = "1.00" }, { price = "x" }, { sku = 1 }, { price = 2 } }
    local out, errs = m:many(list)
    assert.same({ { price = 100 }, false, false, { price = 200 } }, out)
    assert.same({
      "mapper: record 2: field 'price': money_to_minor: 'x' is not a decimal number",
      "mapper: record 3: field 'price': required source 'price' missing",
    }, errs)
    assert.same({ nil, "mapper: record 2: field 'price': money_to_minor: 'x' is not a decimal number", "MAP" },
                { m:many(list, { stop_on_error = true }) })
    local all, none = m:many({ { price = 1 } })
    assert.same({ { price = 100 } }, all)
    assert.is_nil(none)
  end)

  it("decode maps JSON text", function()
    local m = mapper { id = { "id", "id_string" }, total = { "amount", "money_to_minor" } }
    assert.same({ id = "47814", total = 1605 }, m:decode('{"id":47814,"amount":16.05,"skip":[1,{"a":2}]}'))
    local got, err, code = m:decode("{bad")
    assert.is_nil(got)
    assert.matches("^mapper.decode: ", err)
    assert.equal("JSON", code)
    assert.has_error(function() m:decode(5) end)
  end)

  it("decode maps the records of an array inside the document", function()
    local m = mapper { total = { "amount", "money_to_minor", required = true } }
    local out, errs = m:decode('{"code":"0","data":{"list":[{"amount":"1.20"},{"amount":"x"},{"amount":3}]}}', "data.list")
    assert.same({ { total = 120 }, false, { total = 300 } }, out)
    assert.same({ "mapper: record 2: field 'total': money_to_minor: 'x' is not a decimal number" }, errs)
    assert.same({ nil, "mapper.decode: no array at 'data.list'", "MAP" }, { m:decode('{"data":{}}', "data.list") })
  end)

  local core = require "mallapi.core"
  local c_decode = debug.getinfo(core.map.methods.decode, "S").what == "C"
  local it_c = c_decode and it or pending

  it_c("decode builds only what the spec reads, keeps 64-bit ids and still checks the whole text", function()
    local seen
    local m = mapper {
      id = { "id", "id_string" },
      price = { "items[2].price", "money_to_minor" },
      kind = { uses = { "type" }, fn = function(src) seen = src; return src.type end },
    }
    local text = '{"id":531464955276181500,"type":"a","big":{"deep":[1,2,{"x":"y"}]},' ..
                 '"items":[{"price":1},{"price":16.05,"sku":"B"}],"tail":null}'
    assert.same({ id = "531464955276181500", price = 1605, kind = "a" }, m:decode(text))
    assert.is_nil(seen.big)                        -- never built
    assert.is_nil(seen.tail)
    assert.is_nil(seen.items[2].sku)
    assert.equal("a", seen.type)
    local got, err, code = m:decode('{"id":1,"big":{"deep":[1,2,}}')
    assert.is_nil(got)
    assert.equal("mapper.decode: json: unexpected '}' at line 1 column 28 (byte 28)", err)
    assert.equal("JSON", code)
    assert.same({ nil, "mapper.decode: the document is not an object", "JSON" }, { m:decode("[1]") })
  end)

  it_c("decode streams the same results and errors as mapping the decoded table", function()
    local cjson = require "cjson"
    local spec = {
      id = { { "order_id", "orderid", "id" }, "id_string", required = true },
      total = { "amount", "money_to_minor", default = 0 },
      status = { "status", enum = { [1] = "paid", [2] = "shipped" }, enum_default = "other" },
      name = { join = { "who.first", "who.last" }, sep = " " },
      ["ship.city"] = "who.city",
      lines = { each = "items", fields = {
        sku = { "sku", required = true }, price = { "price", "money_to_minor" },
        tags = { "tags", split = "," }, codes = { each = "codes", conv = "int" },
      } },
      buyer = { "who", fields = { first = "first", phone = { "phone", "string" } } },
      same = { fields = { no = "no" } },
      first_sku = "items[1].sku",
      whole = function(src) return src.extra and src.extra.n end,
      one = { list = true, fields = { no = "no" } },
      k = { const = "K" },
    }
    local docs = {
      { id = 5, orderid = "O-1", amount = "16.05", status = 2, no = "N", extra = { n = 1 },
        who = { first = "Yan", last = "Wu", city = "Xiamen", phone = 137 },
        items = { { sku = "A", price = 1.5, tags = "x,y", codes = { 1, "2" } }, { sku = "B" } } },
      { id = 6, status = 9, items = {} },
      { order_id = "Z", items = { { price = 1 } } },
      { id = 1, items = { { sku = "A", price = "1.234" } } },
      { id = 1, items = "no" },
      { id = 1, who = "no" },
      { id = 1, items = { 5 } },
      { id = 1, items = { { sku = "A", codes = { "x" } } } },
      { amount = 1 },
    }
    docs[#docs + 1] = { id = 1, items = cjson.null, who = cjson.null }
    local streamed = {}          -- without first_sku and whole (reads all), lines and buyer stream
    for k, v in pairs(spec) do if k ~= "first_sku" and k ~= "whole" then streamed[k] = v end end
    for _, sp in ipairs { spec, streamed } do
      for i, d in ipairs(docs) do
        local m = mapper(sp)
        assert.same({ m(d) }, { m:decode(cjson.encode(d)) }, "doc " .. i)
      end
    end
    local m = mapper(spec)
    local out, errs = m:decode(cjson.encode({ data = { list = docs } }), "data.list")
    local out2, errs2 = m:many(docs)
    assert.same(out2, out)
    assert.same(errs2, errs)
    assert.same({ m:many(docs, { stop_on_error = true }) },
                { m:decode(cjson.encode({ data = { list = docs } }), "data.list", { stop_on_error = true }) })
    local dup = mapper { a = "a", b = { { "x", "y" } } }
    assert.same({ a = 2, b = 3 }, dup:decode('{"a":1,"y":9,"a":2,"x":4,"x":3}'))
    assert.same({ nil, "mapper.decode: json: unexpected ']' at line 1 column 35 (byte 35)", "JSON" },
                { m:decode('{"data":{"list":[{"amount":"x"},1,]}}', "data.list") })
  end)

  -- compile errors name the field
  local bad_specs = {
    { { total = { "x", "monye" } }, "mapper: field 'total': unknown converter 'monye'" },
    { { total = { "x", conv = "monye" } }, "mapper: field 'total': unknown converter 'monye'" },
    { { total = { "x", requird = true } }, "mapper: field 'total': unknown option 'requird'" },
    { { a = { "items[0].x" } }, "mapper: field 'a': path 'items[0].x': bad index (want [1], [2], ...)" },
    { { a = "x..y" }, "mapper: field 'a': path 'x..y': empty key" },
    { { a = "" }, "mapper: field 'a': empty path" },
    { { a = 5 }, "mapper: field 'a': want a source path, a table or a function, got number" },
    { { a = {} }, "mapper: field 'a': no source: give a path, const, join, each, fields or fn" },
    { { a = { "x", enum = 1 } }, "mapper: field 'a': enum must be a table of code = value" },
    { { a = { "x", enum_default = 1 } }, "mapper: field 'a': enum_default without enum" },
    { { a = { "x", required = true, default = 1 } }, "mapper: field 'a': required and default exclude each other" },
    { { a = { "x", T("datetime_to_ms", { offset = "8" }) } },
      "mapper: field 'a': converter 'datetime_to_ms': offset '8': want +HH:MM within +-18:00" },
    { { a = { "x", T("datetime_to_ms", { zone = "+08:00" }) } },
      "mapper: field 'a': converter 'datetime_to_ms': unknown option 'zone'" },
    { { l = { each = "items", fields = { p = { "price", "monye" } } } }, "mapper: field 'l.p': unknown converter 'monye'" },
    { { l = { each = "items", fields = 3 } }, "mapper: field 'l': fields must be a table" },
    { { l = { each = "items", fields = { [1] = "x" } } }, "mapper: field 'l': field names are strings" },
    { { ["a[1]"] = "x" }, "mapper: field 'a[1]': path 'a[1]': no [index] in a target" },
    { { "x" }, "mapper: spec keys are target field names (strings)" },
    { {}, "mapper: empty spec" },
  }
  for i, c in ipairs(bad_specs) do
    it("compile error " .. i .. ": " .. c[2], function()
      assert.has_error(function() mapper(c[1]) end, c[2])
    end)
  end

  it("marks the arrays it makes with the JSON codec's array mark", function()

    local array_mt = {}
    local raw = function(text) return { raw = text } end
    local m = core.map.compile({
      lines = { each = "items", fields = { sku = "sku" } }, none = { each = "empty", fields = { sku = "sku" } },
      tags = { "tags", split = "," }, one = { list = true, fields = { no = "no" } },
      big = { "big", "id_number" }, obj = { fields = { no = "no" } },
    }, { array_mt = array_mt, number = raw })
    local out = m({ items = { { sku = "A" } }, empty = {}, tags = "a,b", no = "N", big = "531464955276181500" })
    for _, k in ipairs { "lines", "none", "tags", "one" } do assert.equal(array_mt, getmetatable(out[k]), k) end
    assert.is_nil(getmetatable(out.obj))
    assert.is_nil(getmetatable(out.lines[1]))
    if is_54 then assert.equal(531464955276181500, out.big)
    else assert.same({ raw = "531464955276181500" }, out.big) end
  end)

  it("refuses a spec whose fields nest into themselves", function()
    local loop = { x = "x" }
    loop.sub = { fields = loop }
    local ok, err = pcall(mapper, loop)
    assert.is_false(ok)
    assert.matches("^mapper: field 'sub%.sub%.[%w.]*': fields nested deeper than 31 levels$", err)
  end)

  it("raises on a spec that is not a table", function()
    assert.has_error(function() mapper("x") end, "bad argument #1 to 'mallapi.mapper' (table expected, got string)")
  end)

  it("is reachable as mallapi.mapper", function()
    local mallapi = require "mallapi"
    assert.equal(mapper, mallapi.mapper)
    assert.matches("^mallapi.mapper %(1 fields%)$", tostring(mallapi.mapper { a = "a" }))
  end)
end)
