/* test_split.c: the FEATURES.md time split: exact segment sizes for several N
 * and h, the embargo rows absent, segments ordered and disjoint, the
 * 200-train-row floor, and the eligible-row selection and gathering. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "quant/ml_split.h"

static struct quant_split split_ok(size_t n, int h)
{
    struct quant_split s;
    struct quant_err err = {0};
    if (quant_split_compute("AAPL", n, h, &s, &err) != QUANT_OK)
        fail_msg("N=%zu h=%d: %s", n, h, err.msg);
    return s;
}

static void expect(size_t n, int h, size_t train_end, size_t valid_begin, size_t valid_end,
                   size_t test_begin)
{
    struct quant_split s = split_ok(n, h);
    assert_int_equal(s.n, n);
    assert_int_equal(s.train_begin, 0);
    assert_int_equal(s.train_end, train_end);
    assert_int_equal(s.valid_begin, valid_begin);
    assert_int_equal(s.valid_end, valid_end);
    assert_int_equal(s.test_begin, test_begin);
    assert_int_equal(s.test_end, n);
    assert_int_equal(s.n_train, train_end);
    assert_int_equal(s.n_valid, valid_end - valid_begin);
    assert_int_equal(s.n_test, n - test_begin);
}

static void test_exact_sizes(void **state)
{
    (void)state;
    /* N, h -> train [0, a), valid [b, c), test [d, N) */
    expect(1000, 5, 695, 700, 795, 800);     /* test 200, valid 100 - 5, train 700 - 5 */
    expect(1003, 1, 702, 703, 802, 803);     /* floor(200.6) = 200, floor(100.3) = 100 */
    expect(299, 5, 206, 211, 235, 240);      /* test 59, valid 29 */
    expect(7000, 20, 4880, 4900, 5580, 5600);
    expect(1000, 250, 450, 700, 700, 800);   /* valid shorter than h: empty */
    expect(1000, 100, 600, 700, 700, 800);   /* valid exactly h: empty */
}

static void test_too_few_train_rows(void **state)
{
    (void)state;
    struct quant_split s;
    struct quant_err err = {0};
    /* N = 290: test 58, valid 29, train 203 - 5 = 198 */
    assert_int_equal(quant_split_compute("MSFT", 290, 5, &s, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "MSFT"));
    assert_non_null(strstr(err.msg, "198"));
    assert_int_equal(s.n_train, 198);    /* sizes still reported */
    assert_int_equal(quant_split_compute("MSFT", 0, 5, &s, &err), QUANT_EINVAL);
    assert_int_equal(quant_split_compute("MSFT", 10, 50, &s, &err), QUANT_EINVAL);
    assert_int_equal(quant_split_compute("MSFT", 5000, 0, &s, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "horizon"));
    assert_int_equal(quant_split_compute("MSFT", 5000, 251, &s, &err), QUANT_EINVAL);
    /* The smallest N that works for h = 5. */
    size_t n = 200;
    while (quant_split_compute("X", n, 5, &s, &err) != QUANT_OK)
        n++;
    assert_int_equal(s.n_train, 200);
    assert_int_equal(quant_split_compute("X", n - 1, 5, &s, &err), QUANT_EINVAL);
}

/* For many N and h: sizes from the formula, order, disjointness, embargo gaps. */
static void test_invariants(void **state)
{
    (void)state;
    const int hs[] = {1, 5, 20, 60, 250};
    for (size_t n = 0; n <= 4000; n += 7) {
        for (size_t k = 0; k < sizeof hs / sizeof *hs; k++) {
            size_t h = (size_t)hs[k];
            struct quant_split s;
            struct quant_err err = {0};
            enum quant_code rc = quant_split_compute("SYM", n, hs[k], &s, &err);
            assert_int_equal(s.n_test, n / 5);
            assert_int_equal(s.test_begin, n - n / 5);
            assert_int_equal(s.valid_begin, n - n / 5 - n / 10);
            size_t before_valid = n - n / 5 - n / 10;
            assert_int_equal(s.n_train, before_valid > h ? before_valid - h : 0);
            assert_int_equal(s.n_valid, n / 10 > h ? n / 10 - h : 0);
            assert_int_equal(rc == QUANT_OK, s.n_train >= QUANT_SPLIT_MIN_TRAIN);
            assert_true(s.train_end <= s.valid_begin && s.valid_end <= s.test_begin);
            /* The last h rows before each next segment are in no segment. */
            assert_true(s.valid_begin - s.train_end >= (s.valid_begin >= h ? h : s.valid_begin));
            if (s.n_valid)
                assert_int_equal(s.test_begin - s.valid_end, h);
            assert_true(s.n_train + s.n_valid + s.n_test <= n);
        }
    }
}

/* 2 features x 12 bars; feature 1 starts late and has a hole; labels end h=2 early. */
static void test_rows_and_gather(void **state)
{
    (void)state;
    enum { T = 12, H = 2 };
    struct quant_feature_matrix fm = {0}, lab = {0};
    struct quant_err err = {0};
    assert_int_equal(quant_feature_matrix_reserve(&fm, 2, T, &err), QUANT_OK);
    assert_int_equal(quant_feature_matrix_reserve(&lab, 2, T, &err), QUANT_OK);
    for (size_t t = 0; t < T; t++) {
        fm.values[t] = (double)t;                       /* feature 0: all there */
        fm.valid[t] = 1;
        int ok1 = t >= 3 && t != 6;
        fm.values[T + t] = ok1 ? 100.0 + (double)t : NAN;
        fm.valid[T + t] = (uint8_t)ok1;
        int lab_ok = t < T - H;
        lab.values[t] = lab_ok ? 0.01 : NAN;            /* fwd_ret */
        lab.valid[t] = (uint8_t)lab_ok;
        lab.values[T + t] = lab_ok ? (double)(t % 2) : NAN;
        lab.valid[T + t] = (uint8_t)lab_ok;
    }
    size_t rows[T], n = 0;
    assert_int_equal(quant_split_rows(&fm, &lab, rows, &n, &err), QUANT_OK);
    const size_t want[] = {3, 4, 5, 7, 8, 9};
    assert_int_equal(n, 6);
    assert_memory_equal(rows, want, sizeof want);

    float x[3 * 2], y[3];
    quant_split_gather(&fm, &lab, rows, 2, 5, x, y);    /* bars 5, 7, 8 */
    const float wx[] = {5, 105, 7, 107, 8, 108}, wy[] = {1, 1, 0};
    assert_memory_equal(x, wx, sizeof wx);
    assert_memory_equal(y, wy, sizeof wy);

    /* Scoring rows: any bars, NAN where a feature is absent, no labels. */
    const size_t score_rows[] = {6, 11};
    quant_split_gather(&fm, NULL, score_rows, 0, 2, x, NULL);
    assert_true(x[0] == 6 && isnan(x[1]) && x[2] == 11 && x[3] == 111);

    struct quant_feature_matrix short_lab = {0};
    assert_int_equal(quant_feature_matrix_reserve(&short_lab, 2, T - 1, &err), QUANT_OK);
    assert_int_equal(quant_split_rows(&fm, &short_lab, rows, &n, &err), QUANT_EINVAL);
    quant_feature_matrix_release(&short_lab);
    quant_feature_matrix_release(&fm);
    quant_feature_matrix_release(&lab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_sizes),
        cmocka_unit_test(test_too_few_train_rows),
        cmocka_unit_test(test_invariants),
        cmocka_unit_test(test_rows_and_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
