/*
 * test_workspace.c: services/workspace.c, the only opener of the stores.
 * What each mode may open and create, what a busy or missing store reports,
 * and that the registry services built on it (symbols.c, models.c) answer
 * from the metadata store alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lock_holder.h"
#include "test_util.h"
#include "quant/models.h"
#include "quant/symbols.h"
#include "quant/workspace.h"

static struct quant_config cfg;

static int setup(void **state)
{
    tu_scratch_setup(state);
    quant_config_init(&cfg);
    struct quant_err err;
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_HOME, tu_scratch_dir), QUANT_OK);
    /* long enough that a read which waited would show in the timings */
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_LOCK_TIMEOUT_MS, "20000"), QUANT_OK);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    return 0;
}

static int teardown(void **state)
{
    quant_config_release(&cfg);
    return tu_scratch_teardown(state);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_read_mode_creates_nothing_and_says_what_to_run(void **state)
{
    (void)state;
    char home[PATH_MAX + 16];
    snprintf(home, sizeof home, "%s/fresh", tu_scratch_dir); /* not even QUANT_HOME exists */
    struct quant_config fresh;
    quant_config_init(&fresh);
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_config_set_flag(&fresh, QUANT_SET_HOME, home), QUANT_OK);
    assert_int_equal(quant_config_resolve(&fresh, &err), QUANT_OK);
    assert_int_equal(quant_workspace_open(&fresh, QUANT_WS_READ, &ws, &err), QUANT_OK);
    assert_null(quant_workspace_series(ws, &err));
    assert_int_equal(err.code, QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant init-db"));
    quant_err_clear(&err);
    assert_null(quant_workspace_meta(ws, &err));
    assert_int_equal(err.code, QUANT_ENOTFOUND);
    assert_int_equal(quant_workspace_meta_found_version(ws), -1);
    /* the registry services read "nothing yet" as empty, not as an error */
    struct quant_symbol_record *recs = NULL;
    size_t n = 1;
    assert_int_equal(quant_symbols_list(ws, 0, &recs, &n, NULL, &err), QUANT_OK);
    assert_int_equal(n, 0);
    free(recs);
    struct quant_model_entry *models = NULL;
    assert_int_equal(quant_models_list(ws, NULL, &models, &n, &err), QUANT_OK);
    assert_int_equal(n, 0);
    quant_models_free(models, n);
    quant_workspace_close(ws);
    quant_config_release(&fresh);
    assert_false(exists(home));
}

static void test_write_mode_creates_then_finds_both_stores(void **state)
{
    (void)state;
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_workspace_open(&cfg, QUANT_WS_WRITE, &ws, &err), QUANT_OK);
    assert_int_equal(quant_workspace_mode(ws), QUANT_WS_WRITE);
    assert_non_null(quant_workspace_series(ws, &err));
    assert_non_null(quant_workspace_meta(ws, &err));
    assert_int_equal(quant_workspace_meta_found_version(ws), 0); /* created now */
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "wsa");
    int created = 0;
    assert_int_equal(quant_symbols_add(ws, &info, &created, &err), QUANT_OK);
    assert_int_equal(created, 1);
    quant_workspace_close(ws);
    assert_true(exists(tu_scratch_duckdb));
    assert_true(exists(tu_scratch_sqlite));

    assert_int_equal(quant_workspace_open(&cfg, QUANT_WS_READ, &ws, &err), QUANT_OK);
    struct quant_symbol_record *recs = NULL;
    size_t n = 0;
    assert_int_equal(quant_symbols_list(ws, 1, &recs, &n, NULL, &err), QUANT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].info.symbol, "WSA"); /* normalised when added */
    free(recs);
    assert_non_null(quant_workspace_series(ws, &err));
    quant_workspace_close(ws);
}

static void test_registry_works_while_another_process_writes_the_series(void **state)
{
    (void)state;
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_workspace_open(&cfg, QUANT_WS_WRITE, &ws, &err), QUANT_OK);
    quant_workspace_close(ws);

    pid_t holder = tu_spawn_lock_holder(tu_scratch_duckdb, 30000);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)holder);
    double t0 = tu_now_ms();
    assert_int_equal(quant_workspace_open(&cfg, QUANT_WS_META, &ws, &err), QUANT_OK);
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "WSB");
    assert_int_equal(quant_symbols_add(ws, &info, NULL, &err), QUANT_OK);
    char removed[QUANT_SYMBOL_MAX + 1];
    assert_int_equal(quant_symbols_remove(ws, "wsb", removed, &err), QUANT_OK);
    assert_string_equal(removed, "WSB");
    assert_int_equal(quant_symbols_remove(ws, "wsb", removed, &err), QUANT_ENOTFOUND);
    /* the series store is busy: said at once, with who holds it */
    quant_err_clear(&err);
    assert_null(quant_workspace_series(ws, &err));
    assert_int_equal(err.code, QUANT_ELOCKED);
    assert_non_null(strstr(err.msg, pid_text));
    /* and remembered: no second wait for the same answer */
    quant_err_clear(&err);
    assert_null(quant_workspace_series(ws, &err));
    assert_int_equal(err.code, QUANT_ELOCKED);
    quant_workspace_close(ws);
    double ms = tu_now_ms() - t0;
    if (ms > 5000) /* the lock timeout is 20 s */
        fail_msg("the registry work waited %.0f ms for DuckDB's writer", ms);
    kill(holder, SIGTERM);
    tu_wait(holder);
}

static void test_models_service_refuses_bad_symbols_and_says_what_to_run(void **state)
{
    (void)state;
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_workspace_open(&cfg, QUANT_WS_WRITE, &ws, &err), QUANT_OK);
    struct quant_model_entry *v = NULL, e;
    size_t n = 0;
    assert_int_equal(quant_models_list(ws, "a/b", &v, &n, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "a/b"));
    assert_int_equal(quant_models_get(ws, "latest", NULL, &e, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant train"));
    assert_int_equal(quant_models_get(ws, "latest", "msft", &e, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "--symbols"));
    assert_int_equal(quant_models_get(ws, "no_such_model", NULL, &e, &err), QUANT_ENOTFOUND);
    quant_workspace_close(ws);
}

int main(int argc, char **argv)
{
    int rc = tu_lock_holder_main(argc, argv);
    if (rc >= 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_mode_creates_nothing_and_says_what_to_run,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_mode_creates_then_finds_both_stores, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_registry_works_while_another_process_writes_the_series, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_models_service_refuses_bad_symbols_and_says_what_to_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
