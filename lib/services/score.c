/*
 * score.c: `quant score` (see score.h): a registered model over the
 * features computed from the bars as they are read (frames.h), one scan of
 * the bars per feature set for every symbol, each row stored
 * with the segment it was in for that model.  No SQL and no library-specific
 * code: the stores and model.h do that.
 */
#include "quant/score.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/feature_store.h"
#include "quant/models.h"
#include "services/frames.h"
#include "quant/meta_store.h"
#include "quant/ml_split.h"
#include "providers/provider_internal.h"
#include "services/ml_internal.h"
#include "core/banned.h"

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

/*
 * Make l hold model `id`'s registry record, checked against its feature set,
 * and, when `file`, the model itself (reusing what l already holds).  The
 * model file is only looked at without `file`: symbols rarely share a model,
 * so loading it up front as well would parse every model twice.
 */
static enum quant_code load_model_as(struct quant_workspace *ws, const char *id, int file,
                                     struct loaded *l, struct quant_err *err)
{
    if (l->rec.id[0] && strcmp(l->rec.id, id) == 0 && (l->model || !file))
        return QUANT_OK;
    loaded_release(l);
    enum quant_code rc = quant_meta_model_get(quant_workspace_meta(ws, NULL), id, &l->rec, err);
    if (rc)
        return rc;
    const struct quant_model_algo *algo = quant_model_algo_find(l->rec.algorithm);
    l->set = quant_feature_set_find(l->rec.feature_set);
    if (!algo || !l->set)
        return quant_err_set(err, QUANT_EINVAL, "model %s uses %s / %s, which this quant does "
                                                "not know", id, l->rec.algorithm,
                             l->rec.feature_set);
    rc = check_features(&l->rec, l->set, err);
    if (!rc && file)
        rc = quant_model_load(algo, l->rec.path, &l->model, err);
    else if (!rc && access(l->rec.path, R_OK) != 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND, "%s model file %s not found; train a "
                           "model first", l->rec.algorithm, l->rec.path);
    if (rc)
        loaded_release(l);
    return rc;
}

static enum quant_code load_model(struct quant_workspace *ws, const char *id, struct loaded *l,
                                  struct quant_err *err)
{
    return load_model_as(ws, id, 1, l, err);
}

/* "latest" means what `quant models show latest --symbol S` shows (models.c). */
static enum quant_code latest_for(struct quant_workspace *ws, const char *symbol, char id[96],
                                  struct quant_err *err)
{
    struct quant_model_entry e;
    enum quant_code rc = quant_models_get(ws, "latest", symbol, &e, err);
    if (!rc)
        snprintf(id, 96, "%s", e.rec.id);
    quant_model_entry_release(&e);
    return rc;
}

/* One symbol to score: which model, and what happened. */
struct score_target {
    struct quant_score_result r;
    int model_ok;              /* model resolved and its record loaded */
    int seen;                  /* the features scan delivered this symbol */
    int reported;              /* handed to the observer */
    const struct quant_feature_set *set;
    struct quant_ml_rows rows; /* pending scores, owned until flushed */
};

