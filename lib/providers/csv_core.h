/*
 * csv_core.h: the one reader of CSV text and numbers inside lib/providers,
 * shared by the CSV provider's parser (csv_parse.c, csv_header.c) and the
 * Alpha Vantage CSV parsers (alphavantage_parse.c), and by their tests and
 * fuzz harness; nothing outside providers includes it.  It knows fields,
 * quotes, lines and numbers, never what a column means.
 *
 * The rules, written once:
 *   field     runs to the next ',' (or line end); a field that starts with '"'
 *             runs to its closing quote first, so commas inside quotes belong
 *             to it, and "" inside quotes is an escaped quote.  A quote never
 *             spans a line end: one left open ends with its line, so a stray
 *             quote costs its own row, not every row after it (daily price
 *             files have no multi-line fields)
 *   line end  "\n" or "\r\n"
 *   number    [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits...; plain
 *             decimal characters only ("inf", "nan" and hex floats are not
 *             numbers); finite, not in strtod's ERANGE band (subnormal or
 *             overflowing), at most CSV_NUMBER_MAX - 1 characters.  The value
 *             accepted equals strtod's, bit for bit.
 *
 * The field scanner and the number fast path are static inline because they
 * run for every field of every row of a bulk ingest: a call per field cost
 * ~10% of one.
 */
#ifndef QUANT_CSV_CORE_H
#define QUANT_CSV_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CSV_NUMBER_MAX 64       /* longest number field + 1 (the slow path's buffer) */
#define CSV_RECORD_MAX_FIELDS 16 /* fields csv_record_split keeps (API answers have 9) */

/* ---- fields ----------------------------------------------------------------- */

/* p is just past an opening quote: where the closing quote is ("" inside is an
 * escaped quote, not the end), or the line end (or end) when the quote is not
 * closed on its line. */
static inline const char *csv_closing_quote(const char *p, const char *end)
{
    for (;;) {
        while (p < end && *p != '"' && *p != '\n')
            p++;
        if (p == end || *p == '\n' || end - p < 2 || p[1] != '"')
            return p;
        p += 2;
    }
}

/* End of the field starting at p: the next ',' '\n' '\r' outside quotes. */
static inline const char *csv_field_end(const char *p, const char *end)
{
    if (p < end && *p == '"') {
        p = csv_closing_quote(p + 1, end);
        if (p < end && *p == '"')
            p++;
    }
    while (p < end && *p != ',' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

static inline int csv_at_field_end(const char *p, const char *end)
{
    return p == end || *p == ',' || *p == '\n' || *p == '\r';
}

/* Narrow [*s, *e) past blanks (and a trailing CR), then one pair of quotes
 * around what is left.  What the CSV provider reads every field through. */
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

/* ---- records: one line split into fields (the small API answers) -------- */

struct csv_record {
    const char *f[CSV_RECORD_MAX_FIELDS];  /* field starts, pointing into the line */
    size_t len[CSV_RECORD_MAX_FIELDS];     /* field lengths */
    int n;            /* fields; -1 when the line has more than CSV_RECORD_MAX_FIELDS */
};

/*
 * Split one line p[0..len) (its '\n' excluded; a trailing '\r' is dropped) at
 * the commas outside quotes.  A quoted field is given without its quotes and
 * without anything between its closing quote and the next comma; an escaped
 * "" inside stays as written (enough for names).  Fields point into p.  An
 * empty line is one empty field.
 */
void csv_record_split(const char *p, size_t len, struct csv_record *out);

/* The first field of r equal to name ignoring case, or -1. */
int csv_record_column(const struct csv_record *r, const char *name);

/* Field i of r equals name ignoring case. */
int csv_record_field_is(const struct csv_record *r, int i, const char *name);

/* The next line of [*pos, end) into [*line, *line + *len) without its '\n',
 * advancing *pos past it; 0 when there is none left. */
int csv_next_line(const char **pos, const char *end, const char **line, size_t *len);

/* ---- numbers ------------------------------------------------------------------ */

/*
 * The number that is exactly s[0..n), nothing trimmed (the rules above):
 * 0 with *out set, or -1 when it is not one (empty included).
 */
int csv_number(const char *s, size_t n, double *out);

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
 * the text is not in that shape (the caller then takes csv_number's slow
 * path).  It may stop before end: the caller checks what follows.
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

#endif
