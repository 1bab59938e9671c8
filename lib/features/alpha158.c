/*
 * alpha158.c: the 158-feature `alpha158` set of ALPHA158.md (Qlib's Alpha158
 * with full windows and a typical-price VWAP0).  The per-bar inputs every
 * window needs (price changes, up/down indicators, log volumes, ...) are
 * derived once per symbol; then, for each d in 5, 10, 20, 30, 60, each family
 * is formed from the rolling.c kernels.  A value at index 0 that needs
 * Ref(., 1) is NAN, so the kernels' "a window with a missing input has no
 * row" rule gives the spec's first index (t = d) for free.
 */
#include <math.h>
#include <stdlib.h>

#include "features/sets_internal.h"
#include "features/rolling.h"

#include "core/banned.h"

#define EPS 1e-12
#define N_WINDOWS 5
#define N_FAMILIES 29
#define N_KBAR 9
#define N_PRICE 4
#define ALPHA158_COUNT (N_KBAR + N_PRICE + N_FAMILIES * N_WINDOWS)

static const size_t windows[N_WINDOWS] = {5, 10, 20, 30, 60};

enum family {
    ROC, MA, STD, BETA, RSQR, RESI, MAX, MIN, QTLU, QTLD, RANK, RSV, IMAX, IMIN, IMXD,
    CORR, CORD, CNTP, CNTN, CNTD, SUMP, SUMN, SUMD, VMA, VSTD, WVMA, VSUMP, VSUMN, VSUMD
};

#define FAMILY(NAME) NAME "5", NAME "10", NAME "20", NAME "30", NAME "60"

static const char *const alpha158_names[ALPHA158_COUNT] = {
    "KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2",
    "OPEN0", "HIGH0", "LOW0", "VWAP0",
    FAMILY("ROC"), FAMILY("MA"), FAMILY("STD"), FAMILY("BETA"), FAMILY("RSQR"),
    FAMILY("RESI"), FAMILY("MAX"), FAMILY("MIN"), FAMILY("QTLU"), FAMILY("QTLD"),
    FAMILY("RANK"), FAMILY("RSV"), FAMILY("IMAX"), FAMILY("IMIN"), FAMILY("IMXD"),
    FAMILY("CORR"), FAMILY("CORD"), FAMILY("CNTP"), FAMILY("CNTN"), FAMILY("CNTD"),
    FAMILY("SUMP"), FAMILY("SUMN"), FAMILY("SUMD"), FAMILY("VMA"), FAMILY("VSTD"),
    FAMILY("WVMA"), FAMILY("VSUMP"), FAMILY("VSUMN"), FAMILY("VSUMD"),
};

/* Per-bar inputs (derived once) and per-window scratch, all n long. */
struct alpha_work {
    size_t n;
    const double *o, *h, *l, *c, *v;
    /* derived inputs; NAN at t = 0 where Ref(., 1) is needed */
    double *c_gain, *c_loss, *c_abs;   /* Greater(dC, 0), Greater(-dC, 0), |dC| */
    double *v_gain, *v_loss, *v_abs;   /* the same for V */
    double *up, *down;                 /* C > Ref(C, 1), C < Ref(C, 1) */
    double *lv;                        /* Log(V + 1) */
    double *ratio, *lvr;               /* C / Ref(C, 1), Log(V / Ref(V, 1) + 1) */
    double *wv;                        /* Abs(C / Ref(C, 1) - 1) * V */
    uint32_t *run_c, *run_v, *run_lv, *run_ratio, *run_lvr, *run_wv;
    /* per-window scratch */
    double *m_c, *m_v, *m_lv, *m_ratio, *m_lvr, *m_wv, *t1, *t2, *t3;
    double *sorted;                    /* 60 doubles */
    size_t *idx;
    void *block;
};

#define N_DOUBLE_ARRAYS 21
#define N_RUN_ARRAYS 6