struct scorer {
    struct quant_workspace *ws;
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
    quant_ml_rows_release_(&t->rows);
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
        b[k++] = (struct quant_prediction_batch){t->r.symbol, t->r.model_id, t->rows.dates,
                                                 t->rows.scores, t->rows.segments, t->rows.n};
    }
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = b ? QUANT_OK : quant_err_set(&err, QUANT_ENOMEM, "out of memory");
    if (!rc && k)
        rc = quant_prediction_store_write_many(quant_workspace_series(sc->ws, NULL), b, k, &err);
    for (size_t i = 0; i < sc->n; i++) {
        struct score_target *t = &sc->t[i];
        if (t->reported)
            continue;
        if (t->seen && !t->r.code) {
            if (rc) {
                t->r.code = rc;
                snprintf(t->r.error, sizeof t->r.error, "%s", err.msg);
            } else {
                t->r.predictions = (long)t->rows.n;
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
    enum quant_code rc = load_model(sc->ws, t->r.model_id, &sc->model, err);
    if (rc)
        return rc;
    cJSON *all = cJSON_Parse(sc->model.rec.segments_json);
    rc = quant_ml_rows_gather_(f, quant_feature_set_size(sc->model.set),
                               cJSON_GetObjectItemCaseSensitive(all, t->r.symbol),
                               sc->model.rec.horizon, &t->rows, err);
    cJSON_Delete(all);
    if (!rc)
        rc = quant_ml_rows_predict_(sc->model.model, &t->rows, err);
    t->r.out_of_sample = t->rows.out_of_sample;
    return rc;
}

static int on_frame(void *ctx, const struct quant_frame_item *it)
{
    struct scorer *sc = ctx;
    struct score_target *t = find_target(sc, it->symbol);
    if (!t || !t->model_ok || t->r.code || t->seen)
        return 0;
    t->seen = 1;
    struct quant_err e;
    quant_err_clear(&e);
    double t0 = quant_clock_mono();
    enum quant_code rc = it->code;
    if (rc)
        quant_err_set(&e, rc, "%s", it->error);
    else
        rc = predict_frame(sc, t, it->frame, &e);
    t->r.seconds = quant_clock_mono() - t0;
    if (rc) {
        t->r.code = rc;
        snprintf(t->r.error, sizeof t->r.error, "%s", e.msg);
    }
    /* Scores wait in memory (12 bytes a row) until the scan is over: storing
     * them now would run a statement on the connection the scan is reading
     * from, which ends the scan. */
    sc->pending_rows += t->rows.n;
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
            rc = latest_for(sc->ws, t->r.symbol, t->r.model_id, &e);
        else
            snprintf(t->r.model_id, sizeof t->r.model_id, "%s", model);
        /* the record, its features and its file now, so errors come early */
        if (!rc)
            rc = load_model_as(sc->ws, t->r.model_id, 0, &sc->model, &e);
        if (!rc) {
            t->set = sc->model.set;
            t->model_ok = 1;
        } else {
            t->r.code = rc;
            snprintf(t->r.error, sizeof t->r.error, "%s", e.msg);
        }
    }
}

enum quant_code quant_score(struct quant_workspace *ws, const char *const *symbols, size_t n,
                               const char *model, const struct quant_ml_observer *obs,
                               size_t *out_failed, struct quant_err *err)
{
    *out_failed = 0;
    if (n == 0)
        return quant_err_set(err, QUANT_EINVAL, "give the symbols to score (--symbols AAPL ...)");
    char **syms = NULL;
    enum quant_code rc = quant_symbols_normalize_all(symbols, n, &syms, &n, err);
    if (rc)
        return rc;
    struct scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.ws = ws;
    sc.obs = obs;
    sc.failed = out_failed;
    sc.t = calloc(n, sizeof *sc.t);
    if (!sc.t) {
        quant_strings_free(syms, n);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) /* normalised and each once */
        snprintf(sc.t[sc.n++].r.symbol, sizeof sc.t[0].r.symbol, "%s", syms[i]);
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
        else if (nw) {
            /* Features are computed from the bars as they are read (frames.h). */
            struct quant_frames_request fq = {.set = set, .want = want, .n_want = nw};
            rc = quant_frames_scan(quant_workspace_series(ws, NULL), &fq, on_frame, &sc, err);
        }
        free(want);
    }
    for (size_t i = 0; i < sc.n; i++) {
        struct score_target *t = &sc.t[i];
        if (t->model_ok && !t->seen && !t->r.code) {
            t->r.code = QUANT_ENOTFOUND;
            snprintf(t->r.error, sizeof t->r.error,
                     "no bars stored for %s: run `quant ingest --symbols %s` first",
                     t->r.symbol, t->r.symbol);
        }
    }
    flush_scores(&sc);
    loaded_release(&sc.model);
    free(sc.t);
    return rc;
}
