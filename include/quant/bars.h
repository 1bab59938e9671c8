/*
 * bars.h: the in-memory daily bar series every provider produces and every
 * store consumes, plus UTC calendar-date helpers.
 *
 * Dates are days since 1970-01-01 (UTC), the same representation as DuckDB's
 * DATE, so a series goes to the store without conversion.  Text dates are always
 * YYYY-MM-DD; local time is never used.
 *
 * Ownership: a struct quant_bars owns its `v` array.  quant_bars_init() makes an
 * empty series, quant_bars_release() frees the array (the struct itself is the
 * caller's).  quant_bars_push() grows the array as needed.
 */
#ifndef QUANT_BARS_H
#define QUANT_BARS_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"

#define QUANT_SYMBOL_MAX 32   /* longest accepted symbol, in bytes */

struct quant_bar {
    int32_t date;        /* days since 1970-01-01 */
    double open;
    double high;
    double low;
    double close;
    double adj_close;    /* NAN when the source has no adjusted close */
    double volume;       /* shares; fractional input (pandas "4006500.0") accepted */
    double dividend;     /* cash dividend on this date; NAN when unknown */
    double split;        /* split coefficient (2.0 for 2:1); NAN when unknown */
    uint8_t quality;     /* QUANT_Q_* bits: what quant repaired or inferred; 0 = as published */
};

/*
 * Bar quality bits (ohlcv.quality).  Set by validation (validate.h) and by the
 * adjustment step (adjust.h); providers need not set them (validation
 * overwrites whatever is there).
 *
 *   bit  name                 meaning
 *   1    QUANT_Q_OPEN_FIXED   open was 0, missing or outside [low, high]; it is
 *                             the previous close clamped into [low, high]
 *   2    QUANT_Q_HIGH_FIXED   high was 0 or missing; it is max(open, close)
 *   4    QUANT_Q_LOW_FIXED    low was 0 or missing; it is min(open, close)
 *   8    QUANT_Q_GAP_BEFORE   the source had bars right before this one that could
 *                             not be stored: no return or window spans the gap
 *   16   QUANT_Q_ADJ_CARRIED  adj_close was not published; quant carried the
 *                             previous bar's adjustment factor (and any event)
 *   32   QUANT_Q_JUMP_BEFORE  the overnight move into this bar looks like a split
 *                             no source explained: no return or window spans it
 */
#define QUANT_Q_OPEN_FIXED  0x01
#define QUANT_Q_HIGH_FIXED  0x02
#define QUANT_Q_LOW_FIXED   0x04
#define QUANT_Q_REPAIRED    (QUANT_Q_OPEN_FIXED | QUANT_Q_HIGH_FIXED | QUANT_Q_LOW_FIXED)
#define QUANT_Q_GAP_BEFORE  0x08
#define QUANT_Q_ADJ_CARRIED 0x10
#define QUANT_Q_JUMP_BEFORE 0x20
/* A derived value (feature, label, return) never spans a bar with one of these. */
#define QUANT_Q_BREAK       (QUANT_Q_GAP_BEFORE | QUANT_Q_JUMP_BEFORE)

struct quant_bars {
    char symbol[QUANT_SYMBOL_MAX + 1]; /* upper-case; "" when the source had none */
    struct quant_bar *v;               /* owned; n valid entries, cap allocated */
    size_t n;
    size_t cap;
};

void quant_bars_init(struct quant_bars *bars);
void quant_bars_release(struct quant_bars *bars);
/* Append one bar.  QUANT_ENOMEM on allocation failure (bars unchanged). */
enum quant_code quant_bars_push(struct quant_bars *bars, const struct quant_bar *bar);
/* Make room for at least `cap` bars. */
enum quant_code quant_bars_reserve(struct quant_bars *bars, size_t cap);
/* Sort ascending by date (stable for equal dates, so duplicates keep source order). */
void quant_bars_sort(struct quant_bars *bars);

/*
 * Parse exactly "YYYY-MM-DD" from s[0..len) (a longer string whose 11th char is
 * ' ' or 'T', such as "2024-01-02 16:00:00", is accepted and the time ignored).
 * Checks month/day ranges, including leap years.  Returns 0 and sets *out_days,
 * or -1 when the text is not a valid date.
 */
int quant_date_parse(const char *s, size_t len, int32_t *out_days);

/* Write "YYYY-MM-DD" and a NUL into out (at least 11 bytes). */
void quant_date_format(int32_t days, char out[11]);

/* Days since epoch for a civil date (proleptic Gregorian). */
int32_t quant_days_from_civil(int y, unsigned m, unsigned d);
/* Inverse of quant_days_from_civil. */
void quant_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d);
/* 0 = Monday .. 6 = Sunday. */
int quant_weekday(int32_t days);
/* Today's UTC date. */
int32_t quant_today_utc(void);

/*
 * Validate and normalise a symbol in place: upper-case it and check it matches
 * [A-Z0-9.^=-]{1,32}.  Returns QUANT_OK or QUANT_EINVAL with a message naming
 * the symbol and the rule.
 */
enum quant_code quant_symbol_normalize(char *sym, struct quant_err *err);

/*
 * quant_symbol_normalize over a list a user gave: *out gets the normalised
 * names in the order given, a name asked twice once (*out_n of them); the
 * first bad name fails the whole list with its message.  *out is malloc'd,
 * as is each name: free with quant_strings_free.
 */
enum quant_code quant_symbols_normalize_all(const char *const *in, size_t n, char ***out,
                                            size_t *out_n, struct quant_err *err);

/* Free n malloc'd strings and the malloc'd array holding them (NULL is fine). */
void quant_strings_free(char **v, size_t n);

/* The index of s in v[0..n) sorted ascending by strcmp, or -1 (binary search). */
long quant_strings_find(char *const *v, size_t n, const char *s);

#endif
