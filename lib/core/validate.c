/* validate.c: the storing rules and the repair policy for bars (see validate.h); pure, no I/O. */
#include "quant/validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

void quant_validation_init(struct quant_validation *v)
{
    memset(v, 0, sizeof *v);
}

void quant_validation_release(struct quant_validation *v)
{
    free(v->items);
    memset(v, 0, sizeof *v);
}

static int price_ok(double p)
{
    return isfinite(p) && p > 0;
}

/* A price field a source left empty: Yahoo writes 0.000000, others nothing. */
static int price_missing(double p)
{
    return isnan(p) || p == 0;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/*
 * The repair policy of validate.h, applied before the rules.  guess is the
 * previous close (the close itself without an adjacent previous bar).  An
 * empty open with an empty high or low becomes guess, kept within the bound
 * that is known, and the empty high/low are rebuilt as max/min(open, close);
 * otherwise an open that is empty or outside [low, high] becomes guess
 * clamped into [low, high].  A bar whose close is not a real price, or whose
 * high/low contradict the close, is left as it is for check_bar to reject:
 * then we cannot tell which field is wrong.
 */
static void repair(struct quant_bar *b, double prev_close)
{
    if (!price_ok(b->close))
        return;
    double guess = isnan(prev_close) ? b->close : prev_close;
    int high_known = price_ok(b->high), low_known = price_ok(b->low);
    if (price_missing(b->open) && (!high_known || !low_known)) {
        b->open = clamp(guess, low_known ? b->low : 0, high_known ? b->high : INFINITY);
        b->quality |= QUANT_Q_OPEN_FIXED;
    }
    if (price_missing(b->high) && price_ok(b->open)) {
        b->high = b->open > b->close ? b->open : b->close;
        b->quality |= QUANT_Q_HIGH_FIXED;
    }
    if (price_missing(b->low) && price_ok(b->open)) {
        b->low = b->open < b->close ? b->open : b->close;
        b->quality |= QUANT_Q_LOW_FIXED;
    }
    if (!price_ok(b->high) || !price_ok(b->low) || b->low > b->close || b->high < b->close)
        return;
    if (price_ok(b->open) && b->open >= b->low && b->open <= b->high)
        return;
    b->open = clamp(guess, b->low, b->high);
    b->quality |= QUANT_Q_OPEN_FIXED;
}

/* Writes the first broken rule into reason; returns 0 when the bar is sound. */
static int check_bar(const struct quant_bar *b, char *reason, size_t n)
{
    /* The close first: without it a bar cannot be repaired, so it is the reason. */
    if (!price_ok(b->close)) { snprintf(reason, n, "close %g is not a positive price", b->close); return 1; }
    if (!price_ok(b->open)) { snprintf(reason, n, "open %g is not a positive price", b->open); return 1; }
    if (!price_ok(b->high)) { snprintf(reason, n, "high %g is not a positive price", b->high); return 1; }
    if (!price_ok(b->low)) { snprintf(reason, n, "low %g is not a positive price", b->low); return 1; }
    if (!isnan(b->adj_close) && !price_ok(b->adj_close)) {
        snprintf(reason, n, "adjusted close %g is not a positive price", b->adj_close);
        return 1;
    }
    if (!isfinite(b->volume) || b->volume < 0) {
        snprintf(reason, n, "volume %g is negative or not a number", b->volume);
        return 1;
    }
    /* Back-adjusted sources (yfinance's auto_adjust) multiply every price by a
     * factor, so a high equal to the close can come out 1 ulp below it: allow a
     * relative slack far below any real price tick. */
    const double slack = 1e-9;
    double top = b->open > b->close ? b->open : b->close;
    double bottom = b->open < b->close ? b->open : b->close;
    if (b->high < top * (1 - slack)) {
        snprintf(reason, n, "high %.10g is below max(open %.10g, close %.10g)", b->high,
                 b->open, b->close);
        return 1;
    }
    if (b->low > bottom * (1 + slack)) {
        snprintf(reason, n, "low %.10g is above min(open %.10g, close %.10g)", b->low,
                 b->open, b->close);
        return 1;
    }
    return 0;
}

static void record(struct quant_validation *report, int32_t date, const char *reason)
{
    report->n_bad++;
    if (report->n_kept >= QUANT_VALIDATION_KEEP)
        return;
    if (!report->items) {
        report->items = calloc(QUANT_VALIDATION_KEEP, sizeof *report->items);
        if (!report->items)
            return; /* the count above still tells the user something was dropped */
    }
    struct quant_bad_bar *it = &report->items[report->n_kept++];
    it->date = date;
    snprintf(it->reason, sizeof it->reason, "%s", reason);
}

size_t quant_validate_bars(struct quant_bars *bars, struct quant_validation *report)
{
    size_t out = 0, dropped = 0;
    int gap = 0;                /* a bar was dropped since the last kept one */
    double prev_close = NAN;    /* close of the previous source bar, when kept */
    char reason[96];
    for (size_t i = 0; i < bars->n; i++) {
        struct quant_bar b = bars->v[i];
        b.quality = 0;
        if (out > 0 && bars->v[out - 1].date == b.date) {
            /* not a hole: the date has its bar */
            dropped++;
            if (report)
                record(report, b.date, "duplicate date (the first bar for it is kept)");
            continue;
        }
        repair(&b, prev_close);
        if (check_bar(&b, reason, sizeof reason)) {
            dropped++;
            gap = 1;
            prev_close = NAN;
            if (report)
                record(report, b.date, reason);
            continue;
        }
        if (gap)
            b.quality |= QUANT_Q_GAP_BEFORE;
        gap = 0;
        prev_close = b.close;
        if (report && (b.quality & QUANT_Q_REPAIRED) && report->n_repaired++ == 0)
            report->first_repaired = b.date;
        if (report && (b.quality & QUANT_Q_GAP_BEFORE))
            report->n_gaps++;
        bars->v[out++] = b;
    }
    bars->n = out;
    return dropped;
}
