/*
 * stats.c: the arithmetic EVALUATION.md builds everything from: Pearson
 * correlation, average ranks, the summary of a daily IC series (with the
 * Newey-West t-stat) and the return metrics of a backtest.  Pure functions
 * on arrays; only quant_eval_days_finish_ allocates (the columns it hands
 * to the metrics).
 *
 * Means and standard deviations are two-pass (deviations from the mean), not
 * running sums of squares: a reimplementation with numpy or pandas computes
 * them that way too, and the two must agree to 1e-9 relative.
 */
#include <math.h>
#include <stdlib.h>

#include "eval/eval_internal.h"

#include "core/banned.h"

int quant_eval_all_equal_(const double *x, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0])
            return 0;
    return 1;
}

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

/* Sample standard deviation around m (divide by n - 1); NAN when n < 2. */
static double sample_std(const double *x, size_t n, double m)
{
    if (n < 2)
        return NAN;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1));
}

double quant_eval_pearson_(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = mean_of(x, n), my = mean_of(y, n), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0 || syy == 0)
        return NAN;
    return sxy / sqrt(sxx * syy);
}

static int by_value(const void *a, const void *b)
{
    const struct quant_eval_keyed_ *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);   /* a total order: qsort is not stable */
}

void quant_eval_sort_keyed_(struct quant_eval_keyed_ *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
}

void quant_eval_ranks_(const double *x, size_t n, double *out_rank,
                       struct quant_eval_keyed_ *work)
{
    for (size_t i = 0; i < n; i++) {
        work[i].v = x[i];
        work[i].id = (uint32_t)i;
    }
    quant_eval_sort_keyed_(work, n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && work[j].v == work[i].v)
            j++;
        /* positions i..j-1 are ranks i+1..j: their average, exactly a half-integer */
        double avg = ((double)(i + 1) + (double)j) / 2.0;
        for (size_t k = i; k < j; k++)
            out_rank[work[k].id] = avg;
        i = j;
    }
}

double quant_eval_rank_corr_(const double *x, const double *y, size_t n, double *rx,
                             double *ry, struct quant_eval_keyed_ *work)
{
    quant_eval_ranks_(x, n, rx, work);
    quant_eval_ranks_(y, n, ry, work);
    return quant_eval_pearson_(rx, ry, n);
}

/*
 * The Newey-West variance of the mean's numerator: Bartlett weights
 * 1 - l / (L + 1) keep it non-negative; a lag at or past k has no pairs and
 * adds nothing, so a short series is not an error.
 */
static double newey_west_var(const double *x, size_t k, size_t lags, double m)
{
    double var = 0;
    for (size_t l = 0; l <= lags && l < k; l++) {
        double g = 0;
        for (size_t t = l; t < k; t++)
            g += (x[t] - m) * (x[t - l] - m);
        g /= (double)k;
        var += l == 0 ? g : 2.0 * (1.0 - (double)l / (double)(lags + 1)) * g;
    }
    return var;
}

void quant_eval_ic_summarize(const double *x, size_t k, size_t lags,
                             struct quant_eval_ic_summary *out)
{
    out->dates = k;
    out->mean = out->std = out->ir = out->tstat = out->tstat_nw = out->hit = NAN;
    if (k == 0)
        return;
    out->mean = mean_of(x, k);
    size_t pos = 0;
    for (size_t i = 0; i < k; i++)
        pos += x[i] > 0;
    out->hit = (double)pos / (double)k;
    out->std = sample_std(x, k, out->mean);
    if (out->std > 0) {
        out->ir = out->mean / out->std;
        out->tstat = out->ir * sqrt((double)k);
    }
    double var_nw = newey_west_var(x, k, lags, out->mean);
    if (var_nw > 0)
        out->tstat_nw = out->mean / sqrt(var_nw / (double)k);
}

