/*
 * train.c: `quant train` (see train.h).  It computes features and labels
 * from the stored bars as it reads them (frames.h: one scan for all the
 * symbols; a per-symbol model is trained as soon as its frame arrives),
 * applies the spec's time split per symbol, trains through model.h,
 * scores the test segment only, saves the model in its library's own format
 * and registers it.  Scoring with a registered model is score.c.
 * No library-specific code (model.h hides LightGBM and XGBoost) and no SQL.
 */
#include "quant/score.h"
#include "quant/train.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/feature_store.h"
#include "services/frames.h"
#include "quant/meta_store.h"
#include "quant/machines.h"
#include "quant/ml_split.h"
#include "providers/provider_internal.h"
#include "services/ml_internal.h"
#include "services/fit_internal.h"
#include "services/ml_pool.h"
#include "core/banned.h"

/* The model-fitting building blocks (datasets, splits, fit, register) are in
 * fit.c, shared with the walk-forward (walkforward.c). */

static void report_train(const struct quant_ml_observer *obs, struct quant_train_result *r,
                         struct quant_train_summary *sum)
{
    if (r->skipped) {
        sum->skipped++;
    } else if (r->code) {
        sum->failed++;
        if (!sum->first_failure)
            sum->first_failure = r->code;
    } else {
        sum->trained++;
    }
    sum->excluded += r->n_excluded;
    if (obs && obs->on_trained)
        obs->on_trained(obs->ctx, r);
}


/*
 * One per-symbol model on its way through the pool: the main thread gathers
 * its rows, a worker fits it, the main thread registers and reports it.
 */
struct symbol_job {
    const struct quant_model_algo *algo;
    struct quant_train_opts opts;
    struct quant_fit_training tr;
    struct quant_model *model;     /* fitted, until registered */
    struct quant_ml_rows rows;     /* request.score: this symbol's rows to score */
    int score;
    struct quant_train_result r;
    int fit;                       /* the rows were gathered: a worker fits them */
    double seconds;                /* gathering, fitting and registering */
};

/* State of one `quant train` call while the frames stream in. */
struct trainer {
    struct quant_workspace *ws;
    const struct quant_train_request *req;
    const struct quant_model_algo *algo;
    const struct quant_ml_observer *obs;
    struct quant_train_summary *out;
    const struct quant_feature_set *set;
    int horizon;
    struct quant_fit_training pooled;       /* req->pooled: the one model's rows */
    struct quant_ml_pool *pool;   /* per-symbol with threads > 1; else NULL */
    int model_threads;            /* library threads per per-symbol model */
    struct quant_ml_scored scored; /* request.score: predictions, stored at the end */
    char **seen;                  /* symbols a frame arrived for (sorted order) */
    size_t n_seen;
    enum quant_code rc;           /* a failure that stops the scan (out of memory) */
    char error[QUANT_ERR_MSG_MAX];
};

static void result_init(struct trainer *t, struct quant_train_result *r, const char *label)
{
    memset(r, 0, sizeof *r);
    snprintf(r->algo_name, sizeof r->algo_name, "%s",
             quant_fit_display_name_(quant_model_algo_name(t->algo)));
    snprintf(r->label, sizeof r->label, "%s", label);
    r->started = time(NULL);
}

/* The pool's work: fit and evaluate, nothing else (see quant_fit_one_). */
static void fit_job(void *p)
{
    struct symbol_job *j = p;
    if (!j->fit)
        return;
    double t0 = quant_clock_mono();
    quant_fit_one_(j->algo, &j->opts, &j->tr, &j->model, &j->r);
    if (j->model && j->score) {
        struct quant_err e;
        quant_err_clear(&e);
        if (quant_ml_rows_predict_(j->model, &j->rows, &e) != QUANT_OK) {
            j->r.code = e.code;
            snprintf(j->r.error, sizeof j->r.error, "scoring its rows: %s", e.msg);
            quant_model_free(j->model); /* not registered: its scores could not be made */
            j->model = NULL;
        }
    }
    j->seconds += quant_clock_mono() - t0;
}

