/*
 * naive_features.c: the reference implementation declared in
 * naive_features.h.  Every value is recomputed from its whole window with the
 * spec's formula; the only "cleverness" allowed is the spec's own rules
 * (full windows, exact-equality test for a zero std, the 1e-12 degenerate
 * threshold).  Slow on purpose: clarity is its job.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "naive_features.h"

/* ---- inputs --------------------------------------------------------------- */

void naive_adjust(const struct quant_bars *bars, struct naive_series *s)
{
    size_t n = bars->n;
    s->n = n;
    s->o = calloc(n + 1, sizeof(double));
    s->h = calloc(n + 1, sizeof(double));
    s->l = calloc(n + 1, sizeof(double));
    s->c = calloc(n + 1, sizeof(double));
    s->v = calloc(n + 1, sizeof(double));
    for (size_t t = 0; t < n; t++) {
        const struct quant_bar *b = &bars->v[t];
        double f = 1.0;
        if (!isnan(b->adj_close))
            f = b->adj_close / b->close;
        s->o[t] = b->open * f;
        s->h[t] = b->high * f;
        s->l[t] = b->low * f;
        s->c[t] = b->close * f;
        s->v[t] = b->volume / f;
    }
}

void naive_series_free(struct naive_series *s)
{
    free(s->o);
    free(s->h);
    free(s->l);
    free(s->c);
    free(s->v);
}

/* ---- window operators: NAN unless the full window exists and is finite ---- */

