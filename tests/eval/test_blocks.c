/*
 * test_blocks.c: walk-forward segmentation on a synthetic calendar of 252
 * weekdays a year for 8 years (2010-2017): the exact index ranges of year
 * blocks, the embargo (no train or valid label reaches the next segment),
 * the first-test-year rule (756 train dates and 200 usable rows), a rolling
 * window, step = N with a short last block, and the errors.
 */
#include "eval_testkit.c"

#define YEARS 8
#define PER_YEAR 252
#define M (YEARS * PER_YEAR)

static int32_t dates[M];
static size_t ones[M];

/* The first 252 weekdays of each year from 2010. */
static void make_calendar(void)
{
    size_t i = 0;
    for (int y = 2010; y < 2010 + YEARS; y++) {
        int32_t d = quant_days_from_civil(y, 1, 1);
        for (int k = 0; k < PER_YEAR; d++) {
            if (quant_weekday(d) >= 5)
                continue;
            dates[i] = d;
            ones[i++] = 1;
            k++;
        }
    }
    assert_int_equal(i, M);
}

static struct quant_eval_blocks blocks_of(const size_t *rows, size_t m,
                                          const struct quant_eval_wf_params *p)
{
    struct quant_eval_blocks b;
    struct quant_err err = {0};
    if (quant_eval_blocks_compute(dates, rows, m, p, &b, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    return b;
}

/* The leakage rule: a date i's label reaches D[i + h]; that must stay before the next segment. */
static void check_embargo(const struct quant_eval_blocks *b, int h)
{
    for (size_t k = 0; k < b->n; k++) {
        const struct quant_eval_block *x = &b->v[k];
        for (size_t i = x->train_begin; i < x->train_end; i++)
            assert_true(i + (size_t)h < x->valid_begin);
        for (size_t i = x->valid_begin; i < x->valid_end; i++)
            assert_true(i + (size_t)h < x->test_begin);
        assert_true(x->train_end + (size_t)h == x->valid_begin);   /* exactly h, no more */
        assert_true(x->valid_end + (size_t)h == x->test_begin);
    }
}

static void expect_block(const struct quant_eval_block *b, int year, size_t tr0, size_t tr1,
                         size_t va0, size_t va1, size_t te0, size_t te1)
{
    assert_int_equal(b->year, year);
    assert_int_equal(b->train_begin, tr0);
    assert_int_equal(b->train_end, tr1);
    assert_int_equal(b->valid_begin, va0);
    assert_int_equal(b->valid_end, va1);
    assert_int_equal(b->test_begin, te0);
    assert_int_equal(b->test_end, te1);
}

static void test_year_blocks_expanding(void **state)
{
    (void)state;
    make_calendar();
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    assert_int_equal(p.horizon, 5);
    assert_int_equal(p.valid_dates, 252);
    /* Year k starts at s = 252 k; train = [0, s - 2*5 - 252) needs 756 dates:
     * s >= 1018, so 2014 (s = 1008) is one short and 2015 (s = 1260) is first. */
    struct quant_eval_blocks b = blocks_of(ones, M, &p);
    assert_int_equal(b.n, 3);
    expect_block(&b.v[0], 2015, 0, 998, 1003, 1255, 1260, 1512);
    expect_block(&b.v[1], 2016, 0, 1250, 1255, 1507, 1512, 1764);
    expect_block(&b.v[2], 2017, 0, 1502, 1507, 1759, 1764, 2016);
    assert_int_equal(b.v[0].train_rows, 998);
    assert_int_equal(b.v[0].valid_rows, 252);
    assert_int_equal(b.v[0].test_rows, 252);
    check_embargo(&b, 5);
    quant_eval_blocks_release(&b);
    assert_null(b.v);

    /* A longer horizon widens both embargoes: h = 20 needs s >= 756 + 40 + 252. */
    p.horizon = 20;
    b = blocks_of(ones, M, &p);
    expect_block(&b.v[0], 2015, 0, 968, 988, 1240, 1260, 1512);
    check_embargo(&b, 20);
    quant_eval_blocks_release(&b);
}

/* The 200-row rule on counts the caller weights (e.g. universe members only). */
static void test_first_year_needs_rows(void **state)
{
    (void)state;
    make_calendar();
    static size_t rows[M];
    for (size_t i = 0; i < M; i++)
        rows[i] = i < 900 ? 0 : 1;
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    /* 2015's train [0, 998) holds 98 rows; 2016's [0, 1250) holds 350. */
    struct quant_eval_blocks b = blocks_of(rows, M, &p);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.v[0].year, 2016);
    assert_int_equal(b.v[0].train_rows, 350);
    assert_int_equal(b.v[1].year, 2017);
    quant_eval_blocks_release(&b);

    /* Exactly 200 is enough: 2015's train gets 200 rows. */
    for (size_t i = 0; i < M; i++)
        rows[i] = i < 798 ? 0 : 1;
    b = blocks_of(rows, M, &p);
    assert_int_equal(b.v[0].year, 2015);
    assert_int_equal(b.v[0].train_rows, 200);
    quant_eval_blocks_release(&b);
    rows[798] = 0;   /* 199 */
    b = blocks_of(rows, M, &p);
    assert_int_equal(b.v[0].year, 2016);
    quant_eval_blocks_release(&b);

    /* Never enough rows: the message says so, not "not enough history". */
    for (size_t i = 0; i < M; i++)
        rows[i] = i % 10 == 0;
    struct quant_err err = {0};
    assert_int_equal(quant_eval_blocks_compute(dates, rows, 1300, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "usable rows"));
    assert_non_null(strstr(err.msg, "at least 200"));
    assert_null(b.v);
}

static void test_rolling_window(void **state)
{
    (void)state;
    make_calendar();
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    p.train_dates = 800;
    /* train = [s - 262 - 800, s - 262): 2015 (s = 1260) is the first with a >= 0. */
    struct quant_eval_blocks b = blocks_of(ones, M, &p);
    assert_int_equal(b.n, 3);
    expect_block(&b.v[0], 2015, 198, 998, 1003, 1255, 1260, 1512);
    expect_block(&b.v[1], 2016, 450, 1250, 1255, 1507, 1512, 1764);
    expect_block(&b.v[2], 2017, 702, 1502, 1507, 1759, 1764, 2016);
    for (size_t k = 0; k < b.n; k++)
        assert_int_equal(b.v[k].train_rows, 800);
    check_embargo(&b, 5);
    quant_eval_blocks_release(&b);

    /* T = 1000 reaches before D[0] in 2015 (s - 262 = 998 < 1000): 2016 is first. */
    p.train_dates = 1000;
    b = blocks_of(ones, M, &p);
    expect_block(&b.v[0], 2016, 250, 1250, 1255, 1507, 1512, 1764);
    quant_eval_blocks_release(&b);

    struct quant_err err = {0};
    p.train_dates = 755;
    assert_int_equal(quant_eval_blocks_compute(dates, ones, M, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "rolling window of 755"));
}

static void test_step_n(void **state)
{
    (void)state;
    make_calendar();
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    p.step = QUANT_EVAL_STEP_DATES;
    p.step_dates = 100;
    /* Blocks [100 k, 100 k + 100) from D[0]; the first with s - 262 >= 756 is s = 1100;
     * the last, [2000, 2016), is 16 dates. */
    struct quant_eval_blocks b = blocks_of(ones, M, &p);
    assert_int_equal(b.n, 10);
    expect_block(&b.v[0], 0, 0, 838, 843, 1095, 1100, 1200);
    for (size_t k = 0; k < b.n; k++) {
        assert_int_equal(b.v[k].test_begin, 1100 + 100 * k);
        assert_int_equal(b.v[k].valid_end + 5, b.v[k].test_begin);
        if (k)
            assert_int_equal(b.v[k].test_begin, b.v[k - 1].test_end);   /* consecutive */
    }
    expect_block(&b.v[9], 0, 0, 1738, 1743, 1995, 2000, 2016);
    check_embargo(&b, 5);
    quant_eval_blocks_release(&b);

    /* N = 1: every date from the first possible one is its own block. */
    p.step_dates = 1;
    b = blocks_of(ones, M, &p);
    assert_int_equal(b.n, M - 1018);
    assert_int_equal(b.v[0].test_begin, 1018);
    assert_int_equal(b.v[0].train_end, 756);
    quant_eval_blocks_release(&b);
}

static void test_errors(void **state)
{
    (void)state;
    make_calendar();
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    struct quant_eval_blocks b;
    struct quant_err err = {0};
    /* 1017 dates: even a block at the very end would have 755 train dates. */
    assert_int_equal(quant_eval_blocks_compute(dates, ones, 1017, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "not enough history for a walk-forward: 1017 dates"));
    assert_non_null(strstr(err.msg, "at least 1018 dates before it"));
    assert_non_null(strstr(err.msg, "calendar year"));
    /* 1200 dates: enough, but no year starts late enough (2015 starts at 1260). */
    assert_int_equal(quant_eval_blocks_compute(dates, ones, 1200, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "not enough history"));
    /* ... while step = N forms blocks there. */
    p.step = QUANT_EVAL_STEP_DATES;
    p.step_dates = 50;
    b = blocks_of(ones, 1200, &p);
    assert_int_equal(b.v[0].test_begin, 1050);
    quant_eval_blocks_release(&b);
    quant_eval_wf_params_default(&p);

    assert_int_equal(quant_eval_blocks_compute(dates, ones, 0, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "no date has a usable row"));
    p.horizon = 0;
    assert_int_equal(quant_eval_blocks_compute(dates, ones, M, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "horizon 0"));
    quant_eval_wf_params_default(&p);
    p.valid_dates = 0;
    assert_int_equal(quant_eval_blocks_compute(dates, ones, M, &p, &b, &err), QUANT_EINVAL);
    quant_eval_wf_params_default(&p);
    p.step = QUANT_EVAL_STEP_DATES;
    assert_int_equal(quant_eval_blocks_compute(dates, ones, M, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "N >= 1"));
    quant_eval_wf_params_default(&p);
    int32_t bad[M];
    memcpy(bad, dates, sizeof bad);
    bad[10] = bad[9];
    assert_int_equal(quant_eval_blocks_compute(bad, ones, M, &p, &b, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "date 10"));
    assert_null(b.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year_blocks_expanding),
        cmocka_unit_test(test_first_year_needs_rows),
        cmocka_unit_test(test_rolling_window),
        cmocka_unit_test(test_step_n),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
