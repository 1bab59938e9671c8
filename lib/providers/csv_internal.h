/*
 * csv_internal.h: what the CSV parser (csv_parse.c, csv_header.c) and the CSV
 * provider (csv.c) share inside lib/providers, and nothing else includes:
 * column roles and the header layout and the symbol -> series index.  Fields
 * and numbers are read by csv_core.h, which the Alpha Vantage parsers share.
 */
#ifndef QUANT_CSV_INTERNAL_H
#define QUANT_CSV_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "providers/csv_provider_internal.h"

#include "csv_core.h"

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
