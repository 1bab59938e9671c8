/*
 * test_alphavantage_parse.c: the pure Alpha Vantage parsers over every recorded
 * response in ../shared/data/alphavantage (read in place, never copied) plus
 * synthetic bodies for cases no recording covers (daily limit, HTML, missing
 * fields, non-numeric values).
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "providers/alphavantage_internal.h"

#define AV "alphavantage/"

static char *load(const char *rel, size_t *len)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    return tu_read_file(path, len);
}

static const struct quant_bar *find_bar(const struct quant_bars *b, const char *date)
{
    int32_t d;
    assert_int_equal(quant_date_parse(date, strlen(date), &d), 0);
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].date == d)
            return &b->v[i];
    fail_msg("no bar on %s", date);
    return NULL;
}

static void assert_date(int32_t days, const char *want)
{
    char s[11];
    quant_date_format(days, s);
    assert_string_equal(s, want);
}

static void assert_sorted(const struct quant_bars *b)
{
    for (size_t i = 1; i < b->n; i++)
        assert_true(b->v[i - 1].date < b->v[i].date);
}

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* ---- daily JSON ------------------------------------------------------------ */

static void test_daily_json_msft(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "time_series_daily_MSFT_compact_2018-06-08.json", &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_av_classify(body, len, &err), QUANT_OK);
    assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), QUANT_OK);
    assert_int_equal(b.n, 100);
    assert_string_equal(b.symbol, "MSFT");
    assert_sorted(&b);
    assert_date(b.v[0].date, "2018-01-17");
    assert_date(b.v[99].date, "2018-06-08");
    const struct quant_bar *r = &b.v[99];
    assert_near(r->open, 101.0924);
    assert_near(r->high, 101.95);
    assert_near(r->low, 100.54);
    assert_near(r->close, 101.63);
    assert_near(r->volume, 22165128);
    assert_true(isnan(r->adj_close));
    assert_true(isnan(r->dividend));
    assert_true(isnan(r->split));
    const struct quant_bar *o = &b.v[0];
    assert_near(o->open, 89.08);
    assert_near(o->close, 90.14);
    assert_near(o->volume, 24659472);
    quant_bars_release(&b);
    free(body);
}

static void test_daily_json_ibm_adjusted(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "time_series_daily_adjusted_IBM_compact_2025-01-13.json", &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), QUANT_OK);
    assert_int_equal(b.n, 100);
    assert_string_equal(b.symbol, "IBM");
    assert_sorted(&b);
    assert_date(b.v[0].date, "2024-08-20");
    assert_date(b.v[99].date, "2025-01-13");
    const struct quant_bar *last = &b.v[99];
    assert_near(last->open, 217.89);
    assert_near(last->high, 219.59);
    assert_near(last->low, 214.75);
    assert_near(last->close, 217.4);
    assert_near(last->adj_close, 217.4);
    assert_near(last->volume, 3654799);   /* "6. volume" in the adjusted layout */
    assert_near(last->dividend, 0.0);
    assert_near(last->split, 1.0);
    const struct quant_bar *div = find_bar(&b, "2024-11-12");
    assert_near(div->dividend, 1.67);
    assert_near(div->close, 210.86);
    assert_near(div->volume, 2818216);
    const struct quant_bar *first = &b.v[0];
    assert_near(first->close, 196.03);
    assert_near(first->adj_close, 194.489652284383);
    assert_true(first->adj_close < first->close);
    /* Appending: a second parse adds to what is there. */
    assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), QUANT_OK);
    assert_int_equal(b.n, 200);
    quant_bars_release(&b);
    free(body);
}

static void expect_not_daily(const char *rel, const char *series_word)
{
    size_t len;
    char *body = load(rel, &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_av_classify(body, len, &err), QUANT_OK);
    assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), QUANT_EPARSE);
    assert_int_equal(err.code, QUANT_EPARSE);
    assert_int_equal(b.n, 0);
    if (!strstr(err.msg, series_word))
        fail_msg("message does not name the series '%s': %s", series_word, err.msg);
    assert_non_null(strstr(err.msg, "not a daily series"));
    quant_bars_release(&b);
    free(body);
}

