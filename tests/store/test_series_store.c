/*
 * test_series_store.c: the DuckDB series store.  Schema, exact upsert counts
 * and values (NaN <-> NULL), idempotent re-ingest that keeps ingested_at,
 * last-wins duplicates, rollback of a call that fails after rows were
 * appended, read-only refusals, the lock held by another process (this test
 * binary re-executed with --hold-lock), a garbage file left untouched, and
 * the text formatting of `quant sql` results.
 */
#define _GNU_SOURCE
#include "test_util.h"
#include "lock_holder.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "quant/series_store.h"

static struct quant_series_store *open_rw(void)
{
    struct quant_series_store *s = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store_options o = {0};
    if (quant_series_store_open(tu_scratch_duckdb, &o, &s, &err) != QUANT_OK)
        fail_msg("open %s: %s", tu_scratch_duckdb, err.msg);
    return s;
}

/* n bars from day0, values derived from the index; NaN sprinkled in the
 * nullable columns (adj_close only at the start: a later gap would be filled
 * by the carried adjustment, see adjust.h). */
static void make_bars(struct quant_bars *b, const char *sym, int32_t day0, size_t n)
{
    quant_bars_init(b);
    snprintf(b->symbol, sizeof b->symbol, "%s", sym);
    for (size_t i = 0; i < n; i++) {
        double x = 100.0 + (double)i * 0.01 + 1.0 / 3.0;
        struct quant_bar bar = {.date = day0 + (int32_t)i, .open = x, .high = x + 1,
                                .low = x - 1, .close = x + 0.1, .adj_close = x * 0.9,
                                .volume = 1000.0 + (double)i, .dividend = 0.0, .split = 1.0};
        if (i < 3)
            bar.adj_close = NAN;
        if (i % 11 == 5)
            bar.dividend = NAN;
        if (i % 13 == 6)
            bar.split = NAN;
        assert_int_equal(quant_bars_push(b, &bar), QUANT_OK);
    }
}

static void upsert_ok(struct quant_series_store *s, const struct quant_bars *b,
                      long ins, long upd, long same)
{
    struct quant_upsert_stats st = {.inserted = -1, .updated = -1, .unchanged = -1};
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_series_store_upsert_bars(s, b, "test", &st, &err) != QUANT_OK)
        fail_msg("upsert %s: %s", b->symbol, err.msg);
    assert_int_equal(st.inserted, ins);
    assert_int_equal(st.updated, upd);
    assert_int_equal(st.unchanged, same);
}

/* The whole result of sql as one string (rows by '\n', cells by '|'). */
static char *dump(struct quant_series_store *s, const char *sql)
{
    struct quant_table t;
    struct quant_err err;
    if (quant_series_store_query(s, sql, 0, &t, &err) != QUANT_OK)
        fail_msg("query %s: %s", sql, err.msg);
    size_t cap = 256 + t.nrows * t.ncols * 32, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t r = 0; r < t.nrows; r++)
        for (size_t c = 0; c < t.ncols; c++) {
            const char *cell = t.cells[r * t.ncols + c];
            size_t need = (cell ? strlen(cell) : 4) + 2;
            if (len + need >= cap) {
                cap = (cap + need) * 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            len += (size_t)snprintf(out + len, cap - len, "%s%c", cell ? cell : "NULL",
                                    c + 1 == t.ncols ? '\n' : '|');
        }
    quant_table_release(&t);
    return out;
}

static const char *ALL = "SELECT * FROM ohlcv ORDER BY symbol, date";

static void assert_same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        assert_true(isnan(a) && isnan(b));
    else
        assert_true(a == b);
}

static void assert_bars_equal(const struct quant_bars *a, const struct quant_bars *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].date, b->v[i].date);
        assert_same_double(a->v[i].open, b->v[i].open);
        assert_same_double(a->v[i].high, b->v[i].high);
        assert_same_double(a->v[i].low, b->v[i].low);
        assert_same_double(a->v[i].close, b->v[i].close);
        assert_same_double(a->v[i].adj_close, b->v[i].adj_close);
        assert_same_double(a->v[i].volume, b->v[i].volume);
        assert_same_double(a->v[i].dividend, b->v[i].dividend);
        assert_same_double(a->v[i].split, b->v[i].split);
    }
}

