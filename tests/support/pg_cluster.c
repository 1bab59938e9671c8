/*
 * pg_cluster.c: a throwaway PostgreSQL cluster for tests (pg_cluster.h).
 */
#define _GNU_SOURCE
#include "pg_cluster.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test_util.h"

static int is_exec(const char *path) { return access(path, X_OK) == 0; }

/* The folder holding initdb, pg_ctl and postgres. */
static int find_bindir(char out[PATH_MAX])
{
    const char *env = getenv("QUANT_PG_BINDIR");
    char probe[PATH_MAX + 16];
    if (env && *env) {
        snprintf(out, PATH_MAX, "%s", env);
        snprintf(probe, sizeof probe, "%s/initdb", out);
        return is_exec(probe);
    }
    int best = -1;
    DIR *d = opendir("/usr/lib/postgresql");
    for (struct dirent *e; d && (e = readdir(d));) {
        int v = atoi(e->d_name);
        snprintf(probe, sizeof probe, "/usr/lib/postgresql/%d/bin/initdb", v);
        if (v > best && is_exec(probe))
            best = v;
    }
    if (d)
        closedir(d);
    if (best >= 0) {
        snprintf(out, PATH_MAX, "/usr/lib/postgresql/%d/bin", best);
        return 1;
    }
    /* PATH: resolve the link, so pg_ctl and postgres are found beside it. */
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    int found = 0;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char real[PATH_MAX];
        snprintf(probe, sizeof probe, "%s/initdb", dir);
        if (is_exec(probe) && realpath(probe, real)) {
            *strrchr(real, '/') = '\0';
            snprintf(out, PATH_MAX, "%s", real);
            found = 1;
        }
    }
    free(copy);
    return found;
}

