/*
 * test_bars_scan.c: quant_series_store_scan_bars (lib/store/bars_scan.c), the
 * one read of the bars that train, score and the derive commands share.  It
 * no longer asks DuckDB for ORDER BY but files the rows of a parallel scan
 * under their symbols, so what is checked here is exactly what that design
 * could get wrong: symbols in name order, each symbol's dates ascending even
 * when they were stored out of order (an old stretch ingested after a new
 * one), every column of every bar as written, a symbol split over several
 * result chunks and row groups, the want filter, a callback that takes the
 * array instead of copying it, and a callback that stops the scan.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "store/feature_store.h"
#include "quant/series_store.h"

/* The value every column of bar (sym, day) was written with: reconstructible,
 * so the scan's output can be checked bar by bar. */
static double val(const char *sym, int32_t day, int col)
{
    return 10.0 + (double)(sym[0] - 'A') * 1000.0 + (double)day * 0.5 + col * 0.125;
}

static void make(struct quant_bars *b, const char *sym, int32_t day0, size_t n)
{
    quant_bars_init(b);
    snprintf(b->symbol, sizeof b->symbol, "%s", sym);
    for (size_t i = 0; i < n; i++) {
        int32_t d = day0 + (int32_t)i;
        struct quant_bar bar = {.date = d, .open = val(sym, d, 0), .high = val(sym, d, 1) + 5,
                                .low = val(sym, d, 2) - 5, .close = val(sym, d, 3),
                                .adj_close = val(sym, d, 4),
                                .volume = val(sym, d, 5),
                                .dividend = d % 5 == 0 ? NAN : 0.0,
                                .split = 1.0};
        assert_int_equal(quant_bars_push(b, &bar), QUANT_OK);
    }
}

static void put(struct quant_series_store *s, const char *sym, int32_t day0, size_t n)
{
    struct quant_bars b;
    make(&b, sym, day0, n);
    struct quant_upsert_stats st;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_series_store_upsert_bars(s, &b, "test", &st, &err) != QUANT_OK)
        fail_msg("upsert %s: %s", sym, err.msg);
    quant_bars_release(&b);
}

struct seen {
    char symbols[16][QUANT_SYMBOL_MAX + 1];
    size_t counts[16];
    size_t n;
    int take;            /* take the array (swap) instead of reading it in place */
    size_t stop_after;   /* 0 = never stop */
    struct quant_bars taken[16];
};

static int check_cb(void *ctx, struct quant_bars *b)
{
    struct seen *s = ctx;
    assert_true(s->n < 16);
    snprintf(s->symbols[s->n], sizeof s->symbols[0], "%s", b->symbol);
    s->counts[s->n] = b->n;
    for (size_t i = 0; i < b->n; i++) {
        const struct quant_bar *x = &b->v[i];
        if (i)
            assert_true(x->date == b->v[i - 1].date + 1); /* ascending, nothing lost */
        assert_true(x->open == val(b->symbol, x->date, 0));
        assert_true(x->high == val(b->symbol, x->date, 1) + 5);
        assert_true(x->low == val(b->symbol, x->date, 2) - 5);
        assert_true(x->close == val(b->symbol, x->date, 3));
        assert_true(x->adj_close == val(b->symbol, x->date, 4));
        assert_true(x->volume == val(b->symbol, x->date, 5));
        assert_true(x->date % 5 == 0 ? isnan(x->dividend) : x->dividend == 0.0);
    }
    if (s->take) {
        quant_bars_init(&s->taken[s->n]);
        struct quant_bars t = s->taken[s->n];
        s->taken[s->n] = *b;
        *b = t;
    }
    s->n++;
    return s->stop_after && s->n == s->stop_after;
}

static void scan(struct quant_series_store *st, const char *const *want, size_t n_want,
                 struct seen *s)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_series_store_scan_bars(st, want, n_want, check_cb, s, &err) != QUANT_OK)
        fail_msg("scan: %s", err.msg);
}

static struct quant_series_store *filled(void)
{
    struct quant_series_store *s = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store_options o = {0};
    if (quant_series_store_open(tu_scratch_duckdb, &o, &s, &err) != QUANT_OK)
        fail_msg("open: %s", err.msg);
    /* Written out of name order, and DDD's older half after its newer half:
     * 150,000 bars over several row groups and many 2,048-row chunks. */
    put(s, "EEE", 100, 3000);
    put(s, "DDD", 60000, 70000);
    put(s, "BBB", 0, 1);
    put(s, "DDD", 10000, 50000);
    put(s, "AAA", 5000, 20000);
    put(s, "CCC", 200, 7000);
    return s;
}

static void test_order_and_values(void **state)
{
    (void)state;
    struct quant_series_store *st = filled();
    struct seen s = {0};
    scan(st, NULL, 0, &s);
    static const char *const names[] = {"AAA", "BBB", "CCC", "DDD", "EEE"};
    static const size_t counts[] = {20000, 1, 7000, 120000, 3000};
    assert_int_equal(s.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(s.symbols[i], names[i]);
        assert_int_equal(s.counts[i], counts[i]);
    }
    quant_series_store_close(st);
}

static void test_want_filter(void **state)
{
    (void)state;
    struct quant_series_store *st = filled();
    /* sorted, with one symbol that has no bars */
    const char *const want[] = {"BBB", "DDD", "ZZZ"};
    struct seen s = {0};
    scan(st, want, 3, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.symbols[0], "BBB");
    assert_string_equal(s.symbols[1], "DDD");
    assert_int_equal(s.counts[1], 120000);
    /* nothing matches: no call, no error */
    const char *const none[] = {"ZZZ"};
    struct seen z = {0};
    scan(st, none, 1, &z);
    assert_int_equal(z.n, 0);
    quant_series_store_close(st);
}

static void test_take_and_stop(void **state)
{
    (void)state;
    struct quant_series_store *st = filled();
    /* arrays taken by the callback stay valid after the scan (ASan sees misuse) */
    struct seen s = {.take = 1};
    scan(st, NULL, 0, &s);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.taken[3].n, 120000);
    assert_int_equal(s.taken[3].v[0].date, 10000);
    assert_int_equal(s.taken[3].v[119999].date, 129999);
    for (size_t i = 0; i < s.n; i++)
        quant_bars_release(&s.taken[i]);
    /* a callback that stops: nothing after it, and no error */
    struct seen t = {.stop_after = 2};
    scan(st, NULL, 0, &t);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.symbols[1], "BBB");
    quant_series_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_values, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_want_filter, tu_scratch_setup, tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_take_and_stop, tu_scratch_setup, tu_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
