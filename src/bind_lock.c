/* bind_lock.c: Lua binding of the lock area (placeholder until that area lands). */
#include "bind.h"

void mallapi_open_lock(lua_State *L) {
    (void)L;
}
