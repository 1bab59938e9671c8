/* test_validate.c: every storing rule drops exactly the bad bars and says why. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "quant/validate.h"

static struct quant_bar bar(int32_t d, double o, double h, double l, double c, double v)
{
    struct quant_bar b = {.date = d, .open = o, .high = h, .low = l, .close = c,
                          .adj_close = NAN, .volume = v, .dividend = NAN, .split = NAN};
    return b;
}

static void test_rules(void **state)
{
    (void)state;
    struct quant_bars bars;
    quant_bars_init(&bars);
    struct quant_bar in[] = {
        bar(1, 10, 11, 9, 10.5, 100),     /* good */
        bar(2, 10, 10.2, 9, 10.5, 100),   /* high below close */
        bar(3, 10, 11, 10.1, 10.5, 100),  /* low above open */
        bar(4, 0, 11, 9, 10.5, 100),      /* zero open */
        bar(5, 10, 11, 9, 10.5, -1),      /* negative volume */
        bar(6, 10, 11, 9, NAN, 100),      /* missing close */
        bar(7, 10, 11, 9, 10, 0),         /* good: zero volume is allowed */
        bar(7, 10, 11, 9, 10, 5),         /* duplicate date */
        bar(8, 10, 10, 10, 10, 1),        /* good: flat bar */
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        assert_int_equal(quant_bars_push(&bars, &in[i]), QUANT_OK);
    struct quant_bar adj = bar(9, 10, 11, 9, 10, 1);
    adj.adj_close = -3;                   /* bad adjusted close */
    quant_bars_push(&bars, &adj);

    struct quant_validation v;
    quant_validation_init(&v);
    assert_int_equal(quant_validate_bars(&bars, &v), 7);
    assert_int_equal(bars.n, 3);
    assert_int_equal(bars.v[0].date, 1);
    assert_int_equal(bars.v[1].date, 7);
    assert_true(bars.v[1].volume == 0);
    assert_int_equal(bars.v[2].date, 8);
    assert_int_equal(v.n_bad, 7);
    assert_int_equal(v.items[0].date, 2);
    assert_non_null(strstr(v.items[0].reason, "high"));
    assert_non_null(strstr(v.items[1].reason, "low"));
    assert_non_null(strstr(v.items[2].reason, "open"));
    assert_non_null(strstr(v.items[3].reason, "volume"));
    assert_non_null(strstr(v.items[4].reason, "close"));
    assert_non_null(strstr(v.items[5].reason, "duplicate"));
    assert_non_null(strstr(v.items[6].reason, "adjusted"));
    quant_validation_release(&v);
    quant_bars_release(&bars);
}

static void test_report_is_capped_but_counts_all(void **state)
{
    (void)state;
    struct quant_bars bars;
    quant_bars_init(&bars);
    for (int i = 0; i < 1000; i++) {
        struct quant_bar b = bar(i, 10, 9, 8, 10, 1); /* all bad */
        quant_bars_push(&bars, &b);
    }
    struct quant_validation v;
    quant_validation_init(&v);
    assert_int_equal(quant_validate_bars(&bars, &v), 1000);
    assert_int_equal(bars.n, 0);
    assert_int_equal(v.n_bad, 1000);
    assert_int_equal(v.n_kept, QUANT_VALIDATION_KEEP);
    quant_validation_release(&v);
    quant_bars_release(&bars);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_report_is_capped_but_counts_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
