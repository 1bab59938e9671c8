/*
 * test_rolling.c: the streaming kernels of lib/features/rolling.c, one by one,
 * against brute-force windows (the naive reference's window operators) on
 * long series built to break running sums: volume-like spikes of 1e9 amid
 * 1e3, prices of 1e4 moving by 1e-3, exact ties, zero stretches, and
 * missing (non-finite) inputs in the middle of a series.
 */
#include "test_util.h"

#include "features/rolling.h"
#include "feature_testkit.c"

#define LONG_N 20000

enum shape { SPIKY, NEAR_FLAT, TIED, WITH_GAPS, SHAPE_COUNT };

static void make_series(enum shape kind, double *x, size_t n)
{
    uint64_t r = 88172645463325252ull + (uint64_t)kind;
    for (size_t t = 0; t < n; t++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        double u = (double)(r % 1000003) / 1000003.0;
        switch (kind) {
        case SPIKY:   /* 1e3-ish with rare 1e9 spikes and zero stretches */
            x[t] = (t % 997 == 0) ? 1e9 : ((t / 500) % 7 == 3 ? 0.0 : 1000.0 + 50.0 * u);
            break;
        case NEAR_FLAT:
            x[t] = 10000.0 + 1e-3 * u;
            break;
        case TIED:
            x[t] = (double)(r % 4);
            break;
        case WITH_GAPS:
            x[t] = (t % 1500 == 700 || t % 3001 == 5) ? NAN : 50.0 + u;
            break;
        default:
            x[t] = 0;
        }
    }
}

static void expect(const char *what, size_t d, size_t t, double got, double want)
{
    int ok = isnan(want) ? isnan(got) : (!isnan(got) && tk_close(got, want));
    if (!ok) {
        print_message("%s d=%zu t=%zu: got %.17g want %.17g\n", what, d, t, got, want);
        fail();
    }
}

struct buffers {
    double *x, *y, *mx, *my, *a, *b, *c, *s;
    uint32_t *rx, *ry;
    size_t *idx;
};

static void check_shape(enum shape kind, size_t d, struct buffers *B)
{
    size_t n = LONG_N;
    make_series(kind, B->x, n);
    make_series((enum shape)((kind + 1) % SHAPE_COUNT), B->y, n);
    qr_rolling_sum(B->x, n, d, B->a);
    for (size_t t = 0; t < n; t++)
        expect("sum", d, t, B->a[t], w_sum(B->x, t, d));
    qr_rolling_mean(B->x, n, d, B->mx);
    qr_rolling_mean(B->y, n, d, B->my);
    qr_equal_runs(B->x, n, B->rx);
    qr_equal_runs(B->y, n, B->ry);
    for (int ddof = 0; ddof <= 1; ddof++) {
        qr_rolling_std(B->x, B->mx, B->rx, n, d, ddof, B->a);
        for (size_t t = 0; t < n; t++)
            expect("std", d, t, B->a[t], (size_t)ddof < d ? w_std(B->x, t, d, ddof) : NAN);
    }
    qr_rolling_max(B->x, n, d, B->a, B->b, B->idx);
    for (size_t t = 0; t < n; t++) {
        expect("max", d, t, B->a[t], w_max(B->x, t, d));
        expect("idxmax", d, t, B->b[t], w_idx(B->x, t, d, 1));
    }
    qr_rolling_min(B->x, n, d, B->a, B->b, B->idx);
    for (size_t t = 0; t < n; t++) {
        expect("min", d, t, B->a[t], w_min(B->x, t, d));
        expect("idxmin", d, t, B->b[t], w_idx(B->x, t, d, 0));
    }
    qr_rolling_rank_quantiles(B->x, n, d, 0.2, 0.8, B->a, B->b, B->c, B->s);
    for (size_t t = 0; t < n; t++) {
        expect("rank", d, t, B->a[t], w_rank(B->x, t, d));
        expect("q0.2", d, t, B->b[t], w_quantile(B->x, t, d, 0.2));
        expect("q0.8", d, t, B->c[t], w_quantile(B->x, t, d, 0.8));
    }
    if (d >= 2) {
        qr_rolling_regression(B->x, B->mx, B->rx, n, d, B->a, B->b, B->c);
        for (size_t t = 0; t < n; t++) {
            /* slope and residual in units of the series' scale */
            double scale = fmax(1.0, fabs(B->mx[t]));
            expect("slope", d, t, B->a[t] / scale, w_slope(B->x, t, d) / scale);
            expect("rsquare", d, t, B->b[t], w_rsquare(B->x, t, d));
            expect("resi", d, t, B->c[t] / scale, w_resi(B->x, t, d) / scale);
        }
        qr_rolling_corr(B->x, B->y, B->mx, B->my, B->rx, B->ry, n, d, B->a);
        for (size_t t = 0; t < n; t++)
            expect("corr", d, t, B->a[t], w_corr(B->x, B->y, t, d));
    }
}

