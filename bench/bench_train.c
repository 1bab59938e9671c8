/*
 * bench_train.c: what `quant train` costs beyond the ML library it calls.
 * On a synthetic universe (default 60 symbols x 6,500 days, tech-v1, h = 5),
 * in one invocation and interleaved run by run, it times
 *   quant    `quant train` through the real binary (store read, split, train,
 *            test metrics, model file, registry row; process start included);
 *   library  the bare C API of the same library on the same rows, in this
 *            process: data matrices, booster, one update + one valid
 *            evaluation per round with the same early stopping, test predict
 *            (what any program calling the library must do; nothing stored);
 *            per-symbol models `--threads` at once with one library thread
 *            each, as quant trains them;
 *   peer     ../shared/peer/peer_pipeline.py's train_all_symbols stage
 *            (XGBoost only: pandas + xgboost, the same bars as a long CSV).
 * per-symbol and pooled, and prints each median and the ratios.  The rows
 * the library gets are computed here with quant's own kernels and split
 * (validate -> adjust -> tech-v1 + labels -> split), i.e. what the store
 * holds; the rounds each side trained are printed so a ratio is never a
 * difference in work.
 *
 * OpenMP: both libraries run on libgomp, whose wait policy is fixed when it
 * loads.  quant runs passive unless told otherwise (cli/startup.c), so this
 * program re-execs itself with the same setting when neither OMP_WAIT_POLICY
 * nor GOMP_SPINCOUNT is set; the peer inherits it.  Run it with
 * GOMP_SPINCOUNT=300000 to compare all three with libgomp's default spinning.
 *
 * usage: bench_train [--symbols N] [--days D] [--runs R] [--algo xgboost|lightgbm]
 *                    [--rounds N] [--early-stopping N] [--threads N] [--no-peer]
 *                    [--no-pooled] [--no-per-symbol]
 *                    [--csv FILE] [--library-only] [--score-all]
 *
 *   --csv FILE      the bars of a CSV file quant can ingest (e.g. the universe
 *                   as one long file) instead of the synthetic market: read
 *                   through quant's own CSV provider, so the library gets the
 *                   rows `quant ingest --csv FILE` would give quant
 *   --library-only  time the library alone (no quant, no peer) and print one
 *                   line per mode, "library MODE SECONDS ROUNDS", for
 *                   bench/pipeline.py's floor of the loop
 *   --score-all     the library also predicts every labelled row of each
 *                   model's symbols (train, valid and test): what
 *                   `quant train --score` stores, minus the storing
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <LightGBM/c_api.h>
#include <xgboost/c_api.h>

#include "bench_util.h"
#include "quant/feature_sets.h"
#include "quant/ml_split.h"
#include "providers/csv_provider_internal.h"
#include "providers/synthetic_internal.h"
#include "quant/validate.h"

struct opts {
    int n_symbols, n_days, runs, rounds, early, threads, peer, pooled, per_symbol;
    const char *algo;
    const char *csv;       /* NULL: the synthetic market */
    int library_only, score_all;
};

/* One symbol's rows, as quant's split gives them (row-major floats). */
struct part {
    float *x, *y;
    size_t n;
};
struct sym {
    char name[QUANT_SYMBOL_MAX + 1];
    struct part tr, va, te;
};

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_train: %s: %s\n", what, msg ? msg : "");
    exit(1);
}

static void gather(const struct quant_feature_matrix *f, const struct quant_feature_matrix *l,
                   const size_t *rows, size_t b, size_t e, struct part *p)
{
    p->n = e - b;
    p->x = malloc((p->n ? p->n : 1) * f->n_features * sizeof *p->x);
    p->y = malloc((p->n ? p->n : 1) * sizeof *p->y);
    if (!p->x || !p->y)
        die("gather", "out of memory");
    quant_split_gather(f, l, rows, b, e, p->x, p->y);
}

/* One symbol's bars -> the store's validation -> tech-v1 + labels -> split;
 * -1 when the symbol has too few rows for a split (quant skips it). */
