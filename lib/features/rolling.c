/*
 * rolling.c: streaming window kernels (see rolling.h for the contract).
 *
 * Accuracy comes before cleverness here: the spec demands 1e-9 relative
 * agreement with a textbook computation on long series with spikes, so sums
 * are compensated (Neumaier), second moments are centred per window, and
 * "constant window" is decided from exact equality runs.  Speed comes from
 * doing each pass once per window with several independent accumulators
 * (the loop is then limited by throughput, not by one add's latency).  No
 * function here allocates, prints or keeps state between calls.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "features/rolling.h"

#include "core/banned.h"

/* Neumaier's compensated add: s + c carries the exact running sum to ~eps^2. */
static inline void comp_add(double *s, double *c, double v)
{
    double t = *s + v;
    if (fabs(*s) >= fabs(v))
        *c += (*s - t) + v;
    else
        *c += (v - t) + *s;
    *s = t;
}

void qr_rolling_sum(const double *x, size_t n, size_t d, double *out)
{
    assert(d >= 1);
    double s = 0.0, c = 0.0;
    size_t bad = 0, nonzero = 0;
    for (size_t t = 0; t < n; t++) {
        if (isfinite(x[t])) {
            comp_add(&s, &c, x[t]);
            nonzero += x[t] != 0.0;
        } else {
            bad++;
        }
        if (t >= d) {
            double old = x[t - d];
            if (isfinite(old)) {
                comp_add(&s, &c, -old);
                nonzero -= old != 0.0;
            } else {
                bad--;
            }
        }
        /* A window of zeros sums to exactly 0 (a ratio over "Sum + 1e-12" must
         * not see a 1e-23 residue of a spike that has left); restart clean. */
        if (nonzero == 0)
            s = c = 0.0;
        out[t] = (t + 1 >= d && bad == 0) ? s + c : NAN;
    }
}

void qr_rolling_mean(const double *x, size_t n, size_t d, double *out)
{
    qr_rolling_sum(x, n, d, out);
    for (size_t t = 0; t < n; t++)
        out[t] /= (double)d;
}

void qr_equal_runs(const double *x, size_t n, uint32_t *run)
{
    for (size_t t = 0; t < n; t++) {
        int same = t > 0 && isfinite(x[t]) && x[t] == x[t - 1];
        run[t] = same ? run[t - 1] + 1 : 1;
    }
}

int qr_degenerate(double sample_std, double mean, int all_equal)
{
    double scale = fabs(mean) > 1.0 ? fabs(mean) : 1.0;
    return all_equal || !(sample_std >= 1e-12 * scale);
}

/*
 * Sum of (w[k] - m)^2 over k < d, corrected for the rounding of m (the
 * "corrected two-pass" form: subtracting (sum of deviations)^2 / d removes
 * the d * (m - true mean)^2 an inexact mean adds, which matters when the
 * spread is a few ulps of the mean).  Four accumulators for throughput.
 */
static double centred_ss(const double *w, size_t d, double m)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0;
    size_t k = 0;
    for (; k + 4 <= d; k += 4) {
        double e0 = w[k] - m, e1 = w[k + 1] - m, e2 = w[k + 2] - m, e3 = w[k + 3] - m;
        a0 += e0 * e0;
        a1 += e1 * e1;
        a2 += e2 * e2;
        a3 += e3 * e3;
        s0 += e0 + e1;
        s1 += e2 + e3;
    }
    for (; k < d; k++) {
        double e = w[k] - m;
        a0 += e * e;
        s0 += e;
    }
    double se = s0 + s1;
    return ((a0 + a1) + (a2 + a3)) - se * se / (double)d;
}

void qr_rolling_std(const double *x, const double *mean, const uint32_t *run, size_t n,
                    size_t d, int ddof, double *out)
{
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < d || !isfinite(mean[t]) || (size_t)ddof >= d) {
            out[t] = NAN;
            continue;
        }
        if (run[t] >= d) {
            out[t] = 0.0;
            continue;
        }
        double ss = centred_ss(x + t + 1 - d, d, mean[t]);
        out[t] = sqrt((ss > 0.0 ? ss : 0.0) / (double)(d - (size_t)ddof));
    }
}

/*
 * Monotonic deque over indices; `better(a, b)` says a strictly beats b, so an
 * equal newer value never displaces an older one and ties resolve to the
 * oldest.  q has room for n indices (head/tail only move forward).
 */
