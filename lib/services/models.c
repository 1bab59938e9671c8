/*
 * models.c: the model registry as `quant models`, `quant status` and the
 * dashboard read it (models.h).  The stored metrics JSON is parsed here once.
 */
#include "quant/models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/banned.h"

/* "AAPL, NVDA" from ["AAPL","NVDA"]; the JSON itself when it is not a list. */
static void symbols_text(const char *json, char *out, size_t cap)
{
    cJSON *a = cJSON_Parse(json);
    size_t len = 0;
    out[0] = '\0';
    const cJSON *x;
    if (!cJSON_IsArray(a)) {
        snprintf(out, cap, "%s", json ? json : "");
    } else {
        cJSON_ArrayForEach(x, a) {
            if (!cJSON_IsString(x))
                continue;
            int w = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", x->valuestring);
            if (w < 0 || (size_t)w >= cap - len) { /* cut at a whole name */
                out[len] = '\0';
                snprintf(out + len, cap - len, "%s", len + 5 < cap ? ", ..." : "");
                break;
            }
            len += (size_t)w;
        }
    }
    cJSON_Delete(a);
}

/* Take ownership of rec and judge its metrics. */
static void entry_from(struct quant_model_entry *e, struct quant_model_record *rec)
{
    memset(e, 0, sizeof *e);
    e->rec = *rec;
    memset(rec, 0, sizeof *rec);
    struct quant_err ignore;
    if (quant_metrics_from_json(e->rec.metrics_json, &e->metrics, &ignore) == QUANT_OK)
        quant_metrics_warning(&e->metrics, e->warning, sizeof e->warning);
    else
        e->metrics.auc = e->metrics.accuracy = e->metrics.baseline_accuracy = NAN;
    symbols_text(e->rec.symbols_json, e->symbols, sizeof e->symbols);
}

static enum quant_code normalised(const char *symbol, char out[QUANT_SYMBOL_MAX + 1],
                                  struct quant_err *err)
{
    if (strlen(symbol) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL, "'%.40s...' is not a valid symbol", symbol);
    snprintf(out, QUANT_SYMBOL_MAX + 1, "%s", symbol);
    struct quant_err why;
    if (quant_symbol_normalize(out, &why))
        return quant_err_set(err, QUANT_EINVAL, "'%s' is not a valid symbol", symbol);
    return QUANT_OK;
}

/* The registry rows (newest first); none when there is no store yet. */
static enum quant_code records(struct quant_workspace *ws, const char *symbol,
                               struct quant_model_record **out, size_t *out_n,
                               struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = symbol ? normalised(symbol, sym, err) : QUANT_OK;
    if (rc)
        return rc;
    struct quant_err why;
    quant_err_clear(&why);
    struct quant_meta_store *meta = quant_workspace_meta(ws, &why);
    if (!meta)
        return why.code == QUANT_ENOTFOUND ? QUANT_OK : quant_err_set(err, why.code, "%s", why.msg);
    return quant_meta_model_list(meta, symbol ? sym : NULL, out, out_n, err);
}

enum quant_code quant_models_list(struct quant_workspace *ws, const char *symbol,
                                  struct quant_model_entry **out, size_t *out_n,
                                  struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct quant_model_record *recs = NULL;
    size_t n = 0;
    enum quant_code rc = records(ws, symbol, &recs, &n, err);
    struct quant_model_entry *v = rc ? NULL : calloc(n ? n : 1, sizeof *v);
    if (!rc && !v)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (v)
            entry_from(&v[i], &recs[i]);
        quant_model_record_release(&recs[i]);
    }
    free(recs);
    if (rc)
        return rc;
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_models_get(struct quant_workspace *ws, const char *id, const char *symbol,
                                 struct quant_model_entry *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct quant_model_record rec;
    memset(&rec, 0, sizeof rec);
    enum quant_code rc;
    if (strcmp(id, "latest") == 0) {
        struct quant_model_record *v = NULL;
        size_t n = 0;
        rc = records(ws, symbol, &v, &n, err);
        if (!rc && n == 0)
            rc = symbol ? quant_err_set(err, QUANT_ENOTFOUND, "no model has been trained on "
                                        "%s: run `quant train --symbols %s`", symbol, symbol)
                        : quant_err_set(err, QUANT_ENOTFOUND, "no model is registered yet: "
                                        "run `quant train --symbols AAPL`");
        if (!rc)
            rec = v[0];
        for (size_t i = rc ? 0 : 1; i < n; i++)
            quant_model_record_release(&v[i]);
        free(v);
    } else {
        struct quant_meta_store *meta = quant_workspace_meta(ws, err);
        rc = meta ? quant_meta_model_get(meta, id, &rec, err) : err->code;
    }
    if (!rc)
        entry_from(out, &rec);
    return rc;
}

void quant_model_entry_release(struct quant_model_entry *e)
{
    if (!e)
        return;
    quant_model_record_release(&e->rec);
    memset(e, 0, sizeof *e);
}

void quant_models_free(struct quant_model_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        quant_model_entry_release(&v[i]);
    free(v);
}