static int prepare_symbol(struct quant_bars *bars, struct sym *s, FILE *csv)
{
    const struct quant_feature_set *set = quant_feature_set_find("tech-v1");
    struct quant_feature_matrix f = {0}, l = {0};
    struct quant_adjusted adj = {0};
    struct quant_err err;
    struct quant_validation v;
    quant_validation_init(&v);
    quant_validate_bars(bars, &v);
    quant_validation_release(&v);
    for (size_t t = 0; csv && t < bars->n; t++) {
        char d[11];
        quant_date_format(bars->v[t].date, d);
        fprintf(csv, "%s,%s,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", s->name, d,
                bars->v[t].open, bars->v[t].high, bars->v[t].low, bars->v[t].close,
                bars->v[t].adj_close, bars->v[t].volume);
    }
    if (quant_adjusted_compute(bars, &adj, &err) ||
        quant_features_compute(set, &adj, &f, &err) ||
        quant_labels_compute(&adj, 5, &l, &err))
        die(s->name, err.msg);
    size_t *rows = malloc((f.n_rows ? f.n_rows : 1) * sizeof *rows), n = 0;
    struct quant_split sp;
    if (!rows || quant_split_rows(&f, &l, rows, &n, &err))
        die(s->name, err.msg);
    int rc = quant_split_compute(s->name, n, 5, &sp, &err) ? -1 : 0;
    if (!rc) {
        gather(&f, &l, rows, sp.train_begin, sp.train_end, &s->tr);
        gather(&f, &l, rows, sp.valid_begin, sp.valid_end, &s->va);
        gather(&f, &l, rows, sp.test_begin, sp.test_end, &s->te);
    }
    free(rows);
    quant_feature_matrix_release(&f);
    quant_feature_matrix_release(&l);
    quant_adjusted_release(&adj);
    return rc;
}

/* The synthetic market; its bars also go to csv for the peer. */
static void prepare(const struct opts *o, struct sym *syms, FILE *csv)
{
    struct quant_synth_options so;
    quant_synth_options_default(&so);
    so.n_days = o->n_days;
    struct quant_err err;
    fprintf(csv, "symbol,date,open,high,low,close,adj_close,volume\n");
    for (int i = 0; i < o->n_symbols; i++) {
        struct sym *s = &syms[i];
        quant_synth_symbol_name(i, s->name);
        struct quant_bars bars;
        quant_bars_init(&bars);
        if (quant_synth_generate(&so, s->name, &bars, &err))
            die("synthetic", err.msg);
        if (prepare_symbol(&bars, s, csv))
            die(s->name, "too few rows for a split");
        quant_bars_release(&bars);
    }
}

/* Every symbol of a CSV file, through quant's own CSV provider; symbols too
 * short for a split are left out, as `quant train` skips them. */
static struct sym *prepare_csv(struct opts *o)
{
    struct quant_provider pv;
    struct quant_err err;
    char **names = NULL;
    size_t n = 0;
    if (quant_csv_open(o->csv, NULL, 0, &pv, &err) ||
        pv.ops->list_symbols(pv.state, &names, &n, &err))
        die(o->csv, err.msg);
    struct sym *syms = calloc(n ? n : 1, sizeof *syms);
    if (!syms)
        die("prepare", "out of memory");
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        struct quant_bars bars;
        struct quant_fetch_info info;
        quant_bars_init(&bars);
        memset(&info, 0, sizeof info);
        if (pv.ops->fetch_daily(pv.state, names[i], QUANT_FETCH_FULL, &bars, &info, &err) == 0 &&
            bars.n >= 400) {
            snprintf(syms[k].name, sizeof syms[k].name, "%s", names[i]);
            if (prepare_symbol(&bars, &syms[k], NULL) == 0)
                k++;
        }
        quant_bars_release(&bars);
    }
    quant_strings_free(names, n);
    quant_provider_close(&pv);
    o->n_symbols = k;
    return syms;
}

