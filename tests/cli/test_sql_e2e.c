/*
 * test_sql_e2e.c: `quant sql` through the real binary on a real demo store
 * (ohlcv, features, labels, predictions, model files, a quant.conf holding an
 * API key): every way a statement could write or read outside the store is
 * refused with exit 4 and leaves quant.duckdb, meta.sqlite, a model file and
 * quant.conf byte-identical and the target folder empty; allowed queries
 * (SELECT, WITH, DESCRIBE, SUMMARIZE, SHOW, PRAGMA table_info, EXPLAIN) work;
 * wrong queries exit 2 quoting DuckDB; a streamed dump has count(*) rows;
 * `sql --help` names every table and column the store has.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY "SQLTESTKEY0123456789"

static char home[PATH_MAX];      /* the store */
static char victim[PATH_MAX];    /* where attacks try to write: must stay empty */
static char env_home[PATH_MAX + 16];
static char model[PATH_MAX + 64]; /* one model file of the demo */

static const char *const protected_files[] = {"quant.duckdb", "meta.sqlite", "quant.conf"};
#define NPROT (sizeof protected_files / sizeof *protected_files)
static char *before[NPROT + 1];
static size_t before_len[NPROT + 1];

#define ENV (const char *const[]){env_home, "ALPHAVANTAGE_API_KEY=" KEY, NULL}
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void find_model(void)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/models", home);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    model[0] = '\0';
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            snprintf(model, sizeof model, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(model[0] != '\0');
}

static const char *prot_path(size_t i, char *buf, size_t cap)
{
    if (i == NPROT)
        return model;
    snprintf(buf, cap, "%s/%s", home, protected_files[i]);
    return buf;
}

static int group_setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    tu_mkdtemp(victim);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    struct tu_result r;
    RUN(&r, "demo", "--offline");
    if (r.status != 0)
        fail_msg("demo failed (%d): %s", r.status, r.err);
    tu_result_release(&r);
    char conf[PATH_MAX + 16];
    snprintf(conf, sizeof conf, "%s/quant.conf", home);
    tu_write_file(conf, "alphavantage_api_key = " KEY "\n");
    find_model();
    for (size_t i = 0; i <= NPROT; i++) {
        char p[PATH_MAX + 32];
        before[i] = tu_read_file(prot_path(i, p, sizeof p), &before_len[i]);
        assert_non_null(before[i]);
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i <= NPROT; i++)
        free(before[i]);
    tu_rmrf(home);
    tu_rmrf(victim);
    return 0;
}

/* Every protected file has the bytes it had after the demo. */
static void assert_stores_unchanged(void)
{
    for (size_t i = 0; i <= NPROT; i++) {
        char p[PATH_MAX + 32];
        size_t n = 0;
        char *now = tu_read_file(prot_path(i, p, sizeof p), &n);
        assert_non_null(now);
        if (n != before_len[i] || memcmp(now, before[i], n) != 0)
            fail_msg("%s changed", p);
        free(now);
    }
}

static void assert_victim_empty(void)
{
    DIR *d = opendir(victim);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("an attack created %s/%s", victim, e->d_name);
    closedir(d);
}

struct attack {
    const char *fmt;   /* %1$s = the store folder, %2$s = the victim folder */
    int status;
    const char *says;  /* in stderr */
};

static void run_attacks(const struct attack *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char sql[3 * PATH_MAX];
        snprintf(sql, sizeof sql, a[i].fmt, home, victim);
        struct tu_result r;
        RUN(&r, "sql", sql, "--csv");
        if (r.status != a[i].status || !strstr(r.err, a[i].says))
            fail_msg("%s: exit %d (want %d), stderr: %s (want '%s')", sql, r.status,
                     a[i].status, r.err, a[i].says);
        if (r.out[0])
            fail_msg("%s printed rows: %s", sql, r.out);
        if (strstr(r.err, KEY))
            fail_msg("%s: the API key leaked", sql);
        tu_result_release(&r);
    }
    assert_stores_unchanged();
    assert_victim_empty();
}

