/*
 * csv_internal.h: what the CSV parser (csv_parse.c, csv_header.c) and the CSV
 * provider (csv.c) share inside lib/providers, and nothing else includes:
 * column roles and the header layout, the number scanner, and the
 * symbol -> series index.  The number scanner is here as static inline
 * functions because it runs for every field of every row: a call per field
 * would cost ~10% of a bulk ingest.
 */
#ifndef QUANT_CSV_INTERNAL_H
#define QUANT_CSV_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quant/csv_provider.h"

#define CSV_MAX_COLUMNS 256

/* ---- column roles ----------------------------------------------------------
 * The numeric roles come first so a row's values can live in one array.  */
enum role {
    R_OPEN, R_HIGH, R_LOW, R_CLOSE, R_VOLUME, R_ADJ, R_DIV, R_SPLIT, /* numeric */
    R_DATE, R_SYMBOL, R_INDEX, R_PERIOD, R_IGNORE,
};
#define N_NUMERIC 8
#define N_REQUIRED 5 /* open..volume must be present in every row */

extern const char *const csv_role_names[]; /* indexed by enum role */

struct layout {
    enum role role[CSV_MAX_COLUMNS];
    char name[CSV_MAX_COLUMNS][24];   /* the header's own spelling, for messages */
    int ncols;
    int has[R_IGNORE + 1];            /* column count per role */
    int date_is_timestamp;            /* "timestamp"/"time": Alpha Vantage */
    enum quant_csv_format format;
};


/* What a recognised header looks like, for messages. */
extern const char csv_expected_headers[];

/* Read the header line [s, e) into lo; QUANT_EPARSE naming what is wrong. */
enum quant_code csv_parse_header(const char *s, const char *e, struct layout *lo,
                                 struct quant_err *err);

/* ---- numbers ------------------------------------------------------------ */

static const double k_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* ---- SWAR digits: eight characters at a time -------------------------- */

#define ONES 0x0101010101010101ULL

/* How many of the 8 bytes at p (little-endian load) are leading ASCII digits. */
static inline int leading_digits8(uint64_t x)
{
    /* A byte is a digit when its high nibble is 3 and adding 6 keeps it 3.  A
     * carry out of a non-digit byte can only spoil bytes after it, which are
     * not counted. */
    uint64_t bad = ((x & (0xF0 * ONES)) ^ (0x30 * ONES)) |
                   (((x + 0x06 * ONES) & (0xF0 * ONES)) ^ (0x30 * ONES));
    return bad ? __builtin_ctzll(bad) / 8 : 8;
}

/* Value of the first n (1..8) digit bytes of x. */
static inline uint64_t digits8_value(uint64_t x, int n)
{
    uint64_t v = (x - 0x30 * ONES) << (8 * (8 - n)); /* shifted-in zeros act as leading zeros */
    v = v * 10 + (v >> 8);
    v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    return v;
}

static const uint64_t k_ipow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

/* Append the digit run at *pp to *m; returns how many digits, or -1 past
 * budget.  Forced inline: it runs twice per number and the call cost ~10%. */
static inline __attribute__((always_inline)) int digit_run(const char **pp, const char *end,
                                                           uint64_t *m, int budget)
{
    const char *p = *pp;
    int count = 0;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        int n = leading_digits8(x);
        if (n == 0)
            break;
        if ((count += n) > budget)
            return -1;
        *m = *m * k_ipow10[n] + digits8_value(x, n);
        p += n;
        if (n < 8)
            break;
    }
    if (end - p < 8) { /* the last few bytes of the buffer */
        while (p < end && is_digit(*p)) {
            if (++count > budget)
                return -1;
            *m = *m * 10 + (uint64_t)(*p++ - '0');
        }
    }
    *pp = p;
    return count;
}

/*
 * The fast path: [+-]digits[.digits] whose digits, as an integer m, fit in
 * 53 bits, with at most 22 fraction digits.  Then m and 10^frac are both exact
 * doubles and one IEEE division rounds the true quotient correctly, which is
 * exactly what strtod returns.  Returns the end of the number, or NULL when
 * the text is not in that shape (the caller then takes the slow path).
 */
static inline const char *fast_number(const char *p, const char *end, double *out)
{
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int int_digits = digit_run(&p, end, &m, 19); /* 19 digits cannot overflow */
    if (int_digits < 0)
        return NULL;
    int frac = 0;
    if (p < end && *p == '.') {
        p++;
        frac = digit_run(&p, end, &m, 19 - int_digits);
        if (frac < 0)
            return NULL;
    }
    if (int_digits == 0 && frac == 0)
        return NULL;
    if (frac > 22 || m > (1ULL << 53))
        return NULL;
    double v = (double)m;
    if (frac)
        v /= k_pow10[frac];
    *out = neg ? -v : v;
    return p;
}

static inline void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
    if (*e - *s >= 2 && **s == '"' && (*e)[-1] == '"') {
        (*s)++;
        (*e)--;
    }
}

/* ---- symbol table: symbol -> series index (open addressing) ------------- */

struct symtab {
    struct { char sym[QUANT_SYMBOL_MAX + 1]; size_t idx; int used; } *slot;
    size_t cap, n;
};

void csv_symtab_release(struct symtab *t);
/* sym's index, or SIZE_MAX when absent. */
size_t csv_symtab_get(const struct symtab *t, const char *sym);
/* Add sym (not present yet) with idx; QUANT_ENOMEM only. */
enum quant_code csv_symtab_put(struct symtab *t, const char *sym, size_t idx);

/* Sorted by date: of equal dates keep only the later row. */
void csv_dedupe_keep_last(struct quant_bars *b);

/* s[0..n) ends with suf, ignoring case. */
int csv_has_suffix_ci(const char *s, size_t n, const char *suf);

/* Sources round differently (6 vs 4 decimals), so only a real difference
 * counts, not the last printed digit. */
static inline int csv_prices_differ(double a, double b)
{
    return fabs(a - b) > 1e-4 * fmax(fabs(a), fabs(b));
}

#endif
