/*
 * test_shard_e2e.c: `--shard i/n` through the real binary.  Three shards of
 * one ingest, run at once as separate processes (each in its own store, as
 * processes of a Slurm array with no shared store would be), hold every
 * symbol exactly once, and each symbol's bars equal a single-process run's;
 * train and score --all --shard touch only the shard's symbols; a Slurm
 * array's variables pick the shard without a flag; an empty shard is not an
 * error; --pooled cannot be sharded.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>

#include "quant/shard.h"

#define NSYM 8
static const char *const syms[NSYM] = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"};

static char root[PATH_MAX];

static void env_for(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "QUANT_HOME=%s/%s", root, name);
}

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

/* One store's bars as "SYM count sum" lines, in symbol order. */
static char *bars_digest(const char *env)
{
    return tu_sql_text((const char *const[]){env, NULL},
                       "SELECT symbol, count(*), round(sum(close), 6) FROM ohlcv GROUP BY 1 "
                       "ORDER BY 1");
}

static void test_three_shards_at_once_equal_one_run(void **state)
{
    (void)state;
    char env_all[PATH_MAX + 16], env_s[3][PATH_MAX + 16], spec[3][8];
    env_for(env_all, sizeof env_all, "all");
    const char *ingest[] = {"ingest", "--provider", "synthetic", "--days", "450", "--symbols",
                            syms[0], syms[1], syms[2], syms[3], syms[4], syms[5], syms[6],
                            syms[7], "--shard", NULL, NULL};
    pid_t pid[3];
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "s%d", i);
        env_for(env_s[i], sizeof env_s[i], name);
        snprintf(spec[i], sizeof spec[i], "%d/3", i);
        ingest[15] = spec[i];
        pid[i] = tu_spawn_quant(ingest, (const char *const[]){env_s[i], NULL});
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(tu_wait(pid[i]), 0);
    struct tu_result r;
    tu_run_quant((const char *const[]){"ingest", "--provider", "synthetic", "--days", "450",
                                       "--symbols", syms[0], syms[1], syms[2], syms[3],
                                       syms[4], syms[5], syms[6], syms[7], NULL},
                 (const char *const[]){env_all, NULL}, &r);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);

    /* every symbol in exactly the shard the stable hash gives, once */
    char *all = bars_digest(env_all);
    for (int k = 0; k < NSYM; k++) {
        int home = quant_shard_of(syms[k], 3), found = 0;
        for (int i = 0; i < 3; i++) {
            char *d = bars_digest(env_s[i]);
            char *line = strstr(d, syms[k]);
            if (line) {
                found++;
                assert_int_equal(i, home);
                /* the same bars as the single-process run */
                char *want = strstr(all, syms[k]);
                assert_non_null(want);
                size_t n = strcspn(want, "\n");
                assert_int_equal(strncmp(line, want, n), 0);
            }
            free(d);
        }
        assert_int_equal(found, 1);
    }
    free(all);
}

static void test_train_score_and_scheduler(void **state)
{
    (void)state;
    char env[PATH_MAX + 16];
    env_for(env, sizeof env, "all"); /* made by the test above */
    struct tu_result r;
    tu_run_quant((const char *const[]){"train", "--all", "--shard", "1/3", "--algo", "xgboost",
                                       "--rounds", "3", "--threads", "1", NULL},
                 (const char *const[]){env, NULL}, &r);
    if (r.status != 0)
        fail_msg("train --shard failed: %s", r.err);
    assert_non_null(strstr(r.err, "shard 1/3 (--shard)"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"models", "list", "--json", NULL},
                 (const char *const[]){env, NULL}, &r);
    assert_int_equal(r.status, 0);
    for (int k = 0; k < NSYM; k++) {
        char key[32]; /* ids are ALGO_SYMBOL_STAMP: xgb_AAA_20261206_030521 */
        snprintf(key, sizeof key, "_%s_", syms[k]);
        assert_int_equal(strstr(r.out, key) != NULL, quant_shard_of(syms[k], 3) == 1);
    }
    tu_result_release(&r);

    /* a Slurm array task, no flag: --array=0-2, task 1 */
    tu_run_quant((const char *const[]){"score", "--all", NULL},
                 (const char *const[]){env, "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3",
                                       "SLURM_ARRAY_TASK_MIN=0", NULL},
                 &r);
    if (r.status != 0)
        fail_msg("score in a Slurm array failed: %s", r.err);
    assert_non_null(strstr(r.err, "shard 1/3 (SLURM_ARRAY_TASK_ID)"));
    tu_result_release(&r);
    char *scored = tu_sql_text((const char *const[]){env, NULL},
                               "SELECT string_agg(DISTINCT symbol, ',' ORDER BY symbol) "
                               "FROM predictions");
    for (int k = 0; k < NSYM; k++)
        assert_int_equal(strstr(scored, syms[k]) != NULL, quant_shard_of(syms[k], 3) == 1);
    free(scored);

    /* an empty shard is nothing to do, not a failure */
    const char *one = NULL;
    for (int k = 0; k < NSYM && !one; k++)
        if (quant_shard_of(syms[k], 3) != 0)
            one = syms[k];
    tu_run_quant((const char *const[]){"labels", "--symbols", one, "--shard", "0/3", NULL},
                 (const char *const[]){env, NULL}, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Nothing to do: shard 0/3 holds none of the 1 symbols"));
    tu_result_release(&r);

    /* refusals */
    tu_run_quant((const char *const[]){"train", "--all", "--pooled", "--shard", "0/3", NULL},
                 (const char *const[]){env, NULL}, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "cannot be sharded"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"features", "--shard", "3/3", NULL},
                 (const char *const[]){env, NULL}, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "the last of 3 is 2/3"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"features", NULL},
                 (const char *const[]){env, "JOB_COMPLETION_INDEX=2", NULL}, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--shard-count N"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"features", "--shard-count", "4", NULL},
                 (const char *const[]){env, "JOB_COMPLETION_INDEX=2", NULL}, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "shard 2/4 (JOB_COMPLETION_INDEX)"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"walkforward", "--all", "--shard", "0/2", NULL},
                 (const char *const[]){env, NULL}, &r);
    assert_int_equal(r.status, 2); /* not a shardable command */
    assert_non_null(strstr(r.err, "--shard"));
    tu_result_release(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_shards_at_once_equal_one_run),
        cmocka_unit_test(test_train_score_and_scheduler),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
