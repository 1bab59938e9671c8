/*
 * test_backtest.c: the top-k drop-out backtest on a case small enough to
 * follow by hand: four symbols A B C D over six dates, K = 2, m = 1, costs
 * 0.001 / 0.002.  Every holding, weight, drifted weight, trade, cost,
 * return, benchmark and equity below is worked out from EVALUATION.md's
 * formulas in the comments and the arithmetic, never by calling the library.
 * It has a tie (B and C on t0, A and B on t3), a held name losing its score
 * (B on t1), fewer scored names than K (t2), unscored held names broken by
 * symbol (A and C on t2), and a missing bar (C has none on t3 and t4).
 */
#include "eval_testkit.c"

enum { A, B, C, D };

/* Adjusted closes on t0..t5 (0: no bar). */
static const double close_[4][6] = {
    {10, 10, 11, 12, 12, 13.2},
    {20, 20, 19, 19, 20.9, 20.9},
    {5, 5, 5.5, 0, 0, 6},
    {8, 8, 8, 8.8, 8, 8},
};

/* Calendar: t_i = tk_day(i) plus a weekend after t2, which changes nothing. */
static int32_t t_(int i)
{
    return tk_day(i + (i >= 3 ? 2 : 0));
}

static void build_prices(struct tk_prices *pr)
{
    tk_prices_init(pr, 4);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 6; i++)
            if (close_[s][i] > 0)
                tk_prices_add(pr, (size_t)s, t_(i), close_[s][i]);
}

#define NO NAN
/* Scores on t0..t5; NO: no row's score (the row is there, its score is not). */
static const double score_[6][4] = {
    {0.9, 0.5, 0.5, 0.1},     /* t0: B ties C, B first by symbol */
    {0.2, NO, 0.8, 0.7},      /* t1: B (held) loses its score */
    {NO, NO, NO, 0.3},        /* t2: one scored name, K = 2 */
    {0.6, 0.6, 0.2, 0.9},     /* t3: A ties B; A is held */
    {0.5, 0.4, 0.3, 0.2},     /* t4, t5: only make them dates of T */
    {0.5, 0.4, 0.3, 0.2},
};

static void build_panel(struct tk_panel *t)
{
    tk_panel_init(t, 4);
    for (int i = 0; i < 6; i++)
        for (uint32_t s = 0; s < 4; s++)
            tk_panel_add(t, t_(i), s, score_[i][s], NAN, 1);
}

