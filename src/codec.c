/* codec.c: URL percent-encodings, base64 and hex over plain byte buffers.
 * Table-driven; no allocation (callers pass buffers of the size codec.h states).
 * Knows nothing of Lua. */
#include <stdio.h>
#include <string.h>

#include "mallapi.h"
#include "codec.h"

static const char codec_hex_upper[] = "0123456789ABCDEF";

/* Two-character lower/upper hex of every byte value. */
static const char codec_hex_pairs_lower[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
static const char codec_hex_pairs_upper[513] =
    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
    "202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
    "404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F"
    "606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"
    "808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F"
    "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
    "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
    "E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF";

/* Value of a hex digit, or -1. */
static int codec_hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 1 when the byte is kept as is by the flavor. */
static int codec_url_keep(unsigned char c, mallapi_url_flavor flavor) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '-': case '.': case '_': return 1;
    case '~': return flavor != MALLAPI_URL_JAVA;
    case '*': return flavor == MALLAPI_URL_JAVA;
    default: return 0;
    }
}

size_t mallapi_urlencode(const unsigned char *s, size_t len, mallapi_url_flavor flavor, char *out) {
    char *o = out;
    int plus = flavor != MALLAPI_URL_RFC3986;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (codec_url_keep(c, flavor)) {
            *o++ = (char)c;
        } else if (c == ' ' && plus) {
            *o++ = '+';
        } else {
            *o++ = '%';
            *o++ = codec_hex_upper[c >> 4];
            *o++ = codec_hex_upper[c & 15];
        }
    }
    return (size_t)(o - out);
}

long mallapi_urldecode(const char *s, size_t len, int plus_as_space, char *out, char *err) {
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 1 < len ? codec_hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? codec_hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, MALLAPI_ERRLEN, "urldecode: bad percent escape at byte %zu", i + 1);
                return -1;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            *o++ = ' ';
        } else {
            *o++ = (char)c;
        }
    }
    return (long)(o - out);
}

static const char codec_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char codec_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t mallapi_base64_encoded_len(size_t len, int urlsafe) {
    if (!urlsafe) return (len + 2) / 3 * 4;
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

size_t mallapi_base64encode(const unsigned char *s, size_t len, int urlsafe, char *out) {
    const char *alphabet = urlsafe ? codec_b64_url : codec_b64_std;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)s[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        if (!urlsafe) { *o++ = '='; *o++ = '='; }
    } else if (len - i == 2) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        if (!urlsafe) *o++ = '=';
    }
    return (size_t)(o - out);
}

/* Value of a base64 character in the alphabet, or -1. */
static int codec_b64val(unsigned char c, int urlsafe) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (urlsafe ? '-' : '+')) return 62;
    if (c == (urlsafe ? '_' : '/')) return 63;
    return -1;
}

long mallapi_base64decode(const char *s, size_t len, int urlsafe, unsigned char *out, char *err) {
    size_t data_len = len;
    /* Padding: only at the end, one or two '=', completing a 4-character group. */
    const char *pad = memchr(s, '=', len);
    if (pad != NULL) {
        data_len = (size_t)(pad - s);
        size_t npad = len - data_len;
        int ok = len % 4 == 0 && npad <= 2 && data_len % 4 == 4 - npad;
        for (size_t i = data_len; ok && i < len; i++) ok = s[i] == '=';
        if (!ok) {
            snprintf(err, MALLAPI_ERRLEN, "base64decode: misplaced padding at byte %zu", data_len + 1);
            return -1;
        }
    }
    unsigned char *o = out;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < data_len; i++) {
        int v = codec_b64val((unsigned char)s[i], urlsafe);
        if (v < 0) {
            snprintf(err, MALLAPI_ERRLEN, "base64decode: invalid character at byte %zu", i + 1);
            return -1;
        }
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
        }
    }
    if (data_len % 4 == 1) {
        snprintf(err, MALLAPI_ERRLEN, "base64decode: truncated input at byte %zu", data_len);
        return -1;
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        snprintf(err, MALLAPI_ERRLEN, "base64decode: non-zero trailing bits at byte %zu", data_len);
        return -1;
    }
    return (long)(o - out);
}

void mallapi_hexencode(const unsigned char *s, size_t len, int upper, char *out) {
    const char *pairs = upper ? codec_hex_pairs_upper : codec_hex_pairs_lower;
    for (size_t i = 0; i < len; i++) {
        memcpy(out + 2 * i, pairs + 2 * s[i], 2);
    }
}

long mallapi_hexdecode(const char *s, size_t len, unsigned char *out, char *err) {
    for (size_t i = 0; i + 1 < len; i += 2) {
        int hi = codec_hexval((unsigned char)s[i]);
        int lo = codec_hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, MALLAPI_ERRLEN, "hexdecode: invalid character at byte %zu", hi < 0 ? i + 1 : i + 2);
            return -1;
        }
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    if (len % 2) {
        if (codec_hexval((unsigned char)s[len - 1]) < 0)
            snprintf(err, MALLAPI_ERRLEN, "hexdecode: invalid character at byte %zu", len);
        else
            snprintf(err, MALLAPI_ERRLEN, "hexdecode: odd number of digits at byte %zu", len);
        return -1;
    }
    return (long)(len / 2);
}
