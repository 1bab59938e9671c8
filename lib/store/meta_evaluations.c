/*
 * meta_evaluations.c: the evaluation registry (quant evaluate): one row per
 * evaluation, its parameters and metrics stored as JSON text.
 */
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

void quant_evaluation_record_release(struct quant_evaluation_record *r)
{
    free(r->params_json);
    free(r->metrics_json);
    memset(r, 0, sizeof *r);
}

enum quant_code quant_meta_evaluation_insert(struct quant_meta_store *s,
                                             const struct quant_evaluation_record *r,
                                             struct quant_err *err)
{
    char at[32];
    quant_meta_iso_time_(r->created_at ? r->created_at : (int64_t)time(NULL), at);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO evaluations (id, target_kind, target, features,"
                              " horizon, params, metrics, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, r->id);
    quant_meta_bind_text_(st, 2, r->target_kind);
    quant_meta_bind_text_(st, 3, r->target);
    quant_meta_bind_text_(st, 4, r->features);
    meta_bind_int64(st, 5, r->horizon);
    quant_meta_bind_text_(st, 6, r->params_json);
    quant_meta_bind_text_(st, 7, r->metrics_json);
    quant_meta_bind_text_(st, 8, at);
    return quant_meta_step_done_(s, st, "registering an evaluation", NULL, err);
}

#define EVAL_COLUMNS "id, target_kind, target, features, horizon, params, metrics, created_at"

static int read_eval(struct meta_stmt *st, struct quant_evaluation_record *r)
{
    memset(r, 0, sizeof *r);
    quant_meta_col_text_(st, 0, r->id, sizeof r->id);
    quant_meta_col_text_(st, 1, r->target_kind, sizeof r->target_kind);
    quant_meta_col_text_(st, 2, r->target, sizeof r->target);
    quant_meta_col_text_(st, 3, r->features, sizeof r->features);
    r->horizon = (int)meta_column_int64(st, 4);
    r->params_json = quant_meta_col_dup_(st, 5, "{}");
    r->metrics_json = quant_meta_col_dup_(st, 6, "{}");
    r->created_at = quant_meta_parse_iso_(meta_column_text(st, 7));
    return r->params_json && r->metrics_json;
}

enum quant_code quant_meta_evaluation_get(struct quant_meta_store *s, const char *id,
                                          struct quant_evaluation_record *out,
                                          struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, "SELECT " EVAL_COLUMNS " FROM evaluations"
                                             " WHERE id = ?1", &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, id);
    int step = meta_step(st);
    if (step == META_ROW)
        rc = read_eval(st, out) ? QUANT_OK : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    else if (step == META_DONE)
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no evaluation '%.64s': the dashboard's "
                           "Evaluation page lists them (quant evaluate makes them)", id);
    else
        rc = quant_meta_db_error_(s, "reading an evaluation", err);
    meta_finalize(st);
    return rc;
}

enum quant_code quant_meta_evaluation_list(struct quant_meta_store *s,
                                           struct quant_evaluation_record **out, size_t *out_n,
                                           struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, "SELECT " EVAL_COLUMNS " FROM evaluations"
                                             " ORDER BY created_at DESC, rowid DESC", &st, err);
    if (rc)
        return rc;
    struct quant_evaluation_record *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while (!rc && (step = meta_step(st)) == META_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct quant_evaluation_record *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        if (!read_eval(st, &v[n++]))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "listing evaluations", err);
    meta_finalize(st);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            quant_evaluation_record_release(&v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}
