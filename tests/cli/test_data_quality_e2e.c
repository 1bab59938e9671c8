/*
 * test_data_quality_e2e.c: trustworthy prices through the real `quant`
 * binary, real stores and real data: a Yahoo CSV backfill topped up by a
 * recorded Alpha Vantage response has no seam in its returns; a split in
 * unadjusted Alpha Vantage bars is marked and never spanned (and vanishes
 * with the adjusted endpoint); one lineage per symbol, with --replace; a real
 * universe file with a broken bar is repaired where it can be and leaves a
 * gap nothing spans where it cannot.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "av_fixture.h"
#include "core/buf.h"

#define QUANT(f, res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (f)->env, (res))

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

/* One number from `quant sql`; NAN for a NULL cell. */
static double sql_double(struct tu_av_fixture *f, const char *sql)
{
    char *text = tu_sql_text(f->env, sql);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    double v = nl[1] == '\0' || nl[1] == '\n' || strncmp(nl + 1, "NULL", 4) == 0
                   ? NAN
                   : strtod(nl + 1, NULL);
    free(text);
    return v;
}

/* The lines of a real CSV up to (and including) date `last`, header kept. */
static void write_csv_until(const char *rel, const char *last, const char *out)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    char *text = tu_read_file(path, NULL);
    char *p = text;
    for (char *line = strchr(text, '\n'); line; line = strchr(line + 1, '\n')) {
        if (strncmp(line + 1, last, 10) > 0 || line[1] == '\0')
            break;
        p = strchr(line + 1, '\n');
        if (!p)
            p = line + 1 + strlen(line + 1);
    }
    *p = '\0';
    tu_write_file(out, text);
    free(text);
}

/* ---- a Yahoo backfill topped up by Alpha Vantage ---------------------------- */

static void ingest_msft_csv(struct tu_av_fixture *f, const char *until)
{
    char csv[PATH_MAX + 32];
    snprintf(csv, sizeof csv, "%s/MSFT.csv", f->home);
    write_csv_until("ohlcv/MSFT_yahoo_daily.csv", until, csv);
    struct tu_result r;
    QUANT(f, &r, "ingest", "--csv", csv, "--symbols", "MSFT");
    run_ok(&r);
    tu_result_release(&r);
}

static void top_up_msft(struct tu_av_fixture *f)
{
    tu_av_serve(f, "function=TIME_SERIES_DAILY&symbol=MSFT",
                "alphavantage/time_series_daily_MSFT_compact_2018-06-08.json");
    struct tu_result r;
    QUANT(f, &r, "ingest", "--compact", "--symbols", "MSFT");
    run_ok(&r);
    assert_non_null(strstr(r.err, "the stored adjustment was carried onto them"));
    assert_null(strstr(r.err, "split"));
    tu_result_release(&r);
    QUANT(f, &r, "features");
    run_ok(&r);
    tu_result_release(&r);
}

/* ret_1 on date d against the raw close ratio: the real move, not the seam. */
static void assert_real_return(struct tu_av_fixture *f, const char *d, double max_abs)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT ret_1 FROM features_tech_v1 WHERE symbol = 'MSFT' AND "
                              "date = '%s'", d);
    double ret = sql_double(f, sql);
    snprintf(sql, sizeof sql,
             "SELECT close / lag(close) OVER (ORDER BY date) - 1 AS r FROM ohlcv WHERE "
             "symbol = 'MSFT' QUALIFY date = '%s'", d);
    double raw = sql_double(f, sql);
    /* 1e-6: Yahoo rounds its adjusted closes to 6 decimals */
    if (!(fabs(ret - raw) < 1e-6 && fabs(ret) < max_abs))
        fail_msg("MSFT ret_1 on %s is %.6f, the close moved %.6f", d, ret, raw);
}