static void test_writes_refused(void **state)
{
    (void)state;
    static const struct attack a[] = {
        {"COPY (SELECT 'x') TO '%1$s/quant.duckdb' (FORMAT csv)", 4, "COPY statement"},
        {"COPY (SELECT 'x') TO '%1$s/meta.sqlite' (FORMAT csv)", 4, "only a query can run"},
        {"COPY (SELECT 'x') TO '%1$s/quant.conf' (FORMAT csv)", 4, "only a query can run"},
        {"COPY (SELECT 'x') TO '%1$s/models/x.txt'", 4, "only a query can run"},
        {"COPY ohlcv TO '%2$s/o.csv'", 4, "only a query can run"},
        {"EXPORT DATABASE '%2$s/exp'", 4, "refused"},
        {"ATTACH '%2$s/d.db' (READ_WRITE)", 4, "ATTACH statement"},
        {"ATTACH '%1$s/meta.sqlite' (TYPE sqlite)", 4, "ATTACH statement"},
        {"INSTALL httpfs", 4, "LOAD or INSTALL"},
        {"LOAD parquet", 4, "LOAD or INSTALL"},
        {"SET enable_external_access = true", 4, "SET"},
        {"SET lock_configuration = false", 4, "SET"},
        {"PRAGMA threads = 1", 4, "SET"},
        {"CREATE TEMP TABLE t AS SELECT 1", 4, "CREATE statement"},
        {"CREATE TABLE t (x INT)", 4, "CREATE statement"},
        {"INSERT INTO ohlcv SELECT * FROM ohlcv", 4, "INSERT statement"},
        {"DELETE FROM ohlcv", 4, "DELETE statement"},
        {"UPDATE ohlcv SET close = 0", 4, "UPDATE statement"},
        {"DROP TABLE ohlcv", 4, "DROP statement"},
        {"CHECKPOINT", 4, "refused"},
        {"VACUUM", 4, "VACUUM statement"},
        {"CALL pragma_table_info('ohlcv')", 4, "CALL"},
        {"EXPLAIN ANALYZE COPY (SELECT 1) TO '%2$s/e.csv'", 4, "refused"},
        {"EXPLAIN ANALYZE CREATE TABLE t2 AS SELECT 1", 4, "CREATE statement"},
        {"SELECT 1; COPY (SELECT 1) TO '%2$s/z.csv'", 4, "2 statements"},
        {"SELECT 1; SELECT 2", 4, "2 statements"},
    };
    run_attacks(a, sizeof a / sizeof *a);
}

static void test_file_reads_refused(void **state)
{
    (void)state;
    static const struct attack a[] = {
        {"SELECT * FROM read_text('%1$s/quant.conf')", 4, "outside the store"},
        {"SELECT * FROM read_text('/etc/shadow')", 4, "outside the store"},
        {"SELECT * FROM read_blob('%1$s/quant.conf')", 4, "outside the store"},
        {"SELECT * FROM glob('%1$s/*')", 4, "outside the store"},
        {"SELECT * FROM read_csv('%1$s/quant.conf')", 4, "outside the store"},
        {"SELECT * FROM read_csv_auto('/etc/passwd')", 4, "outside the store"},
        {"SELECT * FROM read_parquet('%2$s/x.parquet')", 4, "outside the store"},
        {"SELECT * FROM read_json('%1$s/quant.conf')", 4, "outside the store"},
        {"SELECT * FROM sniff_csv('%1$s/quant.conf')", 4, "outside the store"},
        {"PRAGMA import_database('%2$s')", 4, "outside the store"},
        /* a file name as a table: no replacement scan without file access */
        {"SELECT * FROM '%1$s/quant.conf'", 2, "the query is wrong"},
        /* the key is in this process's environment: no SQL function reads it */
        {"SELECT getenv('ALPHAVANTAGE_API_KEY')", 2, "the query is wrong"},
        {"SELECT * FROM query('COPY (SELECT 1) TO ''%2$s/q.csv''')", 2, "the query is wrong"},
    };
    run_attacks(a, sizeof a / sizeof *a);
}