/* Every symbol's part k (0 train, 1 valid, 2 test) end to end, for pooled. */
static struct part concat(const struct sym *syms, int n, int k, size_t nf)
{
    struct part out = {0};
    for (int i = 0; i < n; i++)
        out.n += (&syms[i].tr)[k].n;
    out.x = malloc(out.n * nf * sizeof *out.x);
    out.y = malloc(out.n * sizeof *out.y);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const struct part *p = &(&syms[i].tr)[k];
        memcpy(out.x + at * nf, p->x, p->n * nf * sizeof *p->x);
        memcpy(out.y + at, p->y, p->n * sizeof *p->y);
        at += p->n;
    }
    return out;
}

/* ---- the bare libraries ------------------------------------------------------ */

static DMatrixHandle xgb_matrix(const struct part *p, size_t nf, int threads)
{
    DMatrixHandle d;
    if (XGDMatrixCreateFromMat_omp(p->x, p->n, nf, NAN, &d, threads) ||
        XGDMatrixSetFloatInfo(d, "label", p->y, p->n))
        die("xgboost", XGBGetLastError());
    return d;
}

/* One model the way the C API wants it; returns the rounds trained. */
static int xgb_one(const struct opts *o, const struct part *tr, const struct part *va,
                   const struct part *te, size_t nf)
{
    DMatrixHandle dtr = xgb_matrix(tr, nf, o->threads), dva = xgb_matrix(va, nf, o->threads);
    DMatrixHandle cache[] = {dtr, dva};
    BoosterHandle b;
    char th[16];
    snprintf(th, sizeof th, "%d", o->threads);
    if (XGBoosterCreate(cache, 2, &b) || XGBoosterSetParam(b, "objective", "binary:logistic") ||
        XGBoosterSetParam(b, "tree_method", "hist") ||
        XGBoosterSetParam(b, "eval_metric", "logloss") || XGBoosterSetParam(b, "nthread", th) ||
        XGBoosterSetParam(b, "verbosity", "0"))
        die("xgboost", XGBGetLastError());
    double best = INFINITY;
    int best_it = 0, it;
    const char *names[] = {"valid"};
    for (it = 0; it < o->rounds; it++) {
        const char *ev;
        if (XGBoosterUpdateOneIter(b, it, dtr) ||
            XGBoosterEvalOneIter(b, it, &cache[1], names, 1, &ev))
            die("xgboost", XGBGetLastError());
        double ll = strtod(strstr(ev, "logloss:") + 8, NULL);
        if (ll < best) {
            best = ll;
            best_it = it;
        } else if (o->early && it - best_it >= o->early) {
            it++;
            break;
        }
    }
    /* The test rows; with score_all every labelled row, each part once. */
    const struct part *parts[] = {te, tr, va};
    for (int k = 0; k < (o->score_all ? 3 : 1); k++) {
        DMatrixHandle dte = xgb_matrix(parts[k], nf, o->threads);
        bst_ulong len;
        const float *pred;
        if (XGBoosterPredict(b, dte, 0, (unsigned)best_it + 1, 0, &len, &pred))
            die("xgboost", XGBGetLastError());
        XGDMatrixFree(dte);
    }
    XGDMatrixFree(dva);
    XGDMatrixFree(dtr);
    XGBoosterFree(b);
    return it;
}

static DatasetHandle lgb_dataset(const struct part *p, size_t nf, const char *params,
                                 DatasetHandle ref)
{
    DatasetHandle d;
    if (LGBM_DatasetCreateFromMat(p->x, C_API_DTYPE_FLOAT32, (int32_t)p->n, (int32_t)nf, 1,
                                  params, ref, &d) ||
        LGBM_DatasetSetField(d, "label", p->y, (int)p->n, C_API_DTYPE_FLOAT32))
        die("lightgbm", LGBM_GetLastError());
    return d;
}