static void test_seam_has_no_jump(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    ingest_msft_csv(f, "2018-01-16");   /* the day before the response's first date */
    top_up_msft(f);
    /* Before: adj_close NULL after the seam gave ret_1 = 90.14 / 84.684 - 1 = +6.4%. */
    assert_real_return(f, "2018-01-17", 0.03);
    assert_true(sql_double(f, "SELECT max(abs(ret_1)) FROM features_tech_v1 WHERE symbol = "
                              "'MSFT' AND date >= '2017-01-01'") < 0.1);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv WHERE symbol = 'MSFT' AND "
                              "quality & 16 <> 0 AND source = 'alphavantage'") == 100);
    /* The reverse order would rewrite Alpha Vantage's bars with the file's: refused. */
    char csv[PATH_MAX + 32];
    snprintf(csv, sizeof csv, "%s/MSFT.csv", f->home);
    struct tu_result r;
    double before = sql_double(f, "SELECT count(*) FROM ohlcv");
    QUANT(f, &r, "ingest", "--csv", csv, "--symbols", "MSFT");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "from alphavantage"));
    assert_non_null(strstr(r.err, "csv bars"));
    assert_non_null(strstr(r.err, "--replace"));
    tu_result_release(&r);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv") == before);
}

/* The response overlaps the stored history (the CSV runs to 2020): the stored
 * factors are kept for the overlapping dates, so neither end of the overlap jumps. */
static void test_overlap_keeps_factors(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    ingest_msft_csv(f, "2020-12-31");
    struct tu_result r;
    QUANT(f, &r, "features");
    run_ok(&r);
    tu_result_release(&r);
    const char *sum = "SELECT sum(abs(ret_1)) FROM features_tech_v1 WHERE symbol = 'MSFT' AND "
                      "date BETWEEN '2018-01-01' AND '2018-07-01'";
    double yahoo_only = sql_double(f, sum);
    top_up_msft(f);
    assert_real_return(f, "2018-01-17", 0.03);
    assert_real_return(f, "2018-06-11", 0.03);
    /* Alpha Vantage's closes differ from Yahoo's by rounding only: the returns
     * over the overlap are Yahoo's to 1e-4 in total. */
    assert_true(fabs(sql_double(f, sum) - yahoo_only) < 1e-4);
}

/* ---- a split in unadjusted Alpha Vantage bars ------------------------------- */

/*
 * A TIME_SERIES_DAILY(_ADJUSTED) body for AAPL built from the real Yahoo
 * history around its 4-for-1 split of 2020-08-31: Yahoo's Close is split
 * adjusted, so the bars before the split are multiplied back by 4 (volume
 * divided) to be what an unadjusted source publishes.
 */
static char *aapl_split_body(int adjusted)
{
    char path[PATH_MAX];
    tu_shared_path(path, "ohlcv/AAPL_yahoo_daily.csv");
    char *text = tu_read_file(path, NULL);
    struct quant_buf b;
    quant_buf_init(&b, 0);
    assert_int_equal(quant_buf_printf(&b, "{\"Meta Data\": {\"1. Information\": \"Daily Prices\", "
                                          "\"2. Symbol\": \"AAPL\", \"3. Last Refreshed\": "
                                          "\"2020-10-23\", \"4. Output Size\": \"Compact\", "
                                          "\"5. Time Zone\": \"US/Eastern\"}, "
                                          "\"Time Series (Daily)\": {"), QUANT_OK);
    int n = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "2020-06-01", 10) < 0 || strncmp(line, "2020-10-23", 10) > 0)
            continue;
        double o, h, l, c, a, v;
        char date[11];
        if (sscanf(line, "%10[0-9-],%lf,%lf,%lf,%lf,%lf,%lf", date, &o, &h, &l, &c, &a, &v) != 7)
            continue;
        double k = strcmp(date, "2020-08-31") < 0 ? 4.0 : 1.0;
        assert_int_equal(quant_buf_printf(&b, "%s\"%s\": {\"1. open\": \"%.4f\", \"2. high\": "
                                              "\"%.4f\", \"3. low\": \"%.4f\", \"4. close\": "
                                              "\"%.4f\", ", n ? ", " : "", date, o * k, h * k,
                                          l * k, c * k), QUANT_OK);
        if (adjusted)
            assert_int_equal(quant_buf_printf(&b, "\"5. adjusted close\": \"%.6f\", \"6. volume\": "
                                                  "\"%.0f\", \"7. dividend amount\": \"0.0000\", "
                                                  "\"8. split coefficient\": \"%s\"}", a, v / k,
                                              strcmp(date, "2020-08-31") == 0 ? "4.0" : "1.0"),
                             QUANT_OK);
        else
            assert_int_equal(quant_buf_printf(&b, "\"5. volume\": \"%.0f\"}", v / k), QUANT_OK);
        n++;
    }
    assert_int_equal(quant_buf_printf(&b, "}}"), QUANT_OK);
    assert_true(n > 90 && n < 110);
    free(text);
    return b.data; /* owned by the caller now */
}