static void test_daily_json_rejects_other_series(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    expect_not_daily(AV "time_series_intraday_MSFT_1min_compact_2017-12-18.json",
                     "Time Series (1min)");
    expect_not_daily(AV "time_series_intraday_IBM_5min_full_2020-07-10.json",
                     "Time Series (5min)");
    expect_not_daily(AV "time_series_weekly_IBM_full_2020-07-10.json", "Weekly Time Series");
}

static void test_daily_json_rejects_other_payloads(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    const char *files[] = {AV "global_quote_MSFT_2018-10-05.json", AV "symbol_search_BA.json",
                           AV "overview_IBM_2021.json"};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        char *body = load(files[i], &len);
        struct quant_bars b;
        quant_bars_init(&b);
        struct quant_err err;
        assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), QUANT_EPARSE);
        assert_non_null(strstr(err.msg, "Time Series (Daily)"));
        quant_bars_release(&b);
        free(body);
    }
}

/* ---- daily CSV --------------------------------------------------------------- */

static void test_daily_csv_plain(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "time_series_daily_IBM_compact_2026-05-15.csv", &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_av_classify(body, len, &err), QUANT_OK);
    assert_int_equal(quant_av_parse_daily_csv(body, len, &b, &err), QUANT_OK);
    assert_int_equal(b.n, 100);
    assert_sorted(&b);
    assert_date(b.v[0].date, "2025-12-22");
    assert_date(b.v[99].date, "2026-05-15");
    const struct quant_bar *r = &b.v[99];
    assert_near(r->open, 218.2);
    assert_near(r->high, 220.91);
    assert_near(r->low, 217.615);
    assert_near(r->close, 219.3);
    assert_near(r->volume, 6154450);
    assert_true(isnan(r->adj_close) && isnan(r->dividend) && isnan(r->split));
    assert_near(b.v[0].close, 302.79);
    assert_near(b.v[0].volume, 2612100);
    quant_bars_release(&b);
    free(body);
}

static void test_daily_csv_adjusted(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "time_series_daily_adjusted_IBM_compact_2026-05-15.csv", &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_av_parse_daily_csv(body, len, &b, &err), QUANT_OK);
    assert_int_equal(b.n, 100);
    assert_sorted(&b);
    const struct quant_bar *r = &b.v[99];
    assert_date(r->date, "2026-05-15");
    assert_near(r->open, 218.2);
    assert_near(r->high, 220.91);
    assert_near(r->low, 217.615);
    assert_near(r->close, 219.3);
    assert_near(r->adj_close, 219.3);
    assert_near(r->volume, 6154450);
    assert_near(r->dividend, 0.0);
    assert_near(r->split, 1.0);
    assert_near(b.v[0].adj_close, 298.85821743109733);
    assert_near(b.v[0].close, 302.79);
    quant_bars_release(&b);
    free(body);
}

static void test_daily_csv_crlf(void **state)
{
    (void)state;
    const char *body = "timestamp,open,high,low,close,volume\r\n"
                       "2024-01-03,2,3,1,2.5,200\r\n"
                       "2024-01-02,1,2,0.5,1.5,100\r\n";
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_av_parse_daily_csv(body, strlen(body), &b, &err), QUANT_OK);
    assert_int_equal(b.n, 2);
    assert_date(b.v[0].date, "2024-01-02");
    assert_near(b.v[0].close, 1.5);
    assert_near(b.v[1].volume, 200);
    quant_bars_release(&b);
}

