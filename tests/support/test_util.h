/*
 * test_util.h: helpers shared by every test (include after cmocka's headers'
 * prerequisites: stdarg.h, stddef.h, setjmp.h, stdint.h).
 *
 *  - shared data: tu_shared_data() finds ../shared/data (or $QUANT_SHARED_DATA);
 *    TU_REQUIRE_SHARED_DATA() reports the test as SKIPPED, with the reason,
 *    when it is absent, and fails it under CI=true (tu_skip_or_fail).
 *  - scratch dirs: tu_mkdtemp()/tu_rmrf(), and tu_scratch_setup()/teardown()
 *    for cmocka.
 *  - running the real CLI: tu_run_quant() with extra environment, capturing
 *    stdout, stderr and the exit status.
 */
#ifndef QUANT_TEST_UTIL_H
#define QUANT_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* Absolute path of the shared data folder, or NULL when it does not exist. */
const char *tu_shared_data(void);

/* Join the shared data dir and a relative path into out (PATH_MAX bytes). */
void tu_shared_path(char *out, const char *rel);

/*
 * Nonzero when the environment variable CI holds a true value ("true", "1" or
 * "yes", any case), as .ci/run sets it.  A test that would skip for want of a
 * part (shared data, a tool, a privilege) fails instead under CI, where every
 * part must be there: a skip is counted as a pass, so it must never hide there.
 */
int tu_under_ci(void);

/*
 * Skip the running cmocka test, printing "SKIPPED: why"; under CI (see
 * tu_under_ci) fail it instead with "under CI=...: why; CI must have it".
 * Does not return.
 */
#define tu_skip_or_fail(...) tu_skip_or_fail_(__FILE__, __LINE__, __VA_ARGS__)
void tu_skip_or_fail_(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Skip (fail under CI) when the shared data folder is missing, naming where it was looked for. */
#define TU_REQUIRE_SHARED_DATA()                                                         \
    do {                                                                                 \
        if (!tu_shared_data())                                                           \
            tu_skip_or_fail("../shared/data not found at %s (set QUANT_SHARED_DATA to "  \
                            "the shared data folder to run this test)",                  \
                            tu_shared_data_wanted());                                    \
    } while (0)

/* Where tu_shared_data() looks: $QUANT_SHARED_DATA, else the build's default. */
const char *tu_shared_data_wanted(void);

/* Create a fresh directory under $TMPDIR (or /tmp); path written to out. */
void tu_mkdtemp(char out[PATH_MAX]);
/* Remove a directory tree (best effort). */
void tu_rmrf(const char *path);

/* A fresh scratch folder per test, as cmocka setup and teardown functions:
 * tu_scratch_setup makes tu_scratch_dir and names the store files in it. */
extern char tu_scratch_dir[PATH_MAX];
extern char tu_scratch_duckdb[PATH_MAX + 32]; /* tu_scratch_dir/quant.duckdb */
extern char tu_scratch_sqlite[PATH_MAX + 32]; /* tu_scratch_dir/meta.sqlite */
int tu_scratch_setup(void **state);
int tu_scratch_teardown(void **state);

/* Read a whole file; returns malloc'd NUL-terminated text (caller frees), len optional. */
char *tu_read_file(const char *path, size_t *out_len);

/*
 * The bytes of a QUANT_HOME's two stores (quant.duckdb, meta.sqlite), to
 * assert that a command which must not write left them byte-identical.
 * Release with tu_stores_release.
 */
struct tu_stores {
    char *db, *meta;
    size_t db_len, meta_len;
};
void tu_stores_take(const char *home, struct tu_stores *s);
void tu_stores_assert_same(const char *home, const struct tu_stores *s);
void tu_stores_release(struct tu_stores *s);
/* Write text to a file (asserts on failure). */
void tu_write_file(const char *path, const char *text);

struct tu_result {
    int status;    /* exit code, or 128+signal */
    char *out;     /* captured stdout (malloc'd) */
    char *err;     /* captured stderr (malloc'd) */
};

/*
 * Run the quant binary built with this test with argv (NULL-terminated,
 * without argv[0]) and extra environment entries "NAME=value" (NULL-terminated,
 * may be NULL).  The environment is inherited minus ALPHAVANTAGE_API_KEY and
 * QUANT_* variables, so a developer's own settings never leak into a test.
 */
void tu_run_quant(const char *const *argv, const char *const *env, struct tu_result *res);
void tu_result_release(struct tu_result *res);

/* Start quant in the background (output discarded); tu_wait() reaps it and
 * returns its exit code or 128+signal. */
#include <sys/types.h>
pid_t tu_spawn_quant(const char *const *argv, const char *const *env);
int tu_wait(pid_t pid);

/* Count occurrences of needle in hay. */
int tu_count(const char *hay, const char *needle);

/*
 * How to run quant when tu_run_quant's defaults do not fit:
 *  - cwd: the child's working folder (NULL: the test's own), so a test can see
 *    whether quant created anything relative to where it was started.
 *  - unprivileged: when the test runs as root, the child runs without the
 *    capabilities that let root ignore file permissions (CAP_DAC_OVERRIDE,
 *    CAP_DAC_READ_SEARCH, CAP_FOWNER, dropped from its bounding set before the
 *    exec), so a chmod means to quant what it means to any other user.  A
 *    no-op for a normal user.  If they cannot be dropped the child exits
 *    TU_EXIT_NOPRIV with the reason on stderr, so the test can say why.
 */
struct tu_run_opts {
    const char *cwd;
    int unprivileged;
};
#define TU_EXIT_NOPRIV 125
void tu_run_quant_opts(const char *const *argv, const char *const *env,
                       const struct tu_run_opts *opts, struct tu_result *res);

/* Start quant in the background with stdout and stderr written to the files
 * out_path and err_path (NULL: discarded); reap it with tu_wait(). */
pid_t tu_spawn_quant_to(const char *const *argv, const char *const *env, const char *out_path,
                        const char *err_path);

/*
 * `quant sql SQL --csv` with env: its whole output, header line included
 * (malloc'd, caller frees), or the single number of a one-cell result.  Both
 * fail the test when quant fails.
 */
char *tu_sql_text(const char *const *env, const char *sql);
long tu_sql_long(const char *const *env, const char *sql);

/* Milliseconds on the monotonic clock, for timing a child. */
double tu_now_ms(void);

/*
 * The first regular file under dir (recursively, links not followed) whose
 * bytes contain needle: its path (malloc'd, caller frees), or NULL when none
 * does.  For checking that a secret never reached the disk.
 */
char *tu_tree_find_bytes(const char *dir, const char *needle);

/* How many regular files under dir (hidden folders included) end in suffix;
 * 0 when dir does not exist. */
long tu_tree_count(const char *dir, const char *suffix);

#endif
