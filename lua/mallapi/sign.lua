-- mallapi.sign: the C core's sign area by its module name, so that
-- require "mallapi.sign" works like require("mallapi").sign (doc/primitives.md, doc/json.md).
return require("mallapi.core").sign