/* What `quant demo --offline` stores: three symbols of 6,500 synthetic days
 * (the default), then the 60 of its evaluation half with 2,100 each. */
#define DEMO_BARS (3 * 6500 + 60 * 2100)
#define DEMO_BARS_TEXT "145500"

static void expect_ok(const char *sql, const char *in_out)
{
    struct tu_result r;
    RUN(&r, "sql", sql);
    if (r.status != 0 || !strstr(r.out, in_out))
        fail_msg("%s: exit %d, out: %.400s, err: %s (want '%s')", sql, r.status, r.out, r.err,
                 in_out);
    tu_result_release(&r);
}

static void test_queries_allowed(void **state)
{
    (void)state;
    expect_ok("SELECT count(DISTINCT symbol) AS n FROM ohlcv", "3");
    expect_ok("WITH s AS (SELECT symbol FROM ohlcv) SELECT count(*) AS n FROM s", DEMO_BARS_TEXT);
    expect_ok("FROM ohlcv SELECT max(date) AS d", "d");
    expect_ok("DESCRIBE ohlcv", "split_coefficient");
    expect_ok("SUMMARIZE labels", "fwd_return");
    expect_ok("SHOW TABLES", "predictions");
    expect_ok("PRAGMA table_info('ohlcv')", "adj_close");
    expect_ok("PRAGMA show_tables", "derived_state");
    expect_ok("EXPLAIN SELECT * FROM ohlcv", "physical_plan");
    expect_ok("EXPLAIN ANALYZE SELECT count(*) FROM labels", "analyzed_plan");
    expect_ok("  -- leading comment\n SELECT 42 AS answer;  ", "42");
    /* what quant's own commands wrote reads back through the sandbox */
    long bars = tu_sql_long(ENV, "SELECT count(*) FROM ohlcv");
    long feats = tu_sql_long(ENV, "SELECT count(*) FROM features_tech_v1");
    long labels = tu_sql_long(ENV, "SELECT count(*) FROM labels");
    long preds = tu_sql_long(ENV, "SELECT count(*) FROM predictions");
    assert_int_equal(bars, DEMO_BARS);
    assert_true(feats > 0 && feats <= bars);
    assert_true(labels > 0 && labels <= bars);
    assert_true(preds > 0 && preds <= bars);
    assert_stores_unchanged();
}

static void expect_wrong(const char *sql, const char *duckdb_says)
{
    struct tu_result r;
    RUN(&r, "sql", sql);
    if (r.status != 2 || !strstr(r.err, "the query is wrong") || !strstr(r.err, duckdb_says) ||
        !strstr(r.err, "quant sql --help"))
        fail_msg("%s: exit %d, err: %s", sql, r.status, r.err);
    assert_null(strstr(r.err, "could not be opened"));
    tu_result_release(&r);
}

static void test_wrong_queries_exit_2(void **state)
{
    (void)state;
    expect_wrong("SELECT * FROM no_such_table", "Catalog Error");
    expect_wrong("SELECT no_such_column FROM ohlcv", "no_such_column");
    expect_wrong("SELEC 1", "syntax error");
    expect_wrong("SELECT 'abc'::INTEGER", "Conversion Error");
    struct tu_result r;
    RUN(&r, "sql", "  /* only a comment */ ");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "no SQL statement"));
    tu_result_release(&r);
}

