/*
 * test_scaleout_e2e.c: deploy/slurm/quant-shards.sbatch, the README's
 * sharded pipeline, run as three array tasks at once on this machine (the
 * script under bash with the variables Slurm sets; Slurm itself is not
 * needed to run a batch script), in lake mode: one Parquet lake and one
 * PostgreSQL registry (a throwaway cluster on 127.0.0.1) for all three.
 * The same commands then run as one process into a second lake and registry.
 *
 * A plain DuckDB reads both lakes: every (symbol, date) of the source exactly
 * once in the sharded lake, with the source's close; its bars, labels and
 * predictions equal the single process's; one file per partition, each of
 * them live in the registry (quant's own reads, through the registry, see
 * the same).  Then one task is re-run alone: it publishes no bars (nothing
 * changed), replaces its prediction files (its new models' rows added, as
 * in a DuckDB store), and nothing is doubled.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <duckdb.h>

#include "pg_cluster.h"
#include "quant/shard.h"

#define TRAIN_ARGS "--algo xgboost --rounds 5 --threads 1"

static char root[PATH_MAX];
static struct tu_pg cluster;
static char url_shards[1024], url_single[1024];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(root);
    /* lake mode's working copies and snapshot cache: inside this test's folder */
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s/tmp", root);
    assert_int_equal(mkdir(tmp, 0700), 0);
    setenv("TMPDIR", tmp, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("TMPDIR");
    tu_rmrf(root);
    return 0;
}

/* bash SCRIPT as Slurm would start array task `task` of 3 (ids 1..3). */
static pid_t start_task(int task, const char *lake, const char *csv, const char *meta_url)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[8], home[PATH_MAX + 32], log[PATH_MAX + 32];
        snprintf(id, sizeof id, "%d", task + 1);
        snprintf(home, sizeof home, "%s/home-%d", root, task);
        snprintf(log, sizeof log, "%s/task-%d.log", root, task);
        FILE *f = freopen(log, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(126);
        unsetenv("QUANT_HOME");
        setenv("QUANT", QUANT_BIN, 1);
        setenv("LAKE", lake, 1);
        setenv("SOURCE_CSV", csv, 1);
        setenv("QUANT_META_URL", meta_url, 1);
        unsetenv("QUANT_LAKE");
        setenv("QUANT_SHARD_HOME", home, 1);
        setenv("QUANT_TRAIN_ARGS", TRAIN_ARGS, 1);
        setenv("SLURM_ARRAY_TASK_ID", id, 1);
        setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
        setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
        unsetenv("SLURM_ARRAY_TASK_STEP");
        unsetenv("JOB_COMPLETION_INDEX");
        execl("/bin/bash", "bash", QUANT_SOURCE_DIR "/deploy/slurm/quant-shards.sbatch",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_task(pid_t pid, int task)
{
    int st;
    assert_true(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char log[PATH_MAX + 32];
        snprintf(log, sizeof log, "%s/task-%d.log", root, task);
        char *text = tu_read_file(log, NULL);
        print_message("task %d log:\n%s\n", task, text ? text : "(none)");
        free(text);
        fail_msg("array task %d failed (status %d)", task, st);
    }
}

static long plain_long(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        fail_msg("%s: %s", sql, duckdb_result_error(&res));
    long v = (long)duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    return v;
}

/* Parquet files under lake/table (hidden staging folders included). */
static long files_in(const char *lake, const char *table)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", lake, table);
    return tu_tree_count(dir, ".parquet");
}

static void run_ok(const char *const *argv, const char *const *env, const char *expect_err)
{
    struct tu_result r;
    tu_run_quant(argv, env, &r);
    if (r.status != 0)
        fail_msg("quant %s: exit %d\n%s%s", argv[0], r.status, r.out, r.err);
    if (expect_err && !strstr(r.err, expect_err))
        fail_msg("quant %s: stderr lacks '%s':\n%s", argv[0], expect_err, r.err);
    tu_result_release(&r);
}

/* Rows of `a` not in `b` plus rows of `b` not in `a`. */
static long sym_diff(duckdb_connection con, const char *cols, const char *a, const char *b)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s))"
             " + (SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s))",
             cols, a, cols, b, cols, b, cols, a);
    return plain_long(con, sql);
}

