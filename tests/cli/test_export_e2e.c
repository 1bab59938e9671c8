/*
 * test_export_e2e.c: `quant export` through the real binary on a synthetic
 * store: Parquet and CSV files read back with a plain DuckDB connection
 * match the store's counts and sums; an existing file is kept without
 * --force and replaced with it; paths inside QUANT_HOME, over a store or
 * through a link to one are refused; a query that fails half-way leaves no
 * file and no temporary behind; the query goes through the same check as
 * `quant sql` (COPY, file reads, several statements, a wrapped-COPY
 * injection), and the store files stay byte-identical throughout.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <duckdb.h>

static char home[PATH_MAX];
static char outdir[PATH_MAX];
static char env_home[PATH_MAX + 16];
static struct tu_stores before;

#define ENV (const char *const[]){env_home, NULL}
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static int group_setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    tu_mkdtemp(outdir);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    struct tu_result r;
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "400", "--symbols", "AAA", "BBB",
        "CCC");
    if (r.status != 0)
        fail_msg("ingest failed: %s", r.err);
    tu_result_release(&r);
    RUN(&r, "features");
    if (r.status != 0)
        fail_msg("features failed: %s", r.err);
    tu_result_release(&r);
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

/* How many entries outdir holds (a leftover temporary counts too). */
static int outdir_files(void)
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

/* count and sum of a column in the file, read by a plain in-memory DuckDB. */
static void read_back(const char *sql, long *count, double *sum)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    if (duckdb_query(con, sql, &res) == DuckDBError)
        fail_msg("%s: %s", sql, duckdb_result_error(&res));
    *count = (long)duckdb_value_int64(&res, 0, 0);
    *sum = duckdb_value_double(&res, 1, 0);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

static void test_parquet_and_csv_read_back(void **state)
{
    (void)state;
    char out[PATH_MAX + 32], sql[2 * PATH_MAX];
    snprintf(out, sizeof out, "%s/ohlcv.parquet", outdir);
    struct tu_result r;
    RUN(&r, "export", "--table", "ohlcv", "--output", out);
    if (r.status != 0)
        fail_msg("export failed: %s", r.err);
    assert_non_null(strstr(r.out, "Exported 1,200 rows"));
    assert_non_null(strstr(r.out, "(parquet)"));
    tu_result_release(&r);
    long n;
    double sum;
    snprintf(sql, sizeof sql,
             "SELECT count(*), sum(close) FROM read_parquet('%s') WHERE typeof(date) = 'DATE'",
             out);
    read_back(sql, &n, &sum);
    assert_int_equal(n, tu_sql_long(ENV, "SELECT count(*) FROM ohlcv"));
    char *want = tu_sql_text(ENV, "SELECT sum(close) FROM ohlcv");
    double want_sum = strtod(strchr(want, '\n') + 1, NULL);
    free(want);
    assert_true(sum == want_sum);

    /* a query, to CSV; the name has a quote and a space */
    snprintf(out, sizeof out, "%s/it's tech.csv", outdir);
    RUN(&r, "export", "-o", out, "--query",
        "SELECT symbol, date, rsi_14 FROM features_tech_v1 WHERE rsi_14 IS NOT NULL -- all");
    if (r.status != 0)
        fail_msg("export failed: %s", r.err);
    tu_result_release(&r);
    char quoted[PATH_MAX * 2];
    size_t k = 0;
    for (const char *p = out; *p && k + 2 < sizeof quoted; p++) {
        if (*p == '\'')
            quoted[k++] = '\'';
        quoted[k++] = *p;
    }
    quoted[k] = '\0';
    snprintf(sql, sizeof sql, "SELECT count(*), sum(rsi_14) FROM read_csv('%s')", quoted);
    read_back(sql, &n, &sum);
    assert_int_equal(n, tu_sql_long(ENV, "SELECT count(rsi_14) FROM features_tech_v1"));
    want = tu_sql_text(ENV, "SELECT sum(rsi_14) FROM features_tech_v1");
    want_sum = strtod(strchr(want, '\n') + 1, NULL);
    free(want);
    assert_true(sum > 0 && (sum - want_sum) / want_sum < 1e-12 &&
                (want_sum - sum) / want_sum < 1e-12);
    assert_int_equal(outdir_files(), 2); /* no temporary left */
    unlink(out);
    snprintf(out, sizeof out, "%s/ohlcv.parquet", outdir);
    unlink(out);
    assert_stores_unchanged();
}

