/*
 * bench_store.c: how fast the DuckDB series store takes a universe of bars.
 * It generates a synthetic 500 x 6,500-day universe in memory (so only the
 * store is timed, not CSV parsing) and times, into a fresh store each run:
 * the first ingest (every symbol new), a re-ingest of identical data, and a
 * re-ingest where 5% of each series changed, both one symbol per call and
 * batched with quant_series_store_upsert_many.  Prints the median rows/s.
 *
 *   bench_store [runs=3] [symbols=500] [days=6500] [batch=50]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quant/series_store.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, const struct quant_err *err)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, err->msg);
    exit(1);
}

/* A random walk per symbol; deterministic so every run writes the same data. */
static void make_universe(struct quant_bars *u, int nsym, int days)
{
    unsigned seed = 12345;
    for (int s = 0; s < nsym; s++) {
        quant_bars_init(&u[s]);
        snprintf(u[s].symbol, sizeof u[s].symbol, "S%04d", s);
        if (quant_bars_reserve(&u[s], (size_t)days))
            exit(1);
        double px = 20.0 + s % 100;
        for (int d = 0; d < days; d++) {
            px *= 1.0 + ((double)(rand_r(&seed) % 2001) - 1000.0) / 50000.0;
            struct quant_bar b = {.date = 8000 + d, .open = px * 0.99, .high = px * 1.01,
                                  .low = px * 0.98, .close = px, .adj_close = px * 0.97,
                                  .volume = 1e6 + rand_r(&seed) % 100000,
                                  .dividend = 0.0, .split = 1.0};
            u[s].v[u[s].n++] = b;
        }
    }
}

/* Change 5% of each series' closes (every 20th bar). */
static void perturb(struct quant_bars *u, int nsym, double by)
{
    for (int s = 0; s < nsym; s++)
        for (size_t i = 0; i < u[s].n; i += 20)
            u[s].v[i].close += by;
}

static double ingest(struct quant_series_store *st, struct quant_bars *u, int nsym, int batch,
                     long expect_ins, long expect_upd)
{
    struct quant_err err;
    quant_err_clear(&err);
    long ins = 0, upd = 0;
    struct quant_upsert_stats *stats = calloc((size_t)batch, sizeof *stats);
    double t0 = now_s();
    for (int s = 0; s < nsym; s += batch) {
        int n = nsym - s < batch ? nsym - s : batch;
        if (quant_series_store_upsert_many(st, u + s, (size_t)n, "bench", stats, &err))
            die("upsert", &err);
        for (int i = 0; i < n; i++)
            ins += stats[i].inserted, upd += stats[i].updated;
    }
    double dt = now_s() - t0;
    free(stats);
    if (ins != expect_ins || upd != expect_upd) {
        fprintf(stderr,
                "bench_store: wrong counts: inserted %ld (want %ld), updated %ld (want %ld)\n",
                ins, expect_ins, upd, expect_upd);
        exit(1);
    }
    return dt;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3;
    int nsym = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 500;
    int days = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 6500;
    int big = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 50;
    if (runs < 1 || runs > 15 || nsym < 1 || days < 1 || big < 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct quant_bars *u = calloc((size_t)nsym, sizeof *u);
    make_universe(u, nsym, days);
    long rows = (long)nsym * days, changed = (long)nsym * ((days + 19) / 20);
    const int batches[2] = {1, big};
    const char *phase[3] = {"fresh", "unchanged", "changed 5%"};
    double t[2][3][15];
    for (int r = 0; r < runs; r++) {
        for (int b = 0; b < 2; b++) {
            char dir[] = "/tmp/quant-bench-XXXXXX", path[64];
            if (!mkdtemp(dir))
                return 1;
            snprintf(path, sizeof path, "%s/quant.duckdb", dir);
            struct quant_series_store *st;
            struct quant_err err;
            struct quant_series_store_options o = {0};
            if (quant_series_store_open(path, &o, &st, &err))
                die("open", &err);
            t[b][0][r] = ingest(st, u, nsym, batches[b], rows, 0);
            t[b][1][r] = ingest(st, u, nsym, batches[b], 0, 0);
            perturb(u, nsym, 0.5);
            t[b][2][r] = ingest(st, u, nsym, batches[b], 0, changed);
            perturb(u, nsym, -0.5);
            quant_series_store_close(st);
            char cmd[128];
            snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
            if (system(cmd) != 0)
                return 1;
            printf("run %d batch %3d: fresh %.2fs  unchanged %.2fs  changed %.2fs\n", r + 1,
                   batches[b], t[b][0][r], t[b][1][r], t[b][2][r]);
        }
    }
    printf("\n%d symbols x %d days = %ld rows; median of %d runs\n", nsym, days, rows, runs);
    for (int b = 0; b < 2; b++)
        for (int p = 0; p < 3; p++) {
            qsort(t[b][p], (size_t)runs, sizeof(double), cmp_double);
            double med = t[b][p][runs / 2];
            printf("  %-11s %3d symbol(s)/call: %6.2f s  %10.0f rows/s\n", phase[p], batches[b],
                   med, (double)rows / med);
        }
    for (int s = 0; s < nsym; s++)
        quant_bars_release(&u[s]);
    free(u);
    return 0;
}
