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
#include "quant/ml_split.h"
#include "providers/provider_internal.h"
#include "services/ml_internal.h"
#include "services/ml_pool.h"
#include "core/banned.h"

/* ---- growing row-major data sets ------------------------------------------------- */

struct dataset {
    float *x, *y;
    size_t n, cap, nf;
};

static void dataset_release(struct dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Append positions [begin, end) of rows from a frame. */
static enum quant_code dataset_add(struct dataset *d, const struct quant_training_frame *f,
                                   const size_t *rows, size_t begin, size_t end,
                                   struct quant_err *err)
{
    size_t k = end - begin;
    if (d->n + k > d->cap) {
        size_t cap = d->cap ? d->cap : 1024;
        while (cap < d->n + k)
            cap *= 2;
        float *x = realloc(d->x, cap * d->nf * sizeof *x);
        if (x)
            d->x = x;
        float *y = realloc(d->y, cap * sizeof *y);
        if (y)
            d->y = y;
        if (!x || !y)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory gathering training rows");
        d->cap = cap;
    }
    quant_split_gather(&f->features, &f->labels, rows, begin, end, d->x + d->n * d->nf,
                       d->y + d->n);
    d->n += k;
    return QUANT_OK;
}

static struct quant_ml_data as_data(const struct dataset *d)
{
    struct quant_ml_data m = {d->x, d->y, d->n, d->nf};
    return m;
}

/* ---- what one model is trained on ------------------------------------------------- */

struct training {
    const struct quant_feature_set *set;
    int horizon;
    struct dataset train, valid, test;
    cJSON *segments;        /* {"AAPL": {"train": [first, last], ...}} */
    cJSON *symbols;         /* ["AAPL", ...] */
    struct quant_train_exclusion *excluded;   /* pooled: symbols left out */
    size_t n_excluded;
};

static cJSON *date_pair(const struct quant_training_frame *f, const size_t *rows, size_t begin,
                        size_t end)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    if (end > begin) {
        char d1[11], d2[11];
        quant_date_format(f->dates[rows[begin]], d1);
        quant_date_format(f->dates[rows[end - 1]], d2);
        cJSON_AddItemToArray(a, cJSON_CreateString(d1));
        cJSON_AddItemToArray(a, cJSON_CreateString(d2));
    }
    return a;
}

/*
 * Split one symbol's frame by time and add its segments to tr.  *too_short is
 * set when the failure is the symbol's data (too few rows after the embargo)
 * rather than the machine's: such a symbol is skipped or left out of a
 * pooled model, not a failed run.
 */
static enum quant_code add_frame(struct training *tr, const char *symbol,
                                 const struct quant_training_frame *f, int *too_short,
                                 struct quant_err *err)
{
    *too_short = 0;
    size_t *rows = malloc((f->n ? f->n : 1) * sizeof *rows);
    size_t n = 0;
    struct quant_split sp;
    enum quant_code rc = QUANT_OK;
    if (!rows)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = quant_split_rows(&f->features, &f->labels, rows, &n, err);
    if (!rc && n == 0) {
        *too_short = 1;
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "%s has no date with every %s feature and an h=%d label (%zu bars "
                           "stored): its history is too short",
                           symbol, quant_feature_set_name(tr->set), tr->horizon, f->n);
    }
    if (!rc && (rc = quant_split_compute(symbol, n, tr->horizon, &sp, err)) != QUANT_OK)
        *too_short = 1;
    if (!rc)
        rc = dataset_add(&tr->train, f, rows, sp.train_begin, sp.train_end, err);
    if (!rc)
        rc = dataset_add(&tr->valid, f, rows, sp.valid_begin, sp.valid_end, err);
    if (!rc)
        rc = dataset_add(&tr->test, f, rows, sp.test_begin, sp.test_end, err);
    if (!rc) {
        cJSON *seg = cJSON_CreateObject();
        cJSON_AddItemToObject(seg, "train", date_pair(f, rows, sp.train_begin, sp.train_end));
        cJSON_AddItemToObject(seg, "valid", date_pair(f, rows, sp.valid_begin, sp.valid_end));
        cJSON_AddItemToObject(seg, "test", date_pair(f, rows, sp.test_begin, sp.test_end));
        cJSON_AddNumberToObject(seg, "n_train", (double)sp.n_train);
        cJSON_AddNumberToObject(seg, "n_valid", (double)sp.n_valid);
        cJSON_AddNumberToObject(seg, "n_test", (double)sp.n_test);
        cJSON_AddItemToObject(tr->segments, symbol, seg);
        cJSON_AddItemToArray(tr->symbols, cJSON_CreateString(symbol));
    }
    free(rows);
    return rc;
}

