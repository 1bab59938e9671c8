/*
 * test_single.c: the single-symbol mode by hand: ts_ic, ts_rank_ic and the
 * hit rate over a symbol's dates, and the long-or-flat backtest (enter at a
 * score above 0.5, leave at or below it, costs only on entering and
 * leaving) against buy-and-hold, on the calendar of the whole panel.
 */
#include "eval_testkit.c"

static void build(struct tk_panel *t, struct tk_prices *pr)
{
    /* Symbol 0: six dates.  Symbol 1: rows but never a score.  Symbol 2: one
     * scored date (t1), and no prices at all. */
    tk_panel_init(t, 3);
    const double s[] = {0.7, 0.4, 0.6, 0.8, 0.3, 0.55};
    const double r[] = {0.1, -0.02, 0.05, 0.0, NAN, NAN};
    for (int i = 0; i < 6; i++) {
        tk_panel_add(t, tk_day(i), 0, s[i], r[i], 1);
        tk_panel_add(t, tk_day(i), 1, NAN, 0.01, 1);
        if (i == 1)
            tk_panel_add(t, tk_day(i), 2, 0.9, 0.01, 1);
    }
    tk_prices_init(pr, 3);
    const double c[] = {10, 10, 11, 12, 12, 13.2};
    for (int i = 0; i < 6; i++) {
        tk_prices_add(pr, 0, tk_day(i), c[i]);
        tk_prices_add(pr, 1, tk_day(i), 50);
    }
}

static struct quant_eval_singles run(const struct tk_panel *t, const struct tk_prices *pr)
{
    struct quant_eval_bt_params p;
    quant_eval_bt_params_default(&p);
    p.buy_cost = 0.001;
    p.sell_cost = 0.002;
    p.topk = 0;   /* not used in this mode */
    struct quant_eval_singles out;
    struct quant_err err = {0};
    if (quant_eval_single_run(&t->p, pr->s, &p, &out, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    return out;
}

static void test_hand_case(void **state)
{
    (void)state;
    struct tk_panel t;
    struct tk_prices pr;
    build(&t, &pr);
    struct quant_eval_singles out = run(&t, &pr);
    assert_int_equal(out.n, 2);   /* symbol 1 never has a score */
    const struct quant_eval_single *a = &out.v[0];
    assert_int_equal(a->symbol, 0);
    assert_int_equal(a->dates, 4);
    /* (score > .5, ret > 0): t0 (T, T) t1 (F, F) t2 (T, T) t3 (T, F): 3 of 4 */
    assert_close(a->hit_rate, 0.75);
    /* scores .7 .4 .6 .8, returns .1 -.02 .05 0: means .625 and .0325 */
    double ds[] = {0.075, -0.225, -0.025, 0.175}, dr[] = {0.0675, -0.0525, 0.0175, -0.0325};
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < 4; i++) {
        sxy += ds[i] * dr[i];
        sxx += ds[i] * ds[i];
        syy += dr[i] * dr[i];
    }
    assert_close(a->ts_ic, sxy / sqrt(sxx * syy));
    /* ranks 3 1 2 4 and 4 1 3 2: deviations .5 -1.5 -.5 1.5 and 1.5 -1.5 .5 -.5 */
    assert_close(a->ts_rank_ic, 2.0 / 5.0);

    /* Steps on T = t0..t5: weights from t0..t3's scores: 1 0 1 1.
     * step 0: from cash, buy 1 (cost .001); r = 11/10 - 1 = .1.
     * step 1: the held weight drifts to 1.1 / 1.1 = 1; sell it (cost .002);
     *         r = 12/11 - 1 earned by the benchmark only.
     * step 2: buy 1 (cost .001); r = 12/12 - 1 = 0.
     * step 3: hold (drifted 1 -> 1): no trade; r = 13.2/12 - 1 = .1. */
    const double R[] = {0.1, 0.0, 0.0, 0.1}, c[] = {0.001, 0.002, 0.001, 0.0};
    const double b[] = {0.1, 12.0 / 11 - 1, 0.0, 0.1}, turn[] = {0.5, 0.5, 0.5, 0.0};
    assert_int_equal(a->m.steps, 4);
    double E = 1;
    for (int j = 0; j < 4; j++) {
        E *= 1 + R[j] - c[j];
        assert_int_equal(a->days[j].signal_date, tk_day(j));
        assert_int_equal(a->days[j].date, tk_day(j + 2));
        assert_close(a->days[j].gross, R[j]);
        assert_close(a->days[j].cost, c[j]);
        assert_close(a->days[j].net, R[j] - c[j]);
        assert_close(a->days[j].benchmark, b[j]);
        assert_close(a->days[j].turnover, turn[j]);
        assert_close(a->days[j].equity, E);
        assert_int_equal(a->days[j].n_held, j == 1 ? 0 : 1);
    }
    assert_close(a->m.net.total_return, E - 1);
    assert_close(a->m.total_cost, 0.004);
    assert_close(a->m.turnover, 1.5 / 4);
    double mean_gx = ((0.1 - 0.1) + (0 - b[1]) + 0 + 0) / 4;
    assert_close(a->m.break_even_cost_bps, 10000 * mean_gx / (2 * (1.5 / 4)));
    assert_close(a->m.gross.max_drawdown, 0.0);   /* flat while out, never down */

    /* Symbol 2: one date, so no correlation; no prices, so every return is 0. */
    const struct quant_eval_single *s2 = &out.v[1];
    assert_int_equal(s2->symbol, 2);
    assert_int_equal(s2->dates, 1);
    assert_true(isnan(s2->ts_ic) && isnan(s2->ts_rank_ic));
    assert_close(s2->hit_rate, 1.0);
    assert_close(s2->days[1].gross, 0.0);
    assert_int_equal(s2->days[1].n_held, 1);   /* long on t1's score .9 */
    assert_int_equal(s2->days[2].n_held, 0);   /* no row on t2: cash */
    quant_eval_singles_release(&out);
    assert_null(out.v);

    /* Not a member on t2: flat on step 2 even with a score of .6. */
    t.member[5] = 0;   /* rows: t0 has 2, t1 3; t2's symbol 0 is row 5 */
    tk_panel_universe(&t, 1);
    out = run(&t, &pr);
    assert_int_equal(out.v[0].days[2].n_held, 0);
    assert_int_equal(out.v[0].dates, 3);
    quant_eval_singles_release(&out);

    struct quant_err err = {0};
    struct quant_eval_bt_params p;
    quant_eval_bt_params_default(&p);
    t.p.n_rows = 5;   /* t0, t1 only */
    assert_int_equal(quant_eval_single_run(&t.p, pr.s, &p, &out, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "at least 3"));
    tk_panel_free(&t);
    tk_prices_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
