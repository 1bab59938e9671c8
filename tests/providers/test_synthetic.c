/*
 * test_synthetic.c: the synthetic market is deterministic per (seed, symbol),
 * independent of the rest of the universe, always a valid bar series, and has
 * the stylised facts it claims (splits with a continuous adjusted series,
 * volatility clustering, volume that rises with |return|).
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "providers/synthetic_internal.h"

static void options(struct quant_synth_options *o, int n_days)
{
    quant_synth_options_default(o);
    o->n_days = n_days;
    o->end_date = quant_days_from_civil(2024, 6, 30); /* a Sunday: ends Friday 06-28 */
}

static void generate(const struct quant_synth_options *o, const char *sym, struct quant_bars *b)
{
    struct quant_err err;
    quant_bars_init(b);
    if (quant_synth_generate(o, sym, b, &err))
        fail_msg("generate %s: %s", sym, err.msg);
}

/* Field by field: memcmp would also compare the padding after `date`. */
static int same_bar(const struct quant_bar *x, const struct quant_bar *y)
{
    return x->date == y->date && x->open == y->open && x->high == y->high &&
           x->low == y->low && x->close == y->close && x->adj_close == y->adj_close &&
           x->volume == y->volume && x->dividend == y->dividend && x->split == y->split;
}

static int same_range(const struct quant_bar *a, const struct quant_bar *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!same_bar(&a[i], &b[i]))
            return 0;
    return 1;
}

static int same_bars(const struct quant_bars *a, const struct quant_bars *b)
{
    return a->n == b->n && same_range(a->v, b->v, a->n);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct quant_synth_options o;
    options(&o, 1000);
    struct quant_bars a, b, c;
    generate(&o, "SYN0001", &a);
    generate(&o, "SYN0001", &b);
    generate(&o, "SYN0002", &c);
    assert_true(same_bars(&a, &b));
    assert_false(same_bars(&a, &c));
    assert_string_equal(a.symbol, "SYN0001");
    quant_bars_release(&c);
    o.seed = 7;
    generate(&o, "SYN0001", &c);
    assert_false(same_bars(&a, &c));
    quant_bars_release(&a);
    quant_bars_release(&b);
    quant_bars_release(&c);
}

static void test_independent_of_universe(void **state)
{
    (void)state;
    struct quant_synth_options o;
    options(&o, 2000);
    struct quant_bars alone, after;
    generate(&o, "SYN0003", &alone);
    for (int i = 0; i < 3; i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(i, sym);
        struct quant_bars other;
        generate(&o, sym, &other);
        quant_bars_release(&other);
    }
    generate(&o, "SYN0003", &after);
    assert_true(same_bars(&alone, &after));
    quant_bars_release(&alone);
    quant_bars_release(&after);
    char name[QUANT_SYMBOL_MAX + 1];
    quant_synth_symbol_name(42, name);
    assert_string_equal(name, "SYN0042");
}

static void check_invariants(const struct quant_bars *b, int n_days, int32_t last)
{
    assert_int_equal(b->n, (size_t)n_days);
    assert_int_equal(b->v[b->n - 1].date, last);
    for (size_t i = 0; i < b->n; i++) {
        const struct quant_bar *x = &b->v[i];
        if (!(x->low > 0 && x->low <= fmin(x->open, x->close) &&
              x->high >= fmax(x->open, x->close) && x->adj_close > 0))
            fail_msg("%s bar %zu: o %g h %g l %g c %g", b->symbol, i, x->open, x->high, x->low,
                     x->close);
        assert_true(x->volume >= 0 && x->volume == floor(x->volume));
        assert_true(quant_weekday(x->date) < 5);
        assert_true(x->split >= 1.0 && x->dividend == 0.0);
        if (i > 0)
            assert_true(x->date > b->v[i - 1].date);
    }
}

/* log(adj[i]/adj[i-1]) and log(close[i]/close[i-1]) agree except on split days. */
static int check_splits(const struct quant_bars *b)
{
    int splits = 0;
    for (size_t i = 1; i < b->n; i++) {
        const struct quant_bar *p = &b->v[i - 1], *x = &b->v[i];
        double adj_ret = log(x->adj_close / p->adj_close);
        double raw_ret = log(x->close / p->close);
        /* closes are rounded to 4 decimals: allow for that in log space */
        double tol = 1e-4 / x->close + 1e-4 / p->close + 1e-9;
        if (x->split != 1.0) {
            splits++;
            /* the raw price drops by about the ratio; the adjusted one does not */
            assert_true(raw_ret < -log(x->split) + 0.5);
            assert_true(fabs(adj_ret - (raw_ret + log(x->split))) < tol);
        } else {
            assert_true(fabs(adj_ret - raw_ret) < tol);
        }
    }
    /* After the last split adj_close equals close (to the close's rounding). */
    const struct quant_bar *last = &b->v[b->n - 1];
    assert_true(fabs(last->adj_close - last->close) <= 1e-4);
    return splits;
}

