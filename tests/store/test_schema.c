/*
 * test_schema.c: the schema version of a DuckDB store and its migrations
 * (lib/store/schema.c).  Older stores are built here with the DDL those
 * versions had (raw DuckDB, not quant), in a scrambled row order; the first
 * read-write open must bring them to version 3 (no key on ohlcv or
 * predictions, rows kept and stored in key order), a read-only open must
 * leave them as they are, and writes after the migration keep (symbol, date)
 * unique.
 */
#include "test_util.h"

#include <duckdb.h>
#include <math.h>
#include <string.h>

#include "quant/series_store.h"

/* Run statements on the file with plain DuckDB (as another client would). */
static void raw(const char *const *sql)
{
    duckdb_database db;
    duckdb_connection con;
    assert_int_equal(duckdb_open(tu_scratch_duckdb, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    for (; *sql; sql++) {
        duckdb_result res;
        if (duckdb_query(con, *sql, &res) == DuckDBError)
            fail_msg("%s: %s", *sql, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* The DDL of schema version 2 (quant before issue 11), and its rows written
 * newest symbol and date first, so a rebuild that kept insertion order would
 * show. */
static const char *const v2_store[] = {
    "CREATE TABLE ohlcv (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
    " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
    " adj_close DOUBLE, volume DOUBLE NOT NULL CHECK (volume >= 0),"
    " dividend DOUBLE, split_coefficient DOUBLE,"
    " source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL,"
    " quality UTINYINT DEFAULT 0, PRIMARY KEY (symbol, date))",
    "CREATE TABLE quant_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "INSERT INTO quant_meta VALUES ('schema_version', '2')",
    "INSERT INTO ohlcv SELECT s, DATE '2020-01-01' + d::INTEGER, 10 + d, 11 + d, 9 + d, 10.5 + d,"
    " CASE WHEN d % 5 = 0 THEN NULL ELSE 10.4 + d END, 1000 + d, NULL, NULL, 'csv',"
    " TIMESTAMP '2024-01-01 00:00:00', d % 2"
    " FROM (VALUES ('ZZZ'), ('MMM'), ('AAA')) AS t(s), range(299, -1, -1) AS r(d)",
    "CREATE TABLE predictions (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
    " model_id VARCHAR NOT NULL, score DOUBLE NOT NULL, PRIMARY KEY (symbol, date, model_id))",
    "ALTER TABLE predictions ADD COLUMN segment VARCHAR",
    "INSERT INTO predictions SELECT s, DATE '2020-01-01' + d::INTEGER, 'm1', d / 300.0, 'test'"
    " FROM (VALUES ('ZZZ'), ('AAA')) AS t(s), range(99, -1, -1) AS r(d)",
    NULL,
};

/* Version 1: no quality column, no predictions yet. */
static const char *const v1_store[] = {
    "CREATE TABLE ohlcv (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
    " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
    " adj_close DOUBLE, volume DOUBLE NOT NULL CHECK (volume >= 0),"
    " dividend DOUBLE, split_coefficient DOUBLE,"
    " source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL, PRIMARY KEY (symbol, date))",
    "CREATE TABLE quant_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "INSERT INTO quant_meta VALUES ('schema_version', '1')",
    "INSERT INTO ohlcv SELECT 'BBB', DATE '2020-01-01' + d::INTEGER, 10, 11, 9, 10.5, NULL, 100, NULL,"
    " NULL, 'csv', TIMESTAMP '2024-01-01 00:00:00' FROM range(49, -1, -1) AS r(d)",
    NULL,
};

static struct quant_series_store *open_store(int read_only)
{
    struct quant_series_store *s = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store_options o = {.read_only = read_only};
    if (quant_series_store_open(tu_scratch_duckdb, &o, &s, &err) != QUANT_OK)
        fail_msg("open %s: %s", tu_scratch_duckdb, err.msg);
    return s;
}

/* The single value of a query, as text (malloc'd). */
static char *value(struct quant_series_store *s, const char *sql)
{
    struct quant_table t;
    struct quant_err err;
    if (quant_series_store_query(s, sql, 0, &t, &err) != QUANT_OK)
        fail_msg("query %s: %s", sql, err.msg);
    assert_int_equal(t.nrows, 1);
    char *v = strdup(t.cells[0] ? t.cells[0] : "NULL");
    quant_table_release(&t);
    return v;
}

static void assert_value(struct quant_series_store *s, const char *sql, const char *want)
{
    char *got = value(s, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got %s, want %s", sql, got, want);
    free(got);
}

/* Rows whose storage position (rowid) comes after a greater key: 0 when the
 * table is stored in key order. */
#define OUT_OF_ORDER(table, key)                                                           \
    "SELECT count(*) FROM (SELECT (" key ") AS k, lag((" key ")) OVER (ORDER BY rowid)"    \
    " AS prev FROM " table ") WHERE prev > k"

static void test_v2_migrates_on_first_write_open(void **state)
{
    (void)state;
    raw(v2_store);
    /* A reader leaves an old store as it is. */
    struct quant_series_store *s = open_store(1);
    assert_value(s, "SELECT value FROM quant_meta WHERE key = 'schema_version'", "2");
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_series_store_load_bars(s, "MMM", &b, &err), QUANT_OK);
    assert_int_equal(b.n, 300);
    quant_series_store_close(s);

    s = open_store(0);
    assert_value(s, "SELECT value FROM quant_meta WHERE key = 'schema_version'", "3");
    assert_value(s, "SELECT count(*) FROM duckdb_constraints() WHERE table_name IN"
                    " ('ohlcv', 'predictions') AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
                 "0");
    /* NOT NULL and the volume CHECK survive the rebuild. */
    assert_value(s, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'ohlcv'"
                    " AND constraint_type = 'CHECK'", "1");
    assert_value(s, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'ohlcv'"
                    " AND constraint_type = 'NOT NULL'", "9");
    /* Every row and value kept, NULLs included, now stored in key order. */
    assert_value(s, "SELECT count(*) || ' ' || sum(close)::BIGINT || ' ' || count(adj_close)"
                    " || ' ' || sum(quality) FROM ohlcv", "900 144000 720 450");
    assert_value(s, OUT_OF_ORDER("ohlcv", "symbol, date"), "0");
    assert_value(s, "SELECT count(*) || ' ' || round(sum(score))::BIGINT || ' ' ||"
                    " count(segment) FROM predictions", "200 33 200");
    assert_value(s, OUT_OF_ORDER("predictions", "model_id, symbol, date"), "0");
    /* The migrated table takes writes and keeps (symbol, date) unique. */
    quant_bars_release(&b);
    assert_int_equal(quant_series_store_load_bars(s, "MMM", &b, &err), QUANT_OK);
    for (size_t i = 0; i < 100; i++) {
        struct quant_bar x = b.v[b.n - 1];
        x.date += 1;
        x.close += 0.5;
        b.v[i].volume += 1;  /* 100 changed */
        assert_int_equal(quant_bars_push(&b, &x), QUANT_OK);
    }
    struct quant_upsert_stats st;
    if (quant_series_store_upsert_bars(s, &b, "csv", &st, &err) != QUANT_OK)
        fail_msg("upsert: %s", err.msg);
    assert_int_equal(st.inserted, 100);
    /* the 100 new volumes, and bars whose missing adj_close quant now carries */
    assert_int_equal(st.updated + st.unchanged, 300);
    assert_true(st.updated >= 100);
    assert_value(s, "SELECT count(*) FROM ohlcv WHERE symbol = 'MMM' AND"
                    " volume = 1001 + (date - DATE '2020-01-01')", "100");
    assert_value(s, "SELECT count(*) = count(DISTINCT (symbol, date)) FROM ohlcv", "true");
    assert_value(s, "SELECT count(*) FROM ohlcv", "1000");
    quant_bars_release(&b);
    quant_series_store_close(s);
    /* Opening again migrates nothing more. */
    s = open_store(0);
    assert_value(s, "SELECT value FROM quant_meta WHERE key = 'schema_version'", "3");
    assert_value(s, "SELECT count(*) FROM ohlcv", "1000");
    quant_series_store_close(s);
}

static void test_v1_migrates_to_v3(void **state)
{
    (void)state;
    raw(v1_store);
    struct quant_series_store *s = open_store(0);
    assert_value(s, "SELECT value FROM quant_meta WHERE key = 'schema_version'", "3");
    assert_value(s, "SELECT count(*) || ' ' || sum(quality) FROM ohlcv", "50 0");
    assert_value(s, OUT_OF_ORDER("ohlcv", "symbol, date"), "0");
    assert_value(s, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'ohlcv'"
                    " AND constraint_type = 'PRIMARY KEY'", "0");
    quant_series_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v2_migrates_on_first_write_open, tu_scratch_setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_v1_migrates_to_v3, tu_scratch_setup,
                                        tu_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