static void test_three_shards_into_one_lake_and_registry(void **state)
{
    (void)state;
    /* The source: a long CSV of 7 synthetic symbols (quant writes it) */
    char src_env[PATH_MAX + 32], csv[PATH_MAX + 32], lake[PATH_MAX + 32], lake1[PATH_MAX + 32];
    snprintf(src_env, sizeof src_env, "QUANT_HOME=%s/source", root);
    snprintf(csv, sizeof csv, "%s/bars.csv", root);
    snprintf(lake, sizeof lake, "%s/lake", root);
    snprintf(lake1, sizeof lake1, "%s/lake-single", root);
    run_ok((const char *const[]){"ingest", "--provider", "synthetic", "--days", "450",
                                 "--symbols", "AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GC=F",
                                 NULL},
           (const char *const[]){src_env, NULL}, NULL);
    run_ok((const char *const[]){"export", "--query",
                                 "SELECT symbol, date, open, high, low, close, volume "
                                 "FROM ohlcv", "--output", csv, NULL},
           (const char *const[]){src_env, NULL}, NULL);

    pid_t pid[3];
    for (int t = 0; t < 3; t++)
        pid[t] = start_task(t, lake, csv, url_shards);
    for (int t = 0; t < 3; t++)
        wait_task(pid[t], t);

    /* The same pipeline as one process, into a lake and registry of its own */
    char home1[PATH_MAX + 32], lake_env[PATH_MAX + 32], meta_env[1100];
    snprintf(home1, sizeof home1, "QUANT_HOME=%s/single", root);
    snprintf(lake_env, sizeof lake_env, "QUANT_LAKE=%s", lake1);
    snprintf(meta_env, sizeof meta_env, "QUANT_META_URL=%s", url_single);
    const char *const env1[] = {home1, lake_env, meta_env, NULL};
    run_ok((const char *const[]){"ingest", "--csv", csv, NULL}, env1, "7 partition(s) published");
    run_ok((const char *const[]){"labels", "--all", "--materialize", NULL}, env1, NULL);
    run_ok((const char *const[]){"train", "--all", "--score", "--algo", "xgboost", "--rounds",
                                 "5", "--threads", "1", NULL},
           env1, NULL);

    duckdb_database db;
    duckdb_connection con;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    char sql[8 * PATH_MAX];
    const char *tables[] = {"ohlcv", "labels", "predictions"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(sql, sizeof sql,
                 "CREATE VIEW lake_%s AS SELECT * FROM read_parquet('%s/%s/*/*.parquet', "
                 "hive_partitioning = true, hive_types = {'symbol': VARCHAR}); "
                 "CREATE VIEW single_%s AS SELECT * FROM read_parquet('%s/%s/*/*.parquet', "
                 "hive_partitioning = true, hive_types = {'symbol': VARCHAR})",
                 tables[k], lake, tables[k], tables[k], lake1, tables[k]);
        duckdb_result res;
        if (duckdb_query(con, sql, &res) == DuckDBError)
            fail_msg("%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
    }
    snprintf(sql, sizeof sql, "CREATE VIEW src AS SELECT * FROM read_csv('%s')", csv);
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        fail_msg("%s", duckdb_result_error(&res));
    duckdb_destroy_result(&res);

    long src_rows = plain_long(con, "SELECT count(*) FROM src");
    assert_true(src_rows == 7 * 450);
    /* every (symbol, date) once, with the source's close */
    assert_int_equal(plain_long(con, "SELECT count(*) FROM lake_ohlcv"), src_rows);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM (SELECT DISTINCT symbol, date "
                                     "FROM lake_ohlcv)"), src_rows);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM lake_ohlcv l JOIN src s "
                                     "USING (symbol, date) WHERE l.close = s.close"),
                     src_rows);
    /* equal to the single process: bars, labels, and the scores of models
     * trained on the same rows with the same seed */
    assert_int_equal(sym_diff(con, "symbol, date, open, high, low, close, adj_close, volume, "
                                   "quality, source", "lake_ohlcv", "single_ohlcv"), 0);
    long labels = plain_long(con, "SELECT count(*) FROM lake_labels");
    assert_true(labels > 7 * 400);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM single_labels"), labels);
    assert_int_equal(sym_diff(con, "symbol, date, horizon, fwd_return, label", "lake_labels",
                              "single_labels"), 0);
    long preds = plain_long(con, "SELECT count(*) FROM lake_predictions");
    assert_true(preds > 7 * 300);
    assert_int_equal(plain_long(con, "SELECT count(DISTINCT symbol) FROM lake_predictions"), 7);
    assert_int_equal(sym_diff(con, "symbol, date, segment, score", "lake_predictions",
                              "single_predictions"), 0);
    /* one file per partition, and quant's reads through the registry agree */
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(files_in(lake, tables[k]), 7);
    char lake_env3[PATH_MAX + 32], meta_env3[1100], home3[PATH_MAX + 32];
    snprintf(lake_env3, sizeof lake_env3, "QUANT_LAKE=%s", lake);
    snprintf(meta_env3, sizeof meta_env3, "QUANT_META_URL=%s", url_shards);
    snprintf(home3, sizeof home3, "QUANT_HOME=%s/reader", root);
    const char *const env3[] = {home3, lake_env3, meta_env3, NULL};
    assert_int_equal(tu_sql_long(env3, "SELECT count(*) FROM ohlcv"), src_rows);
    assert_int_equal(tu_sql_long(env3, "SELECT count(*) FROM predictions"), preds);
    struct tu_result r;
    tu_run_quant((const char *const[]){"models", "list", NULL}, env3, &r);
    assert_int_equal(r.status, 0);
    for (size_t k = 0; k < 7; k++) {
        const char *syms[] = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GC=F"};
        char id[32];
        snprintf(id, sizeof id, "xgb_%s_", syms[k]);
        if (!strstr(r.out, id))
            fail_msg("no model for %s in the shared registry:\n%s", syms[k], r.out);
    }
    tu_result_release(&r);
    /* the folder and the registry agree: nothing orphaned, nothing missing */
    tu_run_quant((const char *const[]){"lake", "check", NULL}, env3, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Orphans: none"));
    assert_non_null(strstr(r.out, "Missing: none"));
    assert_non_null(strstr(r.out, "ohlcv                         7        7"));
    tu_result_release(&r);

    /* task 2 again, alone: its bars are unchanged (nothing published), its
     * predictions replaced (new models), and no count moves */
    int before_shard = 0;
    for (size_t k = 0; k < 7; k++) {
        const char *syms[] = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GC=F"};
        before_shard += quant_shard_of(syms[k], 3) == 1;
    }
    assert_true(before_shard > 0);
    pid_t again = start_task(1, lake, csv, url_shards);
    wait_task(again, 1);
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/task-1.log", root);
    char *text = tu_read_file(log, NULL);
    assert_non_null(text);
    assert_null(strstr(text, "quant ingest: lake"));
    char want[160];
    snprintf(want, sizeof want, "quant train: lake %s: %d partition(s) published (%d file(s)",
             lake, before_shard, before_shard);
    if (!strstr(text, want))
        fail_msg("the re-run task should replace its prediction files (%s):\n%s", want, text);
    free(text);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM lake_ohlcv"), src_rows);
    /* As in a DuckDB store, a new model's predictions join the old model's:
     * the re-run's symbols now have two models each, every row once. */
    assert_int_equal(plain_long(con, "SELECT count(DISTINCT model_id) FROM lake_predictions"),
                     7 + before_shard);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM (SELECT symbol, date, model_id "
                                     "FROM lake_predictions GROUP BY ALL HAVING count(*) > 1)"),
                     0);
    long preds2 = plain_long(con, "SELECT count(*) FROM lake_predictions");
    assert_true(preds2 > preds);
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(files_in(lake, tables[k]), 7);
    assert_int_equal(tu_sql_long(env3, "SELECT count(*) FROM predictions"), preds2);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int skip = tu_pg_start_or_skip(&cluster, "cli/test_scaleout_e2e");
    if (skip >= 0)
        return skip;
    if (tu_pg_create_db(&cluster, "shards", url_shards, sizeof url_shards) ||
        tu_pg_create_db(&cluster, "single", url_single, sizeof url_single)) {
        fprintf(stderr, "cli/test_scaleout_e2e: %s %s\n", url_shards, url_single);
        tu_pg_stop(&cluster);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_shards_into_one_lake_and_registry),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    tu_pg_stop(&cluster);
    return failed;
}