static enum quant_code work_alloc(struct alpha_work *w, const struct quant_adjusted *adj,
                                  struct quant_err *err)
{
    size_t n = adj->n;
    size_t bytes = (N_DOUBLE_ARRAYS * n + 60) * sizeof(double) + n * sizeof(size_t) +
                   N_RUN_ARRAYS * n * sizeof(uint32_t);
    w->block = malloc(bytes);
    if (!w->block)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory for %zu bars of scratch", n);
    double *p = w->block;
    double **arrays[N_DOUBLE_ARRAYS] = {
        &w->c_gain, &w->c_loss, &w->c_abs, &w->v_gain, &w->v_loss, &w->v_abs, &w->up,
        &w->down, &w->lv, &w->ratio, &w->lvr, &w->wv, &w->m_c, &w->m_v, &w->m_lv,
        &w->m_ratio, &w->m_lvr, &w->m_wv, &w->t1, &w->t2, &w->t3,
    };
    for (size_t i = 0; i < N_DOUBLE_ARRAYS; i++)
        *arrays[i] = p + i * n;
    w->sorted = p + N_DOUBLE_ARRAYS * n;
    w->idx = (size_t *)(w->sorted + 60);
    uint32_t *r = (uint32_t *)(w->idx + n);
    uint32_t **runs[N_RUN_ARRAYS] = {&w->run_c, &w->run_v, &w->run_lv,
                                     &w->run_ratio, &w->run_lvr, &w->run_wv};
    for (size_t i = 0; i < N_RUN_ARRAYS; i++)
        *runs[i] = r + i * n;
    w->n = n;
    w->o = adj->open;
    w->h = adj->high;
    w->l = adj->low;
    w->c = adj->close;
    w->v = adj->volume;
    return QUANT_OK;
}

static void split_changes(const double *x, size_t n, double *gain, double *loss, double *absd)
{
    gain[0] = loss[0] = absd[0] = NAN;
    for (size_t t = 1; t < n; t++) {
        double up = x[t] - x[t - 1], dn = x[t - 1] - x[t];
        gain[t] = up > 0.0 ? up : 0.0;
        loss[t] = dn > 0.0 ? dn : 0.0;
        absd[t] = fabs(up);
    }
}

static void derive_inputs(struct alpha_work *w)
{
    size_t n = w->n;
    const double *c = w->c, *v = w->v;
    split_changes(c, n, w->c_gain, w->c_loss, w->c_abs);
    split_changes(v, n, w->v_gain, w->v_loss, w->v_abs);
    w->up[0] = w->down[0] = w->ratio[0] = w->lvr[0] = w->wv[0] = NAN;
    for (size_t t = 0; t < n; t++) {
        w->lv[t] = log(v[t] + 1.0);
        if (t == 0)
            continue;
        w->up[t] = c[t] > c[t - 1] ? 1.0 : 0.0;
        w->down[t] = c[t] < c[t - 1] ? 1.0 : 0.0;
        w->ratio[t] = c[t] / c[t - 1];
        w->lvr[t] = log(v[t] / v[t - 1] + 1.0);
        w->wv[t] = fabs(c[t] / c[t - 1] - 1.0) * v[t];
    }
    qr_equal_runs(c, n, w->run_c);
    qr_equal_runs(v, n, w->run_v);
    qr_equal_runs(w->lv, n, w->run_lv);
    qr_equal_runs(w->ratio, n, w->run_ratio);
    qr_equal_runs(w->lvr, n, w->run_lvr);
    qr_equal_runs(w->wv, n, w->run_wv);
}

