/*
 * single.c: the single-symbol mode of EVALUATION.md ("Single symbols"): with
 * fewer than 5 symbols there is no cross-section to correlate, so each
 * symbol is judged over time: time-series IC and RankIC, the hit rate of the
 * 0.5 threshold, and a long-or-flat backtest against holding the symbol.
 * The calendar and steps are the top-k backtest's (the panel's scored
 * dates), so the two modes' daily series line up.
 */
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h"

#include "core/banned.h"

/* The panel's rows regrouped by symbol: rows of id s are idx[off[s] .. off[s+1]), by date. */
struct by_symbol {
    size_t *off, *idx;
};

static int by_symbol_build(const struct quant_eval_panel *p, struct by_symbol *b)
{
    b->off = calloc(p->n_symbols + 1, sizeof *b->off);
    b->idx = malloc((p->n_rows ? p->n_rows : 1) * sizeof *b->idx);
    if (!b->off || !b->idx)
        return 0;
    for (size_t i = 0; i < p->n_rows; i++)
        b->off[p->symbol[i] + 1]++;
    for (size_t s = 0; s < p->n_symbols; s++)
        b->off[s + 1] += b->off[s];
    /* A counting sort: rows stay in panel (date) order within a symbol. */
    size_t *fill = b->off;
    for (size_t i = 0; i < p->n_rows; i++)
        b->idx[fill[p->symbol[i]]++] = i;
    for (size_t s = p->n_symbols; s > 0; s--)
        b->off[s] = b->off[s - 1];
    b->off[0] = 0;
    return 1;
}

/* Scratch for one symbol's dates, n_rows long at most. */
struct scratch {
    double *x, *y, *rx, *ry;
    struct quant_eval_keyed_ *keyed;
};

static int scratch_alloc(struct scratch *s, size_t n)
{
    n = n ? n : 1;
    *s = (struct scratch){malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                          malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                          malloc(n * sizeof(struct quant_eval_keyed_))};
    return s->x && s->y && s->rx && s->ry && s->keyed;
}

static void scratch_free(struct scratch *s)
{
    free(s->x);
    free(s->y);
    free(s->rx);
    free(s->ry);
    free(s->keyed);
}

/* ts_ic, ts_rank_ic and hit_rate over the symbol's rows rows[0..n). */
static void time_series(const struct quant_eval_panel *p, const size_t *rows, size_t n,
                        struct scratch *s, struct quant_eval_single *out)
{
    size_t k = 0, hits = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        if (!QUANT_EVAL_HAS(p->score[r]) || !QUANT_EVAL_HAS(p->fwd_ret[r]) ||
            !quant_eval_member_(p, r))
            continue;
        s->x[k] = p->score[r];
        s->y[k] = p->fwd_ret[r];
        hits += (s->x[k] > QUANT_EVAL_LONG_THRESHOLD) == (s->y[k] > 0);
        k++;
    }
    out->dates = k;
    out->hit_rate = k ? (double)hits / (double)k : NAN;
    out->ts_ic = quant_eval_pearson_(s->x, s->y, k);
    out->ts_rank_ic = k >= 2 ? quant_eval_rank_corr_(s->x, s->y, k, s->rx, s->ry, s->keyed)
                             : NAN;
}

/*
 * The long-or-flat steps of one symbol.  The drift rule of the top-k book
 * applies unchanged: a weight of 1 drifts to (1 + r) / (1 + r) = 1 and a
 * weight of 0 stays 0, so trades happen only on entering and leaving.
 */
static void long_or_flat(const struct quant_eval_panel *p, const size_t *rows, size_t n,
                         const struct quant_eval_prices *price, const struct quant_eval_bt_params *bp,
                         const struct quant_eval_groups_ *g, const size_t *cal, size_t n_cal,
                         struct quant_eval_bt_day *days)
{
    double prev_w = 0, prev_r = 0, prev_R = 0;
    size_t at = 0;   /* the symbol's first row not before t_j */
    for (size_t j = 0; j + 2 < n_cal; j++) {
        int32_t t0 = g->date[cal[j]], t1 = g->date[cal[j + 1]], t2 = g->date[cal[j + 2]];
        while (at < n && p->date[rows[at]] < t0)
            at++;
        int has = at < n && p->date[rows[at]] == t0;
        double w = has && quant_eval_member_(p, rows[at]) &&
                   QUANT_EVAL_HAS(p->score[rows[at]]) &&
                   p->score[rows[at]] > QUANT_EVAL_LONG_THRESHOLD ? 1.0 : 0.0;
        double drift = prev_w > 0 ? prev_w * (1.0 + prev_r) / (1.0 + prev_R) : 0.0;
        double buys = w > drift ? w - drift : 0, sells = drift > w ? drift - w : 0;
        double r = quant_eval_step_return_(price, t1, t2);
        struct quant_eval_bt_day *d = &days[j];
        d->signal_date = t0;
        d->date = t2;
        d->gross = w * r;
        d->cost = bp->buy_cost * buys + bp->sell_cost * sells;
        d->net = d->gross - d->cost;
        d->turnover = (buys + sells) / 2.0;
        d->benchmark = r;
        d->n_held = w > 0;
        prev_w = w;
        prev_r = r;
        prev_R = d->gross;
    }
}

