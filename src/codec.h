/* codec.h: URL percent-encodings (RFC 3986, form, Java URLEncoder), base64
 * (standard and URL-safe alphabets) and hex. Plain bytes in, bytes out into a
 * caller's buffer of the documented size. Decoders report the 1-based byte
 * offset of the first bad input in err (MALLAPI_ERRLEN bytes). */
#ifndef MALLAPI_CODEC_H
#define MALLAPI_CODEC_H

#include <stddef.h>

typedef enum {
    MALLAPI_URL_RFC3986 = 0, /* keep A-Z a-z 0-9 - . _ ~ ; every other byte %XX */
    MALLAPI_URL_FORM,        /* as RFC 3986, but space -> '+' */
    MALLAPI_URL_JAVA         /* java.net.URLEncoder: keep A-Z a-z 0-9 . - * _ ; space -> '+' */
} mallapi_url_flavor;

/* out holds 3 * len bytes. Returns the length written. */
size_t mallapi_urlencode(const unsigned char *s, size_t len, mallapi_url_flavor flavor, char *out);

/* out holds len bytes. %XX (either case) becomes a byte, '+' a space when
 * plus_as_space, everything else is copied. Returns the length, or -1 with
 * err = "urldecode: bad percent escape at byte N". */
long mallapi_urldecode(const char *s, size_t len, int plus_as_space, char *out, char *err);

/* out holds mallapi_base64_encoded_len(len) bytes. The standard alphabet
 * pads with '='; the URL-safe one ('-', '_') does not pad. */
size_t mallapi_base64_encoded_len(size_t len, int urlsafe);
size_t mallapi_base64encode(const unsigned char *s, size_t len, int urlsafe, char *out);

/* out holds 3 * (len / 4) + 3 bytes. Padding is optional, but when present
 * it must be right; whitespace and the other alphabet's characters are
 * refused. Returns the length, or -1 with err set. */
long mallapi_base64decode(const char *s, size_t len, int urlsafe, unsigned char *out, char *err);

/* out holds 2 * len bytes; lower-case digits, or upper-case when upper. */
void mallapi_hexencode(const unsigned char *s, size_t len, int upper, char *out);

/* out holds len / 2 bytes; either case accepted. Returns the length, or -1
 * with err set. */
long mallapi_hexdecode(const char *s, size_t len, unsigned char *out, char *err);

#endif
