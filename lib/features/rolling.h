/*
 * rolling.h: the streaming window kernels every feature set is built from.
 *
 * Each kernel is a pure function over one input series x[0..n) and a window
 * length d (1 <= d): it writes out[t] for every t and nothing else, never
 * allocates (scratch is passed in, sized as documented) and touches no global
 * state, so two threads may run kernels on different symbols at once.
 *
 * Conventions shared by all kernels:
 *  - Full windows only: out[t] is NAN for t < d - 1.
 *  - A non-finite input value counts as a missing input: every window that
 *    contains one gives NAN, and the value never enters a running sum, a deque
 *    or a sorted window (so one bad value cannot poison the rest of a series).
 *  - Sums are Neumaier-compensated so adding and later removing a spike of
 *    1e9 amid values of 1e3 leaves no measurable residue, and a window of
 *    zeros sums to exactly 0.  Second moments (std, covariance, regression)
 *    are computed centred per window ("corrected two-pass": deviations from
 *    the running mean, minus the square of their sum over d, which cancels
 *    the mean's own rounding).  That is O(d) per value, exact to a few ulps
 *    whatever came before, and with d <= 60 cheap: see bench_features.
 *    Running sums of squares (or Welford add/remove) were rejected: they
 *    drift past 1e-9 after a spike leaves the window.
 *  - "All values equal" is tracked exactly with a run length, never inferred
 *    from a computed std that may come out 1 ulp above zero.
 */
#ifndef QUANT_FEATURES_ROLLING_H
#define QUANT_FEATURES_ROLLING_H

#include <stddef.h>
#include <stdint.h>

/* Rolling sum and mean over full windows (compensated). */
void qr_rolling_sum(const double *x, size_t n, size_t d, double *out);
void qr_rolling_mean(const double *x, size_t n, size_t d, double *out);

/*
 * run[t] = length of the run of exactly equal values ending at t (1 when x[t]
 * differs from x[t-1] or either is non-finite).  A window of d ending at t is
 * constant iff run[t] >= d.
 */
void qr_equal_runs(const double *x, size_t n, uint32_t *run);

/*
 * Rolling sample (ddof = 1) or population (ddof = 0) standard deviation.
 * mean[] must hold qr_rolling_mean(x, n, d) and run[] qr_equal_runs(x, n);
 * a constant window gives exactly 0; ddof >= d gives NAN.
 */
void qr_rolling_std(const double *x, const double *mean, const uint32_t *run, size_t n,
                    size_t d, int ddof, double *out);

/*
 * Rolling max and min with the 1-based position of the extreme counted from
 * the oldest value of the window (ties: the oldest).  pos may be NULL.
 * scratch holds n indices.
 */
void qr_rolling_max(const double *x, size_t n, size_t d, double *out, double *pos,
                    size_t *scratch);
void qr_rolling_min(const double *x, size_t n, size_t d, double *out, double *pos,
                    size_t *scratch);

/*
 * Rolling rank of the newest value, (count(< x_t) + count(<= x_t) + 1) / (2d),
 * and two linear-interpolated quantiles q_lo, q_hi, from one sorted window.
 * Any output may be NULL.  scratch holds d doubles.
 */
void qr_rolling_rank_quantiles(const double *x, size_t n, size_t d, double q_lo, double q_hi,
                               double *rank, double *out_lo, double *out_hi, double *scratch);

/*
 * OLS of x on 1..d over each window: slope, R^2 (NAN when x is degenerate in
 * the window, see qr_degenerate) and the residual of the newest point.  mean
 * and run as for qr_rolling_std.  Any output may be NULL.
 */
void qr_rolling_regression(const double *x, const double *mean, const uint32_t *run,
                           size_t n, size_t d, double *slope, double *rsquare,
                           double *resi);

/*
 * Rolling Pearson correlation of x and y; NAN when either input is degenerate
 * in the window.  mx/my, rx/ry: the rolling means and equal runs of x and y.
 */
void qr_rolling_corr(const double *x, const double *y, const double *mx, const double *my,
                     const uint32_t *rx, const uint32_t *ry, size_t n, size_t d,
                     double *out);

/*
 * The ALPHA158 degenerate-window test: sample std below 1e-12 x max(1, |mean|)
 * or all values equal.
 */
int qr_degenerate(double sample_std, double mean, int all_equal);

/*
 * EMA with alpha = 2 / (period + 1), seeded with x[start]: out[t] is NAN for
 * t < start, then the recursion; a non-finite input poisons what follows.
 */
void qr_ema(const double *x, size_t n, size_t start, size_t period, double *out);

/*
 * Wilder smoothing of period p over x[1..]: out[p] = mean(x[1..p]), then
 * out[t] = ((p - 1) out[t-1] + x[t]) / p; NAN before t = p.  x[0] is unused
 * (the inputs Wilder RSI and ATR smooth start at index 1).
 */
void qr_wilder(const double *x, size_t n, size_t p, double *out);

#endif
