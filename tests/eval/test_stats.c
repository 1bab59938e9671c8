/*
 * test_stats.c: the arithmetic kernels on vectors small enough to work out
 * by hand: Pearson, average ranks with ties, the IC summary with its
 * Newey-West t-stat (lags shorter and longer than the series), and the
 * backtest metrics of a five-step return series.
 */
#include "eval_testkit.c"

#include "eval/eval_internal.h"

static void test_pearson_and_ranks(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4}, y[] = {2, 4, 5, 9};
    /* dx = -1.5 -.5 .5 1.5, dy = -3 -1 0 4: sxy = 11, sxx = 5, syy = 26 */
    assert_close(quant_eval_pearson_(x, y, 4), 11.0 / sqrt(5.0 * 26.0));
    /* An offset of 1e6 costs no digits (centred two-pass). */
    const double xo[] = {1e6 + 1, 1e6 + 2, 1e6 + 3, 1e6 + 4};
    assert_close(quant_eval_pearson_(xo, y, 4), 11.0 / sqrt(5.0 * 26.0));
    const double flat[] = {3, 3, 3, 3};
    assert_true(isnan(quant_eval_pearson_(x, flat, 4)));
    assert_true(isnan(quant_eval_pearson_(x, y, 1)));

    const double t[] = {3, 1, 3, 2, 3};
    double r[5];
    struct quant_eval_keyed_ work[5];
    quant_eval_ranks_(t, 5, r, work);
    /* 1 -> 1, 2 -> 2, the three 3s share ranks 3, 4, 5: 4 */
    const double want[] = {4, 1, 4, 2, 4};
    for (int i = 0; i < 5; i++)
        assert_close(r[i], want[i]);
    const double two[] = {0.5, 0.5};
    quant_eval_ranks_(two, 2, r, work);
    assert_close(r[0], 1.5);
    assert_close(r[1], 1.5);
    assert_true(quant_eval_all_equal_(flat, 4));
    assert_false(quant_eval_all_equal_(t, 5));
}

static void test_ic_summary_newey_west(void **state)
{
    (void)state;
    const double x[] = {0.1, -0.05, 0.2, 0.05};
    struct quant_eval_ic_summary s;
    quant_eval_ic_summarize(x, 4, 2, &s);   /* h = 3 */
    /* m = 0.075; deviations d = .025 -.125 .125 -.025 */
    double d[] = {0.025, -0.125, 0.125, -0.025};
    double ss = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + d[3] * d[3];   /* 0.0325 */
    double sd = sqrt(ss / 3);
    assert_int_equal(s.dates, 4);
    assert_close(s.mean, 0.075);
    assert_close(s.std, sd);
    assert_close(s.ir, 0.075 / sd);
    assert_close(s.tstat, 0.075 / sd * 2);
    assert_close(s.hit, 0.75);
    double g0 = ss / 4;
    double g1 = (d[1] * d[0] + d[2] * d[1] + d[3] * d[2]) / 4;   /* -0.00546875 */
    double g2 = (d[2] * d[0] + d[3] * d[1]) / 4;                 /*  0.0015625 */
    double var = g0 + 2 * (1 - 1.0 / 3) * g1 + 2 * (1 - 2.0 / 3) * g2;   /* 0.001875 */
    assert_close(var, 0.001875);
    assert_close(s.tstat_nw, 0.075 / sqrt(var / 4));
    assert_close(s.tstat_nw, sqrt(12.0));

    /* h = 1: no lags, the variance is the population one. */
    quant_eval_ic_summarize(x, 4, 0, &s);
    assert_close(s.tstat_nw, 0.075 / sqrt(g0 / 4));

    /* Lags past the series: g_l for l >= k has no pairs and adds 0. */
    quant_eval_ic_summarize(x, 4, 10, &s);
    double g3 = d[3] * d[0] / 4;
    double var10 = g0 + 2 * (1 - 1.0 / 11) * g1 + 2 * (1 - 2.0 / 11) * g2 +
                   2 * (1 - 3.0 / 11) * g3;
    assert_close(s.tstat_nw, 0.075 / sqrt(var10 / 4));

    /* One date: a mean and a hit, nothing that needs a spread. */
    quant_eval_ic_summarize(x, 1, 4, &s);
    assert_close(s.mean, 0.1);
    assert_close(s.hit, 1.0);
    assert_true(isnan(s.std) && isnan(s.ir) && isnan(s.tstat) && isnan(s.tstat_nw));
    quant_eval_ic_summarize(x, 0, 4, &s);
    assert_int_equal(s.dates, 0);
    assert_true(isnan(s.mean) && isnan(s.hit));
    /* Equal values: std 0, so no ratio. */
    const double same[] = {0.02, 0.02, 0.02};
    quant_eval_ic_summarize(same, 3, 1, &s);
    assert_close(s.std, 0.0);
    assert_true(isnan(s.ir) && isnan(s.tstat) && isnan(s.tstat_nw));
}