/* ---- tests ---------------------------------------------------------------- */

static void test_schema_created(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    char *cols = dump(s, "SELECT column_name, data_type FROM duckdb_columns() "
                         "WHERE table_name = 'ohlcv' ORDER BY column_index");
    assert_string_equal(cols, "symbol|VARCHAR\ndate|DATE\nopen|DOUBLE\nhigh|DOUBLE\n"
                              "low|DOUBLE\nclose|DOUBLE\nadj_close|DOUBLE\nvolume|DOUBLE\n"
                              "dividend|DOUBLE\nsplit_coefficient|DOUBLE\nsource|VARCHAR\n"
                              "ingested_at|TIMESTAMP\nquality|UTINYINT\n");
    free(cols);
    char *chk = dump(s, "SELECT constraint_text FROM duckdb_constraints() "
                        "WHERE table_name = 'ohlcv' AND constraint_type = 'CHECK'");
    assert_string_equal(chk, "CHECK((volume >= 0))\n");
    free(chk);
    /* No key on ohlcv since version 3: the single writer keeps (symbol,
     * date) unique (test_unique_after_overlapping_writes). */
    char *pk = dump(s, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'ohlcv'"
                       " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')");
    assert_string_equal(pk, "0\n");
    free(pk);
    char *v = dump(s, "SELECT value FROM quant_meta WHERE key = 'schema_version'");
    assert_string_equal(v, "3\n");
    free(v);
    quant_series_store_close(s);
    /* Reopening is harmless and keeps one version row. */
    s = open_rw();
    v = dump(s, "SELECT count(*) FROM quant_meta");
    assert_string_equal(v, "1\n");
    free(v);
    quant_series_store_close(s);
}

static void test_insert_read_back(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars b, back;
    make_bars(&b, "AAPL", quant_days_from_civil(2010, 1, 1), 3000); /* > one chunk */
    upsert_ok(s, &b, 3000, 0, 0);
    quant_bars_init(&back);
    struct quant_err err;
    assert_int_equal(quant_series_store_load_bars(s, "aapl", &back, &err), QUANT_OK);
    assert_string_equal(back.symbol, "AAPL");
    assert_bars_equal(&b, &back);
    /* NaN went in as SQL NULL, not as a NaN double. */
    size_t nulls = 0;
    for (size_t i = 0; i < b.n; i++)
        nulls += isnan(b.v[i].adj_close);
    char want[64];
    snprintf(want, sizeof want, "%zu|0\n", nulls);
    char *got = dump(s, "SELECT count(*) FILTER (adj_close IS NULL), "
                        "count(*) FILTER (isnan(adj_close)) FROM ohlcv");
    assert_string_equal(got, want);
    free(got);
    got = dump(s, "SELECT symbol, date, open, adj_close, dividend, source FROM ohlcv "
                  "ORDER BY date LIMIT 4");
    assert_string_equal(got, "AAPL|2010-01-01|100.33333333333333|NULL|0|test\n"
                             "AAPL|2010-01-02|100.34333333333333|NULL|0|test\n"
                             "AAPL|2010-01-03|100.35333333333332|NULL|0|test\n"
                             "AAPL|2010-01-04|100.36333333333333|90.327|0|test\n");
    free(got);
    struct quant_series_summary sum;
    assert_int_equal(quant_series_store_symbol_summary(s, "AAPL", &sum, &err), QUANT_OK);
    assert_int_equal(sum.bars, 3000);
    assert_int_equal(sum.first_date, b.v[0].date);
    assert_int_equal(sum.last_date, b.v[2999].date);
    quant_bars_release(&b);
    quant_bars_release(&back);
    quant_series_store_close(s);
}

static void test_reupsert_identical(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars b;
    make_bars(&b, "MSFT", 15000, 2500);
    upsert_ok(s, &b, 2500, 0, 0);
    char *before = dump(s, ALL);
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL); /* a later ingested_at would show if a row were rewritten */
    upsert_ok(s, &b, 0, 0, 2500);
    char *after = dump(s, ALL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    quant_bars_release(&b);
    quant_series_store_close(s);
    /* Also after a reopen (the set of known symbols is rebuilt from the file). */
    s = open_rw();
    make_bars(&b, "MSFT", 15000, 2500);
    upsert_ok(s, &b, 0, 0, 2500);
    quant_bars_release(&b);
    quant_series_store_close(s);
}

