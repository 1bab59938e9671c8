/*
 * ml.c: the ML service (see ml_service.h).  It reads stored features and
 * labels, applies the spec's time split per symbol, trains through model.h,
 * scores the test segment only, saves the model in its library's own format,
 * registers it, and later scores stored features with a registered model.
 * No library-specific code (model.h hides LightGBM and XGBoost) and no SQL.
 */
#include "quant/ml_service.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/feature_store.h"
#include "quant/meta_store.h"
#include "quant/ml_split.h"
#include "quant/provider.h"
#include "core/banned.h"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
 * Load one symbol, split it by time, and add its segments to tr.  *too_short
 * is set when the failure is the symbol's data (no features or labels, too
 * few rows after the embargo) rather than the store's: such a symbol is
 * skipped or left out of a pooled model, not a failed run.
 */
static enum quant_code add_symbol(struct quant_md *md, struct training *tr, const char *symbol,
                                  int *too_short, struct quant_err *err)
{
    *too_short = 0;
    struct quant_training_frame f;
    enum quant_code rc = quant_feature_store_load(quant_md_series(md), tr->set, symbol,
                                                  tr->horizon, &f, err);
    if (rc) {
        *too_short = rc == QUANT_ENOTFOUND;
        return rc;
    }
    size_t *rows = malloc((f.n ? f.n : 1) * sizeof *rows);
    size_t n = 0;
    struct quant_split sp;
    if (!rows)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = quant_split_rows(&f.features, &f.labels, rows, &n, err);
    if (!rc && n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "%s has no dates with every %s feature and an h=%d label: run "
                           "`quant labels --horizon %d --symbols %s` first",
                           symbol, quant_feature_set_name(tr->set), tr->horizon, tr->horizon,
                           symbol);
    if (!rc && (rc = quant_split_compute(symbol, n, tr->horizon, &sp, err)) != QUANT_OK)
        *too_short = 1;
    if (rc == QUANT_ENOTFOUND)
        *too_short = 1;
    if (!rc)
        rc = dataset_add(&tr->train, &f, rows, sp.train_begin, sp.train_end, err);
    if (!rc)
        rc = dataset_add(&tr->valid, &f, rows, sp.valid_begin, sp.valid_end, err);
    if (!rc)
        rc = dataset_add(&tr->test, &f, rows, sp.test_begin, sp.test_end, err);
    if (!rc) {
        cJSON *seg = cJSON_CreateObject();
        cJSON_AddItemToObject(seg, "train", date_pair(&f, rows, sp.train_begin, sp.train_end));
        cJSON_AddItemToObject(seg, "valid", date_pair(&f, rows, sp.valid_begin, sp.valid_end));
        cJSON_AddItemToObject(seg, "test", date_pair(&f, rows, sp.test_begin, sp.test_end));
        cJSON_AddNumberToObject(seg, "n_train", (double)sp.n_train);
        cJSON_AddNumberToObject(seg, "n_valid", (double)sp.n_valid);
        cJSON_AddNumberToObject(seg, "n_test", (double)sp.n_test);
        cJSON_AddItemToObject(tr->segments, symbol, seg);
        cJSON_AddItemToArray(tr->symbols, cJSON_CreateString(symbol));
    }
    free(rows);
    quant_training_frame_release(&f);
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
static void make_id(struct quant_md *md, const char *algo, const char *label, char out[96])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
    const char *prefix = strcmp(algo, "xgboost") == 0 ? "xgb" : "lgb";
    snprintf(out, 96, "%s_%s_%s", prefix, label, stamp);
    struct quant_model_record r;
    struct quant_err e;
    for (int k = 2; quant_meta_model_get(quant_md_meta(md), out, &r, &e) == QUANT_OK; k++) {
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

/* Train, evaluate on test, save and register one model. */
static void train_one(struct quant_md *md, const struct quant_train_request *req,
                      const struct quant_model_algo *algo, struct training *tr,
                      const char *id_label, struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_train_opts o;
    quant_train_opts_init(&o);
    o.rounds = req->rounds > 0 ? req->rounds : QUANT_TRAIN_ROUNDS_DEFAULT;
    o.seed = req->seed ? req->seed : 42;
    o.threads = req->threads > 0 ? req->threads : 2;
    o.params = req->params;
    o.n_params = req->n_params;
    struct quant_model *model = NULL;
    double *p = malloc((tr->test.n ? tr->test.n : 1) * sizeof *p);
    struct quant_ml_data train = as_data(&tr->train), valid = as_data(&tr->valid);
    enum quant_code rc = p ? QUANT_OK : quant_err_set(&err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = quant_model_train(algo, &train, &valid, &o, &model, &r->info, &err);
    if (!rc)
        rc = quant_model_predict(model, tr->test.x, tr->test.n, tr->test.nf, p, &err);
    if (!rc)
        rc = quant_metrics_compute(tr->test.y, p, tr->test.n, tr->train.y, tr->train.n,
                                   tr->valid.n, &r->metrics, &err);
    if (!rc) {
        make_id(md, quant_model_algo_name(algo), id_label, r->model_id);
        snprintf(r->path, sizeof r->path, "%s/%s%s",
                 quant_config_get(quant_md_config(md), QUANT_SET_MODELS_DIR), r->model_id,
                 quant_model_algo_file_ext(algo));
        rc = quant_model_save(model, r->path, &err);
    }
    if (!rc) {
        struct quant_model_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.id, sizeof rec.id, "%s", r->model_id);
        snprintf(rec.algorithm, sizeof rec.algorithm, "%s", quant_model_algo_name(algo));
        snprintf(rec.feature_set, sizeof rec.feature_set, "%s", quant_feature_set_name(tr->set));
        rec.horizon = tr->horizon;
        cJSON *params = params_json(req, &o, &r->info);
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
            rc = quant_meta_model_insert(quant_md_meta(md), &rec, &err);
        if (rc)
            remove(r->path); /* an unregistered file would only confuse */
        quant_model_record_release(&rec);
    }
    r->code = rc;
    if (rc)
        snprintf(r->error, sizeof r->error, "%s", err.msg);
    quant_model_free(model);
    free(p);
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
 * Gather the rows of one model: one symbol, or every symbol of a pooled
 * model.  A pooled model leaves out the symbols that do not qualify and
 * fails only when none does (or on a store error); a single symbol that does
 * not qualify is marked skipped.
 */
static void gather(struct quant_md *md, const struct quant_train_request *req, char **syms,
                   size_t g, struct training *tr, struct quant_train_result *r)
{
    size_t n = req->pooled ? req->n_symbols : 1;
    for (size_t i = 0; i < n; i++) {
        const char *sym = req->pooled ? syms[i] : syms[g];
        struct quant_err e;
        quant_err_clear(&e);
        int too_short = 0;
        enum quant_code code = add_symbol(md, tr, sym, &too_short, &e);
        if (code && too_short && req->pooled &&
            (code = exclude(tr, sym, e.msg)) != QUANT_OK)
            quant_err_set(&e, code, "out of memory");
        else if (code && too_short)
            r->skipped = 1;
        if (code) {
            r->code = code;
            snprintf(r->error, sizeof r->error, "%s", e.msg);
            return;
        }
    }
    if (req->pooled && tr->n_excluded == n) {
        r->code = QUANT_ENOTFOUND;
        snprintf(r->error, sizeof r->error, "no symbol qualifies for a pooled model (%zu "
                 "tried); the first: %s", n, tr->excluded[0].reason);
    }
}

/* Normalised copies of the requested symbols (caller frees with quant_strings_free). */
static enum quant_code normalise(const char *const *in, size_t n, char ***out,
                                 struct quant_err *err)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char s[QUANT_SYMBOL_MAX + 1];
        enum quant_code rc = QUANT_OK;
        if (strlen(in[i]) > QUANT_SYMBOL_MAX)
            rc = quant_err_set(err, QUANT_EINVAL, "symbol '%.40s...' is too long", in[i]);
        snprintf(s, sizeof s, "%s", in[i]);
        if (!rc)
            rc = quant_symbol_normalize(s, err);
        if (!rc && !(v[i] = strdup(s)))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        if (rc) {
            quant_strings_free(v, i + 1);
            return rc;
        }
    }
    *out = v;
    return QUANT_OK;
}

enum quant_code quant_ml_train(struct quant_md *md, const struct quant_train_request *req,
                               const struct quant_ml_observer *obs,
                               struct quant_train_summary *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    double t_start = wall();
    const char *algo_name = req->algo ? req->algo : "lightgbm";
    const struct quant_model_algo *algo = quant_model_algo_find(algo_name);
    if (!algo)
        return quant_err_set(err, QUANT_EINVAL, "unknown algorithm '%.40s': use lightgbm or "
                                                "xgboost", algo_name);
    const struct quant_feature_set *set = req->set ? req->set : quant_feature_set_find("tech-v1");
    int h = req->horizon ? req->horizon : QUANT_LABEL_HORIZON_DEFAULT;
    if (req->n_symbols == 0)
        return quant_err_set(err, QUANT_EINVAL, "give the symbols to train on (--symbols AAPL ...)");
    enum quant_code rc = quant_model_params_check(algo, req->params, req->n_params, err);
    char **syms = NULL;
    if (!rc)
        rc = normalise(req->symbols, req->n_symbols, &syms, err);
    if (rc)
        return rc;
    size_t groups = req->pooled ? 1 : req->n_symbols;
    for (size_t g = 0; g < groups; g++) {
        double t0 = wall();
        struct quant_train_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.algo_name, sizeof r.algo_name, "%s", display_name(quant_model_algo_name(algo)));
        snprintf(r.label, sizeof r.label, "%s", req->pooled ? "pooled" : syms[g]);
        if (obs && obs->on_train_start)
            obs->on_train_start(obs->ctx, r.label, r.algo_name);
        struct training tr;
        training_init(&tr, set, h);
        if (!tr.segments || !tr.symbols) {
            r.code = QUANT_ENOMEM;
            snprintf(r.error, sizeof r.error, "out of memory");
        } else {
            gather(md, req, syms, g, &tr, &r);
        }
        if (req->pooled)
            snprintf(r.label, sizeof r.label, "pooled (%zu of %zu symbols)",
                     req->n_symbols - tr.n_excluded, req->n_symbols);
        if (!r.code)
            train_one(md, req, algo, &tr, req->pooled ? "pooled" : syms[g], &r);
        r.excluded = tr.excluded;
        r.n_excluded = tr.n_excluded;
        r.seconds = wall() - t0;
        report_train(obs, &r, out);
        training_release(&tr);
    }
    quant_strings_free(syms, req->n_symbols);
    out->seconds = wall() - t_start;
    return QUANT_OK;
}

