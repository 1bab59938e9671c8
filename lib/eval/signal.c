/*
 * signal.c: signal analysis (EVALUATION.md, "Signal analysis"): the daily
 * cross-sectional IC and RankIC of a prediction panel, their summaries, and
 * the quantile means.  It judges whatever panel it is given; choosing a
 * panel the model never trained or early-stopped on is the caller's job.
 *
 * One pass over the dates: each date's S_t is gathered into scratch arrays
 * sized for the largest date, so nothing is allocated per date.
 */
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h"
#include "quant/feature_sets.h"

#include "core/banned.h"

/* Scratch for one date's cross-section, each array max_rows long. */
struct scratch {
    double *score, *ret, *rx, *ry;
    struct quant_eval_keyed_ *keyed;
    double *ic, *rank_ic;          /* the counted dates' series, one per date */
};

static void scratch_free(struct scratch *s)
{
    free(s->score);
    free(s->ret);
    free(s->rx);
    free(s->ry);
    free(s->keyed);
    free(s->ic);
    free(s->rank_ic);
}

static int scratch_alloc(struct scratch *s, size_t rows, size_t dates)
{
    size_t r = rows ? rows : 1, d = dates ? dates : 1;
    *s = (struct scratch){
        .score = malloc(r * sizeof(double)), .ret = malloc(r * sizeof(double)),
        .rx = malloc(r * sizeof(double)), .ry = malloc(r * sizeof(double)),
        .keyed = malloc(r * sizeof(struct quant_eval_keyed_)),
        .ic = malloc(d * sizeof(double)), .rank_ic = malloc(d * sizeof(double)),
    };
    return s->score && s->ret && s->rx && s->ry && s->keyed && s->ic && s->rank_ic;
}

/* S_t of rows [begin, end) into s->score / s->ret (in symbol order); returns n_t. */
static size_t gather(const struct quant_eval_panel *p, size_t begin, size_t end,
                     struct scratch *s)
{
    size_t n = 0;
    for (size_t i = begin; i < end; i++) {
        if (!QUANT_EVAL_HAS(p->score[i]) || !QUANT_EVAL_HAS(p->fwd_ret[i]) ||
            !quant_eval_member_(p, i))
            continue;
        s->score[n] = p->score[i];
        s->ret[n] = p->fwd_ret[i];
        n++;
    }
    return n;
}

/*
 * Add one date's group means to q_sum.  S_t in symbol order, so sorting by
 * (score, position) is the spec's "score ascending, ties by symbol ascending".
 */
static void add_quantiles(struct scratch *s, size_t n, size_t q, double *q_sum)
{
    for (size_t i = 0; i < n; i++) {
        s->keyed[i].v = s->score[i];
        s->keyed[i].id = (uint32_t)i;
    }
    quant_eval_sort_keyed_(s->keyed, n);
    /* n >= q, so group g holds the positions i with floor(i q / n) = g - 1,
     * a contiguous and never empty run of the sorted order. */
    size_t i = 0;
    for (size_t g = 0; g < q; g++) {
        double sum = 0;
        size_t cnt = 0;
        for (; i < n && (i * q) / n == g; i++, cnt++)
            sum += s->ret[s->keyed[i].id];
        q_sum[g] += sum / (double)cnt;
    }
}

void quant_eval_signal_params_default(struct quant_eval_signal_params *p)
{
    *p = (struct quant_eval_signal_params){.horizon = QUANT_LABEL_HORIZON_DEFAULT,
                                           .quantiles = QUANT_EVAL_QUANTILES};
}

static enum quant_code check_params(const struct quant_eval_signal_params *p,
                                    struct quant_err *err)
{
    if (!p)
        return quant_err_set(err, QUANT_EINVAL, "signal analysis: no parameters given");
    if (p->horizon < QUANT_LABEL_HORIZON_MIN || p->horizon > QUANT_LABEL_HORIZON_MAX)
        return quant_err_set(err, QUANT_EINVAL, "signal analysis: horizon %d is out of range; "
                             "use %d..%d", p->horizon, QUANT_LABEL_HORIZON_MIN,
                             QUANT_LABEL_HORIZON_MAX);
    if (p->quantiles < 2 || p->quantiles > QUANT_EVAL_Q_MAX)
        return quant_err_set(err, QUANT_EINVAL, "signal analysis: %zu quantiles; use 2..%d "
                             "(the default is %d)", p->quantiles, QUANT_EVAL_Q_MAX,
                             QUANT_EVAL_QUANTILES);
    return QUANT_OK;
}

static void finish_quantiles(struct quant_eval_signal *out, const double *q_sum)
{
    for (size_t g = 0; g < out->quantiles; g++)
        out->q_mean[g] = out->q_dates ? q_sum[g] / (double)out->q_dates : NAN;
    for (size_t g = out->quantiles; g < QUANT_EVAL_Q_MAX; g++)
        out->q_mean[g] = NAN;
    out->q_spread = out->q_mean[out->quantiles - 1] - out->q_mean[0];
}

enum quant_code quant_eval_signal_compute(const struct quant_eval_panel *panel,
                                          const struct quant_eval_signal_params *p,
                                          struct quant_eval_signal *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    enum quant_code rc = check_params(p, err);
    if (rc == QUANT_OK)
        rc = quant_eval_panel_check_(panel, err);
    struct quant_eval_groups_ g = {0};
    if (rc == QUANT_OK)
        rc = quant_eval_groups_build_(panel, &g, err);
    if (rc != QUANT_OK)
        return rc;
    struct scratch s;
    out->days = malloc((g.n ? g.n : 1) * sizeof *out->days);
    if (!scratch_alloc(&s, g.max_rows, g.n) || !out->days) {
        scratch_free(&s);
        quant_eval_groups_release_(&g);
        quant_eval_signal_release(out);
        return quant_err_set(err, QUANT_ENOMEM, "signal analysis: out of memory for %zu "
                             "dates", g.n);
    }
    out->quantiles = p->quantiles;
    double q_sum[QUANT_EVAL_Q_MAX] = {0};
    size_t k = 0;
    for (size_t d = 0; d < g.n; d++) {
        size_t n = gather(panel, g.off[d], g.off[d + 1], &s);
        struct quant_eval_ic_day *day = &out->days[d];
        *day = (struct quant_eval_ic_day){.date = g.date[d], .n = n, .ic = NAN,
                                          .rank_ic = NAN};
        day->counted = n >= QUANT_EVAL_MIN_CROSS && !quant_eval_all_equal_(s.score, n) &&
                       !quant_eval_all_equal_(s.ret, n);
        if (day->counted) {
            day->ic = s.ic[k] = quant_eval_pearson_(s.score, s.ret, n);
            day->rank_ic = s.rank_ic[k] = quant_eval_rank_corr_(s.score, s.ret, n, s.rx,
                                                                s.ry, s.keyed);
            k++;
        }
        if (n >= p->quantiles) {
            add_quantiles(&s, n, p->quantiles, q_sum);
            out->q_dates++;
        }
    }
    out->n_days = g.n;
    size_t lags = (size_t)p->horizon - 1;
    quant_eval_ic_summarize(s.ic, k, lags, &out->ic);
    quant_eval_ic_summarize(s.rank_ic, k, lags, &out->rank_ic);
    finish_quantiles(out, q_sum);
    scratch_free(&s);
    quant_eval_groups_release_(&g);
    return QUANT_OK;
}

void quant_eval_signal_release(struct quant_eval_signal *s)
{
    free(s->days);
    s->days = NULL;
    s->n_days = 0;
}
