/*
 * test_panel.c: the shared input handling: the step-return lookup ("last
 * close at or before t", 0 before a symbol's first bar and across a gap),
 * the panel's date groups and backtest calendar, and the input checks with
 * their messages.
 */
#include "eval_testkit.c"

#include "eval/eval_internal.h"

static void test_step_return(void **state)
{
    (void)state;
    const int32_t d[] = {10, 13, 15};
    const double c[] = {10, 11, 12};
    struct quant_eval_prices s = {d, c, 3};
    assert_close(quant_eval_step_return_(&s, 9, 15), 0.0);    /* no close by t1 yet */
    assert_close(quant_eval_step_return_(&s, 10, 12), 0.0);   /* no bar in (10, 12] */
    assert_close(quant_eval_step_return_(&s, 12, 13), 0.1);   /* C(12) is day 10's */
    assert_close(quant_eval_step_return_(&s, 10, 15), 0.2);
    assert_close(quant_eval_step_return_(&s, 14, 99), 12.0 / 11 - 1);
    assert_close(quant_eval_step_return_(&s, 15, 99), 0.0);   /* after the last bar */
    struct quant_eval_prices none = {NULL, NULL, 0};
    assert_close(quant_eval_step_return_(&none, 1, 2), 0.0);
    struct quant_err err = {0};
    assert_int_equal(quant_eval_prices_check_(&s, "x", &err), QUANT_OK);
    assert_int_equal(quant_eval_prices_check_(&none, "x", &err), QUANT_OK);
    const double bad[] = {10, NAN, 12};
    struct quant_eval_prices sb = {d, bad, 3};
    assert_int_equal(quant_eval_prices_check_(&sb, "the benchmark", &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "prices of the benchmark"));
    assert_non_null(strstr(err.msg, "1970-01-14"));
}

static void test_groups_and_calendar(void **state)
{
    (void)state;
    struct tk_panel t;
    tk_panel_init(&t, 4);
    tk_panel_add(&t, 100, 0, 0.1, NAN, 1);
    tk_panel_add(&t, 100, 2, 0.2, NAN, 1);
    tk_panel_add(&t, 101, 1, NAN, 0.1, 1);   /* a date with no score: not in T */
    tk_panel_add(&t, 105, 0, 0.3, NAN, 1);
    tk_panel_add(&t, 105, 1, NAN, NAN, 1);
    tk_panel_add(&t, 105, 3, 0.3, NAN, 0);   /* a non-member's score still makes a date */
    struct quant_err err = {0};
    assert_int_equal(quant_eval_panel_check_(&t.p, &err), QUANT_OK);
    struct quant_eval_groups_ g;
    assert_int_equal(quant_eval_groups_build_(&t.p, &g, &err), QUANT_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.max_rows, 3);
    const size_t off[] = {0, 2, 3, 6};
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.off[i], off[i]);
    assert_int_equal(g.date[2], 105);
    size_t cal[3];
    assert_int_equal(quant_eval_calendar_(&t.p, &g, cal), 2);
    assert_int_equal(cal[0], 0);
    assert_int_equal(cal[1], 2);
    quant_eval_groups_release_(&g);
    assert_null(g.off);

    /* Inputs that break the order the rules rely on. */
    t.date[3] = 100;
    assert_int_equal(quant_eval_panel_check_(&t.p, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "panel row 3"));
    t.date[3] = 105;
    struct quant_eval_panel p = t.p;
    p.score = NULL;
    assert_int_equal(quant_eval_panel_check_(&p, &err), QUANT_EINVAL);
    assert_int_equal(quant_eval_panel_check_(NULL, &err), QUANT_EINVAL);
    p = t.p;
    p.n_rows = 0;
    assert_int_equal(quant_eval_groups_build_(&p, &g, &err), QUANT_OK);
    assert_int_equal(g.n, 0);
    quant_eval_groups_release_(&g);

    /* The backtest wants one price series per symbol. */
    struct quant_eval_bt_params bp;
    quant_eval_bt_params_default(&bp);
    assert_int_equal(quant_eval_bt_inputs_check_(&t.p, NULL, &bp, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "no prices"));
    tk_panel_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_return),
        cmocka_unit_test(test_groups_and_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