void quant_eval_singles_release(struct quant_eval_singles *s)
{
    for (size_t i = 0; s->v && i < s->n; i++)
        free(s->v[i].days);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* The ids with at least one score, ascending; returns how many (ids in out). */
static size_t scored_symbols(const struct quant_eval_panel *p, const struct by_symbol *b,
                             uint32_t *out)
{
    size_t n = 0;
    for (size_t s = 0; s < p->n_symbols; s++)
        for (size_t i = b->off[s]; i < b->off[s + 1]; i++)
            if (QUANT_EVAL_HAS(p->score[b->idx[i]])) {
                out[n++] = (uint32_t)s;
                break;
            }
    return n;
}

static enum quant_code run_all(const struct quant_eval_panel *panel,
                               const struct quant_eval_prices *prices,
                               const struct quant_eval_bt_params *p,
                               const struct quant_eval_groups_ *g, const size_t *cal,
                               size_t n_cal, struct quant_eval_singles *out,
                               struct quant_err *err)
{
    struct by_symbol b = {0};
    struct scratch s = {0};
    uint32_t *ids = malloc((panel->n_symbols ? panel->n_symbols : 1) * sizeof *ids);
    int ok = by_symbol_build(panel, &b) && scratch_alloc(&s, panel->n_rows) && ids;
    size_t n_ids = ok ? scored_symbols(panel, &b, ids) : 0, steps = n_cal - 2;
    if (ok)
        ok = (out->v = calloc(n_ids ? n_ids : 1, sizeof *out->v)) != NULL;
    enum quant_code rc = QUANT_OK;
    for (size_t k = 0; ok && rc == QUANT_OK && k < n_ids; k++) {
        struct quant_eval_single *one = &out->v[k];
        const size_t *rows = b.idx + b.off[ids[k]];
        size_t n = b.off[ids[k] + 1] - b.off[ids[k]];
        one->symbol = ids[k];
        out->n = k + 1;
        time_series(panel, rows, n, &s, one);
        ok = (one->days = calloc(steps, sizeof *one->days)) != NULL;
        if (!ok)
            break;
        long_or_flat(panel, rows, n, &prices[ids[k]], p, g, cal, n_cal, one->days);
        rc = quant_eval_days_finish_(one->days, steps, &one->m, err);
    }
    free(b.off);
    free(b.idx);
    free(ids);
    scratch_free(&s);
    if (!ok)
        return quant_err_set(err, QUANT_ENOMEM, "single-symbol evaluation: out of memory for "
                             "%zu rows", panel->n_rows);
    return rc;
}

enum quant_code quant_eval_single_run(const struct quant_eval_panel *panel,
                                      const struct quant_eval_prices *prices,
                                      const struct quant_eval_bt_params *p,
                                      struct quant_eval_singles *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    enum quant_code rc = quant_eval_bt_inputs_check_(panel, prices, p, err);
    struct quant_eval_groups_ g = {0};
    if (rc == QUANT_OK)
        rc = quant_eval_groups_build_(panel, &g, err);
    if (rc != QUANT_OK)
        return rc;
    size_t *cal = malloc((g.n ? g.n : 1) * sizeof *cal);
    if (!cal) {
        quant_eval_groups_release_(&g);
        return quant_err_set(err, QUANT_ENOMEM, "single-symbol evaluation: out of memory "
                             "for %zu dates", g.n);
    }
    size_t n_cal = quant_eval_calendar_(panel, &g, cal);
    if (n_cal < 3)
        rc = quant_err_set(err, QUANT_EINVAL, "single-symbol evaluation: the predictions "
                           "cover %zu dates; a backtest needs at least 3 (scores of one date "
                           "trade at the next close and are held to the one after)", n_cal);
    else
        rc = run_all(panel, prices, p, &g, cal, n_cal, out, err);
    free(cal);
    quant_eval_groups_release_(&g);
    if (rc != QUANT_OK)
        quant_eval_singles_release(out);
    return rc;
}
