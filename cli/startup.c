/*
 * startup.c: the process settings quant's heavy commands run with, settled
 * before any shared library is initialised.  It must not do anything else: it
 * runs before DuckDB, LightGBM and XGBoost are set up, and before main().
 * Two settings, each only when the user has not chosen one:
 *
 * OMP_WAIT_POLICY=passive, for the commands that run OpenMP (train, score,
 * demo).  LightGBM and XGBoost both run on GCC's libgomp.  By default a libgomp
 * worker that runs out of work spins for about 300,000 iterations before it
 * sleeps, on the bet that it has the core to itself.  A boosting round is
 * hundreds of short parallel loops, so on a shared machine the spinning
 * workers of one process take the cores the other process's workers need:
 * on this project's 2-core machine two trainings at once took 7.7 s each
 * against 0.56 s alone.  Passive, a waiting worker sleeps at once and a
 * training degrades with the load instead of collapsing (README "Training on
 * a shared machine").  Chosen by the user: OMP_WAIT_POLICY or GOMP_SPINCOUNT.
 *
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1:..., for the commands that hold a
 * store's worth of bars in memory (ingest, features, labels, train, score,
 * export, demo).  On the virtual machines quant is measured on a first touch
 * of a 4 KiB page costs about 15 us (64 MiB: 0.2 s), so filling the bars of
 * the 120-symbol universe (60 MB) cost 0.17 s of page faults and 0.01 s of
 * work.  With hugetlb=1 glibc's malloc asks the kernel for transparent huge
 * pages (2 MiB, 512 times fewer faults: 0.17 s -> 0.014 s for that fill); the
 * mmap threshold keeps arrays up to 32 MiB in the heap that is so advised
 * (each bigger block is advised by itself), and the trim threshold keeps
 * freed memory for the next array instead of returning it to be faulted in
 * again.  The cost is memory rounded up to 2 MiB, nothing for a run that
 * holds hundreds of megabytes.  Chosen by the user: GLIBC_TUNABLES.  A build
 * with a sanitizer leaves it alone (the sanitizer's allocator ignores it).
 *
 * Why a re-exec: libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in
 * its constructor, and glibc reads its tunables as the process starts, both
 * before main(), so a setenv in main() is too late.  Nor does a setenv in the
 * executable's preinit array (which runs before every library constructor)
 * survive: libc's initialiser then sets `environ` to the original envp
 * (measured), and a small shared library setting it from its constructor was
 * initialised after libgomp whether linked first or last (measured with
 * LD_DEBUG=files).  So when a setting is missing, this hook execs quant again
 * with the same arguments and the variables added to its environment; the
 * second start finds them in its envp and goes on.  It runs from the preinit
 * array, before any library constructor, so nothing has been initialised
 * that an exec could lose, and the first start costs only the dynamic
 * loader's work (about 0.04 s on the 2-core machine).  Commands that do not
 * need either setting (sql, status, --help of the others ...) do not pay it.
 * When the exec fails (no /proc) quant runs with the defaults.
 * A tool that does not follow an exec (valgrind without --trace-children)
 * should set the variables itself: scripts/valgrind-demo.sh does.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/banned.h"

/* The global options of main.c that take a value as the next word. */
static int takes_value(const char *opt)
{
    static const char *const with_value[] = {"--home", "--duckdb", "--sqlite", "--meta-url",
                                             "--lake", "--alphavantage-url"};
    for (size_t i = 0; i < sizeof with_value / sizeof *with_value; i++)
        if (strcmp(opt, with_value[i]) == 0)
            return 1;
    return 0;
}

/* The command word: the first word after the global options (NULL: none). */
static const char *command_word(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i] && strncmp(argv[i], "--", 2) == 0)
        i += takes_value(argv[i]) ? 2 : 1;
    return i < argc ? argv[i] : NULL;
}

static int is_one_of(const char *word, const char *const *list)
{
    for (; word && *list; list++)
        if (strcmp(word, *list) == 0)
            return 1;
    return 0;
}

/* 1 when argv asks for help, which loads no data whatever the command. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && argv[i]; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* The value of `name` in envp, or NULL.  getenv() cannot be used here: libc
 * has not set `environ` yet when the preinit array runs. */
static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QUANT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define QUANT_SANITIZED 1
#endif
#endif

#define QUANT_MALLOC_TUNABLES                                                        \
    "GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:"    \
    "glibc.malloc.trim_threshold=1073741824"

/*
 * The entries to add to envp for `quant ARGV` (at most two, into add[]; the
 * count is returned).  Separate from the exec so that tests/cli/test_startup.c
 * can check the decision itself.
 */
int quant_startup_plan_(int argc, char **argv, char **envp, const char *add[2]);
int quant_startup_plan_(int argc, char **argv, char **envp, const char *add[2])
{
    static const char *const openmp[] = {"train", "score", "walkforward", "demo", NULL};
    static const char *const bulk[] = {"ingest", "features", "labels", "train", "score",
                                       "walkforward", "evaluate", "export", "demo", NULL};
    const char *cmd = command_word(argc, argv);
    int n = 0;
    if (!cmd)
        return 0;
    /* train --help shows what libgomp got (OMP_DISPLAY_ENV), so help keeps it */
    if (is_one_of(cmd, openmp) && !env_get(envp, "OMP_WAIT_POLICY") &&
        !env_get(envp, "GOMP_SPINCOUNT"))
        add[n++] = "OMP_WAIT_POLICY=passive";
    int tune = is_one_of(cmd, bulk) && !wants_help(argc, argv) &&
               !env_get(envp, "GLIBC_TUNABLES");
#ifdef QUANT_SANITIZED
    tune = 0; /* the sanitizer's allocator ignores glibc's tunables */
#endif
    if (tune)
        add[n++] = QUANT_MALLOC_TUNABLES;
    return n;
}

#ifndef QUANT_STARTUP_NO_HOOK
static void quant_startup_defaults(int argc, char **argv, char **envp)
{
    const char *add[2];
    int k = quant_startup_plan_(argc, argv, envp, add);
    if (k == 0)
        return;
    size_t n = 0;
    while (envp && envp[n])
        n++;
    char **env = malloc((n + (size_t)k + 1) * sizeof *env);
    if (!env)
        return;
    for (size_t i = 0; i < n; i++)
        env[i] = envp[i];
    for (int i = 0; i < k; i++)
        env[n + (size_t)i] = (char *)add[i];
    env[n + (size_t)k] = NULL;
    /* The new image finds the variables in its envp and does not come back here. */
    execve("/proc/self/exe", argv, env);
    free(env);   /* the exec failed: run with the defaults */
}

/* The loader calls each entry with (argc, argv, envp) before any constructor.
 * tests/cli/test_startup.c compiles this file without the hook. */
__attribute__((used, section(".preinit_array")))
static void (*const quant_startup_preinit)(int, char **, char **) = quant_startup_defaults;
#endif
