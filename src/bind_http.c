/* bind_http.c: Lua binding of the http area (placeholder until that area lands). */
#include "bind.h"

void mallapi_open_http(lua_State *L) {
    (void)L;
}