static void test_changed_and_new(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars b, back;
    make_bars(&b, "IBM", 16000, 100);
    upsert_ok(s, &b, 100, 0, 0);
    char *old_ts = dump(s, "SELECT DISTINCT epoch_us(ingested_at) FROM ohlcv");
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    b.v[0].close += 1;             /* changed value */
    double stored_adj11 = b.v[11].adj_close;
    b.v[11].adj_close = NAN;       /* a source without it: the stored factor is kept */
    b.v[2].adj_close = 5.0;        /* NULL -> value (i < 3 was NaN; the last of them, so
                                      no carried bar follows it) */
    b.v[50].volume = 0;            /* changed volume */
    b.v[99].split = 2.0;           /* changed split */
    b.v[20].high = -0.0 + b.v[20].high; /* identical: not a change */
    for (int i = 0; i < 5; i++) {  /* five new days */
        struct quant_bar nb = b.v[99];
        nb.date += i + 1;
        assert_int_equal(quant_bars_push(&b, &nb), QUANT_OK);
    }
    upsert_ok(s, &b, 5, 5, 95);
    quant_bars_init(&back);
    struct quant_err err;
    assert_int_equal(quant_series_store_load_bars(s, "IBM", &back, &err), QUANT_OK);
    b.v[11].adj_close = stored_adj11; /* same close, same factor (adjust.h) */
    assert_true(back.v[11].quality == QUANT_Q_ADJ_CARRIED);
    assert_bars_equal(&b, &back);
    /* Only the 10 written rows carry the new ingested_at. */
    char *counts = dump(s, "SELECT count(*) FROM ohlcv GROUP BY ingested_at ORDER BY ingested_at");
    assert_string_equal(counts, "95\n10\n");
    char sql[128];
    old_ts[strlen(old_ts) - 1] = '\0';
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ohlcv WHERE epoch_us(ingested_at) = %s",
             old_ts);
    char *kept = dump(s, sql);
    assert_string_equal(kept, "95\n");
    free(kept);
    free(counts);
    free(old_ts);
    quant_bars_release(&b);
    quant_bars_release(&back);
    quant_series_store_close(s);
}

static void test_duplicates_last_wins(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars b;
    quant_bars_init(&b);
    snprintf(b.symbol, sizeof b.symbol, "DUP");
    /* unsorted, with date 101 three times: the last listed must win */
    const int32_t dates[] = {103, 101, 102, 101, 101, 100};
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        struct quant_bar bar = {.date = dates[i], .open = 1, .high = 2, .low = 0.5,
                                .close = 10.0 + (double)i, .adj_close = NAN, .volume = 1,
                                .dividend = NAN, .split = NAN};
        assert_int_equal(quant_bars_push(&b, &bar), QUANT_OK);
    }
    upsert_ok(s, &b, 4, 0, 0);
    char *got = dump(s, "SELECT date - DATE '1970-01-01', close FROM ohlcv ORDER BY date");
    assert_string_equal(got, "100|15\n101|14\n102|12\n103|10\n");
    free(got);
    /* The same through the existing-symbol path: 102 changes, 104 is new. */
    quant_bars_release(&b);
    quant_bars_init(&b);
    snprintf(b.symbol, sizeof b.symbol, "DUP");
    const struct quant_bar r[] = {
        {.date = 102, .open = 1, .high = 2, .low = 0.5, .close = 99, .adj_close = NAN, .volume = 1,
         .dividend = NAN, .split = NAN},
        {.date = 102, .open = 1, .high = 2, .low = 0.5, .close = 12, .adj_close = NAN, .volume = 1,
         .dividend = NAN, .split = NAN},
        {.date = 104, .open = 1, .high = 2, .low = 0.5, .close = 7, .adj_close = NAN, .volume = 1,
         .dividend = NAN, .split = NAN},
        {.date = 104, .open = 1, .high = 2, .low = 0.5, .close = 8, .adj_close = NAN, .volume = 1,
         .dividend = NAN, .split = NAN}};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(quant_bars_push(&b, &r[i]), QUANT_OK);
    upsert_ok(s, &b, 1, 0, 1);
    got = dump(s, "SELECT date - DATE '1970-01-01', close FROM ohlcv ORDER BY date");
    assert_string_equal(got, "100|15\n101|14\n102|12\n103|10\n104|8\n");
    free(got);
    quant_bars_release(&b);
    quant_series_store_close(s);
}

