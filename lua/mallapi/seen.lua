-- mallapi.seen: the C core's seen area by its module name, so that
-- require "mallapi.seen" works like require("mallapi").seen (doc/primitives.md, doc/json.md).
return require("mallapi.core").seen
