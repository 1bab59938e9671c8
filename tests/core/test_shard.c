/*
 * test_shard.c: core/shard.c.  The shard of a symbol is pinned (a change
 * would move symbols between shards across releases, and a re-run of one
 * shard would no longer replace what it wrote): FNV-1a's published vector,
 * then values computed outside quant.  Every symbol is in exactly one
 * shard; `i/n` parsing and the schedulers' variables, with each refusal.
 */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#include "quant/shard.h"

static void test_pinned_values(void **state)
{
    (void)state;
    /* FNV-1a 32 of "a" is 0xe40c292c (the algorithm's published test vector) */
    assert_int_equal(quant_shard_of("a", 1000000), 0xe40c292cu % 1000000u);
    /* computed by an independent Python FNV-1a over the same bytes */
    struct { const char *sym; int mod3, mod7; } v[] = {
        {"AAPL", 1, 6}, {"MSFT", 1, 4}, {"GC=F", 2, 4}, {"BRK.B", 2, 3}, {"^GSPC", 1, 6},
        {"A", 0, 6},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        assert_int_equal(quant_shard_of(v[i].sym, 3), v[i].mod3);
        assert_int_equal(quant_shard_of(v[i].sym, 7), v[i].mod7);
    }
    assert_int_equal(quant_shard_of("AAPL", 1), 0);
}

static void test_every_symbol_in_exactly_one_shard(void **state)
{
    (void)state;
    int per[5] = {0};
    char sym[16];
    for (int k = 0; k < 2000; k++) {
        snprintf(sym, sizeof sym, "S%04d", k);
        int in = 0;
        for (int i = 0; i < 5; i++) {
            struct quant_shard s = {i, 5};
            if (quant_shard_keeps(&s, sym)) {
                in++;
                per[i]++;
            }
        }
        assert_int_equal(in, 1);
    }
    for (int i = 0; i < 5; i++) /* roughly even: 400 each, none starved */
        assert_true(per[i] > 300 && per[i] < 500);
    struct quant_shard none = {0, 0};
    assert_true(quant_shard_keeps(&none, "ANY"));
    assert_true(quant_shard_keeps(NULL, "ANY"));
}

static void test_parse(void **state)
{
    (void)state;
    struct quant_shard s;
    struct quant_err err;
    assert_int_equal(quant_shard_parse("2/3", &s, &err), QUANT_OK);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 3);
    assert_int_equal(quant_shard_parse("0/1", &s, &err), QUANT_OK);
    const char *bad[] = {"3/3", "1", "/3", "1/", "-1/3", "1/0", "a/b", "1/3x", " 1/3", "01/3",
                         "1/100001", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        quant_err_clear(&err);
        assert_int_equal(quant_shard_parse(bad[i], &s, &err), QUANT_EINVAL);
        assert_non_null(strstr(err.msg, "--shard"));
        assert_int_equal(s.count, 0);
    }
    quant_shard_parse("3/3", &s, &err);
    assert_non_null(strstr(err.msg, "the last of 3 is 2/3"));
}

static void clear_env(void)
{
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_COUNT");
    unsetenv("SLURM_ARRAY_TASK_MIN");
    unsetenv("SLURM_ARRAY_TASK_STEP");
    unsetenv("JOB_COMPLETION_INDEX");
}

static void test_schedulers(void **state)
{
    (void)state;
    struct quant_shard s;
    struct quant_err err;
    char src[64];
    clear_env();
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_OK);
    assert_int_equal(s.count, 0);

    /* sbatch --array=1-3: ids 1..3 are shards 0..2 of 3 */
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_OK);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 3);
    assert_string_equal(src, "SLURM_ARRAY_TASK_ID");
    /* --array=0-8:4: ids 0, 4, 8 */
    setenv("SLURM_ARRAY_TASK_ID", "4", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
    setenv("SLURM_ARRAY_TASK_STEP", "4", 1);
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_OK);
    assert_int_equal(s.index, 1);
    setenv("SLURM_ARRAY_TASK_ID", "5", 1); /* not on the grid */
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "give --shard i/n yourself"));
    setenv("SLURM_ARRAY_TASK_ID", "x", 1);
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "SLURM_ARRAY_TASK_ID"));
    clear_env();

    /* Kubernetes: the index alone is not enough */
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    assert_int_equal(quant_shard_from_env(NULL, &s, src, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "--shard-count N"));
    assert_int_equal(quant_shard_from_env("4", &s, src, &err), QUANT_OK);
    assert_int_equal(s.index, 1);
    assert_int_equal(s.count, 4);
    assert_string_equal(src, "JOB_COMPLETION_INDEX");
    assert_int_equal(quant_shard_from_env("1", &s, src, &err), QUANT_EINVAL);
    assert_int_equal(quant_shard_from_env("zero", &s, src, &err), QUANT_EINVAL);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_values),
        cmocka_unit_test(test_every_symbol_in_exactly_one_shard),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_schedulers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