/* ---- scoring ------------------------------------------------------------------------ */

/* The model's feature list must be the set's current one, in the same order. */
static enum quant_code check_features(const struct quant_model_record *rec,
                                      const struct quant_feature_set *set,
                                      struct quant_err *err)
{
    cJSON *names = cJSON_Parse(rec->feature_names_json);
    int same = cJSON_IsArray(names) &&
               (size_t)cJSON_GetArraySize(names) == quant_feature_set_size(set);
    for (size_t i = 0; same && i < quant_feature_set_size(set); i++) {
        cJSON *n = cJSON_GetArrayItem(names, (int)i);
        same = cJSON_IsString(n) && strcmp(n->valuestring, quant_feature_set_feature(set, i)) == 0;
    }
    cJSON_Delete(names);
    if (same)
        return QUANT_OK;
    return quant_err_set(err, QUANT_EINVAL,
                         "model %s was trained on a feature list that differs from the stored "
                         "%s set (%zu features); retrain it with `quant train --features %s`",
                         rec->id, rec->feature_set, quant_feature_set_size(set), rec->feature_set);
}

struct loaded {
    struct quant_model_record rec;
    struct quant_model *model;
    const struct quant_feature_set *set;
};

static void loaded_release(struct loaded *l)
{
    quant_model_free(l->model);
    quant_model_record_release(&l->rec);
    memset(l, 0, sizeof *l);
}

