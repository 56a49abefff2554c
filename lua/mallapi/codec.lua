-- mallapi.codec: the C core's codec area by its module name, so that
-- require "mallapi.codec" works like require("mallapi").codec (doc/primitives.md, doc/json.md).
return require("mallapi.core").codec