/* FNV-1a over the exact training, validation and test arrays. */
static void fingerprint(const struct training *tr, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    const struct dataset *parts[3] = {&tr->train, &tr->valid, &tr->test};
    for (int p = 0; p < 3; p++) {
        const unsigned char *b = (const unsigned char *)parts[p]->x;
        size_t len = parts[p]->n * parts[p]->nf * sizeof(float);
        for (size_t i = 0; i < len; i++)
            h = (h ^ b[i]) * 1099511628211ULL;
        b = (const unsigned char *)parts[p]->y;
        len = parts[p]->n * sizeof(float);
        for (size_t i = 0; i < len; i++)
            h = (h ^ b[i]) * 1099511628211ULL;
        h = (h ^ (uint64_t)parts[p]->n) * 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static char *json_print(cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

/* A registry id: lgb_AAPL_20260115_162246 (suffixed when taken). */
static void make_id(struct quant_workspace *ws, const char *algo, const char *label, char out[96])
{
    char stamp[32];
    quant_utc_format((int64_t)time(NULL), QUANT_UTC_STAMP, stamp, sizeof stamp);
    const char *prefix = strcmp(algo, "xgboost") == 0 ? "xgb" : "lgb";
    snprintf(out, 96, "%s_%s_%s", prefix, label, stamp);
    struct quant_model_record r;
    struct quant_err e;
    for (int k = 2; quant_meta_model_get(quant_workspace_meta(ws, NULL), out, &r, &e) == QUANT_OK; k++) {
        quant_model_record_release(&r);
        snprintf(out, 96, "%s_%s_%s_%d", prefix, label, stamp, k);
    }
}

static cJSON *params_json(const struct quant_train_request *req, const struct quant_train_opts *o,
                          const struct quant_train_info *info)
{
    cJSON *p = cJSON_CreateObject();
    for (size_t i = 0; i < req->n_params; i++) {
        const char *eq = strchr(req->params[i], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq ? eq - req->params[i] : 0), req->params[i]);
        cJSON_AddStringToObject(p, key, eq ? eq + 1 : "");
    }
    cJSON_AddNumberToObject(p, "rounds", o->rounds);
    cJSON_AddNumberToObject(p, "early_stopping_rounds", o->early_stopping_rounds);
    cJSON_AddNumberToObject(p, "seed", (double)o->seed);
    cJSON_AddNumberToObject(p, "threads", o->threads);
    cJSON_AddNumberToObject(p, "rounds_trained", info->rounds_trained);
    cJSON_AddNumberToObject(p, "best_round", info->best_round);
    return p;
}

/* The symbols a pooled model left out, as {"SYM": "reason"} in its params. */
static void add_excluded(cJSON *params, const struct training *tr)
{
    if (!params || tr->n_excluded == 0)
        return;
    cJSON *x = cJSON_AddObjectToObject(params, "excluded");
    for (size_t i = 0; x && i < tr->n_excluded; i++)
        cJSON_AddStringToObject(x, tr->excluded[i].symbol, tr->excluded[i].reason);
}

static const char *display_name(const char *algo)
{
    return strcmp(algo, "xgboost") == 0 ? "XGBoost" : "LightGBM";
}

static void train_opts(const struct quant_train_request *req, int threads,
                       struct quant_train_opts *o)
{
    quant_train_opts_init(o);
    o->rounds = req->rounds > 0 ? req->rounds : QUANT_TRAIN_ROUNDS_DEFAULT;
    o->early_stopping_rounds = req->early_stopping == QUANT_TRAIN_EARLY_STOP_OFF ? 0
                               : req->early_stopping > 0 ? req->early_stopping
                               : QUANT_TRAIN_EARLY_STOP_DEFAULT;
    o->seed = req->seed ? req->seed : 42;
    o->threads = threads;
    o->params = req->params;
    o->n_params = req->n_params;
}

/*
 * Train one model and evaluate it on its test rows: the part that touches
 * nothing shared (no registry, no files), so the pool's workers run it.
 * On failure r->code and r->error say why and *out_model is NULL.
 */
static void fit_one(const struct quant_model_algo *algo, const struct quant_train_opts *o,
                    const struct training *tr, struct quant_model **out_model,
                    struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_model *model = NULL;
    double *p = malloc((tr->test.n ? tr->test.n : 1) * sizeof *p);
    struct quant_ml_data train = as_data(&tr->train), valid = as_data(&tr->valid);
    enum quant_code rc = p ? QUANT_OK : quant_err_set(&err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = quant_model_train(algo, &train, &valid, o, &model, &r->info, &err);
    if (!rc)
        rc = quant_model_predict(model, tr->test.x, tr->test.n, tr->test.nf, p, &err);
    if (!rc)
        rc = quant_metrics_compute(tr->test.y, p, tr->test.n, tr->train.y, tr->train.n,
                                   tr->valid.n, &r->metrics, &err);
    free(p);
    r->code = rc;
    if (rc) {
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        quant_model_free(model);
        model = NULL;
    }
    *out_model = model;
}

/*
 * Save and register a fitted model (on the calling thread: the registry
 * connection and the ids are not shared with workers).  The file is written
 * before the row that names it and removed when the row cannot be written,
 * so the registry never points at a missing file nor leaves one behind.
 */
static void register_one(struct quant_workspace *ws, const struct quant_train_request *req,
                         const struct quant_model_algo *algo, const struct quant_train_opts *o,
                         const struct training *tr, struct quant_model *model,
                         const char *id_label, struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    make_id(ws, quant_model_algo_name(algo), id_label, r->model_id);
    snprintf(r->path, sizeof r->path, "%s/%s%s",
             quant_config_get(quant_workspace_config(ws), QUANT_SET_MODELS_DIR), r->model_id,
             quant_model_algo_file_ext(algo));
    enum quant_code rc = quant_model_save(model, r->path, &err);
    if (!rc) {
        struct quant_model_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.id, sizeof rec.id, "%s", r->model_id);
        snprintf(rec.algorithm, sizeof rec.algorithm, "%s", quant_model_algo_name(algo));
        snprintf(rec.feature_set, sizeof rec.feature_set, "%s", quant_feature_set_name(tr->set));
        rec.horizon = tr->horizon;
        cJSON *params = params_json(req, o, &r->info);
        add_excluded(params, tr);
        rec.params_json = json_print(params);
        rec.metrics_json = json_print(quant_metrics_to_json(&r->metrics));
        cJSON *names = cJSON_CreateArray();
        for (size_t i = 0; i < quant_feature_set_size(tr->set); i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(quant_feature_set_feature(tr->set, i)));
        rec.feature_names_json = json_print(names);
        rec.symbols_json = cJSON_PrintUnformatted(tr->symbols);
        rec.segments_json = cJSON_PrintUnformatted(tr->segments);
        fingerprint(tr, rec.fingerprint);
        snprintf(rec.path, sizeof rec.path, "%s", r->path);
        if (!rec.params_json || !rec.metrics_json || !rec.feature_names_json ||
            !rec.symbols_json || !rec.segments_json)
            rc = quant_err_set(&err, QUANT_ENOMEM, "out of memory");
        else
            rc = quant_meta_model_insert(quant_workspace_meta(ws, NULL), &rec, &err);
        if (rc)
            remove(r->path); /* an unregistered file would only confuse */
        quant_model_record_release(&rec);
    }
    r->code = rc;
    if (rc)
        snprintf(r->error, sizeof r->error, "%s", err.msg);
}

/* Train, evaluate on test, save and register one model, all on this thread. */
static void train_one(struct quant_workspace *ws, const struct quant_train_request *req,
                      const struct quant_model_algo *algo, int threads, struct training *tr,
                      const char *id_label, struct quant_train_result *r)
{
    struct quant_train_opts o;
    train_opts(req, threads, &o);
    struct quant_model *model = NULL;
    fit_one(algo, &o, tr, &model, r);
    if (model)
        register_one(ws, req, algo, &o, tr, model, id_label, r);
    quant_model_free(model);
}

static void training_init(struct training *tr, const struct quant_feature_set *set, int h)
{
    memset(tr, 0, sizeof *tr);
    tr->set = set;
    tr->horizon = h;
    tr->train.nf = tr->valid.nf = tr->test.nf = quant_feature_set_size(set);
    tr->segments = cJSON_CreateObject();
    tr->symbols = cJSON_CreateArray();
}

static void training_release(struct training *tr)
{
    dataset_release(&tr->train);
    dataset_release(&tr->valid);
    dataset_release(&tr->test);
    cJSON_Delete(tr->segments);
    cJSON_Delete(tr->symbols);
    free(tr->excluded);
}

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

static enum quant_code exclude(struct training *tr, const char *symbol, const char *reason)
{
    struct quant_train_exclusion *v = realloc(tr->excluded, (tr->n_excluded + 1) * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    tr->excluded = v;
    snprintf(v[tr->n_excluded].symbol, sizeof v->symbol, "%s", symbol);
    snprintf(v[tr->n_excluded].reason, sizeof v->reason, "%s", reason);
    tr->n_excluded++;
    return QUANT_OK;
}

/*
 * One per-symbol model on its way through the pool: the main thread gathers
 * its rows, a worker fits it, the main thread registers and reports it.
 */
struct symbol_job {
    const struct quant_model_algo *algo;
    struct quant_train_opts opts;
    struct training tr;
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
    struct training pooled;       /* req->pooled: the one model's rows */
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
             display_name(quant_model_algo_name(t->algo)));
    snprintf(r->label, sizeof r->label, "%s", label);
    r->started = time(NULL);
}

/* The pool's work: fit and evaluate, nothing else (see fit_one). */
static void fit_job(void *p)
{
    struct symbol_job *j = p;
    if (!j->fit)
        return;
    double t0 = quant_clock_mono();
    fit_one(j->algo, &j->opts, &j->tr, &j->model, &j->r);
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
        register_one(t->ws, t->req, t->algo, &j->opts, &j->tr, j->model, j->r.label, &j->r);
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
    training_release(&j->tr);
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
    train_opts(t->req, t->model_threads, &j->opts);
    result_init(t, &j->r, it->symbol);
    if (t->obs && t->obs->on_train_start)
        t->obs->on_train_start(t->obs->ctx, j->r.label, j->r.algo_name);
    training_init(&j->tr, t->set, t->horizon);
    struct quant_err e;
    quant_err_clear(&e);
    int too_short = 0;
    enum quant_code code = it->code;
    if (code)
        quant_err_set(&e, code, "%s", it->error);
    else if (!j->tr.segments || !j->tr.symbols)
        code = quant_err_set(&e, QUANT_ENOMEM, "out of memory");
    else
        code = add_frame(&j->tr, it->symbol, it->frame, &too_short, &e);
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
static enum quant_code score_pooled(struct quant_workspace *ws, const struct training *tr,
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
        code = add_frame(&t->pooled, it->symbol, it->frame, &too_short, &e);
    if (code && too_short && exclude(&t->pooled, it->symbol, e.msg) != QUANT_OK)
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
        training_init(&t.pooled, set, h);
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
        .want = (const char *const *)syms,
        .n_want = u,
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
    for (size_t i = 0; !rc && i < u; i++) {
        if (seen(&t, syms[i]))
            continue;
        char why[QUANT_ERR_MSG_MAX];
        snprintf(why, sizeof why, "no bars stored for %s: run `quant ingest --symbols %s` first",
                 syms[i], syms[i]);
        if (req->pooled) {
            if (exclude(&t.pooled, syms[i], why) != QUANT_OK)
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            continue;
        }
        struct quant_train_result s;
        result_init(&t, &s, syms[i]);
        if (obs && obs->on_train_start)
            obs->on_train_start(obs->ctx, s.label, s.algo_name);
        s.code = QUANT_ENOTFOUND;
        s.skipped = 1;
        snprintf(s.error, sizeof s.error, "%s", why);
        report_train(obs, &s, out);
    }
    if (!rc && req->pooled) {
        snprintf(r.label, sizeof r.label, "pooled (%zu of %zu symbols)", u - t.pooled.n_excluded,
                 u);
        if (t.pooled.n_excluded == u) {
            r.code = QUANT_ENOTFOUND;
            snprintf(r.error, sizeof r.error, "no symbol qualifies for a pooled model (%zu "
                     "tried); the first: %s", u, t.pooled.excluded[0].reason);
        } else {
            train_one(ws, req, algo, threads, &t.pooled, "pooled", &r);
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
        training_release(&t.pooled);
    quant_strings_free(t.seen, t.n_seen);
    quant_strings_free(syms, u);
    out->seconds = quant_clock_mono() - t_start;
    return rc;
}
