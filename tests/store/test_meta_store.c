/*
 * test_meta_store.c: the metadata store on SQLite (a sqlite:/// URL of a
 * scratch file): every case of meta_store_cases.c, and a garbage file left
 * untouched.
 */
#include "meta_store_cases.c"

static int case_setup(void **state)
{
    int rc = tu_scratch_setup(state);
    snprintf(meta_url, sizeof meta_url, "sqlite:///%s", tu_scratch_sqlite);
    return rc;
}

static int case_teardown(void **state) { return tu_scratch_teardown(state); }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        META_STORE_CASES
        cmocka_unit_test_setup_teardown(test_garbage_file, case_setup, case_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