/* Make l hold model `id` (reusing it when it already does). */
static enum quant_code load_model(struct quant_md *md, const char *id, struct loaded *l,
                                  struct quant_err *err)
{
    if (l->model && strcmp(l->rec.id, id) == 0)
        return QUANT_OK;
    loaded_release(l);
    enum quant_code rc = quant_meta_model_get(quant_md_meta(md), id, &l->rec, err);
    if (rc)
        return rc;
    const struct quant_model_algo *algo = quant_model_algo_find(l->rec.algorithm);
    l->set = quant_feature_set_find(l->rec.feature_set);
    if (!algo || !l->set)
        return quant_err_set(err, QUANT_EINVAL, "model %s uses %s / %s, which this quant does "
                                                "not know", id, l->rec.algorithm,
                             l->rec.feature_set);
    rc = check_features(&l->rec, l->set, err);
    if (!rc)
        rc = quant_model_load(algo, l->rec.path, &l->model, err);
    return rc;
}

static enum quant_code latest_for(struct quant_md *md, const char *symbol, char id[96],
                                  struct quant_err *err)
{
    struct quant_model_record *v = NULL;
    size_t n = 0;
    enum quant_code rc = quant_meta_model_list(quant_md_meta(md), symbol, &v, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "no model has been trained on %s: run `quant train --symbols %s`",
                           symbol, symbol);
    else
        snprintf(id, 96, "%s", v[0].id);
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&v[i]);
    free(v);
    return rc;
}

