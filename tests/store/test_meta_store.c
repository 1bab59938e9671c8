/*
 * test_meta_store.c: the metadata store on SQLite (a sqlite:/// URL of a
 * scratch file): every case of meta_store_cases.c, a garbage file left
 * untouched, and the PostgreSQL driver's placeholder rewriting (a pure
 * function, so it is checked wherever the suite runs).
 */
#include "meta_store_cases.c"

static int case_setup(void **state)
{
    int rc = tu_scratch_setup(state);
    snprintf(meta_url, sizeof meta_url, "sqlite:///%s", tu_scratch_sqlite);
    return rc;
}

static int case_teardown(void **state) { return tu_scratch_teardown(state); }

static void test_sql_to_pg(void **state)
{
    (void)state;
    int n = -1;
    char *pg = meta_sql_to_pg("SELECT ?1, '?2 it''s', \"a?\", ?, ?12, x?3", &n);
    assert_non_null(pg);
    /* quoted text and identifiers keep their '?'; a bare ? takes the next number */
    assert_string_equal(pg, "SELECT $1, '?2 it''s', \"a?\", $2, $12, x$3");
    assert_int_equal(n, 12);
    free(pg);
    pg = meta_sql_to_pg("SELECT 1", &n);
    assert_string_equal(pg, "SELECT 1");
    assert_int_equal(n, 0);
    free(pg);
    /* many bare placeholders: the output outgrows the input, never its buffer */
    char many[4001];
    memset(many, '?', 4000);
    many[4000] = '\0';
    pg = meta_sql_to_pg(many, &n);
    assert_int_equal(n, 4000);
    assert_non_null(strstr(pg, "$3999$4000"));
    free(pg);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        META_STORE_CASES
        cmocka_unit_test_setup_teardown(test_garbage_file, case_setup, case_teardown),
        cmocka_unit_test(test_sql_to_pg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
