/*
 * api.c: the dashboard's request handler, with no socket in sight: method
 * check, path decoding, embedded assets and the JSON API over the stores.
 * Every body is built with cJSON, so stored strings (names, errors) reach the
 * page escaped; the pages render them with textContent.  It opens the stores
 * read-only per request with a lock timeout of 0 and answers 503 while a
 * writer holds them.  It must never read a file named by a request, never
 * write to a store and never read or echo the API key.
 */
#include "web/web_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "quant/clock.h"
#include "quant/evaluate.h"
#include "quant/feature_sets.h"
#include "quant/models.h"
#include "quant/status.h"
#include "quant/workspace.h"
#include "quant/meta_store.h"
#include "store/prediction_read.h"
#include "quant/series_store.h"
#include "quant/symbol_info.h"
#include "core/json.h"
#include "core/banned.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define PATH_CAP 512

static const char oom_body[] = "{\"error\":\"out of memory\"}";

void quant_api_response_release(struct quant_api_response *r)
{
    if (!r)
        return;
    free(r->owned_);
    memset(r, 0, sizeof *r);
}

static enum quant_code set_oom(struct quant_api_response *out, struct quant_err *err)
{
    free(out->owned_);
    memset(out, 0, sizeof *out);
    out->status = 500;
    out->content_type = JSON_TYPE;
    out->body = oom_body;
    out->body_len = sizeof oom_body - 1;
    return quant_err_set(err, QUANT_ENOMEM, "out of memory building a response");
}

/* Serialise j (consumed) as the body with status. */
static enum quant_code send_json(struct quant_api_response *out, int status, cJSON *j,
                                 struct quant_err *err)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return set_oom(out, err);
    out->status = status;
    out->content_type = JSON_TYPE;
    out->owned_ = text;
    out->body = text;
    out->body_len = strlen(text);
    return QUANT_OK;
}

