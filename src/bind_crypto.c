/* bind_crypto.c: Lua binding of the crypto area (placeholder until that area lands). */
#include "bind.h"

void mallapi_open_crypto(lua_State *L) {
    (void)L;
}
