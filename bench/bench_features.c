/*
 * bench_features.c: how fast the feature COMPUTE layer is (no storage).
 * Generates the synthetic universe (default 500 symbols x 6,500 days) with
 * quant_synth_generate, builds each symbol's adjusted series once, then times
 * tech-v1, alpha158 and labels (h = 5) over the whole universe, 5 runs each,
 * on 1 thread and on 2 pthreads splitting the symbols, and prints the median
 * seconds and values/s.  Usage: bench_features [symbols] [days] [runs] [only]
 * where `only` is tech-v1, labels, alpha158 or kernels (default: all but
 * kernels; `kernels` times each rolling.c kernel alone on the closes).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/rolling.h"
#include "quant/feature_sets.h"
#include "bench_util.h"
#include "providers/synthetic_internal.h"

#define MAX_THREADS 2

/* One job: a set (or labels when set is NULL) over symbols [lo, hi). */
struct job {
    const struct quant_feature_set *set;
    const struct quant_adjusted *adj;
    size_t lo, hi;
    long valid;        /* cells with a row: keeps the work observable */
    int failed;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct quant_feature_matrix m = {0};
    struct quant_err err;
    quant_err_clear(&err);
    for (size_t s = j->lo; s < j->hi; s++) {
        enum quant_code rc = j->set ? quant_features_compute(j->set, &j->adj[s], &m, &err)
                                    : quant_labels_compute(&j->adj[s], 5, &m, &err);
        if (rc) {
            fprintf(stderr, "bench_features: %s\n", err.msg);
            j->failed = 1;
            break;
        }
        j->valid += m.valid[m.n_features * m.n_rows - 1];
    }
    quant_feature_matrix_release(&m);
    return NULL;
}

/* Seconds for one pass over all symbols on n_threads threads. */
static double timed_pass(const struct quant_feature_set *set, const struct quant_adjusted *adj,
                         size_t n_sym, int n_threads)
{
    struct job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    double t0 = bench_now();
    for (int i = 0; i < n_threads; i++) {
        jobs[i] = (struct job){set, adj, n_sym * (size_t)i / (size_t)n_threads,
                               n_sym * (size_t)(i + 1) / (size_t)n_threads, 0, 0};
        if (n_threads == 1)
            run_job(&jobs[i]);
        else if (pthread_create(&th[i], NULL, run_job, &jobs[i]) != 0) {
            fprintf(stderr, "bench_features: cannot start a thread\n");
            exit(1);
        }
    }
    if (n_threads > 1)
        for (int i = 0; i < n_threads; i++)
            pthread_join(th[i], NULL);
    double dt = bench_now() - t0;
    for (int i = 0; i < n_threads; i++)
        if (jobs[i].failed)
            exit(1);
    return dt;
}

static void bench_one(const char *label, const struct quant_feature_set *set,
                      const struct quant_adjusted *adj, size_t n_sym, size_t rows, int runs)
{
    size_t per_row = set ? quant_feature_set_size(set) : 2;
    for (int threads = 1; threads <= MAX_THREADS; threads++) {
        double times[64];
        for (int r = 0; r < runs; r++)
            times[r] = timed_pass(set, adj, n_sym, threads);
        double med = bench_median(times, runs); /* sorts times */
        printf("%-10s %d thread%s  median %7.3f s  (min %7.3f)  %6.1f M values/s\n", label,
               threads, threads == 1 ? " " : "s", med, times[0],
               (double)(per_row * rows) / med / 1e6);
    }
}

enum kernel { K_SUM, K_STD, K_MAX, K_RANKQ, K_REGRESS, K_CORR, K_COUNT };
static const char *const kernel_names[K_COUNT] = {
    "sum (Neumaier)", "std (corrected two-pass)", "max + idxmax (deque)",
    "rank + 2 quantiles (sorted window)", "OLS slope/R2/resi", "corr",
};

struct kernel_buffers {
    double *mean, *mean2, *a, *b, *c, *sorted;
    uint32_t *run, *run2;
    size_t *idx;
};