#define ROLLING_EXTREME(NAME, BEATS)                                                   \
    void NAME(const double *x, size_t n, size_t d, double *out, double *pos, size_t *q) \
    {                                                                                  \
        assert(d >= 1);                                                                \
        size_t head = 0, tail = 0, bad = 0;                                            \
        for (size_t t = 0; t < n; t++) {                                               \
            if (isfinite(x[t])) {                                                      \
                while (tail > head && BEATS(x[t], x[q[tail - 1]]))                     \
                    tail--;                                                            \
                q[tail++] = t;                                                         \
            } else {                                                                   \
                bad++;                                                                 \
            }                                                                          \
            if (t >= d && !isfinite(x[t - d]))                                         \
                bad--;                                                                 \
            while (tail > head && q[head] + d <= t)                                    \
                head++;                                                                \
            int ok = t + 1 >= d && bad == 0;                                           \
            out[t] = ok ? x[q[head]] : NAN;                                            \
            if (pos)                                                                   \
                pos[t] = ok ? (double)(q[head] + d - t) : NAN;                         \
        }                                                                              \
    }

#define BEATS_MAX(a, b) ((a) > (b))
#define BEATS_MIN(a, b) ((a) < (b))
ROLLING_EXTREME(qr_rolling_max, BEATS_MAX)
ROLLING_EXTREME(qr_rolling_min, BEATS_MIN)

/* First index in s[0..m) whose value is >= v (strict = 0) or > v (strict = 1). */
static size_t bound(const double *s, size_t m, double v, int strict)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int go_right = strict ? s[mid] <= v : s[mid] < v;
        if (go_right)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sorted_insert(double *s, size_t *m, double v)
{
    size_t p = bound(s, *m, v, 1);
    memmove(s + p + 1, s + p, (*m - p) * sizeof *s);
    s[p] = v;
    (*m)++;
}

static void sorted_remove(double *s, size_t *m, double v)
{
    size_t p = bound(s, *m, v, 0);
    memmove(s + p, s + p + 1, (*m - p - 1) * sizeof *s);
    (*m)--;
}

/* Where quantile q falls in a sorted window of d: fixed per call, so floor
 * and ceil run once, not once per value. */
struct quantile_pos {
    size_t lo, hi;
    double frac;
};

static struct quantile_pos quantile_pos(double q, size_t d)
{
    double p = q * (double)(d - 1), fl = floor(p);
    return (struct quantile_pos){(size_t)fl, (size_t)ceil(p), p - fl};
}

static double sorted_quantile(const double *s, struct quantile_pos qp)
{
    return s[qp.lo] + qp.frac * (s[qp.hi] - s[qp.lo]);
}

static void write_opt(double *out, size_t t, double v)
{
    if (out)
        out[t] = v;
}

void qr_rolling_rank_quantiles(const double *x, size_t n, size_t d, double q_lo, double q_hi,
                               double *rank, double *out_lo, double *out_hi, double *s)
{
    assert(d >= 1);
    size_t m = 0, bad = 0;
    struct quantile_pos pos_lo = quantile_pos(q_lo, d), pos_hi = quantile_pos(q_hi, d);
    for (size_t t = 0; t < n; t++) {
        /* Remove the leaving value first so the window never exceeds d. */
        if (t >= d) {
            if (isfinite(x[t - d]))
                sorted_remove(s, &m, x[t - d]);
            else
                bad--;
        }
        if (isfinite(x[t]))
            sorted_insert(s, &m, x[t]);
        else
            bad++;
        if (t + 1 < d || bad) {
            write_opt(rank, t, NAN);
            write_opt(out_lo, t, NAN);
            write_opt(out_hi, t, NAN);
            continue;
        }
        if (rank) {
            size_t less = bound(s, m, x[t], 0), leq = bound(s, m, x[t], 1);
            rank[t] = (double)(less + leq + 1) / (double)(2 * d);
        }
        write_opt(out_lo, t, sorted_quantile(s, pos_lo));
        write_opt(out_hi, t, sorted_quantile(s, pos_hi));
    }
}

/*
 * Centred cross products of one window against x = 1..d.  sxy needs no
 * correction for an inexact mean (the x deviations sum to 0); syy gets the
 * corrected two-pass term, and *mean_fix the mean's own rounding.
 */
static void regress_window(const double *w, size_t d, double m, double *sxy, double *syy,
                           double *mean_fix)
{
    double xbar = ((double)d + 1.0) / 2.0;
    double a = 0, b = 0, c = 0, e = 0, s = 0;
    size_t k = 0;
    for (; k + 2 <= d; k += 2) {
        double y0 = w[k] - m, y1 = w[k + 1] - m;
        a += ((double)(k + 1) - xbar) * y0;
        b += ((double)(k + 2) - xbar) * y1;
        c += y0 * y0;
        e += y1 * y1;
        s += y0 + y1;
    }
    for (; k < d; k++) {
        double y0 = w[k] - m;
        a += ((double)(k + 1) - xbar) * y0;
        c += y0 * y0;
        s += y0;
    }
    *sxy = a + b;
    *syy = (c + e) - s * s / (double)d;
    *mean_fix = s / (double)d;
}