static void test_two_symbols_independent(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars a, b;
    make_bars(&a, "AAA", 1000, 50);
    make_bars(&b, "BBB", 1010, 60);
    upsert_ok(s, &b, 60, 0, 0);
    upsert_ok(s, &a, 50, 0, 0);
    char *a_before = dump(s, "SELECT * FROM ohlcv WHERE symbol = 'AAA' ORDER BY date");
    for (size_t i = 0; i < b.n; i++)
        b.v[i].open += 1;
    upsert_ok(s, &b, 0, 60, 0);
    char *a_after = dump(s, "SELECT * FROM ohlcv WHERE symbol = 'AAA' ORDER BY date");
    assert_string_equal(a_before, a_after);
    struct quant_series_summary *sum;
    size_t n;
    struct quant_err err;
    assert_int_equal(quant_series_store_summary(s, &sum, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(sum[0].symbol, "AAA");
    assert_int_equal(sum[0].bars, 50);
    assert_int_equal(sum[0].first_date, 1000);
    assert_int_equal(sum[0].last_date, 1049);
    assert_string_equal(sum[1].symbol, "BBB");
    assert_int_equal(sum[1].bars, 60);
    free(sum);
    struct quant_series_summary one;
    assert_int_equal(quant_series_store_symbol_summary(s, "ZZZ", &one, &err), QUANT_OK);
    assert_int_equal(one.bars, 0);
    assert_int_equal(one.first_date, 0);
    /* A symbol that breaks the rules never reaches SQL. */
    struct quant_bars none;
    quant_bars_init(&none);
    assert_int_equal(quant_series_store_load_bars(s, "A'; DROP TABLE ohlcv; --", &none, &err),
                     QUANT_EINVAL);
    free(a_before);
    free(a_after);
    quant_bars_release(&a);
    quant_bars_release(&b);
    quant_bars_release(&none);
    quant_series_store_close(s);
}

static void test_batch_and_unique_keys(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars v[3];
    make_bars(&v[0], "OLD", 500, 300);
    upsert_ok(s, &v[0], 300, 0, 0);
    for (size_t i = 0; i < 300; i += 3)
        v[0].v[i].low -= 0.5;                 /* 100 changed rows */
    struct quant_bar extra = v[0].v[299];
    extra.date += 1;
    assert_int_equal(quant_bars_push(&v[0], &extra), QUANT_OK);
    make_bars(&v[1], "NEW1", 400, 2500);
    make_bars(&v[2], "NEW2", 450, 10);
    struct quant_upsert_stats st[3];
    struct quant_err err;
    if (quant_series_store_upsert_many(s, v, 3, "test", st, &err) != QUANT_OK)
        fail_msg("upsert_many: %s", err.msg);
    assert_int_equal(st[0].inserted, 1);
    assert_int_equal(st[0].updated, 100);
    assert_int_equal(st[0].unchanged, 200);
    assert_int_equal(st[1].inserted, 2500);
    assert_int_equal(st[2].inserted, 10);
    char *got = dump(s, "SELECT count(*), count(DISTINCT (symbol, date)) FROM ohlcv");
    assert_string_equal(got, "2811|2811\n");
    free(got);
    /* The same symbol twice in one batch is refused before anything runs. */
    struct quant_bars twice[2] = {v[2], v[2]};
    assert_int_equal(quant_series_store_upsert_many(s, twice, 2, "test", NULL, &err),
                     QUANT_EINVAL);
    /* Rows written behind the upsert path (through query) are noticed: COPY
     * is not treated as new, so nothing is duplicated. */
    struct quant_table t;
    assert_int_equal(quant_series_store_query(
                         s, "INSERT INTO ohlcv SELECT * REPLACE ('COPY' AS symbol) FROM ohlcv "
                            "WHERE symbol = 'NEW2'",
                         0, &t, &err),
                     QUANT_OK);
    quant_table_release(&t);
    snprintf(v[2].symbol, sizeof v[2].symbol, "COPY");
    upsert_ok(s, &v[2], 0, 0, 10);
    upsert_ok(s, &v[1], 0, 0, 2500);
    got = dump(s, "SELECT count(*), count(DISTINCT (symbol, date)) FROM ohlcv");
    assert_string_equal(got, "2821|2821\n");
    free(got);
    for (int i = 0; i < 3; i++)
        quant_bars_release(&v[i]);
    quant_series_store_close(s);
}

/* bars[from, to) of b as a new series (same values, same dates). */
static void slice(const struct quant_bars *b, size_t from, size_t to, struct quant_bars *out)
{
    quant_bars_init(out);
    snprintf(out->symbol, sizeof out->symbol, "%s", b->symbol);
    for (size_t i = from; i < to; i++)
        assert_int_equal(quant_bars_push(out, &b->v[i]), QUANT_OK);
}

static void assert_unique(struct quant_series_store *s, const char *want_rows)
{
    char *got = dump(s, "SELECT count(*), count(DISTINCT (symbol, date)) FROM ohlcv");
    char want[64];
    snprintf(want, sizeof want, "%s|%s\n", want_rows, want_rows);
    assert_string_equal(got, want);
    free(got);
}

/*
 * ohlcv has no key since schema version 3: uniqueness of (symbol, date) rests
 * on the write path.  Overlapping batches, changed rows, duplicates inside one
 * input (unsorted), an identical re-write, a replaced history: after each,
 * COUNT(*) = COUNT(DISTINCT (symbol, date)) and the counts are the expected.
 */
static void test_unique_after_overlapping_writes(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars full[3], v[3];
    make_bars(&full[0], "AAA", 10000, 1500);
    make_bars(&full[1], "BBB", 10500, 1000);
    make_bars(&full[2], "CCC", 10000, 600);
    slice(&full[0], 0, 1000, &v[0]);
    slice(&full[1], 0, 1000, &v[1]);
    slice(&full[2], 0, 300, &v[2]);
    struct quant_upsert_stats st[3];
    struct quant_err err;
    if (quant_series_store_upsert_many(s, v, 3, "test", st, &err) != QUANT_OK)
        fail_msg("upsert_many: %s", err.msg);
    assert_unique(s, "2300");
    for (int i = 0; i < 3; i++)
        quant_bars_release(&v[i]);

    /* AAA: days 500..1499 (half stored), every 7th stored date changed, and
     * two late corrections appended out of order (the last one wins). */
    slice(&full[0], 500, 1500, &v[0]);
    for (size_t i = 0; i < v[0].n; i++)
        if (v[0].v[i].date % 7 == 0 && v[0].v[i].date < 11000)
            v[0].v[i].low -= 0.25;
    struct quant_bar fix1 = full[0].v[701], fix2 = full[0].v[1200];
    fix1.close += 1;
    fix2.close += 1;
    assert_int_equal(quant_bars_push(&v[0], &fix1), QUANT_OK);
    assert_int_equal(quant_bars_push(&v[0], &fix2), QUANT_OK);
    slice(&full[1], 0, 1000, &v[1]);   /* BBB: the same again */
    slice(&full[2], 200, 600, &v[2]);  /* CCC: overlaps by 100 */
    if (quant_series_store_upsert_many(s, v, 3, "test", st, &err) != QUANT_OK)
        fail_msg("upsert_many: %s", err.msg);
    assert_int_equal(st[0].inserted, 500);
    assert_int_equal(st[0].updated, 73); /* 72 multiples of 7 in 10500..10999, and 10701 */
    assert_int_equal(st[0].unchanged, 427);
    assert_int_equal(st[1].unchanged, 1000);
    assert_int_equal(st[2].inserted, 300);
    assert_int_equal(st[2].unchanged, 100);
    assert_unique(s, "3100");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT close = %.17g FROM ohlcv WHERE symbol = 'AAA' AND"
             " date = DATE '1970-01-01' + 11200", full[0].v[1200].close + 1);
    char *got = dump(s, sql);
    assert_string_equal(got, "true\n");
    free(got);

    /* The same three series again change nothing; one symbol at a time too. */
    if (quant_series_store_upsert_many(s, v, 3, "test", st, &err) != QUANT_OK)
        fail_msg("upsert_many: %s", err.msg);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st[i].inserted + st[i].updated, 0);
    upsert_ok(s, &v[2], 0, 0, 400);
    assert_unique(s, "3100");

    /* A replaced history keeps only the new bars. */
    struct quant_write_options wo = {.replace = 1};
    quant_bars_release(&v[0]);
    slice(&full[0], 100, 200, &v[0]);
    if (quant_series_store_write(s, v, 1, "test", &wo, st, &err) != QUANT_OK)
        fail_msg("replace: %s", err.msg);
    assert_true(st[0].replaced);
    assert_int_equal(st[0].inserted, 100);
    assert_unique(s, "1700");
    for (int i = 0; i < 3; i++) {
        quant_bars_release(&v[i]);
        quant_bars_release(&full[i]);
    }
    quant_series_store_close(s);
}

