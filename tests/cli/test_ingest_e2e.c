/*
 * test_ingest_e2e.c: the ingest flow end to end, through the real `quant`
 * binary, real DuckDB and SQLite files, and real HTTP to a loopback server
 * that serves recorded Alpha Vantage responses from ../shared/data.
 */
#define _GNU_SOURCE /* memmem */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "av_fixture.h"

#define TEST_KEY TU_AV_KEY

#define QUANT(f, res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (f)->env, (res))

static long sql_long(struct tu_av_fixture *f, const char *sql)
{
    return tu_sql_long(f->env, sql);
}

static char *sql_text(struct tu_av_fixture *f, const char *sql)
{
    return tu_sql_text(f->env, sql);
}

static void serve_msft(struct tu_av_fixture *f, const char *mode)
{
    char match[128];
    snprintf(match, sizeof match, "function=TIME_SERIES_DAILY&symbol=MSFT&outputsize=%s", mode);
    tu_av_serve(f, match, "alphavantage/time_series_daily_MSFT_compact_2018-06-08.json");
}

/* The number of dates in a recorded payload, counted independently of quant. */
static int payload_dates(const char *rel)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    char *text = tu_read_file(path, NULL);
    int n = tu_count(text, "\"1. open\"");
    free(text);
    return n;
}

static void test_ingest_count_matches_payload_and_is_idempotent(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    QUANT(f, &r, "init-db");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "add", "MSFT", "--name", "Microsoft Corporation");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Added MSFT"));
    tu_result_release(&r);

    serve_msft(f, "full");
    QUANT(f, &r, "ingest", "--full");
    if (r.status != 0)
        fail_msg("ingest failed (%d): %s", r.status, r.err);
    assert_non_null(strstr(r.out, "Ingested 100 rows for MSFT (100 new, 0 updated"));
    tu_result_release(&r);
    /* the key went out to the API ... */
    char target[512];
    assert_int_equal(lb_request_target(f->lb, 0, target, sizeof target), 0);
    assert_non_null(strstr(target, "apikey=" TEST_KEY));

    int dates = payload_dates("alphavantage/time_series_daily_MSFT_compact_2018-06-08.json");
    assert_int_equal(dates, 100);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv WHERE symbol = 'MSFT'"), dates);
    /* spot value: the newest bar of the payload */
    char *row = sql_text(f, "SELECT open, high, low, close, volume, adj_close IS NULL "
                            "FROM ohlcv WHERE symbol='MSFT' AND date='2018-06-08'");
    assert_non_null(strstr(row, "101.0924,101.95,100.54,101.63,22165128,true"));
    free(row);
    char *stamp = sql_text(f, "SELECT max(ingested_at) FROM ohlcv");

    /* again: nothing changes, not even ingested_at */
    QUANT(f, &r, "ingest", "--full", "--symbols", "MSFT");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "(0 new, 0 updated, 100 unchanged"));
    tu_result_release(&r);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv"), dates);
    char *stamp2 = sql_text(f, "SELECT max(ingested_at) FROM ohlcv");
    assert_string_equal(stamp, stamp2);
    free(stamp);
    free(stamp2);

    /* status shows the symbol and its last run */
    QUANT(f, &r, "status");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "MSFT"));
    assert_non_null(strstr(r.out, "2018-01-17"));
    assert_non_null(strstr(r.out, "2018-06-08"));
    assert_non_null(strstr(r.out, "ok"));
    tu_result_release(&r);
}

static void test_compact_after_full_updates_in_place(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    serve_msft(f, "full");
    QUANT(f, &r, "ingest", "--full", "--symbols", "MSFT");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "note: registered 1 new symbol: MSFT"));
    tu_result_release(&r);

    /* the compact answer revises one close (still inside the day's range) */
    char path[PATH_MAX];
    tu_shared_path(path, "alphavantage/time_series_daily_MSFT_compact_2018-06-08.json");
    char *text = tu_read_file(path, NULL);
    char *p = strstr(text, "\"4. close\": \"101.6300\"");
    assert_non_null(p);
    memcpy(strstr(p, "101.6300"), "101.7000", 8);
    lb_add(f->lb, "function=TIME_SERIES_DAILY&symbol=MSFT&outputsize=compact", 200, text,
           LB_NORMAL, 0);
    free(text);
    QUANT(f, &r, "ingest", "--compact", "--symbols", "MSFT");
    if (r.status != 0)
        fail_msg("compact ingest failed: %s", r.err);
    assert_non_null(strstr(r.out, "(0 new, 1 updated, 99 unchanged; compact)"));
    tu_result_release(&r);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv"), 100);
    char *v = sql_text(f, "SELECT close FROM ohlcv WHERE date='2018-06-08'");
    assert_non_null(strstr(v, "101.7"));
    free(v);
    /* auto mode picks compact now that history is stored... unless it is old:
     * the payload is from 2018, so auto asks for full history */
    QUANT(f, &r, "ingest", "--symbols", "MSFT");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "; full)"));
    tu_result_release(&r);
}

