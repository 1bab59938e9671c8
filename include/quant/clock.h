/*
 * clock.h: the clocks and the UTC formats every part of quant uses, written
 * once.  Durations come from the monotonic clock (a wall clock moved by NTP
 * or faketime must not make a step take negative time); timestamps people
 * read are UTC, never local time.
 */
#ifndef QUANT_CLOCK_H
#define QUANT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock (for durations only). */
double quant_clock_mono(void);

/* CPU seconds used by the calling thread. */
double quant_clock_thread_cpu(void);

/* Microseconds since the Unix epoch on the wall clock. */
int64_t quant_clock_unix_micros(void);

/* Sleep ms milliseconds, resuming after signals; nothing when ms <= 0. */
void quant_clock_sleep_ms(double ms);

enum quant_utc_style {
    QUANT_UTC_ISO,     /* 2026-12-05T14:03:09Z (JSON, the stores) */
    QUANT_UTC_HUMAN,   /* 2026-12-05 14:03:09Z (tables people read) */
    QUANT_UTC_STAMP,   /* 20261205_140309 (in identifiers: sorts by time) */
    QUANT_UTC_TIME,    /* 14:03:09 */
};

/* Format unix_seconds in UTC into out (at least 24 bytes); returns out, ""
 * when the time cannot be represented. */
char *quant_utc_format(int64_t unix_seconds, enum quant_utc_style style, char *out, size_t n);

#endif
