-- Record lookups shared by the vendor emulations that keep entities in sandbox.store: find a
-- record by id or answer "<what> not found: <id>" in the vendor's own error envelope, and the
-- plain get, update and delete by id handlers built on that. Each vendor module makes its own
-- set with records.for_vendor(V, M, ok), where M.error_body(M.NOT_FOUND, msg) is its
-- not-found body and ok(data) its success answer; getter, updater and deleter make handlers.
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"

local M = {}

function M.for_vendor(V, mod, ok)
  local R = {}

  -- The record, or nil and the vendor's not-found body.
  function R.find(entity, id, what)
    local rec = store.get(V, entity, json.text(id))
    if not rec then return nil, mod.error_body(mod.NOT_FOUND, what .. " not found: " .. tostring(json.text(id))) end
    return rec
  end

  -- Handler: the public members of the record whose id is p[id_name].
  function R.getter(entity, id_name, what)
    return function(p)
      local rec, err = R.find(entity, p[id_name], what)
      if not rec then return 200, err end
      return ok(util.public(rec))
    end
  end

  -- Handler: copy the members `fields` that p gives into the record whose id is p[id_name],
  -- store it again under its own id member, answer ok().
  function R.updater(entity, id_name, what, fields)
    return function(p)
      local rec, err = R.find(entity, p[id_name], what)
      if not rec then return 200, err end
      util.assign_given(rec, p, fields)
      store.put(V, entity, rec[id_name], rec)
      return ok()
    end
  end

  -- Handler: delete the record whose id is p[id_name], answering ok(answer).
  function R.deleter(entity, id_name, what, answer)
    return function(p)
      if not store.delete(V, entity, json.text(p[id_name])) then
        return 200, mod.error_body(mod.NOT_FOUND, what .. " not found: " .. json.text(p[id_name]))
      end
      return ok(answer)
    end
  end

  return R
end

return M