static void test_unexplained_split_is_not_spanned(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    char *body = aapl_split_body(0);
    lb_add(f->lb, "function=TIME_SERIES_DAILY&symbol=AAPL", 200, body, LB_NORMAL, 0);
    free(body);
    struct tu_result r;
    QUANT(f, &r, "ingest", "--compact", "--symbols", "AAPL");
    run_ok(&r);
    assert_non_null(strstr(r.err, "first 2020-08-31, like a 4-for-1"));
    tu_result_release(&r);
    QUANT(f, &r, "features");
    run_ok(&r);
    tu_result_release(&r);
    QUANT(f, &r, "labels");
    run_ok(&r);
    tu_result_release(&r);
    QUANT(f, &r, "status");
    run_ok(&r);
    assert_non_null(strstr(r.out, "1 jump"));
    tu_result_release(&r);
    /* Before: ret_1 = 129.04 / (4 x 124.81) - 1 = -74%, silently.  Now no value spans it. */
    assert_true(isnan(sql_double(f, "SELECT ret_1 FROM features_tech_v1 WHERE symbol = 'AAPL' "
                                    "AND date = '2020-08-31'")));
    assert_true(sql_double(f, "SELECT max(abs(ret_1)) FROM features_tech_v1 WHERE symbol = "
                              "'AAPL'") < 0.15);
    assert_true(sql_double(f, "SELECT max(abs(fwd_return)) FROM labels WHERE symbol = 'AAPL'") <
                0.3);
    assert_true(sql_double(f, "SELECT count(*) FROM labels WHERE symbol = 'AAPL' AND date "
                              "BETWEEN '2020-08-24' AND '2020-08-28'") == 0);

    /* The adjusted endpoint explains it: replace the history, nothing is marked. */
    body = aapl_split_body(1);
    lb_add(f->lb, "function=TIME_SERIES_DAILY_ADJUSTED&symbol=AAPL", 200, body, LB_NORMAL, 0);
    free(body);
    QUANT(f, &r, "ingest", "--compact", "--adjusted", "--replace", "--symbols", "AAPL");
    run_ok(&r);
    assert_null(strstr(r.err, "like a"));
    tu_result_release(&r);
    QUANT(f, &r, "features");
    run_ok(&r);
    tu_result_release(&r);
    double ret = sql_double(f, "SELECT ret_1 FROM features_tech_v1 WHERE symbol = 'AAPL' AND "
                               "date = '2020-08-31'");
    /* Yahoo's adjusted closes: 128.817749 / 124.592552 - 1 = +3.39% */
    assert_true(fabs(ret - (128.817749 / 124.592552 - 1)) < 1e-6);
}

/* ---- one lineage per symbol ------------------------------------------------- */