/* A model's train / valid / test date ranges for one symbol (from its
 * registry row), to say which segment each scored row was in. */
struct seg_bounds {
    int known[3];              /* train, valid, test: the range exists */
    int32_t lo[3], hi[3];
};

static void segment_bounds(const struct quant_model_record *rec, const char *symbol,
                           struct seg_bounds *b)
{
    memset(b, 0, sizeof *b);
    cJSON *all = cJSON_Parse(rec->segments_json);
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(all, symbol);
    static const char *const names[3] = {"train", "valid", "test"};
    for (int k = 0; k < 3; k++) {
        const cJSON *pair = cJSON_GetObjectItemCaseSensitive(mine, names[k]);
        const cJSON *a = cJSON_GetArrayItem(pair, 0), *z = cJSON_GetArrayItem(pair, 1);
        if (cJSON_IsString(a) && cJSON_IsString(z) &&
            quant_date_parse(a->valuestring, strlen(a->valuestring), &b->lo[k]) == 0 &&
            quant_date_parse(z->valuestring, strlen(z->valuestring), &b->hi[k]) == 0)
            b->known[k] = 1;
    }
    cJSON_Delete(all);
}

/*
 * The segment of the row at position i of n frame rows.  The frame holds one
 * row per bar from the first with a feature value on, so its last h rows are
 * the dates whose h-day forward return is not known yet.
 */
static enum quant_prediction_segment classify(const struct seg_bounds *b, int32_t date,
                                              size_t i, size_t n, int h)
{
    if (i + (size_t)h >= n)
        return QUANT_SEGMENT_UNLABELLED;
    static const enum quant_prediction_segment in[3] = {
        QUANT_SEGMENT_TRAIN, QUANT_SEGMENT_VALID, QUANT_SEGMENT_TEST};
    for (int k = 0; k < 3; k++)
        if (b->known[k] && date >= b->lo[k] && date <= b->hi[k])
            return in[k];
    /* between train and valid, or valid and test: the embargoed rows */
    for (int k = 0; k < 2; k++)
        if (b->known[k] && b->known[k + 1] && date > b->hi[k] && date < b->lo[k + 1])
            return QUANT_SEGMENT_EMBARGO;
    return QUANT_SEGMENT_UNSEEN;
}

/* One symbol to score: which model, and what happened. */
struct score_target {
    struct quant_score_result r;
    int model_ok;              /* model resolved and its record loaded */
    int seen;                  /* the features scan delivered this symbol */
    int reported;              /* handed to the observer */
    const struct quant_feature_set *set;
    int32_t *dates;            /* pending scores, owned until flushed */
    double *scores;
    uint8_t *segments;         /* enum quant_prediction_segment per score */
    size_t n;
};

struct scorer {
    struct quant_md *md;
    struct score_target *t;    /* sorted by symbol */
    size_t n;
    struct loaded model;       /* the model last used (symbols often share one) */
    size_t pending_rows;       /* predicted but not yet stored */
    const struct quant_ml_observer *obs;
    size_t *failed;
};

