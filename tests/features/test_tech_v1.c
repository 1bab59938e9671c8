/*
 * test_tech_v1.c: the `tech-v1` set against the naive reference on every
 * shared price history and on synthetic edge cases, hand-computed spot values
 * (which check the reference itself), the spec's warm-ups, the split
 * adjustment, and the absence of look-ahead (truncated histories).
 */
#include "test_util.h"

#include "feature_testkit.c"

static const struct quant_feature_set *tech(void)
{
    const struct quant_feature_set *set = quant_feature_set_find("tech-v1");
    assert_non_null(set);
    return set;
}

static void test_registry(void **state)
{
    (void)state;
    const struct quant_feature_set *set = tech();
    assert_string_equal(quant_feature_set_name(set), "tech-v1");
    assert_int_equal(quant_feature_set_size(set), NAIVE_TECH_V1_COUNT);
    for (size_t i = 0; i < NAIVE_TECH_V1_COUNT; i++) {
        assert_string_equal(quant_feature_set_feature(set, i), naive_tech_v1_names[i]);
        assert_int_equal(quant_feature_set_index(set, naive_tech_v1_names[i]), (long)i);
    }
    assert_null(quant_feature_set_feature(set, NAIVE_TECH_V1_COUNT));
    assert_int_equal(quant_feature_set_index(set, "nope"), -1);
    assert_null(quant_feature_set_find("tech-v2"));
    assert_null(quant_feature_set_find(NULL));
    assert_int_equal(quant_feature_set_count(), 2);
    assert_ptr_equal(quant_feature_set_at(0), set);
    assert_null(quant_feature_set_at(2));
}

static void test_real_histories(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    size_t n = tk_ohlcv_files(paths);
    assert_true(n >= 8);
    long bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct quant_bars b;
        tk_load(paths[i], &b);
        bad += tk_check_bars(paths[i], tech(), naive_tech_v1, &b);
        quant_bars_release(&b);
    }
    assert_int_equal(bad, 0);
}

static void test_edge_cases(void **state)
{
    (void)state;
    tk_check_edges(tech(), naive_tech_v1);
}

/* 15 closes with ten +1 steps and four -1 steps, then a +2 step. */
static void test_spot_rsi(void **state)
{
    (void)state;
    const int steps[15] = {+1, +1, -1, +1, +1, -1, +1, +1, -1, +1, +1, -1, +1, +1, +2};
    double c[16] = {100};
    for (int i = 0; i < 15; i++)
        c[i + 1] = c[i] + steps[i];
    struct quant_bars b;
    tk_from_closes(&b, c, 16);
    struct quant_feature_matrix m = {0};
    tk_compute(tech(), &b, &m);
    assert_false(tk_present(tech(), &m, "rsi_14", 13));
    /* G = 10/14, L = 4/14: RSI = 100 - 100 / (1 + 2.5) */
    assert_true(tk_close(tk_value(tech(), &m, "rsi_14", 14), 100.0 - 100.0 / 3.5));
    /* G = (13 * 10/14 + 2) / 14, L = 13 * 4/14 / 14: G / L = 158 / 52 */
    assert_true(tk_close(tk_value(tech(), &m, "rsi_14", 15), 100.0 * 158.0 / 210.0));
    /* ret_1 and hl_range (o = h = l = c here) */
    assert_true(tk_close(tk_value(tech(), &m, "ret_1", 1), 0.01));
    assert_true(tk_close(tk_value(tech(), &m, "ret_1", 3), 101.0 / 102.0 - 1.0));
    assert_true(tk_value(tech(), &m, "hl_range", 0) == 0.0);
    /* stoch: c[13] = 105 is the high of c[0..13] (low 100); c[15] = 108 a new high */
    assert_true(tk_close(tk_value(tech(), &m, "stoch_k_14", 13), (105.0 - 100.0) / (105.0 - 100.0)));
    assert_true(tk_close(tk_value(tech(), &m, "stoch_k_14", 15), 1.0));
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);

    /* Only gains: RSI 100; no change at all: RSI 50. */
    double up[15], flat[15];
    for (int i = 0; i < 15; i++) {
        up[i] = 10.0 + i;
        flat[i] = 10.0;
    }
    tk_from_closes(&b, up, 15);
    tk_compute(tech(), &b, &m);
    assert_true(tk_value(tech(), &m, "rsi_14", 14) == 100.0);
    quant_bars_release(&b);
    tk_from_closes(&b, flat, 15);
    tk_compute(tech(), &b, &m);
    assert_true(tk_value(tech(), &m, "rsi_14", 14) == 50.0);
    assert_false(tk_present(tech(), &m, "stoch_k_14", 14));   /* range 0 */
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

