/*
 * test_commands.c: the CLI surface through the real binary: help and exit
 * codes, config (masked key), init-db twice, symbols add/list/remove/search
 * (offline), hostile names, sql output formats and read-only refusal, CSV
 * ingest with bad rows, and synthetic ingest.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY "SECRETKEY42XYZSECRETKEY"

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

/*
 * The line of text that starts with key followed by a space, with each run of
 * spaces squeezed to one ("daily_budget 12 environment QUANT_DAILY_BUDGET"),
 * so a check names one row of a table and every column in it.  Returns a
 * static buffer; "" when no line starts with key.
 */
static const char *row(const char *text, const char *key)
{
    static char out[512];
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, klen) != 0 || l[klen] != ' ')
            continue;
        size_t n = 0;
        for (const char *c = l; *c && *c != '\n' && n + 1 < sizeof out; c++)
            if (*c != ' ' || (n > 0 && out[n - 1] != ' '))
                out[n++] = *c;
        while (n > 0 && out[n - 1] == ' ')
            n--;
        out[n] = '\0';
        break;
    }
    return out;
}

#define RUN(res, ...) \
    tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (const char *const[]){env_home, NULL}, (res))

static void test_help_and_usage_errors(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "--help");
    assert_int_equal(r.status, 0);
    const char *cmds[] = {"init-db", "symbols", "ingest", "sql", "export", "status", "demo",
                          "config"};
    /* each command listed as a row of the Commands table, not just mentioned */
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char listed[64];
        snprintf(listed, sizeof listed, "\n  %s ", cmds[i]);
        if (!strstr(r.out, listed))
            fail_msg("quant --help does not list %s as a command:\n%s", cmds[i], r.out);
    }
    assert_non_null(strstr(r.out, "Exit codes"));
    assert_string_equal(r.err, "");
    tu_result_release(&r);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        RUN(&r, cmds[i], "--help");
        assert_int_equal(r.status, 0);
        /* its own usage line: the top-level help also starts "usage: quant" */
        char usage[64];
        snprintf(usage, sizeof usage, "usage: quant %s", cmds[i]);
        if (strncmp(r.out, usage, strlen(usage)) != 0)
            fail_msg("quant %s --help does not start with '%s':\n%.200s", cmds[i], usage, r.out);
        assert_null(strstr(r.out, "\nCommands:\n"));
        tu_result_release(&r);
    }
    RUN(&r, "frobnicate");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
    tu_result_release(&r);
    RUN(&r, "ingest", "--provider", "bloomberg");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "alphavantage, csv or synthetic"));
    tu_result_release(&r);
    RUN(&r, "sql");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "quant sql: missing the SQL query"));
    tu_result_release(&r);
}

/*
 * Each setting's row shows the value that won and where it came from.  Every
 * row is printed whatever the settings are (with "environment" a column
 * heading and "12" inside compact_window_days' 120), so the checks name the
 * row and all of its columns.
 */
static void test_config_masks_key(void **state)
{
    (void)state;
    char conf[PATH_MAX + 16], want[PATH_MAX + 64];
    snprintf(conf, sizeof conf, "%s/quant.conf", home);
    tu_write_file(conf, "http_retries = 9\nrequests_per_minute = 3\n");
    struct tu_result r;
    tu_run_quant((const char *const[]){"config", NULL},
                 (const char *const[]){env_home, "ALPHAVANTAGE_API_KEY=" KEY,
                                       "QUANT_DAILY_BUDGET=12", "QUANT_HTTP_RETRIES=4", NULL},
                 &r);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, KEY));
    assert_null(strstr(r.out, "SECRETKEY"));
    assert_null(strstr(r.err, "SECRETKEY"));
    /* the key: masked to its last two characters, from the environment */
    assert_string_equal(row(r.out, "alphavantage_api_key"),
                        "alphavantage_api_key ****EY environment ALPHAVANTAGE_API_KEY");
    assert_string_equal(row(r.out, "daily_budget"),
                        "daily_budget 12 environment QUANT_DAILY_BUDGET");
    /* the environment beats quant.conf; quant.conf beats the default */
    assert_string_equal(row(r.out, "http_retries"),
                        "http_retries 4 environment QUANT_HTTP_RETRIES");
    assert_string_equal(row(r.out, "requests_per_minute"),
                        "requests_per_minute 3 config file QUANT_REQUESTS_PER_MINUTE");
    assert_string_equal(row(r.out, "http_backoff_ms"),
                        "http_backoff_ms 1000 default QUANT_HTTP_BACKOFF_MS");
    snprintf(want, sizeof want, "home %s environment QUANT_HOME", home);
    assert_string_equal(row(r.out, "home"), want);
    snprintf(want, sizeof want, "duckdb_path %s/quant.duckdb default QUANT_DUCKDB_PATH", home);
    assert_string_equal(row(r.out, "duckdb_path"), want);
    snprintf(want, sizeof want, "\nconfig file: %s (read)\n", conf);
    assert_non_null(strstr(r.out, want));
    tu_result_release(&r);

    /* a key from quant.conf is masked too, and says so */
    tu_write_file(conf, "alphavantage_api_key = " KEY "\n");
    RUN(&r, "config");
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "SECRETKEY"));
    assert_null(strstr(r.err, "SECRETKEY"));
    assert_string_equal(row(r.out, "alphavantage_api_key"),
                        "alphavantage_api_key ****EY config file ALPHAVANTAGE_API_KEY");
    tu_result_release(&r);
}

