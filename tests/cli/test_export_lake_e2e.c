/*
 * test_export_lake_e2e.c: `quant export --parquet DIR` through the real
 * binary.  Each dataset, read back by a plain in-memory DuckDB through
 * read_parquet(..., hive_partitioning = true), has the store's row count and
 * sum, and the symbols come back from the folder names decoded (GC=F is
 * written as symbol=GC%3DF); the manifest's counts agree; --tables picks;
 * an earlier export is replaced only with --force, a folder quant did not
 * write never (its files survive); DIR inside QUANT_HOME or holding it is
 * refused; no hidden temporary is left; the stores stay byte-identical.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <duckdb.h>

static char home[PATH_MAX];
static char outdir[PATH_MAX];
static char env_home[PATH_MAX + 16];
static struct tu_stores before;

#define ENV (const char *const[]){env_home, NULL}
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void must(struct tu_result *r, const char *what)
{
    if (r->status != 0)
        fail_msg("%s failed (%d): %s", what, r->status, r->err);
    tu_result_release(r);
}

static int group_setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    tu_mkdtemp(outdir);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    struct tu_result r;
    /* GC=F: a partition value DuckDB must encode in the folder name */
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "900", "--symbols", "AAA", "BBB",
        "GC=F");
    must(&r, "ingest");
    RUN(&r, "labels", "--horizon", "5");
    must(&r, "labels");
    RUN(&r, "train", "--symbols", "AAA", "GC=F", "--algo", "xgboost", "--rounds", "5",
        "--threads", "1", "--score");
    must(&r, "train --score");
    tu_stores_take(home, &before);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_stores_release(&before);
    tu_rmrf(home);
    tu_rmrf(outdir);
    return 0;
}

static void assert_stores_unchanged(void)
{
    tu_stores_assert_same(home, &before);
}

/* How many entries outdir holds (a leftover hidden temporary counts too). */
static int outdir_entries(void)
{
    DIR *d = opendir(outdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* The first row of a query on a plain in-memory DuckDB, as text cells. */
static char *plain_cell(const char *sql, int col)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    if (duckdb_query(con, sql, &res) == DuckDBError)
        fail_msg("%s: %s", sql, duckdb_result_error(&res));
    char *v = duckdb_value_varchar(&res, (idx_t)col, 0);
    char *out = strdup(v ? v : "NULL");
    duckdb_free(v);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return out;
}

/* The value quant sql prints for a one-cell query (the line after the header). */
static char *store_cell(const char *sql)
{
    char *t = tu_sql_text(ENV, sql);
    assert_non_null(t);
    char *nl = strchr(t, '\n');
    assert_non_null(nl);
    char *v = strdup(nl + 1);
    free(t);
    v[strcspn(v, "\n")] = '\0';
    return v;
}

static double num(const char *s)
{
    return strtod(s, NULL);
}

/* count and sum of col in DIR/name read back, against the store's table. */
static void same_as_store(const char *dir, const char *name, const char *table, const char *col)
{
    char sql[2 * PATH_MAX];
    snprintf(sql, sizeof sql,
             "SELECT count(%s), sum(%s) FROM read_parquet('%s/%s/**/*.parquet', "
             "hive_partitioning = true)",
             col, col, dir, name);
    char *n = plain_cell(sql, 0), *sum = plain_cell(sql, 1);
    snprintf(sql, sizeof sql, "SELECT count(%s) FROM %s", col, table);
    char *want_n = store_cell(sql);
    snprintf(sql, sizeof sql, "SELECT sum(%s) FROM %s", col, table);
    char *want_sum = store_cell(sql);
    if (strcmp(n, want_n) != 0)
        fail_msg("%s: %s rows read back, the store has %s", name, n, want_n);
    assert_true(num(want_n) > 0);
    double a = num(sum), b = num(want_sum);
    /* the same doubles, summed in another order: equal to rounding */
    if (!(a == b || ((a - b) / b < 1e-12 && (b - a) / b < 1e-12)))
        fail_msg("%s: sum(%s) read back %s, the store %s", name, col, sum, want_sum);
    free(n);
    free(sum);
    free(want_n);
    free(want_sum);
}

static long manifest_rows(const char *dir, const char *table)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/_quant_export.json", dir);
    char *text = tu_read_file(p, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tables"), table);
    long rows = t ? (long)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "rows")) : -1;
    cJSON_Delete(j);
    return rows;
}

