/*
 * test_signal.c: signal analysis on small panels worked out by hand: daily
 * IC and RankIC (with tied scores), which dates count (n_t >= 5, neither
 * side all equal, rows without a score or a label left out, non-members
 * left out), the summaries over the counted dates, and the quantile groups
 * with ties broken by symbol.
 */
#include "eval_testkit.c"

/* Pearson from raw sums, a different route from the library's centred one. */
static double naive_pearson(const double *x, const double *y, int n)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        syy += y[i] * y[i];
        sxy += x[i] * y[i];
    }
    return (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
}

static struct quant_eval_signal analyse(const struct quant_eval_panel *p, int h, size_t q)
{
    struct quant_eval_signal_params sp = {.horizon = h, .quantiles = q};
    struct quant_eval_signal s;
    struct quant_err err = {0};
    if (quant_eval_signal_compute(p, &sp, &s, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    return s;
}

/*
 * Six dates:
 *   d0  5 names, a tie in the scores: counted
 *   d1  4 names: not counted (n_t < 5)
 *   d2  5 names, every score equal: not counted
 *   d3  6 names, every return equal: not counted
 *   d4  5 rows, one without a score and one without a label: n_t = 3, not counted
 *   d5  6 rows, one not a member (and wild): n_t = 5, counted
 */
static void build(struct tk_panel *t)
{
    tk_panel_init(t, 6);
    const double s0[] = {0.1, 0.4, 0.3, 0.4, 0.9}, r0[] = {0.01, 0.02, -0.01, 0.03, 0.05};
    for (uint32_t i = 0; i < 5; i++)
        tk_panel_add(t, tk_day(0), i, s0[i], r0[i], 1);
    for (uint32_t i = 0; i < 4; i++)
        tk_panel_add(t, tk_day(1), i, 0.1 * i, 0.01 * i, 1);
    for (uint32_t i = 0; i < 5; i++)
        tk_panel_add(t, tk_day(2), i, 0.5, 0.01 * i, 1);
    for (uint32_t i = 0; i < 6; i++)
        tk_panel_add(t, tk_day(3), i, 0.1 * i, 0.02, 1);
    for (uint32_t i = 0; i < 5; i++)
        tk_panel_add(t, tk_day(4), i, i == 1 ? NAN : 0.1 * i, i == 3 ? NAN : 0.01 * i, 1);
    const double s5[] = {0.5, 0.2, 0.8, 0.1, 0.3, 100}, r5[] = {0.02, -0.01, 0.04, -0.02, 0.0, -5};
    for (uint32_t i = 0; i < 6; i++)
        tk_panel_add(t, tk_day(5), i, s5[i], r5[i], i != 5);
    tk_panel_universe(t, 1);
}

static void test_daily_ic(void **state)
{
    (void)state;
    struct tk_panel t;
    build(&t);
    struct quant_eval_signal s = analyse(&t.p, 1, 5);
    assert_int_equal(s.n_days, 6);
    const size_t n[] = {5, 4, 5, 6, 3, 5};
    const int counted[] = {1, 0, 0, 0, 0, 1};
    for (int d = 0; d < 6; d++) {
        assert_int_equal(s.days[d].date, tk_day(d));
        assert_int_equal(s.days[d].n, n[d]);
        assert_int_equal(s.days[d].counted, counted[d]);
        if (!counted[d])
            assert_true(isnan(s.days[d].ic) && isnan(s.days[d].rank_ic));
    }
    /* d0: scores mean .42, returns mean .02; sxy = .021, sxx = .348, syy = .002 */
    double ic0 = 0.021 / sqrt(0.348 * 0.002);
    assert_close(s.days[0].ic, ic0);
    /* ranks: scores 1 3.5 2 3.5 5 (the two 0.4s share 3.5), returns 2 3 1 4 5:
     * deviations -2 .5 -1 .5 2 and -1 0 -2 1 2: sxy 8.5, sxx 9.5, syy 10 */
    double ric0 = 8.5 / sqrt(95.0);
    assert_close(s.days[0].rank_ic, ric0);
    /* d5 over the five members only */
    const double s5[] = {0.5, 0.2, 0.8, 0.1, 0.3}, r5[] = {0.02, -0.01, 0.04, -0.02, 0.0};
    double ic5 = naive_pearson(s5, r5, 5);
    assert_close(s.days[5].ic, ic5);
    /* ranks 4 2 5 1 3 and 4 2 5 1 3: identical orders */
    assert_close(s.days[5].rank_ic, 1.0);

    double m = (ic0 + ic5) / 2;
    assert_int_equal(s.ic.dates, 2);
    assert_close(s.ic.mean, m);
    assert_close(s.ic.std, fabs(ic0 - ic5) / sqrt(2.0));
    assert_close(s.ic.ir, m / (fabs(ic0 - ic5) / sqrt(2.0)));
    assert_close(s.ic.tstat, s.ic.ir * sqrt(2.0));
    assert_close(s.ic.hit, 1.0);
    double g0 = ((ic0 - m) * (ic0 - m) + (ic5 - m) * (ic5 - m)) / 2;
    assert_close(s.ic.tstat_nw, m / sqrt(g0 / 2));   /* h = 1: no lags */
    assert_close(s.rank_ic.mean, (ric0 + 1.0) / 2);
    assert_int_equal(s.rank_ic.dates, 2);

    /* Without the universe d5's sixth row counts and wrecks its IC. */
    tk_panel_universe(&t, 0);
    quant_eval_signal_release(&s);
    s = analyse(&t.p, 1, 5);
    assert_int_equal(s.days[5].n, 6);
    assert_true(s.days[5].ic < 0);
    quant_eval_signal_release(&s);
    assert_null(s.days);
    tk_panel_free(&t);
}

static void test_newey_west_lags_follow_h(void **state)
{
    (void)state;
    struct tk_panel t;
    tk_panel_init(&t, 5);
    struct tk_rng rng = {7};
    for (int d = 0; d < 30; d++)
        for (uint32_t i = 0; i < 5; i++)
            tk_panel_add(&t, tk_day(d), i, tk_unif(&rng), tk_normal(&rng), 1);
    struct quant_eval_signal s = analyse(&t.p, 4, 5);
    double ic[30];
    for (int d = 0; d < 30; d++)
        ic[d] = s.days[d].ic;
    struct quant_eval_ic_summary want;
    quant_eval_ic_summarize(ic, 30, 3, &want);     /* L = h - 1 = 3 */
    assert_close(s.ic.tstat_nw, want.tstat_nw);
    quant_eval_ic_summarize(ic, 30, 0, &want);
    assert_false(tk_close(s.ic.tstat_nw, want.tstat_nw));
    quant_eval_signal_release(&s);
    tk_panel_free(&t);
}

static void test_quantiles_ties_by_symbol(void **state)
{
    (void)state;
    struct tk_panel t;
    tk_panel_init(&t, 7);
    /* d0: sorted by score, ties by symbol: 0 (.1), 2 (.3), 1 (.4), 3 (.4), 4 (.9).
     * Q = 2: floor(i 2 / 5) + 1 = 1 1 1 2 2, so symbol 1 (tied with 3) is in group 1. */
    const double s0[] = {0.1, 0.4, 0.3, 0.4, 0.9}, r0[] = {0.01, 0.02, -0.01, 0.03, 0.05};
    for (uint32_t i = 0; i < 5; i++)
        tk_panel_add(&t, tk_day(0), i, s0[i], r0[i], 1);
    /* d1: 2 names (n_t < Q = 3 but >= Q = 2); d2: 7 names, all scores tied. */
    tk_panel_add(&t, tk_day(1), 0, 0.7, 0.10, 1);
    tk_panel_add(&t, tk_day(1), 5, 0.2, -0.10, 1);
    const double r2[] = {0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01};
    for (uint32_t i = 0; i < 7; i++)
        tk_panel_add(&t, tk_day(2), i, 0.5, r2[i], 1);

    struct quant_eval_signal s = analyse(&t.p, 1, 2);
    /* d0: g1 = {0, 2, 1}, g2 = {3, 4}; d1: g1 = {5}, g2 = {0};
     * d2 (all tied, so symbol order): floor(2i/7) = 0 0 0 0 1 1 1 -> g1 = {0..3}, g2 = {4..6} */
    double g1 = ((0.01 - 0.01 + 0.02) / 3 + (-0.10) + (0.07 + 0.06 + 0.05 + 0.04) / 4) / 3;
    double g2 = ((0.03 + 0.05) / 2 + 0.10 + (0.03 + 0.02 + 0.01) / 3) / 3;
    assert_int_equal(s.q_dates, 3);
    assert_int_equal(s.quantiles, 2);
    assert_close(s.q_mean[0], g1);
    assert_close(s.q_mean[1], g2);
    assert_close(s.q_spread, g2 - g1);
    quant_eval_signal_release(&s);

    s = analyse(&t.p, 1, 3);
    /* Q = 3: d1 (2 names) is left out.  d0: floor(3i/5) = 0 0 1 1 2 -> {0,2} {1,3} {4};
     * d2: floor(3i/7) = 0 0 0 1 1 2 2 -> {0,1,2} {3,4} {5,6} */
    assert_int_equal(s.q_dates, 2);
    assert_close(s.q_mean[0], ((0.01 - 0.01) / 2 + (0.07 + 0.06 + 0.05) / 3) / 2);
    assert_close(s.q_mean[1], ((0.02 + 0.03) / 2 + (0.04 + 0.03) / 2) / 2);
    assert_close(s.q_mean[2], (0.05 + (0.02 + 0.01) / 2) / 2);
    assert_true(isnan(s.q_mean[3]));
    quant_eval_signal_release(&s);

    /* No date with n_t >= Q: the means are undefined, not 0. */
    s = analyse(&t.p, 1, 8);
    assert_int_equal(s.q_dates, 0);
    assert_true(isnan(s.q_mean[0]) && isnan(s.q_spread));
    quant_eval_signal_release(&s);
    tk_panel_free(&t);
}

static void test_errors_and_empty(void **state)
{
    (void)state;
    struct tk_panel t;
    tk_panel_init(&t, 3);
    struct quant_eval_signal_params sp;
    quant_eval_signal_params_default(&sp);
    assert_int_equal(sp.horizon, 5);
    assert_int_equal(sp.quantiles, 5);
    struct quant_eval_signal s;
    struct quant_err err = {0};
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_OK);
    assert_int_equal(s.n_days, 0);
    assert_int_equal(s.ic.dates, 0);
    assert_true(isnan(s.ic.mean));
    quant_eval_signal_release(&s);

    tk_panel_add(&t, tk_day(1), 1, 0.5, 0.1, 1);
    tk_panel_add(&t, tk_day(1), 0, 0.5, 0.1, 1);   /* symbol order broken */
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "panel row 1"));
    assert_non_null(strstr(err.msg, "out of order"));
    assert_null(s.days);
    t.symbol[1] = 1;                                 /* a duplicate (date, symbol) */
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    t.symbol[1] = 3;                                 /* no such symbol */
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "symbol id 3"));
    t.symbol[1] = 2;
    sp.quantiles = 1;
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    sp.quantiles = QUANT_EVAL_Q_MAX + 1;
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    sp.quantiles = 5;
    sp.horizon = 251;
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_EINVAL);
    sp.horizon = 5;
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s, &err), QUANT_OK);
    quant_eval_signal_release(&s);
    tk_panel_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_ic),
        cmocka_unit_test(test_newey_west_lags_follow_h),
        cmocka_unit_test(test_quantiles_ties_by_symbol),
        cmocka_unit_test(test_errors_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