/* The "first t" column of the spec table, on a long enough walk. */
static void test_warmups(void **state)
{
    (void)state;
    struct { const char *name; size_t first; } want[] = {
        {"ret_1", 1}, {"ret_5", 5}, {"ret_20", 20}, {"vol_20", 20}, {"sma_ratio_10", 9},
        {"sma_ratio_50", 49}, {"sma_cross_10_50", 49}, {"rsi_14", 14}, {"macd", 25},
        {"macd_signal", 33}, {"macd_hist", 33}, {"bb_pctb_20", 19}, {"atr_ratio_14", 14},
        {"vol_z_20", 19}, {"hl_range", 0}, {"gap", 1}, {"stoch_k_14", 13},
    };
    struct quant_bars b;
    tk_walk(&b, 120, 3);
    struct quant_feature_matrix m = {0};
    tk_compute(tech(), &b, &m);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal(tk_first(tech(), &m, want[i].name), want[i].first);
        for (size_t t = want[i].first; t < b.n; t++)
            assert_true(tk_present(tech(), &m, want[i].name, t));
    }
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

/* macd_signal seeded with macd_25: on t = 26 it is alpha * macd_26 + (1 - alpha) macd_25. */
static void test_spot_macd_seed(void **state)
{
    (void)state;
    struct quant_bars b;
    tk_walk(&b, 40, 11);
    struct quant_feature_matrix m = {0};
    tk_compute(tech(), &b, &m);
    long f = quant_feature_set_index(tech(), "macd");
    const double *macd = m.values + (size_t)f * m.n_rows;
    double e = macd[25], alpha = 0.2;
    for (size_t t = 26; t <= 33; t++)
        e = alpha * macd[t] + (1 - alpha) * e;
    assert_true(tk_close(tk_value(tech(), &m, "macd_signal", 33), e));
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

/* A 4:1 split with a continuous adj_close gives the features of the unsplit walk. */
static void test_split_adjusted(void **state)
{
    (void)state;
    struct quant_bars split, plain;
    tk_edge_series(TK_SPLIT, 300, &split);
    tk_walk(&plain, 300, 7 + TK_SPLIT);
    struct quant_feature_matrix a = {0}, b = {0};
    tk_compute(tech(), &split, &a);
    tk_compute(tech(), &plain, &b);
    for (size_t i = 0; i < a.n_features * a.n_rows; i++) {
        assert_int_equal(a.valid[i], b.valid[i]);
        if (a.valid[i])
            assert_true(tk_close(a.values[i], b.values[i]));
    }
    quant_feature_matrix_release(&a);
    quant_feature_matrix_release(&b);
    quant_bars_release(&split);
    quant_bars_release(&plain);
}

static void test_no_lookahead(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    size_t n = tk_ohlcv_files(paths);
    for (size_t i = 0; i < n; i++) {
        struct quant_bars b;
        tk_load(paths[i], &b);
        tk_check_cuts(tech(), &b, 25);
        quant_bars_release(&b);
    }
}

static void test_errors(void **state)
{
    (void)state;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_bars b;
    tk_walk(&b, 10, 1);
    b.v[5].date = b.v[4].date;   /* duplicate date */
    struct quant_adjusted adj = {0};
    assert_int_equal(quant_adjusted_compute(&b, &adj, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "ascending"));
    struct quant_feature_matrix m = {0};
    assert_int_equal(quant_features_compute(NULL, &adj, &m, &err), QUANT_EINVAL);
    /* an empty series is an empty matrix, not an error */
    b.n = 0;
    assert_int_equal(quant_adjusted_compute(&b, &adj, &err), QUANT_OK);
    assert_int_equal(quant_features_compute(tech(), &adj, &m, &err), QUANT_OK);
    assert_int_equal(m.n_rows, 0);
    quant_feature_matrix_release(&m);
    quant_adjusted_release(&adj);
    quant_bars_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_real_histories),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_spot_rsi),
        cmocka_unit_test(test_warmups),
        cmocka_unit_test(test_spot_macd_seed),
        cmocka_unit_test(test_split_adjusted),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