static void test_daily_csv_rejects_intraday(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    const char *files[] = {AV "time_series_intraday_IBM_5min_compact_2026-05-15.csv",
                           AV "time_series_intraday_extended_MSFT_1min_year1month1_2020-12.csv"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *body = load(files[i], &len);
        struct quant_bars b;
        quant_bars_init(&b);
        struct quant_err err;
        assert_int_equal(quant_av_parse_daily_csv(body, len, &b, &err), QUANT_EPARSE);
        assert_non_null(strstr(err.msg, "intraday"));
        assert_int_equal(b.n, 0);
        quant_bars_release(&b);
        free(body);
    }
    /* Other CSVs: header names the missing column. */
    size_t len;
    char *body = load(AV "global_quote_IBM_2026-05-15.csv", &len);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    assert_int_equal(quant_av_parse_daily_csv(body, len, &b, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "timestamp"));
    quant_bars_release(&b);
    free(body);
}

/* ---- search and overview ---------------------------------------------------- */

static void test_search_json(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "symbol_search_BA.json", &len);
    struct quant_symbol_info *v = NULL;
    size_t n = 0;
    struct quant_err err;
    assert_int_equal(quant_av_parse_search_json(body, len, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 10);
    assert_string_equal(v[0].symbol, "BA");
    assert_string_equal(v[0].name, "The Boeing Company");
    assert_string_equal(v[0].type, "Equity");
    assert_string_equal(v[0].region, "United States");
    assert_string_equal(v[0].currency, "USD");
    assert_near(v[0].match_score, 1.0);
    assert_string_equal(v[1].symbol, "BABA");
    assert_near(v[1].match_score, 0.8);
    assert_string_equal(v[3].symbol, "6190.HKG");
    assert_string_equal(v[9].symbol, "BLDP");
    assert_near(v[9].match_score, 0.1429);
    free(v);
    free(body);
}

static void test_search_csv(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "symbol_search_tesco_2026.csv", &len);
    struct quant_symbol_info *v = NULL;
    size_t n = 0;
    struct quant_err err;
    assert_int_equal(quant_av_parse_search_csv(body, len, &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].symbol, "TSCO.LON");
    assert_string_equal(v[0].name, "Tesco PLC");
    assert_string_equal(v[0].region, "United Kingdom");
    assert_string_equal(v[0].currency, "GBX");
    assert_near(v[0].match_score, 0.7273);
    assert_string_equal(v[4].symbol, "TCO0.FRK");
    assert_string_equal(v[4].name, "TESCO PLC LS-0633333");
    assert_string_equal(v[4].currency, "EUR");
    free(v);
    free(body);
}