static int window_ok(const double *x, size_t t, size_t d)
{
    if (t + 1 < d)
        return 0;
    for (size_t i = t + 1 - d; i <= t; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int all_equal(const double *x, size_t t, size_t d)
{
    for (size_t i = t + 1 - d; i <= t; i++)
        if (x[i] != x[t])
            return 0;
    return 1;
}

/*
 * Sums and second moments accumulate in long double (64-bit mantissa on
 * x86-64), so the reference is a few orders of magnitude more exact than
 * any double-precision implementation it checks.
 */
static long double lw_mean(const double *x, size_t t, size_t d)
{
    long double s = 0;
    for (size_t i = t + 1 - d; i <= t; i++)
        s += x[i];
    return s / (long double)d;
}

static double w_sum(const double *x, size_t t, size_t d)
{
    if (!window_ok(x, t, d))
        return NAN;
    long double s = 0;
    for (size_t i = t + 1 - d; i <= t; i++)
        s += x[i];
    return (double)s;
}

static double w_mean(const double *x, size_t t, size_t d)
{
    if (!window_ok(x, t, d))
        return NAN;
    return (double)lw_mean(x, t, d);
}

/* ddof 1: sample std; ddof 0: population.  Exactly 0 when all values are equal. */
static double w_std(const double *x, size_t t, size_t d, int ddof)
{
    if (!window_ok(x, t, d))
        return NAN;
    if (all_equal(x, t, d))
        return 0.0;
    long double m = lw_mean(x, t, d), ss = 0;
    for (size_t i = t + 1 - d; i <= t; i++)
        ss += (x[i] - m) * (x[i] - m);
    return (double)sqrtl(ss / (long double)(d - (size_t)ddof));
}

static double w_max(const double *x, size_t t, size_t d)
{
    if (!window_ok(x, t, d))
        return NAN;
    double m = x[t + 1 - d];
    for (size_t i = t + 1 - d; i <= t; i++)
        if (x[i] > m)
            m = x[i];
    return m;
}

static double w_min(const double *x, size_t t, size_t d)
{
    if (!window_ok(x, t, d))
        return NAN;
    double m = x[t + 1 - d];
    for (size_t i = t + 1 - d; i <= t; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

/* 1-based position from the oldest; the first (oldest) extreme wins ties. */
static double w_idx(const double *x, size_t t, size_t d, int want_max)
{
    if (!window_ok(x, t, d))
        return NAN;
    size_t best = 0;
    for (size_t k = 1; k < d; k++) {
        double a = x[t + 1 - d + k], b = x[t + 1 - d + best];
        if (want_max ? a > b : a < b)
            best = k;
    }
    return (double)(best + 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double w_quantile(const double *x, size_t t, size_t d, double q)
{
    if (!window_ok(x, t, d))
        return NAN;
    double s[64];
    memcpy(s, x + t + 1 - d, d * sizeof(double));
    qsort(s, d, sizeof(double), cmp_double);
    double p = q * (double)(d - 1);
    size_t lo = (size_t)floor(p), hi = (size_t)ceil(p);
    return s[lo] + (p - floor(p)) * (s[hi] - s[lo]);
}

static double w_rank(const double *x, size_t t, size_t d)
{
    if (!window_ok(x, t, d))
        return NAN;
    size_t less = 0, leq = 0;
    for (size_t i = t + 1 - d; i <= t; i++) {
        less += x[i] < x[t];
        leq += x[i] <= x[t];
    }
    return (double)(less + leq + 1) / (double)(2 * d);
}

static int degenerate(const double *x, size_t t, size_t d)
{
    double sd = w_std(x, t, d, 1), m = w_mean(x, t, d);
    double scale = fabs(m) > 1 ? fabs(m) : 1;
    return all_equal(x, t, d) || sd < 1e-12 * scale;
}

/*
 * OLS of the window on x = 1..d: slope b and the means; the fit at x is
 * ym + b (x - xm) (= a + b x with a = ym - b xm, written centred so a price
 * level of 1e4 does not swamp residuals of 1e-4).
 */
static void ols(const double *y, size_t t, size_t d, long double *xm_out, long double *ym_out,
                long double *b)
{
    long double xm = 0, ym = 0;
    for (size_t k = 1; k <= d; k++) {
        xm += (long double)k;
        ym += y[t - d + k];
    }
    xm /= (long double)d;
    ym /= (long double)d;
    long double sxy = 0, sxx = 0;
    for (size_t k = 1; k <= d; k++) {
        sxy += ((long double)k - xm) * (y[t - d + k] - ym);
        sxx += ((long double)k - xm) * ((long double)k - xm);
    }
    *b = sxy / sxx;
    *xm_out = xm;
    *ym_out = ym;
}

static double w_slope(const double *y, size_t t, size_t d)
{
    if (!window_ok(y, t, d))
        return NAN;
    long double xm, ym, b;
    ols(y, t, d, &xm, &ym, &b);
    return (double)b;
}

static double w_resi(const double *y, size_t t, size_t d)
{
    if (!window_ok(y, t, d))
        return NAN;
    long double xm, ym, b;
    ols(y, t, d, &xm, &ym, &b);
    return (double)((y[t] - ym) - b * ((long double)d - xm));
}

/*
 * R^2 as explained / total sum of squares (equal to 1 - SSres / SStot for
 * OLS, but without the cancellation of 1 - 0.9993 when R^2 is near 0).
 */
static double w_rsquare(const double *y, size_t t, size_t d)
{
    if (!window_ok(y, t, d) || degenerate(y, t, d))
        return NAN;
    long double xm, ym, b, ss_reg = 0, ss_tot = 0;
    ols(y, t, d, &xm, &ym, &b);
    for (size_t k = 1; k <= d; k++) {
        long double yk = y[t - d + k], fit = ym + b * ((long double)k - xm);
        ss_reg += (fit - ym) * (fit - ym);
        ss_tot += (yk - ym) * (yk - ym);
    }
    return (double)(ss_reg / ss_tot);
}

static double w_corr(const double *x, const double *y, size_t t, size_t d)
{
    if (!window_ok(x, t, d) || !window_ok(y, t, d))
        return NAN;
    if (degenerate(x, t, d) || degenerate(y, t, d))
        return NAN;
    long double mx = lw_mean(x, t, d), my = lw_mean(y, t, d), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = t + 1 - d; i <= t; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return (double)(sxy / sqrtl(sxx * syy));
}

static double finite_or_nan(double v)
{
    return isfinite(v) ? v : NAN;
}

/* ---- tech-v1 --------------------------------------------------------------- */

const char *const naive_tech_v1_names[NAIVE_TECH_V1_COUNT] = {
    "ret_1", "ret_5", "ret_20", "vol_20", "sma_ratio_10", "sma_ratio_50",
    "sma_cross_10_50", "rsi_14", "macd", "macd_signal", "macd_hist", "bb_pctb_20",
    "atr_ratio_14", "vol_z_20", "hl_range", "gap", "stoch_k_14",
};

static void ema(const double *x, size_t n, size_t t0, double period, double *out)
{
    double alpha = 2.0 / (period + 1.0);
    for (size_t t = 0; t < n; t++) {
        if (t < t0)
            out[t] = NAN;
        else if (t == t0)
            out[t] = x[t];
        else
            out[t] = alpha * x[t] + (1.0 - alpha) * out[t - 1];
    }
}

/* Wilder average of in[1..]: mean of in[1..14] at t = 14, then (13 prev + x) / 14. */
static void wilder14(const double *in, size_t n, double *out)
{
    for (size_t t = 0; t < n; t++) {
        if (t < 14) {
            out[t] = NAN;
        } else if (t == 14) {
            double s = 0;
            for (size_t i = 1; i <= 14; i++)
                s += in[i];
            out[t] = s / 14.0;
        } else {
            out[t] = (13.0 * out[t - 1] + in[t]) / 14.0;
        }
    }
}

void naive_tech_v1(const struct naive_series *s, double *values)
{
    size_t n = s->n;
    const double *C = s->c, *H = s->h, *L = s->l, *O = s->o, *V = s->v;
    double *r = calloc(n + 1, sizeof(double)), *g = calloc(n + 1, sizeof(double));
    double *lo = calloc(n + 1, sizeof(double)), *tr = calloc(n + 1, sizeof(double));
    double *G = calloc(n + 1, sizeof(double)), *Ls = calloc(n + 1, sizeof(double));
    double *atr = calloc(n + 1, sizeof(double)), *e12 = calloc(n + 1, sizeof(double));
    double *e26 = calloc(n + 1, sizeof(double)), *macd = calloc(n + 1, sizeof(double));
    double *sig = calloc(n + 1, sizeof(double));
    r[0] = NAN;
    for (size_t i = 1; i < n; i++) {
        r[i] = log(C[i] / C[i - 1]);
        double d = C[i] - C[i - 1];
        g[i] = d > 0 ? d : 0;
        lo[i] = -d > 0 ? -d : 0;
        tr[i] = fmax(H[i] - L[i], fmax(fabs(H[i] - C[i - 1]), fabs(L[i] - C[i - 1])));
    }
    wilder14(g, n, G);
    wilder14(lo, n, Ls);
    wilder14(tr, n, atr);
    ema(C, n, 0, 12, e12);
    ema(C, n, 0, 26, e26);
    for (size_t t = 0; t < n; t++)
        macd[t] = t >= 25 ? (e12[t] - e26[t]) / C[t] : NAN;
    ema(macd, n, 25, 9, sig);
    for (size_t t = 0; t < n; t++) {
        double f[NAIVE_TECH_V1_COUNT];
        for (int k = 0; k < NAIVE_TECH_V1_COUNT; k++)
            f[k] = NAN;
        if (t >= 1)
            f[0] = C[t] / C[t - 1] - 1;
        if (t >= 5)
            f[1] = C[t] / C[t - 5] - 1;
        if (t >= 20)
            f[2] = C[t] / C[t - 20] - 1;
        if (t >= 20)
            f[3] = w_std(r, t, 20, 1);
        if (t >= 9)
            f[4] = C[t] / w_mean(C, t, 10) - 1;
        if (t >= 49) {
            f[5] = C[t] / w_mean(C, t, 50) - 1;
            f[6] = w_mean(C, t, 10) / w_mean(C, t, 50) - 1;
        }
        if (t >= 14) {
            if (Ls[t] == 0)
                f[7] = G[t] > 0 ? 100 : 50;
            else
                f[7] = 100 - 100 / (1 + G[t] / Ls[t]);
            f[12] = atr[t] / C[t];
        }
        if (t >= 25)
            f[8] = macd[t];
        if (t >= 33) {
            f[9] = sig[t];
            f[10] = macd[t] - sig[t];
        }
        if (t >= 19 && !all_equal(C, t, 20)) {
            double m = w_mean(C, t, 20), sd = w_std(C, t, 20, 0);
            f[11] = (C[t] - (m - 2 * sd)) / (4 * sd);
        }
        if (t >= 19 && !all_equal(V, t, 20))
            f[13] = (V[t] - w_mean(V, t, 20)) / w_std(V, t, 20, 1);
        f[14] = (H[t] - L[t]) / C[t];
        if (t >= 1)
            f[15] = O[t] / C[t - 1] - 1;
        if (t >= 13) {
            double hi = w_max(H, t, 14), low = w_min(L, t, 14);
            if (hi - low != 0)
                f[16] = (C[t] - low) / (hi - low);
        }
        for (int k = 0; k < NAIVE_TECH_V1_COUNT; k++)
            values[(size_t)k * n + t] = finite_or_nan(f[k]);
    }
    free(r); free(g); free(lo); free(tr); free(G); free(Ls); free(atr);
    free(e12); free(e26); free(macd); free(sig);
}

/* ---- alpha158 ------------------------------------------------------------------ */

static const char *const families[29] = {
    "ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD",
    "RANK", "RSV", "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD",
    "SUMP", "SUMN", "SUMD", "VMA", "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD",
};
static const size_t windows[5] = {5, 10, 20, 30, 60};

char naive_alpha158_names[NAIVE_ALPHA158_COUNT][16];

void naive_alpha158_names_init(void)
{
    const char *fixed[13] = {"KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2",
                             "KSFT", "KSFT2", "OPEN0", "HIGH0", "LOW0", "VWAP0"};
    for (int i = 0; i < 13; i++)
        snprintf(naive_alpha158_names[i], 16, "%s", fixed[i]);
    for (int f = 0; f < 29; f++)
        for (int k = 0; k < 5; k++)
            snprintf(naive_alpha158_names[13 + f * 5 + k], 16, "%s%zu", families[f], windows[k]);
}

/* The inner expressions of ALPHA158.md as series; NAN where Ref(., 1) is missing. */
struct alpha_inputs {
    double *lv;       /* Log(V + 1) */
    double *cord_x;   /* C / Ref(C, 1) */
    double *cord_y;   /* Log(V / Ref(V, 1) + 1) */
    double *gt, *lt;  /* C > Ref(C, 1), C < Ref(C, 1) */
    double *cp, *cn, *ca;   /* Greater(C - Ref, 0), Greater(Ref - C, 0), Abs(C - Ref) */
    double *vp, *vn, *va;   /* the same on V */
    double *wv;       /* Abs(C / Ref(C, 1) - 1) * V */
};

#define N_INPUTS 12

static void inputs_list(struct alpha_inputs *in, double **list[N_INPUTS])
{
    double **all[N_INPUTS] = {&in->lv, &in->cord_x, &in->cord_y, &in->gt, &in->lt, &in->cp,
                              &in->cn, &in->ca, &in->vp, &in->vn, &in->va, &in->wv};
    memcpy(list, all, sizeof all);
}

static void alpha_inputs_build(const struct naive_series *s, struct alpha_inputs *in)
{
    size_t n = s->n;
    double **list[N_INPUTS];
    inputs_list(in, list);
    for (size_t i = 0; i < N_INPUTS; i++)
        *list[i] = calloc(n + 1, sizeof(double));
    const double *C = s->c, *V = s->v;
    for (size_t t = 0; t < n; t++) {
        in->lv[t] = log(V[t] + 1);
        if (t == 0) {
            in->cord_x[t] = in->cord_y[t] = in->gt[t] = in->lt[t] = NAN;
            in->cp[t] = in->cn[t] = in->ca[t] = in->vp[t] = in->vn[t] = in->va[t] = NAN;
            in->wv[t] = NAN;
            continue;
        }
        in->cord_x[t] = C[t] / C[t - 1];
        in->cord_y[t] = log(V[t] / V[t - 1] + 1);
        in->gt[t] = C[t] > C[t - 1] ? 1.0 : 0.0;
        in->lt[t] = C[t] < C[t - 1] ? 1.0 : 0.0;
        in->cp[t] = fmax(C[t] - C[t - 1], 0);
        in->cn[t] = fmax(C[t - 1] - C[t], 0);
        in->ca[t] = fabs(C[t] - C[t - 1]);
        in->vp[t] = fmax(V[t] - V[t - 1], 0);
        in->vn[t] = fmax(V[t - 1] - V[t], 0);
        in->va[t] = fabs(V[t] - V[t - 1]);
        in->wv[t] = fabs(C[t] / C[t - 1] - 1) * V[t];
    }
}

static void alpha_inputs_free(struct alpha_inputs *in)
{
    double **list[N_INPUTS];
    inputs_list(in, list);
    for (size_t i = 0; i < N_INPUTS; i++)
        free(*list[i]);
}

static double alpha_rolling(const struct naive_series *s, const struct alpha_inputs *in,
                            int fam, size_t d, size_t t)
{
    const double *C = s->c, *H = s->h, *L = s->l, *V = s->v;
    const double e = 1e-12, dd = (double)d;
    double c = C[t];
    switch (fam) {
    case 0: return t >= d ? C[t - d] / c : NAN;
    case 1: return w_mean(C, t, d) / c;
    case 2: return w_std(C, t, d, 1) / c;
    case 3: return w_slope(C, t, d) / c;
    case 4: return w_rsquare(C, t, d);
    case 5: return w_resi(C, t, d) / c;
    case 6: return w_max(H, t, d) / c;
    case 7: return w_min(L, t, d) / c;
    case 8: return w_quantile(C, t, d, 0.8) / c;
    case 9: return w_quantile(C, t, d, 0.2) / c;
    case 10: return w_rank(C, t, d);
    case 11: return (c - w_min(L, t, d)) / (w_max(H, t, d) - w_min(L, t, d) + e);
    case 12: return w_idx(H, t, d, 1) / dd;
    case 13: return w_idx(L, t, d, 0) / dd;
    case 14: return (w_idx(H, t, d, 1) - w_idx(L, t, d, 0)) / dd;
    case 15: return w_corr(C, in->lv, t, d);
    case 16: return w_corr(in->cord_x, in->cord_y, t, d);
    case 17: return w_mean(in->gt, t, d);
    case 18: return w_mean(in->lt, t, d);
    case 19: return w_mean(in->gt, t, d) - w_mean(in->lt, t, d);
    case 20: return w_sum(in->cp, t, d) / (w_sum(in->ca, t, d) + e);
    case 21: return w_sum(in->cn, t, d) / (w_sum(in->ca, t, d) + e);
    case 22: return (w_sum(in->cp, t, d) - w_sum(in->cn, t, d)) / (w_sum(in->ca, t, d) + e);
    case 23: return w_mean(V, t, d) / (V[t] + e);
    case 24: return w_std(V, t, d, 1) / (V[t] + e);
    case 25: return w_std(in->wv, t, d, 1) / (w_mean(in->wv, t, d) + e);
    case 26: return w_sum(in->vp, t, d) / (w_sum(in->va, t, d) + e);
    case 27: return w_sum(in->vn, t, d) / (w_sum(in->va, t, d) + e);
    case 28: return (w_sum(in->vp, t, d) - w_sum(in->vn, t, d)) / (w_sum(in->va, t, d) + e);
    }
    return NAN;
}

static void alpha_fixed(const struct naive_series *s, size_t t, double f[13])
{
    double O = s->o[t], H = s->h[t], L = s->l[t], C = s->c[t], e = 1e-12;
    f[0] = (C - O) / O;
    f[1] = (H - L) / O;
    f[2] = (C - O) / (H - L + e);
    f[3] = (H - fmax(O, C)) / O;
    f[4] = (H - fmax(O, C)) / (H - L + e);
    f[5] = (fmin(O, C) - L) / O;
    f[6] = (fmin(O, C) - L) / (H - L + e);
    f[7] = (2 * C - H - L) / O;
    f[8] = (2 * C - H - L) / (H - L + e);
    f[9] = O / C;
    f[10] = H / C;
    f[11] = L / C;
    f[12] = ((H + L + C) / 3) / C;
}

void naive_alpha158(const struct naive_series *s, double *values)
{
    size_t n = s->n;
    struct alpha_inputs in;
    alpha_inputs_build(s, &in);
    for (size_t t = 0; t < n; t++) {
        double f[13];
        alpha_fixed(s, t, f);
        for (size_t k = 0; k < 13; k++)
            values[k * n + t] = finite_or_nan(f[k]);
        for (int fam = 0; fam < 29; fam++)
            for (size_t k = 0; k < 5; k++)
                values[(13 + (size_t)fam * 5 + k) * n + t] =
                    finite_or_nan(alpha_rolling(s, &in, fam, windows[k], t));
    }
    alpha_inputs_free(&in);
}

/* ---- labels ------------------------------------------------------------------- */

void naive_labels(const struct naive_series *s, int h, double *fwd, double *label)
{
    size_t n = s->n;
    for (size_t t = 0; t < n; t++) {
        fwd[t] = label[t] = NAN;
        if (t + (size_t)h <= n - 1) {
            fwd[t] = finite_or_nan(s->c[t + (size_t)h] / s->c[t] - 1);
            if (!isnan(fwd[t]))
                label[t] = fwd[t] > 0 ? 1 : 0;
        }
    }
}
