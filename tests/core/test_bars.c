/* test_bars.c: calendar arithmetic, date parsing, symbol rules, sorting. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "quant/bars.h"

static void test_date_roundtrip(void **state)
{
    (void)state;
    /* Every day from 1900 to 2100 survives format -> parse. */
    int32_t lo = quant_days_from_civil(1900, 1, 1), hi = quant_days_from_civil(2100, 12, 31);
    for (int32_t d = lo; d <= hi; d++) {
        char s[11];
        quant_date_format(d, s);
        int32_t back = -1;
        assert_int_equal(quant_date_parse(s, 10, &back), 0);
        assert_int_equal(back, d);
    }
    assert_int_equal(quant_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(quant_days_from_civil(2000, 3, 1), 11017);
}

static void test_date_parse_rejects(void **state)
{
    (void)state;
    int32_t d;
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
                         "24-01-01", "2024/01/02", "2024-1-02", "abcd-ef-gh", "2024-01-02x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(quant_date_parse(bad[i], strlen(bad[i]), &d), -1);
    assert_int_equal(quant_date_parse("2024-02-29", 10, &d), 0);
    assert_int_equal(quant_date_parse("2020-07-10 18:20:00", 19, &d), 0);
    char s[11];
    quant_date_format(d, s);
    assert_string_equal(s, "2020-07-10");
    assert_int_equal(quant_weekday(d), 4); /* a Friday */
}

static void test_symbol_rules(void **state)
{
    (void)state;
    struct quant_err err;
    char ok[] = "brk.b";
    assert_int_equal(quant_symbol_normalize(ok, &err), QUANT_OK);
    assert_string_equal(ok, "BRK.B");
    char idx[] = "^gspc";
    assert_int_equal(quant_symbol_normalize(idx, &err), QUANT_OK);
    const char *bad[] = {"", "A;DROP", "AA'B", "A/B", "AAPL ", "\xc3\xa9T"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char s[64];
        snprintf(s, sizeof s, "%s", bad[i]);
        quant_err_clear(&err);
        assert_int_equal(quant_symbol_normalize(s, &err), QUANT_EINVAL);
        assert_true(strlen(err.msg) > 0);
    }
    char longsym[40];
    memset(longsym, 'A', 33);
    longsym[33] = '\0';
    assert_int_equal(quant_symbol_normalize(longsym, &err), QUANT_EINVAL);
}

static void test_sort(void **state)
{
    (void)state;
    struct quant_bars b;
    quant_bars_init(&b);
    int32_t dates[] = {5, 3, 9, 1, 3, 7};
    for (size_t i = 0; i < 6; i++) {
        struct quant_bar bar = {.date = dates[i], .close = (double)i};
        assert_int_equal(quant_bars_push(&b, &bar), QUANT_OK);
    }
    quant_bars_sort(&b);
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.v[i - 1].date <= b.v[i].date);
    /* stable: the two date-3 bars keep source order (close 1 then 4) */
    assert_true(b.v[1].close == 1.0 && b.v[2].close == 4.0);
    quant_bars_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_roundtrip),
        cmocka_unit_test(test_date_parse_rejects),
        cmocka_unit_test(test_symbol_rules),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