static void expect_upsert_fails(struct quant_series_store *s, const struct quant_bars *v,
                                size_t n, const char *needle)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_upsert_stats st[4];
    enum quant_code rc = quant_series_store_upsert_many(s, v, n, "test", st, &err);
    assert_int_equal(rc, QUANT_ESTORE);
    print_message("expected failure: %s\n", err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("message lacks '%s': %s", needle, err.msg);
}

static void test_failure_rolls_back(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars a, bad, fresh_bad, ok;
    make_bars(&a, "AAA", 2000, 100);
    upsert_ok(s, &a, 100, 0, 0);
    char *before = dump(s, ALL);
    /* Existing symbol: changes to old rows, 2900 new rows, and a NULL close in
     * the second chunk, so rows were already appended when it fails. */
    make_bars(&bad, "AAA", 2000, 3000);
    for (size_t i = 0; i < 100; i++)
        bad.v[i].open += 1;
    bad.v[2500].close = NAN;
    expect_upsert_fails(s, &bad, 1, "AAA");
    char *after = dump(s, ALL);
    assert_string_equal(before, after);
    free(after);
    /* A new symbol (the fast path), failing on a CHECK in its second chunk. */
    make_bars(&fresh_bad, "NEW", 2000, 3000);
    fresh_bad.v[2600].volume = -1;
    expect_upsert_fails(s, &fresh_bad, 1, "volume");
    after = dump(s, ALL);
    assert_string_equal(before, after);
    free(after);
    /* A batch: the good series before the bad one is rolled back with it. */
    make_bars(&ok, "GOOD", 2000, 2100);
    struct quant_bars batch[2] = {ok, fresh_bad};
    expect_upsert_fails(s, batch, 2, "NEW");
    after = dump(s, ALL);
    assert_string_equal(before, after);
    free(after);
    /* The store is still usable, and NEW is still treated as new. */
    fresh_bad.v[2600].volume = 5;
    upsert_ok(s, &fresh_bad, 3000, 0, 0);
    upsert_ok(s, &ok, 2100, 0, 0);
    /* Changed rows go through the staging table, whose creation the first
     * failure rolled back. */
    bad.v[2500].close = 1.0;
    upsert_ok(s, &bad, 2900, 100, 0);
    free(before);
    quant_bars_release(&a);
    quant_bars_release(&bad);
    quant_bars_release(&fresh_bad);
    quant_bars_release(&ok);
    quant_series_store_close(s);
}

