/*
 * test_on_read_e2e.c: features and labels computed on read are the values
 * `quant features --materialize` stores.  On real Yahoo histories (with
 * repaired bars and gaps), through the real binary: the views `quant sql`
 * sees (computed from the bars) against the materialised tables of the same
 * store (reached by their catalog-qualified names), value by value; a run
 * without --materialize stores no value; train and score need neither run.
 */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

#define ENV ((const char *const[]){env_home, NULL})
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

/* Three real histories: AE has thousands of zero-open bars before 1985. */
static void ingest(void)
{
    static const char *const files[] = {"universe/AE.csv", "universe/ADTN.csv",
                                        "universe/AGYS.csv"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[PATH_MAX];
        tu_shared_path(path, files[i]);
        struct tu_result r;
        RUN(&r, "ingest", "--csv", path);
        run_ok(&r);
        tu_result_release(&r);
    }
}

/* Rows of `a` with no identical row in `b` (NULL-safe), both ways. */
static long differences(const char *a, const char *b)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM (FROM %s EXCEPT ALL FROM %s)) +"
             " (SELECT count(*) FROM (FROM %s EXCEPT ALL FROM %s))", a, b, b, a);
    return tu_sql_long(ENV, sql);
}

static void test_on_read_equals_materialized(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    ingest();
    struct tu_result r;
    RUN(&r, "features", "--set", "all", "--materialize");
    run_ok(&r);
    assert_non_null(strstr(r.out, "Stored "));
    tu_result_release(&r);
    RUN(&r, "labels", "--horizon", "5", "--materialize");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "labels", "--horizon", "20", "--materialize");
    run_ok(&r);
    tu_result_release(&r);

    /* The stored copies are there and not trivially small. */
    long stored = tu_sql_long(ENV, "SELECT count(*) FROM quant.main.features_tech_v1");
    assert_true(stored > 20000);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM features_tech_v1"), stored);
    assert_true(tu_sql_long(ENV, "SELECT count(*) FROM quant.main.features_alpha158") > 20000);

    assert_int_equal(differences("features_tech_v1", "quant.main.features_tech_v1"), 0);
    assert_int_equal(differences("features_alpha158", "quant.main.features_alpha158"), 0);
    assert_int_equal(differences("labels", "quant.main.labels"), 0);
    /* The stored features_daily view binds to the TEMP views on quant's
     * connection, so the long form is checked against an UNPIVOT of the
     * stored wide table itself. */
    assert_int_equal(differences("(SELECT symbol, date, feature, value FROM features_daily"
                                 " WHERE version = 'tech-v1')",
                                 "(SELECT symbol, date, feature, value FROM (UNPIVOT"
                                 " quant.main.features_tech_v1 ON COLUMNS(* EXCLUDE (symbol,"
                                 " date)) INTO NAME feature VALUE value))"),
                     0);
    /* both horizons computed are in the labels view */
    assert_int_equal(tu_sql_long(ENV, "SELECT count(DISTINCT horizon) FROM labels"), 2);
    /* the table functions answer directly too */
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant_labels(20)"),
                     tu_sql_long(ENV, "SELECT count(*) FROM labels WHERE horizon = 20"));
    /* symbols := [...] computes only those, and exactly what the view has for them
     * (normalised and deduplicated; an empty list is no symbol, not all) */
    assert_int_equal(differences("(FROM quant_features('alpha158', symbols := ['ae', 'AE',"
                                 " 'AGYS']))",
                                 "(FROM features_alpha158 WHERE symbol IN ('AE', 'AGYS'))"),
                     0);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant_features('tech-v1',"
                                      " symbols := ['ADTN'])"),
                     tu_sql_long(ENV, "SELECT count(*) FROM features_tech_v1 WHERE symbol ="
                                      " 'ADTN'"));
    assert_int_equal(differences("(FROM quant_labels(20, symbols := ['AGYS', 'NOPE']))",
                                 "(FROM labels WHERE horizon = 20 AND symbol = 'AGYS')"),
                     0);
    assert_true(tu_sql_long(ENV, "SELECT count(*) FROM quant_labels(20, symbols := ['AGYS'])")
                > 1000);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant_features('tech-v1',"
                                      " symbols := [])"),
                     0);
    RUN(&r, "sql", "SELECT * FROM quant_features('tech-v1', symbols := ['A B'])");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "symbols := [...]"));
    tu_result_release(&r);
    RUN(&r, "sql", "SELECT * FROM quant_features('no-such-set')");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "unknown feature set"));
    tu_result_release(&r);

    /* A plain run drops the stored copy (it would be older than its state). */
    RUN(&r, "features", "--set", "tech-v1", "--force");
    run_ok(&r);
    assert_non_null(strstr(r.out, "Computed "));
    tu_result_release(&r);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant.main.features_tech_v1"), 0);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM features_tech_v1"), stored);
    /* and --materialize after it is not "up to date": it stores again */
    RUN(&r, "features", "--set", "tech-v1", "--materialize");
    run_ok(&r);
    assert_non_null(strstr(r.out, "3 stored, 0 up to date"));
    tu_result_release(&r);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant.main.features_tech_v1"),
                     stored);
}

static void test_train_and_score_need_no_derive_run(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    ingest();
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AE,ADTN", "--rounds", "20");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "score", "--symbols", "AE,ADTN");
    run_ok(&r);
    tu_result_release(&r);
    /* nothing derived was stored, yet every complete row was scored */
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM quant.main.features_tech_v1"), 0);
    long complete = tu_sql_long(ENV, "SELECT count(*) FROM features_tech_v1 WHERE symbol IN"
                                     " ('AE', 'ADTN') AND COLUMNS(* EXCLUDE (symbol, date))"
                                     " IS NOT NULL");
    assert_true(complete > 5000);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM predictions"), complete);
    /* rescoring replaces, never duplicates */
    RUN(&r, "score", "--symbols", "AE,ADTN");
    run_ok(&r);
    tu_result_release(&r);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) FROM predictions"), complete);
    assert_int_equal(tu_sql_long(ENV, "SELECT count(*) - count(DISTINCT (symbol, date, model_id))"
                                      " FROM predictions"), 0);
    /* status says so instead of a bare "-": three "on read" cells per symbol
     * (tech-v1, alpha158, labels), then the labels cell counts once counted */
    RUN(&r, "status");
    run_ok(&r);
    assert_true(tu_count(r.out, " on read ") >= 3);
    assert_non_null(strstr(r.out, "on read: computed from the bars"));
    tu_result_release(&r);
    RUN(&r, "labels", "--horizon", "5", "--symbols", "AE");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "status", "--json");
    run_ok(&r);
    assert_non_null(strstr(r.out, "\"labels\": \"on read\"")); /* ADTN's */
    tu_result_release(&r);
    RUN(&r, "status");
    run_ok(&r);
    const char *ae = strstr(r.out, "\nAE ");
    assert_non_null(ae);
    const char *eol = strchr(ae + 1, '\n');
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(eol ? eol - ae : 200), ae);
    if (!strstr(line, " h5") || tu_count(line, "on read") != 2)
        fail_msg("AE's labels should be counted, its feature sets on read: %s", line);
    tu_result_release(&r);
    /* a symbol with no bars is named with the remedy */
    RUN(&r, "train", "--symbols", "NOPE", "--rounds", "5");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "no bars stored for NOPE"));
    tu_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_on_read_equals_materialized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_and_score_need_no_derive_run, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