/* Register (when fitted), report and free a job, on the main thread. */
static void finish_job(struct trainer *t, struct symbol_job *j)
{
    if (j->model) {
        double t0 = quant_clock_mono();
        quant_fit_register_(t->ws, t->req, t->algo, &j->opts, &j->tr, j->model, j->r.label, NULL,
                            &j->r);
        j->seconds += quant_clock_mono() - t0;
        if (j->score && !j->r.code &&
            quant_ml_scored_add_(&t->scored, j->r.label, j->r.model_id, &j->rows) != QUANT_OK &&
            !t->rc) {
            t->rc = QUANT_ENOMEM;
            snprintf(t->error, sizeof t->error, "out of memory");
        }
    }
    quant_ml_rows_release_(&j->rows);
    j->r.seconds = j->seconds;
    report_train(t->obs, &j->r, t->out);
    quant_model_free(j->model);
    quant_fit_training_release_(&j->tr);
    free(j);
}

/* Report every job that has finished, oldest first, waiting for them all
 * when `wait` (then the pool is empty on return). */
static void drain(struct trainer *t, int wait)
{
    struct symbol_job *j;
    while (t->pool && (j = quant_ml_pool_take(t->pool, wait)) != NULL)
        finish_job(t, j);
}

/* A per-symbol model: gather its rows here, then fit it in the pool (or at
 * once without one); it is reported in the order the frames came. */
static enum quant_code train_symbol(struct trainer *t, const struct quant_frame_item *it)
{
    double t0 = quant_clock_mono();
    struct symbol_job *j = calloc(1, sizeof *j);
    if (!j)
        return QUANT_ENOMEM;
    j->algo = t->algo;
    quant_fit_opts_(t->req, t->model_threads, &j->opts);
    result_init(t, &j->r, it->symbol);
    if (t->obs && t->obs->on_train_start)
        t->obs->on_train_start(t->obs->ctx, j->r.label, j->r.algo_name);
    quant_fit_training_init_(&j->tr, t->set, t->horizon);
    struct quant_err e;
    quant_err_clear(&e);
    int too_short = 0;
    enum quant_code code = it->code;
    if (code)
        quant_err_set(&e, code, "%s", it->error);
    else if (!j->tr.segments || !j->tr.symbols)
        code = quant_err_set(&e, QUANT_ENOMEM, "out of memory");
    else
        code = quant_fit_add_frame_(&j->tr, it->symbol, it->frame, &too_short, &e);
    /* Its rows to score, with the segments the split just gave them. */
    if (!code && t->req->score) {
        code = quant_ml_rows_gather_(it->frame, quant_feature_set_size(t->set),
                                     cJSON_GetObjectItemCaseSensitive(j->tr.segments, it->symbol),
                                     t->horizon, &j->rows, &e);
        j->score = !code;
    }
    if (code) {
        j->r.code = code;
        j->r.skipped = too_short;
        snprintf(j->r.error, sizeof j->r.error, "%s", e.msg);
    }
    j->fit = !code;
    j->seconds = quant_clock_mono() - t0;
    if (!t->pool) {
        fit_job(j);
        finish_job(t, j);
        return QUANT_OK;
    }
    /* A skipped symbol goes through the pool too, to be reported in its turn. */
    while (quant_ml_pool_full(t->pool))
        finish_job(t, quant_ml_pool_take(t->pool, 1));
    quant_ml_pool_submit(t->pool, j);
    drain(t, 0);
    return QUANT_OK;
}

/* Counts of a `quant score` run made for a pooled model (score_pooled). */
static void count_scored(void *ctx, const struct quant_score_result *r)
{
    struct quant_train_summary *out = ctx;
    if (!r->code) {
        out->predictions += r->predictions;
        out->out_of_sample += r->out_of_sample;
    }
}