static void test_kernels_vs_brute_force(void **state)
{
    (void)state;
    struct buffers B;
    double **arr[] = {&B.x, &B.y, &B.mx, &B.my, &B.a, &B.b, &B.c, &B.s};
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++)
        *arr[i] = calloc(LONG_N, sizeof(double));
    B.rx = calloc(LONG_N, sizeof(uint32_t));
    B.ry = calloc(LONG_N, sizeof(uint32_t));
    B.idx = calloc(LONG_N, sizeof(size_t));
    const size_t ds[] = {1, 2, 5, 20, 60};
    for (int k = 0; k < SHAPE_COUNT; k++)
        for (size_t i = 0; i < sizeof ds / sizeof *ds; i++)
            check_shape((enum shape)k, ds[i], &B);
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++)
        free(*arr[i]);
    free(B.rx);
    free(B.ry);
    free(B.idx);
}

/* After a 1e9 spike leaves, a window of zeros sums to exactly 0, and a
 * window of equal values has a std of exactly 0. */
static void test_exact_zero_after_spike(void **state)
{
    (void)state;
    double x[40], out[40], mean[40], sd[40];
    uint32_t run[40];
    for (size_t t = 0; t < 40; t++)
        x[t] = t < 10 ? 1000.0 / 3.0 * (double)(t + 1) : (t == 12 ? 1e9 / 7.0 : 0.0);
    qr_rolling_sum(x, 40, 5, out);
    for (size_t t = 17; t < 40; t++)
        assert_true(out[t] == 0.0);
    for (size_t t = 20; t < 40; t++)
        x[t] = 0.1;
    qr_rolling_mean(x, 40, 5, mean);
    qr_equal_runs(x, 40, run);
    qr_rolling_std(x, mean, run, 40, 5, 1, sd);
    for (size_t t = 24; t < 40; t++)
        assert_true(sd[t] == 0.0);
    assert_true(sd[23] > 0.0);
}

static void test_ema_and_wilder(void **state)
{
    (void)state;
    const double x[6] = {1, 2, 3, 4, 5, 6};
    double e[6], w[6];
    qr_ema(x, 6, 2, 3, e);   /* alpha = 0.5, seeded with x[2] */
    assert_true(isnan(e[0]) && isnan(e[1]));
    assert_true(e[2] == 3.0 && e[3] == 3.5 && e[4] == 4.25);
    qr_wilder(x, 6, 3, w);    /* mean(x[1..3]) = 3, then (2 prev + x) / 3 */
    assert_true(isnan(w[2]) && w[3] == 3.0);
    assert_true(tk_close(w[4], (2 * 3.0 + 5) / 3) && tk_close(w[5], (2 * w[4] + 6) / 3));
    qr_wilder(x, 3, 3, w);    /* too short: nothing */
    assert_true(isnan(w[0]) && isnan(w[2]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_zero_after_spike),
        cmocka_unit_test(test_ema_and_wilder),
        cmocka_unit_test(test_kernels_vs_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
