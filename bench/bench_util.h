/*
 * bench_util.h: what the benchmark programs share: a monotonic clock, medians,
 * finding the quant binary beside the bench, and running it with its peak RSS.
 * Header-only on purpose: each bench file is a separate program.
 */
#ifndef QUANT_BENCH_UTIL_H
#define QUANT_BENCH_UTIL_H

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The quant binary next to this bench program. */
static inline void bench_quant_path(char out[PATH_MAX])
{
    ssize_t len = readlink("/proc/self/exe", out, PATH_MAX - 16);
    if (len < 0) {
        perror("readlink");
        exit(1);
    }
    out[len] = '\0';
    char *slash = strrchr(out, '/');
    snprintf(slash + 1, (size_t)(PATH_MAX - (slash + 1 - out)), "quant");
}

/*
 * Run argv (argv[0] = the binary) with stdout captured into out (may be NULL,
 * size n); exits the bench on failure.  Returns wall seconds; *rss_mb gets the
 * child's peak RSS.
 */
static inline double bench_run(char *const argv[], char *out, size_t n, double *rss_mb)
{
    int fd[2];
    if (pipe(fd) != 0) {
        perror("pipe");
        exit(1);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    double t0 = bench_now();
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    size_t len = 0;
    char buf[4096];
    ssize_t k;
    while ((k = read(fd[0], buf, sizeof buf)) > 0) {
        if (out && len + (size_t)k < n) {
            memcpy(out + len, buf, (size_t)k);
            len += (size_t)k;
        }
    }
    close(fd[0]);
    if (out)
        out[len] = '\0';
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s %s failed (status %d)\n", argv[0], argv[1] ? argv[1] : "", st);
        exit(1);
    }
    if (rss_mb)
        *rss_mb = (double)ru.ru_maxrss / 1024.0;
    return bench_now() - t0;
}

#endif