static void finish_target(struct scorer *sc, struct score_target *t)
{
    if (t->r.code)
        (*sc->failed)++;
    if (sc->obs && sc->obs->on_scored)
        sc->obs->on_scored(sc->obs->ctx, &t->r);
    free(t->dates);
    free(t->scores);
    free(t->segments);
    t->dates = NULL;
    t->scores = NULL;
    t->segments = NULL;
}

/*
 * Store every predicted series in one transaction, then report every symbol:
 * stored, failed, or never delivered by the scan.
 */
static void flush_scores(struct scorer *sc)
{
    struct quant_prediction_batch *b = calloc(sc->n + 1, sizeof *b);
    size_t k = 0;
    for (size_t i = 0; b && i < sc->n; i++) {
        struct score_target *t = &sc->t[i];
        if (t->reported || t->r.code || !t->seen)
            continue;
        b[k++] = (struct quant_prediction_batch){t->r.symbol, t->r.model_id, t->dates,
                                                 t->scores, t->segments, t->n};
    }
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = b ? QUANT_OK : quant_err_set(&err, QUANT_ENOMEM, "out of memory");
    if (!rc && k)
        rc = quant_prediction_store_write_many(quant_md_series(sc->md), b, k, &err);
    for (size_t i = 0; i < sc->n; i++) {
        struct score_target *t = &sc->t[i];
        if (t->reported)
            continue;
        if (t->seen && !t->r.code) {
            if (rc) {
                t->r.code = rc;
                snprintf(t->r.error, sizeof t->r.error, "%s", err.msg);
            } else {
                t->r.predictions = (long)t->n;
            }
        }
        t->reported = 1;
        finish_target(sc, t);
    }
    free(b);
    sc->pending_rows = 0;
}

static struct score_target *find_target(struct scorer *sc, const char *symbol)
{
    size_t lo = 0, hi = sc->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(sc->t[mid].r.symbol, symbol);
        if (c == 0)
            return &sc->t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Predict one symbol's dates whose features are all present (labelled or not:
 * the newest dates have no label yet, and they are the point of scoring). */
static enum quant_code predict_frame(struct scorer *sc, struct score_target *t,
                                     const struct quant_training_frame *f, struct quant_err *err)
{
    enum quant_code rc = load_model(sc->md, t->r.model_id, &sc->model, err);
    if (rc)
        return rc;
    size_t nf = quant_feature_set_size(sc->model.set);
    size_t *rows = malloc((f->n ? f->n : 1) * sizeof *rows);
    float *x = malloc((f->n ? f->n : 1) * nf * sizeof *x);
    t->dates = malloc((f->n ? f->n : 1) * sizeof *t->dates);
    t->scores = malloc((f->n ? f->n : 1) * sizeof *t->scores);
    t->segments = malloc(f->n ? f->n : 1);
    if (!rows || !x || !t->dates || !t->scores || !t->segments)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct seg_bounds bounds;
    segment_bounds(&sc->model.rec, t->r.symbol, &bounds);
    size_t n = 0;
    for (size_t i = 0; !rc && i < f->n; i++) {
        int all = 1;
        for (size_t k = 0; k < nf && all; k++)
            all = f->features.valid[k * f->n + i];
        if (all) {
            t->dates[n] = f->dates[i];
            t->segments[n] = (uint8_t)classify(&bounds, f->dates[i], i, f->n,
                                               sc->model.rec.horizon);
            t->r.out_of_sample += t->segments[n] == QUANT_SEGMENT_TEST ||
                                  t->segments[n] == QUANT_SEGMENT_UNSEEN;
            rows[n++] = i;
        }
    }
    if (!rc) {
        quant_split_gather(&f->features, NULL, rows, 0, n, x, NULL);
        rc = quant_model_predict(sc->model.model, x, n, nf, t->scores, err);
    }
    t->n = n;
    free(rows);
    free(x);
    return rc;
}

