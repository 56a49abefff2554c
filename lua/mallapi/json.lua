-- mallapi.json: the C core's json area by its module name, so that
-- require "mallapi.json" works like require("mallapi").json (doc/primitives.md, doc/json.md).
return require("mallapi.core").json
