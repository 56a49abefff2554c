/* bind_map.c: Lua binding of the field mapper (placeholder until that area lands). */
#include "bind.h"

void mallapi_open_map(lua_State *L) {
    (void)L;
}