static void test_api_errors_store_nothing(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    char path[PATH_MAX];
    struct tu_result r;
    serve_msft(f, "full");
    QUANT(f, &r, "ingest", "--full", "--symbols", "MSFT");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);

    tu_shared_path(path, "alphavantage/error_message_invalid_call_BOP_2025-11.json");
    assert_int_equal(lb_add_file(f->lb, "symbol=BADSYM", 200, path, LB_NORMAL, 0), 0);
    QUANT(f, &r, "ingest", "--full", "--symbols", "BADSYM");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "Failed BADSYM: Alpha Vantage does not know this symbol"));
    assert_non_null(strstr(r.err, "BADSYM is now inactive"));
    assert_null(strstr(r.err, TEST_KEY));
    assert_null(strstr(r.out, TEST_KEY));
    tu_result_release(&r);
    /* inactive: hidden from the active list, shown with its reason, skipped by a
     * plain `quant ingest`, which would otherwise spend a request on it every day */
    QUANT(f, &r, "symbols", "list");
    assert_null(strstr(r.out, "BADSYM"));
    assert_non_null(strstr(r.out, "1 inactive symbol not shown"));
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "list", "--all");
    assert_non_null(strstr(r.out, "BADSYM is inactive: Alpha Vantage does not know"));
    tu_result_release(&r);
    long bad_requests = lb_request_count(f->lb, "symbol=BADSYM");
    QUANT(f, &r, "ingest", "--full");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "1 of 1 symbol ingested"));
    tu_result_release(&r);
    assert_int_equal(lb_request_count(f->lb, "symbol=BADSYM"), bad_requests);
    QUANT(f, &r, "ingest", "--all", "--full");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    assert_int_equal(lb_request_count(f->lb, "symbol=BADSYM"), bad_requests);
    /* `symbols add` makes it active again */
    QUANT(f, &r, "symbols", "add", "BADSYM");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "list");
    assert_non_null(strstr(r.out, "BADSYM"));
    tu_result_release(&r);

    tu_shared_path(path, "alphavantage/transcribed/note_rate_limit_5perMin_500perDay_2019.json");
    assert_int_equal(lb_add_file(f->lb, "symbol=THROTTLED", 200, path, LB_NORMAL, 0), 0);
    QUANT(f, &r, "ingest", "--full", "--symbols", "THROTTLED");
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "Failed THROTTLED"));
    tu_result_release(&r);

    /* one failing symbol does not stop the others; the exit code says not all worked */
    QUANT(f, &r, "ingest", "--full", "--symbols", "BADSYM", "MSFT");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "for MSFT"));
    tu_result_release(&r);

    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv"), 100);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv WHERE symbol <> 'MSFT'"), 0);
    /* the failures are on record */
    QUANT(f, &r, "status");
    assert_non_null(strstr(r.out, "BADSYM"));
    assert_non_null(strstr(r.out, "failed"));
    tu_result_release(&r);

    /* the key is never stored */
    char db[PATH_MAX + 32];
    const char *files[] = {"meta.sqlite", "quant.duckdb", "meta.sqlite-wal"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(db, sizeof db, "%s/%s", f->home, files[i]);
        if (access(db, R_OK) != 0)
            continue;
        size_t len;
        char *bytes = tu_read_file(db, &len);
        assert_null(memmem(bytes, len, TEST_KEY, strlen(TEST_KEY)));
        free(bytes);
    }
}

