/* test_error.c: the message buffer: formatting, prefixes, truncation, and
 * control bytes from outside text never reaching a terminal. */
#include "test_util.h"

#include <stdio.h>
#include <string.h>

#include "quant/bars.h"
#include "quant/error.h"

static void test_set_and_prefix(void **state)
{
    (void)state;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(err.code, QUANT_OK);
    assert_string_equal(err.msg, "");
    assert_int_equal(quant_err_set(&err, QUANT_EPARSE, "line %d: bad '%s'", 7, "x"), QUANT_EPARSE);
    assert_string_equal(err.msg, "line 7: bad 'x'");
    assert_int_equal(quant_err_prefix(&err, "%s: ", "a.csv"), QUANT_EPARSE);
    assert_string_equal(err.msg, "a.csv: line 7: bad 'x'");
    assert_int_equal(quant_err_set(NULL, QUANT_EIO, "dropped"), QUANT_EIO);
}

static void test_truncates_to_fit(void **state)
{
    (void)state;
    static char long_text[3 * QUANT_ERR_MSG_MAX];
    memset(long_text, 'a', sizeof long_text - 1);
    struct quant_err err;
    quant_err_set(&err, QUANT_EINVAL, "%s", long_text);
    assert_int_equal(strlen(err.msg), QUANT_ERR_MSG_MAX - 1);
    quant_err_prefix(&err, "prefix: ");
    assert_int_equal(strlen(err.msg), QUANT_ERR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "prefix: aaa", 11);
}

static void test_control_bytes_are_neutralised(void **state)
{
    (void)state;
    struct quant_err err;
    /* clear screen, a forged second log line, a bell, DEL; UTF-8 is kept */
    quant_err_set(&err, QUANT_EINVAL, "symbol '%s' and file '%s'", "\x1b[2J\x07X\x7f",
                  "a\nquant: all good\r\tÄ.csv");
    assert_string_equal(err.msg, "symbol '?[2J?X?' and file 'a?quant: all good??Ä.csv'");
    quant_err_set(&err, QUANT_EINVAL, "plain");
    quant_err_prefix(&err, "%s: ", "\x1b]0;title\x07");
    assert_string_equal(err.msg, "?]0;title?: plain");

    /* through a real producer: a symbol typed with an escape sequence */
    char sym[] = "a\x1b[31mb";
    assert_int_equal(quant_symbol_normalize(sym, &err), QUANT_EINVAL);
    assert_null(strchr(err.msg, '\x1b'));
    assert_non_null(strstr(err.msg, "byte 0x1B"));
}

/* A registered key never survives into a message, however it got there:
 * whole, straddling the buffer's end, or cut short by a quote's limit. */
static void test_secrets_are_masked(void **state)
{
    (void)state;
    const char *key = "K3YS3CR3TABCDEF9";
    quant_secret_clear();
    quant_secret_add(key);
    quant_secret_add("ab"); /* too short to register: would mask ordinary words */
    struct quant_err err;
    quant_err_set(&err, QUANT_EPARSE, "header 'PATH=/bin tab ALPHAVANTAGE_API_KEY=%s HOME=/x'", key);
    assert_null(strstr(err.msg, "K3YS3CR3"));
    assert_non_null(strstr(err.msg, "ALPHAVANTAGE_API_KEY=*** HOME"));
    assert_non_null(strstr(err.msg, "PATH=/bin tab")); /* "ab" was not registered */

    /* A 30-character quote that ends inside the key. */
    quant_err_set(&err, QUANT_EPARSE, "field '%.30s'", "ALPHAVANTAGE_API_KEY=K3YS3CR3TABCDEF9 more");
    assert_null(strstr(err.msg, "K3YS3CR3T"));
    assert_string_equal(err.msg, "field 'ALPHAVANTAGE_API_KEY=***'");

    /* The key at the very end of a message longer than the buffer. */
    static char pad[QUANT_ERR_MSG_MAX];
    memset(pad, 'x', sizeof pad - 12);
    pad[sizeof pad - 12] = '\0';
    quant_err_set(&err, QUANT_EIO, "%s%s", pad, key);
    assert_null(strstr(err.msg, "K3YS3"));
    quant_err_set(&err, QUANT_EIO, "file %s", key);
    quant_err_prefix(&err, "ingest %s: ", key);
    assert_string_equal(err.msg, "ingest ***: file ***");

    /* Text built outside a quant_err is masked with the same function. */
    char warning[64];
    snprintf(warning, sizeof warning, "skipped (first: %s)", key);
    quant_mask_secrets(warning);
    assert_string_equal(warning, "skipped (first: ***)");
    quant_secret_clear();
    quant_err_set(&err, QUANT_EIO, "%s", key);
    assert_string_equal(err.msg, key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_prefix),
        cmocka_unit_test(test_truncates_to_fit),
        cmocka_unit_test(test_control_bytes_are_neutralised),
        cmocka_unit_test(test_secrets_are_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