static double mean5(const double *v)
{
    return (v[0] + v[1] + v[2] + v[3] + v[4]) / 5;
}

static double std5(const double *v)
{
    double m = mean5(v), s = 0;
    for (int i = 0; i < 5; i++)
        s += (v[i] - m) * (v[i] - m);
    return sqrt(s / 4);
}

static void test_backtest_metrics(void **state)
{
    (void)state;
    const double R[] = {0.01, 0.02, -0.03, 0.01, -0.04};
    const double c[] = {0.001, 0.0, 0.0005, 0.0, 0.002};
    const double tv[] = {0.5, 0.0, 0.25, 0.0, 1.0};
    const double b[] = {0.005, 0.01, -0.01, 0.0, -0.02};
    struct quant_eval_bt_metrics m;
    quant_eval_bt_metrics_compute(R, c, tv, b, 5, &m);
    double x[5], e[5], eg[5];
    for (int i = 0; i < 5; i++) {
        x[i] = R[i] - c[i];
        e[i] = x[i] - b[i];
        eg[i] = R[i] - b[i];
    }
    /* Equity 1.009, 1.029180, 0.997828..., 1.007807..., 0.965663...: the peak is
     * after step 2, the trough after step 5. */
    double E[6] = {1};
    for (int i = 0; i < 5; i++)
        E[i + 1] = E[i] * (1 + x[i]);
    assert_close(m.net.total_return, E[5] - 1);
    assert_close(m.net.annual_return, pow(E[5], 252.0 / 5) - 1);
    assert_close(m.net.annual_vol, std5(x) * sqrt(252));
    assert_close(m.net.sharpe, mean5(x) / std5(x) * sqrt(252));
    assert_close(m.net.max_drawdown, E[5] / E[2] - 1);
    assert_close(m.net.excess_return, mean5(e) * 252);
    assert_close(m.net.information_ratio, mean5(e) / std5(e) * sqrt(252));
    double G = (1 + R[0]) * (1 + R[1]) * (1 + R[2]) * (1 + R[3]) * (1 + R[4]);
    assert_close(m.gross.total_return, G - 1);
    assert_close(m.gross.annual_return, pow(G, 252.0 / 5) - 1);
    assert_close(m.gross.sharpe, mean5(R) / std5(R) * sqrt(252));
    assert_close(m.gross.max_drawdown, G / ((1 + R[0]) * (1 + R[1])) - 1);
    assert_close(m.gross.excess_return, mean5(eg) * 252);
    assert_close(m.gross.information_ratio, mean5(eg) / std5(eg) * sqrt(252));
    assert_close(m.turnover, 1.75 / 5);
    assert_close(m.total_cost, 0.0035);
    assert_close(m.break_even_cost_bps, 10000 * mean5(eg) / (2 * (1.75 / 5)));
    assert_int_equal(m.steps, 5);

    /* No trading at all: break-even is undefined; a rising book never draws down. */
    const double up[] = {0.01, 0.01}, zero[] = {0, 0};
    quant_eval_bt_metrics_compute(up, zero, zero, zero, 2, &m);
    assert_true(isnan(m.break_even_cost_bps));
    assert_close(m.net.max_drawdown, 0.0);
    assert_true(isnan(m.net.sharpe));      /* std 0 */
    assert_close(m.net.annual_vol, 0.0);
    quant_eval_bt_metrics_compute(up, zero, zero, zero, 1, &m);
    assert_true(isnan(m.net.annual_vol) && isnan(m.net.information_ratio));
    assert_close(m.net.annual_return, pow(1.01, 252) - 1);
    quant_eval_bt_metrics_compute(up, zero, zero, zero, 0, &m);
    assert_int_equal(m.steps, 0);
    assert_true(isnan(m.turnover) && isnan(m.net.annual_return));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pearson_and_ranks),
        cmocka_unit_test(test_ic_summary_newey_west),
        cmocka_unit_test(test_backtest_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
