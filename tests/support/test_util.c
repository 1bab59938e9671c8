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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *tu_shared_data(void)
{
    static char path[PATH_MAX];
    static int done;
    if (!done) {
        done = 1;
        const char *env = getenv("QUANT_SHARED_DATA");
        const char *cand = (env && *env) ? env : QUANT_SHARED_DATA_DEFAULT;
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
        if (strncmp(environ[i], "QUANT_", 6) == 0 ||
            strncmp(environ[i], "ALPHAVANTAGE_API_KEY=", 21) == 0)
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

void tu_run_quant(const char *const *argv, const char *const *env, struct tu_result *res)
{
    char **cargv = child_argv(argv), **cenv = child_env(env);
    int po[2], pe[2];
    assert_int_equal(pipe2(po, O_CLOEXEC), 0);
    assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, QUANT_BIN, &fa, NULL, cargv, cenv);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    assert_int_equal(rc, 0);
    drain(po[0], pe[0], &res->out, &res->err);
    res->status = wait_status(pid);
    free(cargv);
    free(cenv);
}

pid_t tu_spawn_quant(const char *const *argv, const char *const *env)
{
    char **cargv = child_argv(argv), **cenv = child_env(env);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, QUANT_BIN, &fa, NULL, cargv, cenv);
    posix_spawn_file_actions_destroy(&fa);
    free(cargv);
    free(cenv);
    assert_int_equal(rc, 0);
    return pid;
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
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle))
        n++;
    return n;
}