/*
 * Pooled + score: the new model over every symbol it was trained on, by the
 * scorer itself, which reads and computes their features again one symbol at
 * a time: holding every row of every symbol until the model exists would
 * double the memory of a pooled alpha158 run (2 GB for 500 x 6,500).
 */
static enum quant_code score_pooled(struct quant_workspace *ws, const struct quant_fit_training *tr,
                                    const char *model_id, struct quant_train_summary *out,
                                    struct quant_err *err)
{
    int n = cJSON_GetArraySize(tr->symbols);
    const char **syms = calloc(n > 0 ? (size_t)n : 1, sizeof *syms);
    if (!syms)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        syms[i] = cJSON_GetStringValue(cJSON_GetArrayItem(tr->symbols, i));
    struct quant_ml_observer obs = {NULL, NULL, count_scored, out};
    size_t failed = 0;
    enum quant_code rc = n > 0 ? quant_score(ws, syms, (size_t)n, model_id, &obs, &failed,
                                                err)
                               : QUANT_OK;
    if (!rc && failed)
        rc = quant_err_set(err, QUANT_EIO, "scoring with %s failed for %zu of %d symbols; "
                           "run `quant score --model %s` for them", model_id, failed, n,
                           model_id);
    free(syms);
    return rc;
}

static int on_frame(void *ctx, const struct quant_frame_item *it)
{
    struct trainer *t = ctx;
    char *name = strdup(it->symbol);
    char **v = name ? realloc(t->seen, (t->n_seen + 1) * sizeof *v) : NULL;
    if (!v) {
        free(name);
        t->rc = QUANT_ENOMEM;
        snprintf(t->error, sizeof t->error, "out of memory");
        return 1;
    }
    t->seen = v;
    t->seen[t->n_seen++] = name;
    if (!t->req->pooled) {
        if (train_symbol(t, it) == QUANT_OK)
            return 0;
        t->rc = QUANT_ENOMEM;
        snprintf(t->error, sizeof t->error, "out of memory");
        return 1;
    }
    struct quant_err e;
    quant_err_clear(&e);
    int too_short = 0;
    enum quant_code code = it->code;
    if (code)
        quant_err_set(&e, code, "%s", it->error);
    else
        code = quant_fit_add_frame_(&t->pooled, it->symbol, it->frame, &too_short, &e);
    if (code && too_short && quant_fit_exclude_(&t->pooled, it->symbol, e.msg) != QUANT_OK)
        quant_err_set(&e, code = QUANT_ENOMEM, "out of memory");
    else if (code && too_short)
        code = QUANT_OK;
    if (code) {
        t->rc = code;
        snprintf(t->error, sizeof t->error, "%s", e.msg);
        return 1;
    }
    return 0;
}