/* A store whose very first write fails, in the parallel insert (over one row
 * group of new rows): the insert's table function and the connection's
 * insertion order outlive the ROLLBACK, and the next write works. */
static void test_first_write_fails_then_works(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_bars v[3];
    make_bars(&v[0], "BIG1", 1000, 60000);
    make_bars(&v[1], "BIG2", 1000, 60000);
    make_bars(&v[2], "BIG3", 1000, 60000);
    v[2].v[59000].volume = -1;
    expect_upsert_fails(s, v, 3, "volume");
    char *rows = dump(s, "SELECT count(*) FROM ohlcv");
    assert_string_equal(rows, "0\n");
    free(rows);
    char *order = dump(s, "SELECT current_setting('preserve_insertion_order')");
    assert_string_equal(order, "true\n");
    free(order);
    v[2].v[59000].volume = 5;
    struct quant_upsert_stats st[3];
    struct quant_err err;
    if (quant_series_store_upsert_many(s, v, 3, "test", st, &err) != QUANT_OK)
        fail_msg("second write: %s", err.msg);
    rows = dump(s, "SELECT count(*), count(DISTINCT (symbol, date)) FROM ohlcv");
    assert_string_equal(rows, "180000|180000\n");
    free(rows);
    for (int i = 0; i < 3; i++)
        quant_bars_release(&v[i]);
    quant_series_store_close(s);
}

