/*
 * test_frames.c: frames.h against the kernels run directly.  A real DuckDB
 * store with seven symbols of made-up but irregular bars: the scan hands out
 * exactly the wanted symbols, in symbol order, each frame equal value by value
 * to quant_features_compute / quant_labels_compute on the same bars, with
 * every thread count; a callback's stop ends the scan at once.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "services/frames.h"

static char dir[PATH_MAX];
static char db[PATH_MAX + 16];

#define NSYM 7
static const char *const names[NSYM] = {"GGG", "AAA", "FFF", "BBB", "EEE", "CCC", "DDD"};

/* A random-walk-ish series of n bars for symbol k (deterministic). */
static void make_bars(int k, size_t n, struct quant_bars *out)
{
    quant_bars_init(out);
    snprintf(out->symbol, sizeof out->symbol, "%s", names[k]);
    double c = 20.0 + 7.0 * k;
    unsigned s = 12345u + (unsigned)k * 7919u;
    for (size_t t = 0; t < n; t++) {
        s = s * 1103515245u + 12345u;
        double r = ((double)((s >> 8) % 2001) - 1000.0) / 50000.0;
        double o = c;
        c = c * (1.0 + r);
        struct quant_bar b = {.date = 10000 + (int32_t)t + (int32_t)(t / 5) * 2,
                              .open = o, .high = fmax(o, c) * 1.01, .low = fmin(o, c) * 0.99,
                              .close = c, .adj_close = NAN, .volume = 1e5 + (double)(s % 1000),
                              .dividend = NAN, .split = NAN};
        assert_int_equal(quant_bars_push(out, &b), QUANT_OK);
    }
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    snprintf(db, sizeof db, "%s/q.duckdb", dir);
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options o = {0};
    assert_int_equal(quant_series_store_open(db, &o, &s, &err), QUANT_OK);
    for (int k = 0; k < NSYM; k++) {
        struct quant_bars b;
        make_bars(k, 300 + 40 * (size_t)k, &b);
        assert_int_equal(quant_series_store_upsert_bars(s, &b, "synthetic", NULL, &err),
                         QUANT_OK);
        quant_bars_release(&b);
    }
    quant_series_store_close(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

struct seen {
    char symbols[NSYM][16];
    int n;
    int stop_after;     /* 0 = never */
    const struct quant_feature_set *set;
    int horizon;
};

static void same_matrix(const struct quant_feature_matrix *a, const struct quant_feature_matrix *b)
{
    assert_int_equal(a->n_features, b->n_features);
    assert_int_equal(a->n_rows, b->n_rows);
    for (size_t i = 0; i < a->n_features * a->n_rows; i++) {
        assert_int_equal(a->valid[i], b->valid[i]);
        if (a->valid[i] && !(isnan(a->values[i]) && isnan(b->values[i])))
            assert_true(a->values[i] == b->values[i]);
    }
}

static int on_frame(void *ctx, const struct quant_frame_item *it)
{
    struct seen *sn = ctx;
    assert_int_equal(it->code, QUANT_OK);
    assert_non_null(it->frame);
    snprintf(sn->symbols[sn->n], sizeof sn->symbols[0], "%s", it->symbol);
    int k = 0;
    while (strcmp(names[k], it->symbol) != 0)
        k++;
    /* the reference: the kernels on the same bars, in this thread */
    struct quant_bars b;
    make_bars(k, 300 + 40 * (size_t)k, &b);
    struct quant_adjusted adj = {0};
    struct quant_feature_matrix f = {0}, l = {0};
    struct quant_err err;
    assert_int_equal(quant_adjusted_compute(&b, &adj, &err), QUANT_OK);
    assert_int_equal(quant_features_compute(sn->set, &adj, &f, &err), QUANT_OK);
    assert_int_equal(quant_labels_compute(&adj, sn->horizon, &l, &err), QUANT_OK);
    assert_int_equal(it->frame->n, b.n);
    for (size_t t = 0; t < b.n; t++)
        assert_int_equal(it->frame->dates[t], b.v[t].date);
    same_matrix(&it->frame->features, &f);
    same_matrix(&it->frame->labels, &l);
    quant_feature_matrix_release(&f);
    quant_feature_matrix_release(&l);
    quant_adjusted_release(&adj);
    quant_bars_release(&b);
    sn->n++;
    return sn->stop_after && sn->n >= sn->stop_after;
}

static void scan(int threads, const char *const *want, size_t n_want, struct seen *sn)
{
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options o = {.read_only = 1};
    assert_int_equal(quant_series_store_open(db, &o, &s, &err), QUANT_OK);
    struct quant_frames_request rq = {.set = sn->set, .horizon = sn->horizon, .want = want,
                                      .n_want = n_want, .threads = threads};
    assert_int_equal(quant_frames_scan(s, &rq, on_frame, sn, &err), QUANT_OK);
    quant_series_store_close(s);
}

static void test_every_symbol_in_order_equal_to_kernels(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 3; threads++) {
        struct seen sn = {.set = quant_feature_set_find(threads == 2 ? "alpha158" : "tech-v1"),
                          .horizon = 3 + threads};
        scan(threads, NULL, 0, &sn);
        assert_int_equal(sn.n, NSYM);
        static const char *const sorted[NSYM] = {"AAA", "BBB", "CCC", "DDD",
                                                 "EEE", "FFF", "GGG"};
        for (int i = 0; i < NSYM; i++)
            assert_string_equal(sn.symbols[i], sorted[i]);
    }
}

static void test_wanted_symbols_only(void **state)
{
    (void)state;
    static const char *const want[] = {"BBB", "EEE", "ZZZ"}; /* ZZZ has no bars */
    struct seen sn = {.set = quant_feature_set_find("tech-v1"), .horizon = 5};
    scan(2, want, 3, &sn);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.symbols[0], "BBB");
    assert_string_equal(sn.symbols[1], "EEE");
}

static void test_stop_ends_the_scan(void **state)
{
    (void)state;
    struct seen sn = {.set = quant_feature_set_find("tech-v1"), .horizon = 5, .stop_after = 2};
    scan(2, NULL, 0, &sn);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.symbols[1], "BBB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_symbol_in_order_equal_to_kernels),
        cmocka_unit_test(test_wanted_symbols_only),
        cmocka_unit_test(test_stop_ends_the_scan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