static enum quant_code send_error(struct quant_api_response *out, int status, const char *msg,
                                  struct quant_err *err)
{
    cJSON *j = cJSON_CreateObject();
    if (j && !cJSON_AddStringToObject(j, "error", msg)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return send_json(out, status, j, err);
}

static enum quant_code send_busy(struct quant_api_response *out, struct quant_err *err)
{
    cJSON *j = cJSON_CreateObject();
    if (j && (!cJSON_AddStringToObject(j, "error", "store busy") ||
              !cJSON_AddNumberToObject(j, "retry_after_ms", 1000))) {
        cJSON_Delete(j);
        j = NULL;
    }
    out->retry_after_s = 1;
    return send_json(out, 503, j, err);
}

/* Map a store failure onto a response: busy, missing store, or 500. */
static enum quant_code send_store_error(struct quant_api_response *out, enum quant_code rc,
                                        struct quant_err *e, struct quant_err *err)
{
    if (err != e && err)
        *err = *e;
    if (rc == QUANT_ENOMEM)
        return set_oom(out, err);
    if (rc == QUANT_ELOCKED)
        return send_busy(out, err);
    if (rc == QUANT_ENOTFOUND)
        return send_error(out, 404, "no store yet: run `quant init-db` or `quant demo`", err);
    /* The message names store paths and DuckDB's reason; never the key. */
    return send_error(out, 500, e->msg, err);
}

/* ---- JSON helpers ------------------------------------------------------ */

static cJSON *add_date(cJSON *o, const char *key, int32_t days, int present)
{
    if (!present)
        return cJSON_AddNullToObject(o, key);
    char d[11];
    quant_date_format(days, d);
    return cJSON_AddStringToObject(o, key, d);
}

static cJSON *add_time(cJSON *o, const char *key, int64_t t)
{
    if (t <= 0)
        return cJSON_AddNullToObject(o, key);
    char buf[32];
    return cJSON_AddStringToObject(o, key, quant_utc_format(t, QUANT_UTC_ISO, buf, sizeof buf));
}


/* Parse stored JSON text; null when absent or malformed. */
static cJSON *parsed_or_null(const char *text)
{
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    return j ? j : cJSON_CreateNull();
}

static int attach(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

/* ---- /api/status ------------------------------------------------------- */

static int status_symbol(cJSON *arr, const struct quant_symbol_status *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return 0;
    }
    int ok = cJSON_AddStringToObject(o, "symbol", s->info.symbol) &&
             cJSON_AddStringToObject(o, "name", s->info.name) &&
             cJSON_AddNumberToObject(o, "bars", (double)s->series.bars) &&
             add_date(o, "first", s->series.first_date, s->series.bars > 0) &&
             add_date(o, "last", s->series.last_date, s->series.bars > 0);
    if (!ok)
        return 0;
    if (s->has_run) {
        cJSON *r = cJSON_AddObjectToObject(o, "last_ingest");
        int64_t t = s->last_run.finished_at ? s->last_run.finished_at : s->last_run.started_at;
        ok = r && add_time(r, "time", t) &&
             cJSON_AddStringToObject(r, "status", s->last_run.status) &&
             cJSON_AddNumberToObject(r, "rows", (double)s->last_run.rows) &&
             cJSON_AddStringToObject(r, "error", s->last_run.error);
    } else {
        ok = cJSON_AddNullToObject(o, "last_ingest") != NULL;
    }
    cJSON *f = ok ? cJSON_AddObjectToObject(o, "features") : NULL;
    if (!f)
        return 0;
    for (size_t k = 0; k < quant_feature_set_count() && k < QUANT_STATUS_MAX_SETS; k++) {
        const char *name = quant_feature_set_name(quant_feature_set_at(k));
        const struct quant_derived_status *d = &s->sets[k];
        if (!d->present) {
            if (!cJSON_AddNullToObject(f, name))
                return 0;
            continue;
        }
        cJSON *x = cJSON_AddObjectToObject(f, name);
        if (!x || !cJSON_AddNumberToObject(x, "values", (double)d->values) ||
            !add_date(x, "last", d->last_date, d->last_date != 0) ||
            !cJSON_AddBoolToObject(x, "stale", d->stale))
            return 0;
    }
    if (s->labels.present) {
        cJSON *l = cJSON_AddObjectToObject(o, "labels");
        ok = l && cJSON_AddNumberToObject(l, "rows", (double)s->labels.rows) &&
             cJSON_AddNumberToObject(l, "horizon", s->labels.horizon) &&
             cJSON_AddBoolToObject(l, "stale", s->labels.stale);
    } else {
        ok = cJSON_AddNullToObject(o, "labels") != NULL;
    }
    if (ok && s->predictions > 0) {
        cJSON *p = cJSON_AddObjectToObject(o, "predictions");
        ok = p && cJSON_AddNumberToObject(p, "rows", (double)s->predictions) &&
             add_date(p, "last", s->predictions_last, s->predictions_last != 0);
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "predictions") != NULL;
    }
    if (ok && s->model_id[0]) {
        cJSON *m = cJSON_AddObjectToObject(o, "model");
        ok = m && cJSON_AddStringToObject(m, "id", s->model_id) &&
             quant_json_add_num(m, "auc", s->model.auc) && quant_json_add_num(m, "accuracy", s->model.accuracy) &&
             quant_json_add_num(m, "baseline_accuracy", s->model.baseline_accuracy) &&
             (s->model_warning[0] ? cJSON_AddStringToObject(m, "warning", s->model_warning)
                                  : cJSON_AddNullToObject(m, "warning")) != NULL;
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "model") != NULL;
    }
    return ok;
}

static long count_models(struct quant_workspace *ws, struct quant_err *err,
                         enum quant_code *rc)
{
    struct quant_model_entry *v = NULL;
    size_t n = 0;
    *rc = quant_models_list(ws, NULL, &v, &n, err);
    quant_models_free(v, n);
    return (long)n;
}

