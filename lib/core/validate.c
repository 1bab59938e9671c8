/* validate.c: the storing rules for bars (see validate.h); pure, no I/O. */
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

/* Writes the first broken rule into reason; returns 0 when the bar is sound. */
static int check_bar(const struct quant_bar *b, char *reason, size_t n)
{
    if (!price_ok(b->open)) { snprintf(reason, n, "open %g is not a positive price", b->open); return 1; }
    if (!price_ok(b->high)) { snprintf(reason, n, "high %g is not a positive price", b->high); return 1; }
    if (!price_ok(b->low)) { snprintf(reason, n, "low %g is not a positive price", b->low); return 1; }
    if (!price_ok(b->close)) { snprintf(reason, n, "close %g is not a positive price", b->close); return 1; }
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
    char reason[96];
    for (size_t i = 0; i < bars->n; i++) {
        const struct quant_bar *b = &bars->v[i];
        int bad = check_bar(b, reason, sizeof reason);
        if (!bad && out > 0 && bars->v[out - 1].date == b->date) {
            snprintf(reason, sizeof reason, "duplicate date (the first bar for it is kept)");
            bad = 1;
        }
        if (bad) {
            dropped++;
            if (report)
                record(report, b->date, reason);
            continue;
        }
        bars->v[out++] = *b;
    }
    bars->n = out;
    return dropped;
}
