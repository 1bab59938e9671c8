/*
 * test_labels.c: fwd_ret_h and label_h (FEATURES.md, Labels) against the
 * naive reference on every shared history for horizons 1, 5 and 250, the
 * "last h dates have no label" rule, hand-computed values, the names, and the
 * rejection of horizons outside 1..250.
 */
#include "test_util.h"

#include "feature_testkit.c"

static void labels_of(const struct quant_bars *b, int h, struct quant_feature_matrix *m)
{
    struct quant_adjusted adj = {0};
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_adjusted_compute(b, &adj, &err), QUANT_OK);
    assert_int_equal(quant_labels_compute(&adj, h, m, &err), QUANT_OK);
    quant_adjusted_release(&adj);
}

/* Library vs naive for one series and horizon; also checks the tail rule. */
static void check_labels(const char *what, const struct quant_bars *b, int h)
{
    struct quant_feature_matrix m = {0};
    labels_of(b, h, &m);
    assert_int_equal(m.n_features, 2);
    assert_int_equal(m.n_rows, b->n);
    struct naive_series s;
    naive_adjust(b, &s);
    double *fwd = malloc((b->n + 1) * sizeof(double)), *lab = malloc((b->n + 1) * sizeof(double));
    naive_labels(&s, h, fwd, lab);
    size_t n = b->n;
    for (size_t t = 0; t < n; t++) {
        int ok = m.valid[t];
        if (ok != !isnan(fwd[t]) || ok != m.valid[n + t] ||
            (ok && (!tk_close(m.values[t], fwd[t]) || m.values[n + t] != lab[t]))) {
            print_message("%s h=%d t=%zu: lib %d %.17g %g naive %.17g %g\n", what, h, t, ok,
                          m.values[t], m.values[n + t], fwd[t], lab[t]);
            fail();
        }
        if (t + (size_t)h >= n)
            assert_int_equal(ok, 0);   /* the last h dates have no label row */
    }
    free(fwd);
    free(lab);
    naive_series_free(&s);
    quant_feature_matrix_release(&m);
}

static void test_real_histories(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    size_t n = tk_ohlcv_files(paths);
    assert_true(n >= 8);
    const int horizons[] = {1, 5, 250};
    for (size_t i = 0; i < n; i++) {
        struct quant_bars b;
        tk_load(paths[i], &b);
        for (size_t k = 0; k < 3; k++)
            check_labels(paths[i], &b, horizons[k]);
        /* every row but the last h has a label on real data */
        struct quant_feature_matrix m = {0};
        labels_of(&b, 5, &m);
        for (size_t t = 0; t + 5 < b.n; t++)
            assert_int_equal(m.valid[t], 1);
        quant_feature_matrix_release(&m);
        quant_bars_release(&b);
    }
}

static void test_hand_values(void **state)
{
    (void)state;
    const double c[6] = {10, 11, 11, 9, 12, 12};
    struct quant_bars b;
    tk_from_closes(&b, c, 6);
    struct quant_feature_matrix m = {0};
    labels_of(&b, 1, &m);
    const double want[5] = {0.1, 0.0, 9.0 / 11 - 1, 12.0 / 9 - 1, 0.0};
    const double want_label[5] = {1, 0, 0, 1, 0};   /* a zero return is label 0 */
    for (size_t t = 0; t < 5; t++) {
        assert_true(m.valid[t] && m.valid[6 + t]);
        assert_true(tk_close(m.values[t], want[t]));
        assert_true(m.values[6 + t] == want_label[t]);
    }
    assert_false(m.valid[5]);
    assert_false(m.valid[11]);
    assert_true(isnan(m.values[5]));
    labels_of(&b, 5, &m);
    assert_true(tk_close(m.values[0], 0.2));
    for (size_t t = 1; t < 6; t++)
        assert_false(m.valid[t]);
    labels_of(&b, 6, &m);   /* horizon longer than the history: no rows */
    for (size_t t = 0; t < 12; t++)
        assert_false(m.valid[t]);
    quant_feature_matrix_release(&m);
    quant_bars_release(&b);
}

static void test_horizons_and_names(void **state)
{
    (void)state;
    struct quant_bars b;
    tk_walk(&b, 300, 2);
    struct quant_adjusted adj = {0};
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_adjusted_compute(&b, &adj, &err), QUANT_OK);
    struct quant_feature_matrix m = {0};
    const int bad[] = {0, -1, 251, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        quant_err_clear(&err);
        assert_int_equal(quant_labels_compute(&adj, bad[i], &m, &err), QUANT_EINVAL);
        assert_non_null(strstr(err.msg, "1..250"));
    }
    assert_int_equal(quant_labels_compute(&adj, 250, &m, &err), QUANT_OK);
    assert_int_equal(quant_labels_compute(&adj, 1, &m, &err), QUANT_OK);
    char f[16], l[16];
    quant_label_names(5, f, l);
    assert_string_equal(f, "fwd_ret_5");
    assert_string_equal(l, "label_5");
    quant_label_names(250, f, l);
    assert_string_equal(f, "fwd_ret_250");
    quant_feature_matrix_release(&m);
    quant_adjusted_release(&adj);
    quant_bars_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_horizons_and_names),
        cmocka_unit_test(test_real_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