static struct quant_eval_backtest run(const struct tk_panel *t, const struct tk_prices *pr,
                                      size_t k, size_t m, const struct quant_eval_prices *bench)
{
    struct quant_eval_bt_params p = {.topk = k, .n_drop = m, .buy_cost = 0.001,
                                     .sell_cost = 0.002, .benchmark = bench};
    struct quant_eval_backtest bt;
    struct quant_err err = {0};
    if (quant_eval_backtest_run(&t->p, pr->s, &p, &bt, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    return bt;
}

static void expect_held(const struct quant_eval_backtest *bt, size_t j, uint32_t a, uint32_t b)
{
    assert_int_equal(bt->held_off[j + 1] - bt->held_off[j], 2);
    assert_int_equal(bt->held[bt->held_off[j]], a);
    assert_int_equal(bt->held[bt->held_off[j] + 1], b);
}

static double mean4(const double *v)
{
    return (v[0] + v[1] + v[2] + v[3]) / 4;
}

static double std4(const double *v)
{
    double m = mean4(v), s = 0;
    for (int i = 0; i < 4; i++)
        s += (v[i] - m) * (v[i] - m);
    return sqrt(s / 3);
}

static void test_hand_case(void **state)
{
    (void)state;
    struct tk_panel t;
    struct tk_prices pr;
    build_panel(&t);
    build_prices(&pr);
    struct quant_eval_backtest bt = run(&t, &pr, 2, 1, NULL);
    assert_int_equal(bt.n_days, 4);   /* |T| - 2 */

    /* Step 0 (t0 -> trade t1 -> t2).  H empty: today = first m + K = 3 by score:
     * A .9, B .5, C .5 (B before C by symbol); nothing to sell; buy 2: {A, B}.
     * From cash: buys = 1, sells = 0, cost .001, turnover .5.
     * r_A = 11/10 - 1 = .1, r_B = 19/20 - 1 = -.05: R = .025.
     * Benchmark: scored A B C D: (.1 - .05 + .1 + 0) / 4 = .0375. */
    expect_held(&bt, 0, A, B);
    double R0 = 0.5 * 0.1 + 0.5 * -0.05, c0 = 0.001 * 1.0;
    /* Step 1 (t1 -> t2 -> t3).  last = A (.2), B (no score: last).  today = first
     * 1 + 2 - 2 = 1 scored name not held: C (.8).  comb = C, A, B; its last 1 is B:
     * sell B; buy 1: C.  H = {A, C}.
     * Drift: w~_A = .5 (1.1) / 1.025, w~_B = .5 (.95) / 1.025.
     * Trades: A .5 - w~_A < 0 (sell), B sold (w~_B), C bought .5:
     * buys = .5, sells = (w~_A - .5) + w~_B = .5.
     * r_A = 12/11 - 1; r_C: no bar on t3, last close at or before t3 is t2's:
     * 5.5 / 5.5 - 1 = 0.  Benchmark over A, C, D (B has no score): r_D = .1. */
    expect_held(&bt, 1, A, C);
    double wA1 = 0.5 * 1.1 / 1.025, wB1 = 0.5 * 0.95 / 1.025;
    double buys1 = 0.5, sells1 = (wA1 - 0.5) + wB1;
    assert_close(sells1, 0.5);
    double R1 = 0.5 * (12.0 / 11 - 1) + 0.5 * 0.0, c1 = 0.001 * buys1 + 0.002 * sells1;
    /* Step 2 (t2 -> t3 -> t4).  Only D is scored.  last = A, C (both unscored: by
     * symbol).  today = first 1 scored not held: D.  comb = D, A, C: sell C (the
     * last 1, not A: the tie of the unscored goes by symbol); buy 1: D.  H = {A, D}.
     * Drift (R1 = 1/22): w~_A = .5 (12/11) / (23/22) = 12/23, w~_C = .5 / (23/22) = 11/23.
     * buys = .5 (D), sells = (12/23 - .5) + 11/23 = .5.
     * r_A = 12/12 - 1 = 0, r_D = 8/8.8 - 1 = -1/11: R = -1/22.  Benchmark: D alone. */
    expect_held(&bt, 2, A, D);
    double buys2 = 0.5, sells2 = (12.0 / 23 - 0.5) + 11.0 / 23;
    double R2 = 0.5 * 0.0 + 0.5 * (8 / 8.8 - 1), c2 = 0.001 * buys2 + 0.002 * sells2;
    /* Step 3 (t3 -> t4 -> t5).  last = D (.9), A (.6).  today = first 1 scored not
     * held: B (.6) before C (.2).  comb = D, A, B (A before B by symbol): the last 1
     * is B, not held: nothing sold, nothing bought.  H = {A, D}.
     * Drift (R2 = -1/22): w~_A = .5 / (21/22) = 11/21, w~_D = .5 (10/11) / (21/22) = 10/21.
     * Rebalancing to .5 each: sells = 11/21 - .5 = .5/21, buys = .5 - 10/21 = .5/21.
     * r_A = 13.2/12 - 1 = .1, r_D = 0: R = .05.
     * Benchmark over A B C D: r_B = 0; r_C from t4 (last close 5.5, t2's) to t5: 6/5.5 - 1. */
    expect_held(&bt, 3, A, D);
    double buys3 = 0.5 / 21, sells3 = 0.5 / 21;
    double R3 = 0.5 * (13.2 / 12 - 1) + 0.5 * 0.0, c3 = 0.001 * buys3 + 0.002 * sells3;

    const double R[] = {R0, R1, R2, R3}, c[] = {c0, c1, c2, c3};
    const double turn[] = {0.5, (buys1 + sells1) / 2, (buys2 + sells2) / 2,
                           (buys3 + sells3) / 2};
    const double b[] = {(0.1 - 0.05 + 0.1 + 0.0) / 4, ((12.0 / 11 - 1) + 0.0 + 0.1) / 3,
                        8 / 8.8 - 1, ((13.2 / 12 - 1) + 0.0 + (6 / 5.5 - 1) + 0.0) / 4};
    double x[4], e[4], eg[4], E = 1, Eg = 1;
    for (int j = 0; j < 4; j++) {
        const struct quant_eval_bt_day *d = &bt.days[j];
        x[j] = R[j] - c[j];
        e[j] = x[j] - b[j];
        eg[j] = R[j] - b[j];
        E *= 1 + x[j];
        Eg *= 1 + R[j];
        assert_int_equal(d->signal_date, t_(j));
        assert_int_equal(d->date, t_(j + 2));
        assert_int_equal(d->n_held, 2);
        assert_close(d->gross, R[j]);
        assert_close(d->cost, c[j]);
        assert_close(d->net, x[j]);
        assert_close(d->turnover, turn[j]);
        assert_close(d->benchmark, b[j]);
        assert_close(d->equity, E);
        assert_close(d->equity_gross, Eg);
    }
    assert_close(R0, 0.025);
    assert_close(R1, 1.0 / 22);
    assert_close(R2, -1.0 / 22);

    /* Equity rises over steps 0-1, falls on step 2, makes a new high on step 3:
     * the drawdown is step 2's loss alone. */
    const struct quant_eval_bt_metrics *m = &bt.m;
    assert_int_equal(m->steps, 4);
    assert_close(m->net.total_return, E - 1);
    assert_close(m->net.annual_return, pow(E, 252.0 / 4) - 1);
    assert_close(m->net.annual_vol, std4(x) * sqrt(252));
    assert_close(m->net.sharpe, mean4(x) / std4(x) * sqrt(252));
    assert_close(m->net.max_drawdown, x[2]);
    assert_close(m->net.excess_return, mean4(e) * 252);
    assert_close(m->net.information_ratio, mean4(e) / std4(e) * sqrt(252));
    assert_close(m->gross.total_return, Eg - 1);
    assert_close(m->gross.max_drawdown, R2);
    assert_close(m->gross.sharpe, mean4(R) / std4(R) * sqrt(252));
    assert_close(m->gross.information_ratio, mean4(eg) / std4(eg) * sqrt(252));
    assert_close(m->turnover, mean4(turn));
    assert_close(m->total_cost, c0 + c1 + c2 + c3);
    assert_close(m->break_even_cost_bps, 10000 * mean4(eg) / (2 * mean4(turn)));

    /* A named benchmark (B's prices): its own step returns. */
    quant_eval_backtest_release(&bt);
    assert_null(bt.days);
    bt = run(&t, &pr, 2, 1, &pr.s[B]);
    const double rb[] = {19.0 / 20 - 1, 19.0 / 19 - 1, 20.9 / 19 - 1, 0.0};
    for (int j = 0; j < 4; j++)
        assert_close(bt.days[j].benchmark, rb[j]);
    quant_eval_backtest_release(&bt);
    tk_panel_free(&t);
    tk_prices_free(&pr);
}

/* K beyond the names, m = 0, and a held name leaving the universe. */
static void test_variants(void **state)
{
    (void)state;
    struct tk_panel t;
    struct tk_prices pr;
    build_panel(&t);
    build_prices(&pr);

    /* K = 10 > 4 names: every scored name is bought on t0, and an unscored
     * held name is sold once m reaches it. */
    struct quant_eval_backtest bt = run(&t, &pr, 10, 1, NULL);
    assert_int_equal(bt.days[0].n_held, 4);
    assert_close(bt.days[0].turnover, 0.5);
    /* Step 1: last = C .8? no: last = H sorted = C .8, D .7, A .2, B (unscored);
     * today = first 1 + 10 - 4 scored not held: none.  Sell B (the last 1). */
    assert_int_equal(bt.days[1].n_held, 3);
    quant_eval_backtest_release(&bt);

    /* m = 0: nothing is ever replaced, not even the name that lost its score. */
    bt = run(&t, &pr, 2, 0, NULL);
    for (size_t j = 0; j < 4; j++)
        expect_held(&bt, j, A, B);
    quant_eval_backtest_release(&bt);

    /* A leaves the universe on t3 (its score .6 is still there): it sorts last as
     * if unscored: last = D, A; today = B (.6); comb = D, B, A: sell A, buy B.
     * The benchmark leaves A out too: (r_B + r_C + r_D) / 3. */
    t.member[3 * 4 + A] = 0;
    tk_panel_universe(&t, 1);
    bt = run(&t, &pr, 2, 1, NULL);
    expect_held(&bt, 2, A, D);
    expect_held(&bt, 3, B, D);
    assert_close(bt.days[3].benchmark, (0.0 + (6 / 5.5 - 1) + 0.0) / 3);
    /* w~_A = 11/21 sold, w~_D = 10/21 -> .5, B bought .5 */
    assert_close(bt.days[3].turnover, (0.5 + 0.5 / 21 + 11.0 / 21) / 2);
    quant_eval_backtest_release(&bt);
    tk_panel_free(&t);
    tk_prices_free(&pr);
}

static void test_errors(void **state)
{
    (void)state;
    struct tk_panel t;
    struct tk_prices pr;
    build_panel(&t);
    build_prices(&pr);
    struct quant_eval_bt_params p;
    quant_eval_bt_params_default(&p);
    assert_int_equal(p.topk, 50);
    assert_int_equal(p.n_drop, 5);
    assert_close(p.buy_cost, 0.0005);
    assert_close(p.sell_cost, 0.0015);
    assert_null(p.benchmark);
    struct quant_eval_backtest bt;
    struct quant_err err = {0};
    /* Two dates are not a step. */
    struct quant_eval_panel two = t.p;
    two.n_rows = 8;
    assert_int_equal(quant_eval_backtest_run(&two, pr.s, &p, &bt, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "cover 2 dates"));
    assert_null(bt.days);
    /* Dates without a single score are not dates of T. */
    for (size_t i = 8; i < 12; i++)
        t.score[i] = NAN;
    two.n_rows = 12;
    assert_int_equal(quant_eval_backtest_run(&two, pr.s, &p, &bt, &err), QUANT_EINVAL);
    t.score[8] = 0.3;
    assert_int_equal(quant_eval_backtest_run(&two, pr.s, &p, &bt, &err), QUANT_OK);
    assert_int_equal(bt.n_days, 1);
    quant_eval_backtest_release(&bt);

    p.topk = 0;
    assert_int_equal(quant_eval_backtest_run(&t.p, pr.s, &p, &bt, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "topk"));
    p.topk = 2;
    p.sell_cost = -0.1;
    assert_int_equal(quant_eval_backtest_run(&t.p, pr.s, &p, &bt, &err), QUANT_EINVAL);
    p.sell_cost = 0.001;
    ((double *)pr.s[C].close)[1] = 0;
    assert_int_equal(quant_eval_backtest_run(&t.p, pr.s, &p, &bt, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "symbol id 2"));
    assert_non_null(strstr(err.msg, "finite and > 0"));
    ((double *)pr.s[C].close)[1] = 5;
    ((int32_t *)pr.s[C].date)[1] = pr.s[C].date[0];
    assert_int_equal(quant_eval_backtest_run(&t.p, pr.s, &p, &bt, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "not strictly ascending"));
    tk_panel_free(&t);
    tk_prices_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
