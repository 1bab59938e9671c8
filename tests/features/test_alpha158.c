/*
 * test_alpha158.c: the `alpha158` set against the naive reference on every
 * shared price history and on synthetic edge cases, hand-computed spot values
 * on a six-bar series (rank and quantile with ties, idxmax ties, OLS, counts),
 * the spec's first rows, the split adjustment and the absence of look-ahead.
 */
#include "test_util.h"

#include <pthread.h>

#include "feature_testkit.c"

static const struct quant_feature_set *alpha(void)
{
    const struct quant_feature_set *set = quant_feature_set_find("alpha158");
    assert_non_null(set);
    return set;
}

static void test_registry(void **state)
{
    (void)state;
    naive_alpha158_names_init();
    const struct quant_feature_set *set = alpha();
    assert_string_equal(quant_feature_set_name(set), "alpha158");
    assert_int_equal(quant_feature_set_size(set), NAIVE_ALPHA158_COUNT);
    for (size_t i = 0; i < NAIVE_ALPHA158_COUNT; i++)
        assert_string_equal(quant_feature_set_feature(set, i), naive_alpha158_names[i]);
    assert_string_equal(quant_feature_set_feature(set, 13), "ROC5");
    assert_string_equal(quant_feature_set_feature(set, 157), "VSUMD60");
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
        bad += tk_check_bars(paths[i], alpha(), naive_alpha158, &b);
        quant_bars_release(&b);
    }
    assert_int_equal(bad, 0);
}

static void test_edge_cases(void **state)
{
    (void)state;
    tk_check_edges(alpha(), naive_alpha158);
}

static void assert_near(const struct quant_feature_matrix *m, const char *name, size_t t,
                        double want)
{
    double got = tk_value(alpha(), m, name, t);
    if (!tk_close(got, want))
        print_message("%s t=%zu: got %.17g want %.17g\n", name, t, got, want);
    assert_true(tk_close(got, want));
}

