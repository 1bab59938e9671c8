/*
 * bench_ml.c: `quant train` and `quant score` on the synthetic universe
 * (default 500 symbols x 6,500 days, tech-v1, h = 5), through the real binary:
 * per-symbol training of every symbol (one run: it is long), pooled training
 * (median of `runs`), and scoring every row with the pooled model, first
 * scoring and rescoring (median of `runs`), as wall time and rows per second.
 * The scoring baseline, in the same invocation: the same pooled model loaded
 * in this process predicting the same number of rows with no store at all.
 *
 * usage: bench_ml [--symbols N] [--days D] [--runs R] [--skip-per-symbol]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "bench_util.h"
#include "quant/model.h"
#include "providers/synthetic_internal.h"

static char **symbol_args(const char *bin, const char *home, const char *const *words, int nw,
                          int n_symbols, char *names)
{
    char **a = calloc((size_t)(nw + n_symbols + 4), sizeof *a);
    int k = 0;
    a[k++] = (char *)bin;
    a[k++] = "--home";
    a[k++] = (char *)home;
    for (int i = 0; i < nw; i++)
        a[k++] = (char *)words[i];
    for (int i = 0; i < n_symbols; i++)
        a[k++] = names + (size_t)i * 16;
    return a;
}

/* The newest model id from `quant models list --json`'s first "id". */
static void newest_model(const char *bin, const char *home, char id[128], char path[4096])
{
    static char out[1 << 20];
    char *argv[] = {(char *)bin, "--home", (char *)home, "models", "list", "--json", NULL};
    bench_run(argv, out, sizeof out, NULL);
    const char *p = strstr(out, "\"id\": \"");
    if (!p || sscanf(p, "\"id\": \"%127[^\"]", id) != 1) {
        fprintf(stderr, "no model listed\n");
        exit(1);
    }
    snprintf(path, 4096, "%s/models/%s.txt", home, id);
}

