/*
 * test_alphavantage_fetch.c: the Alpha Vantage provider end to end over the
 * loopback server serving the recorded responses: request URLs, JSON and CSV
 * success, every error payload's code, the FULL -> COMPACT fallback on
 * premium, request counting, and that the API key goes out on the wire but
 * never into a message.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "loopback_server.h"
#include "providers/alphavantage_internal.h"

#define AV "alphavantage/"
#define KEY "TESTKEY987654"

struct fx {
    struct lb_server *lb;
    struct quant_provider p;
    struct quant_err err;
    struct quant_bars bars;
    struct quant_fetch_info info;
};

static void fx_open(struct fx *f, int adjusted, int use_csv)
{
    memset(f, 0, sizeof *f);
    f->lb = lb_start();
    assert_non_null(f->lb);
    char url[128];
    lb_url(f->lb, url, sizeof url);
    struct quant_av_options o = {.base_url = url, .api_key = KEY, .adjusted = adjusted,
                                 .use_csv = use_csv};
    quant_http_options_default(&o.http);
    o.http.timeout_ms = 3000;
    o.http.max_retries = 1;
    o.http.backoff_initial_ms = 5;
    o.http.backoff_max_ms = 20;
    quant_err_clear(&f->err);
    assert_int_equal(quant_av_open(&o, &f->p, &f->err), QUANT_OK);
    assert_non_null(f->p.ops);
    assert_string_equal(f->p.ops->name, "alphavantage");
    assert_null(f->p.ops->list_symbols);
    /* ingest keeps the daily budget for it because its ops say so */
    assert_int_equal(f->p.ops->caps, QUANT_PROVIDER_METERED);
    quant_bars_init(&f->bars);
}

static void fx_close(struct fx *f)
{
    quant_bars_release(&f->bars);
    quant_provider_close(&f->p);
    assert_null(f->p.state);
    lb_stop(f->lb);
}

static void serve(struct fx *f, const char *match, const char *file)
{
    char path[PATH_MAX];
    tu_shared_path(path, file);
    assert_int_equal(lb_add_file(f->lb, match, 200, path, LB_NORMAL, 0), 0);
}

static enum quant_code fetch(struct fx *f, const char *sym, enum quant_fetch_mode mode)
{
    quant_err_clear(&f->err);
    return f->p.ops->fetch_daily(f->p.state, sym, mode, &f->bars, &f->info, &f->err);
}

static void assert_key_safe(struct fx *f)
{
    if (strstr(f->err.msg, KEY))
        fail_msg("API key leaked into: %s", f->err.msg);
    /* ...but it did go out on every request. */
    int all = lb_request_count(f->lb, NULL);
    assert_true(all > 0);
    assert_int_equal(lb_request_count(f->lb, "apikey=" KEY), all);
}

static void test_fetch_json(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 0, 0);
    serve(&f, "function=TIME_SERIES_DAILY&symbol=MSFT&outputsize=compact",
          AV "time_series_daily_MSFT_compact_2018-06-08.json");
    assert_int_equal(fetch(&f, "msft", QUANT_FETCH_COMPACT), QUANT_OK);
    assert_int_equal(f.bars.n, 100);
    assert_string_equal(f.bars.symbol, "MSFT");
    assert_true(fabs(f.bars.v[99].open - 101.0924) < 1e-9);
    assert_int_equal(f.info.requests, 1);
    assert_int_equal(f.info.fell_back_to_compact, 0);
    assert_string_equal(f.info.warning, "");
    char target[512];
    assert_int_equal(lb_request_target(f.lb, 0, target, sizeof target), 0);
    assert_string_equal(target, "/query?function=TIME_SERIES_DAILY&symbol=MSFT"
                                "&outputsize=compact&apikey=" KEY);
    fx_close(&f);
}

static void test_fetch_adjusted_json(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 1, 0);
    serve(&f, "function=TIME_SERIES_DAILY_ADJUSTED&symbol=IBM&outputsize=full",
          AV "time_series_daily_adjusted_IBM_compact_2025-01-13.json");
    assert_int_equal(fetch(&f, "IBM", QUANT_FETCH_FULL), QUANT_OK);
    assert_int_equal(f.bars.n, 100);
    assert_int_equal(f.info.requests, 1);
    assert_int_equal(f.info.fell_back_to_compact, 0);
    fx_close(&f);
}

