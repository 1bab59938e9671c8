/*
 * test_adjust.c: the continuous adjustment factor across seams and events,
 * and the unexplained-jump check (adjust.h).
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "quant/adjust.h"

static struct quant_bar bar(int32_t d, double close, double adj)
{
    struct quant_bar b = {.date = d, .open = close, .high = close, .low = close,
                          .close = close, .adj_close = adj, .volume = 1000,
                          .dividend = NAN, .split = NAN, .quality = 0};
    return b;
}

static void push(struct quant_bars *b, struct quant_bar x)
{
    assert_int_equal(quant_bars_push(b, &x), QUANT_OK);
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

static void test_split_ratio(void **state)
{
    (void)state;
    assert_true(quant_adjust_split_ratio(100, 50.5, NAN) == 2);      /* 2-for-1, +1% day */
    assert_true(quant_adjust_split_ratio(100, 2.05, NAN) == 50);     /* BRK-B's 50-for-1 */
    assert_true(quant_adjust_split_ratio(10, 98, NAN) == 0.1);       /* 1-for-10 reverse */
    assert_true(quant_adjust_split_ratio(100, 26, NAN) == 4);
    assert_true(quant_adjust_split_ratio(100, 99, NAN) == 0);        /* a normal day */
    assert_true(quant_adjust_split_ratio(100, 70, NAN) == 0);        /* -30%: a real move */
    assert_true(quant_adjust_split_ratio(100, 40, NAN) == 0);        /* -60%: no split ratio */
    /* 3-for-2 only with the volume to show for it */
    assert_true(quant_adjust_split_ratio(100, 66.5, NAN) == 0);
    assert_true(quant_adjust_split_ratio(100, 66.5, 1.0) == 0);
    assert_true(quant_adjust_split_ratio(100, 66.5, 1.5) == 1.5);
    assert_true(quant_adjust_split_ratio(0, 1, NAN) == 0);
}

/* A CSV history with Adj Close, topped up by bars without it: the factor of
 * the last stored bar carries on, so the adjusted series has no seam. */
static void test_seam_carries_factor(void **state)
{
    (void)state;
    struct quant_bars old, in;
    quant_bars_init(&old);
    quant_bars_init(&in);
    for (int d = 0; d < 20; d++)
        push(&old, bar(d, 100 + d, (100 + d) * 0.8));
    push(&in, bar(19, 119, NAN));        /* overlaps the last stored bar */
    for (int d = 20; d < 25; d++)
        push(&in, bar(d, 119 + (d - 19) * 0.5, NAN));
    struct quant_adjust_report rep;
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    assert_int_equal(rep.carried, 6);
    assert_int_equal(rep.jumps, 0);
    for (size_t i = 0; i < in.n; i++) {
        assert_true(close_to(in.v[i].adj_close, in.v[i].close * 0.8));
        assert_true(in.v[i].quality == QUANT_Q_ADJ_CARRIED);
    }
    /* the return across the seam is the real one, not 1/0.8 */
    double r = in.v[1].adj_close / old.v[19].adj_close - 1;
    assert_true(close_to(r, 119.5 / 119 - 1));
    quant_bars_release(&old);
    quant_bars_release(&in);
}

/* A listed split that the prices show moves the factor; a listed dividend
 * and a listed split the prices do not show (yfinance: already applied) do not. */
static void test_events_move_factor(void **state)
{
    (void)state;
    struct quant_bars old, in;
    quant_bars_init(&old);
    quant_bars_init(&in);
    push(&in, bar(1, 400, NAN));
    push(&in, bar(2, 404, NAN));
    struct quant_bar s = bar(3, 101.5, NAN);
    s.split = 4;                         /* price divided by 4, factor x4 */
    push(&in, s);
    struct quant_bar dv = bar(4, 100.5, NAN);
    dv.dividend = 1.015;                 /* 1% of the previous close */
    push(&in, dv);
    struct quant_bar applied = bar(5, 101, NAN);
    applied.split = 2;                   /* listed, but the price did not halve */
    push(&in, applied);
    struct quant_adjust_report rep;
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    assert_true(isnan(in.v[0].adj_close)); /* nothing to carry, no event: f = 1 */
    assert_true(isnan(in.v[1].adj_close));
    assert_true(close_to(in.v[2].adj_close, 101.5 * 4));
    assert_true(close_to(in.v[3].adj_close, 100.5 * 4));
    assert_true(close_to(in.v[4].adj_close, 101 * 4));
    assert_int_equal(rep.carried, 3);
    assert_int_equal(rep.jumps, 0);      /* explained by the split column */
    quant_bars_release(&old);
    quant_bars_release(&in);
}

