/* mallapi.h: names shared by the C files of the mallapi core: the version, the
 * metatable names (registry keys) of every userdata, limits and the error buffer
 * size of the Lua-free concern files. Error codes returned to Lua are not here.
 * The version lives here and nowhere else (a spec checks the rockspec agrees). */
#ifndef MALLAPI_H
#define MALLAPI_H

#define MALLAPI_VERSION "0.1.0"

/* Metatable names (registry keys). */
#define MALLAPI_MT_RAWNUMBER "mallapi.RawNumber"
#define MALLAPI_MT_SESSION   "mallapi.Session"
#define MALLAPI_MT_MAPPER    "mallapi.Mapper"
#define MALLAPI_MT_MAPSCRATCH "mallapi.MapScratch"  /* mapper:decode's scratch buffer */
#define MALLAPI_MT_MAPPATH   "mallapi.MapPath"      /* mapper:decode's parsed `at` */
#define MALLAPI_MT_LOCK      "mallapi.Lock"
#define MALLAPI_MT_SEEN      "mallapi.Seen"
#define MALLAPI_MT_CRYPTO_CTX "mallapi.CryptoContext"  /* the crypto area's reusable contexts */

/* Limits. */
#define MALLAPI_JSON_DEFAULT_DEPTH 1000

/* Error buffer size used by the Lua-free concern files (hiredis style). */
#define MALLAPI_ERRLEN 256

#endif