static void run_kernel(enum kernel k, const struct quant_adjusted *s, size_t d,
                       struct kernel_buffers *B)
{
    size_t n = s->n;
    switch (k) {
    case K_SUM: qr_rolling_sum(s->close, n, d, B->a); break;
    case K_STD: qr_rolling_std(s->close, B->mean, B->run, n, d, 1, B->a); break;
    case K_MAX: qr_rolling_max(s->high, n, d, B->a, B->b, B->idx); break;
    case K_RANKQ:
        qr_rolling_rank_quantiles(s->close, n, d, 0.2, 0.8, B->a, B->b, B->c, B->sorted);
        break;
    case K_REGRESS: qr_rolling_regression(s->close, B->mean, B->run, n, d, B->a, B->b, B->c); break;
    case K_CORR:
        qr_rolling_corr(s->close, s->volume, B->mean, B->mean2, B->run, B->run2, n, d, B->a);
        break;
    default: break;
    }
}

/* Each kernel alone over every symbol's series (means and runs precomputed). */
static void bench_kernels(const struct quant_adjusted *adj, size_t n_sym, size_t rows)
{
    size_t cap = 0;
    for (size_t s = 0; s < n_sym; s++)
        cap = adj[s].n > cap ? adj[s].n : cap;
    struct kernel_buffers B;
    double **arr[] = {&B.mean, &B.mean2, &B.a, &B.b, &B.c, &B.sorted};
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++)
        *arr[i] = malloc((cap + 64) * sizeof(double));
    B.run = malloc(cap * sizeof(uint32_t));
    B.run2 = malloc(cap * sizeof(uint32_t));
    B.idx = malloc(cap * sizeof(size_t));
    const size_t ds[] = {5, 20, 60};
    for (int k = 0; k < K_COUNT; k++) {
        printf("kernel %-36s", kernel_names[k]);
        for (size_t i = 0; i < 3; i++) {
            double total = 0;
            for (size_t s = 0; s < n_sym; s++) {
                qr_rolling_mean(adj[s].close, adj[s].n, ds[i], B.mean);
                qr_rolling_mean(adj[s].volume, adj[s].n, ds[i], B.mean2);
                qr_equal_runs(adj[s].close, adj[s].n, B.run);
                qr_equal_runs(adj[s].volume, adj[s].n, B.run2);
                double t0 = bench_now();
                run_kernel((enum kernel)k, &adj[s], ds[i], &B);
                total += bench_now() - t0;
            }
            printf("  d=%-2zu %5.1f ns/value", ds[i], total / (double)rows * 1e9);
        }
        printf("\n");
    }
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++)
        free(*arr[i]);
    free(B.run);
    free(B.run2);
    free(B.idx);
}

int main(int argc, char **argv)
{
    size_t n_sym = argc > 1 ? strtoul(argv[1], NULL, 10) : 500;
    int n_days = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 6500;
    int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    const char *only = argc > 4 ? argv[4] : NULL;
    if (n_sym == 0 || n_days <= 0 || runs <= 0 || runs > 64) {
        fprintf(stderr, "usage: bench_features [symbols>0] [days>0] [runs 1..64]\n");
        return 2;
    }
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.n_days = n_days;
    o.end_date = 20000;
    struct quant_adjusted *adj = calloc(n_sym, sizeof *adj);
    struct quant_bars b;
    quant_bars_init(&b);
    struct quant_err err;
    quant_err_clear(&err);
    size_t rows = 0;
    double t0 = bench_now();
    for (size_t s = 0; s < n_sym; s++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name((int)s, sym);
        b.n = 0;
        if (quant_synth_generate(&o, sym, &b, &err) ||
            quant_adjusted_compute(&b, &adj[s], &err)) {
            fprintf(stderr, "bench_features: %s\n", err.msg);
            return 1;
        }
        rows += b.n;
    }
    printf("universe: %zu symbols x %d days = %zu bars (generated + adjusted in %.2f s)\n",
           n_sym, n_days, rows, bench_now() - t0);
    if (!only || strcmp(only, "tech-v1") == 0)
        bench_one("tech-v1", quant_feature_set_find("tech-v1"), adj, n_sym, rows, runs);
    if (!only || strcmp(only, "labels") == 0)
        bench_one("labels", NULL, adj, n_sym, rows, runs);
    if (!only || strcmp(only, "alpha158") == 0)
        bench_one("alpha158", quant_feature_set_find("alpha158"), adj, n_sym, rows, runs);
    if (only && strcmp(only, "kernels") == 0)
        bench_kernels(adj, n_sym, rows);
    for (size_t s = 0; s < n_sym; s++)
        quant_adjusted_release(&adj[s]);
    free(adj);
    quant_bars_release(&b);
    return 0;
}
