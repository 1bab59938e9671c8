/* test_validate.c: every storing rule drops exactly the bad bars and says why; the repair
 * policy keeps exactly the bars it promises to, marked. */
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
        bar(3, 10, 11, 10.1, 10.5, 100),  /* open below low: repaired (the close agrees) */
        bar(4, 0, 11, 9, 10.5, 100),      /* zero open: repaired */
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
    assert_int_equal(quant_validate_bars(&bars, &v), 5);
    assert_int_equal(bars.n, 5);
    const int32_t kept[] = {1, 3, 4, 7, 8};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(bars.v[i].date, kept[i]);
    assert_true(bars.v[3].volume == 0);
    assert_int_equal(v.n_bad, 5);
    assert_int_equal(v.n_repaired, 2);
    assert_int_equal(v.first_repaired, 3);
    assert_non_null(strstr(v.items[0].reason, "high"));
    assert_non_null(strstr(v.items[1].reason, "volume"));
    assert_non_null(strstr(v.items[2].reason, "close"));
    assert_non_null(strstr(v.items[3].reason, "duplicate"));
    assert_non_null(strstr(v.items[4].reason, "adjusted"));
    /* Gaps: bar 3 follows the dropped bar 2, bar 7 the dropped 5 and 6; the
     * duplicate of 7 and the bad bar 9 leave no kept bar after them. */
    assert_int_equal(v.n_gaps, 2);
    assert_true(bars.v[1].quality & QUANT_Q_GAP_BEFORE);
    assert_true(bars.v[3].quality & QUANT_Q_GAP_BEFORE);
    assert_false(bars.v[2].quality & QUANT_Q_GAP_BEFORE);
    assert_false(bars.v[4].quality & QUANT_Q_GAP_BEFORE);
    quant_validation_release(&v);
    quant_bars_release(&bars);
}

/* The repair rule of validate.h, on the shapes real Yahoo files have. */
static void test_repair_policy(void **state)
{
    (void)state;
    struct quant_bars bars;
    quant_bars_init(&bars);
    struct quant_bar in[] = {
        bar(1, 0, 5.5, 4, 4, 1500),       /* first bar, zero open: open = close */
        bar(2, 0, 5.5, 4, 4.5, 100),      /* zero open: previous close 4 is in [4, 5.5] */
        bar(3, 0, 6, 5, 5.5, 100),        /* previous close 4.5 < low 5: clamped to 5 */
        bar(4, 0, 0, 0, 6, 100),          /* open, high, low all 0: open = previous close,
                                             high/low = max/min(open, close) */
        bar(5, 6, 0, 5.8, 6.2, 100),      /* zero high only: max(open, close) */
        bar(6, NAN, 6.4, 6.1, 6.3, 100),  /* missing open (NaN) */
        bar(7, 0, 0, 0, 0, 100),          /* no price at all: dropped, a gap */
        bar(8, 0, 7, 6, 6.5, 100),        /* after a gap: open = close, not a stale close */
        bar(9, 11485.6, 12036.2, 12036.2, 12036.2, 10), /* close-only bar, stale open */
        bar(10, 5, 4, 6, 5, 100),         /* high < low: which is wrong? dropped */
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        assert_int_equal(quant_bars_push(&bars, &in[i]), QUANT_OK);
    struct quant_validation v;
    quant_validation_init(&v);
    assert_int_equal(quant_validate_bars(&bars, &v), 2);
    assert_int_equal(bars.n, 8);
    assert_int_equal(v.n_repaired, 8);
    assert_int_equal(v.n_gaps, 1);
    struct { double o, h, l; uint8_t q; } want[] = {
        {4, 5.5, 4, QUANT_Q_OPEN_FIXED},
        {4, 5.5, 4, QUANT_Q_OPEN_FIXED},
        {5, 6, 5, QUANT_Q_OPEN_FIXED},
        {5.5, 6, 5.5, QUANT_Q_OPEN_FIXED | QUANT_Q_HIGH_FIXED | QUANT_Q_LOW_FIXED},
        {6, 6.2, 5.8, QUANT_Q_HIGH_FIXED},
        {6.2, 6.4, 6.1, QUANT_Q_OPEN_FIXED},
        {6.5, 7, 6, QUANT_Q_OPEN_FIXED | QUANT_Q_GAP_BEFORE},
        {12036.2, 12036.2, 12036.2, QUANT_Q_OPEN_FIXED},
    };
    for (size_t i = 0; i < 8; i++) {
        const struct quant_bar *b = &bars.v[i];
        if (b->open != want[i].o || b->high != want[i].h || b->low != want[i].l ||
            b->quality != want[i].q)
            fail_msg("bar %d: open %g high %g low %g quality %d", b->date, b->open, b->high,
                     b->low, b->quality);
    }
    /* Every kept bar obeys the storing rules after its repair. */
    struct quant_validation again;
    quant_validation_init(&again);
    assert_int_equal(quant_validate_bars(&bars, &again), 0);
    assert_int_equal(again.n_repaired, 0);
    quant_validation_release(&again);
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
        cmocka_unit_test(test_repair_policy),
        cmocka_unit_test(test_report_is_capped_but_counts_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
