/*
 * test_predictions.c: lib/store/predictions.c writes every score exactly once,
 * with its segment, through the parallel bulk insert (more rows than one
 * DuckDB row group, batches of every size, an empty one among them), and a
 * rescored (symbol, model) pair replaces its old rows and only those.
 */
#include "test_util.h"

#include <string.h>

#include "store/feature_store.h"
#include "quant/series_store.h"

/* A score reconstructible from the row: symbol base + day / 4. */
static double score_of(double base, int32_t day) { return base + (double)day * 0.25; }

struct series {
    int32_t *dates;
    double *scores;
    uint8_t *segments;
};

/* n rows from day0 on; segment i % QUANT_SEGMENT_COUNT, or none (NULL). */
static struct quant_prediction_batch make(struct series *m, const char *sym, const char *model,
                                          double base, int32_t day0, size_t n, int segments)
{
    m->dates = malloc((n ? n : 1) * sizeof *m->dates);
    m->scores = malloc((n ? n : 1) * sizeof *m->scores);
    m->segments = segments ? malloc(n ? n : 1) : NULL;
    assert_true(m->dates && m->scores && (m->segments || !segments));
    for (size_t i = 0; i < n; i++) {
        m->dates[i] = day0 + (int32_t)i;
        m->scores[i] = score_of(base, m->dates[i]);
        if (m->segments)
            m->segments[i] = (uint8_t)(i % QUANT_SEGMENT_COUNT);
    }
    return (struct quant_prediction_batch){sym, model, m->dates, m->scores, m->segments, n};
}

static void release(struct series *m)
{
    free(m->dates);
    free(m->scores);
    free(m->segments);
}

/* The first cell of sql's result, as text (caller frees). */
static char *one(struct quant_series_store *s, const char *sql)
{
    struct quant_table t;
    struct quant_err err;
    if (quant_series_store_query(s, sql, 0, &t, &err) != QUANT_OK)
        fail_msg("query %s: %s", sql, err.msg);
    assert_true(t.nrows >= 1 && t.ncols >= 1);
    char *v = strdup(t.cells[0] ? t.cells[0] : "NULL");
    quant_table_release(&t);
    return v;
}

static void expect(struct quant_series_store *s, const char *sql, const char *want)
{
    char *got = one(s, sql);
    if (strcmp(got, want) != 0) {
        print_message("%s\n  got %s, want %s\n", sql, got, want);
        free(got);
        fail();
    }
    free(got);
}

/* Rows whose score or segment is not what make() wrote: 0 when exact. */
static const char *WRONG =
    "SELECT count(*) FROM predictions WHERE score <> CASE symbol WHEN 'AAA' THEN 0"
    " WHEN 'CCC' THEN 1000000 ELSE -1 END + (date - DATE '1970-01-01') * 0.25"
    " OR (symbol = 'CCC' AND segment <> 'unseen')"
    " OR (symbol = 'AAA' AND segment <> ['train', 'embargo', 'valid', 'test', 'unlabelled',"
    " 'unseen'][1 + ((date - DATE '1970-01-01') - 1000) % 6])";

static void test_bulk_write_and_rescore(void **state)
{
    (void)state;
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options o = {0};
    if (quant_series_store_open(tu_scratch_duckdb, &o, &s, &err) != QUANT_OK ||
        quant_feature_store_init(s, &err) != QUANT_OK)
        fail_msg("open: %s", err.msg);
    /* 300,000 rows: three row groups' worth, so the insert runs in parallel. */
    struct series a, b, c, other;
    struct quant_prediction_batch v[4] = {
        make(&a, "AAA", "m1", 0, 1000, 200000, 1),
        make(&b, "BBB", "m1", 5, 1000, 0, 1),
        make(&c, "CCC", "m1", 1000000, 1000, 99000, 0),
        make(&other, "AAA", "m2", 0, 1000, 1000, 1),
    };
    if (quant_prediction_store_write_many(s, v, 4, &err) != QUANT_OK)
        fail_msg("write: %s", err.msg);
    expect(s, "SELECT count(*) FROM predictions", "300000");
    expect(s, "SELECT count(DISTINCT (symbol, date, model_id)) FROM predictions", "300000");
    expect(s, "SELECT count(*) FROM predictions WHERE symbol = 'AAA' AND model_id = 'm1'",
           "200000");
    expect(s, "SELECT count(*) FROM predictions WHERE symbol = 'BBB'", "0");
    expect(s, "SELECT max(date) FROM predictions WHERE symbol = 'CCC'", "2243-10-16");
    expect(s, WRONG, "0");
    /* The connection keeps its insertion order once the write is over. */
    expect(s, "SELECT current_setting('preserve_insertion_order')", "true");
    /* Rescoring (AAA, m1) with fewer rows replaces exactly its rows. */
    struct series a2;
    struct quant_prediction_batch again = make(&a2, "AAA", "m1", 0, 1000, 150000, 1);
    if (quant_prediction_store_write_many(s, &again, 1, &err) != QUANT_OK)
        fail_msg("rewrite: %s", err.msg);
    expect(s, "SELECT count(*) FROM predictions WHERE symbol = 'AAA' AND model_id = 'm1'",
           "150000");
    expect(s, "SELECT count(*) FROM predictions WHERE symbol = 'AAA' AND model_id = 'm2'",
           "1000");
    expect(s, "SELECT count(*) FROM predictions WHERE symbol = 'CCC'", "99000");
    expect(s, WRONG, "0");
    release(&a);
    release(&b);
    release(&c);
    release(&other);
    release(&a2);
    quant_series_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bulk_write_and_rescore, tu_scratch_setup,
                                        tu_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
