/*
 * test_skip_under_ci.c: a test that cannot run for want of a part (the shared
 * data folder, a tool, a privilege) is reported as SKIPPED, never as passed,
 * and under CI (CI=true, as .ci/run sets) it fails instead, saying what is
 * missing and that CI must have it: cmocka counts a skip as a pass, so a CI
 * run that lost ../shared/data would otherwise stay green with half its tests
 * not run.
 *
 * The proof runs this same binary again (--probe) as a child with
 * QUANT_SHARED_DATA and CI set as each case needs, and reads what cmocka
 * reported and how the child exited.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char self[PATH_MAX];

/* ---- the probes, run in the child ------------------------------------------ */

static void probe_shared(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    print_message("probe: shared data found at %s\n", tu_shared_data());
}

static void probe_part(void **state)
{
    (void)state;
    tu_skip_or_fail("the probe's part is missing");
}

static int run_probe(const char *which)
{
    const struct CMUnitTest shared[] = {cmocka_unit_test(probe_shared)};
    const struct CMUnitTest part[] = {cmocka_unit_test(probe_part)};
    if (strcmp(which, "shared") == 0)
        return cmocka_run_group_tests(shared, NULL, NULL);
    return cmocka_run_group_tests(part, NULL, NULL);
}

/* ---- the parent ------------------------------------------------------------ */

struct child {
    int status;
    char *out; /* stdout and stderr together */
};

/* Run `self --probe which` with the caller's environment minus CI and
 * QUANT_SHARED_DATA, plus env ("NAME=value", NULL-terminated). */
static void probe(const char *which, const char *const *env, struct child *c)
{
    char dir[PATH_MAX], out_path[PATH_MAX + 8];
    tu_mkdtemp(dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    const char **cenv = calloc(n + 16, sizeof *cenv);
    assert_non_null(cenv);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CI=", 3) != 0 &&
            strncmp(environ[i], "QUANT_SHARED_DATA=", 18) != 0 &&
            strncmp(environ[i], "CMOCKA_", 7) != 0)
            cenv[k++] = environ[i];
    cenv[k++] = "CMOCKA_MESSAGE_OUTPUT=stdout";
    for (size_t i = 0; env[i]; i++) {
        assert_true(k < n + 15);
        cenv[k++] = env[i];
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const char *argv[] = {self, "--probe", which, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, self, &fa, NULL, (char *const *)argv,
                                 (char *const *)cenv), 0);
    posix_spawn_file_actions_destroy(&fa);
    free(cenv);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    c->out = tu_read_file(out_path, NULL);
    tu_rmrf(dir);
}

static void expect_in(const struct child *c, const char *needle, const char *what)
{
    if (!strstr(c->out, needle))
        fail_msg("%s: expected '%s' in the probe's output (exit %d):\n%s", what, needle,
                 c->status, c->out);
}

static void expect_skipped(const struct child *c, const char *why, const char *what)
{
    if (c->status != 0)
        fail_msg("%s: a skip must not fail the run, but it exited %d:\n%s", what, c->status,
                 c->out);
    expect_in(c, "SKIPPED: ", what);
    expect_in(c, why, what);
    expect_in(c, "[  SKIPPED ]", what);
    if (strstr(c->out, "CI must have it"))
        fail_msg("%s: a skip outside CI must not talk about CI:\n%s", what, c->out);
}

static void expect_failed(const struct child *c, const char *why, const char *what)
{
    if (c->status == 0)
        fail_msg("%s: under CI the run must fail, but it exited 0:\n%s", what, c->out);
    expect_in(c, why, what);
    expect_in(c, "CI must have it", what);
    expect_in(c, "[  FAILED  ]", what);
    if (strstr(c->out, "[  SKIPPED ]"))
        fail_msg("%s: under CI nothing may be reported as skipped:\n%s", what, c->out);
}

#define MISSING "QUANT_SHARED_DATA=/nonexistent/quant-shared-data"
#define MISSING_WHY "../shared/data not found at /nonexistent/quant-shared-data"

static void test_missing_shared_data_skips_outside_ci(void **state)
{
    (void)state;
    struct child c;
    probe("shared", (const char *const[]){MISSING, NULL}, &c);
    expect_skipped(&c, MISSING_WHY, "no CI variable");
    free(c.out);
    probe("shared", (const char *const[]){MISSING, "CI=false", NULL}, &c);
    expect_skipped(&c, MISSING_WHY, "CI=false");
    free(c.out);
    probe("shared", (const char *const[]){MISSING, "CI=", NULL}, &c);
    expect_skipped(&c, MISSING_WHY, "CI set empty");
    free(c.out);
}

static void test_missing_shared_data_fails_under_ci(void **state)
{
    (void)state;
    const char *const truths[] = {"CI=true", "CI=TRUE", "CI=1", "CI=yes"};
    for (size_t i = 0; i < sizeof truths / sizeof *truths; i++) {
        struct child c;
        probe("shared", (const char *const[]){MISSING, truths[i], NULL}, &c);
        expect_failed(&c, MISSING_WHY, truths[i]);
        free(c.out);
    }
}

/* Under CI a present folder still passes: the failure is about the data, not CI. */
static void test_present_shared_data_passes_under_ci(void **state)
{
    (void)state;
    char dir[PATH_MAX], env_dir[PATH_MAX + 32];
    tu_mkdtemp(dir);
    snprintf(env_dir, sizeof env_dir, "QUANT_SHARED_DATA=%s", dir);
    struct child c;
    probe("shared", (const char *const[]){env_dir, "CI=true", NULL}, &c);
    tu_rmrf(dir);
    if (c.status != 0)
        fail_msg("a present shared folder must pass under CI, exit %d:\n%s", c.status, c.out);
    expect_in(&c, "probe: shared data found at", "present folder");
    expect_in(&c, "[  PASSED  ] 1 test(s).", "present folder");
    free(c.out);
}

/* tu_skip_or_fail, which the other missing-part skips use, behaves the same. */
static void test_missing_part_skips_or_fails(void **state)
{
    (void)state;
    struct child c;
    probe("part", (const char *const[]){NULL}, &c);
    expect_skipped(&c, "the probe's part is missing", "part, no CI");
    free(c.out);
    probe("part", (const char *const[]){"CI=true", NULL}, &c);
    expect_failed(&c, "under CI=true: the probe's part is missing", "part, CI=true");
    free(c.out);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--probe") == 0)
        return run_probe(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        return 1;
    }
    self[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_shared_data_skips_outside_ci),
        cmocka_unit_test(test_missing_shared_data_fails_under_ci),
        cmocka_unit_test(test_present_shared_data_passes_under_ci),
        cmocka_unit_test(test_missing_part_skips_or_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
