/*
 * test_csv_core.c: the CSV and number reader that the CSV provider and the
 * Alpha Vantage parsers share (lib/providers/csv_core.{h,c}): field ends and
 * quotes, trimming, records split from one line, line iteration, and numbers
 * (the strict csv_number and the public quant_csv_parse_number), checked bit
 * for bit against strtod, with the caps on fields and number length.
 */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/csv_core.h"
#include "providers/csv_provider_internal.h"

/* ---- numbers ------------------------------------------------------------- */

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static void expect_same_as_strtod(const char *s)
{
    double got = -12345.0;
    int rc = quant_csv_parse_number(s, strlen(s), &got);
    double want = strtod(s, NULL);
    if (rc != 0 || bits(got) != bits(want))
        fail_msg("'%s': rc %d, got %.17g, strtod %.17g", s, rc, got, want);
}

static void test_number_random(void **state)
{
    (void)state;
    uint64_t x = 0x243F6A8885A308D3ULL;
    char s[64];
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t whole = (x >> 20) % 1000000, frac = x % 1000000;
        snprintf(s, sizeof s, "%s%llu.%06llu", (x >> 63) ? "-" : "", (unsigned long long)whole,
                 (unsigned long long)frac);
        expect_same_as_strtod(s);
    }
    /* and 15-16 significant digits, the edge of the fast path */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int scale = (int)(x % 16);
        snprintf(s, sizeof s, "%.*f", scale, (double)(x >> 11 & ((1ULL << 50) - 1)) /
                 pow(10.0, scale));
        expect_same_as_strtod(s);
    }
}