static void test_lineage_refused_then_replaced(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    QUANT(f, &r, "ingest", "--provider", "synthetic", "--days", "300", "--symbols", "AAPL",
          "NVDA");
    run_ok(&r);
    tu_result_release(&r);
    QUANT(f, &r, "features", "--materialize");
    run_ok(&r);
    tu_result_release(&r);
    char csv[PATH_MAX];
    tu_shared_path(csv, "ohlcv/AAPL_yahoo_daily.csv");
    QUANT(f, &r, "ingest", "--csv", csv, "--symbols", "AAPL");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "AAPL has 300 bars from synthetic"));
    assert_non_null(strstr(r.err, "csv bars"));
    assert_non_null(strstr(r.err, "--replace"));
    tu_result_release(&r);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv WHERE symbol = 'AAPL'") == 300);
    assert_true(sql_double(f, "SELECT count(*) FROM quant.main.features_tech_v1 WHERE "
                              "symbol='AAPL'") > 0);

    QUANT(f, &r, "ingest", "--csv", csv, "--symbols", "AAPL", "--replace");
    run_ok(&r);
    assert_non_null(strstr(r.err, "replaced its history from synthetic"));
    tu_result_release(&r);
    /* The file's rows only (10,087 data rows, one of them null), nothing derived
     * from the synthetic bars, and NVDA untouched. */
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv WHERE symbol = 'AAPL'") == 10086);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv WHERE symbol = 'AAPL' AND source <> "
                              "'csv'") == 0);
    assert_true(sql_double(f, "SELECT count(*) FROM quant.main.features_tech_v1 WHERE "
                              "symbol='AAPL'") == 0);
    assert_true(sql_double(f, "SELECT count(*) FROM derived_state WHERE symbol='AAPL'") == 0);
    assert_true(sql_double(f, "SELECT count(*) FROM quant.main.features_tech_v1 WHERE "
                              "symbol='NVDA'") > 0);
    /* Features computed on read follow the new bars at once, no rerun needed. */
    assert_true(sql_double(f, "SELECT max(abs(ret_1)) FROM features_tech_v1 WHERE symbol = "
                              "'AAPL'") < 0.6); /* real AAPL: -52% on 1987-10-19 at worst */
    assert_true(sql_double(f, "SELECT count(*) FROM features_tech_v1 WHERE symbol = 'AAPL'") >
                10000);
}

/* ---- bad bars on a real universe file --------------------------------------- */

static void test_universe_file_repaired_and_gap_not_spanned(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    char csv[PATH_MAX];
    tu_shared_path(csv, "universe/ASYS.csv");
    /* Independently of quant: data rows, zero-open rows with a real close, and
     * rows with no price at all. */
    char *text = tu_read_file(csv, NULL);
    long rows = 0, zero_open = 0, no_price = 0;
    for (char *line = strchr(text, '\n'); line; line = strchr(line + 1, '\n')) {
        double o, h, l, c;
        if (sscanf(line + 1, "%*10[0-9-],%lf,%lf,%lf,%lf", &o, &h, &l, &c) != 4)
            continue;
        rows++;
        zero_open += o == 0 && c > 0;
        no_price += c == 0;
    }
    free(text);
    assert_true(zero_open > 1000 && no_price == 1);
    struct tu_result r;
    QUANT(f, &r, "ingest", "--csv", csv);
    run_ok(&r);
    char want[128];
    snprintf(want, sizeof want, "repaired %ld,%03ld bars", zero_open / 1000, zero_open % 1000);
    if (!strstr(r.err, want))
        fail_msg("expected '%s' in: %s", want, r.err);
    assert_non_null(strstr(r.err, "skipped 1 invalid bar (first: 1992-12-17"));
    assert_non_null(strstr(r.err, "leave 1 gap; no return, feature or label spans it"));
    tu_result_release(&r);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv") == rows - no_price);
    assert_true(sql_double(f, "SELECT count(*) FROM ohlcv WHERE quality & 1 <> 0") == zero_open);
    QUANT(f, &r, "features");
    run_ok(&r);
    tu_result_release(&r);
    QUANT(f, &r, "labels");
    run_ok(&r);
    tu_result_release(&r);
    QUANT(f, &r, "status");
    run_ok(&r);
    assert_non_null(strstr(r.out, "repaired, 1 gap"));
    tu_result_release(&r);
    assert_true(isnan(sql_double(f, "SELECT ret_1 FROM features_tech_v1 WHERE date = "
                                    "'1992-12-18'")));
    /* the 5 bars before the gap have no 5-day forward return; the 6th has */
    assert_true(sql_double(f, "SELECT count(*) FROM labels WHERE date BETWEEN '1992-12-10' "
                              "AND '1992-12-16'") == 0);
    assert_true(sql_double(f, "SELECT count(*) FROM labels WHERE date = '1992-12-09'") == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seam_has_no_jump, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_keeps_factors, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_unexplained_split_is_not_spanned, tu_av_setup,
                                        tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_lineage_refused_then_replaced, tu_av_setup,
                                        tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_universe_file_repaired_and_gap_not_spanned,
                                        tu_av_setup, tu_av_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