static void test_daily_budget_stops_cleanly(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    serve_msft(f, "full");
    /* every symbol gets the MSFT payload */
    char path[PATH_MAX];
    tu_shared_path(path, "alphavantage/time_series_daily_MSFT_compact_2018-06-08.json");
    assert_int_equal(lb_add_file(f->lb, "function=TIME_SERIES_DAILY", 200, path, LB_NORMAL, 0), 0);
    const char *env[10];
    memcpy(env, f->env, 6 * sizeof *env);
    env[6] = "QUANT_DAILY_BUDGET=2";
    env[7] = NULL;
    tu_run_quant((const char *const[]){"ingest", "--full", "--symbols", "AAA", "BBB", "CCC", NULL},
                 env, &r);
    assert_int_equal(r.status, 6);
    assert_int_equal(tu_count(r.out, "Ingested 100 rows"), 2);
    assert_non_null(strstr(r.err, "Not ingested: CCC"));
    /* the exact command that finishes the job, and CCC is findable meanwhile */
    assert_non_null(strstr(r.err, "ingest --full --symbols CCC\n"));
    tu_result_release(&r);
    assert_int_equal(lb_request_count(f->lb, "function="), 2);
    tu_run_quant((const char *const[]){"symbols", "list", NULL}, env, &r);
    assert_non_null(strstr(r.out, "CCC"));
    tu_result_release(&r);
    /* the budget is per UTC day: the next run today stops before any request */
    tu_run_quant((const char *const[]){"ingest", "--full", "--symbols", "CCC", NULL}, env, &r);
    assert_int_equal(r.status, 6);
    tu_result_release(&r);
    assert_int_equal(lb_request_count(f->lb, "function="), 2);
    /* stalest first: CCC (no data) goes before the others once the budget allows */
    env[6] = "QUANT_DAILY_BUDGET=3";
    tu_run_quant((const char *const[]){"ingest", "--full", "--symbols", "AAA", "CCC", NULL}, env, &r);
    assert_int_equal(r.status, 6);
    assert_non_null(strstr(r.out, "for CCC"));
    assert_non_null(strstr(r.err, "Not ingested: AAA"));
    tu_result_release(&r);
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A request that never reached the server cannot have been counted by the
 * vendor, so it must not use up the daily budget either. */
static void test_refused_connection_costs_no_budget(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    serve_msft(f, "full");
    static char dead_url[96];
    snprintf(dead_url, sizeof dead_url, "QUANT_ALPHAVANTAGE_URL=http://127.0.0.1:%d/query",
             closed_port());
    const char *env[TU_AV_ENV_MAX + 4];
    size_t n = 0;
    for (; f->env[n]; n++)
        env[n] = strncmp(f->env[n], "QUANT_ALPHAVANTAGE_URL=", 23) == 0 ? dead_url : f->env[n];
    env[n++] = "QUANT_DAILY_BUDGET=1";
    env[n] = NULL;
    tu_run_quant((const char *const[]){"ingest", "--full", "--symbols", "MSFT", NULL}, env, &r);
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "Failed MSFT"));
    tu_result_release(&r);
    /* the budget of 1 is still there for a request that gets through */
    env[n - 1] = "QUANT_DAILY_BUDGET=1";
    for (size_t i = 0; env[i]; i++)
        if (env[i] == dead_url)
            env[i] = f->env[i];
    tu_run_quant((const char *const[]){"ingest", "--full", "--symbols", "MSFT", NULL}, env, &r);
    if (r.status != 0)
        fail_msg("the refused attempts were counted against the budget: %s", r.err);
    assert_non_null(strstr(r.out, "1 API request"));
    tu_result_release(&r);
    assert_int_equal(lb_request_count(f->lb, "symbol=MSFT"), 1);
}

static void test_missing_key_is_a_config_error(void **state)
{
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    const char *env[] = {f->env_home, NULL};
    tu_run_quant((const char *const[]){"ingest", "--symbols", "AAPL", NULL}, env, &r);
    assert_int_equal(r.status, 3);
    assert_non_null(strstr(r.err, "ALPHAVANTAGE_API_KEY"));
    tu_result_release(&r);
}

/* kill -9 at a random moment of a big ingest: every symbol holds either its
 * old rows or its complete new series, and a re-run completes. */
