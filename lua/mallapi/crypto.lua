-- mallapi.crypto: the C core's crypto area by its module name, so that
-- require "mallapi.crypto" works like require("mallapi").crypto (doc/primitives.md, doc/json.md).
return require("mallapi.core").crypto