static void test_overwrite_needs_force(void **state)
{
    (void)state;
    char out[PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/keep.csv", outdir);
    tu_write_file(out, "precious\n");
    struct tu_result r;
    RUN(&r, "export", "--table", "labels", "--output", out);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "already exists; add --force"));
    tu_result_release(&r);
    char *kept = tu_read_file(out, NULL);
    assert_string_equal(kept, "precious\n");
    free(kept);
    /* a failing export with --force keeps the old file too */
    RUN(&r, "export", "--query", "SELECT CASE WHEN date > DATE '1900-01-01' THEN 'x'::INT END"
                                 " FROM ohlcv", "--output", out, "--force");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "Conversion Error"));
    tu_result_release(&r);
    kept = tu_read_file(out, NULL);
    assert_string_equal(kept, "precious\n");
    free(kept);
    RUN(&r, "export", "--query", "SELECT 1 AS one", "--output", out, "--force");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    kept = tu_read_file(out, NULL);
    assert_string_equal(kept, "one\n1\n");
    free(kept);
    unlink(out);
    assert_int_equal(outdir_files(), 0);
}

static void expect_refused(const char *const *argv, int status, const char *says)
{
    struct tu_result r;
    tu_run_quant(argv, ENV, &r);
    if (r.status != status || !strstr(r.err, says))
        fail_msg("export %s %s: exit %d (want %d), err: %s (want '%s')", argv[1], argv[2],
                 r.status, status, r.err, says);
    tu_result_release(&r);
}

static void test_protected_paths_refused(void **state)
{
    (void)state;
    char p[PATH_MAX + 64], link[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/x.csv", home);
    expect_refused((const char *const[]){"export", "--table", "ohlcv", "-o", p, NULL}, 2,
                   "holds quant's stores");
    snprintf(p, sizeof p, "%s/quant.duckdb", home);
    expect_refused((const char *const[]){"export", "--table", "ohlcv", "-o", p, "--format",
                                         "csv", "--force", NULL},
                   2, "holds quant's stores");
    snprintf(link, sizeof link, "%s/store.parquet", outdir);
    assert_int_equal(symlink(p, link), 0);
    expect_refused((const char *const[]){"export", "--table", "ohlcv", "-o", link, "--force",
                                         NULL},
                   2, "holds quant's stores");
    unlink(link);
    snprintf(p, sizeof p, "%s/no/such/dir/x.csv", outdir);
    expect_refused((const char *const[]){"export", "--table", "ohlcv", "-o", p, NULL}, 2,
                   "create it first");
    snprintf(p, sizeof p, "%s/x.xlsx", outdir);
    expect_refused((const char *const[]){"export", "--table", "ohlcv", "-o", p, NULL}, 2,
                   "--format csv|parquet");
    expect_refused((const char *const[]){"export", "--table", "nope", "-o", p, "--format",
                                         "csv", NULL},
                   2, "Catalog Error");
    expect_refused((const char *const[]){"export", "-o", p, NULL}, 2, "--table NAME or --query");
    assert_int_equal(outdir_files(), 0);
    assert_stores_unchanged();
}

static void test_query_checked_like_sql(void **state)
{
    (void)state;
    char out[PATH_MAX + 32], sql[3 * PATH_MAX];
    snprintf(out, sizeof out, "%s/q.csv", outdir);
    char victim[PATH_MAX + 32];
    snprintf(victim, sizeof victim, "%s/victim.csv", outdir);
    const char *attacks[][2] = {
        {"COPY (SELECT 1) TO '%s'", "only a query can run"},
        {"SELECT * FROM read_text('%s')", "outside the store"},
        {"SELECT 1; COPY (SELECT 1) TO '%s'", "2 statements"},
        /* closing the COPY's parenthesis early must not reach the victim path */
        {"SELECT 1) TO '%s' (FORMAT csv); --", ""},
        {"EXPLAIN SELECT 1 -- %s", "EXPLAIN"},
    };
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++) {
        snprintf(sql, sizeof sql, attacks[i][0], victim);
        struct tu_result r;
        RUN(&r, "export", "--query", sql, "-o", out);
        if (r.status == 0 || !strstr(r.err, attacks[i][1]))
            fail_msg("%s: exit %d, err: %s", sql, r.status, r.err);
        tu_result_release(&r);
    }
    assert_int_equal(outdir_files(), 0);
    assert_stores_unchanged();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parquet_and_csv_read_back),
        cmocka_unit_test(test_overwrite_needs_force),
        cmocka_unit_test(test_protected_paths_refused),
        cmocka_unit_test(test_query_checked_like_sql),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
