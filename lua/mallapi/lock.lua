-- mallapi.lock: the C core's lock area by its module name, so that
-- require "mallapi.lock" works like require("mallapi").lock (doc/primitives.md, doc/json.md).
return require("mallapi.core").lock