/*
 * The metrics of one return series against the benchmark b: x_i = r[i] -
 * cost[i] (net) or r[i] (cost NULL: gross), and e_i = x_i - b_i.  Both are
 * formed on the fly, so nothing is allocated.
 */
#define X_AT(i) (cost ? r[i] - cost[i] : r[i])

static void perf_of(const double *r, const double *cost, const double *b, size_t n,
                    struct quant_eval_perf *out)
{
    const double year = QUANT_EVAL_PERIODS_PER_YEAR;
    double equity = 1.0, peak = 1.0, dd = 0.0, sx = 0, se = 0;
    for (size_t i = 0; i < n; i++) {
        double x = X_AT(i);
        equity *= 1.0 + x;
        if (equity > peak)
            peak = equity;
        double d = equity / peak - 1.0;
        if (d < dd)
            dd = d;
        sx += x;
        se += x - b[i];
    }
    out->total_return = equity - 1.0;
    out->max_drawdown = dd;
    out->annual_return = out->annual_vol = out->sharpe = NAN;
    out->excess_return = out->information_ratio = NAN;
    if (n == 0)
        return;
    out->annual_return = pow(1.0 + out->total_return, year / (double)n) - 1.0;
    double mx = sx / (double)n, me = se / (double)n;
    out->excess_return = me * year;
    if (n < 2)
        return;
    double ssx = 0, sse = 0;
    for (size_t i = 0; i < n; i++) {
        double x = X_AT(i), dx = x - mx, de = (x - b[i]) - me;
        ssx += dx * dx;
        sse += de * de;
    }
    double sdx = sqrt(ssx / (double)(n - 1)), sde = sqrt(sse / (double)(n - 1));
    out->annual_vol = sdx * sqrt(year);
    if (sdx > 0)
        out->sharpe = mx / sdx * sqrt(year);
    if (sde > 0)
        out->information_ratio = me / sde * sqrt(year);
}

#undef X_AT

void quant_eval_bt_metrics_compute(const double *gross, const double *cost,
                                   const double *turnover, const double *bench, size_t n,
                                   struct quant_eval_bt_metrics *out)
{
    out->steps = n;
    out->turnover = out->break_even_cost_bps = NAN;
    out->total_cost = 0;
    double sum_turn = 0, sum_gx = 0;
    for (size_t i = 0; i < n; i++) {
        out->total_cost += cost[i];
        sum_turn += turnover[i];
        sum_gx += gross[i] - bench[i];
    }
    perf_of(gross, cost, bench, n, &out->net);
    perf_of(gross, NULL, bench, n, &out->gross);
    if (n == 0)
        return;
    out->turnover = sum_turn / (double)n;
    /* Cost per side c (buys and sells alike) costs 2 c turnover a step, so the
     * net excess mean(R - b) - 2 c turnover is 0 at this c. */
    if (out->turnover > 0)
        out->break_even_cost_bps = 10000.0 * (sum_gx / (double)n) / (2.0 * out->turnover);
}

enum quant_code quant_eval_days_finish_(struct quant_eval_bt_day *days, size_t n,
                                        struct quant_eval_bt_metrics *out,
                                        struct quant_err *err)
{
    double eq = 1.0, eq_gross = 1.0;
    for (size_t j = 0; j < n; j++) {
        eq *= 1.0 + days[j].net;
        eq_gross *= 1.0 + days[j].gross;
        days[j].equity = eq;
        days[j].equity_gross = eq_gross;
    }
    double *v = malloc((n ? 4 * n : 1) * sizeof *v);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "backtest: out of memory for %zu steps", n);
    double *gross = v, *cost = v + n, *turn = v + 2 * n, *bench = v + 3 * n;
    for (size_t j = 0; j < n; j++) {
        gross[j] = days[j].gross;
        cost[j] = days[j].cost;
        turn[j] = days[j].turnover;
        bench[j] = days[j].benchmark;
    }
    quant_eval_bt_metrics_compute(gross, cost, turn, bench, n, out);
    free(v);
    return QUANT_OK;
}