static int lgb_one(const struct opts *o, const struct part *tr, const struct part *va,
                   const struct part *te, size_t nf)
{
    char params[256];
    snprintf(params, sizeof params, "objective=binary metric=binary_logloss verbosity=-1 "
             "deterministic=true force_row_wise=true num_threads=%d", o->threads);
    DatasetHandle dtr = lgb_dataset(tr, nf, params, NULL);
    DatasetHandle dva = lgb_dataset(va, nf, params, dtr);
    BoosterHandle b;
    if (LGBM_BoosterCreate(dtr, params, &b) || LGBM_BoosterAddValidData(b, dva))
        die("lightgbm", LGBM_GetLastError());
    double best = INFINITY;
    int best_it = 0, it;
    for (it = 0; it < o->rounds; it++) {
        int fin, n;
        double ll;
        if (LGBM_BoosterUpdateOneIter(b, &fin) || LGBM_BoosterGetEval(b, 1, &n, &ll))
            die("lightgbm", LGBM_GetLastError());
        if (fin)
            break;
        if (ll < best) {
            best = ll;
            best_it = it;
        } else if (o->early && it - best_it >= o->early) {
            it++;
            break;
        }
    }
    const struct part *parts[] = {te, tr, va};
    for (int k = 0; k < (o->score_all ? 3 : 1); k++) {
        const struct part *q = parts[k];
        double *pred = malloc((q->n ? q->n : 1) * sizeof *pred);
        int64_t len;
        if (!pred ||
            LGBM_BoosterPredictForMat(b, q->x, C_API_DTYPE_FLOAT32, (int32_t)q->n, (int32_t)nf,
                                      1, C_API_PREDICT_NORMAL, 0, best_it + 1, "", &len, pred))
            die("lightgbm", LGBM_GetLastError());
        free(pred);
    }
    LGBM_BoosterFree(b);
    LGBM_DatasetFree(dva);
    LGBM_DatasetFree(dtr);
    return it;
}

typedef int (*one_fn)(const struct opts *, const struct part *, const struct part *,
                      const struct part *, size_t);

/* Per-symbol models shared out to worker threads, one symbol at a time. */
struct pool {
    const struct opts *o;
    const struct sym *syms;
    size_t nf;
    one_fn one;
    int next;
    long rounds;
    pthread_mutex_t mu;
};

static void *pool_worker(void *arg)
{
    struct pool *p = arg;
    struct opts single = *p->o;
    single.threads = 1;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int i = p->next < p->o->n_symbols ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (i < 0)
            return NULL;
        int r = p->one(&single, &p->syms[i].tr, &p->syms[i].va, &p->syms[i].te, p->nf);
        pthread_mutex_lock(&p->mu);
        p->rounds += r;
        pthread_mutex_unlock(&p->mu);
    }
}

/* The library alone on every model of one run; *rounds gets the rounds trained. */
static double library(const struct opts *o, const struct sym *syms, int pooled, long *rounds)
{
    size_t nf = quant_feature_set_size(quant_feature_set_find("tech-v1"));
    one_fn one = strcmp(o->algo, "xgboost") ? lgb_one : xgb_one;
    *rounds = 0;
    double t0 = bench_now();
    if (pooled) {
        struct part p[3];
        for (int k = 0; k < 3; k++)
            p[k] = concat(syms, o->n_symbols, k, nf);
        *rounds = one(o, &p[0], &p[1], &p[2], nf);
        for (int k = 0; k < 3; k++) {
            free(p[k].x);
            free(p[k].y);
        }
    } else if (o->threads <= 1) {
        for (int i = 0; i < o->n_symbols; i++)
            *rounds += one(o, &syms[i].tr, &syms[i].va, &syms[i].te, nf);
    } else {
        /* Scheduled as quant schedules per-symbol models (lib/services/ml.c):
         * `threads` models at once, one library thread each, so the ratio
         * compares the same work done the same way. */
        struct pool pl = {o, syms, nf, one, 0, 0, PTHREAD_MUTEX_INITIALIZER};
        pthread_t t[64];
        int n = o->threads < 64 ? o->threads : 64;
        for (int i = 0; i < n; i++)
            if (pthread_create(&t[i], NULL, pool_worker, &pl) != 0)
                die("pthread_create", "per-symbol workers");
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
        *rounds = pl.rounds;
    }
    return bench_now() - t0;
}

