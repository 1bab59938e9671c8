/*
 * test_startup.c: which commands quant re-executes with which settings
 * (cli/startup.c).  The exec itself is seen end to end in
 * test_train_options_e2e.c (libgomp's own report); here the decision, for
 * every command and every way a user can have chosen already.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define QUANT_STARTUP_NO_HOOK 1
#include "../../cli/startup.c"

/* What quant_startup_plan_ adds for argv under envp, as one string ("" = nothing). */
static const char *plan(const char *const *argv, const char *const *envp)
{
    static char out[512];
    int argc = 0;
    while (argv[argc])
        argc++;
    const char *add[2] = {NULL, NULL};
    int n = quant_startup_plan_(argc, (char **)argv, (char **)envp, add);
    assert_true(n >= 0 && n <= 2);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, i ? " " : "", sizeof out - strlen(out) - 1);
        strncat(out, add[i], sizeof out - strlen(out) - 1);
    }
    return out;
}

static const char *const no_env[] = {"HOME=/root", NULL};

static int has(const char *s, const char *what) { return strstr(s, what) != NULL; }

static void test_openmp_commands_sleep_when_waiting(void **state)
{
    (void)state;
    const char *p = plan((const char *const[]){"quant", "train", "--all", NULL}, no_env);
    assert_true(has(p, "OMP_WAIT_POLICY=passive"));
    p = plan((const char *const[]){"quant", "--home", "/h", "score", "--all", NULL}, no_env);
    assert_true(has(p, "OMP_WAIT_POLICY=passive"));
    /* the walk-forward trains too: spinning threads made its blocks 5x slower */
    p = plan((const char *const[]){"quant", "walkforward", "--all", NULL}, no_env);
    assert_true(has(p, "OMP_WAIT_POLICY=passive"));
    /* --help keeps it: `OMP_DISPLAY_ENV=verbose quant train --help` shows it */
    p = plan((const char *const[]){"quant", "train", "--help", NULL}, no_env);
    assert_string_equal(p, "OMP_WAIT_POLICY=passive");
    /* a command running no OpenMP is not given it */
    p = plan((const char *const[]){"quant", "ingest", "--csv", "x.csv", NULL}, no_env);
    assert_false(has(p, "OMP_WAIT_POLICY"));
    /* the user's choice, either variable, is kept */
    p = plan((const char *const[]){"quant", "train", NULL},
             (const char *const[]){"OMP_WAIT_POLICY=active", NULL});
    assert_false(has(p, "OMP_WAIT_POLICY"));
    p = plan((const char *const[]){"quant", "train", NULL},
             (const char *const[]){"GOMP_SPINCOUNT=10", NULL});
    assert_false(has(p, "OMP_WAIT_POLICY"));
}

static void test_bulk_commands_get_huge_pages(void **state)
{
    (void)state;
    static const char *const bulk[] = {"ingest", "features", "labels", "train", "score",
                                       "walkforward", "evaluate", "export", "demo"};
    for (size_t i = 0; i < sizeof bulk / sizeof *bulk; i++) {
        const char *p = plan((const char *const[]){"quant", bulk[i], NULL}, no_env);
#ifdef QUANT_SANITIZED
        /* the sanitizer's allocator would ignore them: not worth an exec */
        assert_false(has(p, "GLIBC_TUNABLES"));
#else
        if (!has(p, "GLIBC_TUNABLES=glibc.malloc.hugetlb=1:"))
            fail_msg("%s was not given huge pages: '%s'", bulk[i], p);
#endif
    }
    /* global options before the command are skipped, with their values */
    const char *p = plan((const char *const[]){"quant", "--duckdb", "labels", "status", NULL},
                         no_env);
    assert_false(has(p, "GLIBC_TUNABLES"));
    /* light commands and help pay no exec */
    static const char *const light[] = {"status", "sql", "symbols", "models", "config",
                                        "init-db", "dashboard", "--version"};
    for (size_t i = 0; i < sizeof light / sizeof *light; i++)
        assert_string_equal(plan((const char *const[]){"quant", light[i], NULL}, no_env), "");
    assert_string_equal(plan((const char *const[]){"quant", "labels", "--help", NULL}, no_env),
                        "");
    assert_string_equal(plan((const char *const[]){"quant", NULL}, no_env), "");
    /* the user's own tunables are theirs */
    p = plan((const char *const[]){"quant", "labels", NULL},
             (const char *const[]){"GLIBC_TUNABLES=glibc.malloc.hugetlb=0", NULL});
    assert_string_equal(p, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openmp_commands_sleep_when_waiting),
        cmocka_unit_test(test_bulk_commands_get_huge_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
