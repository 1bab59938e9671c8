/*
 * fuzz_bars.h: invariants every parsed bar series must keep, shared by the
 * Alpha Vantage and CSV harnesses.  A provider hands its series straight to
 * validation and then to the store, so what is checked here is what those
 * steps rely on: real calendar dates in order, finite numbers, a symbol that
 * is already normalised, and validation leaving only storable bars.
 */
#ifndef QUANT_FUZZ_BARS_H
#define QUANT_FUZZ_BARS_H

#include <math.h>
#include <string.h>

#include "quant/bars.h"
#include "quant/validate.h"

#include "fuzz_check.h"

/* "" or a symbol quant_symbol_normalize leaves unchanged. */
static inline void fuzz_check_symbol(const char *sym, size_t cap)
{
    FUZZ_CHECK(strnlen(sym, cap) < cap);
    if (!sym[0])
        return;
    char copy[QUANT_SYMBOL_MAX + 1];
    FUZZ_CHECK(strlen(sym) <= QUANT_SYMBOL_MAX);
    memcpy(copy, sym, strlen(sym) + 1);
    struct quant_err e;
    FUZZ_CHECK(quant_symbol_normalize(copy, &e) == QUANT_OK);
    FUZZ_CHECK(strcmp(copy, sym) == 0);
}

/* An optional value is either unknown (NAN) or a real number. */
static inline int fuzz_nan_or_finite(double v)
{
    return isnan(v) || isfinite(v);
}

/*
 * A series as a parser returns it: ascending dates (strictly when the parser
 * promises no duplicates), each a date that formats and parses back to itself,
 * required values finite.
 */
static inline void fuzz_check_series(const struct quant_bars *b, int strictly)
{
    fuzz_check_symbol(b->symbol, sizeof b->symbol);
    FUZZ_CHECK(b->n <= b->cap);
    for (size_t i = 0; i < b->n; i++) {
        const struct quant_bar *x = &b->v[i];
        char text[11];
        int32_t back;
        quant_date_format(x->date, text);
        FUZZ_CHECK(quant_date_parse(text, 10, &back) == 0 && back == x->date);
        if (i > 0)
            FUZZ_CHECK(strictly ? b->v[i - 1].date < x->date : b->v[i - 1].date <= x->date);
        FUZZ_CHECK(isfinite(x->open) && isfinite(x->high) && isfinite(x->low) &&
                   isfinite(x->close) && isfinite(x->volume));
        FUZZ_CHECK(fuzz_nan_or_finite(x->adj_close) && fuzz_nan_or_finite(x->dividend) &&
                   fuzz_nan_or_finite(x->split));
    }
}

/* Run validation on b (modified in place) and check that only storable bars remain. */
static inline void fuzz_validate_series(struct quant_bars *b)
{
    size_t before = b->n;
    struct quant_validation report;
    quant_validation_init(&report);
    size_t dropped = quant_validate_bars(b, &report);
    FUZZ_CHECK(dropped + b->n == before && report.n_bad == dropped);
    FUZZ_CHECK(report.n_kept <= QUANT_VALIDATION_KEEP && report.n_kept <= dropped);
    for (size_t i = 0; i < b->n; i++) {
        const struct quant_bar *x = &b->v[i];
        if (i > 0)
            FUZZ_CHECK(b->v[i - 1].date < x->date);
        FUZZ_CHECK(x->open > 0 && x->high > 0 && x->low > 0 && x->close > 0 && x->volume >= 0);
        FUZZ_CHECK(isnan(x->adj_close) || x->adj_close > 0);
        /* validate.c allows a 1e-9 relative slack for back-adjusted sources */
        double top = fmax(x->open, x->close), bottom = fmin(x->open, x->close);
        FUZZ_CHECK(x->high >= top * (1 - 1e-9) && x->low <= bottom * (1 + 1e-9));
    }
    for (size_t i = 0; i < report.n_kept; i++)
        FUZZ_CHECK(report.items[i].reason[0] != '\0');
    quant_validation_release(&report);
}

#endif
