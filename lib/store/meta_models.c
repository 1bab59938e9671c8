/*
 * meta_models.c: the model registry in the metadata store: one row per
 * trained model, its JSON fields stored as text.
 */
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

/* ---- the model registry ---------------------------------------------------- */

void quant_model_record_release(struct quant_model_record *r)
{
    free(r->params_json);
    free(r->metrics_json);
    free(r->feature_names_json);
    free(r->symbols_json);
    free(r->segments_json);
    memset(r, 0, sizeof *r);
}

enum quant_code quant_meta_model_insert(struct quant_meta_store *s,
                                        const struct quant_model_record *r,
                                        struct quant_err *err)
{
    char at[32];
    quant_meta_iso_time_(r->created_at ? r->created_at : (int64_t)time(NULL), at);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO models (id, algorithm, feature_set, horizon, params,"
                              " metrics, feature_names, symbols, segments, data_fingerprint,"
                              " model_path, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, r->id);
    quant_meta_bind_text_(st, 2, r->algorithm);
    quant_meta_bind_text_(st, 3, r->feature_set);
    meta_bind_int64(st, 4, r->horizon);
    quant_meta_bind_text_(st, 5, r->params_json);
    quant_meta_bind_text_(st, 6, r->metrics_json);
    quant_meta_bind_text_(st, 7, r->feature_names_json);
    quant_meta_bind_text_(st, 8, r->symbols_json);
    quant_meta_bind_text_(st, 9, r->segments_json);
    quant_meta_bind_text_(st, 10, r->fingerprint);
    quant_meta_bind_text_(st, 11, r->path);
    quant_meta_bind_text_(st, 12, at);
    return quant_meta_step_done_(s, st, "registering a model", NULL, err);
}

static int read_model(struct meta_stmt *st, struct quant_model_record *r)
{
    memset(r, 0, sizeof *r);
    quant_meta_col_text_(st, 0, r->id, sizeof r->id);
    quant_meta_col_text_(st, 1, r->algorithm, sizeof r->algorithm);
    quant_meta_col_text_(st, 2, r->feature_set, sizeof r->feature_set);
    r->horizon = (int)meta_column_int64(st, 3);
    r->params_json = quant_meta_col_dup_(st, 4, NULL);
    r->metrics_json = quant_meta_col_dup_(st, 5, NULL);
    r->feature_names_json = quant_meta_col_dup_(st, 6, NULL);
    r->symbols_json = quant_meta_col_dup_(st, 7, NULL);
    r->segments_json = quant_meta_col_dup_(st, 8, NULL);
    quant_meta_col_text_(st, 9, r->fingerprint, sizeof r->fingerprint);
    quant_meta_col_text_(st, 10, r->path, sizeof r->path);
    r->created_at = quant_meta_parse_iso_(meta_column_text(st, 11));
    return r->params_json && r->metrics_json && r->feature_names_json && r->symbols_json &&
           r->segments_json;
}

#define MODEL_COLUMNS                                                                   \
    "id, algorithm, feature_set, horizon, params, metrics, feature_names, symbols,"    \
    " segments, data_fingerprint, model_path, created_at"

enum quant_code quant_meta_model_get(struct quant_meta_store *s, const char *id,
                                     struct quant_model_record *out, struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, "SELECT " MODEL_COLUMNS " FROM models WHERE id = ?1", &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, id);
    int step = meta_step(st);
    if (step == META_ROW) {
        rc = read_model(st, out) ? QUANT_OK : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    } else if (step == META_DONE) {
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "no model '%.80s' in the registry: `quant models list` shows them",
                           id);
    } else {
        rc = quant_meta_db_error_(s, "reading a model", err);
    }
    meta_finalize(st);
    return rc;
}

enum quant_code quant_meta_model_list(struct quant_meta_store *s, const char *symbol,
                                      struct quant_model_record **out, size_t *out_n,
                                      struct quant_err *err)
{
    /* symbols is a JSON array of validated symbols, so '"AAPL"' cannot match
     * inside another symbol's name.  lower() on both sides: SQLite's LIKE
     * ignores ASCII case and PostgreSQL's does not. */
    char pattern[QUANT_SYMBOL_MAX + 8];
    snprintf(pattern, sizeof pattern, "%%\"%s\"%%", symbol ? symbol : "");
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT " MODEL_COLUMNS " FROM models"
                              " WHERE CAST(?1 AS TEXT) IS NULL OR lower(symbols) LIKE lower(?2)"
                              " ORDER BY created_at DESC, rowid DESC",
                              &st, err);
    if (rc)
        return rc;
    if (symbol)
        quant_meta_bind_text_(st, 1, symbol);
    else
        meta_bind_null(st, 1);
    quant_meta_bind_text_(st, 2, pattern);
    struct quant_model_record *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while (!rc && (step = meta_step(st)) == META_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct quant_model_record *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        if (!read_model(st, &v[n++]))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "listing models", err);
    meta_finalize(st);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            quant_model_record_release(&v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}