/* ---- quant and the peer -------------------------------------------------------- */

/* `quant train` of every symbol; *rounds: the rounds its new models trained. */
static double quant(const struct opts *o, const char *bin, const char *home,
                    const struct sym *syms, int pooled, long *rounds)
{
    char es[16], ro[16], th[16];
    snprintf(es, sizeof es, "%d", o->early);
    snprintf(ro, sizeof ro, "%d", o->rounds);
    snprintf(th, sizeof th, "%d", o->threads);
    char **a = calloc((size_t)o->n_symbols + 20, sizeof *a);
    int k = 0;
    const char *w[] = {bin, "--home", home, "train", "--algo", o->algo, "--rounds", ro,
                       "--early-stopping", es, "--threads", th};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        a[k++] = (char *)w[i];
    if (pooled)
        a[k++] = "--pooled";
    a[k++] = "--symbols";
    for (int i = 0; i < o->n_symbols; i++)
        a[k++] = (char *)syms[i].name;
    double t = bench_run(a, NULL, 0, NULL);
    free(a);
    /* models list is newest first: sum rounds_trained over this run's models. */
    static char out[1 << 23];
    char *l[] = {(char *)bin, "--home", (char *)home, "models", "list", "--json", NULL};
    bench_run(l, out, sizeof out, NULL);
    int models = pooled ? 1 : o->n_symbols;
    *rounds = 0;
    const char *p = out;
    for (int i = 0; i < models && (p = strstr(p, "\"rounds_trained\"")); i++) {
        p = strchr(p, ':') + 1;
        *rounds += strtol(p, NULL, 10);
    }
    return t;
}

static double peer(const struct opts *o, const char *script, const char *csv, int pooled)
{
    char ro[16], es[16], th[16];
    snprintf(ro, sizeof ro, "%d", o->rounds);
    snprintf(es, sizeof es, "%d", o->early);
    snprintf(th, sizeof th, "%d", o->threads);
    char *a[] = {"/usr/bin/python3", (char *)script, (char *)csv, "--rounds", ro,
                 "--early-stop", es, "--nthread", th, pooled ? "--pooled" : NULL, NULL};
    static char out[1 << 16];
    bench_run(a, out, sizeof out, NULL);
    const char *p = strstr(out, "train_all_symbols ");
    if (!p)
        die("peer", "no train_all_symbols line in its output");
    return strtod(p + strlen("train_all_symbols "), NULL);
}

static void parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){60, 6500, 3, 200, 20, 2, 1, 1, 1, "xgboost", NULL, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--no-peer")) { o->peer = 0; continue; }
        if (!strcmp(a, "--no-pooled")) { o->pooled = 0; continue; }
        if (!strcmp(a, "--no-per-symbol")) { o->per_symbol = 0; continue; }
        if (!strcmp(a, "--library-only")) { o->library_only = 1; continue; }
        if (!strcmp(a, "--score-all")) { o->score_all = 1; continue; }
        if (i + 1 >= argc)
            die("usage", "an option needs a value");
        const char *v = argv[++i];
        if (!strcmp(a, "--algo")) o->algo = v;
        else if (!strcmp(a, "--symbols")) o->n_symbols = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--days")) o->n_days = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--runs")) o->runs = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--rounds")) o->rounds = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--early-stopping")) o->early = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--threads")) o->threads = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--csv")) o->csv = v;
        else die("unknown option", a);
    }
    if (o->n_symbols < 1 || o->n_days < 400 || o->runs < 1 || o->runs > 20 ||
        (strcmp(o->algo, "xgboost") && strcmp(o->algo, "lightgbm")))
        die("usage", "see the comment at the top of bench/bench_train.c");
    if (strcmp(o->algo, "xgboost") || o->csv || o->library_only)
        o->peer = 0;   /* the peer trains XGBoost only, on the CSV this program writes */
}

