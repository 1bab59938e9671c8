/*
 * bench_csv_parse.c: how fast CSV price files parse.  Writes N symbols x D
 * days of synthetic bars (default 500 x 6500) to a temp dir, once as one long
 * file with a symbol column and once as one Yahoo-format file per symbol, then
 * times quant_csv_parse on the long file (text already in memory) and
 * quant_csv_open on the directory (reading the files too), 5 runs each, and
 * prints the median rows/s.  Usage: bench_csv_parse [symbols] [days]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "providers/csv_provider_internal.h"
#include "bench_util.h"
#include "providers/synthetic_internal.h"

#define RUNS 5

static void write_row(FILE *f, const char *sym, const struct quant_bar *b)
{
    char date[11];
    quant_date_format(b->date, date);
    if (sym)
        fprintf(f, "%s,", sym);
    fprintf(f, "%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.0f\n", date, b->open, b->high, b->low, b->close,
            b->adj_close, b->volume);
}

/* Write the long file and the per-symbol files; returns the row count. */
static long write_data(const char *dir, int n_sym, int n_days)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/long.data", dir);
    FILE *lf = fopen(path, "w");
    if (!lf)
        return -1;
    fprintf(lf, "Symbol,Date,Open,High,Low,Close,Adj Close,Volume\n");
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.n_days = n_days;
    o.end_date = 20000;
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/files", dir);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST)
        return -1;
    long rows = 0;
    for (int s = 0; s < n_sym; s++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(s, sym);
        struct quant_bars b;
        quant_bars_init(&b);
        struct quant_err err;
        if (quant_synth_generate(&o, sym, &b, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return -1;
        }
        snprintf(path, sizeof path, "%s/%s.csv", sub, sym);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        fprintf(f, "Date,Open,High,Low,Close,Adj Close,Volume\n");
        for (size_t i = 0; i < b.n; i++) {
            write_row(lf, sym, &b.v[i]);
            write_row(f, NULL, &b.v[i]);
        }
        fclose(f);
        rows += (long)b.n;
        quant_bars_release(&b);
    }
    fclose(lf);
    return rows;
}

static int bench_long(const char *dir, long rows)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/long.data", dir);
    struct quant_buf buf;
    quant_buf_init(&buf, 0);
    struct quant_err err;
    if (quant_buf_read_file(&buf, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        struct quant_csv_file f;
        double t0 = bench_now();
        if (quant_csv_parse(buf.data, buf.len, NULL, &f, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t[r] = bench_now() - t0;
        size_t n = 0;
        for (size_t i = 0; i < f.n_series; i++)
            n += f.series[i].n;
        if ((long)n != rows) {
            fprintf(stderr, "long file: parsed %zu rows, wrote %ld\n", n, rows);
            return 1;
        }
        quant_csv_file_release(&f);
    }
    double m = bench_median(t, RUNS);
    printf("quant_csv_parse, one long file (%.0f MB in memory): median %.3f s, %.1f M rows/s, "
           "%.0f MB/s\n", (double)buf.len / 1e6, m, (double)rows / m / 1e6,
           (double)buf.len / m / 1e6);
    quant_buf_release(&buf);
    return 0;
}

static int bench_dir(const char *dir, long rows)
{
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/files", dir);
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        struct quant_provider p;
        struct quant_err err;
        double t0 = bench_now();
        if (quant_csv_open(sub, NULL, 0, &p, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t[r] = bench_now() - t0;
        p.ops->close(p.state);
    }
    double m = bench_median(t, RUNS);
    printf("quant_csv_open, directory of Yahoo files (read + parse + merge): median %.3f s, "
           "%.1f M rows/s\n", m, (double)rows / m / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    int n_sym = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 500;
    int n_days = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 6500;
    if (n_sym < 1 || n_days < 1) {
        fprintf(stderr, "usage: bench_csv_parse [symbols] [days]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/bench-csv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    long rows = write_data(dir, n_sym, n_days);
    int rc = rows < 0;
    if (rc)
        fprintf(stderr, "cannot write test data under %s\n", dir);
    else
        printf("%d symbols x %d days = %ld rows\n", n_sym, n_days, rows);
    if (!rc)
        rc = bench_long(dir, rows);
    if (!rc)
        rc = bench_dir(dir, rows);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