static int on_frame(void *ctx, const char *symbol, const struct quant_training_frame *f)
{
    struct scorer *sc = ctx;
    struct score_target *t = find_target(sc, symbol);
    if (!t || !t->model_ok || t->r.code || t->seen)
        return 0;
    t->seen = 1;
    struct quant_err e;
    quant_err_clear(&e);
    double t0 = wall();
    enum quant_code rc = predict_frame(sc, t, f, &e);
    t->r.seconds = wall() - t0;
    if (rc) {
        t->r.code = rc;
        snprintf(t->r.error, sizeof t->r.error, "%s", e.msg);
    }
    /* Scores wait in memory (12 bytes a row) until the scan is over: storing
     * them now would run a statement on the connection the scan is reading
     * from, which ends the scan. */
    sc->pending_rows += t->n;
    return 0;
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const struct score_target *)a)->r.symbol,
                  ((const struct score_target *)b)->r.symbol);
}

/* Decide each symbol's model; failures are reported at once. */
static void resolve_models(struct scorer *sc, const char *model)
{
    int latest = !model || strcmp(model, "latest") == 0;
    for (size_t i = 0; i < sc->n; i++) {
        struct score_target *t = &sc->t[i];
        struct quant_err e;
        quant_err_clear(&e);
        enum quant_code rc = QUANT_OK;
        if (latest)
            rc = latest_for(sc->md, t->r.symbol, t->r.model_id, &e);
        else
            snprintf(t->r.model_id, sizeof t->r.model_id, "%s", model);
        /* load the record (and check its features) now, so errors come early */
        if (!rc)
            rc = load_model(sc->md, t->r.model_id, &sc->model, &e);
        if (!rc) {
            t->set = sc->model.set;
            t->model_ok = 1;
        } else {
            t->r.code = rc;
            snprintf(t->r.error, sizeof t->r.error, "%s", e.msg);
        }
    }
}

enum quant_code quant_ml_score(struct quant_md *md, const char *const *symbols, size_t n,
                               const char *model, const struct quant_ml_observer *obs,
                               size_t *out_failed, struct quant_err *err)
{
    *out_failed = 0;
    if (n == 0)
        return quant_err_set(err, QUANT_EINVAL, "give the symbols to score (--symbols AAPL ...)");
    char **syms = NULL;
    enum quant_code rc = normalise(symbols, n, &syms, err);
    if (rc)
        return rc;
    struct scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.md = md;
    sc.obs = obs;
    sc.failed = out_failed;
    sc.t = calloc(n, sizeof *sc.t);
    if (!sc.t) {
        quant_strings_free(syms, n);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t k = 0; k < sc.n && !dup; k++)
            dup = strcmp(sc.t[k].r.symbol, syms[i]) == 0;
        if (!dup)
            snprintf(sc.t[sc.n++].r.symbol, sizeof sc.t[0].r.symbol, "%s", syms[i]);
    }
    quant_strings_free(syms, n);
    qsort(sc.t, sc.n, sizeof *sc.t, target_cmp);
    resolve_models(&sc, model);

    /* One pass over each feature set's table feeds every symbol using it. */
    for (size_t i = 0; !rc && i < quant_feature_set_count(); i++) {
        const struct quant_feature_set *set = quant_feature_set_at(i);
        const char **want = malloc(sc.n * sizeof *want);
        size_t nw = 0;
        for (size_t k = 0; want && k < sc.n; k++)
            if (sc.t[k].model_ok && sc.t[k].set == set)
                want[nw++] = sc.t[k].r.symbol;
        if (!want)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        else if (nw)
            rc = quant_feature_store_scan(quant_md_series(md), set, want, nw, on_frame, &sc,
                                          err);
        free(want);
    }
    for (size_t i = 0; i < sc.n; i++) {
        struct score_target *t = &sc.t[i];
        if (t->model_ok && !t->seen && !t->r.code) {
            t->r.code = QUANT_ENOTFOUND;
            snprintf(t->r.error, sizeof t->r.error,
                     "no %s features stored for %s: run `quant features --set %s --symbols %s`",
                     quant_feature_set_name(t->set), t->r.symbol, quant_feature_set_name(t->set),
                     t->r.symbol);
        }
    }
    flush_scores(&sc);
    loaded_release(&sc.model);
    free(sc.t);
    return rc;
}
