/*
 * bench_derive.c: `quant features` and `quant labels` end to end (read bars,
 * compute on 2 threads, store) on the synthetic universe, default 500
 * symbols x 6,500 days, through the real binary and a real DuckDB file.
 *
 * For each of tech-v1, labels (h = 5) and alpha158 it runs the command with
 * --force `runs` times and reports the median wall time, the median split
 * the command itself prints (read / compute CPU / store) and the peak RSS.
 * The baseline, in the same invocation: computing the same set in this
 * process on one thread with no storage at all (median of `runs`), so the
 * ratio says what storing and orchestration cost on top of the kernels.
 *
 * usage: bench_derive [--symbols N] [--days D] [--runs R] [--alpha-runs R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "quant/feature_sets.h"
#include "providers/synthetic_internal.h"

/* Pull "read X s, compute Y CPU-s ..., store Z s" out of the Done line. */
static void parse_split(const char *out, double *rd, double *cpu, double *st)
{
    const char *p = strstr(out, "(read ");
    *rd = *cpu = *st = 0;
    if (!p || sscanf(p, "(read %lf s, compute %lf CPU-s", rd, cpu) != 2)
        return;
    const char *q = strstr(p, "store ");
    if (q)
        sscanf(q, "store %lf", st);
}

static double compute_only(const struct quant_feature_set *set, int n_symbols, int n_days)
{
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.n_days = n_days;
    o.end_date = 20000;
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_adjusted adj = {0};
    struct quant_feature_matrix m = {0};
    struct quant_err err;
    double total = 0;
    for (int i = 0; i < n_symbols; i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(i, sym);
        b.n = 0;
        if (quant_synth_generate(&o, sym, &b, &err) || quant_adjusted_compute(&b, &adj, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
        double t0 = bench_now();
        enum quant_code rc = set ? quant_features_compute(set, &adj, &m, &err)
                                 : quant_labels_compute(&adj, 5, &m, &err);
        total += bench_now() - t0;
        if (rc) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
    }
    quant_feature_matrix_release(&m);
    quant_adjusted_release(&adj);
    quant_bars_release(&b);
    return total;
}

static void bench_one(const char *bin, const char *home, const char *what, int runs,
                      int n_symbols, int n_days)
{
    int labels = strcmp(what, "labels") == 0;
    const struct quant_feature_set *set = labels ? NULL : quant_feature_set_find(what);
    double wall[50], rd[50], cpu[50], st[50], base[50], rss = 0, max_rss = 0;
    static char out[1 << 20];
    for (int r = 0; r < runs; r++) {
        char *argv_f[] = {(char *)bin, "--home", (char *)home, "features", "--set", (char *)what,
                          "--force", NULL};
        char *argv_l[] = {(char *)bin, "--home", (char *)home, "labels", "--force", NULL};
        wall[r] = bench_run(labels ? argv_l : argv_f, out, sizeof out, &rss);
        if (rss > max_rss)
            max_rss = rss;
        parse_split(out, &rd[r], &cpu[r], &st[r]);
        base[r] = compute_only(set, n_symbols, n_days);
    }
    double mw = bench_median(wall, runs), mb = bench_median(base, runs);
    printf("%-9s end to end: median %.2f s (read %.2f s, compute %.2f CPU-s, store %.2f s; "
           "peak RSS %.0f MB)\n",
           what, mw, bench_median(rd, runs), bench_median(cpu, runs), bench_median(st, runs),
           max_rss);
    printf("%-9s baseline, compute only on 1 thread in-process: median %.2f s; "
           "ratio end-to-end / baseline %.1f\n", what, mb, mw / mb);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int n_symbols = 500, n_days = 6500, runs = 3, alpha_runs = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--symbols") == 0) n_symbols = (int)v;
        else if (strcmp(argv[i], "--days") == 0) n_days = (int)v;
        else if (strcmp(argv[i], "--runs") == 0) runs = (int)v;
        else if (strcmp(argv[i], "--alpha-runs") == 0) alpha_runs = (int)v;
    }
    if (n_symbols < 1 || n_days < 1 || runs < 1 || runs > 50 || alpha_runs < 0 ||
        alpha_runs > 50) {
        fprintf(stderr, "usage: bench_derive [--symbols N] [--days D] [--runs R] "
                        "[--alpha-runs R]\n");
        return 2;
    }
    char bin[PATH_MAX];
    bench_quant_path(bin);
    char home[] = "/tmp/quant-bench-derive-XXXXXX";
    if (!mkdtemp(home))
        return 1;
    /* The universe goes in through the synthetic provider (no CSV step). */
    size_t cap = (size_t)n_symbols * 16 + 64;
    char **args = calloc((size_t)n_symbols + 16, sizeof *args);
    char *names = calloc(cap, 1);
    int k = 0;
    char days[16];
    snprintf(days, sizeof days, "%d", n_days);
    const char *fixed[] = {bin, "--home", home, "ingest", "--provider", "synthetic", "--days",
                           days, "--symbols"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        args[k++] = (char *)fixed[i];
    for (int i = 0; i < n_symbols; i++) {
        char *slot = names + (size_t)i * 16;
        quant_synth_symbol_name(i, slot);
        args[k++] = slot;
    }
    double t = bench_run(args, NULL, 0, NULL);
    printf("universe: %d symbols x %d days ingested in %.1f s; %d runs each (alpha158: %d)\n",
           n_symbols, n_days, t, runs, alpha_runs);
    fflush(stdout);
    bench_one(bin, home, "tech-v1", runs, n_symbols, n_days);
    bench_one(bin, home, "labels", runs, n_symbols, n_days);
    if (alpha_runs)
        bench_one(bin, home, "alpha158", alpha_runs, n_symbols, n_days);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", home);
    free(args);
    free(names);
    return 0;
}
