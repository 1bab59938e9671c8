/*
 * panel.c: the checks and lookups the evaluation kernels share on their
 * inputs: the prediction panel's order, its date groups and calendar, and
 * the price series a backtest reads its returns from.  Every rule the spec
 * states in terms of "ties by symbol" or "the last close at or before t"
 * relies on these inputs being sorted, so they are checked once here, with
 * a message naming the first offending row.
 */
#include <stdio.h>
#include <stdlib.h>

#include "eval/eval_internal.h"
#include "quant/bars.h"

#include "core/banned.h"

enum quant_code quant_eval_panel_check_(const struct quant_eval_panel *p,
                                        struct quant_err *err)
{
    if (!p)
        return quant_err_set(err, QUANT_EINVAL, "evaluation: no prediction panel given");
    if (p->n_rows && (!p->date || !p->symbol || !p->score || !p->fwd_ret))
        return quant_err_set(err, QUANT_EINVAL, "evaluation: the prediction panel has %zu "
                             "rows but a missing date, symbol, score or fwd_ret array",
                             p->n_rows);
    for (size_t i = 0; i < p->n_rows; i++) {
        if (p->symbol[i] >= p->n_symbols)
            return quant_err_set(err, QUANT_EINVAL, "evaluation: panel row %zu has symbol "
                                 "id %u, but there are only %zu symbols", i, p->symbol[i],
                                 p->n_symbols);
        if (i == 0)
            continue;
        int later = p->date[i] > p->date[i - 1] ||
                    (p->date[i] == p->date[i - 1] && p->symbol[i] > p->symbol[i - 1]);
        if (!later) {
            char d[11];
            quant_date_format(p->date[i], d);
            return quant_err_set(err, QUANT_EINVAL, "evaluation: panel row %zu (%s, symbol "
                                 "id %u) is out of order: rows must be sorted by date, then "
                                 "symbol id, one row per (date, symbol)", i, d, p->symbol[i]);
        }
    }
    return QUANT_OK;
}

enum quant_code quant_eval_groups_build_(const struct quant_eval_panel *p,
                                         struct quant_eval_groups_ *out,
                                         struct quant_err *err)
{
    *out = (struct quant_eval_groups_){0};
    size_t n = 0;
    for (size_t i = 0; i < p->n_rows; i++)
        n += i == 0 || p->date[i] != p->date[i - 1];
    out->date = malloc((n ? n : 1) * sizeof *out->date);
    out->off = malloc((n + 1) * sizeof *out->off);
    if (!out->date || !out->off) {
        quant_eval_groups_release_(out);
        return quant_err_set(err, QUANT_ENOMEM, "evaluation: out of memory for %zu dates", n);
    }
    size_t g = 0;
    for (size_t i = 0; i < p->n_rows; i++) {
        if (i == 0 || p->date[i] != p->date[i - 1]) {
            out->date[g] = p->date[i];
            out->off[g++] = i;
        }
    }
    out->off[n] = p->n_rows;
    out->n = n;
    for (g = 0; g < n; g++)
        if (out->off[g + 1] - out->off[g] > out->max_rows)
            out->max_rows = out->off[g + 1] - out->off[g];
    return QUANT_OK;
}

void quant_eval_groups_release_(struct quant_eval_groups_ *g)
{
    free(g->date);
    free(g->off);
    *g = (struct quant_eval_groups_){0};
}

size_t quant_eval_calendar_(const struct quant_eval_panel *p,
                            const struct quant_eval_groups_ *g, size_t *out_idx)
{
    size_t n = 0;
    for (size_t k = 0; k < g->n; k++) {
        for (size_t i = g->off[k]; i < g->off[k + 1]; i++) {
            if (QUANT_EVAL_HAS(p->score[i])) {
                out_idx[n++] = k;
                break;
            }
        }
    }
    return n;
}

enum quant_code quant_eval_prices_check_(const struct quant_eval_prices *s, const char *what,
                                         struct quant_err *err)
{
    if (s->n && (!s->date || !s->close))
        return quant_err_set(err, QUANT_EINVAL, "backtest: prices of %s: %zu closes but no "
                             "date or close array", what, s->n);
    for (size_t i = 0; i < s->n; i++) {
        int bad_close = !(isfinite(s->close[i]) && s->close[i] > 0);
        int bad_order = i && s->date[i] <= s->date[i - 1];
        if (!bad_close && !bad_order)
            continue;
        char d[11];
        quant_date_format(s->date[i], d);
        if (bad_close)
            return quant_err_set(err, QUANT_EINVAL, "backtest: prices of %s: the adjusted "
                                 "close on %s is %g; every close must be finite and > 0",
                                 what, d, s->close[i]);
        return quant_err_set(err, QUANT_EINVAL, "backtest: prices of %s are not strictly "
                             "ascending by date at %s", what, d);
    }
    return QUANT_OK;
}

enum quant_code quant_eval_bt_inputs_check_(const struct quant_eval_panel *panel,
                                            const struct quant_eval_prices *prices,
                                            const struct quant_eval_bt_params *p,
                                            struct quant_err *err)
{
    enum quant_code rc = quant_eval_panel_check_(panel, err);
    if (rc != QUANT_OK)
        return rc;
    if (!p)
        return quant_err_set(err, QUANT_EINVAL, "backtest: no parameters given");
    if (!(isfinite(p->buy_cost) && p->buy_cost >= 0 && isfinite(p->sell_cost) &&
          p->sell_cost >= 0))
        return quant_err_set(err, QUANT_EINVAL, "backtest: costs must be finite and >= 0 "
                             "(buy %g, sell %g)", p->buy_cost, p->sell_cost);
    if (panel->n_symbols && !prices)
        return quant_err_set(err, QUANT_EINVAL, "backtest: no prices given for the %zu "
                             "symbols", panel->n_symbols);
    for (size_t i = 0; i < panel->n_symbols; i++) {
        char what[32];
        snprintf(what, sizeof what, "symbol id %zu", i);
        if ((rc = quant_eval_prices_check_(&prices[i], what, err)) != QUANT_OK)
            return rc;
    }
    if (p->benchmark)
        return quant_eval_prices_check_(p->benchmark, "the benchmark", err);
    return QUANT_OK;
}

/* Index of the last close at or before t, or -1 when there is none. */
static ptrdiff_t last_at_or_before(const struct quant_eval_prices *s, int32_t t)
{
    size_t lo = 0, hi = s->n;   /* the answer + 1 lies in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->date[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

double quant_eval_step_return_(const struct quant_eval_prices *s, int32_t t1, int32_t t2)
{
    ptrdiff_t a = last_at_or_before(s, t1);
    if (a < 0)
        return 0.0;
    ptrdiff_t b = last_at_or_before(s, t2);
    /* No bar in (t1, t2]: the same close twice, exactly 0 */
    return s->close[b] / s->close[a] - 1.0;
}
