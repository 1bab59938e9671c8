/*
 * test_csv.c: the CSV parser and the "csv" provider against every real file in
 * the shared data set (formats, counts, first/last rows, spot values) and
 * against fixtures written here (CRLF, BOM, long files, bad rows, unknown
 * headers, directories).  The number parser's tests are test_csv_core.c's.
 */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "providers/csv_provider_internal.h"

/* ---- helpers ------------------------------------------------------------- */

static int32_t day(const char *s)
{
    int32_t d = 0;
    assert_int_equal(quant_date_parse(s, strlen(s), &d), 0);
    return d;
}

static void parse_text(const char *text, const char *sym, struct quant_csv_file *f)
{
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_csv_parse(text, strlen(text), sym, f, &err);
    if (rc)
        fail_msg("parse failed: %s", err.msg);
}

static enum quant_code parse_shared(const char *rel, const char *sym, struct quant_csv_file *f,
                                    struct quant_err *err)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    size_t len;
    char *text = tu_read_file(path, &len);
    quant_err_clear(err);
    enum quant_code rc = quant_csv_parse(text, len, sym, f, err);
    free(text);
    return rc;
}

static void write_fixture(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, text);
}

static void close_provider(struct quant_provider *p)
{
    if (p->ops && p->ops->close)
        p->ops->close(p->state);
    p->ops = NULL;
    p->state = NULL;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- the shared files ---------------------------------------------------- */

struct expect {
    const char *file;
    const char *symbol;
    enum quant_csv_format format;
    size_t bars;
    long rows_read;
    const char *first, *last;
    double first_open, first_close, first_adj, first_volume; /* adj NAN: none */
    double last_close, last_volume;
};

static const struct expect k_shared[] = {
    {"ohlcv/AAPL_yahoo_daily.csv", "AAPL", QUANT_CSV_YAHOO, 10086, 10087, "1980-12-12",
     "2020-12-11", 0.128348, 0.128348, 0.100266, 469033600, 122.410004, 86860000},
    {"ohlcv/MSFT_yahoo_daily.csv", "MSFT", QUANT_CSV_YAHOO, 8761, 8761, "1986-03-13",
     "2020-12-11", 0.088542, 0.097222, 0.061893, 1031788800, 213.259995, 30972600},
    {"ohlcv/NVDA_yahoo_daily.csv", "NVDA", QUANT_CSV_YAHOO, 5510, 5510, "1999-01-22",
     "2020-12-11", 1.75, 1.640625, 1.508412, 67867200, 520.530029, 5228600},
    {"ohlcv/QQQ_yahoo_daily.csv", "QQQ", QUANT_CSV_YAHOO, 5478, 5478, "1999-03-10",
     "2020-12-11", 51.125, 51.0625, 44.523476, 5232000, 301.850006, 26747600},
    {"ohlcv/IBM_yahoo_daily.csv", "IBM", QUANT_CSV_YAHOO, 14840, 14840, "1962-01-02",
     "2020-12-11", 7.713333, 7.626667, 1.850917, 387200, 124.269997, 4480900},
    {"ohlcv/SPY_yahoo_daily_2008-2017.csv", "SPY", QUANT_CSV_YAHOO, 2519, 2519, "2007-12-31",
     "2017-12-29", 147.100006, 146.210007, 118.624741, 108126800, 266.859985, 96007400},
    {"ohlcv/SPY_alphavantage_daily_full_via_pandas_1999-2020.csv", "SPY", QUANT_CSV_PANDAS,
     5241, 5241, "1999-11-01", "2020-08-28", 136.5, 135.5625, NAN, 4006500, 350.58,
     48588940},
    {"ohlcv/SPY_yfinance_history_autoadjusted_1993-2025.csv", "SPY", QUANT_CSV_YFINANCE, 8115,
     8115, "1993-01-29", "2025-04-24", 24.469904286423922, 24.452512741088867, NAN, 1003200,
     546.6900024414062, 63748600},
    /* Alpha Vantage CSVs come newest-first; the series must come out ascending. */
    {"alphavantage/time_series_daily_IBM_compact_2026-05-15.csv", "IBM",
     QUANT_CSV_ALPHAVANTAGE, 100, 100, "2025-12-22", "2026-05-15", 301.03, 302.79, NAN,
     2612100, 219.3, 6154450},
    {"alphavantage/time_series_daily_adjusted_IBM_compact_2026-05-15.csv", "IBM",
     QUANT_CSV_AV_ADJUSTED, 100, 100, "2025-12-22", "2026-05-15", 301.03, 302.79,
     298.85821743109733, 2612100, 219.3, 6154450},
};

static void check_series_shape(const struct quant_bars *b)
{
    for (size_t i = 1; i < b->n; i++)
        assert_true(b->v[i - 1].date < b->v[i].date);
    for (size_t i = 0; i < b->n; i++)
        assert_true(b->v[i].open > 0 && b->v[i].close > 0 && b->v[i].volume >= 0);
}

static void check_expect(const struct expect *x)
{
    struct quant_csv_file f;
    struct quant_err err;
    if (parse_shared(x->file, x->symbol, &f, &err))
        fail_msg("%s: %s", x->file, err.msg);
    print_message("%s: %s, %zu bars\n", x->file, quant_csv_format_name(f.format),
                  f.n_series ? f.series[0].n : 0);
    assert_int_equal(f.format, x->format);
    assert_int_equal(f.has_symbol_column, 0);
    assert_int_equal(f.n_series, 1);
    assert_int_equal(f.n_bad, 0);
    assert_int_equal(f.n_bad_total, 0);
    assert_int_equal(f.rows_read, x->rows_read);
    const struct quant_bars *b = &f.series[0];
    assert_string_equal(b->symbol, x->symbol);
    assert_int_equal(b->n, x->bars);
    assert_int_equal(b->v[0].date, day(x->first));
    assert_int_equal(b->v[b->n - 1].date, day(x->last));
    /* Exact equality: the parser must give strtod's double. */
    assert_true(b->v[0].open == x->first_open);
    assert_true(b->v[0].close == x->first_close);
    assert_true(b->v[0].volume == x->first_volume);
    if (isnan(x->first_adj))
        assert_true(isnan(b->v[0].adj_close));
    else
        assert_true(b->v[0].adj_close == x->first_adj);
    assert_true(b->v[b->n - 1].close == x->last_close);
    assert_true(b->v[b->n - 1].volume == x->last_volume);
    check_series_shape(b);
    quant_csv_file_release(&f);
}

static void test_shared_files(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    for (size_t i = 0; i < sizeof k_shared / sizeof *k_shared; i++)
        check_expect(&k_shared[i]);
}

static const struct quant_bar *find_bar(const struct quant_bars *b, const char *date)
{
    int32_t d = day(date);
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].date == d)
            return &b->v[i];
    return NULL;
}

