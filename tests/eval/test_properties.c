/*
 * test_properties.c: properties any correct evaluation has, on seeded random
 * markets:
 *  - no information, no edge: scores shuffled across symbols on each date
 *    give a mean IC near 0 and a gross backtest return near the benchmark,
 *    while the same scores unshuffled show both clearly (so the property
 *    can fail);
 *  - no look-ahead: the panel and prices cut after a date X give the same
 *    daily IC for every date <= X and the same backtest step, bit for bit,
 *    for every step that ends at or before X.
 */
#include "eval_testkit.c"

#define NSYM 50
#define NDAYS 600

/* A random-walk market (daily log-return sd 1%) with h = 1 labels. */
struct market {
    double close[NSYM][NDAYS];
    struct tk_prices pr;
};

static void make_market(struct market *mk, struct tk_rng *rng)
{
    tk_prices_init(&mk->pr, NSYM);
    for (int s = 0; s < NSYM; s++) {
        double c = 50;
        for (int d = 0; d < NDAYS; d++) {
            mk->close[s][d] = c;
            tk_prices_add(&mk->pr, (size_t)s, tk_day(d), c);
            c *= exp(0.01 * tk_normal(rng));
        }
    }
}

static double ret(const struct market *mk, int s, int d)
{
    return mk->close[s][d + 1] / mk->close[s][d] - 1;
}

/*
 * Scores that know the label (t -> t+1) and the return the backtest earns
 * (t+1 -> t+2), plus noise of the same size; shuffled across symbols on each
 * date when `shuffle`.  Dates NDAYS-2.. have no such future and no rows.
 */
static void make_panel(const struct market *mk, struct tk_rng *rng, int shuffle,
                       struct tk_panel *t)
{
    tk_panel_init(t, NSYM);
    for (int d = 0; d + 2 < NDAYS; d++) {
        double sc[NSYM];
        for (int s = 0; s < NSYM; s++)
            sc[s] = ret(mk, s, d) + ret(mk, s, d + 1) + 0.01 * tk_normal(rng);
        for (int s = NSYM - 1; shuffle && s > 0; s--) {   /* Fisher-Yates */
            int j = (int)(tk_next(rng) % (uint64_t)(s + 1));
            double x = sc[s];
            sc[s] = sc[j];
            sc[j] = x;
        }
        for (int s = 0; s < NSYM; s++)
            tk_panel_add(t, tk_day(d), (uint32_t)s, sc[s], ret(mk, s, d), 1);
    }
}

