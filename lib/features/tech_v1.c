/*
 * tech_v1.c: the 17-feature `tech-v1` set of FEATURES.md (returns, volatility,
 * moving-average ratios, Wilder RSI and ATR, MACD, Bollinger %B, volume z,
 * range, gap, stochastic %K).  Everything is O(n) over the rolling.c kernels;
 * the warm-ups and "no row" conditions are the spec's, written where each
 * feature is formed.  The feature order here is the order of the spec table.
 */
#include <math.h>
#include <stdlib.h>

#include "features/sets_internal.h"
#include "features/rolling.h"

#include "core/banned.h"

enum tech_feature {
    RET_1, RET_5, RET_20, VOL_20, SMA_RATIO_10, SMA_RATIO_50, SMA_CROSS_10_50, RSI_14,
    MACD, MACD_SIGNAL, MACD_HIST, BB_PCTB_20, ATR_RATIO_14, VOL_Z_20, HL_RANGE, GAP,
    STOCH_K_14, TECH_V1_COUNT
};

static const char *const tech_v1_names[TECH_V1_COUNT] = {
    "ret_1", "ret_5", "ret_20", "vol_20", "sma_ratio_10", "sma_ratio_50",
    "sma_cross_10_50", "rsi_14", "macd", "macd_signal", "macd_hist", "bb_pctb_20",
    "atr_ratio_14", "vol_z_20", "hl_range", "gap", "stoch_k_14",
};

/* Scratch for one call: n-long arrays carved from one allocation. */
struct tech_work {
    double *a, *b, *c, *d;
    uint32_t *run;
    size_t *idx;
    void *block;
};

static enum quant_code work_alloc(struct tech_work *w, size_t n, struct quant_err *err)
{
    w->block = malloc(n * (4 * sizeof(double) + sizeof(size_t) + sizeof(uint32_t)));
    if (!w->block)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory for %zu bars of scratch", n);
    double *p = w->block;
    w->a = p;
    w->b = p + n;
    w->c = p + 2 * n;
    w->d = p + 3 * n;
    w->idx = (size_t *)(p + 4 * n);
    w->run = (uint32_t *)(w->idx + n);
    return QUANT_OK;
}

static void simple_returns(const double *c, size_t n, size_t k, double *out)
{
    for (size_t t = 0; t < n; t++)
        out[t] = t >= k ? c[t] / c[t - k] - 1.0 : NAN;
}

/* vol_20: sample std of log returns over 20 bars, first at t = 20. */
static void vol_20(const double *c, size_t n, struct tech_work *w, double *out)
{
    w->a[0] = NAN;
    for (size_t t = 1; t < n; t++)
        w->a[t] = log(c[t] / c[t - 1]);
    qr_rolling_mean(w->a, n, 20, w->b);
    qr_equal_runs(w->a, n, w->run);
    qr_rolling_std(w->a, w->b, w->run, n, 20, 1, out);
}

static void sma_features(const double *c, size_t n, struct tech_work *w,
                         struct quant_feature_matrix *m)
{
    qr_rolling_mean(c, n, 10, w->a);
    qr_rolling_mean(c, n, 50, w->b);
    double *r10 = qf_row(m, SMA_RATIO_10), *r50 = qf_row(m, SMA_RATIO_50);
    double *cross = qf_row(m, SMA_CROSS_10_50);
    for (size_t t = 0; t < n; t++) {
        r10[t] = c[t] / w->a[t] - 1.0;
        r50[t] = c[t] / w->b[t] - 1.0;
        cross[t] = w->a[t] / w->b[t] - 1.0;
    }
}

static double rsi_from(double g, double l)
{
    if (l == 0.0)
        return g > 0.0 ? 100.0 : 50.0;
    return 100.0 - 100.0 / (1.0 + g / l);
}

static void rsi_14(const double *c, size_t n, struct tech_work *w, double *out)
{
    w->a[0] = w->b[0] = 0.0;
    for (size_t i = 1; i < n; i++) {
        double dc = c[i] - c[i - 1];
        w->a[i] = dc > 0.0 ? dc : 0.0;
        w->b[i] = dc < 0.0 ? -dc : 0.0;
    }
    qr_wilder(w->a, n, 14, w->c);
    qr_wilder(w->b, n, 14, w->d);
    for (size_t t = 0; t < n; t++)
        out[t] = t >= 14 ? rsi_from(w->c[t], w->d[t]) : NAN;
}