/* Run bindir/prog with args, as `postgres` when we are root; output to log. */
static int run_pg(const struct tu_pg *pg, const char *prog, const char *const *args,
                  const char *log)
{
    char bin[PATH_MAX + 16];
    snprintf(bin, sizeof bin, "%s/%s", pg->bindir, prog);
    const char *argv[32];
    int k = 0;
    if (geteuid() == 0) {
        argv[k++] = "runuser";
        argv[k++] = "-u";
        argv[k++] = "postgres";
        argv[k++] = "--";
    }
    argv[k++] = bin;
    for (int i = 0; args[i] && k < 31; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        if (geteuid() == 0) {
            execv("/usr/sbin/runuser", (char *const *)argv);
            execv("/sbin/runuser", (char *const *)argv);
        } else {
            execv(bin, (char *const *)argv);
        }
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void stop_and_delete(const struct tu_pg *pg)
{
    char data[PATH_MAX + 8], log[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(log, sizeof log, "%s/stop.log", pg->dir);
    struct stat sb;
    char pidfile[PATH_MAX + 32];
    snprintf(pidfile, sizeof pidfile, "%s/postmaster.pid", data);
    if (stat(pidfile, &sb) == 0) {
        const char *args[] = {"-D", data, "-m", "immediate", "-w", "-s", "stop", NULL};
        run_pg(pg, "pg_ctl", args, log);
    }
    nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The guard: waits for the test to close the pipe (or die), then cleans up. */
static void start_guard(struct tu_pg *pg)
{
    int fds[2];
    if (pipe(fds) != 0) {
        pg->guard = -1;
        pg->guard_fd = -1;
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        close(fds[1]);
        char c;
        while (read(fds[0], &c, 1) != 0 && errno == EINTR) {
        }
        stop_and_delete(pg);
        _exit(0);
    }
    close(fds[0]);
    /* Programs the test runs must not keep the cluster alive after it. */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pg->guard = pid;
    pg->guard_fd = fds[1];
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void append_log(char *why, size_t n, const char *log)
{
    char *text = NULL;
    FILE *f = fopen(log, "r");
    if (f) {
        text = calloc(1, 2048);
        if (text)
            (void)!fread(text, 1, 2047, f);
        fclose(f);
    }
    size_t used = strlen(why);
    if (text && used + 8 < n)
        snprintf(why + used, n - used, "; log: %s", text);
    free(text);
}

int tu_pg_start(struct tu_pg *pg, char *why, size_t n)
{
    memset(pg, 0, sizeof *pg);
    pg->guard = -1;
    pg->guard_fd = -1;
    if (!find_bindir(pg->bindir)) {
        snprintf(why, n, "PostgreSQL is not installed (no initdb in $QUANT_PG_BINDIR, "
                         "/usr/lib/postgresql/N/bin or PATH; apt-get install postgresql)");
        return 1;
    }
    struct passwd *pw = NULL;
    if (geteuid() == 0) {
        pw = getpwnam("postgres");
        if (!pw || !is_exec("/usr/sbin/runuser")) {
            snprintf(why, n, "running as root, and initdb refuses root: it needs the "
                             "postgres user and runuser (Debian's postgresql package makes "
                             "the user)");
            return 1;
        }
    }
    /* /tmp rather than $TMPDIR: the postgres user must reach the folder. */
    snprintf(pg->dir, sizeof pg->dir, "/tmp/quant-pg-XXXXXX");
    if (!mkdtemp(pg->dir)) {
        snprintf(why, n, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    if (pw && chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
        snprintf(why, n, "chown %s to postgres: %s", pg->dir, strerror(errno));
        nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    start_guard(pg);
    char data[PATH_MAX + 8], log[PATH_MAX + 16], slog[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(log, sizeof log, "%s/initdb.log", pg->dir);
    snprintf(slog, sizeof slog, "%s/server.log", pg->dir);
    const char *init[] = {"-D", data, "-U", "quant", "-A", "trust", "-E", "UTF8", "-N", NULL};
    if (run_pg(pg, "initdb", init, log) != 0) {
        snprintf(why, n, "initdb failed");
        append_log(why, n, log);
        tu_pg_stop(pg);
        return -1;
    }
    /* A port that was free a moment ago can be taken by then: try a few. */
    for (int attempt = 0; attempt < 3; attempt++) {
        pg->port = free_port();
        char opts[PATH_MAX + 256];
        snprintf(opts, sizeof opts,
                 "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c synchronous_commit=off -c full_page_writes=off",
                 pg->port, pg->dir);
        const char *start[] = {"-D", data, "-l", slog, "-o", opts, "-w", "-t", "60", "-s",
                               "start", NULL};
        if (run_pg(pg, "pg_ctl", start, log) == 0)
            return 0;
    }
    snprintf(why, n, "pg_ctl start failed");
    append_log(why, n, slog);
    tu_pg_stop(pg);
    return -1;
}

int tu_pg_create_db(struct tu_pg *pg, const char *name, char *url, size_t n)
{
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%d user=quant dbname=postgres connect_timeout=10", pg->port);
    PGconn *c = PQconnectdb(conninfo);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        snprintf(url, n, "connect: %s", c ? PQerrorMessage(c) : "out of memory");
        PQfinish(c);
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    PGresult *r = PQexec(c, sql);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(url, n, "%s: %s", sql, PQerrorMessage(c));
    else
        snprintf(url, n, "postgresql://quant@127.0.0.1:%d/%s", pg->port, name);
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

void tu_pg_stop(struct tu_pg *pg)
{
    if (pg->guard_fd >= 0) {
        close(pg->guard_fd);
        pg->guard_fd = -1;
    }
    if (pg->guard > 0) {
        int st;
        while (waitpid(pg->guard, &st, 0) < 0 && errno == EINTR) {
        }
        pg->guard = -1;
    } else if (pg->dir[0]) {
        stop_and_delete(pg); /* no guard could be started: clean up here */
    }
}

int tu_pg_start_or_skip(struct tu_pg *pg, const char *test_name)
{
    char why[4096];
    int rc = tu_pg_start(pg, why, sizeof why);
    if (rc == 0)
        return -1;
    if (rc < 0) {
        fprintf(stderr, "%s: could not start a PostgreSQL cluster: %s\n", test_name, why);
        return 1;
    }
    if (tu_under_ci()) {
        fprintf(stderr, "%s: under CI=%s: %s; CI must have it, so this is a failure, not a "
                        "skip\n", test_name, getenv("CI"), why);
        return 1;
    }
    printf("%s: SKIPPED: %s\n", test_name, why);
    return 77;
}