static void kbar_price(const struct alpha_work *w, struct quant_feature_matrix *m)
{
    double *r[N_KBAR + N_PRICE];
    for (size_t f = 0; f < N_KBAR + N_PRICE; f++)
        r[f] = qf_row(m, f);
    for (size_t t = 0; t < w->n; t++) {
        double o = w->o[t], h = w->h[t], l = w->l[t], c = w->c[t];
        double top = o > c ? o : c, bottom = o < c ? o : c, span = h - l + EPS;
        r[0][t] = (c - o) / o;
        r[1][t] = (h - l) / o;
        r[2][t] = (c - o) / span;
        r[3][t] = (h - top) / o;
        r[4][t] = (h - top) / span;
        r[5][t] = (bottom - l) / o;
        r[6][t] = (bottom - l) / span;
        r[7][t] = (2.0 * c - h - l) / o;
        r[8][t] = (2.0 * c - h - l) / span;
        r[9][t] = o / c;
        r[10][t] = h / c;
        r[11][t] = l / c;
        r[12][t] = ((h + l + c) / 3.0) / c;
    }
}

static double *family_row(struct quant_feature_matrix *m, enum family f, size_t k)
{
    return qf_row(m, N_KBAR + N_PRICE + (size_t)f * N_WINDOWS + k);
}

/* ROC, MA, STD, BETA, RSQR, RESI, QTLU, QTLD, RANK: the families on C alone. */
static void close_families(struct alpha_work *w, size_t d, size_t k,
                           struct quant_feature_matrix *m)
{
    size_t n = w->n;
    const double *c = w->c;
    double *roc = family_row(m, ROC, k), *ma = family_row(m, MA, k);
    double *sd = family_row(m, STD, k), *beta = family_row(m, BETA, k);
    double *resi = family_row(m, RESI, k), *qu = family_row(m, QTLU, k);
    double *qd = family_row(m, QTLD, k);
    qr_rolling_mean(c, n, d, w->m_c);
    qr_rolling_std(c, w->m_c, w->run_c, n, d, 1, sd);
    qr_rolling_regression(c, w->m_c, w->run_c, n, d, beta, family_row(m, RSQR, k), resi);
    qr_rolling_rank_quantiles(c, n, d, 0.2, 0.8, family_row(m, RANK, k), qd, qu, w->sorted);
    for (size_t t = 0; t < n; t++) {
        roc[t] = t >= d ? c[t - d] / c[t] : NAN;
        ma[t] = w->m_c[t] / c[t];
        sd[t] /= c[t];
        beta[t] /= c[t];
        resi[t] /= c[t];
        qu[t] /= c[t];
        qd[t] /= c[t];
    }
}

/* MAX, MIN, RSV, IMAX, IMIN, IMXD from the extremes of H and L. */
static void extreme_families(struct alpha_work *w, size_t d, size_t k,
                             struct quant_feature_matrix *m)
{
    size_t n = w->n;
    double *hi = w->t1, *lo = w->t2, *ihi = w->t3, *ilo = w->m_wv; /* m_wv: free here */
    qr_rolling_max(w->h, n, d, hi, ihi, w->idx);
    qr_rolling_min(w->l, n, d, lo, ilo, w->idx);
    double *mx = family_row(m, MAX, k), *mn = family_row(m, MIN, k);
    double *rsv = family_row(m, RSV, k), *imax = family_row(m, IMAX, k);
    double *imin = family_row(m, IMIN, k), *imxd = family_row(m, IMXD, k);
    double dd = (double)d;
    for (size_t t = 0; t < n; t++) {
        double c = w->c[t];
        mx[t] = hi[t] / c;
        mn[t] = lo[t] / c;
        rsv[t] = (c - lo[t]) / (hi[t] - lo[t] + EPS);
        imax[t] = ihi[t] / dd;
        imin[t] = ilo[t] / dd;
        imxd[t] = (ihi[t] - ilo[t]) / dd;
    }
}

