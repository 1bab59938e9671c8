/* test_util.c: see test_util.h. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

extern char **environ;

const char *tu_shared_data_wanted(void)
{
    const char *env = getenv("QUANT_SHARED_DATA");
    return (env && *env) ? env : QUANT_SHARED_DATA_DEFAULT;
}

const char *tu_shared_data(void)
{
    static char path[PATH_MAX];
    static int done;
    if (!done) {
        done = 1;
        const char *cand = tu_shared_data_wanted();
        struct stat st;
        if (realpath(cand, path) && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return path;
        path[0] = '\0';
    }
    return path[0] ? path : NULL;
}

void tu_shared_path(char *out, const char *rel)
{
    const char *base = tu_shared_data();
    assert_non_null(base);
    snprintf(out, PATH_MAX, "%s/%s", base, rel);
}

int tu_under_ci(void)
{
    const char *v = getenv("CI");
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

void tu_skip_or_fail_(const char *file, int line, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (tu_under_ci()) {
        print_error("under CI=%s: %s; CI must have it, so this is a failure, not a skip\n",
                    getenv("CI"), why);
        _fail(file, line);
    } else {
        print_message("SKIPPED: %s\n", why);
        _skip(file, line);
    }
    abort(); /* neither returns inside a running cmocka test */
}

void tu_mkdtemp(char out[PATH_MAX])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, PATH_MAX, "%s/quant-test-XXXXXX", (tmp && *tmp) ? tmp : "/tmp");
    assert_non_null(mkdtemp(out));
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    chmod(p, 0700); /* tests may make read-only dirs */
    return remove(p);
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char tu_scratch_dir[PATH_MAX];
char tu_scratch_duckdb[PATH_MAX + 32];
char tu_scratch_sqlite[PATH_MAX + 32];

int tu_scratch_setup(void **state)
{
    (void)state;
    tu_mkdtemp(tu_scratch_dir);
    snprintf(tu_scratch_duckdb, sizeof tu_scratch_duckdb, "%s/quant.duckdb", tu_scratch_dir);
    snprintf(tu_scratch_sqlite, sizeof tu_scratch_sqlite, "%s/meta.sqlite", tu_scratch_dir);
    return 0;
}

int tu_scratch_teardown(void **state)
{
    (void)state;
    tu_rmrf(tu_scratch_dir);
    return 0;
}

char *tu_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (out_len)
        *out_len = len;
    return buf;
}

void tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Drain two pipes until both close, so a chatty child never blocks. */
static void drain(int fo, int fe, char **out, char **err)
{
    size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
    char *buf[2] = {malloc(cap[0]), malloc(cap[1])};
    assert_non_null(buf[0]);
    assert_non_null(buf[1]);
    struct pollfd p[2] = {{fo, POLLIN, 0}, {fe, POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (cap[i] - len[i] < 4096) {
                cap[i] *= 2;
                buf[i] = realloc(buf[i], cap[i]);
                assert_non_null(buf[i]);
            }
            ssize_t n = read(p[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            } else {
                len[i] += (size_t)n;
            }
        }
    }
    buf[0][len[0]] = '\0';
    buf[1][len[1]] = '\0';
    *out = buf[0];
    *err = buf[1];
}

/* argv for the child: the binary, then the caller's words.  Caller frees. */
static char **child_argv(const char *const *argv)
{
    size_t na = 0;
    while (argv[na])
        na++;
    char **cargv = calloc(na + 2, sizeof *cargv);
    assert_non_null(cargv);
    cargv[0] = (char *)QUANT_BIN;
    for (size_t i = 0; i < na; i++)
        cargv[i + 1] = (char *)argv[i];
    return cargv;
}

/* Environment: inherited, minus the user's quant settings, plus env.  Caller frees. */
static char **child_env(const char *const *env)
{
    size_t ne = 0, nx = 0;
    while (environ[ne])
        ne++;
    while (env && env[nx])
        nx++;
    char **cenv = calloc(ne + nx + 1, sizeof *cenv);
    assert_non_null(cenv);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        /* hermetic: no setting, key or scheduler shard (shard.h) of the caller's */
        if (strncmp(environ[i], "QUANT_", 6) == 0 ||
            strncmp(environ[i], "ALPHAVANTAGE_API_KEY=", 21) == 0 ||
            strncmp(environ[i], "SLURM_ARRAY_", 12) == 0 ||
            strncmp(environ[i], "JOB_COMPLETION_INDEX=", 21) == 0)
            continue;
        cenv[k++] = environ[i];
    }
    for (size_t i = 0; i < nx; i++)
        cenv[k++] = (char *)env[i];
    return cenv;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * The child's side of an unprivileged start: between fork and exec, so only
 * async-signal-safe calls.  Dropping a capability from the bounding set makes
 * the exec'd root process start without it.
 */
static void drop_privileges_or_exit(void)
{
    static const int caps[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        if (prctl(PR_CAPBSET_DROP, caps[i], 0, 0, 0) != 0) {
            static const char msg[] = "test_util: cannot drop root's file-permission "
                                      "capabilities (prctl PR_CAPBSET_DROP failed)\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)w;
            _exit(TU_EXIT_NOPRIV);
        }
    }
}

/*
 * Start quant with stdout/stderr on out_fd/err_fd (-1: /dev/null).  posix_spawn
 * where it can (cheap even for a big sanitized parent); fork + exec only when
 * privileges must be dropped in between.
 */
static pid_t start_child(const char *const *argv, const char *const *env,
                         const struct tu_run_opts *o, int out_fd, int err_fd)
{
    char **cargv = child_argv(argv), **cenv = child_env(env);
    int drop = o && o->unprivileged && geteuid() == 0;
    const char *cwd = o ? o->cwd : NULL;
    pid_t pid;
    if (drop) {
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        assert_true(null_fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(null_fd, 0);
            dup2(out_fd >= 0 ? out_fd : null_fd, 1);
            dup2(err_fd >= 0 ? err_fd : null_fd, 2);
            if (cwd && chdir(cwd) != 0)
                _exit(127);
            drop_privileges_or_exit();
            execve(QUANT_BIN, cargv, cenv);
            _exit(127);
        }
        close(null_fd);
    } else {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out_fd >= 0)
            posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (err_fd >= 0)
            posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
        else
            posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (cwd)
            posix_spawn_file_actions_addchdir_np(&fa, cwd);
        int rc = posix_spawn(&pid, QUANT_BIN, &fa, NULL, cargv, cenv);
        posix_spawn_file_actions_destroy(&fa);
        assert_int_equal(rc, 0);
    }
    free(cargv);
    free(cenv);
    return pid;
}

