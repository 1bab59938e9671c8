/*
 * test_train_options_e2e.c: the training options that decide how much work
 * a training does, through the real binary on a real price history:
 * --early-stopping (rejected values, the registry's record, the stop the
 * libraries actually made), the threads setting as the default of --threads,
 * and the OpenMP wait policy libgomp really runs with (read from libgomp's
 * own OMP_DISPLAY_ENV report, so nothing here depends on machine speed).
 */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

#define ENV ((const char *const[]){env_home, NULL})
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

static int setup(void **state)
{
    (void)state;
    if (!tu_shared_data())
        return 0; /* the tests skip themselves */
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    char path[PATH_MAX];
    tu_shared_path(path, "ohlcv/AAPL_yahoo_daily.csv");
    struct tu_result r;
    RUN(&r, "ingest", "--csv", path, "--symbols", "AAPL");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "features", "--symbols", "AAPL");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "labels", "--symbols", "AAPL");
    run_ok(&r);
    tu_result_release(&r);
    return 0;
}

/* A home of its own for the tests that need no data. */
static int setup_empty(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (home[0])
        tu_rmrf(home);
    home[0] = '\0';
    return 0;
}

/* The params object of the newest model, as `models list --json` gives it
 * (caller deletes *out_list). */
static cJSON *newest_params(cJSON **out_list)
{
    struct tu_result r;
    RUN(&r, "models", "list", "--json");
    run_ok(&r);
    *out_list = cJSON_Parse(r.out);
    tu_result_release(&r);
    assert_non_null(*out_list);
    cJSON *params = cJSON_GetObjectItem(cJSON_GetArrayItem(*out_list, 0), "params");
    assert_non_null(params);
    return params;
}

static int param_int(const cJSON *params, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(params, key);
    if (!cJSON_IsNumber(v))
        fail_msg("params has no number %s", key);
    return v->valueint;
}

static int n_models(void)
{
    cJSON *list;
    struct tu_result r;
    RUN(&r, "models", "list", "--json");
    run_ok(&r);
    list = cJSON_Parse(r.out);
    tu_result_release(&r);
    int n = cJSON_GetArraySize(list);
    cJSON_Delete(list);
    return n;
}

static void test_early_stopping_rejects_bad_values(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    const char *bad[] = {"-1", "abc", "100001", "", "5x", "2.5"};
    int before = n_models();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct tu_result r;
        RUN(&r, "train", "--symbols", "AAPL", "--early-stopping", bad[i]);
        assert_int_equal(r.status, 2);
        if (!strstr(r.err, "--early-stopping takes 0 (off) to 100000"))
            fail_msg("'%s': unclear message: %s", bad[i], r.err);
        tu_result_release(&r);
    }
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AAPL", "--early-stopping");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--early-stopping"));
    tu_result_release(&r);
    assert_int_equal(n_models(), before);   /* nothing trained or registered */
}

/*
 * With patience N, a training that stopped early ran exactly N rounds past
 * its best one, and one that did not stop ran every round; the model keeps
 * best_round trees.  Checked for both libraries.
 */
static void check_stop(const char *algo, const char *patience, int n)
{
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AAPL", "--algo", algo, "--rounds", "300",
        "--early-stopping", patience);
    run_ok(&r);
    tu_result_release(&r);
    cJSON *list;
    cJSON *p = newest_params(&list);
    assert_int_equal(param_int(p, "early_stopping_rounds"), n);
    int trained = param_int(p, "rounds_trained"), best = param_int(p, "best_round");
    assert_true(best >= 1 && best <= trained && trained <= 300);
    if (trained < 300)
        assert_int_equal(trained, best + n);
    else
        assert_true(best + n >= trained);
    cJSON_Delete(list);
}