static void test_invariants_and_splits(void **state)
{
    (void)state;
    struct quant_synth_options o;
    options(&o, 6500);
    int32_t last = quant_days_from_civil(2024, 6, 28);
    int splits = 0;
    for (int i = 0; i < 50; i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(i, sym);
        struct quant_bars b;
        generate(&o, sym, &b);
        check_invariants(&b, 6500, last);
        splits += check_splits(&b);
        quant_bars_release(&b);
    }
    print_message("splits over 50 x 6500 days: %d\n", splits);
    assert_true(splits >= 1);
}

static double correlation(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

static void test_stylised_facts(void **state)
{
    (void)state;
    struct quant_synth_options o;
    options(&o, 6500);
    double acf_sum = 0, vol_corr_sum = 0;
    const int n_sym = 10;
    for (int s = 0; s < n_sym; s++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(s, sym);
        struct quant_bars b;
        generate(&o, sym, &b);
        size_t n = b.n - 1;
        double *absret = malloc(n * sizeof *absret), *logvol = malloc(n * sizeof *logvol);
        assert_non_null(absret);
        assert_non_null(logvol);
        for (size_t i = 0; i < n; i++) {
            absret[i] = fabs(log(b.v[i + 1].adj_close / b.v[i].adj_close));
            logvol[i] = log(b.v[i + 1].volume + 1.0);
        }
        acf_sum += correlation(absret, absret + 1, n - 1); /* lag-1 autocorrelation */
        vol_corr_sum += correlation(absret, logvol, n);
        free(absret);
        free(logvol);
        quant_bars_release(&b);
    }
    print_message("mean lag-1 acf of |r| %.3f, corr(|r|, log volume) %.3f\n", acf_sum / n_sym,
                  vol_corr_sum / n_sym);
    assert_true(acf_sum / n_sym > 0.05);
    assert_true(vol_corr_sum / n_sym > 0.1);
}

/* Tomorrow's run of the same market adds a bar; it does not rewrite history. */
static void test_window_moves_forward(void **state)
{
    (void)state;
    struct quant_synth_options a, b;
    quant_synth_options_default(&a);
    a.n_days = 300;
    a.end_date = quant_days_from_civil(2024, 6, 3);  /* a Monday */
    b = a;
    b.end_date = quant_days_from_civil(2024, 6, 4);  /* one trading day later */
    struct quant_bars x, y;
    quant_bars_init(&x);
    quant_bars_init(&y);
    struct quant_err err;
    assert_int_equal(quant_synth_generate(&a, "AAPL", &x, &err), QUANT_OK);
    assert_int_equal(quant_synth_generate(&b, "AAPL", &y, &err), QUANT_OK);
    assert_int_equal(x.n, 300);
    assert_int_equal(y.n, 300);
    /* y is x shifted by one day: y[i] == x[i + 1] for the raw prices */
    for (size_t i = 0; i + 1 < x.n; i++) {
        assert_int_equal(y.v[i].date, x.v[i + 1].date);
        assert_true(y.v[i].close == x.v[i + 1].close);
        assert_true(y.v[i].open == x.v[i + 1].open);
        assert_true(y.v[i].volume == x.v[i + 1].volume);
    }
    assert_int_equal(y.v[y.n - 1].date, b.end_date);
    quant_bars_release(&x);
    quant_bars_release(&y);
}

static void test_provider(void **state)
{
    (void)state;
    struct quant_synth_options o;
    options(&o, 500);
    struct quant_provider p;
    struct quant_err err;
    assert_int_equal(quant_synth_open(&o, &p, &err), QUANT_OK);
    assert_string_equal(p.ops->name, "synthetic");
    assert_int_equal(p.ops->caps & QUANT_PROVIDER_METERED, 0); /* generated locally */
    struct quant_bars full, compact, direct;
    quant_bars_init(&full);
    quant_bars_init(&compact);
    struct quant_fetch_info info = {0};
    assert_int_equal(p.ops->fetch_daily(p.state, "abc", QUANT_FETCH_FULL, &full, &info, &err),
                     QUANT_OK);
    assert_int_equal(p.ops->fetch_daily(p.state, "ABC", QUANT_FETCH_COMPACT, &compact, &info,
                                        &err), QUANT_OK);
    assert_int_equal(full.n, 500);
    assert_int_equal(compact.n, 100);
    assert_string_equal(full.symbol, "ABC");
    assert_true(same_range(compact.v, full.v + 400, 100));
    generate(&o, "ABC", &direct);
    assert_true(same_bars(&direct, &full));
    quant_bars_release(&direct);
    quant_bars_release(&full);
    quant_bars_release(&compact);
    quant_bars_init(&full);
    assert_int_equal(p.ops->fetch_daily(p.state, "A;B", QUANT_FETCH_FULL, &full, &info, &err),
                     QUANT_EINVAL);
    quant_bars_release(&full);
    p.ops->close(p.state);

    o.n_days = 0;
    quant_bars_init(&full);
    assert_int_equal(quant_synth_generate(&o, "X", &full, &err), QUANT_EINVAL);
    quant_bars_release(&full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_independent_of_universe),
        cmocka_unit_test(test_invariants_and_splits),
        cmocka_unit_test(test_stylised_facts),
        cmocka_unit_test(test_window_moves_forward),
        cmocka_unit_test(test_provider),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