static void test_shared_details(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct quant_csv_file f;
    struct quant_err err;
    /* AAPL line 167 (1981-08-10) is all null: not a row, not a bad row. */
    assert_int_equal(parse_shared("ohlcv/AAPL_yahoo_daily.csv", "AAPL", &f, &err), QUANT_OK);
    assert_null(find_bar(&f.series[0], "1981-08-10"));
    assert_non_null(find_bar(&f.series[0], "1981-08-11"));
    assert_true(isnan(f.series[0].v[0].dividend) && isnan(f.series[0].v[0].split));
    quant_csv_file_release(&f);

    /* yfinance: dividends as given, "Stock Splits" 0.0 stored as 1.0. */
    assert_int_equal(parse_shared("ohlcv/SPY_yfinance_history_autoadjusted_1993-2025.csv", "SPY",
                                  &f, &err), QUANT_OK);
    const struct quant_bar *b = find_bar(&f.series[0], "1993-03-19");
    assert_non_null(b);
    assert_true(b->dividend == 0.213);
    assert_true(b->split == 1.0);
    assert_true(f.series[0].v[0].dividend == 0.0);
    quant_csv_file_release(&f);

    /* Alpha Vantage adjusted: dividend_amount and split_coefficient. */
    assert_int_equal(parse_shared("alphavantage/time_series_daily_adjusted_IBM_compact_"
                                  "2026-05-15.csv", "IBM", &f, &err), QUANT_OK);
    b = find_bar(&f.series[0], "2026-02-10");
    assert_non_null(b);
    assert_true(b->dividend == 1.68 && b->split == 1.0 && b->adj_close == 289.62962886152513);
    quant_csv_file_release(&f);

    /* Plain AV daily: no adjusted close, dividend or split. */
    assert_int_equal(parse_shared("alphavantage/time_series_daily_IBM_compact_2026-05-15.csv",
                                  "IBM", &f, &err), QUANT_OK);
    b = &f.series[0].v[f.series[0].n - 1];
    assert_true(b->open == 218.2 && b->high == 220.91 && b->low == 217.615);
    assert_true(isnan(b->adj_close) && isnan(b->dividend) && isnan(b->split));
    quant_csv_file_release(&f);
}