static enum quant_code api_status(struct quant_workspace *ws, struct quant_api_response *out,
                                  struct quant_err *err)
{
    struct quant_symbol_status *st = NULL;
    size_t n = 0;
    char busy[QUANT_ERR_MSG_MAX];
    struct quant_err e;
    quant_err_clear(&e);
    enum quant_code rc = quant_status(ws, &st, &n, busy, sizeof busy, &e);
    /* The page shows "store busy" and asks again rather than half the numbers. */
    if (!rc && busy[0])
        rc = quant_err_set(&e, QUANT_ELOCKED, "%s", busy);
    long models = rc ? 0 : count_models(ws, &e, &rc);
    if (rc) {
        free(st);
        return send_store_error(out, rc, &e, err);
    }
    long bars = 0, values = 0, labels = 0, preds = 0;
    for (size_t i = 0; i < n; i++) {
        bars += st[i].series.bars;
        for (size_t k = 0; k < QUANT_STATUS_MAX_SETS; k++)
            values += st[i].sets[k].present ? st[i].sets[k].values : 0;
        labels += st[i].labels.present ? st[i].labels.rows : 0;
        preds += st[i].predictions;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *t = j ? cJSON_AddObjectToObject(j, "totals") : NULL;
    int ok = t && add_time(j, "generated_at", (int64_t)time(NULL)) &&
             cJSON_AddNumberToObject(t, "symbols", (double)n) &&
             cJSON_AddNumberToObject(t, "bars", (double)bars) &&
             cJSON_AddNumberToObject(t, "feature_values", (double)values) &&
             cJSON_AddNumberToObject(t, "label_rows", (double)labels) &&
             cJSON_AddNumberToObject(t, "predictions", (double)preds) &&
             cJSON_AddNumberToObject(t, "models", (double)models);
    cJSON *arr = ok ? cJSON_AddArrayToObject(j, "symbols") : NULL;
    for (size_t i = 0; arr && i < n; i++)
        if (!status_symbol(arr, &st[i]))
            arr = NULL;
    free(st);
    if (!arr) {
        cJSON_Delete(j);
        return set_oom(out, err);
    }
    return send_json(out, 200, j, err);
}

/* ---- /api/symbols/{SYMBOL}/bars --------------------------------------- */

static enum quant_code api_bars(struct quant_workspace *ws, const char *symbol,
                                struct quant_api_response *out, struct quant_err *err)
{
    struct quant_bars bars;
    struct quant_err e;
    quant_err_clear(&e);
    quant_bars_init(&bars);
    struct quant_series_store *s = quant_workspace_series(ws, &e);
    enum quant_code rc = s ? quant_series_store_load_bars(s, symbol, &bars, &e) : e.code;
    if (rc) {
        quant_bars_release(&bars);
        return send_store_error(out, rc, &e, err);
    }
    if (bars.n == 0) {
        quant_bars_release(&bars);
        char msg[128];
        snprintf(msg, sizeof msg, "no bars stored for %s", symbol);
        return send_error(out, 404, msg, err);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j && cJSON_AddStringToObject(j, "symbol", symbol)
                     ? cJSON_AddArrayToObject(j, "bars") : NULL;
    for (size_t i = 0; arr && i < bars.n; i++) {
        const struct quant_bar *b = &bars.v[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            arr = NULL;
            break;
        }
        if (!add_date(o, "date", b->date, 1) || !quant_json_add_num(o, "open", b->open) ||
            !quant_json_add_num(o, "high", b->high) || !quant_json_add_num(o, "low", b->low) ||
            !quant_json_add_num(o, "close", b->close) || !quant_json_add_num(o, "adj_close", b->adj_close) ||
            !quant_json_add_num(o, "volume", b->volume))
            arr = NULL;
    }
    quant_bars_release(&bars);
    if (!arr) {
        cJSON_Delete(j);
        return set_oom(out, err);
    }
    return send_json(out, 200, j, err);
}

/* ---- /api/symbols/{SYMBOL}/predictions -------------------------------- */

/* The model object for the page, with this symbol's segments only. */
static cJSON *model_json(const struct quant_model_record *r, const char *symbol)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "id", r->id) ||
        !cJSON_AddStringToObject(m, "algorithm", r->algorithm) ||
        !cJSON_AddStringToObject(m, "feature_set", r->feature_set) ||
        !cJSON_AddNumberToObject(m, "horizon", r->horizon)) {
        cJSON_Delete(m);
        return NULL;
    }
    cJSON *all = r->segments_json ? cJSON_Parse(r->segments_json) : NULL;
    cJSON *mine = cJSON_DetachItemFromObjectCaseSensitive(all, symbol);
    cJSON_Delete(all);
    if (!attach(m, "segments", mine ? mine : cJSON_CreateNull())) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static enum quant_code api_predictions(struct quant_workspace *ws, const char *symbol,
                                       struct quant_api_response *out, struct quant_err *err)
{
    struct quant_series_store *s = NULL;
    struct quant_model_entry *recs = NULL;
    size_t nr = 0, n = 0;
    int32_t *dates = NULL;
    double *scores = NULL;
    struct quant_err e;
    quant_err_clear(&e);
    enum quant_code rc = quant_models_list(ws, symbol, &recs, &nr, &e);
    if (!rc && !(s = quant_workspace_series(ws, &e)))
        rc = e.code;
    if (!rc && nr)
        rc = quant_prediction_read(s, symbol, recs[0].rec.id, &dates, &scores, &n, &e);
    struct quant_series_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!rc && !nr)
        rc = quant_series_store_symbol_summary(s, symbol, &sum, &e);
    cJSON *j = NULL;
    if (!rc && !nr && sum.bars == 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown symbol %s: no bars and no models", symbol);
        rc = send_error(out, 404, msg, err);
        goto done;
    }
    if (rc) {
        rc = send_store_error(out, rc, &e, err);
        goto done;
    }
    j = cJSON_CreateObject();
    int ok = j && cJSON_AddStringToObject(j, "symbol", symbol) &&
             attach(j, "model", nr ? model_json(&recs[0].rec, symbol) : cJSON_CreateNull());
    cJSON *arr = ok ? cJSON_AddArrayToObject(j, "predictions") : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            arr = NULL;
        } else if (!add_date(o, "date", dates[i], 1) || !quant_json_add_num(o, "score", scores[i])) {
            arr = NULL;
        }
    }
    if (!arr) {
        cJSON_Delete(j);
        rc = set_oom(out, err);
    } else {
        rc = send_json(out, 200, j, err);
    }