/* Mean IC and mean gross excess per step (R - b) of a panel. */
static void edge(const struct tk_panel *t, const struct tk_prices *pr, double *ic,
                 double *excess)
{
    struct quant_eval_signal_params sp = {.horizon = 1, .quantiles = 5};
    struct quant_eval_signal s;
    struct quant_err err = {0};
    assert_int_equal(quant_eval_signal_compute(&t->p, &sp, &s, &err), QUANT_OK);
    assert_int_equal(s.ic.dates, NDAYS - 2);
    *ic = s.ic.mean;
    quant_eval_signal_release(&s);
    struct quant_eval_bt_params p;
    quant_eval_bt_params_default(&p);
    p.topk = 10;
    p.n_drop = 3;
    struct quant_eval_backtest bt;
    if (quant_eval_backtest_run(&t->p, pr->s, &p, &bt, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    double sum = 0;
    for (size_t j = 0; j < bt.n_days; j++)
        sum += bt.days[j].gross - bt.days[j].benchmark;
    *excess = sum / (double)bt.n_days;
    quant_eval_backtest_release(&bt);
}

static void test_shuffled_scores_have_no_edge(void **state)
{
    (void)state;
    static struct market mk;
    struct tk_rng rng = {20240611};
    make_market(&mk, &rng);
    struct tk_panel t;
    double ic, excess;

    make_panel(&mk, &rng, 0, &t);
    edge(&t, &mk.pr, &ic, &excess);
    tk_panel_free(&t);
    print_message("informative scores: mean IC %.4f, mean excess %.5f a step\n", ic, excess);
    /* corr(score, label) is 1/sqrt(3) = 0.577; ten names from the top fifth of a
     * score 58% correlated with the next return earn ~0.5% a step more than the
     * market (seeded: 0.577 and 0.0050 here) */
    assert_true(ic > 0.4);
    assert_true(excess > 0.003);

    make_panel(&mk, &rng, 1, &t);
    edge(&t, &mk.pr, &ic, &excess);
    tk_panel_free(&t);
    print_message("shuffled scores: mean IC %.4f, mean excess %.5f a step\n", ic, excess);
    /* Shuffled, a date's IC over 50 names has sd ~ 1/sqrt(49) = 0.143 and the
     * 598 dates are independent: the mean has sd 0.0058, and 0.03 is over 5 sd.
     * R - b is the mean of 10 of the 50 returns minus the mean of all 50: sd
     * 0.01 sqrt(1/10 - 1/50) = 0.0028 a step; the holdings are chosen
     * independently of the returns that follow, so steps are independent and
     * the mean over 598 has sd 0.000116: 0.0006 is over 5 sd. */
    assert_true(fabs(ic) < 0.03);
    assert_true(fabs(excess) < 0.0006);
    tk_prices_free(&mk.pr);
}

/* Panel rows and prices with date <= x. */
static void cut(const struct tk_panel *t, const struct tk_prices *pr, int32_t x,
                struct tk_panel *tc, struct tk_prices *pc)
{
    tk_panel_init(tc, t->p.n_symbols);
    for (size_t i = 0; i < t->p.n_rows && t->date[i] <= x; i++)
        tk_panel_add(tc, t->date[i], t->symbol[i], t->score[i], t->fwd_ret[i], t->member[i]);
    tk_panel_universe(tc, t->p.member != NULL);
    tk_prices_init(pc, pr->n);
    for (size_t s = 0; s < pr->n; s++)
        for (size_t i = 0; i < pr->s[s].n && pr->s[s].date[i] <= x; i++)
            tk_prices_add(pc, s, pr->s[s].date[i], pr->s[s].close[i]);
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void same_steps(const struct quant_eval_bt_day *a, const struct quant_eval_bt_day *b,
                       size_t n)
{
    for (size_t j = 0; j < n; j++) {
        assert_int_equal(a[j].date, b[j].date);
        assert_int_equal(a[j].signal_date, b[j].signal_date);
        assert_int_equal(a[j].n_held, b[j].n_held);
        assert_true(same(a[j].gross, b[j].gross) && same(a[j].net, b[j].net));
        assert_true(same(a[j].benchmark, b[j].benchmark) && same(a[j].cost, b[j].cost));
        assert_true(same(a[j].turnover, b[j].turnover) && same(a[j].equity, b[j].equity));
        assert_true(same(a[j].equity_gross, b[j].equity_gross));
    }
}

/*
 * A ragged random panel: 12 symbols, rows missing, scores missing or tied,
 * labels of h = 5 missing at the end, membership switching, bars missing.
 */
static void ragged(struct tk_rng *rng, struct tk_panel *t, struct tk_prices *pr)
{
    enum { NS = 12, ND = 160 };
    tk_panel_init(t, NS);
    tk_prices_init(pr, NS);
    double c[NS];
    for (int s = 0; s < NS; s++)
        c[s] = 20 + s;
    for (int d = 0; d < ND; d++) {
        for (int s = 0; s < NS; s++) {
            c[s] *= exp(0.02 * tk_normal(rng));
            if (tk_unif(rng) < 0.9)
                tk_prices_add(pr, (size_t)s, tk_day(d), c[s]);
            if (tk_unif(rng) < 0.15)
                continue;
            double score = tk_unif(rng) < 0.1 ? NAN : floor(tk_unif(rng) * 20) / 20;
            double label = d >= ND - 5 || tk_unif(rng) < 0.05 ? NAN : 0.05 * tk_normal(rng);
            tk_panel_add(t, tk_day(d), (uint32_t)s, score, label, tk_unif(rng) < 0.9);
        }
    }
    tk_panel_universe(t, 1);
}

static void test_truncation_changes_nothing_before(void **state)
{
    (void)state;
    struct tk_rng rng = {99};
    struct tk_panel t;
    struct tk_prices pr;
    ragged(&rng, &t, &pr);
    struct quant_eval_signal_params sp = {.horizon = 5, .quantiles = 5};
    struct quant_eval_bt_params bp;
    quant_eval_bt_params_default(&bp);
    bp.topk = 4;
    bp.n_drop = 2;
    struct quant_err err = {0};
    struct quant_eval_signal s_all, s_cut;
    struct quant_eval_backtest b_all, b_cut;
    struct quant_eval_singles g_all, g_cut;
    assert_int_equal(quant_eval_signal_compute(&t.p, &sp, &s_all, &err), QUANT_OK);
    assert_int_equal(quant_eval_backtest_run(&t.p, pr.s, &bp, &b_all, &err), QUANT_OK);
    assert_int_equal(quant_eval_single_run(&t.p, pr.s, &bp, &g_all, &err), QUANT_OK);
    const int cuts[] = {40, 77, 120, 158};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        int32_t x = tk_day(cuts[k]);
        struct tk_panel tc;
        struct tk_prices pc;
        cut(&t, &pr, x, &tc, &pc);
        assert_int_equal(quant_eval_signal_compute(&tc.p, &sp, &s_cut, &err), QUANT_OK);
        assert_int_equal(s_cut.n_days, (size_t)cuts[k] + 1);
        for (size_t d = 0; d < s_cut.n_days; d++) {
            assert_int_equal(s_cut.days[d].date, s_all.days[d].date);
            assert_int_equal(s_cut.days[d].n, s_all.days[d].n);
            assert_int_equal(s_cut.days[d].counted, s_all.days[d].counted);
            assert_true(same(s_cut.days[d].ic, s_all.days[d].ic));
            assert_true(same(s_cut.days[d].rank_ic, s_all.days[d].rank_ic));
        }
        /* Steps ending at or before x: every one the cut panel has. */
        assert_int_equal(quant_eval_backtest_run(&tc.p, pc.s, &bp, &b_cut, &err), QUANT_OK);
        assert_int_equal(b_cut.days[b_cut.n_days - 1].date, x);
        assert_true(b_cut.n_days < b_all.n_days || k == 3);
        same_steps(b_cut.days, b_all.days, b_cut.n_days);
        for (size_t i = 0; i < b_cut.held_off[b_cut.n_days]; i++)
            assert_int_equal(b_cut.held[i], b_all.held[i]);
        assert_int_equal(quant_eval_single_run(&tc.p, pc.s, &bp, &g_cut, &err), QUANT_OK);
        assert_int_equal(g_cut.n, g_all.n);
        for (size_t i = 0; i < g_cut.n; i++)
            same_steps(g_cut.v[i].days, g_all.v[i].days, g_cut.v[i].m.steps);
        quant_eval_signal_release(&s_cut);
        quant_eval_backtest_release(&b_cut);
        quant_eval_singles_release(&g_cut);
        tk_panel_free(&tc);
        tk_prices_free(&pc);
    }
    quant_eval_signal_release(&s_all);
    quant_eval_backtest_release(&b_all);
    quant_eval_singles_release(&g_all);
    tk_panel_free(&t);
    tk_prices_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shuffled_scores_have_no_edge),
        cmocka_unit_test(test_truncation_changes_nothing_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