static double predict_baseline(const char *path, size_t rows, size_t nf)
{
    struct quant_model *m = NULL;
    struct quant_err err;
    if (quant_model_load(quant_model_algo_find("lightgbm"), path, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    float *x = malloc(rows * nf * sizeof *x);
    double *p = malloc(rows * sizeof *p);
    for (size_t i = 0; i < rows * nf; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    double t0 = bench_now();
    /* per symbol-sized chunk, as quant scores */
    for (size_t at = 0; at < rows; at += 6451) {
        size_t k = rows - at < 6451 ? rows - at : 6451;
        if (quant_model_predict(m, x + at * nf, k, nf, p + at, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
    }
    double t = bench_now() - t0;
    quant_model_free(m);
    free(x);
    free(p);
    return t;
}

/*
 * A second baseline: DuckDB itself inserting the same number of rows into an
 * identical predictions table (same primary key) from generated data, once
 * into an empty table and once more for a second model id, as a rescoring
 * store grows.  Tells what the key costs any writer, not just quant.
 */
static void duckdb_insert_baseline(const char *dir, long rows, double *first, double *second)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/baseline.duckdb", dir);
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    if (duckdb_open(path, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
        exit(1);
    duckdb_query(con, "SET threads = 2", &res);
    duckdb_destroy_result(&res);
    duckdb_query(con, "CREATE TABLE predictions (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
                      " model_id VARCHAR NOT NULL, score DOUBLE NOT NULL,"
                      " PRIMARY KEY (symbol, date, model_id))", &res);
    duckdb_destroy_result(&res);
    double *out[2] = {first, second};
    for (int k = 0; k < 2; k++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO predictions SELECT 'SYN' || lpad((i // 6451)::VARCHAR, 4, '0'),"
                 " DATE '2000-01-03' + (i %% 6451)::INTEGER, 'lgb_pooled_20261124_04585%d',"
                 " random() FROM range(%ld) t(i)", k, rows);
        double t0 = bench_now();
        if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
            fprintf(stderr, "baseline: %s\n", duckdb_result_error(&res));
            exit(1);
        }
        duckdb_destroy_result(&res);
        duckdb_query(con, "CHECKPOINT", &res); /* quant's process ends with one too */
        duckdb_destroy_result(&res);
        *out[k] = bench_now() - t0;
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    remove(path);
}

int main(int argc, char **argv)
{
    int n_symbols = 500, n_days = 6500, runs = 3, per_symbol = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-per-symbol") == 0) {
            per_symbol = 0;
            continue;
        }
        if (i + 1 >= argc)
            break;
        long v = strtol(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--symbols") == 0) n_symbols = (int)v;
        else if (strcmp(argv[i], "--days") == 0) n_days = (int)v;
        else if (strcmp(argv[i], "--runs") == 0) runs = (int)v;
        i++;
    }
    if (n_symbols < 1 || n_days < 300 || runs < 1 || runs > 20) {
        fprintf(stderr, "usage: bench_ml [--symbols N] [--days D>=300] [--runs R] "
                        "[--skip-per-symbol]\n");
        return 2;
    }
    char bin[PATH_MAX];
    bench_quant_path(bin);
    char home[] = "/tmp/quant-bench-ml-XXXXXX";
    if (!mkdtemp(home))
        return 1;
    char *names = calloc((size_t)n_symbols, 16);
    for (int i = 0; i < n_symbols; i++)
        quant_synth_symbol_name(i, names + (size_t)i * 16);
    char days[16];
    snprintf(days, sizeof days, "%d", n_days);
    const char *ingest[] = {"ingest", "--provider", "synthetic", "--days", days, "--symbols"};
    char **a = symbol_args(bin, home, ingest, 6, n_symbols, names);
    double t = bench_run(a, NULL, 0, NULL);
    free(a);
    char *f[] = {bin, "--home", home, "features", NULL};
    char *l[] = {bin, "--home", home, "labels", NULL};
    t += bench_run(f, NULL, 0, NULL) + bench_run(l, NULL, 0, NULL);
    printf("universe: %d symbols x %d days, ingest + tech-v1 + labels in %.1f s\n", n_symbols,
           n_days, t);
    fflush(stdout);

    if (per_symbol) {
        const char *w[] = {"train", "--symbols"};
        a = symbol_args(bin, home, w, 2, n_symbols, names);
        double rss;
        t = bench_run(a, NULL, 0, &rss);
        free(a);
        printf("train, one LightGBM model per symbol (%d models): %.1f s, %.3f s per model "
               "(peak RSS %.0f MB)\n", n_symbols, t, t / n_symbols, rss);
        fflush(stdout);
    }
    double tp[20], ts1[20], ts2[20], tb[20], rss = 0;
    char id[128], path[4096];
    long rows = 0;
    for (int r = 0; r < runs; r++) {
        const char *w[] = {"train", "--pooled", "--symbols"};
        a = symbol_args(bin, home, w, 3, n_symbols, names);
        tp[r] = bench_run(a, NULL, 0, &rss);
        free(a);
        newest_model(bin, home, id, path);
        const char *sw[] = {"score", "--model", id, "--symbols"};
        a = symbol_args(bin, home, sw, 4, n_symbols, names);
        static char out[1 << 22];
        ts1[r] = bench_run(a, out, sizeof out, NULL);  /* a new model: plain appends */
        ts2[r] = bench_run(a, NULL, 0, NULL);          /* the same again: upserts */
        free(a);
        rows = 0;
        for (const char *p = strstr(out, "Saved "); p; p = strstr(p + 1, "Saved ")) {
            long k = 0;
            for (const char *q = p + 6; (*q >= '0' && *q <= '9') || *q == ','; q++)
                if (*q != ',')
                    k = k * 10 + (*q - '0');
            rows += k;
        }
        tb[r] = predict_baseline(path, (size_t)rows, 17);
    }
    double d1, d2;
    duckdb_insert_baseline(home, rows, &d1, &d2);
    double mp = bench_median(tp, runs), m1 = bench_median(ts1, runs),
           m2 = bench_median(ts2, runs), mb = bench_median(tb, runs);
    printf("train --pooled (%d symbols): median %.2f s (peak RSS %.0f MB)\n", n_symbols, mp, rss);
    printf("score every row (%ld rows), new model: median %.2f s = %.2f M rows/s\n", rows, m1,
           (double)rows / m1 / 1e6);
    printf("score again (rows replaced): median %.2f s = %.2f M rows/s\n", m2,
           (double)rows / m2 / 1e6);
    printf("baseline, the same model predicting as many rows in-process, no store: median "
           "%.2f s = %.2f M rows/s; ratio score / baseline %.1f\n", mb,
           (double)rows / mb / 1e6, m1 / mb);
    printf("baseline, DuckDB inserting as many rows into the same keyed table: empty table "
           "%.2f s = %.2f M rows/s; holding one model's rows already %.2f s = %.2f M rows/s\n",
           d1, (double)rows / d1 / 1e6, d2, (double)rows / d2 / 1e6);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", home);
    free(names);
    return 0;
}