static void test_early_stopping_is_honoured(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    check_stop("xgboost", "7", 7);
    check_stop("lightgbm", "7", 7);
    check_stop("xgboost", "3", 3);

    /* 0 = off: every round is trained and kept */
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AAPL", "--algo", "lightgbm", "--rounds", "15",
        "--early-stopping", "0");
    run_ok(&r);
    tu_result_release(&r);
    cJSON *list;
    cJSON *p = newest_params(&list);
    assert_int_equal(param_int(p, "early_stopping_rounds"), 0);
    assert_int_equal(param_int(p, "rounds_trained"), 15);
    assert_int_equal(param_int(p, "best_round"), 15);
    cJSON_Delete(list);

    /* without the option: the documented default, shown by models show */
    RUN(&r, "train", "--symbols", "AAPL", "--rounds", "20");
    run_ok(&r);
    tu_result_release(&r);
    p = newest_params(&list);
    assert_int_equal(param_int(p, "early_stopping_rounds"), 50);
    cJSON_Delete(list);
    RUN(&r, "models", "show", "latest", "--symbol", "AAPL");
    run_ok(&r);
    assert_non_null(strstr(r.out, "\"early_stopping_rounds\":\t50"));
    tu_result_release(&r);
}

static void test_threads_setting_is_the_default(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct tu_result r;
    tu_run_quant((const char *const[]){"train", "--symbols", "AAPL", "--rounds", "5", NULL},
                 (const char *const[]){env_home, "QUANT_THREADS=1", NULL}, &r);
    run_ok(&r);
    tu_result_release(&r);
    cJSON *list;
    assert_int_equal(param_int(newest_params(&list), "threads"), 1);
    cJSON_Delete(list);
    /* --threads wins over the setting */
    tu_run_quant((const char *const[]){"train", "--symbols", "AAPL", "--rounds", "5",
                                       "--threads", "2", NULL},
                 (const char *const[]){env_home, "QUANT_THREADS=1", NULL}, &r);
    run_ok(&r);
    tu_result_release(&r);
    assert_int_equal(param_int(newest_params(&list), "threads"), 2);
    cJSON_Delete(list);
}

/* libgomp's own report (OMP_DISPLAY_ENV=verbose: printed to stderr when it
 * loads) for `quant ARGV` with one extra environment entry (may be NULL). */
static char *omp_report(const char *const *argv, const char *extra)
{
    const char *env[] = {env_home, "OMP_DISPLAY_ENV=verbose", extra, NULL};
    struct tu_result r;
    tu_run_quant(argv, env, &r);
    run_ok(&r);
    char *err = strdup(r.err);
    tu_result_release(&r);
    return err;
}

static void test_openmp_waits_passively(void **state)
{
    (void)state;
    const char *const train_help[] = {"train", "--help", NULL};
    char *rep;
    /* The default can only be seen when the test itself runs without a choice. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
        /* train, score and demo: libgomp loaded with no spinning at all */
        rep = omp_report(train_help, NULL);
        if (!strstr(rep, "GOMP_SPINCOUNT = '0'"))
            fail_msg("train did not get a passive libgomp: %s", rep);
        free(rep);
        rep = omp_report((const char *const[]){"--home", home, "score", "--help", NULL}, NULL);
        assert_non_null(strstr(rep, "GOMP_SPINCOUNT = '0'"));
        free(rep);
        /* a command that runs no OpenMP is left alone (and not re-executed) */
        rep = omp_report((const char *const[]){"--version", NULL}, NULL);
        assert_null(strstr(rep, "GOMP_SPINCOUNT = '0'"));
        free(rep);
    }
    /* the user's choice is kept, either variable */
    rep = omp_report(train_help, "OMP_WAIT_POLICY=active");
    assert_non_null(strstr(rep, "OMP_WAIT_POLICY = 'ACTIVE'"));
    assert_null(strstr(rep, "GOMP_SPINCOUNT = '0'"));
    free(rep);
    rep = omp_report(train_help, "GOMP_SPINCOUNT=1234");
    assert_non_null(strstr(rep, "GOMP_SPINCOUNT = '1234'"));
    free(rep);
    /* the report comes once: the re-exec happens before libgomp loads */
    rep = omp_report(train_help, NULL);
    assert_int_equal(tu_count(rep, "OPENMP DISPLAY ENVIRONMENT BEGIN"), 1);
    free(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_early_stopping_rejects_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_stopping_is_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_setting_is_the_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openmp_waits_passively, setup_empty, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