static int seen(const struct trainer *t, const char *sym)
{
    for (size_t i = 0; i < t->n_seen; i++)
        if (strcmp(t->seen[i], sym) == 0)
            return 1;
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a pooled training across machines cannot be asked (train.h). */
static enum quant_code check_machines(const struct quant_train_request *req,
                                      const struct quant_model_algo *algo, size_t u,
                                      struct quant_err *err)
{
    size_t n = req->machines->n;
    if (!req->pooled)
        return quant_err_set(err, QUANT_EINVAL, "--machines trains one pooled model across "
                             "machines: add --pooled");
    if (strcmp(quant_model_algo_name(algo), "lightgbm") != 0)
        return quant_err_set(err, QUANT_EINVAL, "training across machines is LightGBM's "
                             "(its data-parallel learner): use --algo lightgbm");
    if (req->score)
        return quant_err_set(err, QUANT_EINVAL, "--score is not for training across machines: "
                             "score afterwards with `quant score --model ID`");
    if (n < 2 || req->rank < 0 || (size_t)req->rank >= n)
        return quant_err_set(err, QUANT_EINVAL, "rank %d is not one of the %zu machines: use "
                             "--rank 0 to %zu", req->rank, n, n - 1);
    if (u < n)
        return quant_err_set(err, QUANT_EINVAL, "%zu symbols cannot be shared among %zu "
                             "machines: give at least one symbol per machine", u, n);
    return QUANT_OK;
}

enum quant_code quant_train(struct quant_workspace *ws, const struct quant_train_request *req,
                               const struct quant_ml_observer *obs,
                               struct quant_train_summary *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    double t_start = quant_clock_mono();
    const char *algo_name = req->algo ? req->algo : "lightgbm";
    const struct quant_model_algo *algo = quant_model_algo_find(algo_name);
    if (!algo)
        return quant_err_set(err, QUANT_EINVAL, "unknown algorithm '%.40s': use lightgbm or "
                                                "xgboost", algo_name);
    const struct quant_feature_set *set = req->set ? req->set : quant_feature_set_find("tech-v1");
    int h = req->horizon ? req->horizon : QUANT_LABEL_HORIZON_DEFAULT;
    if (req->n_symbols == 0)
        return quant_err_set(err, QUANT_EINVAL, "give the symbols to train on (--symbols AAPL ...)");
    if (req->early_stopping < QUANT_TRAIN_EARLY_STOP_OFF)
        return quant_err_set(err, QUANT_EINVAL, "early stopping %d is not a number of rounds; "
                             "use 0 (off) or more", req->early_stopping);
    enum quant_code rc = quant_model_params_check(algo, req->params, req->n_params, err);
    char **syms = NULL;
    size_t u = 0;
    if (!rc)
        rc = quant_symbols_normalize_all(req->symbols, req->n_symbols, &syms, &u, err);
    if (rc)
        return rc;
    /* The scan wants its symbols sorted (normalize_all made them unique). */
    qsort(syms, u, sizeof *syms, cmp_sym);
    /* Across machines: this rank's share, symbol i to rank i mod n (train.h).
     * By position in the sorted list rather than by blocks, so the shares
     * stay within one symbol of each other and neighbours in the alphabet
     * (a company's share classes) spread over the ranks. */
    const char **mine = calloc(u ? u : 1, sizeof *mine);
    size_t n_mine = 0;
    if (!mine)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < u; i++)
        if (!req->machines || i % req->machines->n == (size_t)req->rank)
            mine[n_mine++] = syms[i];
    if (!rc && req->machines)
        rc = check_machines(req, algo, u, err);
    if (rc) {
        free(mine);
        quant_strings_free(syms, u);
        return rc;
    }
    struct trainer t;
    memset(&t, 0, sizeof t);
    t.ws = ws;
    t.req = req;
    t.algo = algo;
    t.obs = obs;
    t.out = out;
    t.set = set;
    t.horizon = h;
    double t0 = quant_clock_mono();
    struct quant_train_result r;
    result_init(&t, &r, "pooled");
    if (req->pooled) {
        if (obs && obs->on_train_start)
            obs->on_train_start(obs->ctx, r.label, r.algo_name);
        quant_fit_training_init_(&t.pooled, set, h);
        if (!t.pooled.segments || !t.pooled.symbols)
            t.rc = QUANT_ENOMEM;
        if (t.rc)
            snprintf(t.error, sizeof t.error, "out of memory");
    }
    int threads = req->threads > 0 ? req->threads : 2;
    /* Per-symbol models are small: a library spreading one over N threads
     * spends much of its time starting and joining them, so N models train
     * at once with one thread each.  The pooled model keeps the N threads. */
    t.model_threads = threads;
    if (!req->pooled && threads > 1 && u > 1 && !t.rc) {
        int workers = (size_t)threads < u ? threads : (int)u;
        rc = quant_ml_pool_start(workers, 2 * (size_t)workers, fit_job, &t.pool, err);
        t.model_threads = 1;
    }
    struct quant_frames_request fq = {
        .set = set,
        .horizon = h,
        .want = mine,
        .n_want = n_mine,
        .threads = threads,
    };
    if (!t.rc && !rc)
        rc = quant_frames_scan(quant_workspace_series(ws, NULL), &fq, on_frame, &t, err);
    /* The models still in the pool come before the symbols the scan missed. */
    drain(&t, 1);
    quant_ml_pool_stop(t.pool);
    if (!rc && t.rc)
        rc = quant_err_set(err, t.rc, "%s", t.error[0] ? t.error : "out of memory");
    /* Symbols with no bars at all never came out of the scan. */
    for (size_t i = 0; !rc && i < n_mine; i++) {
        if (seen(&t, mine[i]))
            continue;
        char why[QUANT_ERR_MSG_MAX];
        snprintf(why, sizeof why, "no bars stored for %s: run `quant ingest --symbols %s` first",
                 mine[i], mine[i]);
        if (req->pooled) {
            if (quant_fit_exclude_(&t.pooled, mine[i], why) != QUANT_OK)
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            continue;
        }
        struct quant_train_result s;
        result_init(&t, &s, mine[i]);
        if (obs && obs->on_train_start)
            obs->on_train_start(obs->ctx, s.label, s.algo_name);
        s.code = QUANT_ENOTFOUND;
        s.skipped = 1;
        snprintf(s.error, sizeof s.error, "%s", why);
        report_train(obs, &s, out);
    }
    if (!rc && req->pooled && req->machines) {
        /* A rank whose share has no rows still meets the others, to stop them. */
        quant_fit_train_ranks_(ws, req, algo, threads, &t.pooled, syms, u, &r);
        snprintf(r.label, sizeof r.label, "pooled (%zu of %zu symbols)",
                 req->rank == 0 ? u - t.pooled.n_excluded : n_mine - t.pooled.n_excluded,
                 req->rank == 0 ? u : n_mine);
        r.excluded = t.pooled.excluded;
        r.n_excluded = t.pooled.n_excluded;
        r.seconds = quant_clock_mono() - t0;
        report_train(obs, &r, out);
    } else if (!rc && req->pooled) {
        snprintf(r.label, sizeof r.label, "pooled (%zu of %zu symbols)", u - t.pooled.n_excluded,
                 u);
        if (t.pooled.n_excluded == u) {
            r.code = QUANT_ENOTFOUND;
            snprintf(r.error, sizeof r.error, "no symbol qualifies for a pooled model (%zu "
                     "tried); the first: %s", u, t.pooled.excluded[0].reason);
        } else {
            quant_fit_train_one_(ws, req, algo, threads, &t.pooled, "pooled", &r);
        }
        r.excluded = t.pooled.excluded;
        r.n_excluded = t.pooled.n_excluded;
        r.seconds = quant_clock_mono() - t0;
        report_train(obs, &r, out);
        if (req->score && !r.code)
            rc = score_pooled(ws, &t.pooled, r.model_id, out, err);
    }
    /* The scan is over: the connection is free to store the scores. */
    if (!rc && req->score) {
        long rows = 0, oos = 0;
        enum quant_code sc = quant_ml_scored_store_(ws, &t.scored, &rows, &oos, err);
        out->predictions += rows;
        out->out_of_sample += oos;
        if (sc) {
            char why[QUANT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            rc = quant_err_set(err, sc, "the models are trained and registered, but storing "
                               "their predictions failed: %s; run `quant score` for them",
                               why);
        }
    }
    quant_ml_scored_release_(&t.scored);
    if (req->pooled)
        quant_fit_training_release_(&t.pooled);
    quant_strings_free(t.seen, t.n_seen);
    free(mine);
    quant_strings_free(syms, u);
    out->seconds = quant_clock_mono() - t_start;
    return rc;
}