done:
    quant_models_free(recs, nr);
    free(dates);
    free(scores);
    return rc;
}

/* ---- /api/models ------------------------------------------------------- */

static cJSON *registry_json(const struct quant_model_entry *entry)
{
    const struct quant_model_record *r = &entry->rec;
    const char *warn = entry->warning;
    cJSON *m = cJSON_CreateObject();
    int ok = m && cJSON_AddStringToObject(m, "id", r->id) &&
             cJSON_AddStringToObject(m, "algorithm", r->algorithm) &&
             cJSON_AddStringToObject(m, "feature_set", r->feature_set) &&
             cJSON_AddNumberToObject(m, "horizon", r->horizon) &&
             attach(m, "symbols", parsed_or_null(r->symbols_json)) &&
             attach(m, "metrics", parsed_or_null(r->metrics_json)) &&
             attach(m, "params", parsed_or_null(r->params_json)) &&
             (warn[0] ? cJSON_AddStringToObject(m, "warning", warn)
                      : cJSON_AddNullToObject(m, "warning")) != NULL &&
             add_time(m, "created_at", r->created_at) &&
             cJSON_AddStringToObject(m, "path", r->path);
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static enum quant_code api_models(struct quant_workspace *ws, struct quant_api_response *out,
                                  struct quant_err *err)
{
    struct quant_model_entry *recs = NULL;
    size_t n = 0;
    struct quant_err e;
    quant_err_clear(&e);
    /* No store yet is a 404 here, as on every API route (the CLI prints an
     * empty registry instead). */
    enum quant_code rc = quant_workspace_meta(ws, &e) ? QUANT_OK : e.code;
    if (!rc)
        rc = quant_models_list(ws, NULL, &recs, &n, &e);
    if (rc)
        return send_store_error(out, rc, &e, err);
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "models") : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *x = registry_json(&recs[i]);
        if (!x || !cJSON_AddItemToArray(arr, x)) {
            cJSON_Delete(x);
            arr = NULL;
        }
    }
    quant_models_free(recs, n);
    if (!arr) {
        cJSON_Delete(j);
        return set_oom(out, err);
    }
    return send_json(out, 200, j, err);
}

/* ---- /api/evaluations[/{ID}] -------------------------------------------- */

