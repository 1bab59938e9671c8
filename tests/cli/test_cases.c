/*
 * test_cases.c: the CLI case files in tests/cli/cases (zstd's tests/cli-tests
 * habit; tests/cli/cases/README.md is the user's guide).  Each NAME.sh runs
 * under `/bin/sh -e` in a fresh temporary home, and its whole stdout, stderr
 * and exit code must equal NAME.stdout.exact, NAME.stderr.exact and NAME.exit
 * byte for byte, after the few normalisations below.  One cmocka test per
 * case, named after it.  Adding a case is adding files: nothing here changes.
 *
 *   QUANT_CASES=GLOB        run only the cases whose name matches (fnmatch)
 *   QUANT_CASES_UPDATE=1    write what each case printed as its expected files
 *
 * A case sees only what this file gives it: the home is empty, the caller's
 * environment is dropped, and `quant` is the binary built with this test.
 * This file must not learn anything about a particular command: a case that
 * needs special treatment says so in its own script.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <regex.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CASES_DIR QUANT_SOURCE_DIR "/tests/cli/cases"

/* Caller variables a case keeps: the sanitizers' settings ctest gives every test. */
static const char *const kept_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};

/*
 * What varies from run to run and how it is written in the expected files.
 * Applied in order, after the home folder's path became "$QUANT_HOME" and
 * today's UTC date (at the start or the end of the case) became "YYYY-MM-DD".
 * Every replacement keeps a value's width where it can, so tables stay aligned.
 */
static const struct {
    const char *pattern; /* POSIX ERE, matched line by line */
    const char *repl;    /* \1..\9 insert a group */
} rules[] = {
    /* a time of day stamped today: "YYYY-MM-DD 16:13:51Z" */
    {"YYYY-MM-DD([ T])[0-9]{2}:[0-9]{2}:[0-9]{2}", "YYYY-MM-DD\\1hh:mm:ss"},
    /* durations: "in 0.42 s", "read 0.01 s", "compute 0.00 CPU-s" */
    {" [0-9]+(\\.[0-9]+)? (s|CPU-s)([ ,;)]|$)", " N.NN \\2\\3"},
};

struct qcase {
    char name[256];
};

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* text with every occurrence of from replaced by to (malloc'd; text is freed). */
static char *replace_all(char *text, const char *from, const char *to)
{
    struct buf b = {0};
    buf_add(&b, "", 0);
    size_t n = strlen(from);
    const char *p = text, *hit;
    while (n && (hit = strstr(p, from))) {
        buf_add(&b, p, (size_t)(hit - p));
        buf_add(&b, to, strlen(to));
        p = hit + n;
    }
    buf_add(&b, p, strlen(p));
    free(text);
    return b.p;
}

/* text with every match of the ERE pattern replaced by repl (malloc'd; text is freed). */
static char *regex_replace(char *text, const char *pattern, const char *repl)
{
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE);
    if (rc != 0)
        fail_msg("bad normalisation pattern %s", pattern);
    struct buf b = {0};
    buf_add(&b, "", 0);
    const char *p = text;
    regmatch_t m[10];
    int flags = 0;
    while (*p && regexec(&re, p, 10, m, flags) == 0) {
        buf_add(&b, p, (size_t)m[0].rm_so);
        for (const char *r = repl; *r; r++) {
            if (r[0] == '\\' && r[1] >= '1' && r[1] <= '9') {
                regmatch_t g = m[r[1] - '0'];
                if (g.rm_so >= 0)
                    buf_add(&b, p + g.rm_so, (size_t)(g.rm_eo - g.rm_so));
                r++;
            } else {
                buf_add(&b, r, 1);
            }
        }
        if (m[0].rm_eo == m[0].rm_so) { /* an empty match: step over one byte */
            if (!p[m[0].rm_eo])
                break;
            buf_add(&b, p + m[0].rm_eo, 1);
            m[0].rm_eo++;
        }
        flags = p[m[0].rm_eo - 1] == '\n' ? 0 : REG_NOTBOL;
        p += m[0].rm_eo;
    }
    buf_add(&b, p, strlen(p));
    regfree(&re);
    free(text);
    return b.p;
}

static void utc_today(char out[16])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static char *normalise(char *text, const char *home, const char *day0, const char *day1)
{
    text = replace_all(text, home, "$QUANT_HOME");
    text = replace_all(text, day0, "YYYY-MM-DD");
    text = replace_all(text, day1, "YYYY-MM-DD");
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        text = regex_replace(text, rules[i].pattern, rules[i].repl);
    return text;
}

/* The case's environment: nothing from the caller but the sanitizers' settings. */
static void case_env(const char *home, char **env, size_t cap, char *store, size_t store_len)
{
    char bindir[PATH_MAX];
    snprintf(bindir, sizeof bindir, "%s", QUANT_BIN);
    size_t n = 0, used = 0;
#define PUT(...)                                                                        \
    do {                                                                                \
        assert_true(n + 1 < cap);                                                       \
        int w = snprintf(store + used, store_len - used, __VA_ARGS__);                  \
        assert_true(w > 0 && (size_t)w < store_len - used);                             \
        env[n++] = store + used;                                                        \
        used += (size_t)w + 1;                                                          \
    } while (0)
    PUT("PATH=%s:/usr/local/bin:/usr/bin:/bin", dirname(bindir));
    PUT("HOME=%s", home);
    PUT("QUANT_HOME=%s", home);
    PUT("TMPDIR=%s", home);
    PUT("LC_ALL=C");
    PUT("TZ=UTC");
    PUT("NO_COLOR=1");
    for (size_t i = 0; i < sizeof kept_env / sizeof *kept_env; i++) {
        const char *v = getenv(kept_env[i]);
        if (v)
            PUT("%s=%s", kept_env[i], v);
    }
#undef PUT
    env[n] = NULL;
}

