/*
 * test_train_score_e2e.c: `quant train --score` stores, in the training pass,
 * exactly the predictions `quant score` stores right after it: the same rows,
 * scores and segments, under the new models' ids, per symbol and pooled, for
 * both libraries.  A symbol too short to train gets no model and no rows;
 * a run without --score stores none.
 */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

static void run(const char *const *argv, struct tu_result *r)
{
    tu_run_quant(argv, (const char *const[]){env_home, NULL}, r);
}

static void run_ok(const char *const *argv, char **out)
{
    struct tu_result r;
    run(argv, &r);
    if (r.status != 0)
        fail_msg("quant %s exited %d: %s", argv[0], r.status, r.err);
    if (out) {
        *out = r.out;
        r.out = NULL;
    }
    tu_result_release(&r);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    run_ok((const char *const[]){"ingest", "--provider", "synthetic", "--days", "1500",
                                 "--symbols", "AAA", "BBB", "CCC", NULL},
           NULL);
    /* 300 bars leave fewer than the 200 train rows a model needs */
    run_ok((const char *const[]){"ingest", "--provider", "synthetic", "--days", "300",
                                 "--symbols", "BSHORT", NULL},
           NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

/* Every stored prediction, one line each, in a fixed order. */
static char *predictions(void)
{
    char *out = NULL;
    run_ok((const char *const[]){"sql", "--csv",
                                 "SELECT symbol, date, model_id, score, segment FROM "
                                 "predictions ORDER BY symbol, model_id, date",
                                 NULL},
           &out);
    return out;
}

static long count_rows(const char *where)
{
    char sql[256], *out = NULL;
    snprintf(sql, sizeof sql, "SELECT count(*) AS n FROM predictions WHERE %s", where);
    run_ok((const char *const[]){"sql", "--csv", sql, NULL}, &out);
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    long n = strtol(nl + 1, NULL, 10);
    free(out);
    return n;
}

static void check(const char *algo, int pooled)
{
    const char *argv[16] = {"train", "--symbols", "AAA", "BBB", "BSHORT", "CCC", "--algo",
                            algo, "--rounds", "40", "--score"};
    size_t n = 11;
    if (pooled)
        argv[n++] = "--pooled";
    argv[n] = NULL;
    struct tu_result r;
    run(argv, &r);
    /* per symbol, BSHORT is skipped: 3 trained, exit 0 (a skip is no failure) */
    if (r.status != 0)
        fail_msg("train --score exited %d: %s", r.status, r.err);
    /* "...; 4,321 predictions stored, ..." counts every stored row */
    const char *p = strstr(r.out, " predictions stored");
    assert_non_null(p);
    while (p > r.out && p[-1] != ' ')
        p--;
    long said = 0;
    for (; *p != ' '; p++)
        if (*p != ',')
            said = said * 10 + (*p - '0');
    tu_result_release(&r);
    assert_int_equal(said, count_rows("true"));
    char *fused = predictions();
    /* Rescore with the newest models, as a user would without --score. */
    run_ok((const char *const[]){"score", "--symbols", "AAA", "BBB", "CCC", NULL}, NULL);
    char *after = predictions();
    assert_true(strlen(fused) > 1000);
    assert_string_equal(fused, after);
    free(fused);
    free(after);
    assert_int_equal(count_rows("symbol = 'BSHORT'"), 0);
    assert_true(count_rows("segment = 'test'") > 0);
    assert_true(count_rows("segment = 'unlabelled'") > 0);
}

static void test_per_symbol_xgboost(void **state)
{
    (void)state;
    check("xgboost", 0);
}

static void test_per_symbol_lightgbm(void **state)
{
    (void)state;
    check("lightgbm", 0);
}

static void test_pooled(void **state)
{
    (void)state;
    check("xgboost", 1);
}

static void test_without_score_nothing_is_stored(void **state)
{
    (void)state;
    run_ok((const char *const[]){"train", "--symbols", "AAA", "--algo", "xgboost", "--rounds",
                                 "10", NULL},
           NULL);
    assert_int_equal(count_rows("true"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_score_nothing_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_symbol_xgboost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_symbol_lightgbm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pooled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