static void test_read_only(void **state)
{
    (void)state;
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options ro = {.read_only = 1};
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &ro, &s, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant init-db"));
    assert_null(s);
    s = open_rw();
    struct quant_bars b;
    make_bars(&b, "RO", 100, 10);
    upsert_ok(s, &b, 10, 0, 0);
    quant_series_store_close(s);

    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &ro, &s, &err), QUANT_OK);
    assert_int_equal(quant_series_store_upsert_bars(s, &b, "test", NULL, &err), QUANT_EREADONLY);
    assert_non_null(strstr(err.msg, "read-only"));
    struct quant_table t;
    assert_int_equal(quant_series_store_query(s, "DELETE FROM ohlcv", 0, &t, &err), QUANT_ESTORE);
    assert_non_null(strstr(err.msg, "quant sql is read-only"));
    char *n = dump(s, "SELECT count(*) FROM ohlcv");
    assert_string_equal(n, "10\n");
    free(n);
    quant_series_store_close(s);
    quant_bars_release(&b);
}

/* ---- another process holding the lock ------------------------------------ */

static pid_t spawn_holder(long ms)
{
    return tu_spawn_lock_holder(tu_scratch_duckdb, ms);
}

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_locked_by_other_process(void **state)
{
    (void)state;
    /* Held long enough for the three refused opens below: each costs DuckDB
     * about 0.5 s under the sanitizers on a busy machine (measured), so 1.5 s
     * ran out before the third.  The last open waits for the release anyway. */
    pid_t pid = spawn_holder(5000);
    char want[64];
    snprintf(want, sizeof want, "(PID %ld)", (long)pid);
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options o = {0};
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ELOCKED);
    if (!strstr(err.msg, want) || !strstr(err.msg, "is locked by another quant process"))
        fail_msg("unexpected lock message: %s", err.msg);
    assert_non_null(strstr(err.msg, tu_scratch_duckdb));
    o.read_only = 1; /* readers are shut out too while a writer holds it */
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ELOCKED);
    o.read_only = 0;
    o.lock_timeout_ms = 200;
    double t0 = mono_ms();
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ELOCKED);
    assert_true(mono_ms() - t0 >= 190);
    assert_non_null(strstr(err.msg, "waited"));
    o.lock_timeout_ms = 30000;
    int status;
    assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* the holder is still there */
    if (quant_series_store_open(tu_scratch_duckdb, &o, &s, &err) != QUANT_OK)
        fail_msg("open after waiting: %s", err.msg);
    assert_true(mono_ms() - t0 >= 200); /* still locked at t0 + 200 ms, so it waited */
    quant_series_store_close(s);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_bad_files(void **state)
{
    (void)state;
    const char *junk = "name,price\nthis is a CSV file, not a database\n";
    char junk_big[8192];
    for (size_t i = 0; i < sizeof junk_big; i++)
        junk_big[i] = junk[i % strlen(junk)];
    junk_big[sizeof junk_big - 1] = '\0';
    tu_write_file(tu_scratch_duckdb, junk_big);
    struct quant_series_store *s = NULL;
    struct quant_err err;
    struct quant_series_store_options o = {0};
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ESTORE);
    if (!strstr(err.msg, "not a DuckDB database") || !strstr(err.msg, "do not delete"))
        fail_msg("unexpected message: %s", err.msg);
    assert_null(s);
    char *now = tu_read_file(tu_scratch_duckdb, NULL);
    assert_string_equal(now, junk_big);
    free(now);

    /* A SQLite file (the metadata store, given by mistake) is named as such. */
    char sqlite_head[64] = "SQLite format 3"; /* 15 chars + the NUL of the real header */
    memset(sqlite_head + 16, 'x', 40);
    FILE *f = fopen(tu_scratch_duckdb, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(sqlite_head, 1, 56, f), 56);
    fclose(f);
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ESTORE);
    assert_non_null(strstr(err.msg, "is a SQLite database"));

    char missing[PATH_MAX + 64];
    snprintf(missing, sizeof missing, "%s/no/such/dir/quant.duckdb", tu_scratch_dir);
    assert_int_equal(quant_series_store_open(missing, &o, &s, &err), QUANT_EIO);
    assert_non_null(strstr(err.msg, "no/such/dir does not exist"));
}