static void test_every_table_reads_back(void **state)
{
    (void)state;
    char dir[PATH_MAX + 16], sql[2 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s/lake", outdir);
    struct tu_result r;
    RUN(&r, "export", "--parquet", dir);
    if (r.status != 0)
        fail_msg("export failed: %s", r.err);
    assert_non_null(strstr(r.out, "as Parquet datasets to"));
    tu_result_release(&r);

    same_as_store(dir, "ohlcv", "ohlcv", "close");
    same_as_store(dir, "features_tech_v1", "features_tech_v1", "rsi_14");
    same_as_store(dir, "features_alpha158", "features_alpha158", "KMID");
    same_as_store(dir, "labels", "labels", "fwd_return");
    same_as_store(dir, "predictions", "predictions", "score");

    /* The partition columns come back from the folder names, decoded. */
    snprintf(sql, sizeof sql,
             "SELECT string_agg(DISTINCT symbol, ',' ORDER BY symbol) FROM "
             "read_parquet('%s/ohlcv/**/*.parquet', hive_partitioning = true)", dir);
    char *syms = plain_cell(sql, 0);
    assert_string_equal(syms, "AAA,BBB,GC=F");
    free(syms);
    snprintf(sql, sizeof sql, "%s/ohlcv/symbol=GC%%3DF", dir);
    struct stat sb;
    assert_int_equal(stat(sql, &sb), 0);
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT model_id), min(horizon) FROM read_parquet("
             "'%s/predictions/**/*.parquet', hive_partitioning = true) p, read_parquet("
             "'%s/labels/**/*.parquet', hive_partitioning = true) l "
             "WHERE p.symbol = l.symbol AND p.date = l.date", dir, dir);
    char *models = plain_cell(sql, 0), *h = plain_cell(sql, 1);
    assert_string_equal(models, "2");  /* AAA's and GC=F's */
    assert_string_equal(h, "5");
    free(models);
    free(h);

    /* The manifest says what was written. */
    char *rows = store_cell("SELECT count(*) FROM ohlcv");
    assert_int_equal(manifest_rows(dir, "ohlcv"), (long)num(rows));
    free(rows);
    rows = store_cell("SELECT count(*) FROM predictions");
    assert_int_equal(manifest_rows(dir, "predictions"), (long)num(rows));
    free(rows);
    assert_int_equal(outdir_entries(), 1);  /* lake, and no hidden temporary */
    tu_rmrf(dir);
    assert_stores_unchanged();
}

static void test_tables_and_replacing(void **state)
{
    (void)state;
    char dir[PATH_MAX + 16], p[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/lake2", outdir);
    struct tu_result r;
    RUN(&r, "export", "--parquet", dir, "--tables", "ohlcv");
    must(&r, "export --tables ohlcv");
    snprintf(p, sizeof p, "%s/ohlcv", dir);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/labels", dir);
    assert_int_not_equal(stat(p, &sb), 0);
    assert_int_equal(manifest_rows(dir, "labels"), -1);

    /* again without --force: refused, the export kept */
    RUN(&r, "export", "--parquet", dir, "--tables", "labels");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "add --force"));
    tu_result_release(&r);
    snprintf(p, sizeof p, "%s/ohlcv", dir);
    assert_int_equal(stat(p, &sb), 0);

    /* with --force: replaced whole (a stray file of the old one is gone) */
    snprintf(p, sizeof p, "%s/stray.txt", dir);
    tu_write_file(p, "old\n");
    RUN(&r, "export", "--parquet", dir, "--tables", "labels", "--force");
    must(&r, "export --force");
    assert_int_not_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/labels", dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_true(manifest_rows(dir, "labels") > 0);
    assert_int_equal(manifest_rows(dir, "ohlcv"), -1);

    /* unknown table, and --tables without --parquet */
    RUN(&r, "export", "--parquet", dir, "--tables", "bogus", "--force");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown table 'bogus'"));
    tu_result_release(&r);
    RUN(&r, "export", "--tables", "ohlcv", "--output", "x.csv", "--table", "ohlcv");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--tables goes with --parquet"));
    tu_result_release(&r);
    tu_rmrf(dir);
    assert_int_equal(outdir_entries(), 0);
    assert_stores_unchanged();
}

static void test_never_a_folder_quant_did_not_write(void **state)
{
    (void)state;
    char dir[PATH_MAX + 16], p[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/mine", outdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(p, sizeof p, "%s/thesis.tex", dir);
    tu_write_file(p, "precious\n");
    struct tu_result r;
    RUN(&r, "export", "--parquet", dir, "--force");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "is not a quant export"));
    tu_result_release(&r);
    char *kept = tu_read_file(p, NULL);
    assert_string_equal(kept, "precious\n");
    free(kept);
    tu_rmrf(dir);

    /* an empty folder (made for the export) needs no --force */
    assert_int_equal(mkdir(dir, 0755), 0);
    RUN(&r, "export", "--parquet", dir, "--tables", "ohlcv");
    must(&r, "export into an empty folder");
    assert_true(manifest_rows(dir, "ohlcv") > 0);
    tu_rmrf(dir);

    /* inside QUANT_HOME, and a folder holding it */
    snprintf(p, sizeof p, "%s/lake", home);
    RUN(&r, "export", "--parquet", p);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "refused"));
    tu_result_release(&r);
    assert_int_not_equal(access(p, F_OK), 0);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", home);
    *strrchr(parent, '/') = '\0';
    RUN(&r, "export", "--parquet", parent, "--force");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "refused"));
    tu_result_release(&r);
    assert_int_equal(outdir_entries(), 0);
    assert_stores_unchanged();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_table_reads_back),
        cmocka_unit_test(test_tables_and_replacing),
        cmocka_unit_test(test_never_a_folder_quant_did_not_write),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
