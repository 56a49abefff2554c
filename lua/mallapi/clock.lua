-- mallapi.clock: the C core's clock area by its module name, so that
-- require "mallapi.clock" works like require("mallapi").clock (doc/primitives.md, doc/json.md).
return require("mallapi.core").clock