static void test_number_edges(void **state)
{
    (void)state;
    const char *good[] = {
        "0", "-0", "0.0", "1", "1.", ".5", "-.5", "+3.25", "007.50", "123456789012345",
        "9007199254740992", "9007199254740993", "9007199254740993.5", "0.1", "0.3",
        "24.469904286423922", "0.0000000000000000000001", "0.00000000000000000000001",
        "1e3", "1.5E-7", "123456789012345678901234567890", "4006500.0", "1031788800",
        "0.1000000000000000055511151231257827", "2.2250738585072014e-308",
        "99999999999999999", "17976931348623157e292",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        expect_same_as_strtod(good[i]);
    const char *bad[] = {"abc", "inf", "-inf", "nan", "NaN", "0x10", "1.2.3", "1,5", "--1",
                         "1e", "1e999", "12a", ".", "-", "1 2"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (quant_csv_parse_number(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("'%s' should be refused", bad[i]);
    }
    const char *missing[] = {"", "  ", "null", "NULL", "\"\""};
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++)
        assert_int_equal(quant_csv_parse_number(missing[i], strlen(missing[i]), &v), 1);
    assert_int_equal(quant_csv_parse_number(" \"2.5\" ", 7, &v), 0);
    assert_true(v == 2.5);
}


/* csv_number reads exactly the text: the blanks, quotes and "null" that
 * quant_csv_parse_number handles are not numbers to it. */
static void test_number_strict(void **state)
{
    (void)state;
    const char *good[] = {"0", "-0", "+3.25", ".5", "-.5", "1.", "1e3", "1E-2", "2.5e+1",
                          "123456789012345678901234567890", "0.1", "1e-400"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        double got = -1, want = strtod(good[i], NULL);
        if (csv_number(good[i], strlen(good[i]), &got) != 0 || bits(got) != bits(want))
            fail_msg("'%s': got %.17g, strtod %.17g", good[i], got, want);
    }
    const char *bad[] = {"", " 1", "1 ", "\"1\"", "null", "1\r", "inf", "nan", "Infinity",
                         "0x1p3", "0x10", "1e309", "-1e309", "4.9e-324", "1e-310", "1e",
                         "+", ".", "e5", "1.5x", "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (csv_number(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("'%s' should be refused", bad[i]);
    }
    /* The length cap: CSV_NUMBER_MAX - 1 characters pass, one more does not
     * (leading zeros, so the fast path cannot take it either). */
    char s[CSV_NUMBER_MAX + 1];
    memset(s, '0', sizeof s);
    s[CSV_NUMBER_MAX - 2] = '5';
    double v = 0;
    assert_int_equal(csv_number(s, CSV_NUMBER_MAX - 1, &v), 0);
    assert_true(v == 5.0);
    s[CSV_NUMBER_MAX - 2] = '0';
    s[CSV_NUMBER_MAX - 1] = '5';
    assert_int_equal(csv_number(s, CSV_NUMBER_MAX, &v), -1);
    /* Only the given bytes count: a number followed by more text in the buffer. */
    assert_int_equal(csv_number("12,34", 2, &v), 0);
    assert_true(v == 12.0);
}

/* ---- fields ---------------------------------------------------------------- */

static size_t field_len(const char *s)
{
    return (size_t)(csv_field_end(s, s + strlen(s)) - s);
}

static void test_field_end(void **state)
{
    (void)state;
    assert_int_equal(field_len("abc,def"), 3);
    assert_int_equal(field_len(",x"), 0);
    assert_int_equal(field_len(""), 0);
    assert_int_equal(field_len("abc\r\nx"), 3);
    assert_int_equal(field_len("abc\nx"), 3);
    assert_int_equal(field_len("\"a,b\",c"), 5);          /* a comma inside quotes */
    assert_int_equal(field_len("\"a\"\",b\",c"), 7);      /* "" is a quote, not the end */
    assert_int_equal(field_len("\"a\" x,c"), 5);          /* text after the closing quote */
    /* A quote never spans a line: left open, it ends with its line. */
    assert_int_equal(field_len("\"a\nb\",c"), 2);
    assert_int_equal(field_len("\"a\r\nb\",c"), 3);       /* the CR is the caller's trim */
    assert_int_equal(field_len("\"never closed,x\ny"), 15);
    assert_int_equal(field_len("\"never closed,x"), 15);    /* or with the text */
    assert_int_equal(field_len("\"a\"\"\nb"), 4);          /* an escaped quote, then the end */
    const char *t = "1.5,2";
    assert_true(csv_at_field_end(t + 3, t + 5));
    assert_true(csv_at_field_end(t + 5, t + 5));
    assert_false(csv_at_field_end(t + 1, t + 5));
}

static void expect_trim(const char *in, const char *want)
{
    const char *s = in, *e = in + strlen(in);
    trim(&s, &e);
    if ((size_t)(e - s) != strlen(want) || memcmp(s, want, strlen(want)) != 0)
        fail_msg("trim('%s') = '%.*s', want '%s'", in, (int)(e - s), s, want);
}

static void test_trim(void **state)
{
    (void)state;
    expect_trim("  1.5\t", "1.5");
    expect_trim("1.5\r", "1.5");
    expect_trim(" \"AAPL\" ", "AAPL");
    expect_trim("\"\"", "");
    expect_trim("\"", "\"");              /* one quote is not a pair */
    expect_trim("\"\"x\"\"", "\"x\"");    /* one pair only */
    expect_trim("   ", "");
}

/* ---- records and lines ---------------------------------------------------- */

static void expect_field(const struct csv_record *r, int i, const char *want)
{
    assert_true(i < r->n);
    if (r->len[i] != strlen(want) || memcmp(r->f[i], want, r->len[i]) != 0)
        fail_msg("field %d = '%.*s', want '%s'", i, (int)r->len[i], r->f[i], want);
}

static void split(const char *line, struct csv_record *r)
{
    csv_record_split(line, strlen(line), r);
}

static void test_record_split(void **state)
{
    (void)state;
    struct csv_record r;
    split("timestamp,open,high\r", &r);
    assert_int_equal(r.n, 3);
    expect_field(&r, 0, "timestamp");
    expect_field(&r, 2, "high"); /* the CR of a CRLF line is dropped */

    split("AAPL,\"Apple, Inc.\",Equity", &r);
    assert_int_equal(r.n, 3);
    expect_field(&r, 1, "Apple, Inc.");
    expect_field(&r, 2, "Equity");

    split("\"say \"\"hi\"\", ok\",x", &r);   /* "" kept as written */
    assert_int_equal(r.n, 2);
    expect_field(&r, 0, "say \"\"hi\"\", ok");

    split("\"a\"junk,b", &r);                /* after the closing quote: dropped */
    expect_field(&r, 0, "a");
    expect_field(&r, 1, "b");

    split("\"open", &r);                      /* never closed: to the line's end */
    assert_int_equal(r.n, 1);
    expect_field(&r, 0, "open");

    split("", &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.len[0], 0);
    split("a,,", &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.len[1], 0);
    assert_int_equal(r.len[2], 0);
    split(" a , b", &r);                      /* blanks are the caller's to keep or trim */
    expect_field(&r, 0, " a ");

    /* The field cap: CSV_RECORD_MAX_FIELDS fit, one more marks the record. */
    char line[4 * CSV_RECORD_MAX_FIELDS + 8];
    size_t o = 0;
    for (int i = 0; i < CSV_RECORD_MAX_FIELDS; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, i ? ",f" : "f");
    split(line, &r);
    assert_int_equal(r.n, CSV_RECORD_MAX_FIELDS);
    snprintf(line + o, sizeof line - o, ",g");
    split(line, &r);
    assert_int_equal(r.n, -1);
}

static void test_record_columns(void **state)
{
    (void)state;
    struct csv_record r;
    split("symbol,Name,matchScore", &r);
    assert_int_equal(csv_record_column(&r, "name"), 1);
    assert_int_equal(csv_record_column(&r, "MATCHSCORE"), 2);
    assert_int_equal(csv_record_column(&r, "nam"), -1);
    assert_int_equal(csv_record_column(&r, "currency"), -1);
    assert_true(csv_record_field_is(&r, 0, "SYMBOL"));
    assert_false(csv_record_field_is(&r, 3, "symbol"));
    assert_false(csv_record_field_is(&r, -1, "symbol"));
}

static void test_next_line(void **state)
{
    (void)state;
    const char *text = "h1,h2\r\n\r\n1,2\n\nlast";
    const char *pos = text, *end = text + strlen(text), *line;
    size_t len;
    const char *want[] = {"h1,h2\r", "\r", "1,2", "", "last"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal(csv_next_line(&pos, end, &line, &len), 1);
        if (len != strlen(want[i]) || memcmp(line, want[i], len) != 0)
            fail_msg("line %zu = '%.*s'", i, (int)len, line);
    }
    assert_int_equal(csv_next_line(&pos, end, &line, &len), 0);
    /* a text ending in '\n' has no empty line after it */
    pos = "a\n";
    end = pos + 2;
    assert_int_equal(csv_next_line(&pos, end, &line, &len), 1);
    assert_int_equal(csv_next_line(&pos, end, &line, &len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_random),
        cmocka_unit_test(test_number_edges),
        cmocka_unit_test(test_number_strict),
        cmocka_unit_test(test_field_end),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_record_split),
        cmocka_unit_test(test_record_columns),
        cmocka_unit_test(test_next_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