static cJSON *evaluation_json(const struct quant_evaluation_record *r)
{
    cJSON *m = cJSON_CreateObject();
    int ok = m && cJSON_AddStringToObject(m, "id", r->id) &&
             cJSON_AddStringToObject(m, "target_kind", r->target_kind) &&
             cJSON_AddStringToObject(m, "target", r->target) &&
             cJSON_AddStringToObject(m, "features", r->features) &&
             cJSON_AddNumberToObject(m, "horizon", r->horizon) &&
             attach(m, "params", parsed_or_null(r->params_json)) &&
             attach(m, "metrics", parsed_or_null(r->metrics_json)) &&
             add_time(m, "created_at", r->created_at);
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static enum quant_code api_evaluations(struct quant_workspace *ws, struct quant_api_response *out,
                                       struct quant_err *err)
{
    struct quant_evaluation_record *v = NULL;
    size_t n = 0;
    struct quant_err e;
    quant_err_clear(&e);
    /* Unlike the other routes, no store yet (or one from before the registry)
     * is an empty list, not a 404: the page has nothing to show either way and
     * says how to make an evaluation, and the browser logs no failed request. */
    enum quant_code rc = quant_evaluations_list(ws, &v, &n, &e);
    if (rc)
        return send_store_error(out, rc, &e, err);
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "evaluations") : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *x = evaluation_json(&v[i]);
        if (!x || !cJSON_AddItemToArray(arr, x)) {
            cJSON_Delete(x);
            arr = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        quant_evaluation_record_release(&v[i]);
    free(v);
    if (!arr) {
        cJSON_Delete(j);
        return set_oom(out, err);
    }
    return send_json(out, 200, j, err);
}

/* Columns of daily rows [b, e) as arrays: {"date": [...], "ic": [...], ...};
 * a value that is NULL in the store is null. */
static cJSON *daily_columns(const struct quant_eval_daily_row *rows, size_t b, size_t e)
{
    static const char *const names[] = {"ic", "rank_ic", "gross", "net", "benchmark",
                                        "turnover", "cost", "equity", "equity_gross",
                                        "equity_benchmark"};
    cJSON *o = cJSON_CreateObject();
    cJSON *dates = o ? cJSON_AddArrayToObject(o, "date") : NULL;
    cJSON *ns = o ? cJSON_AddArrayToObject(o, "n") : NULL;
    cJSON *col[10];
    int ok = dates && ns;
    for (int k = 0; k < 10; k++)
        ok = ok && (col[k] = cJSON_AddArrayToObject(o, names[k])) != NULL;
    for (size_t i = b; ok && i < e; i++) {
        const struct quant_eval_daily_row *r = &rows[i];
        char d[11];
        quant_date_format(r->date, d);
        const double v[10] = {r->ic, r->rank_ic, r->gross, r->net, r->benchmark, r->turnover,
                              r->cost, r->equity, r->equity_gross, r->equity_benchmark};
        ok = cJSON_AddItemToArray(dates, cJSON_CreateString(d)) &&
             cJSON_AddItemToArray(ns, r->n >= 0 ? cJSON_CreateNumber((double)r->n)
                                                : cJSON_CreateNull());
        for (int k = 0; ok && k < 10; k++)
            ok = cJSON_AddItemToArray(col[k], isfinite(v[k]) ? cJSON_CreateNumber(v[k])
                                                             : cJSON_CreateNull());
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static enum quant_code api_evaluation(struct quant_workspace *ws, const char *id,
                                      struct quant_api_response *out, struct quant_err *err)
{
    if (!*id || strlen(id) > 63 || strchr(id, '/'))
        return send_error(out, 404, "no such evaluation", err);
    struct quant_evaluation_record rec;
    struct quant_eval_daily_row *rows = NULL;
    char (*syms)[33] = NULL;
    size_t n = 0;
    struct quant_err e;
    quant_err_clear(&e);
    enum quant_code rc = quant_evaluation_read(ws, id, &rec, &rows, &syms, &n, &e);
    if (rc == QUANT_ENOTFOUND && quant_workspace_meta(ws, NULL))
        return send_error(out, 404, e.msg, err);
    if (rc)
        return send_store_error(out, rc, &e, err);
    cJSON *j = cJSON_CreateObject();
    int ok = j && attach(j, "evaluation", evaluation_json(&rec));
    cJSON *per = NULL;
    for (size_t b = 0; ok && b < n;) {
        size_t e2 = b;
        while (e2 < n && strcmp(syms[e2], syms[b]) == 0)
            e2++;
        if (!syms[b][0]) {
            ok = attach(j, "daily", daily_columns(rows, b, e2));
        } else {
            if (!per)
                ok = (per = cJSON_AddObjectToObject(j, "per_symbol")) != NULL;
            ok = ok && attach(per, syms[b], daily_columns(rows, b, e2));
        }
        b = e2;
    }
    quant_evaluation_record_release(&rec);
    free(rows);
    free(syms);
    if (!ok) {
        cJSON_Delete(j);
        return set_oom(out, err);
    }
    return send_json(out, 200, j, err);
}

/* ---- routing ----------------------------------------------------------- */

/* "/api/symbols/AAPL/bars" -> symbol "AAPL", what "bars". */
static enum quant_code api_symbol(struct quant_workspace *ws, const char *rest,
                                  struct quant_api_response *out, struct quant_err *err)
{
    const char *slash = strchr(rest, '/');
    if (!slash)
        return send_error(out, 404, "no such API path", err);
    const char *what = slash + 1;
    if (strcmp(what, "bars") != 0 && strcmp(what, "predictions") != 0)
        return send_error(out, 404, "no such API path", err);
    size_t len = (size_t)(slash - rest);
    char sym[QUANT_SYMBOL_MAX + 1];
    struct quant_err e;
    quant_err_clear(&e);
    if (len == 0 || len > QUANT_SYMBOL_MAX)
        return send_error(out, 400, "invalid symbol: 1 to 32 characters expected", err);
    memcpy(sym, rest, len);
    sym[len] = '\0';
    if (quant_symbol_normalize(sym, &e))
        return send_error(out, 400, e.msg, err);
    return what[0] == 'b' ? api_bars(ws, sym, out, err) : api_predictions(ws, sym, out, err);
}

static enum quant_code route(struct quant_workspace *ws, const char *path,
                             struct quant_api_response *out, struct quant_err *err)
{
    if (strcmp(path, "/api/status") == 0)
        return api_status(ws, out, err);
    if (strcmp(path, "/api/models") == 0)
        return api_models(ws, out, err);
    if (strcmp(path, "/api/evaluations") == 0)
        return api_evaluations(ws, out, err);
    if (strncmp(path, "/api/evaluations/", 17) == 0)
        return api_evaluation(ws, path + 17, out, err);
    if (strncmp(path, "/api/symbols/", 13) == 0)
        return api_symbol(ws, path + 13, out, err);
    return send_error(out, 404, "no such API path", err);
}

/* Each request reads in a workspace of its own, opened read-only: the
 * dashboard never waits for the pipeline nor writes a byte (workspace.h). */
static enum quant_code route_api(const struct quant_config *cfg, const char *path,
                                 struct quant_api_response *out, struct quant_err *err)
{
    struct quant_workspace *ws = NULL;
    struct quant_err e;
    quant_err_clear(&e);
    if (quant_workspace_open(cfg, QUANT_WS_READ, &ws, &e))
        return send_store_error(out, e.code, &e, err);
    enum quant_code rc = route(ws, path, out, err);
    quant_workspace_close(ws);
    return rc;
}

enum quant_code quant_api_handle(const struct quant_config *cfg, const char *method,
                                 const char *path, struct quant_api_response *out,
                                 struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
        return send_error(out, 405, "method not allowed: only GET and HEAD", err);
    char p[PATH_CAP];
    enum quant_code rc = quant_web_path_decode(path, p, sizeof p);
    if (rc == QUANT_ETOOBIG)
        return send_error(out, 414, "path too long", err);
    if (rc)
        return send_error(out, 400, "bad path", err);
    if (strcmp(p, "/api") == 0 || strncmp(p, "/api/", 5) == 0)
        return route_api(cfg, p, out, err);
    const struct quant_web_asset *a = quant_web_asset_find(p);
    if (!a)
        return send_error(out, 404, "not found", err);
    out->status = 200;
    out->content_type = a->content_type;
    out->body = (const char *)a->data;
    out->body_len = a->len;
    out->is_html = strncmp(a->content_type, "text/html", 9) == 0;
    return QUANT_OK;
}