static void test_init_db_twice_and_status(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "status");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "quant init-db"));
    tu_result_release(&r);
    RUN(&r, "init-db");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "meta.sqlite (created, schema v6)"));
    assert_null(strstr(r.out, "up to date"));
    tu_result_release(&r);
    RUN(&r, "init-db");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "up to date"));
    assert_null(strstr(r.out, "created"));
    tu_result_release(&r);
    RUN(&r, "status");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "No symbols yet"));
    tu_result_release(&r);
}

static void test_symbols_registry(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "symbols", "add", "aapl", "--name", "Apple Inc.", "--type", "Equity");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Added AAPL (Apple Inc.)"));
    tu_result_release(&r);
    RUN(&r, "symbols", "add", "NVDA", "QQQ,SPY");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    /* hostile input never reaches SQL or the file system */
    const struct {
        const char *symbol, *why;
    } bad[] = {
        {"A'; DROP TABLE symbols; --", "has a character that is not allowed (''';"},
        {"../etc", "has a character that is not allowed ('/';"},
        {"ÄPFEL", "has a character that is not allowed (byte 0xC3;"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "is longer than 32 characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        RUN(&r, "symbols", "add", bad[i].symbol);
        assert_int_equal(r.status, 2);
        if (!strstr(r.err, bad[i].why))
            fail_msg("symbols add '%s': expected '%s' in:\n%s", bad[i].symbol, bad[i].why, r.err);
        tu_result_release(&r);
    }
    /* a name with quotes and markup is stored verbatim */
    RUN(&r, "symbols", "add", "XSS", "--name", "<img src=x onerror=alert(1)> O'Brien \"Co\"");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    RUN(&r, "symbols", "list", "--json");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"<img src=x onerror=alert(1)> O'Brien \\\"Co\\\"\""));
    assert_int_equal(tu_count(r.out, "\"symbol\""), 5);
    tu_result_release(&r);
    RUN(&r, "symbols", "remove", "spy");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    RUN(&r, "symbols", "remove", "SPY");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "symbol SPY is not in the registry"));
    tu_result_release(&r);
    RUN(&r, "symbols", "list");
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "SPY"));
    assert_non_null(strstr(r.out, "\nQQQ "));
    assert_non_null(strstr(r.out, "Apple Inc."));
    tu_result_release(&r);
    /* offline search: local answer, and it says the remote part was unavailable */
    RUN(&r, "symbols", "search", "app");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "AAPL"));
    assert_non_null(strstr(r.err, "remote search unavailable"));
    tu_result_release(&r);
}

static void test_sql_formats_and_read_only(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "250", "--symbols", "AAA", "BBB");
    if (r.status != 0)
        fail_msg("synthetic ingest failed: %s", r.err);
    assert_int_equal(tu_count(r.out, "Ingested 250 rows"), 2);
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT symbol, count(*) AS n FROM ohlcv GROUP BY symbol ORDER BY symbol");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "symbol    n"));
    assert_non_null(strstr(r.out, "AAA     250"));
    assert_non_null(strstr(r.out, "(2 rows)"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT symbol, count(*) AS n FROM ohlcv GROUP BY symbol ORDER BY symbol", "--csv");
    assert_string_equal(r.out, "symbol,n\nAAA,250\nBBB,250\n");
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT symbol, count(*) AS n FROM ohlcv GROUP BY symbol ORDER BY symbol", "--json");
    assert_non_null(strstr(r.out, "{\"symbol\": \"AAA\", \"n\": 250}"));
    tu_result_release(&r);
    RUN(&r, "sql", "DELETE FROM ohlcv");
    assert_int_equal(r.status, 4);
    assert_non_null(strstr(r.err, "refused: this is a DELETE statement"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELEC nonsense");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "the query is wrong"));
    assert_non_null(strstr(r.err, "syntax"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT count(*) FROM ohlcv", "--csv");
    assert_string_equal(r.out, "count_star()\n500\n");
    tu_result_release(&r);
}

static void test_csv_ingest_with_bad_rows(void **state)
{
    (void)state;
    char dir[PATH_MAX + 8], path[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/csv", home);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/ACME_daily.csv", dir);
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2024-01-02,10,11,9,10.5,10.4,1000\n"
                        "2024-01-03,10.5,10.6,9,11,10.9,1200\n"   /* high < close: skipped */
                        "2024-01-04,null,null,null,null,null,null\n"
                        "2024-01-05,11,12,10,11.5,11.4,900\n");
    struct tu_result r;
    RUN(&r, "ingest", "--csv", dir);
    if (r.status != 0)
        fail_msg("csv ingest failed: %s", r.err);
    assert_non_null(strstr(r.out, "Ingested 2 rows for ACME"));
    assert_non_null(strstr(r.err, "skipped 1 invalid bar"));
    assert_non_null(strstr(r.err, "2024-01-03"));
    tu_result_release(&r);
    /* an unknown header is refused with the line and nothing is stored */
    snprintf(path, sizeof path, "%s/weird.csv", home);
    tu_write_file(path, "when,price\n2024-01-02,10\n");
    RUN(&r, "ingest", "--csv", path, "--symbols", "WEIRD");
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "line 1"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT count(*) FROM ohlcv", "--csv");
    assert_string_equal(r.out, "count_star()\n2\n");
    tu_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help_and_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_masks_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_db_twice_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbols_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_formats_and_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_ingest_with_bad_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