static void one_mode(const struct opts *o, const char *bin, const char *home,
                     const struct sym *syms, const char *script, const char *csv, int pooled)
{
    double tq[20], tl[20], tp[20];
    long rq = 0, rl = 0;
    if (o->library_only) {
        for (int r = 0; r < o->runs; r++)
            tl[r] = library(o, syms, pooled, &rl);
        printf("library %s %.4f %ld\n", pooled ? "pooled" : "per-symbol",
               bench_median(tl, o->runs), rl);
        fflush(stdout);
        return;
    }
    for (int r = 0; r < o->runs; r++) {
        tq[r] = quant(o, bin, home, syms, pooled, &rq);
        tl[r] = library(o, syms, pooled, &rl);
        tp[r] = o->peer ? peer(o, script, csv, pooled) : NAN;
    }
    double mq = bench_median(tq, o->runs), ml = bench_median(tl, o->runs);
    const char *what = pooled ? "pooled (1 model)" : "per symbol";
    printf("%-17s quant %7.2f s (%ld rounds)  library %7.2f s (%ld rounds)  quant/library %.2f",
           what, mq, rq, ml, rl, mq / ml);
    if (o->peer) {
        double mp = bench_median(tp, o->runs);
        printf("  peer %7.2f s  quant/peer %.2f  library/peer %.2f", mp, mq / mp, ml / mp);
    }
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);   /* as quant runs; see the top */
        execv("/proc/self/exe", argv);
    }
    struct opts o;
    parse(argc, argv, &o);
    char bin[PATH_MAX];
    bench_quant_path(bin);
    char home[] = "/tmp/quant-bench-train-XXXXXX";
    if (!mkdtemp(home))
        die("mkdtemp", home);
    char csv[PATH_MAX], script[PATH_MAX], days[16];
    snprintf(csv, sizeof csv, "%s/prices.csv", home);
    snprintf(script, sizeof script, "%s/../shared/peer/peer_pipeline.py", QUANT_SOURCE_DIR);
    snprintf(days, sizeof days, "%d", o.n_days);
    struct sym *syms;
    char **a = calloc((size_t)o.n_symbols + 12, sizeof *a);
    int k = 0;
    if (o.csv) {
        syms = prepare_csv(&o);
        const char *w[] = {bin, "--home", home, "ingest", "--csv", o.csv};
        for (size_t i = 0; i < sizeof w / sizeof *w; i++)
            a[k++] = (char *)w[i];
    } else {
        syms = calloc((size_t)o.n_symbols, sizeof *syms);
        FILE *f = fopen(csv, "w");
        if (!syms || !f)
            die("setup", csv);
        prepare(&o, syms, f);
        fclose(f);
        const char *w[] = {bin, "--home", home, "ingest", "--provider", "synthetic", "--days",
                           days, "--symbols"};
        for (size_t i = 0; i < sizeof w / sizeof *w; i++)
            a[k++] = (char *)w[i];
        for (int i = 0; i < o.n_symbols; i++)
            a[k++] = syms[i].name;
    }
    if (!o.library_only)
        bench_run(a, NULL, 0, NULL);
    free(a);
    char *fe[] = {bin, "--home", home, "features", NULL};
    char *la[] = {bin, "--home", home, "labels", NULL};
    if (!o.library_only) {
        bench_run(fe, NULL, 0, NULL);
        bench_run(la, NULL, 0, NULL);
    }
    if (!o.library_only)
        printf("%s, %d symbols x %d days, tech-v1, h = 5, up to %d rounds, early stopping %d, "
               "%d threads, OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s; medians of %d runs\n",
               o.algo, o.n_symbols, o.n_days, o.rounds, o.early, o.threads,
               getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)",
               getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "(unset)", o.runs);
    fflush(stdout);
    if (o.per_symbol)
        one_mode(&o, bin, home, syms, script, csv, 0);
    if (o.pooled)
        one_mode(&o, bin, home, syms, script, csv, 1);

    for (int i = 0; i < o.n_symbols; i++)
        for (int p = 0; p < 3; p++) {
            free((&syms[i].tr)[p].x);
            free((&syms[i].tr)[p].y);
        }
    free(syms);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", home);
    return 0;
}