static void test_killed_ingest_leaves_symbols_whole(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    serve_msft(f, "full");
    QUANT(f, &r, "ingest", "--full", "--symbols", "MSFT");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    long old_sum = sql_long(f, "SELECT CAST(sum(close) * 1000 AS BIGINT) FROM ohlcv");

    unsigned seed = (unsigned)time(NULL);
    print_message("kill test seed %u\n", seed);
    srand(seed);
    const char *argv[] = {"ingest", "--provider", "synthetic", "--replace", "--days", "3000", "--symbols",
                          "S01", "S02", "S03", "MSFT", "S04", "S05", "S06", "S07", NULL};
    for (int round = 0; round < 4; round++) {
        pid_t pid = tu_spawn_quant(argv, f->env);
        struct timespec ts = {0, (long)(50 + rand() % 400) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        tu_wait(pid);
        char *counts = sql_text(f, "SELECT symbol, count(*) FROM ohlcv GROUP BY symbol");
        /* each line "SYM,count": count is the old 100 (MSFT), 0 (absent) or 3000 */
        for (char *line = strchr(counts, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            char *comma = strchr(line + 1, ',');
            assert_non_null(comma);
            long c = strtol(comma + 1, NULL, 10);
            int is_msft = strncmp(line + 1, "MSFT,", 5) == 0;
            if (!(c == 3000 || (is_msft && c == 100)))
                fail_msg("after kill: partial symbol: %.40s", line + 1);
        }
        free(counts);
        if (sql_long(f, "SELECT count(*) FROM ohlcv WHERE symbol='MSFT'") == 100)
            assert_int_equal(sql_long(f, "SELECT CAST(sum(close) * 1000 AS BIGINT) FROM ohlcv "
                                         "WHERE symbol='MSFT'"), old_sum);
    }
    tu_run_quant(argv, f->env, &r);
    if (r.status != 0)
        fail_msg("re-run after kills failed: %s", r.err);
    tu_result_release(&r);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM ohlcv"), 8 * 3000);
    /* runs the kills cut short are on record as interrupted, none left 'running' */
    QUANT(f, &r, "status");
    assert_null(strstr(r.out, "running"));
    tu_result_release(&r);
}

static void test_search_merges_local_and_remote(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    char path[PATH_MAX];
    tu_shared_path(path, "alphavantage/symbol_search_BA.json");
    assert_int_equal(lb_add_file(f->lb, "function=SYMBOL_SEARCH", 200, path, LB_NORMAL, 0), 0);
    QUANT(f, &r, "symbols", "add", "BA", "--name", "Boeing (local note)");
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "add", "BAX", "--name", "Baxter International");
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "search", "BA", "--json");
    if (r.status != 0)
        fail_msg("search failed: %s", r.err);
    assert_int_equal(lb_request_count(f->lb, "keywords=BA"), 1);
    /* 10 remote matches + BAX (local only); BA is in both and listed once, first */
    assert_int_equal(tu_count(r.out, "\"symbol\""), 11);
    assert_int_equal(tu_count(r.out, "\"BA\""), 1);
    char *first = strstr(r.out, "\"symbol\"");
    assert_non_null(first);
    assert_int_equal(strncmp(first, "\"symbol\": \"BA\",", 15), 0);
    assert_non_null(strstr(r.out, "\"local+remote\""));
    assert_non_null(strstr(r.out, "6190.HKG"));
    assert_non_null(strstr(r.out, "\"BAX\""));
    assert_int_equal(strlen(r.err), 0);
    tu_result_release(&r);

    /* the API down: the local part still answers, and says the remote part failed */
    lb_reset(f->lb);
    lb_add(f->lb, "function=SYMBOL_SEARCH", 503, "down", LB_NORMAL, 0);
    QUANT(f, &r, "symbols", "search", "BA");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "BAX"));
    assert_non_null(strstr(r.err, "remote search unavailable"));
    tu_result_release(&r);
}

static void test_enrich_from_overview(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    char path[PATH_MAX];
    tu_shared_path(path, "alphavantage/overview_IBM_2021.json");
    assert_int_equal(lb_add_file(f->lb, "function=OVERVIEW&symbol=IBM", 200, path, LB_NORMAL, 0), 0);
    lb_add(f->lb, "function=OVERVIEW&symbol=NOPE", 200, "{}", LB_NORMAL, 0);
    QUANT(f, &r, "symbols", "add", "IBM", "NOPE");
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "enrich");
    assert_int_equal(r.status, 1);              /* NOPE has no overview */
    assert_non_null(strstr(r.out, "Enriched IBM"));
    assert_non_null(strstr(r.err, "Failed NOPE"));
    tu_result_release(&r);
    QUANT(f, &r, "symbols", "list", "--json");
    assert_non_null(strstr(r.out, "International Business Machines Corporation"));
    assert_non_null(strstr(r.out, "\"sector\": \"Technology\""));
    assert_non_null(strstr(r.out, "\"exchange\": \"NYSE\""));
    tu_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ingest_count_matches_payload_and_is_idempotent, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_compact_after_full_updates_in_place, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_api_errors_store_nothing, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_daily_budget_stops_cleanly, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_refused_connection_costs_no_budget, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_is_a_config_error, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_killed_ingest_leaves_symbols_whole, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_search_merges_local_and_remote, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_enrich_from_overview, tu_av_setup, tu_av_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
