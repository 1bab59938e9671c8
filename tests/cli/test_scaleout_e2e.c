/*
 * test_scaleout_e2e.c: deploy/slurm/quant-shards.sbatch, the README's
 * sharded pipeline, run as three array tasks at once on this machine (the
 * script under bash with the variables Slurm sets; Slurm itself is not
 * needed to run a batch script).  Afterwards a plain DuckDB reads the lake
 * the tasks published: every (symbol, date) of the source exactly once,
 * each symbol under the shard quant's stable split gives it, its closes
 * equal to the source's, and a prediction for every row of every symbol.
 * Then one task is re-run alone and the lake is unchanged in count.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <duckdb.h>

#include "quant/shard.h"

static char root[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(root);
    return 0;
}

/* bash SCRIPT as Slurm would start array task `task` of 3 (ids 1..3). */
static pid_t start_task(int task, const char *lake, const char *csv)
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
        setenv("QUANT_SHARD_HOME", home, 1);
        setenv("QUANT_TRAIN_ARGS", "--algo xgboost --rounds 5 --threads 1", 1);
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

static void test_three_array_tasks_into_one_lake(void **state)
{
    (void)state;
    /* The source: a long CSV of 7 synthetic symbols (quant writes it) */
    char src_env[PATH_MAX + 32], csv[PATH_MAX + 32], lake[PATH_MAX + 32];
    snprintf(src_env, sizeof src_env, "QUANT_HOME=%s/source", root);
    snprintf(csv, sizeof csv, "%s/bars.csv", root);
    snprintf(lake, sizeof lake, "%s/lake", root);
    struct tu_result r;
    tu_run_quant((const char *const[]){"ingest", "--provider", "synthetic", "--days", "450",
                                       "--symbols", "AAA", "BBB", "CCC", "DDD", "EEE", "FFF",
                                       "GC=F", NULL},
                 (const char *const[]){src_env, NULL}, &r);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"export", "--query",
                                       "SELECT symbol, date, open, high, low, close, volume "
                                       "FROM ohlcv", "--output", csv, NULL},
                 (const char *const[]){src_env, NULL}, &r);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);

    pid_t pid[3];
    for (int t = 0; t < 3; t++)
        pid[t] = start_task(t, lake, csv);
    for (int t = 0; t < 3; t++)
        wait_task(pid[t], t);

    duckdb_database db;
    duckdb_connection con;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    char sql[4 * PATH_MAX];
    snprintf(sql, sizeof sql,
             "CREATE VIEW lake_ohlcv AS SELECT * FROM read_parquet('%s/*/ohlcv/*/*.parquet', "
             "hive_partitioning = true, hive_types = {'symbol': VARCHAR, 'shard': INTEGER}); "
             "CREATE VIEW lake_pred AS SELECT * FROM read_parquet("
             "'%s/*/predictions/*/*.parquet', hive_partitioning = true); "
             "CREATE VIEW src AS SELECT * FROM read_csv('%s')",
             lake, lake, csv);
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
    /* each symbol under the shard the stable split gives it */
    const char *syms[] = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GC=F"};
    for (size_t k = 0; k < 7; k++) {
        snprintf(sql, sizeof sql,
                 "SELECT count(DISTINCT shard) * 100 + min(shard) FROM lake_ohlcv "
                 "WHERE symbol = '%s'", syms[k]);
        assert_int_equal(plain_long(con, sql), 100 + quant_shard_of(syms[k], 3));
    }
    /* every symbol trained and scored by its own task */
    assert_int_equal(plain_long(con, "SELECT count(DISTINCT symbol) FROM lake_pred"), 7);
    long preds = plain_long(con, "SELECT count(*) FROM lake_pred");
    assert_true(preds > 7 * 300);

    /* task 2 again, alone: it replaces its own folder, nothing doubles */
    pid_t again = start_task(1, lake, csv);
    wait_task(again, 1);
    assert_int_equal(plain_long(con, "SELECT count(*) FROM lake_ohlcv"), src_rows);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_array_tasks_into_one_lake),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