static void test_fetch_csv(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 0, 1);
    serve(&f, "function=TIME_SERIES_DAILY&symbol=IBM&outputsize=compact&datatype=csv",
          AV "time_series_daily_IBM_compact_2026-05-15.csv");
    assert_int_equal(fetch(&f, "IBM", QUANT_FETCH_COMPACT), QUANT_OK);
    assert_int_equal(f.bars.n, 100);
    assert_string_equal(f.bars.symbol, "IBM");   /* CSV has none: the requested one */
    assert_true(fabs(f.bars.v[99].close - 219.3) < 1e-9);
    assert_int_equal(lb_request_count(f.lb, "datatype=csv"), 1);
    fx_close(&f);

    fx_open(&f, 1, 1);
    serve(&f, "function=TIME_SERIES_DAILY_ADJUSTED&symbol=IBM",
          AV "time_series_daily_adjusted_IBM_compact_2026-05-15.csv");
    assert_int_equal(fetch(&f, "IBM", QUANT_FETCH_COMPACT), QUANT_OK);
    assert_int_equal(f.bars.n, 100);
    assert_true(fabs(f.bars.v[0].adj_close - 298.85821743109733) < 1e-9);
    fx_close(&f);
}

struct err_case {
    const char *file;
    enum quant_code code;
};

static void test_fetch_error_payloads(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    const struct err_case cases[] = {
        {AV "error_message_invalid_call_BOP_2025-11.json", QUANT_ENOTFOUND},
        {AV "transcribed/note_rate_limit_5perMin_500perDay_2019.json", QUANT_ERATELIMIT},
        {AV "transcribed/information_premium_endpoint_2024.json", QUANT_EPREMIUM},
        {AV "premium_sample_REALTIME_BULK_QUOTES_2026.json", QUANT_EPREMIUM},
        {AV "time_series_intraday_MSFT_1min_compact_2017-12-18.json", QUANT_EPARSE},
    };
    for (int csv = 0; csv <= 1; csv++) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            struct fx f;
            fx_open(&f, 0, csv);
            serve(&f, "function=TIME_SERIES_DAILY", cases[i].file);
            enum quant_code rc = fetch(&f, "AAPL", QUANT_FETCH_COMPACT);
            if (rc != cases[i].code)
                fail_msg("%s (csv=%d): got %s, want %s: %s", cases[i].file, csv,
                         quant_code_name(rc), quant_code_name(cases[i].code), f.err.msg);
            assert_int_equal(f.err.code, cases[i].code);
            assert_int_equal(f.bars.n, 0);
            assert_int_equal(f.info.requests, 1);   /* API errors are not HTTP retries */
            assert_key_safe(&f);
            fx_close(&f);
        }
    }
}

static void test_fetch_daily_limit_masks_key(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, 0, 0);
    /* A notice that echoes the key back must not put it in the message. */
    lb_add(f.lb, "function=TIME_SERIES_DAILY", 200,
           "{\"Information\": \"We have detected your API key as " KEY " and our standard API "
           "rate limit is 25 requests per day. Please subscribe to any of the premium plans at "
           "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.\"}",
           LB_NORMAL, 0);
    assert_int_equal(fetch(&f, "AAPL", QUANT_FETCH_COMPACT), QUANT_EDAILYLIMIT);
    assert_non_null(strstr(f.err.msg, "25 requests per day"));
    assert_key_safe(&f);
    fx_close(&f);
}

static void test_fetch_full_falls_back(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 0, 0);
    serve(&f, "function=TIME_SERIES_DAILY&symbol=MSFT&outputsize=full",
          AV "transcribed/information_premium_endpoint_2024.json");
    serve(&f, "function=TIME_SERIES_DAILY&symbol=MSFT&outputsize=compact",
          AV "time_series_daily_MSFT_compact_2018-06-08.json");
    assert_int_equal(fetch(&f, "MSFT", QUANT_FETCH_FULL), QUANT_OK);
    assert_int_equal(f.bars.n, 100);
    assert_int_equal(f.info.fell_back_to_compact, 1);
    assert_int_equal(f.info.requests, 2);
    assert_non_null(strstr(f.info.warning, "full history is premium"));
    assert_non_null(strstr(f.info.warning, "quant ingest --provider csv --csv FILE"));
    assert_int_equal(lb_request_count(f.lb, "outputsize=full"), 1);
    assert_int_equal(lb_request_count(f.lb, "outputsize=compact"), 1);
    fx_close(&f);
}

static void test_fetch_premium_even_compact(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    /* Adjusted on a free key: full and compact are both premium. */
    struct fx f;
    fx_open(&f, 1, 0);
    serve(&f, "function=TIME_SERIES_DAILY_ADJUSTED",
          AV "transcribed/information_premium_endpoint_2024.json");
    assert_int_equal(fetch(&f, "IBM", QUANT_FETCH_FULL), QUANT_EPREMIUM);
    assert_int_equal(f.info.fell_back_to_compact, 0);
    assert_int_equal(f.info.requests, 2);
    assert_non_null(strstr(f.err.msg, "premium"));
    assert_key_safe(&f);
    fx_close(&f);
}

