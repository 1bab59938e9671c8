/*
 * test_segments.c: no feature or label value spans a break (a gap left by
 * dropped bars, or an unexplained jump).  Proof by construction: on real
 * histories with breaks, every set's matrix and the labels equal, cell for
 * cell, what the library computes on each segment as a history of its own,
 * so no value can depend on a bar across a break.
 */
#include "test_util.h"

#include "feature_testkit.c"

/* bars[from, to) as a series of its own (no break marks: a fresh history). */
static void slice(const struct quant_bars *b, size_t from, size_t to, struct quant_bars *out)
{
    quant_bars_init(out);
    snprintf(out->symbol, sizeof out->symbol, "%s", b->symbol);
    for (size_t i = from; i < to; i++) {
        struct quant_bar x = b->v[i];
        x.quality = 0;
        assert_int_equal(quant_bars_push(out, &x), QUANT_OK);
    }
}

/* Labels of horizon h on bars into m (rows = bars). */
static void labels_of(const struct quant_bars *b, int h, struct quant_feature_matrix *m)
{
    struct quant_adjusted adj = {0};
    struct quant_err err;
    assert_int_equal(quant_adjusted_compute(b, &adj, &err), QUANT_OK);
    assert_int_equal(quant_labels_compute(&adj, h, m, &err), QUANT_OK);
    quant_adjusted_release(&adj);
}

/* Cells of whole[., from + t] against part[., t]: same validity, same bits. */
static long compare_rows(const char *what, const struct quant_feature_matrix *whole,
                         size_t from, const struct quant_feature_matrix *part)
{
    long bad = 0;
    for (size_t f = 0; f < whole->n_features; f++)
        for (size_t t = 0; t < part->n_rows; t++) {
            size_t w = f * whole->n_rows + from + t, p = f * part->n_rows + t;
            int same = whole->valid[w] == part->valid[p] &&
                       (!part->valid[p] || whole->values[w] == part->values[p]);
            if (!same && bad++ < 5)
                print_message("%s feature %zu row %zu: whole %d %.17g, segment %d %.17g\n",
                              what, f, from + t, whole->valid[w], whole->values[w],
                              part->valid[p], part->values[p]);
        }
    return bad;
}

static void check_history(const char *path)
{
    struct quant_bars b;
    tk_load(path, &b);
    /* Breaks of both kinds; the last one 3 bars from the end, so its segment is
     * shorter than every window and every label horizon but 1 and 2. */
    size_t cuts[] = {0, b.n / 3, b.n / 3 + 1, (2 * b.n) / 3, b.n - 3, b.n};
    size_t ncuts = sizeof cuts / sizeof *cuts;
    b.v[cuts[1]].quality = QUANT_Q_GAP_BEFORE;
    b.v[cuts[2]].quality = QUANT_Q_JUMP_BEFORE;   /* a one-bar segment before it */
    b.v[cuts[3]].quality = QUANT_Q_GAP_BEFORE | QUANT_Q_OPEN_FIXED;
    b.v[cuts[4]].quality = QUANT_Q_JUMP_BEFORE;
    b.v[cuts[1] + 7].quality = QUANT_Q_OPEN_FIXED | QUANT_Q_ADJ_CARRIED; /* not a break */
    long bad = 0;
    for (size_t k = 0; k < quant_feature_set_count(); k++) {
        const struct quant_feature_set *set = quant_feature_set_at(k);
        struct quant_feature_matrix whole = {0}, part = {0};
        tk_compute(set, &b, &whole);
        for (size_t c = 0; c + 1 < ncuts; c++) {
            struct quant_bars seg;
            slice(&b, cuts[c], cuts[c + 1], &seg);
            tk_compute(set, &seg, &part);
            bad += compare_rows(quant_feature_set_name(set), &whole, cuts[c], &part);
            quant_bars_release(&seg);
        }
        /* and a break does lose something: ret-like values right after it */
        size_t ret1 = (size_t)quant_feature_set_index(set, "ret_1");
        if (quant_feature_set_index(set, "ret_1") >= 0)
            assert_int_equal(whole.valid[ret1 * whole.n_rows + cuts[1]], 0);
        quant_feature_matrix_release(&whole);
        quant_feature_matrix_release(&part);
    }
    const int horizons[] = {1, 5, 20};
    for (size_t h = 0; h < 3; h++) {
        struct quant_feature_matrix whole = {0}, part = {0};
        labels_of(&b, horizons[h], &whole);
        for (size_t c = 0; c + 1 < ncuts; c++) {
            struct quant_bars seg;
            slice(&b, cuts[c], cuts[c + 1], &seg);
            labels_of(&seg, horizons[h], &part);
            bad += compare_rows("labels", &whole, cuts[c], &part);
            quant_bars_release(&seg);
        }
        /* the bar just before a break has no forward return */
        assert_int_equal(whole.valid[cuts[1] - 1], 0);
        quant_feature_matrix_release(&whole);
        quant_feature_matrix_release(&part);
    }
    if (bad)
        fail_msg("%s: %ld cells differ from the per-segment computation", path, bad);
    quant_bars_release(&b);
}

static void test_no_value_spans_a_break(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    size_t n = tk_ohlcv_files(paths);
    assert_true(n >= 3);
    for (size_t i = 0; i < 3; i++)
        check_history(paths[i]);
}

/* Without breaks the segment path is not taken, and marks that are not
 * breaks (repairs, carried adjustment) change nothing. */
static void test_non_breaks_change_nothing(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char paths[TK_MAX_FILES][PATH_MAX];
    assert_true(tk_ohlcv_files(paths) >= 1);
    struct quant_bars b;
    tk_load(paths[0], &b);
    const struct quant_feature_set *set = quant_feature_set_find("alpha158");
    struct quant_feature_matrix plain = {0}, marked = {0};
    tk_compute(set, &b, &plain);
    for (size_t i = 0; i < b.n; i += 3)
        b.v[i].quality = QUANT_Q_REPAIRED | QUANT_Q_ADJ_CARRIED;
    tk_compute(set, &b, &marked);
    assert_int_equal(compare_rows("alpha158", &plain, 0, &marked), 0);
    quant_feature_matrix_release(&plain);
    quant_feature_matrix_release(&marked);
    quant_bars_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_value_spans_a_break),
        cmocka_unit_test(test_non_breaks_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
