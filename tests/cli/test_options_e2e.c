/*
 * test_options_e2e.c: every command parses its options through one table
 * (cli/opts.c), so each refuses bad input the same way: exit 2, "quant CMD:
 * --x takes ...", and the pointer to `quant CMD --help`, before it opens any
 * store.  Old spellings (--set) keep working.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"

static const char *env[3];
static char env_home[PATH_MAX + 16];

static int setup(void **state)
{
    tu_scratch_setup(state);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s/home", tu_scratch_dir);
    env[0] = env_home;
    env[1] = "QUANT_LOCK_TIMEOUT_MS=0";
    env[2] = NULL;
    return 0;
}

/* Run quant with argv; expect a usage error whose message holds `needle`. */
static void refused(const char *const *argv, const char *needle)
{
    struct tu_result r;
    tu_run_quant(argv, env, &r);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "quant %s: ", argv[0]);
    if (r.status != 2 || !strstr(r.err, needle) || strncmp(r.err, cmd, strlen(cmd)) != 0 ||
        !strstr(r.err, "--help` for usage"))
        fail_msg("quant %s ...: exit %d, expected 2 with \"%s\"\nstderr: %s", argv[0], r.status,
                 needle, r.err);
    tu_result_release(&r);
}

#define REFUSED(needle, ...) refused((const char *const[]){__VA_ARGS__, NULL}, (needle))

static void test_values_out_of_range_or_missing(void **state)
{
    (void)state;
    REFUSED("--threads takes 1 to 64", "train", "--symbols", "A", "--threads", "0");
    REFUSED("--threads takes 1 to 64", "train", "--symbols", "A", "--threads=65");
    REFUSED("--horizon takes 1 to 250 trading days", "labels", "--horizon", "abc");
    REFUSED("--horizon takes 1 to 250", "train", "--all", "--horizon", "251");
    REFUSED("--threads takes 1 to 64", "features", "--threads", "65");
    REFUSED("--threads takes 1 to 64", "labels", "--threads=0");
    REFUSED("--rounds takes 1 to", "train", "--all", "--rounds", "-3");
    REFUSED("--days takes 1 to 100000", "ingest", "--provider", "synthetic", "--days", "9e3");
    REFUSED("--port takes 0 to 65535", "dashboard", "--port", "70000");
    /* a missing value, also when the next word is another option */
    REFUSED("--model needs a value (a model id or latest)", "score", "--all", "--model");
    REFUSED("--model needs a value (a model id or latest)", "score", "--model", "--all");
    REFUSED("--csv takes a file or folder", "ingest", "--csv=");
}

static void test_unknown_and_conflicting(void **state)
{
    (void)state;
    REFUSED("unknown option '--bogus'", "train", "--all", "--bogus");
    REFUSED("unknown option '--horizon'", "features", "--horizon", "5");
    REFUSED("unexpected argument 'extra'", "status", "extra");
    REFUSED("unexpected argument 'extra'", "dashboard", "extra");
    REFUSED("--full or --compact, not both", "ingest", "--provider", "synthetic", "--full",
            "--compact", "--symbols", "A");
    REFUSED("--features takes tech-v1 or alpha158", "train", "--all", "--features", "x");
    REFUSED("--algo takes lightgbm or xgboost", "train", "--all", "--algo", "svm");
    REFUSED("--param takes key=value", "train", "--all", "--param", "eta");
    REFUSED("unknown feature set 'x'", "features", "--set", "x");
    REFUSED("give the query as one argument", "sql", "SELECT", "1");
    REFUSED("give --csv or --json, not both", "sql", "--csv", "--json", "SELECT 1");
    REFUSED("missing the SQL query", "sql", "--csv");
    REFUSED("--format needs a value (csv or parquet)", "export", "--table", "ohlcv", "--format");
    REFUSED("-o needs a value (a file)", "export", "--table", "ohlcv", "-o"); /* as typed */
    REFUSED("models show takes one model id", "models", "show");
    REFUSED("--symbol needs a value (a symbol)", "models", "list", "--symbol");
    REFUSED("unknown option '--bogus'", "symbols", "list", "--bogus");
    REFUSED("give the search as one argument", "symbols", "search", "a", "b");
    REFUSED("--sector needs a value (text)", "symbols", "add", "A", "--sector");
    REFUSED("unknown option '--sectors'", "symbols", "add", "A", "--sectors", "x");
    REFUSED("--name takes at most 255 characters", "symbols", "add", "A", "--name",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxx");
    REFUSED("unknown option '--all'", "symbols", "remove", "--all");
    REFUSED("symbols remove needs a symbol", "symbols", "remove");
    REFUSED("unknown option '--full'", "symbols", "enrich", "--full");
    REFUSED("--step takes year or a number of dates", "walkforward", "--all", "--step", "month");
    REFUSED("--train-window takes expanding or a number of dates from 756", "walkforward",
            "--all", "--train-window", "100");
    REFUSED("give the symbols", "walkforward");
    REFUSED("give --run ID or --model ID", "evaluate");
    REFUSED("give --run ID or --model ID", "evaluate", "--run", "a", "--model", "b");
    REFUSED("--quantiles takes 2 to 100", "evaluate", "--run", "a", "--quantiles", "1");
    REFUSED("--sell-cost takes a fraction", "evaluate", "--run", "a", "--sell-cost", "-1");
}

/* The threads setting has the range --threads has, and a wrong one is an
 * error rather than a silent fall back to the default. */
static void test_threads_setting_range(void **state)
{
    (void)state;
    const char *bad_env[] = {env[0], env[1], "QUANT_THREADS=65", NULL};
    const char *const cmds[][3] = {{"features", "--all", NULL}, {"train", "--all", NULL}};
    for (size_t i = 0; i < 2; i++) {
        struct tu_result r;
        tu_run_quant(cmds[i], bad_env, &r);
        if (r.status != 3 || !strstr(r.err, "setting threads") || !strstr(r.err, "1 to 64"))
            fail_msg("quant %s with QUANT_THREADS=65: exit %d\nstderr: %s", cmds[i][0],
                     r.status, r.err);
        tu_result_release(&r);
    }
}

/* The old spelling and the = form reach the same place as the new one: past
 * parsing, where an empty home has no symbols to name. */
static void test_aliases_and_equals_form_parse(void **state)
{
    (void)state;
    REFUSED("--all: no active symbols are registered", "train", "--set", "alpha158", "--all");
    REFUSED("--all: no active symbols are registered", "train", "--features=tech-v1",
            "--horizon=10", "--all");
    REFUSED("--all: no active symbols are registered", "features", "--features", "all",
            "--all");
    char path[PATH_MAX + 16];
    struct stat st;
    snprintf(path, sizeof path, "%s/home/quant.duckdb", tu_scratch_dir);
    assert_int_not_equal(stat(path, &st), 0); /* refusing created nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_out_of_range_or_missing, setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_conflicting, setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_aliases_and_equals_form_parse, setup,
                                        tu_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_threads_setting_range, setup, tu_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