void qr_rolling_regression(const double *x, const double *mean, const uint32_t *run,
                           size_t n, size_t d, double *slope, double *rsquare,
                           double *resi)
{
    double dd = (double)d, xbar = (dd + 1.0) / 2.0;
    double sxx = dd * (dd * dd - 1.0) / 12.0;
    for (size_t t = 0; t < n; t++) {
        if (t + 1 < d || !isfinite(mean[t]) || d < 2) {
            write_opt(slope, t, NAN);
            write_opt(rsquare, t, NAN);
            write_opt(resi, t, NAN);
            continue;
        }
        int flat = run[t] >= d;
        double sxy = 0.0, syy = 0.0, fix = 0.0;
        if (!flat)
            regress_window(x + t + 1 - d, d, mean[t], &sxy, &syy, &fix);
        double b = sxy / sxx;
        write_opt(slope, t, b);
        write_opt(resi, t, flat ? 0.0 : ((x[t] - mean[t]) - fix) - b * (dd - xbar));
        int degen = qr_degenerate(sqrt(syy / (dd - 1.0)), mean[t], flat);
        write_opt(rsquare, t, degen ? NAN : (sxy * sxy) / (sxx * syy));
    }
}

struct moments2 {
    double sxx, syy, sxy;
};

/* Centred second moments of a window pair, corrected two-pass (see centred_ss). */
static struct moments2 centred_pair(const double *x, const double *y, size_t d, double mx,
                                    double my)
{
    double a0 = 0, a1 = 0, b0 = 0, b1 = 0, c0 = 0, c1 = 0, sx = 0, sy = 0;
    size_t k = 0;
    for (; k + 2 <= d; k += 2) {
        double x0 = x[k] - mx, x1 = x[k + 1] - mx;
        double y0 = y[k] - my, y1 = y[k + 1] - my;
        a0 += x0 * x0;
        a1 += x1 * x1;
        b0 += y0 * y0;
        b1 += y1 * y1;
        c0 += x0 * y0;
        c1 += x1 * y1;
        sx += x0 + x1;
        sy += y0 + y1;
    }
    for (; k < d; k++) {
        double x0 = x[k] - mx, y0 = y[k] - my;
        a0 += x0 * x0;
        b0 += y0 * y0;
        c0 += x0 * y0;
        sx += x0;
        sy += y0;
    }
    double dd = (double)d;
    return (struct moments2){(a0 + a1) - sx * sx / dd, (b0 + b1) - sy * sy / dd,
                             (c0 + c1) - sx * sy / dd};
}

void qr_rolling_corr(const double *x, const double *y, const double *mx, const double *my,
                     const uint32_t *rx, const uint32_t *ry, size_t n, size_t d,
                     double *out)
{
    double dm1 = (double)d - 1.0;
    for (size_t t = 0; t < n; t++) {
        out[t] = NAN;
        if (t + 1 < d || d < 2 || !isfinite(mx[t]) || !isfinite(my[t]))
            continue;
        if (rx[t] >= d || ry[t] >= d)
            continue;
        size_t s = t + 1 - d;
        struct moments2 m = centred_pair(x + s, y + s, d, mx[t], my[t]);
        if (qr_degenerate(sqrt(m.sxx / dm1), mx[t], 0) ||
            qr_degenerate(sqrt(m.syy / dm1), my[t], 0))
            continue;
        out[t] = m.sxy / sqrt(m.sxx * m.syy);
    }
}

void qr_ema(const double *x, size_t n, size_t start, size_t period, double *out)
{
    double alpha = 2.0 / ((double)period + 1.0);
    for (size_t t = 0; t < n && t < start; t++)
        out[t] = NAN;
    if (start >= n)
        return;
    out[start] = x[start];
    for (size_t t = start + 1; t < n; t++)
        out[t] = alpha * x[t] + (1.0 - alpha) * out[t - 1];
}

void qr_wilder(const double *x, size_t n, size_t p, double *out)
{
    for (size_t t = 0; t < n && t < p; t++)
        out[t] = NAN;
    if (p >= n || p == 0)
        return;
    double s = 0.0;
    for (size_t i = 1; i <= p; i++)
        s += x[i];
    out[p] = s / (double)p;
    double pm1 = (double)(p - 1);
    for (size_t t = p + 1; t < n; t++)
        out[t] = (pm1 * out[t - 1] + x[t]) / (double)p;
}