static long count_lines(const char *s)
{
    long n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_streamed_dump_counts(void **state)
{
    (void)state;
    long want = tu_sql_long(ENV, "SELECT count(*) FROM features_daily");
    assert_true(want > 100000); /* several chunks */
    struct tu_result r;
    RUN(&r, "sql", "--csv", "SELECT * FROM features_daily");
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out) - 1, want);
    assert_true(strncmp(r.out, "symbol,date,feature,value,version\n", 34) == 0);
    tu_result_release(&r);
    RUN(&r, "sql", "--json", "SELECT symbol, date, close FROM ohlcv");
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count(r.out, "{\"symbol\": "), DEMO_BARS);
    assert_true(r.out[strlen(r.out) - 2] == ']');
    tu_result_release(&r);
    /* the aligned table keeps 10,000 rows and says there were more */
    RUN(&r, "sql", "SELECT range AS n FROM range(12345)");
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 2 + 10000 + 1);
    assert_non_null(strstr(r.out, "(the first 10,000 rows; the query has more"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT range AS n FROM range(0)", "--json");
    assert_string_equal(r.out, "[]\n");
    tu_result_release(&r);
}

static void test_types_as_text(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "sql", "--csv",
        "SELECT [1, 2] AS l, {'k': 'v'} AS s, MAP {'a': 1} AS m, 1.5::DECIMAL(5,2) AS d,"
        " -0.05::DECIMAL(4,2) AS d2, INTERVAL 25 HOUR AS i, TIME '01:02:03.5' AS t,"
        " DATE '2024-02-29' AS dt, TIMESTAMP '2024-02-29 13:14:15' AS ts, true AS b,"
        " 0.1::DOUBLE AS x, 1.5::FLOAT AS f, 170141183460469231731687303715884105727::HUGEINT"
        " AS h, '00000000-0000-0000-0000-000000000001'::UUID AS u, NULL AS n,"
        " [1, 2, 3]::INTEGER[3] AS a");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out,
                        "l,s,m,d,d2,i,t,dt,ts,b,x,f,h,u,n,a\n"
                        "\"[1, 2]\",{'k': v},{a=1},1.50,-0.05,25:00:00,01:02:03.5,2024-02-29,"
                        "2024-02-29 13:14:15,true,0.1,1.5,"
                        "170141183460469231731687303715884105727,"
                        "00000000-0000-0000-0000-000000000001,,\"[1, 2, 3]\"\n");
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT 1::UNION(a INT, b VARCHAR) AS u");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "u::VARCHAR"));
    tu_result_release(&r);
}

static void test_help_lists_every_table(void **state)
{
    (void)state;
    char *tables = tu_sql_text(ENV, "SELECT table_name || ':' || string_agg(column_name, ' ')"
                                    " FROM (SELECT DISTINCT table_name, column_name FROM"
                                    " information_schema.columns) GROUP BY table_name"
                                    " HAVING count(*) <= 16");
    struct tu_result r;
    RUN(&r, "sql", "--help");
    assert_int_equal(r.status, 0);
    /* every table or view, with each of its columns when it is not a wide feature table */
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(strchr(tables, '\n') + 1, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), n++) {
        char *colon = strchr(line, ':');
        *colon = '\0';
        char want[256];
        snprintf(want, sizeof want, "  %s", line);
        if (!strstr(r.out, want))
            fail_msg("sql --help does not list %s:\n%s", line, r.out);
        char *save2 = NULL;
        for (char *c = strtok_r(colon + 1, " ", &save2); c; c = strtok_r(NULL, " ", &save2)) {
            snprintf(want, sizeof want, "%s ", c);
            if (!strstr(r.out, want))
                fail_msg("sql --help does not list %s.%s", line, c);
        }
    }
    assert_true(n >= 6); /* ohlcv, labels, predictions, derived_state, features_daily, ... */
    assert_non_null(strstr(r.out, "features_alpha158 (computed from ohlcv on read): symbol "
                                  "VARCHAR, date DATE"));
    assert_non_null(strstr(r.out, "features_daily (computed from ohlcv on read)"));
    assert_non_null(strstr(r.out, "labels (computed from ohlcv on read)"));
    tu_result_release(&r);
    free(tables);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_refused),
        cmocka_unit_test(test_file_reads_refused),
        cmocka_unit_test(test_queries_allowed),
        cmocka_unit_test(test_wrong_queries_exit_2),
        cmocka_unit_test(test_streamed_dump_counts),
        cmocka_unit_test(test_types_as_text),
        cmocka_unit_test(test_help_lists_every_table),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