void tu_run_quant_opts(const char *const *argv, const char *const *env,
                       const struct tu_run_opts *opts, struct tu_result *res)
{
    int po[2], pe[2];
    assert_int_equal(pipe2(po, O_CLOEXEC), 0);
    assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
    pid_t pid = start_child(argv, env, opts, po[1], pe[1]);
    close(po[1]);
    close(pe[1]);
    drain(po[0], pe[0], &res->out, &res->err);
    res->status = wait_status(pid);
}

void tu_run_quant(const char *const *argv, const char *const *env, struct tu_result *res)
{
    tu_run_quant_opts(argv, env, NULL, res);
}

pid_t tu_spawn_quant_to(const char *const *argv, const char *const *env, const char *out_path,
                        const char *err_path)
{
    int fo = -1, fe = -1;
    if (out_path)
        assert_true((fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0);
    if (err_path)
        assert_true((fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0);
    pid_t pid = start_child(argv, env, NULL, fo, fe);
    if (fo >= 0)
        close(fo);
    if (fe >= 0)
        close(fe);
    return pid;
}

pid_t tu_spawn_quant(const char *const *argv, const char *const *env)
{
    return tu_spawn_quant_to(argv, env, NULL, NULL);
}

int tu_wait(pid_t pid)
{
    return wait_status(pid);
}

void tu_result_release(struct tu_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

int tu_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t l = strlen(needle);
    if (!l)
        return 0;
    /* One pass with strncmp (it stops at the end of hay), not strstr from
     * each match: under ASan every strstr call first measures the rest of
     * the haystack, which made counting the rows of a large `quant sql
     * --json` dump quadratic (over 10 minutes in cli/test_sql_e2e). */
    for (const char *p = hay; *p;) {
        if (*p == *needle && strncmp(p, needle, l) == 0) {
            n++;
            p += l;
        } else {
            p++;
        }
    }
    return n;
}

char *tu_sql_text(const char *const *env, const char *sql)
{
    struct tu_result r;
    tu_run_quant((const char *const[]){"sql", sql, "--csv", NULL}, env, &r);
    if (r.status != 0)
        fail_msg("quant sql failed (%d): %s", r.status, r.err);
    free(r.err);
    return r.out;
}

long tu_sql_long(const char *const *env, const char *sql)
{
    char *text = tu_sql_text(env, sql);
    char *nl = strchr(text, '\n');
    if (!nl || !nl[1])
        fail_msg("quant sql returned no row for: %s", sql);
    long v = strtol(nl + 1, NULL, 10);
    free(text);
    return v;
}

double tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* nftw has no user pointer: the search in progress (tests are single-threaded). */
static const char *find_needle;
static char *find_hit;

static int find_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode))
        return 0;
    size_t len;
    char *bytes = tu_read_file(p, &len);
    int hit = memmem(bytes, len, find_needle, strlen(find_needle)) != NULL;
    free(bytes);
    if (hit)
        find_hit = strdup(p);
    return hit;
}

char *tu_tree_find_bytes(const char *dir, const char *needle)
{
    find_needle = needle;
    find_hit = NULL;
    nftw(dir, find_one, 16, FTW_PHYS);
    return find_hit;
}

static char *home_file(const char *home, const char *name, size_t *len)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", home, name);
    return tu_read_file(p, len);
}

void tu_stores_take(const char *home, struct tu_stores *s)
{
    s->db = home_file(home, "quant.duckdb", &s->db_len);
    s->meta = home_file(home, "meta.sqlite", &s->meta_len);
    assert_non_null(s->db);
    assert_non_null(s->meta);
}

void tu_stores_assert_same(const char *home, const struct tu_stores *s)
{
    size_t n;
    char *db = home_file(home, "quant.duckdb", &n);
    assert_true(db && n == s->db_len && memcmp(db, s->db, n) == 0);
    free(db);
    char *meta = home_file(home, "meta.sqlite", &n);
    assert_true(meta && n == s->meta_len && memcmp(meta, s->meta, n) == 0);
    free(meta);
}

void tu_stores_release(struct tu_stores *s)
{
    free(s->db);
    free(s->meta);
    memset(s, 0, sizeof *s);
}

static long count_n;
static const char *count_suffix;
static int count_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path), k = strlen(count_suffix);
    if (flag == FTW_F && n >= k && strcmp(path + n - k, count_suffix) == 0)
        count_n++;
    return 0;
}

long tu_tree_count(const char *dir, const char *suffix)
{
    count_n = 0;
    count_suffix = suffix;
    nftw(dir, count_one, 16, FTW_PHYS);
    return count_n;
}