static void test_fetch_http_errors(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 0, 0);
    /* A 503 is retried (max_retries = 1), then the data arrives. */
    lb_add(f.lb, "symbol=MSFT", 503, "busy", LB_NORMAL, 0);
    serve(&f, "symbol=MSFT", AV "time_series_daily_MSFT_compact_2018-06-08.json");
    assert_int_equal(fetch(&f, "MSFT", QUANT_FETCH_COMPACT), QUANT_OK);
    assert_int_equal(f.info.requests, 2);
    /* 500 forever: EHTTP after 2 attempts, message redacted. */
    lb_add(f.lb, "symbol=DOWN", 500, "down", LB_NORMAL, 0);
    assert_int_equal(fetch(&f, "DOWN", QUANT_FETCH_COMPACT), QUANT_EHTTP);
    assert_int_equal(f.info.requests, 2);
    assert_non_null(strstr(f.err.msg, "apikey=***"));
    /* An HTML outage page with status 200. */
    lb_add(f.lb, "symbol=HTML", 200, "<html><body>Service Unavailable</body></html>",
           LB_NORMAL, 0);
    assert_int_equal(fetch(&f, "HTML", QUANT_FETCH_COMPACT), QUANT_EPARSE);
    assert_non_null(strstr(f.err.msg, "not JSON"));
    assert_key_safe(&f);
    fx_close(&f);
}

static void test_search_and_overview(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct fx f;
    fx_open(&f, 0, 0);
    serve(&f, "function=SYMBOL_SEARCH", AV "symbol_search_BA.json");
    serve(&f, "function=OVERVIEW&symbol=IBM", AV "overview_IBM_2021.json");
    lb_add(f.lb, "function=OVERVIEW&symbol=SPY", 200, "{}", LB_NORMAL, 0);
    struct quant_symbol_info *v = NULL;
    size_t n = 0;
    assert_int_equal(f.p.ops->search(f.p.state, "boeing & co", &v, &n, &f.err), QUANT_OK);
    assert_int_equal(n, 10);
    assert_string_equal(v[0].symbol, "BA");
    free(v);
    assert_int_equal(lb_request_count(f.lb, "keywords=boeing%20%26%20co&apikey=" KEY), 1);
    struct quant_symbol_info info;
    assert_int_equal(f.p.ops->overview(f.p.state, "ibm", &info, &f.err), QUANT_OK);
    assert_string_equal(info.name, "International Business Machines Corporation");
    assert_string_equal(info.exchange, "NYSE");
    assert_int_equal(f.p.ops->overview(f.p.state, "SPY", &info, &f.err), QUANT_ENOTFOUND);
    assert_key_safe(&f);
    fx_close(&f);

    fx_open(&f, 0, 1);
    serve(&f, "function=SYMBOL_SEARCH&keywords=tesco&datatype=csv",
          AV "symbol_search_tesco_2026.csv");
    assert_int_equal(f.p.ops->search(f.p.state, "tesco", &v, &n, &f.err), QUANT_OK);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].symbol, "TSCO.LON");
    free(v);
    /* Overview has no CSV form: asked as JSON even in CSV mode. */
    serve(&f, "function=OVERVIEW", AV "overview_IBM_2021.json");
    assert_int_equal(f.p.ops->overview(f.p.state, "IBM", &info, &f.err), QUANT_OK);
    assert_int_equal(lb_request_count(f.lb, "function=OVERVIEW&symbol=IBM&apikey="), 1);
    fx_close(&f);
}

static void test_open_needs_key(void **state)
{
    (void)state;
    struct quant_provider p = {0};
    struct quant_err err;
    struct quant_av_options o = {.base_url = NULL, .api_key = ""};
    assert_int_equal(quant_av_open(&o, &p, &err), QUANT_ENOKEY);
    assert_non_null(strstr(err.msg, "ALPHAVANTAGE_API_KEY"));
    assert_null(p.state);
    o.api_key = NULL;
    assert_int_equal(quant_av_open(&o, &p, &err), QUANT_ENOKEY);
    quant_provider_close(&p);   /* safe on a zeroed provider */
    /* Bad symbols never reach the network. */
    o.api_key = "k";   /* zero http options: defaults */
    assert_int_equal(quant_av_open(&o, &p, &err), QUANT_OK);
    struct quant_bars b;
    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "A/B", QUANT_FETCH_COMPACT, &b, NULL, &err),
                     QUANT_EINVAL);
    quant_bars_release(&b);
    quant_provider_close(&p);
    quant_strings_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_json),
        cmocka_unit_test(test_fetch_adjusted_json),
        cmocka_unit_test(test_fetch_csv),
        cmocka_unit_test(test_fetch_error_payloads),
        cmocka_unit_test(test_fetch_daily_limit_masks_key),
        cmocka_unit_test(test_fetch_full_falls_back),
        cmocka_unit_test(test_fetch_premium_even_compact),
        cmocka_unit_test(test_fetch_http_errors),
        cmocka_unit_test(test_search_and_overview),
        cmocka_unit_test(test_open_needs_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