static void test_schema_too_new(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_table t;
    struct quant_err err;
    assert_int_equal(quant_series_store_query(
                         s, "UPDATE quant_meta SET value = '7' WHERE key = 'schema_version'", 0,
                         &t, &err),
                     QUANT_OK);
    quant_table_release(&t);
    quant_series_store_close(s);
    struct quant_series_store_options o = {0};
    assert_int_equal(quant_series_store_open(tu_scratch_duckdb, &o, &s, &err), QUANT_ESCHEMA);
    assert_non_null(strstr(err.msg, "version 7"));
}

static void test_query_format(void **state)
{
    (void)state;
    struct quant_series_store *s = open_rw();
    struct quant_table t;
    struct quant_err err;
    assert_int_equal(quant_series_store_query(
                         s,
                         "SELECT 0.1::DOUBLE AS a, 1.0::DOUBLE / 3 AS b, 42 AS i, 'x y' AS s, "
                         "NULL AS n, DATE '2024-01-02' AS d, "
                         "TIMESTAMP '2024-01-02 03:04:05.678' AS ts, 1e300::DOUBLE AS big, "
                         "true AS flag, 2.5::DECIMAL(5,2) AS dec, -0.25::FLOAT AS f, "
                         "TIMESTAMP '1969-12-31 23:59:59' AS old",
                         0, &t, &err),
                     QUANT_OK);
    assert_int_equal(t.ncols, 12);
    assert_int_equal(t.nrows, 1);
    const char *names[] = {"a", "b", "i", "s", "n", "d", "ts", "big", "flag", "dec", "f", "old"};
    const int numeric[] = {1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0}; /* NULL is an INTEGER */
    const char *cells[] = {"0.1", "0.3333333333333333", "42", "x y", NULL, "2024-01-02",
                           "2024-01-02 03:04:05", "1e+300", "true", "2.50", "-0.25",
                           "1969-12-31 23:59:59"};
    for (size_t c = 0; c < 12; c++) {
        assert_string_equal(t.col_names[c], names[c]);
        assert_int_equal(t.col_numeric[c], numeric[c]);
        if (cells[c])
            assert_string_equal(t.cells[c], cells[c]);
        else
            assert_null(t.cells[c]);
    }
    quant_table_release(&t);
    assert_int_equal(quant_series_store_query(s, "SELECT * FROM range(10)", 3, &t, &err),
                     QUANT_OK);
    assert_int_equal(t.nrows, 3);
    assert_string_equal(t.cells[2], "2");
    quant_table_release(&t);
    /* Nested values are shown as DuckDB writes them. */
    assert_int_equal(quant_series_store_query(s, "SELECT [1, 2] AS l, {'k': 'v'} AS st, 1.5 AS x;",
                                              0, &t, &err),
                     QUANT_OK);
    assert_string_equal(t.cells[0], "[1, 2]");
    assert_string_equal(t.cells[1], "{'k': v}");
    assert_string_equal(t.cells[2], "1.5");
    assert_int_equal(t.col_numeric[2], 1);
    quant_table_release(&t);
    assert_int_equal(quant_series_store_query(s, "SELEC 1", 0, &t, &err), QUANT_ESTORE);
    assert_non_null(strstr(err.msg, "syntax error"));
    assert_int_equal(quant_series_store_query(s, "SELECT * FROM nope", 0, &t, &err),
                     QUANT_ESTORE);
    assert_non_null(strstr(err.msg, "nope"));
    quant_series_store_close(s);
}

int main(int argc, char **argv)
{
    int holder = tu_lock_holder_main(argc, argv);
    if (holder >= 0)
        return holder;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_created, tu_scratch_setup, tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_insert_read_back, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_reupsert_identical, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_changed_and_new, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_last_wins, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_two_symbols_independent, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_batch_and_unique_keys, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_unique_after_overlapping_writes, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_failure_rolls_back, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_first_write_fails_then_works, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_read_only, tu_scratch_setup, tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_locked_by_other_process, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, tu_scratch_setup, tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_schema_too_new, tu_scratch_setup, tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_query_format, tu_scratch_setup, tu_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