/* Closes 10 12 11 12 9 12 (o = h = l = c), worked by hand for d = 5. */
static void test_spot_window_ops(void **state)
{
    (void)state;
    const double c[6] = {10, 12, 11, 12, 9, 12};
    struct quant_bars b;
    tk_from_closes(&b, c, 6);
    struct quant_feature_matrix m = {0};
    tk_compute(alpha(), &b, &m);
    /* t = 4, window 10 12 11 12 9: mean 10.8, Syy 6.8, Sxy -2, Sxx 10 */
    assert_near(&m, "MA5", 4, 10.8 / 9);
    assert_near(&m, "STD5", 4, sqrt(1.7) / 9);
    assert_near(&m, "BETA5", 4, -0.2 / 9);
    assert_near(&m, "RSQR5", 4, 4.0 / 68.0);
    assert_near(&m, "RESI5", 4, (9 - 10.4) / 9);
    assert_near(&m, "RANK5", 4, 0.2);                 /* the minimum: (0 + 1 + 1) / 10 */
    assert_near(&m, "QTLD5", 4, (9 + 0.8 * 1) / 9);   /* sorted 9 10 11 12 12, p = 0.8 */
    assert_near(&m, "QTLU5", 4, 12.0 / 9);            /* p = 3.2 between two 12s */
    assert_near(&m, "IMAX5", 4, 2.0 / 5);             /* 12 first at position 2 (ties: oldest) */
    assert_near(&m, "IMIN5", 4, 5.0 / 5);
    assert_near(&m, "MAX5", 4, 12.0 / 9);
    assert_false(tk_present(alpha(), &m, "ROC5", 4));
    assert_false(tk_present(alpha(), &m, "CNTP5", 4));
    /* t = 5, window 12 11 12 9 12: ties for the rank of 12 */
    assert_near(&m, "RANK5", 5, (2 + 5 + 1) / 10.0);
    assert_near(&m, "QTLD5", 5, (9 + 0.8 * 2) / 12);  /* sorted 9 11 12 12 12 */
    assert_near(&m, "QTLU5", 5, 1.0);
    assert_near(&m, "IMAX5", 5, 1.0 / 5);
    assert_near(&m, "IMIN5", 5, 4.0 / 5);
    assert_near(&m, "IMXD5", 5, (1.0 - 4.0) / 5);
    assert_near(&m, "ROC5", 5, 10.0 / 12);
    /* changes over t = 1..5: +2 -1 +1 -3 +3 */
    assert_near(&m, "CNTP5", 5, 0.6);
    assert_near(&m, "CNTN5", 5, 0.4);
    assert_near(&m, "CNTD5", 5, 0.2);
    assert_near(&m, "SUMP5", 5, 6.0 / (10.0 + 1e-12));
    assert_near(&m, "SUMN5", 5, 4.0 / (10.0 + 1e-12));
    assert_near(&m, "SUMD5", 5, 2.0 / (10.0 + 1e-12));
    /* volume 1000 + t rises by 1 each day */
    assert_near(&m, "VSUMP5", 5, 5.0 / (5.0 + 1e-12));
    assert_near(&m, "VMA5", 5, 1003.0 / 1005.0);
    assert_false(tk_present(alpha(), &m, "MA10", 5));
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

static void test_spot_kbar(void **state)
{
    (void)state;
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_bar bar = {.date = 1, .open = 10, .high = 12, .low = 9, .close = 11,
                            .adj_close = NAN, .volume = 5, .dividend = NAN, .split = NAN};
    assert_int_equal(quant_bars_push(&b, &bar), QUANT_OK);
    struct quant_feature_matrix m = {0};
    tk_compute(alpha(), &b, &m);
    assert_near(&m, "KMID", 0, 0.1);
    assert_near(&m, "KLEN", 0, 0.3);
    assert_near(&m, "KMID2", 0, 1.0 / (3 + 1e-12));
    assert_near(&m, "KUP", 0, 0.1);
    assert_near(&m, "KUP2", 0, 1.0 / 3);
    assert_near(&m, "KLOW", 0, 0.1);
    assert_near(&m, "KLOW2", 0, 1.0 / 3);
    assert_near(&m, "KSFT", 0, 0.1);
    assert_near(&m, "KSFT2", 0, 1.0 / 3);
    assert_near(&m, "OPEN0", 0, 10.0 / 11);
    assert_near(&m, "HIGH0", 0, 12.0 / 11);
    assert_near(&m, "LOW0", 0, 9.0 / 11);
    assert_near(&m, "VWAP0", 0, (32.0 / 3) / 11);
    for (size_t f = 13; f < m.n_features; f++)
        assert_int_equal(m.valid[f], 0);   /* one bar: no rolling row at all */
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

/* First t with a row: d - 1 on C, H, L, V alone; d for ROC and Ref(., 1) users. */
static void test_first_rows(void **state)
{
    (void)state;
    static const char *const at_d[] = {"ROC", "CORD", "CNTP", "CNTN", "CNTD", "SUMP", "SUMN",
                                       "SUMD", "WVMA", "VSUMP", "VSUMN", "VSUMD"};
    struct quant_bars b;
    tk_walk(&b, 200, 5);
    struct quant_feature_matrix m = {0};
    tk_compute(alpha(), &b, &m);
    const size_t ds[5] = {5, 10, 20, 30, 60};
    for (size_t f = 0; f < 13; f++)
        assert_int_equal(tk_first(alpha(), &m, quant_feature_set_feature(alpha(), f)), 0);
    for (size_t f = 13; f < m.n_features; f++) {
        const char *name = quant_feature_set_feature(alpha(), f);
        size_t d = ds[(f - 13) % 5], want = d - 1;
        for (size_t i = 0; i < sizeof at_d / sizeof *at_d; i++) {
            size_t len = strlen(at_d[i]);
            if (strncmp(name, at_d[i], len) == 0 && name[len] >= '0' && name[len] <= '9')
                want = d;
        }
        if (tk_first(alpha(), &m, name) != want)
            print_message("%s: first row %zu, want %zu\n", name, tk_first(alpha(), &m, name),
                          want);
        assert_int_equal(tk_first(alpha(), &m, name), want);
    }
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

/* Degenerate windows: constant prices have no RSQR, CORR or CORD row, but a 0 STD. */
static void test_degenerate(void **state)
{
    (void)state;
    struct quant_bars b;
    tk_constant(&b, 70, 20.0, 500.0);
    struct quant_feature_matrix m = {0};
    tk_compute(alpha(), &b, &m);
    for (size_t t = 0; t < b.n; t++) {
        assert_false(tk_present(alpha(), &m, "RSQR5", t));
        assert_false(tk_present(alpha(), &m, "CORR60", t));
        assert_false(tk_present(alpha(), &m, "CORD10", t));
    }
    assert_true(tk_value(alpha(), &m, "STD60", 69) == 0.0);
    assert_true(tk_value(alpha(), &m, "VSTD20", 69) == 0.0);
    assert_true(tk_value(alpha(), &m, "BETA30", 69) == 0.0);
    assert_true(tk_value(alpha(), &m, "RANK5", 69) == 0.6);   /* (0 + 5 + 1) / 10 */
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

static void test_split_adjusted(void **state)
{
    (void)state;
    struct quant_bars split, plain;
    tk_edge_series(TK_SPLIT, 300, &split);
    tk_walk(&plain, 300, 7 + TK_SPLIT);
    struct quant_feature_matrix a = {0}, b = {0};
    tk_compute(alpha(), &split, &a);
    tk_compute(alpha(), &plain, &b);
    long bad = 0;
    for (size_t i = 0; i < a.n_features * a.n_rows; i++)
        bad += a.valid[i] != b.valid[i] || (a.valid[i] && !tk_close(a.values[i], b.values[i]));
    assert_int_equal(bad, 0);
    quant_feature_matrix_release(&a);
    quant_feature_matrix_release(&b);
    quant_bars_release(&split);
    quant_bars_release(&plain);
}

/* 25 cuts on every shared history (about 0.2 s optimised, a few s under ASan). */
static void test_no_lookahead(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    size_t n = tk_ohlcv_files(paths);
    for (size_t i = 0; i < n; i++) {
        struct quant_bars b;
        tk_load(paths[i], &b);
        tk_check_cuts(alpha(), &b, 25);
        quant_bars_release(&b);
    }
}

struct thread_job {
    const struct quant_bars *bars;
    struct quant_feature_matrix m;
    int rc;
};

static void *thread_compute(void *arg)
{
    struct thread_job *j = arg;
    struct quant_adjusted adj = {0};
    struct quant_err err;
    quant_err_clear(&err);
    j->rc = quant_adjusted_compute(j->bars, &adj, &err);
    for (int rep = 0; rep < 3 && !j->rc; rep++)   /* reuse the matrix, as a worker would */
        j->rc = quant_features_compute(alpha(), &adj, &j->m, &err);
    quant_adjusted_release(&adj);
    return NULL;
}

/* Two threads computing different symbols get what one thread gets. */
static void test_two_threads(void **state)
{
    (void)state;
    struct quant_bars a, b;
    tk_walk(&a, 3000, 21);
    tk_edge_series(TK_SPIKE, 2500, &b);
    struct thread_job jobs[2] = {{.bars = &a}, {.bars = &b}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_compute, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(jobs[i].rc, QUANT_OK);
        struct quant_feature_matrix one = {0};
        tk_compute(alpha(), jobs[i].bars, &one);
        size_t cells = one.n_features * one.n_rows;
        assert_memory_equal(one.valid, jobs[i].m.valid, cells);
        assert_memory_equal(one.values, jobs[i].m.values, cells * sizeof(double));
        quant_feature_matrix_release(&one);
        quant_feature_matrix_release(&jobs[i].m);
    }
    quant_bars_release(&a);
    quant_bars_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_spot_window_ops),
        cmocka_unit_test(test_spot_kbar),
        cmocka_unit_test(test_first_rows),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_split_adjusted),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_real_histories),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
