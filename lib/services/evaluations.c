/*
 * evaluations.c: stored evaluations read back (evaluate.h), for the
 * dashboard: the registry rows and one evaluation's daily series.  Read-only:
 * it works in a READ workspace and never creates a store.
 */
#include "quant/evaluate.h"

#include <stdlib.h>
#include <string.h>

#include "quant/meta_store.h"
#include "store/evaluation_store.h"
#include "core/banned.h"

/* The metadata schema version that added the registry (meta_store.c's v4). */
#define EVALUATIONS_SINCE_VERSION 4

enum quant_code quant_evaluations_list(struct quant_workspace *ws,
                                       struct quant_evaluation_record **out, size_t *out_n,
                                       struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct quant_err e;
    quant_err_clear(&e);
    struct quant_meta_store *meta = quant_workspace_meta(ws, &e);
    if (!meta) {
        /* No store yet, or one from before the registry that a reader may not
         * migrate: neither holds an evaluation.  A newer store may, so it stays
         * an error. */
        int v = quant_workspace_meta_found_version(ws);
        if (e.code == QUANT_ENOTFOUND ||
            (e.code == QUANT_ESCHEMA && v >= 0 && v < EVALUATIONS_SINCE_VERSION))
            return QUANT_OK;
        return quant_err_set(err, e.code, "%s", e.msg);
    }
    return quant_meta_evaluation_list(meta, out, out_n, err);
}

enum quant_code quant_evaluation_read(struct quant_workspace *ws, const char *id,
                                      struct quant_evaluation_record *rec,
                                      struct quant_eval_daily_row **rows, char (**symbols)[33],
                                      size_t *n, struct quant_err *err)
{
    memset(rec, 0, sizeof *rec);
    *rows = NULL;
    *symbols = NULL;
    *n = 0;
    struct quant_meta_store *meta = quant_workspace_meta(ws, err);
    if (!meta)
        return err->code ? err->code : QUANT_ESTORE;
    enum quant_code rc = quant_meta_evaluation_get(meta, id, rec, err);
    struct quant_series_store *series = rc ? NULL : quant_workspace_series(ws, err);
    if (!rc && !series)
        rc = err->code ? err->code : QUANT_ESTORE;
    if (!rc)
        rc = quant_eval_store_read_daily(series, rec->id, rows, symbols, n, err);
    if (rc)
        quant_evaluation_record_release(rec);
    return rc;
}
