/*
 * bench_ingest.c: end-to-end CSV ingest throughput.
 *
 * Writes a synthetic universe (default 500 symbols x 6,500 days) as one
 * Yahoo-format CSV per symbol, then times `quant ingest --csv DIR` into a
 * fresh store, `runs` times (default 5), and reports the median wall time,
 * rows per second and peak RSS.  The baseline, run in the same invocation on
 * the same files: DuckDB's own multi-threaded CSV reader loading the same
 * files straight into an identical table (read_csv + INSERT), also median of
 * `runs`.  A ratio above 1 means quant is slower than that baseline.
 *
 * usage: bench_ingest [--symbols N] [--days D] [--runs R]
 */
#include <duckdb.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "providers/synthetic_internal.h"

static long write_universe(const char *dir, int n_symbols, int n_days)
{
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.n_days = n_days;
    o.end_date = 20000; /* fixed, so every run of the bench sees the same data */
    long rows = 0;
    for (int i = 0; i < n_symbols; i++) {
        char sym[QUANT_SYMBOL_MAX + 1], path[PATH_MAX];
        quant_synth_symbol_name(i, sym);
        snprintf(path, sizeof path, "%s/%s.csv", dir, sym);
        struct quant_bars b;
        quant_bars_init(&b);
        struct quant_err err;
        if (quant_synth_generate(&o, sym, &b, &err)) {
            fprintf(stderr, "generate %s: %s\n", sym, err.msg);
            exit(1);
        }
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            exit(1);
        }
        fputs("Date,Open,High,Low,Close,Adj Close,Volume\n", f);
        for (size_t k = 0; k < b.n; k++) {
            char d[11];
            quant_date_format(b.v[k].date, d);
            const struct quant_bar *x = &b.v[k];
            fprintf(f, "%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.0f\n", d, x->open, x->high, x->low,
                    x->close, isnan(x->adj_close) ? x->close : x->adj_close, x->volume);
        }
        rows += (long)b.n;
        fclose(f);
        quant_bars_release(&b);
    }
    return rows;
}

/* with_key: the table has the PRIMARY KEY (symbol, date) quant's ohlcv had
 * before schema version 3; the run without it is quant's table today, and
 * the difference shows what the key's index cost DuckDB itself. */
static double run_duckdb_baseline(const char *dir, const char *db_path, int with_key)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    remove(db_path);
    double t0 = bench_now();
    if (duckdb_open(db_path, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "duckdb open failed\n");
        exit(1);
    }
    char sql[PATH_MAX + 1024];
    const char *steps[] = {
        "SET threads=2",
        "CREATE TABLE ohlcv(symbol VARCHAR, date DATE, open DOUBLE, high DOUBLE, low DOUBLE, "
        "close DOUBLE, adj_close DOUBLE, volume DOUBLE, dividend DOUBLE, "
        "split_coefficient DOUBLE, source VARCHAR, ingested_at TIMESTAMP, "
        "PRIMARY KEY(symbol, date))",
        NULL,
    };
    if (!with_key)
        steps[1] = "CREATE TABLE ohlcv(symbol VARCHAR, date DATE, open DOUBLE, high DOUBLE, "
                   "low DOUBLE, close DOUBLE, adj_close DOUBLE, volume DOUBLE, dividend DOUBLE, "
                   "split_coefficient DOUBLE, source VARCHAR, ingested_at TIMESTAMP)";
    for (int i = 0; steps[i]; i++)
        if (duckdb_query(con, steps[i], &res) != DuckDBSuccess) {
            fprintf(stderr, "%s\n", duckdb_result_error(&res));
            exit(1);
        } else {
            duckdb_destroy_result(&res);
        }
    snprintf(sql, sizeof sql,
             "INSERT INTO ohlcv SELECT regexp_extract(filename, '([^/]+)\\.csv$', 1), "
             "\"Date\", \"Open\", \"High\", \"Low\", \"Close\", \"Adj Close\", \"Volume\", "
             "NULL, NULL, 'csv', now() FROM read_csv('%s/*.csv', filename=true, header=true)",
             dir);
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        fprintf(stderr, "baseline: %s\n", duckdb_result_error(&res));
        exit(1);
    }
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    int n_symbols = 500, n_days = 6500, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--symbols") == 0) n_symbols = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--days") == 0) n_days = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0) runs = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (n_symbols < 1 || n_days < 1 || runs < 1 || runs > 50) {
        fprintf(stderr, "usage: bench_ingest [--symbols N] [--days D] [--runs R]\n");
        return 2;
    }
    char bin[PATH_MAX];
    bench_quant_path(bin);

    char tmp[] = "/tmp/quant-bench-ingest-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/csv", tmp);
    mkdir(dir, 0755);
    double t0 = bench_now();
    long rows = write_universe(dir, n_symbols, n_days);
    printf("universe: %d symbols x %d days = %ld rows as CSV (written in %.1f s)\n", n_symbols,
           n_days, rows, bench_now() - t0);

    double *tq = calloc((size_t)runs, sizeof *tq), *tb = calloc((size_t)runs, sizeof *tb);
    double *tn = calloc((size_t)runs, sizeof *tn);
    double rss = 0, max_rss = 0;
    for (int r = 0; r < runs; r++) {
        char home[PATH_MAX + 32], db[PATH_MAX + 32];
        snprintf(home, sizeof home, "%s/home%d", tmp, r);
        char *qargv[] = {bin, "--home", home, "ingest", "--csv", dir, NULL};
        tq[r] = bench_run(qargv, NULL, 0, &rss);
        if (rss > max_rss)
            max_rss = rss;
        snprintf(db, sizeof db, "%s/baseline%d.duckdb", tmp, r);
        tb[r] = run_duckdb_baseline(dir, db, 0);
        tn[r] = run_duckdb_baseline(dir, db, 1);
        printf("run %d: quant %.3f s, duckdb read_csv %.3f s (with the old key %.3f s)\n", r + 1,
               tq[r], tb[r], tn[r]);
        char cmd[PATH_MAX * 2];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", home, db);
        if (system(cmd) != 0)
            fprintf(stderr, "cleanup failed\n");
    }
    double mq = bench_median(tq, runs), mb = bench_median(tb, runs), mn = bench_median(tn, runs);
    printf("quant ingest --csv: median %.3f s = %.2f M rows/s (peak RSS %.0f MB)\n", mq,
           (double)rows / mq / 1e6, max_rss);
    printf("baseline (DuckDB read_csv into the same table): median %.3f s = %.2f M rows/s\n",
           mb, (double)rows / mb / 1e6);
    printf("ratio quant/baseline time: %.2f\n", mq / mb);
    printf("same load into a table with the old primary key: median %.3f s = %.2f M rows/s "
           "(the key's index cost DuckDB %.0f%% of that load time)\n",
           mn, (double)rows / mn / 1e6, 100.0 * (mn - mb) / mn);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", tmp);
    free(tq);
    free(tb);
    free(tn);
    return 0;
}
