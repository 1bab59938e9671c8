/*
 * fit.c: what training one model takes, shared by `quant train` (train.c)
 * and the walk-forward (walkforward.c): row-major datasets gathered from
 * frames, the spec's split of one symbol's frame, fitting through model.h
 * with early stopping and test metrics, and saving + registering the model
 * (see fit_internal.h).
 */
#include "services/fit_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/clock.h"
#include "quant/meta_store.h"
#include "quant/ml_split.h"
#include "core/banned.h"

/* ---- growing row-major data sets ------------------------------------------------- */


void quant_fit_dataset_release_(struct quant_fit_dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Append positions [begin, end) of rows from a frame. */
enum quant_code quant_fit_dataset_add_(struct quant_fit_dataset *d, const struct quant_training_frame *f,
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

struct quant_ml_data quant_fit_as_data_(const struct quant_fit_dataset *d)
{
    struct quant_ml_data m = {d->x, d->y, d->n, d->nf};
    return m;
}

/* ---- what one model is trained on ------------------------------------------------- */


cJSON *quant_fit_date_pair_(const struct quant_training_frame *f, const size_t *rows, size_t begin,
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
enum quant_code quant_fit_add_frame_(struct quant_fit_training *tr, const char *symbol,
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
        rc = quant_fit_dataset_add_(&tr->train, f, rows, sp.train_begin, sp.train_end, err);
    if (!rc)
        rc = quant_fit_dataset_add_(&tr->valid, f, rows, sp.valid_begin, sp.valid_end, err);
    if (!rc)
        rc = quant_fit_dataset_add_(&tr->test, f, rows, sp.test_begin, sp.test_end, err);
    if (!rc) {
        cJSON *seg = cJSON_CreateObject();
        cJSON_AddItemToObject(seg, "train", quant_fit_date_pair_(f, rows, sp.train_begin, sp.train_end));
        cJSON_AddItemToObject(seg, "valid", quant_fit_date_pair_(f, rows, sp.valid_begin, sp.valid_end));
        cJSON_AddItemToObject(seg, "test", quant_fit_date_pair_(f, rows, sp.test_begin, sp.test_end));
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
static void fingerprint(const struct quant_fit_training *tr, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    const struct quant_fit_dataset *parts[3] = {&tr->train, &tr->valid, &tr->test};
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

char *quant_fit_json_print_(cJSON *j)
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
static void add_excluded(cJSON *params, const struct quant_fit_training *tr)
{
    if (!params || tr->n_excluded == 0)
        return;
    cJSON *x = cJSON_AddObjectToObject(params, "excluded");
    for (size_t i = 0; x && i < tr->n_excluded; i++)
        cJSON_AddStringToObject(x, tr->excluded[i].symbol, tr->excluded[i].reason);
}

const char *quant_fit_display_name_(const char *algo)
{
    return strcmp(algo, "xgboost") == 0 ? "XGBoost" : "LightGBM";
}

void quant_fit_opts_(const struct quant_train_request *req, int threads,
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
void quant_fit_one_(const struct quant_model_algo *algo, const struct quant_train_opts *o,
                    const struct quant_fit_training *tr, struct quant_model **out_model,
                    struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_model *model = NULL;
    double *p = malloc((tr->test.n ? tr->test.n : 1) * sizeof *p);
    struct quant_ml_data train = quant_fit_as_data_(&tr->train), valid = quant_fit_as_data_(&tr->valid);
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
void quant_fit_register_(struct quant_workspace *ws, const struct quant_train_request *req,
                         const struct quant_model_algo *algo, const struct quant_train_opts *o,
                         const struct quant_fit_training *tr, struct quant_model *model,
                         const char *id_label, const cJSON *extra, struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (!r->model_id[0])
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
        for (const cJSON *x = extra ? extra->child : NULL; params && x; x = x->next)
            cJSON_AddItemToObject(params, x->string, cJSON_Duplicate(x, 1));
        rec.params_json = quant_fit_json_print_(params);
        rec.metrics_json = quant_fit_json_print_(quant_metrics_to_json(&r->metrics));
        cJSON *names = cJSON_CreateArray();
        for (size_t i = 0; i < quant_feature_set_size(tr->set); i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(quant_feature_set_feature(tr->set, i)));
        rec.feature_names_json = quant_fit_json_print_(names);
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
void quant_fit_train_one_(struct quant_workspace *ws, const struct quant_train_request *req,
                      const struct quant_model_algo *algo, int threads, struct quant_fit_training *tr,
                      const char *id_label, struct quant_train_result *r)
{
    struct quant_train_opts o;
    quant_fit_opts_(req, threads, &o);
    struct quant_model *model = NULL;
    quant_fit_one_(algo, &o, tr, &model, r);
    if (model)
        quant_fit_register_(ws, req, algo, &o, tr, model, id_label, NULL, r);
    quant_model_free(model);
}

void quant_fit_training_init_(struct quant_fit_training *tr, const struct quant_feature_set *set, int h)
{
    memset(tr, 0, sizeof *tr);
    tr->set = set;
    tr->horizon = h;
    tr->train.nf = tr->valid.nf = tr->test.nf = quant_feature_set_size(set);
    tr->segments = cJSON_CreateObject();
    tr->symbols = cJSON_CreateArray();
}

void quant_fit_training_release_(struct quant_fit_training *tr)
{
    quant_fit_dataset_release_(&tr->train);
    quant_fit_dataset_release_(&tr->valid);
    quant_fit_dataset_release_(&tr->test);
    cJSON_Delete(tr->segments);
    cJSON_Delete(tr->symbols);
    free(tr->excluded);
}

enum quant_code quant_fit_exclude_(struct quant_fit_training *tr, const char *symbol,
                                   const char *reason)
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
