/* mallapi.h: names shared by every C file of the mallapi core: the version,
 * metatable names, limits and the stable error codes returned to Lua.
 * The version lives here and nowhere else (a spec checks the rockspec agrees). */
#ifndef MALLAPI_H
#define MALLAPI_H

#define MALLAPI_VERSION "0.1.0"

/* Metatable names (registry keys). */
#define MALLAPI_MT_RAWNUMBER "mallapi.RawNumber"
#define MALLAPI_MT_SESSION   "mallapi.Session"

/* Limits. */
#define MALLAPI_JSON_DEFAULT_DEPTH 1000

/* Error buffer size used by the Lua-free concern files (hiredis style). */
#define MALLAPI_ERRLEN 256

#endif