static void macd_features(const double *c, size_t n, struct tech_work *w,
                          struct quant_feature_matrix *m)
{
    double *macd = qf_row(m, MACD), *sig = qf_row(m, MACD_SIGNAL);
    double *hist = qf_row(m, MACD_HIST);
    qr_ema(c, n, 0, 12, w->a);
    qr_ema(c, n, 0, 26, w->b);
    for (size_t t = 0; t < n; t++)
        macd[t] = t >= 25 ? (w->a[t] - w->b[t]) / c[t] : NAN;
    qr_ema(macd, n, 25, 9, sig);
    for (size_t t = 0; t < n; t++) {
        if (t < 33)
            sig[t] = NAN;
        hist[t] = macd[t] - sig[t];
    }
}

/* %B over 20 bars with the population std; no row for a constant window. */
static void bb_pctb_20(const double *c, size_t n, struct tech_work *w, double *out)
{
    qr_rolling_mean(c, n, 20, w->a);
    qr_equal_runs(c, n, w->run);
    qr_rolling_std(c, w->a, w->run, n, 20, 0, w->b);
    for (size_t t = 0; t < n; t++) {
        double s = w->b[t];
        out[t] = (t >= 19 && w->run[t] < 20) ? (c[t] - (w->a[t] - 2.0 * s)) / (4.0 * s) : NAN;
    }
}

static void atr_ratio_14(const struct quant_adjusted *adj, struct tech_work *w, double *out)
{
    size_t n = adj->n;
    const double *h = adj->high, *l = adj->low, *c = adj->close;
    w->a[0] = 0.0;
    for (size_t i = 1; i < n; i++) {
        double tr = h[i] - l[i], up = fabs(h[i] - c[i - 1]), dn = fabs(l[i] - c[i - 1]);
        tr = up > tr ? up : tr;
        w->a[i] = dn > tr ? dn : tr;
    }
    qr_wilder(w->a, n, 14, w->b);
    for (size_t t = 0; t < n; t++)
        out[t] = w->b[t] / c[t];
}

static void vol_z_20(const double *v, size_t n, struct tech_work *w, double *out)
{
    qr_rolling_mean(v, n, 20, w->a);
    qr_equal_runs(v, n, w->run);
    qr_rolling_std(v, w->a, w->run, n, 20, 1, w->b);
    for (size_t t = 0; t < n; t++)
        out[t] = (t >= 19 && w->run[t] < 20) ? (v[t] - w->a[t]) / w->b[t] : NAN;
}

static void stoch_k_14(const struct quant_adjusted *adj, struct tech_work *w, double *out)
{
    size_t n = adj->n;
    qr_rolling_max(adj->high, n, 14, w->a, NULL, w->idx);
    qr_rolling_min(adj->low, n, 14, w->b, NULL, w->idx);
    for (size_t t = 0; t < n; t++) {
        double range = w->a[t] - w->b[t];
        out[t] = range != 0.0 ? (adj->close[t] - w->b[t]) / range : NAN;
    }
}

static void bar_features(const struct quant_adjusted *adj, struct quant_feature_matrix *m)
{
    const double *o = adj->open, *h = adj->high, *l = adj->low, *c = adj->close;
    double *hl = qf_row(m, HL_RANGE), *gap = qf_row(m, GAP);
    for (size_t t = 0; t < adj->n; t++) {
        hl[t] = (h[t] - l[t]) / c[t];
        gap[t] = t >= 1 ? o[t] / c[t - 1] - 1.0 : NAN;
    }
}

static enum quant_code tech_v1_compute(const struct quant_adjusted *adj,
                                       struct quant_feature_matrix *m, struct quant_err *err)
{
    struct tech_work w = {0};
    enum quant_code rc = work_alloc(&w, adj->n, err);
    if (rc)
        return rc;
    size_t n = adj->n;
    const double *c = adj->close;
    simple_returns(c, n, 1, qf_row(m, RET_1));
    simple_returns(c, n, 5, qf_row(m, RET_5));
    simple_returns(c, n, 20, qf_row(m, RET_20));
    vol_20(c, n, &w, qf_row(m, VOL_20));
    sma_features(c, n, &w, m);
    rsi_14(c, n, &w, qf_row(m, RSI_14));
    macd_features(c, n, &w, m);
    bb_pctb_20(c, n, &w, qf_row(m, BB_PCTB_20));
    atr_ratio_14(adj, &w, qf_row(m, ATR_RATIO_14));
    vol_z_20(adj->volume, n, &w, qf_row(m, VOL_Z_20));
    bar_features(adj, m);
    stoch_k_14(adj, &w, qf_row(m, STOCH_K_14));
    free(w.block);
    return QUANT_OK;
}

const struct quant_feature_set qf_tech_v1 = {
    .name = "tech-v1",
    .n_features = TECH_V1_COUNT,
    .names = tech_v1_names,
    .compute = tech_v1_compute,
};