static void corr_families(struct alpha_work *w, size_t d, size_t k,
                          struct quant_feature_matrix *m)
{
    size_t n = w->n;
    /* m_c still holds Mean(C, d) from close_families. */
    qr_rolling_mean(w->lv, n, d, w->m_lv);
    qr_rolling_corr(w->c, w->lv, w->m_c, w->m_lv, w->run_c, w->run_lv, n, d,
                    family_row(m, CORR, k));
    qr_rolling_mean(w->ratio, n, d, w->m_ratio);
    qr_rolling_mean(w->lvr, n, d, w->m_lvr);
    qr_rolling_corr(w->ratio, w->lvr, w->m_ratio, w->m_lvr, w->run_ratio, w->run_lvr, n, d,
                    family_row(m, CORD, k));
}

static void count_families(struct alpha_work *w, size_t d, size_t k,
                           struct quant_feature_matrix *m)
{
    size_t n = w->n;
    double *p = family_row(m, CNTP, k), *q = family_row(m, CNTN, k);
    double *diff = family_row(m, CNTD, k);
    qr_rolling_mean(w->up, n, d, p);
    qr_rolling_mean(w->down, n, d, q);
    for (size_t t = 0; t < n; t++)
        diff[t] = p[t] - q[t];
}

/* SUMP/SUMN/SUMD (or the VSUM* trio) from gains, losses and absolute changes. */
static void sum_families(struct alpha_work *w, const double *gain, const double *loss,
                         const double *absd, size_t d, double *p, double *q, double *diff)
{
    size_t n = w->n;
    qr_rolling_sum(gain, n, d, w->t1);
    qr_rolling_sum(loss, n, d, w->t2);
    qr_rolling_sum(absd, n, d, w->t3);
    for (size_t t = 0; t < n; t++) {
        double den = w->t3[t] + EPS;
        p[t] = w->t1[t] / den;
        q[t] = w->t2[t] / den;
        diff[t] = (w->t1[t] - w->t2[t]) / den;
    }
}

static void volume_families(struct alpha_work *w, size_t d, size_t k,
                            struct quant_feature_matrix *m)
{
    size_t n = w->n;
    const double *v = w->v;
    double *vma = family_row(m, VMA, k), *vstd = family_row(m, VSTD, k);
    double *wvma = family_row(m, WVMA, k);
    qr_rolling_mean(v, n, d, w->m_v);
    qr_rolling_std(v, w->m_v, w->run_v, n, d, 1, vstd);
    qr_rolling_mean(w->wv, n, d, w->m_wv);
    qr_rolling_std(w->wv, w->m_wv, w->run_wv, n, d, 1, wvma);
    for (size_t t = 0; t < n; t++) {
        vma[t] = w->m_v[t] / (v[t] + EPS);
        vstd[t] /= v[t] + EPS;
        wvma[t] /= w->m_wv[t] + EPS;
    }
}

static enum quant_code alpha158_compute(const struct quant_adjusted *adj,
                                        struct quant_feature_matrix *m, struct quant_err *err)
{
    struct alpha_work w = {0};
    enum quant_code rc = work_alloc(&w, adj, err);
    if (rc)
        return rc;
    derive_inputs(&w);
    kbar_price(&w, m);
    for (size_t k = 0; k < N_WINDOWS; k++) {
        size_t d = windows[k];
        close_families(&w, d, k, m);
        corr_families(&w, d, k, m);
        extreme_families(&w, d, k, m);
        count_families(&w, d, k, m);
        sum_families(&w, w.c_gain, w.c_loss, w.c_abs, d, family_row(m, SUMP, k),
                     family_row(m, SUMN, k), family_row(m, SUMD, k));
        volume_families(&w, d, k, m);
        sum_families(&w, w.v_gain, w.v_loss, w.v_abs, d, family_row(m, VSUMP, k),
                     family_row(m, VSUMN, k), family_row(m, VSUMD, k));
    }
    free(w.block);
    return QUANT_OK;
}

const struct quant_feature_set qf_alpha158 = {
    .name = "alpha158",
    .n_features = ALPHA158_COUNT,
    .names = alpha158_names,
    .compute = alpha158_compute,
};
