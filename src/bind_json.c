/* bind_json.c: Lua binding of the json area (placeholder until that area lands). */
#include "bind.h"

void mallapi_open_json(lua_State *L) {
    (void)L;
}