/* Run `/bin/sh -e script` in home with stdin /dev/null; returns its exit code or 128+signal. */
static int run_script(const char *script, const char *home, const char *out_path,
                      const char *err_path)
{
    char *env[16], store[4 * PATH_MAX + 1024];
    case_env(home, env, sizeof env / sizeof *env, store, sizeof store);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&fa, home);
    const char *argv[] = {"sh", "-e", script, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("cannot start /bin/sh: %s", strerror(rc));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Show how got differs from the expected file: `diff -u`, else the first differing line. */
static void show_diff(const char *expected_path, const char *expected, const char *got_path,
                      const char *got)
{
    const char *argv[] = {"diff", "-u", expected_path, got_path, NULL};
    pid_t pid;
    extern char **environ;
    if (posix_spawnp(&pid, "diff", NULL, NULL, (char *const *)argv, environ) == 0) {
        int st;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
            return;
    }
    int line = 1;
    const char *e = expected, *g = got;
    while (*e && *e == *g) {
        line += *e == '\n';
        e++;
        g++;
    }
    print_message("%s: first difference on line %d:\n  expected: %.*s\n  got:      %.*s\n",
                  expected_path, line, (int)strcspn(e, "\n"), e, (int)strcspn(g, "\n"), g);
}

static int updating(void)
{
    const char *v = getenv("QUANT_CASES_UPDATE");
    return v && strcmp(v, "1") == 0;
}

/* Compare got with CASES_DIR/name.suffix (or write it there when updating); 1 if equal. */
static int check(const char *name, const char *suffix, const char *got, const char *scratch)
{
    char path[PATH_MAX], got_path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.%s", CASES_DIR, name, suffix);
    if (updating()) {
        tu_write_file(path, got);
        return 1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        print_message("%s is missing: run with QUANT_CASES_UPDATE=1 to write it, then "
                      "read it\n", path);
        return 0;
    }
    char *want = tu_read_file(path, NULL);
    int same = strcmp(want, got) == 0;
    if (!same) {
        snprintf(got_path, sizeof got_path, "%s/%s.%s", scratch, name, suffix);
        tu_write_file(got_path, got);
        show_diff(path, want, got_path, got);
    }
    free(want);
    return same;
}

static void run_case(void **state)
{
    const struct qcase *c = *state;
    char tmp[PATH_MAX], real[PATH_MAX], home[PATH_MAX + 8], script[PATH_MAX];
    char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
    /* Always under /tmp, whatever TMPDIR says: tables sized by the home's path
     * (quant config) then have the same widths on every machine. */
    snprintf(tmp, sizeof tmp, "/tmp/quant-case-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    assert_non_null(realpath(tmp, real));
    snprintf(home, sizeof home, "%s/home", real);
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(out_path, sizeof out_path, "%s/stdout", real);
    snprintf(err_path, sizeof err_path, "%s/stderr", real);
    snprintf(script, sizeof script, "%s/%s.sh", CASES_DIR, c->name);

    char day0[16], day1[16];
    utc_today(day0);
    int status = run_script(script, home, out_path, err_path);
    utc_today(day1);

    char *out = normalise(tu_read_file(out_path, NULL), home, day0, day1);
    char *err = normalise(tu_read_file(err_path, NULL), home, day0, day1);
    char exit_text[16];
    snprintf(exit_text, sizeof exit_text, "%d\n", status);
    int ok = check(c->name, "stdout.exact", out, real);
    ok &= check(c->name, "stderr.exact", err, real);
    ok &= check(c->name, "exit", exit_text, real);
    free(out);
    free(err);
    tu_rmrf(real);
    if (!ok)
        fail_msg("case %s: output differs (see above); if the change is intended, run "
                 "QUANT_CASES=%s QUANT_CASES_UPDATE=1 %s and review the diff",
                 c->name, c->name, "cli_test_cases");
}

/* The cases to run: every CASES_DIR/NAME.sh matching $QUANT_CASES, sorted by name. */
static size_t find_cases(struct qcase **out)
{
    const char *only = getenv("QUANT_CASES");
    struct dirent **ents;
    int n = scandir(CASES_DIR, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "cannot list %s: %s\n", CASES_DIR, strerror(errno));
        exit(1);
    }
    struct qcase *cases = calloc((size_t)n + 1, sizeof *cases);
    assert_non_null(cases);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        const char *f = ents[i]->d_name;
        size_t len = strlen(f);
        if (len > 3 && len < sizeof cases[k].name && strcmp(f + len - 3, ".sh") == 0) {
            snprintf(cases[k].name, sizeof cases[k].name, "%.*s", (int)(len - 3), f);
            if (!only || !*only || fnmatch(only, cases[k].name, 0) == 0)
                k++;
        }
        free(ents[i]);
    }
    free(ents);
    *out = cases;
    return k;
}

int main(void)
{
    struct qcase *cases;
    size_t n = find_cases(&cases);
    if (n == 0) {
        fprintf(stderr, "no case matches QUANT_CASES=%s in %s\n", getenv("QUANT_CASES"),
                CASES_DIR);
        return 1;
    }
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    assert_non_null(tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("cli_cases", tests, n, NULL, NULL);
    free(tests);
    free(cases);
    return rc;
}