/* Intraday CSVs are refused as a whole, with the line and the reason. */
static void test_shared_intraday_rejected(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    const char *files[] = {
        "alphavantage/time_series_intraday_IBM_5min_compact_2026-05-15.csv",
        "alphavantage/time_series_intraday_extended_MSFT_1min_year1month1_2020-12.csv",
    };
    for (size_t i = 0; i < 2; i++) {
        struct quant_csv_file f;
        struct quant_err err;
        assert_int_equal(parse_shared(files[i], "IBM", &f, &err), QUANT_EPARSE);
        print_message("%s -> %s\n", files[i], err.msg);
        assert_non_null(strstr(err.msg, "line 2:"));
        assert_non_null(strstr(err.msg, "intraday"));
        assert_null(f.series);
    }
    /* Non-price AV CSVs: unrecognised header. */
    struct quant_csv_file f;
    struct quant_err err;
    assert_int_equal(parse_shared("alphavantage/global_quote_IBM_2026-05-15.csv", "IBM", &f,
                                  &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 1: unrecognised CSV header 'symbol,open,high"));
}

/* ---- fixtures ------------------------------------------------------------ */

static void test_stooq_crlf(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("Date,Open,High,Low,Close,Volume,OpenInt\r\n"
               "2024-01-03,10.5,11,10,10.75,1000,0\r\n"
               "2024-01-02,10,10.5,9.5,10.25,2000,0\r\n", "spy.us", &f);
    assert_int_equal(f.format, QUANT_CSV_STOOQ);
    assert_int_equal(f.n_series, 1);
    assert_string_equal(f.series[0].symbol, "SPY.US");
    assert_int_equal(f.series[0].n, 2);
    assert_int_equal(f.series[0].v[0].date, day("2024-01-02"));
    assert_true(f.series[0].v[1].close == 10.75 && f.series[0].v[1].volume == 1000);
    assert_true(isnan(f.series[0].v[0].adj_close));
    assert_int_equal(f.n_bad, 0);
    quant_csv_file_release(&f);
}

/* Stooq's bulk download: <TICKER>,<PER>,<DATE>,<TIME>,... with YYYYMMDD dates. */
static void test_stooq_bulk(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\r\n"
               "SPY.US,D,19930129,000000,25.2,25.2,25.07,25.18,1003200,0\r\n"
               "SPY.US,D,19930201,000000,25.2,25.36,25.2,25.36,480500,0\r\n", NULL, &f);
    assert_int_equal(f.format, QUANT_CSV_STOOQ);
    assert_true(f.has_symbol_column);
    assert_int_equal(f.n_bad, 0);
    assert_int_equal(f.n_series, 1);
    assert_string_equal(f.series[0].symbol, "SPY.US");
    assert_int_equal(f.series[0].n, 2);
    assert_int_equal(f.series[0].v[1].date, day("1993-02-01"));
    assert_true(f.series[0].v[1].volume == 480500);
    quant_csv_file_release(&f);
    /* The same layout with 5-minute bars is not daily data. */
    const char *text =
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "SPY.US,5,20240102,153500,1,1,1,1,1,0\n";
    struct quant_err err;
    assert_int_equal(quant_csv_parse(text, strlen(text), NULL, &f, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 2: period '5' is not D"));
}

static void test_long_file(void **state)
{
    (void)state;
    struct quant_csv_file f;
    /* symbol column in the middle, unknown column at the end, mixed case */
    parse_text("date,open,high,low,Ticker,close,volume,note\n"
               "2024-01-02,1,2,0.5,msft,1.5,100,x\n"
               "2024-01-02,10,20,5,AAPL,15,1000,y\n"
               "2024-01-03,11,21,6,AAPL,16,1100,z\n"
               "2024-01-03,2,3,1,MSFT,2.5,200,w\n"
               "2024-01-04,2,3,1,BAD;SYM,2.5,200,w\n", NULL, &f);
    assert_int_equal(f.format, QUANT_CSV_STOOQ);
    assert_true(f.has_symbol_column);
    assert_int_equal(f.n_series, 2);
    assert_int_equal(f.rows_read, 5);
    for (size_t i = 0; i < 2; i++) {
        const struct quant_bars *b = &f.series[i];
        assert_int_equal(b->n, 2);
        assert_true(strcmp(b->symbol, "AAPL") == 0 || strcmp(b->symbol, "MSFT") == 0);
        double want = strcmp(b->symbol, "AAPL") == 0 ? 16 : 2.5;
        assert_true(b->v[1].close == want);
    }
    assert_int_equal(f.n_bad, 1);
    assert_int_equal(f.bad[0].line, 6);
    assert_non_null(strstr(f.bad[0].reason, "BAD;SYM"));
    quant_csv_file_release(&f);
}

static void test_unknown_header(void **state)
{
    (void)state;
    struct quant_csv_file f;
    struct quant_err err;
    const char *text = "Day,Price,Qty\n2024-01-02,1,2\n";
    assert_int_equal(quant_csv_parse(text, strlen(text), "X", &f, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 1: unrecognised CSV header 'Day,Price,Qty'"));
    assert_non_null(strstr(err.msg, "Date,Open,High,Low,Close,Adj Close,Volume (Yahoo)"));
    /* Missing one column is named. */
    text = "Date,Open,High,Low,Volume\n";
    assert_int_equal(quant_csv_parse(text, strlen(text), "X", &f, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "no close column"));
    /* No symbol column and no symbol. */
    text = "Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,1\n";
    assert_int_equal(quant_csv_parse(text, strlen(text), NULL, &f, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "no symbol"));
    /* Empty input. */
    assert_int_equal(quant_csv_parse("", 0, "X", &f, &err), QUANT_EPARSE);
}

static void test_bad_rows(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("Date,Open,High,Low,Close,Adj Close,Volume\n"
               "2024-01-02,1,2,0.5,1.5,1.4,100\n"
               "2024-01-03,1,2,0.5,abc,1.4,100\n"     /* line 3 */
               "2024-13-01,1,2,0.5,1.5,1.4,100\n"     /* line 4 */
               "\n"                                   /* blank: not a row */
               "2024-01-05,null,null,null,null,null,null\n"
               "2024-01-08,1,2,0.5,1.5,1.4\n"         /* line 7: short */
               "2024-01-09,1,2,0.5,1.5,null,100\n"    /* adj missing: ok */
               "2024-01-10,1,2,0.5,,1.4,100\n"        /* line 9: close missing */
               "2024-01-11,inf,2,0.5,1.5,1.4,100\n"   /* line 10 */
               "2024-01-12,1,2,0.5,1.5,1.4,1e3", "X", &f);
    assert_int_equal(f.rows_read, 9); /* the null row counts, the blank line does not */
    assert_int_equal(f.series[0].n, 3);
    assert_true(isnan(f.series[0].v[1].adj_close));
    assert_true(f.series[0].v[2].volume == 1000.0);
    assert_int_equal(f.n_bad, 5);
    assert_int_equal(f.n_bad_total, 5);
    long lines[] = {3, 4, 7, 9, 10};
    const char *words[] = {"'Close' is not a number: 'abc'", "2024-13-01", "has 6 fields, the header has 7",
                           "close value is empty", "'Open' is not a number: 'inf'"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f.bad[i].line, lines[i]);
        if (!strstr(f.bad[i].reason, words[i]))
            fail_msg("line %ld: reason '%s' lacks '%s'", lines[i], f.bad[i].reason, words[i]);
        assert_string_equal(f.bad[i].symbol, "X");
    }
    quant_csv_file_release(&f);
}

static void test_bom_dupes_and_quotes(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("\xEF\xBB\xBF \"Date\" , Open,High,Low,Close,Volume\n"
               "2024-01-03,\"1.5\",2,1,1.5,10\n"
               "2024-01-02 00:00:00,1,2,1,1.25,10\n"
               "2024-01-03,9,9,9,9,99\n", "x", &f);
    assert_int_equal(f.n_bad, 0);
    assert_int_equal(f.series[0].n, 2);
    assert_true(f.series[0].v[0].close == 1.25);
    assert_true(f.series[0].v[1].close == 9); /* equal dates: the later row is kept... */
    assert_int_equal(f.n_conflicts, 1);       /* ...and the disagreement reported */
    assert_string_equal(f.conflicts[0].symbol, "X");
    assert_int_equal(f.conflicts[0].n_dates, 1);
    int32_t d;
    assert_int_equal(quant_date_parse("2024-01-03", 10, &d), 0);
    assert_int_equal(f.conflicts[0].date, d);
    assert_true(f.conflicts[0].close_a == 1.5 && f.conflicts[0].close_b == 9);
    quant_csv_file_release(&f);
}

/* A quoted name may hold commas and "" (RFC 4180), in the header and in the
 * rows alike: the columns after it stay where the header says they are. */
static void test_quoted_commas(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("Date,\"Name, as listed\",Open,High,Low,Close,Volume\n"
               "2024-01-02,\"Apple, Inc.\",1,2,0.5,1.5,100\n"
               "2024-01-03,\"Say \"\"A, B\"\"\",1,2,0.5,1.75,200\n"
               "2024-01-04,\"never closed,1,2,0.5,2,300\n", "x", &f);
    assert_int_equal(f.series[0].n, 2);
    assert_true(f.series[0].v[0].close == 1.5 && f.series[0].v[0].volume == 100);
    assert_true(f.series[0].v[1].close == 1.75 && f.series[0].v[1].volume == 200);
    assert_int_equal(f.n_bad, 1); /* the open quote swallows its row's columns */
    assert_int_equal(f.bad[0].line, 4);
    quant_csv_file_release(&f);
}

/* A stray quote costs its own row only: the rows after it are read as usual
 * (it used to run on to the end of the file, one "bad row" hiding the rest). */
static void test_stray_quote_keeps_later_rows(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("Date,Open,High,Low,Close,Volume\n"
               "2024-01-02,1,2,0.5,1.5,100\n"
               "2024-01-03,\"1,2,0.5,1.75,200\n"
               "2024-01-04,1,2,0.5,2,300\r\n"
               "2024-01-05,1,2,0.5,2.5,400\n", "x", &f);
    assert_int_equal(f.n_bad, 1);
    assert_int_equal(f.bad[0].line, 3);
    assert_int_equal(f.series[0].n, 3);
    assert_true(f.series[0].v[1].close == 2 && f.series[0].v[1].volume == 300);
    assert_true(f.series[0].v[2].close == 2.5 && f.series[0].v[2].volume == 400);
    quant_csv_file_release(&f);
}

/* Rows of one date that agree (a repeated line, or another rounding) are one
 * bar; rows that disagree are counted per date, per symbol. */
static void test_duplicate_dates(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("symbol,date,open,high,low,close,volume\n"
               "A,2024-01-02,1,2,1,1.5,10\n"
               "A,2024-01-02,1,2,1,1.5,10\n"
               "A,2024-01-03,1,2,1,1.500001,10\n"
               "A,2024-01-03,1,2,1,1.5,10\n"
               "B,2024-01-02,1,2,1,1.5,10\n"
               "B,2024-01-02,1,2,1,1.5,11\n"
               "B,2024-01-02,1,2,1,1.6,10\n"
               "B,2024-01-04,1,2,1,1.5,10\n"
               "B,2024-01-05,1,2,1,1.5,10\n"
               "B,2024-01-05,1,3,1,1.5,10\n", NULL, &f);
    assert_int_equal(f.n_series, 2);
    assert_int_equal(f.series[0].n, 2);
    assert_int_equal(f.series[1].n, 3);
    assert_int_equal(f.n_conflicts, 1);
    assert_string_equal(f.conflicts[0].symbol, "B");
    assert_int_equal(f.conflicts[0].n_dates, 2);
    quant_csv_file_release(&f);
}

/* A file with nothing to ingest fails open, naming the file, the count and the
 * first reason; in a long file, a symbol whose rows are all bad is listed, so
 * that the run reports it instead of losing it. */
static void test_provider_refuses_empty_files(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    tu_mkdtemp(dir);
    write_fixture(dir, "US.csv", "Date,Open,High,Low,Close,Volume\n"
                                 "01/02/2024,1,2,1,1.5,10\n"
                                 "01/03/2024,1,2,1,1.5,10\n");
    write_fixture(dir, "NONE.csv", "Date,Open,High,Low,Close,Volume\n");
    write_fixture(dir, "long.csv", "symbol,date,open,high,low,close,volume\n"
                                   "A,2024-01-02,1,2,1,1.5,10\n"
                                   "B,01/02/2024,1,2,1,1.5,10\n");
    struct quant_provider p;
    struct quant_err err;
    snprintf(path, sizeof path, "%s/US.csv", dir);
    assert_int_equal(quant_csv_open(path, NULL, 0, &p, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "US.csv: none of its 2 rows could be read (first: line 2: "
                                    "date '01/02/2024' is not a YYYY-MM-DD date)"));
    snprintf(path, sizeof path, "%s/NONE.csv", dir);
    assert_int_equal(quant_csv_open(path, NULL, 0, &p, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "NONE.csv has a header but no data rows"));
    snprintf(path, sizeof path, "%s/long.csv", dir);
    assert_int_equal(quant_csv_open(path, NULL, 0, &p, &err), QUANT_OK);
    char **syms;
    size_t n;
    assert_int_equal(p.ops->list_symbols(p.state, &syms, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);
    free_strings(syms, n);
    struct quant_bars b;
    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "B", QUANT_FETCH_FULL, &b, NULL, &err),
                     QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "all 1 rows were bad"));
    quant_bars_release(&b);
    close_provider(&p);
    tu_rmrf(dir);
}

/* A time of day after daily rows is one bad row, not a rejected file. */
static void test_intraday_row_after_daily(void **state)
{
    (void)state;
    struct quant_csv_file f;
    parse_text("timestamp,open,high,low,close,volume\n"
               "2024-01-03,1,2,0.5,1.5,10\n"
               "2024-01-02 15:30:00,1,2,0.5,1.5,10\n"
               "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n", "X", &f);
    assert_int_equal(f.format, QUANT_CSV_ALPHAVANTAGE);
    assert_int_equal(f.series[0].n, 2);
    assert_int_equal(f.n_bad, 1);
    assert_int_equal(f.bad[0].line, 3);
    assert_non_null(strstr(f.bad[0].reason, "time of day"));
    quant_csv_file_release(&f);
}

static void test_long_line_rejected(void **state)
{
    (void)state;
    size_t n = QUANT_CSV_MAX_LINE + 100;
    char *text = malloc(n + 64);
    assert_non_null(text);
    int h = snprintf(text, 64, "Date,Open,High,Low,Close,Volume\n2024-01-02,");
    memset(text + h, '1', n);
    text[h + n] = '\0';
    struct quant_csv_file f;
    struct quant_err err;
    assert_int_equal(quant_csv_parse(text, strlen(text), "X", &f, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "line 2 is longer than"));
    free(text);
}

static void test_symbol_from_filename(void **state)
{
    (void)state;
    char s[QUANT_SYMBOL_MAX + 1];
    quant_csv_symbol_from_filename("/data/AAPL_yahoo_daily.csv", s);
    assert_string_equal(s, "AAPL");
    quant_csv_symbol_from_filename("spy.us.txt", s);
    assert_string_equal(s, "SPY.US");
    quant_csv_symbol_from_filename("dir/brk-b.CSV", s);
    assert_string_equal(s, "BRK-B");
    quant_csv_symbol_from_filename("_x.csv", s);
    assert_string_equal(s, "");
    /* a name that only starts like a symbol implies none: not "A" */
    quant_csv_symbol_from_filename("A;B.csv", s);
    assert_string_equal(s, "");
    quant_csv_symbol_from_filename("A'B_daily.csv", s);
    assert_string_equal(s, "");
    quant_csv_symbol_from_filename("AAPL (1).csv", s);
    assert_string_equal(s, "AAPL");
}

/* ---- the provider over a directory ---------------------------------------- */

static void test_provider_directory(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    tu_mkdtemp(dir);
    write_fixture(dir, "aapl.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n"
                                   "2024-01-02,1,2,0.5,1.5,1.4,100\n"
                                   "2024-01-03,1,2,0.5,1.6,1.5,100\n"
                                   "2024-01-04,1,2,0.5,abc,1.5,100\n");
    /* b_long.csv repeats AAPL's 2024-01-03 with the same prices (a refused
     * disagreement is tested in test_split_history_merges): the files merge. */
    write_fixture(dir, "b_long.csv", "symbol,date,open,high,low,close,volume\n"
                                     "AAPL,2024-01-03,1,2,0.5,1.6,100\n"
                                     "AAPL,2024-01-05,1,2,0.5,1.7,100\n"
                                     "MSFT,2024-01-05,3,4,2,3.5,300\n");
    write_fixture(dir, "notes.md", "not a csv");
    struct quant_provider p;
    struct quant_err err;
    if (quant_csv_open(dir, NULL, 0, &p, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(p.ops->name, "csv");
    assert_int_equal(p.ops->caps & QUANT_PROVIDER_METERED, 0); /* files: no request budget */
    char **syms;
    size_t n;
    assert_int_equal(p.ops->list_symbols(p.state, &syms, &n, &err), QUANT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(syms[0], "AAPL");
    assert_string_equal(syms[1], "MSFT");
    free_strings(syms, n);

    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_fetch_info info = {0};
    assert_int_equal(p.ops->fetch_daily(p.state, "aapl", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    assert_string_equal(b.symbol, "AAPL");
    assert_int_equal(b.n, 3);
    assert_true(b.v[1].close == 1.6 && b.v[2].close == 1.7);
    print_message("warning: %s\n", info.warning);
    assert_non_null(strstr(info.warning, "skipped 1 bad row (first: aapl.csv line 4:"));
    quant_bars_release(&b);

    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "NVDA", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no CSV data for NVDA in "));
    quant_bars_release(&b);
    close_provider(&p);

    /* A bad file named after its symbol refuses that symbol with the file's
     * error, naming file and line; the other symbols are still served. */
    write_fixture(dir, "c.csv", "what,is,this\n1,2,3\n");
    if (quant_csv_open(dir, NULL, 0, &p, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(p.ops->list_symbols(p.state, &syms, &n, &err), QUANT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(syms[1], "C");
    free_strings(syms, n);
    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "C", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "/c.csv line 1: unrecognised CSV header 'what,is,this'"));
    assert_int_equal(b.n, 0);
    assert_int_equal(p.ops->fetch_daily(p.state, "MSFT", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    assert_int_equal(b.n, 1);
    quant_bars_release(&b);
    close_provider(&p);

    /* One named after no symbol cannot be pinned on one: open fails, naming it. */
    write_fixture(dir, "#scratch.csv", "what,is,this\n1,2,3\n");
    assert_int_equal(quant_csv_open(dir, NULL, 0, &p, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "/#scratch.csv line 1: unrecognised CSV header"));
    tu_rmrf(dir);
}

static void test_provider_single_file(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    tu_mkdtemp(dir);
    write_fixture(dir, "prices.csv", "Date,Open,High,Low,Close,Volume\n"
                                     "2024-01-02,1,2,0.5,1.5,100");
    snprintf(path, sizeof path, "%s/prices.csv", dir);
    const char *syms[] = {"qqq"};
    struct quant_provider p;
    struct quant_err err;
    assert_int_equal(quant_csv_open(path, syms, 1, &p, &err), QUANT_OK);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_fetch_info info = {0};
    assert_int_equal(p.ops->fetch_daily(p.state, "QQQ", QUANT_FETCH_COMPACT, &b, &info, &err),
                     QUANT_OK);
    assert_int_equal(b.n, 1);
    assert_string_equal(info.warning, "");
    quant_bars_release(&b);
    close_provider(&p);
    /* Without a symbol the file name decides. */
    assert_int_equal(quant_csv_open(path, NULL, 0, &p, &err), QUANT_OK);
    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "PRICES", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    quant_bars_release(&b);
    close_provider(&p);
    /* Several symbols: fine for a long file, refused for a one-symbol file. */
    const char *two[] = {"AAA", "BBB"};
    assert_int_equal(quant_csv_open(path, two, 2, &p, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "has no symbol or ticker column"));
    write_fixture(dir, "long.csv", "ticker,date,open,high,low,close,volume\n"
                                   "AAA,2024-01-02,1,2,0.5,1.5,100\n"
                                   "BBB,2024-01-02,1,2,0.5,1.5,100\n");
    snprintf(path, sizeof path, "%s/long.csv", dir);
    assert_int_equal(quant_csv_open(path, two, 2, &p, &err), QUANT_OK);
    quant_bars_init(&b);
    assert_int_equal(p.ops->fetch_daily(p.state, "BBB", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    assert_int_equal(b.n, 1);
    quant_bars_release(&b);
    close_provider(&p);
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    assert_int_equal(quant_csv_open(path, NULL, 0, &p, &err), QUANT_EIO);
    tu_rmrf(dir);
}

static void test_provider_shared_dir(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char dir[PATH_MAX];
    tu_shared_path(dir, "ohlcv");
    struct quant_provider p;
    struct quant_err err;
    if (quant_csv_open(dir, NULL, 0, &p, &err))
        fail_msg("%s", err.msg);
    char **syms;
    size_t n;
    assert_int_equal(p.ops->list_symbols(p.state, &syms, &n, &err), QUANT_OK);
    /* AAPL IBM MSFT NVDA QQQ SPY (three SPY files merged) */
    assert_int_equal(n, 6);
    assert_string_equal(syms[5], "SPY");
    free_strings(syms, n);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_fetch_info info = {0};
    /* The three SPY files are three different series (unadjusted Alpha Vantage,
     * Yahoo, auto-adjusted yfinance): merging them would store a chimera, so the
     * symbol is refused with both file names and the first disagreeing date. */
    assert_int_equal(p.ops->fetch_daily(p.state, "SPY", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_EVALIDATION);
    assert_non_null(strstr(err.msg, "SPY_alphavantage_daily_full_via_pandas_1999-2020.csv"));
    assert_non_null(strstr(err.msg, "disagree on"));
    assert_non_null(strstr(err.msg, "--csv FILE --symbols SPY"));
    assert_int_equal(b.n, 0);
    /* the other symbols are unaffected */
    assert_int_equal(p.ops->fetch_daily(p.state, "QQQ", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    assert_int_equal(b.n, 5478);
    check_series_shape(&b);
    quant_bars_release(&b);
    close_provider(&p);
}

/* A history split across files (by year, say) merges; agreeing overlaps are fine. */
static void test_split_history_merges(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    tu_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/ACME_2019.csv", dir);
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2019-12-30,10,11,9,10.5,10.5,100\n"
                        "2019-12-31,10.5,11,10,10.75,10.75,100\n");
    snprintf(path, sizeof path, "%s/ACME_2020.csv", dir);
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2019-12-31,10.5,11,10,10.750001,10.75,100\n"
                        "2020-01-02,11,12,10,11.5,11.5,100\n");
    struct quant_provider p;
    struct quant_err err;
    if (quant_csv_open(dir, NULL, 0, &p, &err))
        fail_msg("%s", err.msg);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_fetch_info info = {0};
    assert_int_equal(p.ops->fetch_daily(p.state, "ACME", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_OK);
    assert_int_equal(b.n, 3);
    quant_bars_release(&b);
    close_provider(&p);
    /* ... but a real disagreement is refused */
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2019-12-31,21,22,20,21.5,21.5,100\n");
    if (quant_csv_open(dir, NULL, 0, &p, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(p.ops->fetch_daily(p.state, "ACME", QUANT_FETCH_FULL, &b, &info, &err),
                     QUANT_EVALIDATION);
    assert_non_null(strstr(err.msg, "2019-12-31"));
    quant_bars_release(&b);
    close_provider(&p);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_shared_details),
        cmocka_unit_test(test_shared_intraday_rejected),
        cmocka_unit_test(test_stooq_crlf),
        cmocka_unit_test(test_stooq_bulk),
        cmocka_unit_test(test_long_file),
        cmocka_unit_test(test_unknown_header),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_bom_dupes_and_quotes),
        cmocka_unit_test(test_quoted_commas),
        cmocka_unit_test(test_stray_quote_keeps_later_rows),
        cmocka_unit_test(test_intraday_row_after_daily),
        cmocka_unit_test(test_long_line_rejected),
        cmocka_unit_test(test_symbol_from_filename),
        cmocka_unit_test(test_provider_directory),
        cmocka_unit_test(test_provider_single_file),
        cmocka_unit_test(test_provider_shared_dir),
        cmocka_unit_test(test_split_history_merges),
        cmocka_unit_test(test_duplicate_dates),
        cmocka_unit_test(test_provider_refuses_empty_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