/* An unadjusted 50-for-1 split with no event: marked, never smoothed over. */
static void test_unexplained_split_is_marked(void **state)
{
    (void)state;
    struct quant_bars old, in;
    quant_bars_init(&old);
    quant_bars_init(&in);
    for (int d = 0; d < 10; d++)
        push(&old, bar(d, 3500 + d, NAN));
    for (int d = 10; d < 15; d++)
        push(&in, bar(d, 70 + d * 0.1, NAN));
    struct quant_adjust_report rep;
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    assert_int_equal(rep.jumps, 1);
    assert_int_equal(rep.first_jump, 10);
    assert_true(rep.first_jump_ratio == 50);
    assert_true(in.v[0].quality & QUANT_Q_JUMP_BEFORE);
    for (size_t i = 1; i < in.n; i++)
        assert_false(in.v[i].quality & QUANT_Q_JUMP_BEFORE);
    /* A re-ingest of the same bars marks the same bar (flags are recomputed). */
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    assert_int_equal(rep.jumps, 1);
    assert_true(in.v[0].quality & QUANT_Q_JUMP_BEFORE);
    quant_bars_release(&old);
    quant_bars_release(&in);
}

/* A source that publishes its adjustment is trusted inside its own series;
 * only the seam to the stored bars is checked. */
static void test_published_series_trusted(void **state)
{
    (void)state;
    struct quant_bars old, in;
    quant_bars_init(&old);
    quant_bars_init(&in);
    push(&old, bar(0, 200, 200));
    push(&in, bar(1, 100, 50));          /* seam: the close halved, no split listed */
    push(&in, bar(2, 30, 30));           /* inside the series: the source's business */
    struct quant_adjust_report rep;
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    assert_int_equal(rep.carried, 2);    /* rescaled by 2 to continue the stored factor */
    assert_int_equal(rep.jumps, 1);
    assert_true(in.v[0].quality & QUANT_Q_JUMP_BEFORE);
    assert_false(in.v[1].quality & QUANT_Q_JUMP_BEFORE);
    assert_true(close_to(in.v[1].adj_close, 60));
    quant_bars_release(&old);
    quant_bars_release(&in);
}

/* A newer download of the same history (normalised after a dividend) is put
 * back on the stored footing: the overlap is unchanged, the new bars continue. */
static void test_newer_download_rescaled(void **state)
{
    (void)state;
    struct quant_bars old, in;
    quant_bars_init(&old);
    quant_bars_init(&in);
    for (int d = 0; d < 10; d++)
        push(&old, bar(d, 50 + d, (50 + d) * 0.8));
    for (int d = 5; d < 15; d++)
        push(&in, bar(d, 50 + d, (50 + d) * 0.9));
    struct quant_adjust_report rep;
    assert_int_equal(quant_adjust_merge(&old, &in, &rep), 0);
    for (size_t i = 0; i < in.n; i++)
        assert_true(close_to(in.v[i].adj_close, in.v[i].close * 0.8));
    assert_true(close_to(in.v[0].adj_close, old.v[5].adj_close));
    assert_int_equal(rep.jumps, 0);
    /* an Alpha Vantage adjusted bar right after the history, with its dividend
     * listed: the stored factor continues, moved by that dividend only */
    struct quant_bars next;
    quant_bars_init(&next);
    struct quant_bar b = bar(10, 59, 59);
    b.dividend = 0.59;                   /* 1% of the previous close 59 */
    push(&next, b);
    assert_int_equal(quant_adjust_merge(&old, &next, &rep), 0);
    assert_true(close_to(next.v[0].adj_close, 59 * 0.8 / 0.99));
    quant_bars_release(&next);
    quant_bars_release(&old);
    quant_bars_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_ratio),
        cmocka_unit_test(test_seam_carries_factor),
        cmocka_unit_test(test_events_move_factor),
        cmocka_unit_test(test_unexplained_split_is_marked),
        cmocka_unit_test(test_published_series_trusted),
        cmocka_unit_test(test_newer_download_rescaled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