static void test_search_quoted_and_empty(void **state)
{
    (void)state;
    const char *csv = "symbol,name,type,region,marketOpen,marketClose,timezone,currency,matchScore\r\n"
                      "AAPL,\"Apple, Inc.\",Equity,United States,09:30,16:00,UTC-04,USD,0.9\r\n";
    struct quant_symbol_info *v = NULL;
    size_t n = 0;
    struct quant_err err;
    assert_int_equal(quant_av_parse_search_csv(csv, strlen(csv), &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "Apple, Inc.");
    assert_string_equal(v[0].currency, "USD");
    free(v);
    const char *none = "{\"bestMatches\": []}";
    assert_int_equal(quant_av_parse_search_json(none, strlen(none), &v, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    const char *bad = "{\"matches\": []}";
    assert_int_equal(quant_av_parse_search_json(bad, strlen(bad), &v, &n, &err), QUANT_EPARSE);
}

static void test_overview(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    size_t len;
    char *body = load(AV "overview_IBM_2021.json", &len);
    struct quant_symbol_info info;
    struct quant_err err;
    assert_int_equal(quant_av_parse_overview_json(body, len, &info, &err), QUANT_OK);
    assert_string_equal(info.symbol, "IBM");
    assert_string_equal(info.name, "International Business Machines Corporation");
    assert_string_equal(info.type, "Common Stock");
    assert_string_equal(info.exchange, "NYSE");
    assert_string_equal(info.currency, "USD");
    assert_string_equal(info.region, "USA");
    assert_string_equal(info.sector, "Technology");
    assert_string_equal(info.industry, "Information Technology Services");
    free(body);

    const char *none = "{\"Symbol\": \"xyz\", \"Name\": \"X Co\", \"Sector\": \"None\"}";
    assert_int_equal(quant_av_parse_overview_json(none, strlen(none), &info, &err), QUANT_OK);
    assert_string_equal(info.symbol, "XYZ");
    assert_string_equal(info.sector, "");
    assert_int_equal(quant_av_parse_overview_json("{}", 2, &info, &err), QUANT_ENOTFOUND);
}

/* ---- error payloads ------------------------------------------------------------ */

struct payload_case {
    const char *file;
    enum quant_code code;
    const char *says;   /* a piece of the API's sentence the message must quote */
};

static const struct payload_case payloads[] = {
    {AV "error_message_invalid_call_BOP_2025-11.json", QUANT_ENOTFOUND, "Invalid API call"},
    {AV "transcribed/note_rate_limit_5perMin_500perDay_2019.json", QUANT_ERATELIMIT,
     "5 calls per minute"},
    {AV "transcribed/information_premium_endpoint_2024.json", QUANT_EPREMIUM,
     "This is a premium endpoint"},
    {AV "premium_sample_REALTIME_BULK_QUOTES_2026.json", QUANT_EPREMIUM,
     "This is a premium endpoint"},
};

static void test_error_payloads(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    for (size_t i = 0; i < sizeof payloads / sizeof *payloads; i++) {
        const struct payload_case *c = &payloads[i];
        size_t len;
        char *body = load(c->file, &len);
        struct quant_err err;
        quant_err_clear(&err);
        assert_int_equal(quant_av_classify(body, len, &err), c->code);
        assert_int_equal(err.code, c->code);
        if (!strstr(err.msg, c->says))
            fail_msg("%s: message does not quote the API: %s", c->file, err.msg);
        /* Every parser returns the same code for the same payload. */
        struct quant_bars b;
        quant_bars_init(&b);
        assert_int_equal(quant_av_parse_daily_json(body, len, &b, &err), c->code);
        assert_int_equal(quant_av_parse_daily_csv(body, len, &b, &err), c->code);
        assert_int_equal(b.n, 0);
        struct quant_symbol_info *v = NULL;
        size_t n = 0;
        assert_int_equal(quant_av_parse_search_json(body, len, &v, &n, &err), c->code);
        assert_int_equal(quant_av_parse_search_csv(body, len, &v, &n, &err), c->code);
        assert_null(v);
        struct quant_symbol_info info;
        assert_int_equal(quant_av_parse_overview_json(body, len, &info, &err), c->code);
        quant_bars_release(&b);
        free(body);
    }
}

static enum quant_code classify_text(const char *body, struct quant_err *err)
{
    quant_err_clear(err);
    return quant_av_classify(body, strlen(body), err);
}

static void test_information_wordings(void **state)
{
    (void)state;
    struct quant_err err;
    /* The 2024+ daily-limit notice (it also advertises premium plans). */
    assert_int_equal(classify_text(
        "{\"Information\": \"Thank you for using Alpha Vantage! Our standard API rate limit is "
        "25 requests per day. Please subscribe to any of the premium plans at "
        "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.\"}",
        &err), QUANT_EDAILYLIMIT);
    assert_non_null(strstr(err.msg, "25 requests per day"));
    assert_non_null(strstr(err.msg, "midnight UTC"));
    /* A variant that names the key: the key is masked. */
    assert_int_equal(classify_text(
        "{\"Information\": \"We have detected your API key as SECRET99 and our standard API "
        "rate limit is 25 requests per day.\"}", &err), QUANT_EDAILYLIMIT);
    assert_null(strstr(err.msg, "SECRET99"));
    /* The burst notice mentions the daily limit and premium too: it is a rate limit. */
    assert_int_equal(classify_text(
        "{\"Information\": \"Thank you for using Alpha Vantage! Please consider spreading out "
        "your free API requests more sparingly (1 request per second). You may subscribe to "
        "any of the premium plans at https://www.alphavantage.co/premium/ to lift the free "
        "key rate limit (25 requests per day), raise the per-second burst limit, and "
        "instantly unlock all premium endpoints\"}", &err), QUANT_ERATELIMIT);
    /* outputsize=full refused on a free key. */
    assert_int_equal(classify_text(
        "{\"Information\": \"Thank you for using Alpha Vantage! The **outputsize=full** "
        "parameter value is a premium feature for the TIME_SERIES_DAILY endpoint. You may "
        "subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
        "instantly unlock all premium features\"}", &err), QUANT_EPREMIUM);
    assert_non_null(strstr(err.msg, "--compact"));
    /* The demo-key notice is none of those. */
    assert_int_equal(classify_text(
        "{\"Information\": \"The **demo** API key is for demo purposes only. Please claim "
        "your free API key at (https://www.alphavantage.co/support/#api-key) to explore our "
        "full API offerings. It takes fewer than 20 seconds.\"}", &err), QUANT_EAPI);
    /* Long sentences are truncated, not dropped. */
    char big[3000];
    int k = snprintf(big, sizeof big, "{\"Note\": \"");
    memset(big + k, 'a', 2000);
    snprintf(big + k + 2000, sizeof big - (size_t)k - 2000, "\"}");
    assert_int_equal(classify_text(big, &err), QUANT_ERATELIMIT);
    assert_true(strlen(err.msg) < 600);
    /* Data and non-JSON are not error payloads. */
    assert_int_equal(classify_text("{\"Meta Data\": {}}", &err), QUANT_OK);
    assert_int_equal(classify_text("timestamp,open", &err), QUANT_OK);
    assert_int_equal(classify_text("<html>", &err), QUANT_OK);
}

/* ---- synthetic bad bodies --------------------------------------------------------- */

static enum quant_code daily_json(const char *body, struct quant_err *err)
{
    struct quant_bars b;
    quant_bars_init(&b);
    quant_err_clear(err);
    enum quant_code rc = quant_av_parse_daily_json(body, strlen(body), &b, err);
    if (rc)
        assert_int_equal(b.n, 0);   /* all or nothing */
    quant_bars_release(&b);
    return rc;
}

static enum quant_code daily_csv(const char *body, struct quant_err *err)
{
    struct quant_bars b;
    quant_bars_init(&b);
    quant_err_clear(err);
    enum quant_code rc = quant_av_parse_daily_csv(body, strlen(body), &b, err);
    if (rc)
        assert_int_equal(b.n, 0);
    quant_bars_release(&b);
    return rc;
}

#define ROW(d, o, vol) "\"" d "\": {\"1. open\": \"" o "\", \"2. high\": \"2\", \"3. low\": " \
                       "\"0.5\", \"4. close\": \"1.5\", \"5. volume\": \"" vol "\"}"

static void test_html_and_garbage(void **state)
{
    (void)state;
    struct quant_err err;
    const char *html = "<html><head><title>502 Bad Gateway</title></head></html>";
    assert_int_equal(daily_json(html, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "not JSON"));
    assert_non_null(strstr(err.msg, "<html"));
    assert_int_equal(daily_csv(html, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "<html"));
    assert_int_equal(daily_json("", &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(daily_json("{\"Time Series (Daily)\": {", &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "malformed JSON"));
    assert_int_equal(daily_json("[1, 2]", &err), QUANT_EPARSE);
    /* Deep nesting is refused before cJSON recurses into it. */
    char deep[400];
    memset(deep, '[', 200);
    deep[0] = '{';
    deep[200] = '\0';
    assert_int_equal(daily_json(deep, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "nests"));
    struct quant_symbol_info info;
    assert_int_equal(quant_av_parse_overview_json(html, strlen(html), &info, &err), QUANT_EPARSE);
}

static void test_missing_and_non_numeric(void **state)
{
    (void)state;
    struct quant_err err;
    assert_int_equal(daily_json("{\"Meta Data\": {\"2. Symbol\": \"X\"}}", &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "Time Series (Daily)"));

    const char *ok = "{\"Time Series (Daily)\": {" ROW("2024-01-03", "1", "100") ","
                     ROW("2024-01-02", "1.25", "4006500.0") "}}";
    assert_int_equal(daily_json(ok, &err), QUANT_OK);

    assert_int_equal(daily_json("{\"Time Series (Daily)\": {" ROW("2024-01-03", "1", "100") ","
                                ROW("2024-01-02", "abc", "100") "}}", &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "2024-01-02"));
    assert_non_null(strstr(err.msg, "1. open"));
    assert_non_null(strstr(err.msg, "abc"));

    const char *cases[] = {"", "1.5x", " 1.5", "nan", "inf", "1e999", "0x"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"Time Series (Daily)\": {\"2024-01-02\": {\"1. open\": \"1\", \"2. high\": "
                 "\"2\", \"3. low\": \"0.5\", \"4. close\": \"%s\", \"5. volume\": \"1\"}}}",
                 cases[i]);
        assert_int_equal(daily_json(body, &err), QUANT_EPARSE);
        assert_non_null(strstr(err.msg, "4. close"));
    }
    assert_int_equal(daily_json("{\"Time Series (Daily)\": {\"2024-01-02\": {\"1. open\": \"1\", "
                                "\"2. high\": \"2\", \"3. low\": \"0.5\", \"4. close\": \"1\"}}}",
                                &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "5. volume"));
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(daily_json("{\"Time Series (Daily)\": {" ROW("2024-02-30", "1", "1") "}}",
                                &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "2024-02-30"));
    /* Adjusted rows need every adjusted field. */
    assert_int_equal(daily_json("{\"Time Series (Daily)\": {\"2024-01-02\": {\"1. open\": \"1\", "
                                "\"2. high\": \"2\", \"3. low\": \"0.5\", \"4. close\": \"1\", "
                                "\"5. adjusted close\": \"1\", \"6. volume\": \"3\"}}}",
                                &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "7. dividend amount"));

    /* CSV: wrong field count, non-numeric, no rows, wrong header. */
    assert_int_equal(daily_csv("timestamp,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5\n",
                               &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(daily_csv("timestamp,open,high,low,close,volume\n"
                               "2024-01-03,1,2,0.5,1.5,9\n2024-01-02,1,2,0.5,N/A,9\n",
                               &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "2024-01-02"));
    assert_non_null(strstr(err.msg, "close"));
    assert_non_null(strstr(err.msg, "N/A"));
    assert_int_equal(daily_csv("timestamp,open,high,low,close,volume\n", &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "no rows"));
    assert_int_equal(daily_csv("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,9\n",
                               &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "timestamp"));
    /* JSON data where CSV was asked for. */
    assert_int_equal(daily_csv(ok, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "CSV"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_json_msft),
        cmocka_unit_test(test_daily_json_ibm_adjusted),
        cmocka_unit_test(test_daily_json_rejects_other_series),
        cmocka_unit_test(test_daily_json_rejects_other_payloads),
        cmocka_unit_test(test_daily_csv_plain),
        cmocka_unit_test(test_daily_csv_adjusted),
        cmocka_unit_test(test_daily_csv_crlf),
        cmocka_unit_test(test_daily_csv_rejects_intraday),
        cmocka_unit_test(test_search_json),
        cmocka_unit_test(test_search_csv),
        cmocka_unit_test(test_search_quoted_and_empty),
        cmocka_unit_test(test_overview),
        cmocka_unit_test(test_error_payloads),
        cmocka_unit_test(test_information_wordings),
        cmocka_unit_test(test_html_and_garbage),
        cmocka_unit_test(test_missing_and_non_numeric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
