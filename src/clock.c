/* clock.c: the one home of time in the C core: wall-clock and monotonic
 * milliseconds, sleeping, and conversion between an instant and its
 * "yyyy-MM-dd HH:mm:ss" text at a fixed UTC offset, by calendar arithmetic
 * (days from civil and back, after H. Hinnant's algorithms), so the result
 * never depends on the process's TZ. Knows nothing of Lua. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "mallapi.h"
#include "clock.h"

/* First and last millisecond of years 0001..9999 as local time. */
#define CLOCK_MIN_MS (-62135596800000LL)
#define CLOCK_MAX_MS (253402300799999LL)

int64_t mallapi_clock_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mallapi_clock_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mallapi_clock_sleep_ms(int64_t ms) {
    if (ms <= 0) return;
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L }, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
}

static int64_t clock_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t mallapi_clock_floor_s(int64_t ms) { return clock_floor_div(ms, 1000); }

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t mallapi_clock_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = clock_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void mallapi_clock_civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = clock_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void clock_put2(char *out, int v) {
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

int mallapi_clock_format(int64_t ms, int offset_minutes, char out[19]) {
    if (ms < CLOCK_MIN_MS - 86400000LL || ms > CLOCK_MAX_MS + 86400000LL) return -1;
    int64_t local = ms + (int64_t)offset_minutes * 60000;
    if (local < CLOCK_MIN_MS || local > CLOCK_MAX_MS) return -1;
    int64_t secs = clock_floor_div(local, 1000);
    int64_t days = clock_floor_div(secs, 86400);
    int sod = (int)(secs - days * 86400);
    int64_t y;
    int m, d;
    mallapi_clock_civil_from_days(days, &y, &m, &d);
    clock_put2(out, (int)(y / 100));
    clock_put2(out + 2, (int)(y % 100));
    out[4] = '-';
    clock_put2(out + 5, m);
    out[7] = '-';
    clock_put2(out + 8, d);
    out[10] = ' ';
    clock_put2(out + 11, sod / 3600);
    out[13] = ':';
    clock_put2(out + 14, sod / 60 % 60);
    out[16] = ':';
    clock_put2(out + 17, sod % 60);
    return 0;
}

/* Read n decimal digits at s; -1 when one is not a digit (*bad gets its index). */
static int clock_digits(const char *s, int n, int *bad) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') { *bad = i; return -1; }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int mallapi_clock_parse(const char *s, size_t len, int offset_minutes, int64_t *ms, char *err) {
    /* field start, width, separator after it */
    static const struct { int at, width; char sep; } fields[6] = {
        { 0, 4, '-' }, { 5, 2, '-' }, { 8, 2, ' ' }, { 11, 2, ':' }, { 14, 2, ':' }, { 17, 2, 0 },
    };
    static const int min[6] = { 1, 1, 1, 0, 0, 0 };
    static const int max[6] = { 9999, 12, 31, 23, 59, 59 };
    static const char *names[6] = { "year", "month", "day", "hour", "minute", "second" };
    int v[6];
    if (len != 19) {
        snprintf(err, MALLAPI_ERRLEN, "clock.parse: expected yyyy-MM-dd HH:mm:ss (19 bytes), got %zu bytes", len);
        return -1;
    }
    for (int f = 0; f < 6; f++) {
        int bad = 0;
        v[f] = clock_digits(s + fields[f].at, fields[f].width, &bad);
        if (v[f] < 0) {
            snprintf(err, MALLAPI_ERRLEN, "clock.parse: expected a digit at byte %d", fields[f].at + bad + 1);
            return -1;
        }
        if (fields[f].sep && s[fields[f].at + fields[f].width] != fields[f].sep) {
            snprintf(err, MALLAPI_ERRLEN, "clock.parse: expected '%c' at byte %d",
                     fields[f].sep, fields[f].at + fields[f].width + 1);
            return -1;
        }
    }
    for (int f = 0; f < 6; f++) {
        int hi = max[f];
        if (f == 2) {   /* days in that month */
            static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
            int leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
            hi = v[1] == 2 && !leap ? 28 : mdays[v[1] - 1];
        }
        if (v[f] < min[f] || v[f] > hi) {
            snprintf(err, MALLAPI_ERRLEN, "clock.parse: %s out of range at byte %d",
                     names[f], fields[f].at + 1);
            return -1;
        }
    }
    int64_t days = mallapi_clock_days_from_civil(v[0], v[1], v[2]);
    int64_t secs = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    *ms = secs * 1000 - (int64_t)offset_minutes * 60000;
    return 0;
}

int mallapi_clock_parse_offset(const char *s, size_t len, int *minutes) {
    int bad, hours, mins = 0, sign;
    if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) { *minutes = 0; return 0; }
    if (len != 2 && len != 3 && len != 5 && len != 6) return -1;
    if (s[0] != '+' && s[0] != '-') return -1;
    sign = s[0] == '-' ? -1 : 1;
    hours = clock_digits(s + 1, len == 2 ? 1 : 2, &bad);      /* "+8" is "+08" */
    if (hours < 0) return -1;
    if (len == 5) mins = clock_digits(s + 3, 2, &bad);
    if (len == 6) mins = s[3] == ':' ? clock_digits(s + 4, 2, &bad) : -1;
    if (mins < 0 || mins > 59) return -1;
    mins += hours * 60;
    if (mins > MALLAPI_CLOCK_MAX_OFFSET) return -1;
    *minutes = sign * mins;
    return 0;
}

/* ---- the looser text of vendors' answers ---- */

#define CLOCK_SHOWN(len) ((int)((len) > 40 ? 40 : (len)))

static int clock_month_days(int64_t y, int m) {
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[m - 1];
}

/* Read exactly n digits at *s. */
static int clock_digits_n(const char **s, const char *end, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*s >= end || **s < '0' || **s > '9') return -1;
        v = v * 10 + (*(*s)++ - '0');
    }
    *out = v;
    return 0;
}

int mallapi_clock_parse_loose(const char *text, size_t len, int offset_min, int64_t *out, char *err) {
    const char *s = text, *end = text + len;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (clock_digits_n(&s, end, 4, &y) || s >= end || *s++ != '-' || clock_digits_n(&s, end, 2, &mo) ||
        s >= end || *s++ != '-' || clock_digits_n(&s, end, 2, &d))
        goto bad;
    if (s < end) {
        if (*s != ' ' && *s != 'T') goto bad;
        s++;
        if (clock_digits_n(&s, end, 2, &h) || s >= end || *s++ != ':' || clock_digits_n(&s, end, 2, &mi)) goto bad;
        if (s < end) {
            if (*s++ != ':' || clock_digits_n(&s, end, 2, &sec)) goto bad;
            if (s < end) {
                if (*s++ != '.') goto bad;
                int nf = 0, scale = 100;
                while (s < end && *s >= '0' && *s <= '9') {
                    if (nf < 3) ms += (*s - '0') * scale;
                    scale /= 10; nf++; s++;
                }
                if (nf == 0 || s != end) goto bad;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > clock_month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
        { snprintf(err, MALLAPI_ERRLEN, "datetime_to_ms: '%.*s' is out of range", CLOCK_SHOWN(len), text); return -1; }
    int64_t days = mallapi_clock_days_from_civil(y, mo, d);
    *out = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)offset_min * 60) * 1000 + ms;
    return 0;
bad:
    snprintf(err, MALLAPI_ERRLEN, "datetime_to_ms: '%.*s' is not yyyy-MM-dd HH:mm:ss", CLOCK_SHOWN(len), text);
    return -1;
}
