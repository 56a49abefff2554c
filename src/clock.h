/* clock.h: the one home of time in the C core: wall-clock and monotonic
 * milliseconds, sleeping, and the "yyyy-MM-dd HH:mm:ss" text that vendors
 * put in their requests, at an explicit UTC offset. Pure arithmetic on the
 * proleptic Gregorian calendar: no time zone database, no locale. */
#ifndef MALLAPI_CLOCK_H
#define MALLAPI_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define MALLAPI_CLOCK_MAX_OFFSET (18 * 60)  /* minutes, like java.time.ZoneOffset */

/* Milliseconds since 1970-01-01T00:00:00Z (CLOCK_REALTIME). */
int64_t mallapi_clock_now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC (for deadlines and leases). */
int64_t mallapi_clock_monotonic_ms(void);

/* Sleep this many milliseconds (<= 0: return at once), resuming after EINTR. */
void mallapi_clock_sleep_ms(int64_t ms);

/* Whole seconds of an instant in ms, rounded toward the past (floor, also
 * for negative ms, without negating: safe for INT64_MIN). */
int64_t mallapi_clock_floor_s(int64_t ms);

/* The proleptic Gregorian calendar: days since 1970-01-01 of a date, and back. */
int64_t mallapi_clock_days_from_civil(int64_t y, int m, int d);
void mallapi_clock_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Write the 19 characters "yyyy-MM-dd HH:mm:ss" of instant ms seen at UTC
 * offset offset_minutes into out (no NUL). Milliseconds are dropped (floor).
 * Returns 0, or -1 when the local time falls outside the years 0001-9999. */
int mallapi_clock_format(int64_t ms, int offset_minutes, char out[19]);

/* Parse "yyyy-MM-dd HH:mm:ss" seen at offset_minutes into *ms. Returns 0, or
 * -1 with err = "clock.parse: ..." naming the 1-based byte of the problem. */
int mallapi_clock_parse(const char *s, size_t len, int offset_minutes, int64_t *ms, char *err);

/* Parse the looser text that vendors answer with: "yyyy-MM-dd", optionally
 * followed by ' ' or 'T' and "HH:mm", ":ss" and ".fff" (more fraction digits
 * are dropped). Returns 0, or -1 with err = "datetime_to_ms: ..." (the text
 * shown, cut at 40 bytes). */
int mallapi_clock_parse_loose(const char *s, size_t len, int offset_minutes, int64_t *ms, char *err);

/* Parse a UTC offset written "Z", "+HH:MM", "-HH:MM", "+HHMM", "+HH" or "+H" into
 * minutes. Returns 0, or -1 when malformed or beyond +-18:00. */
int mallapi_clock_parse_offset(const char *s, size_t len, int *minutes);

#endif
