/*
 * meta_store_cases.c: the metadata store's tests, written once and run
 * against each backend: test_meta_store.c (SQLite) and test_meta_store_pg.c
 * (PostgreSQL, CASES_ON_PG 1) include this file.  Schema creation and a
 * harmless reopen, symbol upsert semantics (empty fields keep stored values),
 * get/list/remove, search ranking, hostile strings stored verbatim, ingest
 * runs, the request ledger, a schema newer than this build, migrations from
 * v1 and v2 (and one that fails part way, leaving the old version),
 * universes, the read-only open and the model registry; for SQLite also WAL
 * mode and a garbage file left untouched.
 *
 * SQL "behind the store's back" goes through the backend's own driver
 * (store/meta_db.h), opened without migrating, so one text serves both.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>
#include <unistd.h>
#include <time.h>

#include "quant/meta_store.h"
#include "store/meta_internal.h"

#ifndef CASES_ON_PG
#define CASES_ON_PG 0
#endif

#if !CASES_ON_PG
#include <sqlite3.h>
#endif

/* The store under test: a sqlite:/// URL of the scratch file, or a fresh
 * PostgreSQL database per test (test_meta_store_pg.c's setup). */
static char meta_url[PATH_MAX + 64];

static struct quant_meta_store *open_ok(void)
{
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_meta_store_open(meta_url, 2000, &m, &err) != QUANT_OK)
        fail_msg("open %s: %s", meta_url, err.msg);
    return m;
}

/* A connection through the backend's driver, with no migration. */
static struct quant_meta_store *raw_open(void)
{
    struct quant_meta_store *s = calloc(1, sizeof *s);
    assert_non_null(s);
    snprintf(s->where, sizeof s->where, "%s", meta_url);
    struct quant_err err;
    enum quant_code rc =
        CASES_ON_PG ? meta_pg_open(meta_url, meta_url, 0, 2000, &s->drv, &s->conn, &err)
                : meta_sqlite_open(tu_scratch_sqlite, 0, 2000, &s->drv, &s->conn, &err);
    if (rc)
        fail_msg("raw open %s: %s", meta_url, err.msg);
    return s;
}

/* Run SQL on the store directly, behind its back. */
static void raw_sql(const char *sql)
{
    struct quant_meta_store *s = raw_open();
    struct quant_err err;
    if (quant_meta_exec_(s, sql, "raw SQL", &err))
        fail_msg("%s: %s", sql, err.msg);
    quant_meta_store_close(s);
}

