/*
 * openmp.c: the OpenMP wait policy the training and scoring commands run
 * with, settled before any shared library is initialised.  It must not do
 * anything else: it runs before DuckDB, LightGBM and XGBoost are set up, and
 * before main().
 *
 * Why: LightGBM and XGBoost both run on GCC's libgomp (lib_lightgbm.so and
 * Debian's libxgboost.so.0 both link libgomp.so.1).  By default a libgomp
 * worker that runs out of work spins for about 300,000 iterations before it
 * sleeps, on the bet that it has the core to itself.  A boosting round is
 * hundreds of short parallel loops, so on a shared machine the spinning
 * workers of one process take the cores the other process's workers need:
 * on this project's 2-core machine two trainings at once took 7.7 s each
 * against 0.56 s alone.  With OMP_WAIT_POLICY=passive a waiting worker sleeps
 * at once and a training degrades with the load instead of collapsing
 * (README "Training on a shared machine" has the measurements).
 *
 * Why a re-exec: libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in
 * its constructor, which the dynamic loader runs before main(), so a setenv
 * in main() is too late.  Nor does a setenv in the executable's preinit array
 * (which runs before every library constructor) survive: libc's initialiser
 * then sets `environ` to the original envp (measured), and a small shared
 * library setting it from its constructor was initialised after libgomp
 * whether linked first or last (measured with LD_DEBUG=files).  So when
 * neither variable is set, this hook execs quant again with the same arguments and
 * OMP_WAIT_POLICY=passive added to its environment; the second start finds
 * the variable in its envp and goes on.  It runs from the preinit array,
 * before any library constructor, so nothing has been initialised that an
 * exec could lose and the first start costs only the loader's work (about
 * 0.1 s on the 2-core machine; README).  Only the commands that run OpenMP
 * (train, score, demo) pay it.  When the exec fails (no /proc) quant runs
 * with libgomp's defaults.
 * A tool that does not follow an exec (valgrind without --trace-children)
 * should set the variable itself: scripts/valgrind-demo.sh does.
 *
 * Override: a user who sets OMP_WAIT_POLICY or GOMP_SPINCOUNT keeps it
 * (GOMP_SPINCOUNT takes precedence in libgomp, so either one means "the user
 * chose"): `OMP_WAIT_POLICY=active quant train ...` restores spinning on a
 * machine known to be idle.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/banned.h"

/* The global options of main.c that take a value as the next word. */
static int takes_value(const char *opt)
{
    static const char *const with_value[] = {"--home", "--duckdb", "--sqlite",
                                             "--alphavantage-url"};
    for (size_t i = 0; i < sizeof with_value / sizeof *with_value; i++)
        if (strcmp(opt, with_value[i]) == 0)
            return 1;
    return 0;
}

/* 1 when the command word (the first word after the global options) is one
 * whose work runs on OpenMP. */
static int runs_openmp(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i] && strncmp(argv[i], "--", 2) == 0)
        i += takes_value(argv[i]) ? 2 : 1;
    if (i >= argc || !argv[i])
        return 0;
    return strcmp(argv[i], "train") == 0 || strcmp(argv[i], "score") == 0 ||
           strcmp(argv[i], "demo") == 0;
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

static void quant_openmp_defaults(int argc, char **argv, char **envp)
{
    if (env_get(envp, "OMP_WAIT_POLICY") || env_get(envp, "GOMP_SPINCOUNT") ||
        !runs_openmp(argc, argv))
        return;
    size_t n = 0;
    while (envp && envp[n])
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    if (!env)
        return;
    for (size_t i = 0; i < n; i++)
        env[i] = envp[i];
    env[n] = "OMP_WAIT_POLICY=passive";
    env[n + 1] = NULL;
    /* The new image finds the variable in its envp and does not come back here. */
    execve("/proc/self/exe", argv, env);
    free(env);   /* the exec failed: run with libgomp's defaults */
}

/* The loader calls each entry with (argc, argv, envp) before any constructor. */
__attribute__((used, section(".preinit_array")))
static void (*const quant_openmp_preinit)(int, char **, char **) = quant_openmp_defaults;