/* The first column of the first row of sql (one optional text parameter ?1). */
static void raw_text(const char *sql, const char *param, char *out, size_t n)
{
    struct quant_meta_store *s = raw_open();
    struct meta_stmt *st;
    struct quant_err err;
    if (quant_meta_prep_(s, sql, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    if (param)
        meta_bind_text(st, 1, param);
    assert_int_equal(meta_step(st), META_ROW);
    const char *t = meta_column_text(st, 0);
    snprintf(out, n, "%s", t ? t : "(null)");
    meta_finalize(st);
    quant_meta_store_close(s);
}

static long raw_long(const char *sql, const char *param)
{
    char t[64];
    raw_text(sql, param, t, sizeof t);
    return strtol(t, NULL, 10);
}

static void add(struct quant_meta_store *m, const char *sym, const char *name, int want_created)
{
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "%s", sym);
    snprintf(info.name, sizeof info.name, "%s", name);
    int created = -1;
    struct quant_err err;
    if (quant_meta_symbol_upsert(m, &info, &created, &err) != QUANT_OK)
        fail_msg("upsert %s: %s", sym, err.msg);
    assert_int_equal(created, want_created);
}

static void test_open_creates_schema(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    assert_int_equal(quant_meta_store_found_version(m), 0);
    quant_meta_store_close(m);
    m = open_ok();
    assert_int_equal(quant_meta_store_found_version(m), QUANT_META_SCHEMA_VERSION);
    quant_meta_store_close(m);
#if !CASES_ON_PG
    /* WAL mode persisted in the file (asked of SQLite itself, not the driver). */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tu_scratch_sqlite, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
#endif
    /* one version row */
    assert_int_equal(raw_long("SELECT count(*) FROM schema_version", NULL), 1);
    assert_int_equal(raw_long("SELECT max(version) FROM schema_version", NULL),
                     QUANT_META_SCHEMA_VERSION);
    m = open_ok();
    assert_string_equal(quant_meta_store_backend(m), CASES_ON_PG ? "PostgreSQL" : "SQLite");
    quant_meta_store_close(m);
}

static void test_symbol_upsert_get_list_remove(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "ibm");
    snprintf(info.name, sizeof info.name, "International Business Machines");
    snprintf(info.exchange, sizeof info.exchange, "NYSE");
    snprintf(info.sector, sizeof info.sector, "Technology");
    int created = -1;
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(quant_meta_symbol_upsert(m, &info, &created, &err), QUANT_OK);
    assert_int_equal(created, 1);
    /* Second upsert: new currency, empty name/sector must keep stored ones. */
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "IBM");
    snprintf(info.currency, sizeof info.currency, "USD");
    snprintf(info.exchange, sizeof info.exchange, "NYSE Arca");
    assert_int_equal(quant_meta_symbol_upsert(m, &info, &created, &err), QUANT_OK);
    assert_int_equal(created, 0);
    struct quant_symbol_record r;
    assert_int_equal(quant_meta_symbol_get(m, "ibm", &r, &err), QUANT_OK);
    assert_string_equal(r.info.symbol, "IBM");
    assert_string_equal(r.info.name, "International Business Machines");
    assert_string_equal(r.info.sector, "Technology");
    assert_string_equal(r.info.currency, "USD");
    assert_string_equal(r.info.exchange, "NYSE Arca");
    assert_string_equal(r.info.industry, "");
    assert_int_equal(r.active, 1);
    assert_true(r.added_at >= before && r.added_at <= (int64_t)time(NULL));
    assert_true(r.updated_at >= r.added_at);

    add(m, "AAPL", "Apple Inc", 1);
    add(m, "ZZZ", "Sleepy Corp", 1);
    raw_sql("UPDATE symbols SET active = 0 WHERE symbol = 'ZZZ'");
    struct quant_symbol_record *v;
    size_t n;
    assert_int_equal(quant_meta_symbol_list(m, 0, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].info.symbol, "AAPL");
    assert_string_equal(v[1].info.symbol, "IBM");
    assert_string_equal(v[2].info.symbol, "ZZZ");
    assert_int_equal(v[2].active, 0);
    free(v);
    assert_int_equal(quant_meta_symbol_list(m, 1, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);
    free(v);
    add(m, "ZZZ", "", 0); /* upsert reactivates */
    assert_int_equal(quant_meta_symbol_get(m, "ZZZ", &r, &err), QUANT_OK);
    assert_int_equal(r.active, 1);
    assert_string_equal(r.info.name, "Sleepy Corp");

    assert_int_equal(quant_meta_symbol_remove(m, "aapl", &err), QUANT_OK);
    assert_int_equal(quant_meta_symbol_get(m, "AAPL", &r, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant symbols add AAPL"));
    assert_int_equal(quant_meta_symbol_remove(m, "AAPL", &err), QUANT_ENOTFOUND);
    assert_int_equal(quant_meta_symbol_get(m, "BAD SYMBOL", &r, &err), QUANT_EINVAL);
    quant_meta_store_close(m);
}

static void test_search_ranking(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    add(m, "IBMX", "Something Else", 1);     /* symbol prefix */
    add(m, "XIBM", "Other", 1);              /* symbol substring */
    add(m, "ACME", "Ibm Holdings", 1);       /* name prefix */
    add(m, "BETA", "Big IBM Partners", 1);   /* name substring */
    add(m, "IBM", "International Business Machines", 1); /* exact */
    add(m, "NOPE", "Unrelated", 1);
    add(m, "AIBM", "Also substring", 1);     /* symbol substring, sorts before XIBM */
    struct quant_symbol_record *v;
    size_t n;
    struct quant_err err;
    assert_int_equal(quant_meta_symbol_search(m, "ibm", 0, &v, &n, &err), QUANT_OK);
    const char *want[] = {"IBM", "IBMX", "ACME", "AIBM", "BETA", "XIBM"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i].info.symbol, want[i]);
    free(v);
    assert_int_equal(quant_meta_symbol_search(m, "ibm", 2, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);
    free(v);
    /* LIKE wildcards in the query are plain characters. */
    assert_int_equal(quant_meta_symbol_search(m, "%", 0, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(quant_meta_symbol_search(m, "_", 0, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(v);
    quant_meta_store_close(m);
}

static void test_hostile_strings(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    char longname[201];
    for (int i = 0; i < 200; i++)
        longname[i] = (char)('a' + i % 26);
    longname[200] = '\0';
    const char *names[] = {"Robert'); DROP TABLE symbols;--", "semi;colon \"quoted\" 'single'",
                           "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x88", longname};
    const char *syms[] = {"H1", "H2", "H3", "H4"};
    for (int i = 0; i < 4; i++) {
        struct quant_symbol_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.symbol, sizeof info.symbol, "%s", syms[i]);
        snprintf(info.name, sizeof info.name, "%s", names[i]);
        snprintf(info.industry, sizeof info.industry, "%s", names[i]);
        struct quant_err err;
        assert_int_equal(quant_meta_symbol_upsert(m, &info, NULL, &err), QUANT_OK);
    }
    for (int i = 0; i < 4; i++) {
        struct quant_symbol_record r;
        struct quant_err err;
        assert_int_equal(quant_meta_symbol_get(m, syms[i], &r, &err), QUANT_OK);
        assert_string_equal(r.info.name, names[i]);
        /* industry is a 128-byte field: a longer value comes back truncated */
        size_t want = strlen(names[i]) < sizeof r.info.industry ? strlen(names[i])
                                                                : sizeof r.info.industry - 1;
        assert_int_equal(strlen(r.info.industry), want);
        assert_memory_equal(r.info.industry, names[i], want);
    }
    struct quant_symbol_record *v;
    size_t n;
    struct quant_err err;
    assert_int_equal(quant_meta_symbol_search(m, "'); DROP", 0, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].info.symbol, "H1");
    free(v);
    assert_int_equal(quant_meta_symbol_search(m, "\xe6\x97\xa5\xe6\x9c\xac", 0, &v, &n, &err),
                     QUANT_OK);
    assert_int_equal(n, 1);
    free(v);
    assert_int_equal(quant_meta_symbol_list(m, 0, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 4); /* the table survived */
    free(v);
    /* A hostile symbol is refused, not stored. */
    struct quant_symbol_info bad;
    memset(&bad, 0, sizeof bad);
    snprintf(bad.symbol, sizeof bad.symbol, "A';--");
    assert_int_equal(quant_meta_symbol_upsert(m, &bad, NULL, &err), QUANT_EINVAL);
    quant_meta_store_close(m);
}

static void test_runs(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_ingest_run run;
    assert_int_equal(quant_meta_run_last(m, "IBM", &run, &err), QUANT_ENOTFOUND);
    int64_t id1, id2;
    int64_t t0 = (int64_t)time(NULL);
    assert_int_equal(quant_meta_run_begin(m, "IBM", "alphavantage", &id1, &err), QUANT_OK);
    assert_int_equal(quant_meta_run_last(m, "IBM", &run, &err), QUANT_OK);
    assert_int_equal(run.id, id1);
    assert_string_equal(run.status, "running");
    assert_int_equal(run.finished_at, 0);
    assert_true(run.started_at >= t0);
    assert_int_equal(quant_meta_run_finish(m, id1, "failed", 0, "HTTP 503 from 'server'; retry",
                                           &err),
                     QUANT_OK);
    assert_int_equal(quant_meta_run_begin(m, "IBM", "csv", &id2, &err), QUANT_OK);
    assert_true(id2 > id1);
    assert_int_equal(quant_meta_run_finish(m, id2, "ok", 6500, NULL, &err), QUANT_OK);
    assert_int_equal(quant_meta_run_last(m, "IBM", &run, &err), QUANT_OK);
    assert_int_equal(run.id, id2);
    assert_string_equal(run.symbol, "IBM");
    assert_string_equal(run.provider, "csv");
    assert_string_equal(run.status, "ok");
    assert_int_equal(run.rows, 6500);
    assert_string_equal(run.error, "");
    assert_true(run.finished_at >= run.started_at);
    assert_int_equal(quant_meta_run_finish(m, id2, "weird", 0, NULL, &err), QUANT_EINVAL);
    assert_int_equal(quant_meta_run_finish(m, 9999, "ok", 0, NULL, &err), QUANT_ENOTFOUND);
    /* a run left 'running' by a killed process is closed as interrupted; done runs stay */
    int64_t id3;
    long closed = -1;
    assert_int_equal(quant_meta_run_begin(m, "MSFT", "csv", &id3, &err), QUANT_OK);
    assert_int_equal(quant_meta_runs_close_stale(m, &closed, &err), QUANT_OK);
    assert_int_equal(closed, 1);
    assert_int_equal(quant_meta_run_last(m, "MSFT", &run, &err), QUANT_OK);
    assert_string_equal(run.status, "failed");
    assert_non_null(strstr(run.error, "interrupted"));
    assert_true(run.finished_at > 0);
    assert_int_equal(quant_meta_run_last(m, "IBM", &run, &err), QUANT_OK);
    assert_string_equal(run.status, "ok");
    assert_int_equal(quant_meta_runs_close_stale(m, &closed, &err), QUANT_OK);
    assert_int_equal(closed, 0);
    quant_meta_store_close(m);

    /* On a shared registry a writer closes only its own series store's runs:
     * machine B's lock says nothing about machine A's ingest. */
    struct quant_meta_store *a = open_ok(), *b = open_ok();
    quant_meta_store_set_series(a, "host-a:/data/quant.duckdb");
    quant_meta_store_set_series(b, "host-b:/data/quant.duckdb");
    int64_t ida;
    assert_int_equal(quant_meta_run_begin(a, "NVDA", "csv", &ida, &err), QUANT_OK);
    assert_int_equal(quant_meta_runs_close_stale(b, &closed, &err), QUANT_OK);
    assert_int_equal(closed, 0);
    assert_int_equal(quant_meta_run_last(b, "NVDA", &run, &err), QUANT_OK);
    assert_string_equal(run.status, "running");
    assert_int_equal(quant_meta_runs_close_stale(a, &closed, &err), QUANT_OK);
    assert_int_equal(closed, 1);
    assert_int_equal(quant_meta_run_last(b, "NVDA", &run, &err), QUANT_OK);
    assert_string_equal(run.status, "failed");
    quant_meta_store_close(a);
    quant_meta_store_close(b);
    char tag[64];
    raw_text("SELECT series_store FROM ingest_runs WHERE symbol = 'NVDA'", NULL, tag, sizeof tag);
    assert_string_equal(tag, "host-a:/data/quant.duckdb");
    /* Times are stored as UTC ISO-8601 text. */
    char ts[64], msg[128];
    raw_text("SELECT started_at FROM ingest_runs ORDER BY id LIMIT 1", NULL, ts, sizeof ts);
    assert_int_equal(strlen(ts), 20);
    assert_true(ts[10] == 'T' && ts[19] == 'Z');
    raw_text("SELECT error FROM ingest_runs ORDER BY id LIMIT 1", NULL, msg, sizeof msg);
    assert_string_equal(msg, "HTTP 503 from 'server'; retry");
}

static void test_ledger(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    int32_t day = quant_days_from_civil(2026, 11, 24);
    long n = -1;
    assert_int_equal(quant_meta_ledger_get(m, day, "key-a", &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(quant_meta_ledger_add(m, day, "key-a", 1, &err), QUANT_OK);
    assert_int_equal(quant_meta_ledger_add(m, day, "key-a", 3, &err), QUANT_OK);
    assert_int_equal(quant_meta_ledger_add(m, day, "key-b", 5, &err), QUANT_OK);
    assert_int_equal(quant_meta_ledger_add(m, day + 1, "key-a", 7, &err), QUANT_OK);
    assert_int_equal(quant_meta_ledger_get(m, day, "key-a", &n, &err), QUANT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(quant_meta_ledger_get(m, day, "key-b", &n, &err), QUANT_OK);
    assert_int_equal(n, 5);
    assert_int_equal(quant_meta_ledger_get(m, day + 1, "key-a", &n, &err), QUANT_OK);
    assert_int_equal(n, 7);
    quant_meta_store_close(m);
    m = open_ok(); /* persisted */
    assert_int_equal(quant_meta_ledger_get(m, day, "key-a", &n, &err), QUANT_OK);
    assert_int_equal(n, 4);
    quant_meta_store_close(m);
    char day_text[32];
    raw_text("SELECT min(day) FROM request_ledger", NULL, day_text, sizeof day_text);
    assert_string_equal(day_text, "2026-11-24");
}

#if !CASES_ON_PG
static void test_garbage_file(void **state)
{
    (void)state;
    char junk[4096];
    for (size_t i = 0; i < sizeof junk - 1; i++)
        junk[i] = (char)('A' + i % 23);
    junk[sizeof junk - 1] = '\0';
    tu_write_file(tu_scratch_sqlite, junk);
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    assert_int_equal(quant_meta_store_open(meta_url, 100, &m, &err), QUANT_ESTORE);
    assert_null(m);
    if (!strstr(err.msg, "is not a SQLite database") || !strstr(err.msg, tu_scratch_sqlite))
        fail_msg("unexpected message: %s", err.msg);
    char *now = tu_read_file(tu_scratch_sqlite, NULL);
    assert_string_equal(now, junk);
    free(now);
}

#endif

/* A version-1 store (no models table) is migrated forward on open. */
static void test_migrates_v1(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    quant_meta_store_close(m);
    raw_sql("DROP TABLE models");
    raw_sql("DROP TABLE universe_members");
    raw_sql("DROP TABLE universes");
    raw_sql("DROP TABLE evaluations");
    raw_sql("ALTER TABLE ingest_runs DROP COLUMN series_store");
    raw_sql("DROP TABLE lake_files");
    raw_sql("UPDATE schema_version SET version = 1");
    m = open_ok();
    assert_int_equal(quant_meta_store_found_version(m), 1);
    struct quant_model_record *v = NULL;
    size_t n = 99;
    struct quant_err err;
    assert_int_equal(quant_meta_model_list(m, NULL, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(v);
    quant_meta_store_close(m);
}

/* Make the store a version-2 file (no universes), as quant before v3 left it. */
static void make_v2(void)
{
    struct quant_meta_store *m = open_ok();
    add(m, "AAPL", "Apple Inc.", 1);
    quant_meta_store_close(m);
    raw_sql("DROP TABLE universe_members");
    raw_sql("DROP TABLE universes");
    raw_sql("DROP TABLE evaluations");
    raw_sql("ALTER TABLE ingest_runs DROP COLUMN series_store");
    raw_sql("DROP TABLE lake_files");
    raw_sql("UPDATE schema_version SET version = 2");
}

static int table_exists(const char *name)
{
    return (int)raw_long(CASES_ON_PG ? "SELECT count(*) FROM pg_catalog.pg_tables"
                                   " WHERE schemaname = current_schema() AND tablename = ?1"
                                 : "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                         name);
}

static int stored_version(void)
{
    return (int)raw_long("SELECT version FROM schema_version", NULL);
}

/* A version-2 file gains the universe (v3) and evaluation (v4) tables and
 * the runs' series store (v5) on open, its rows kept. */
static void test_migrates_v2(void **state)
{
    (void)state;
    make_v2();
    struct quant_meta_store *m = open_ok();
    assert_int_equal(quant_meta_store_found_version(m), 2);
    assert_int_equal(stored_version(), QUANT_META_SCHEMA_VERSION);
    assert_int_equal(table_exists("evaluations"), 1);
    struct quant_symbol_record rec;
    struct quant_err err;
    assert_int_equal(quant_meta_symbol_get(m, "AAPL", &rec, &err), QUANT_OK);
    struct quant_universe_record *v = NULL;
    size_t n = 99;
    assert_int_equal(quant_meta_universe_list(m, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(v);
    quant_meta_store_close(m);
}

/* A migration that fails part way (here its second table's name is taken)
 * leaves the file at the old version with none of the new tables: the
 * steps and the version run in one transaction. */
static void test_failed_migration_leaves_the_old_version(void **state)
{
    (void)state;
    make_v2();
    raw_sql("CREATE TABLE universe_members (x INTEGER)");
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_meta_store_open(meta_url, 100, &m, &err), QUANT_ESTORE);
    assert_null(m);
    assert_non_null(strstr(err.msg, "migrating the schema"));
    assert_int_equal(stored_version(), 2);
    assert_int_equal(table_exists("universes"), 0); /* the first step was rolled back */
    /* once the obstacle is gone the same open migrates */
    raw_sql("DROP TABLE universe_members");
    m = open_ok();
    assert_int_equal(quant_meta_store_found_version(m), 2);
    quant_meta_store_close(m);
    assert_int_equal(stored_version(), QUANT_META_SCHEMA_VERSION);
    assert_int_equal(table_exists("universes"), 1);
}

static void interval(struct quant_universe_interval *iv, const char *sym, const char *start,
                     const char *end)
{
    memset(iv, 0, sizeof *iv);
    snprintf(iv->symbol, sizeof iv->symbol, "%s", sym);
    assert_int_equal(quant_date_parse(start, 10, &iv->start), 0);
    assert_int_equal(quant_date_parse(end, 10, &iv->end), 0);
}

static void test_universes(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_universe_interval iv[3];
    interval(&iv[0], "AAA", "2020-01-02", "2020-06-30");
    interval(&iv[1], "AAA", "2021-01-04", "2024-12-31");
    interval(&iv[2], "BBB", "2020-03-02", "2020-03-02");
    struct quant_universe_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.name, sizeof rec.name, "demo");
    snprintf(rec.source, sizeof rec.source, "members.tsv");
    rec.created_at = 1700000000;
    rec.n_symbols = 2;
    rec.n_intervals = 3;
    rec.first = iv[0].start;
    rec.last = iv[1].end;
    int replaced = -1;
    assert_int_equal(quant_meta_universe_put(m, &rec, iv, 3, 0, &replaced, &err), QUANT_OK);
    assert_int_equal(replaced, 0);
    /* names compare without case: a second "DEMO" is the same universe */
    snprintf(rec.name, sizeof rec.name, "DEMO");
    assert_int_equal(quant_meta_universe_put(m, &rec, iv, 2, 0, &replaced, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "--replace"));
    /* nothing is stored from a refused list */
    assert_int_equal(quant_meta_universe_put(m, &rec, iv, 0, 1, NULL, &err), QUANT_EINVAL);
    struct quant_universe_interval backwards = iv[0];
    backwards.end = backwards.start - 1;
    assert_int_equal(quant_meta_universe_put(m, &rec, &backwards, 1, 1, NULL, &err),
                     QUANT_EINVAL);

    struct quant_universe_record got;
    struct quant_universe_interval *v = NULL;
    size_t n = 0;
    assert_int_equal(quant_meta_universe_get(m, "Demo", &got, &v, &n, &err), QUANT_OK);
    assert_string_equal(got.name, "demo");
    assert_string_equal(got.source, "members.tsv");
    assert_int_equal(got.created_at, 1700000000);
    assert_int_equal(got.n_symbols, 2);
    assert_int_equal(got.n_intervals, 3);
    assert_int_equal(got.first, iv[0].start);
    assert_int_equal(got.last, iv[1].end);
    assert_int_equal(n, 3);
    assert_memory_equal(v, iv, sizeof iv); /* dates round-trip, in order */
    free(v);

    /* --replace swaps every interval in one step */
    rec.n_symbols = 1;
    rec.n_intervals = 1;
    assert_int_equal(quant_meta_universe_put(m, &rec, &iv[2], 1, 1, &replaced, &err), QUANT_OK);
    assert_int_equal(replaced, 1);
    assert_int_equal(quant_meta_universe_get(m, "demo", &got, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].symbol, "BBB");
    free(v);
    assert_int_equal(quant_meta_universe_get(m, "demo", &got, NULL, NULL, &err), QUANT_OK);
    assert_string_equal(got.name, "DEMO");

    struct quant_universe_record *list = NULL;
    assert_int_equal(quant_meta_universe_list(m, &list, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    free(list);
    assert_int_equal(quant_meta_universe_remove(m, "demo", &got, &err), QUANT_OK);
    assert_int_equal(got.n_intervals, 1);
    assert_int_equal(quant_meta_universe_remove(m, "demo", NULL, &err), QUANT_ENOTFOUND);
    assert_int_equal(quant_meta_universe_get(m, "demo", &got, NULL, NULL, &err),
                     QUANT_ENOTFOUND);
    quant_meta_store_close(m);
    /* the intervals went with their universe (ON DELETE CASCADE) */
    assert_int_equal(raw_long("SELECT count(*) FROM universe_members", NULL), 0);
}

/* The reader's open: sees what the writer stored, never writes, never
 * migrates, and refuses stores it cannot read as they are. */
static void test_read_only_open(void **state)
{
    (void)state;
    struct quant_meta_store *m = NULL;
    struct quant_err err;
#if CASES_ON_PG
    /* an empty database has no schema yet, and the reader creates none */
    assert_int_equal(quant_meta_store_open_read_only(meta_url, 0, &m, NULL, &err), QUANT_ESCHEMA);
    assert_non_null(strstr(err.msg, "quant init-db"));
    assert_int_equal(table_exists("schema_version"), 0);
#else
    int none = -2;
    assert_int_equal(quant_meta_store_open_read_only(meta_url, 0, &m, &none, &err),
                     QUANT_ENOTFOUND);
    assert_int_equal(none, -1);
    assert_non_null(strstr(err.msg, "quant init-db"));
    assert_int_equal(access(tu_scratch_sqlite, F_OK), -1); /* nothing was created */
#endif

    m = open_ok();
    add(m, "AAPL", "Apple Inc.", 1);
    quant_meta_store_close(m);

    assert_int_equal(quant_meta_store_open_read_only(meta_url, 0, &m, NULL, &err), QUANT_OK);
    struct quant_symbol_record *recs = NULL;
    size_t n = 0;
    assert_int_equal(quant_meta_symbol_list(m, 0, &recs, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].info.symbol, "AAPL");
    free(recs);
    struct quant_symbol_info info = {0};
    snprintf(info.symbol, sizeof info.symbol, "MSFT");
    assert_int_not_equal(quant_meta_symbol_upsert(m, &info, NULL, &err), QUANT_OK);
    quant_meta_store_close(m);

    /* an older schema is not migrated behind a reader's back */
    raw_sql("UPDATE schema_version SET version = 1");
    int found = -2;
    assert_int_equal(quant_meta_store_open_read_only(meta_url, 0, &m, &found, &err),
                     QUANT_ESCHEMA);
    assert_non_null(strstr(err.msg, "run `quant init-db`"));
    assert_int_equal(found, 1); /* the refused version is still told: older, not newer */
    raw_sql("UPDATE schema_version SET version = 99");
    assert_int_equal(quant_meta_store_open_read_only(meta_url, 0, &m, &found, &err),
                     QUANT_ESCHEMA);
    assert_non_null(strstr(err.msg, "upgrade quant"));
    assert_int_equal(found, 99);
}

static void fill_model(struct quant_model_record *r, const char *id, const char *symbols,
                       int64_t at)
{
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->algorithm, sizeof r->algorithm, "lightgbm");
    snprintf(r->feature_set, sizeof r->feature_set, "tech-v1");
    r->horizon = 5;
    r->params_json = strdup("{\"num_leaves\": \"31\"}");
    r->metrics_json = strdup("{\"auc\": 0.52}");
    r->feature_names_json = strdup("[\"ret_1\"]");
    r->symbols_json = strdup(symbols);
    r->segments_json = strdup("{}");
    snprintf(r->fingerprint, sizeof r->fingerprint, "abc123");
    snprintf(r->path, sizeof r->path, "/models/%s.txt", id);
    r->created_at = at;
}

static void test_model_registry(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_model_record r;
    fill_model(&r, "lgb_AAPL_1", "[\"AAPL\"]", 1700000000);
    assert_int_equal(quant_meta_model_insert(m, &r, &err), QUANT_OK);
    assert_int_equal(quant_meta_model_insert(m, &r, &err), QUANT_ESTORE); /* ids are unique */
    quant_model_record_release(&r);
    fill_model(&r, "lgb_pooled_2", "[\"AAPL\",\"AAPLX\",\"NVDA\"]", 1700000100);
    assert_int_equal(quant_meta_model_insert(m, &r, &err), QUANT_OK);
    quant_model_record_release(&r);
    fill_model(&r, "xgb_AAPLX_3", "[\"AAPLX\"]", 1700000200);
    assert_int_equal(quant_meta_model_insert(m, &r, &err), QUANT_OK);
    quant_model_record_release(&r);

    assert_int_equal(quant_meta_model_get(m, "lgb_AAPL_1", &r, &err), QUANT_OK);
    assert_string_equal(r.algorithm, "lightgbm");
    assert_int_equal(r.horizon, 5);
    assert_string_equal(r.params_json, "{\"num_leaves\": \"31\"}");
    assert_string_equal(r.path, "/models/lgb_AAPL_1.txt");
    assert_int_equal(r.created_at, 1700000000);
    quant_model_record_release(&r);
    assert_int_equal(quant_meta_model_get(m, "nope", &r, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant models list"));

    struct quant_model_record *v;
    size_t n;
    assert_int_equal(quant_meta_model_list(m, "AAPL", &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);                           /* not AAPLX's own model */
    assert_string_equal(v[0].id, "lgb_pooled_2");     /* newest first */
    assert_string_equal(v[1].id, "lgb_AAPL_1");
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&v[i]);
    free(v);
    assert_int_equal(quant_meta_model_list(m, NULL, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&v[i]);
    free(v);
    quant_meta_store_close(m);
}

static void test_schema_too_new(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    quant_meta_store_close(m);
    raw_sql("UPDATE schema_version SET version = 9");
    struct quant_err err;
    assert_int_equal(quant_meta_store_open(meta_url, 100, &m, &err), QUANT_ESCHEMA);
    assert_null(m);
    assert_non_null(strstr(err.msg, "version 9"));
    assert_non_null(strstr(err.msg, "upgrade quant"));
}

/* Every case above as cmocka tests, each with a fresh store (the including
 * file defines case_setup and case_teardown). */
/* The lake's catalogue: swaps check the live set their writer read. */
static void test_lake_files(void **state)
{
    (void)state;
    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_lake_file *live = NULL, *old = NULL;
    size_t n = 99, nold = 99;
    assert_int_equal(quant_meta_lake_live(m, &live, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(live);

    struct quant_lake_file a = {.rows = 10}, b = {.rows = 11}, c = {.rows = 4};
    snprintf(a.path, sizeof a.path, "ohlcv/symbol=AAA/a.parquet");
    snprintf(b.path, sizeof b.path, "ohlcv/symbol=AAA/b.parquet");
    snprintf(c.path, sizeof c.path, "labels/symbol=GC%%3DF/c.parquet");
    struct quant_lake_swap sw[2] = {
        {.table = "ohlcv", .part = "AAA", .files = &a, .n_files = 1},
        {.table = "labels", .part = "GC=F", .files = &c, .n_files = 1},
    };
    assert_int_equal(quant_meta_lake_swap(m, sw, 2, "test", &old, &nold, &err), QUANT_OK);
    assert_int_equal(nold, 0);
    free(old);
    assert_int_equal(quant_meta_lake_live(m, &live, &n, &err), QUANT_OK);
    assert_int_equal(n, 2); /* ordered by table: labels first */
    assert_string_equal(live[0].table, "labels");
    assert_string_equal(live[0].part, "GC=F");
    assert_string_equal(live[1].path, a.path);
    assert_int_equal(live[1].rows, 10);
    int64_t id_a = live[1].id, id_c = live[0].id;
    free(live);

    /* a writer that read the partition empty lost the race: nothing changes */
    struct quant_lake_swap late[2] = {
        {.table = "labels", .part = "GC=F", .expect_n = 1, .expect_max = id_c},
        {.table = "ohlcv", .part = "AAA", .files = &b, .n_files = 1},
    };
    quant_err_clear(&err);
    assert_int_equal(quant_meta_lake_swap(m, late, 2, "test", &old, &nold, &err),
                     QUANT_ECONFLICT);
    assert_non_null(strstr(err.msg, "ohlcv/AAA"));
    assert_int_equal(quant_meta_lake_live(m, &live, &n, &err), QUANT_OK);
    assert_int_equal(n, 2); /* the first swap of the pair was rolled back too */
    free(live);

    /* the right expectation replaces; an empty swap removes */
    late[1].expect_n = 1;
    late[1].expect_max = id_a;
    assert_int_equal(quant_meta_lake_swap(m, late, 2, "test", &old, &nold, &err), QUANT_OK);
    assert_int_equal(nold, 2);
    assert_string_equal(old[0].path, c.path);
    assert_string_equal(old[1].path, a.path);
    free(old);
    assert_int_equal(quant_meta_lake_live(m, &live, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(live[0].path, b.path);
    assert_true(live[0].id > id_a);
    free(live);
    /* a path is recorded once, ever: a writer cannot swap in a file twice */
    struct quant_lake_swap again = {.table = "ohlcv", .part = "BBB", .files = &a, .n_files = 1};
    assert_int_not_equal(quant_meta_lake_swap(m, &again, 1, "test", NULL, NULL, &err), QUANT_OK);
    quant_meta_store_close(m);
}

#define META_STORE_CASES \
    cmocka_unit_test_setup_teardown(test_open_creates_schema, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_symbol_upsert_get_list_remove, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_search_ranking, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_hostile_strings, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_runs, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_ledger, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_schema_too_new, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_migrates_v1, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_migrates_v2, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_failed_migration_leaves_the_old_version, case_setup, \
                                    case_teardown), \
    cmocka_unit_test_setup_teardown(test_universes, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_read_only_open, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_model_registry, case_setup, case_teardown), \
    cmocka_unit_test_setup_teardown(test_lake_files, case_setup, case_teardown),
