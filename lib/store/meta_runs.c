/*
 * meta_runs.c: ingest runs (one row per symbol and attempt, closed as
 * interrupted when a killed process left it running) and the request
 * ledger (API requests per day and key fingerprint) in the metadata store.
 */
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

/* ---- ingest runs --------------------------------------------------------- */

enum quant_code quant_meta_run_begin(struct quant_meta_store *s, const char *symbol,
                                     const char *provider, int64_t *out_id,
                                     struct quant_err *err)
{
    char now[32];
    quant_meta_iso_time_((int64_t)time(NULL), now);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO ingest_runs (symbol, provider, started_at, rows, status,"
                              " series_store) VALUES (?1, ?2, ?3, 0, 'running', NULLIF(?4, ''))"
                              " RETURNING id",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, symbol);
    quant_meta_bind_text_(st, 2, provider);
    quant_meta_bind_text_(st, 3, now);
    quant_meta_bind_text_(st, 4, s->series);
    /* RETURNING rather than a last-insert-id call: the id of this row even
     * with other sessions inserting at once, in both dialects. */
    int step = meta_step(st);
    if (step == META_ROW && out_id)
        *out_id = meta_column_int64(st, 0);
    if (step == META_ROW)
        step = meta_step(st);
    if (step != META_DONE)
        rc = quant_meta_db_error_(s, "recording an ingest run", err);
    meta_finalize(st);
    return rc;
}

enum quant_code quant_meta_run_finish(struct quant_meta_store *s, int64_t id,
                                      const char *status, long rows, const char *error_text,
                                      struct quant_err *err)
{
    if (!status || (strcmp(status, "ok") != 0 && strcmp(status, "failed") != 0))
        return quant_err_set(err, QUANT_EINVAL, "ingest run %lld: status must be ok or failed",
                             (long long)id);
    char now[32];
    quant_meta_iso_time_((int64_t)time(NULL), now);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "UPDATE ingest_runs SET finished_at = ?1, status = ?2, rows = ?3,"
                              " error = ?4 WHERE id = ?5",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, now);
    quant_meta_bind_text_(st, 2, status);
    meta_bind_int64(st, 3, rows);
    if (error_text) {
        /* Stored text outlives the run and is shown by status and the
         * dashboard: no secret may reach the file (error.h). */
        char masked[QUANT_ERR_MSG_MAX];
        snprintf(masked, sizeof masked, "%s", error_text);
        quant_mask_secrets(masked);
        quant_meta_bind_text_(st, 4, masked);
    } else {
        meta_bind_null(st, 4);
    }
    meta_bind_int64(st, 5, id);
    int64_t changed = 0;
    if ((rc = quant_meta_step_done_(s, st, "finishing an ingest run", &changed, err)))
        return rc;
    if (changed == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "ingest run %lld does not exist",
                             (long long)id);
    return QUANT_OK;
}

/* Mark 'running' runs failed as interrupted; sql is the UPDATE, with ?1 the
 * time and ?2 the series store it selects on. */
static enum quant_code close_runs(struct quant_meta_store *s, const char *sql,
                                  const char *series, long *out_closed, struct quant_err *err)
{
    char now[32];
    quant_meta_iso_time_((int64_t)time(NULL), now);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, sql, &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, now);
    quant_meta_bind_text_(st, 2, series);
    int64_t changed = 0;
    if ((rc = quant_meta_step_done_(s, st, "closing interrupted ingest runs", &changed, err)))
        return rc;
    if (out_closed)
        *out_closed = (long)changed;
    return QUANT_OK;
}

#define CLOSE_RUNS_SET                                                                   \
    "UPDATE ingest_runs SET finished_at = ?1, status = 'failed',"                        \
    " error = 'interrupted: the ingest stopped before it finished"                       \
    " (killed or crashed); nothing of it was stored'"

enum quant_code quant_meta_runs_close_stale(struct quant_meta_store *s, long *out_closed,
                                           struct quant_err *err)
{
    return close_runs(s,
                      CLOSE_RUNS_SET " WHERE status = 'running' AND (?2 = '' OR"
                                     " series_store IS NULL OR series_store = ?2)",
                      s->series, out_closed, err);
}

enum quant_code quant_meta_runs_running_series(struct quant_meta_store *s, const char *prefix,
                                               char ***out, size_t *out_n,
                                               struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct meta_stmt *st;
    /* substr, not LIKE: a path may hold % or _ */
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT DISTINCT series_store FROM ingest_runs"
                              " WHERE status = 'running' AND series_store IS NOT NULL"
                              " AND substr(series_store, 1, length(?1)) = ?1"
                              " ORDER BY series_store",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, prefix);
    char **v = NULL;
    size_t n = 0;
    int step = META_DONE;
    while (!rc && (step = meta_step(st)) == META_ROW) {
        char **g = realloc(v, (n + 1) * sizeof *g);
        char *one = quant_meta_col_dup_(st, 0, NULL);
        if (!g || !one) {
            free(one);
            if (g)
                v = g;
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading ingest runs");
            break;
        }
        v = g;
        v[n++] = one;
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "reading running ingest runs", err);
    meta_finalize(st);
    if (rc) {
        for (size_t k = 0; k < n; k++)
            free(v[k]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_meta_runs_close_series(struct quant_meta_store *s, const char *series,
                                             long *out_closed, struct quant_err *err)
{
    return close_runs(s, CLOSE_RUNS_SET " WHERE status = 'running' AND series_store = ?2",
                      series, out_closed, err);
}

enum quant_code quant_meta_run_last(struct quant_meta_store *s, const char *symbol,
                                    struct quant_ingest_run *out, struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT id, coalesce(symbol,''), coalesce(provider,''), started_at,"
                              " finished_at, coalesce(rows,0), status, coalesce(error,'')"
                              " FROM ingest_runs WHERE symbol = ?1 ORDER BY id DESC LIMIT 1",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, symbol);
    int step = meta_step(st);
    if (step == META_ROW) {
        memset(out, 0, sizeof *out);
        out->id = meta_column_int64(st, 0);
        quant_meta_col_text_(st, 1, out->symbol, sizeof out->symbol);
        quant_meta_col_text_(st, 2, out->provider, sizeof out->provider);
        out->started_at = quant_meta_parse_iso_(meta_column_text(st, 3));
        out->finished_at = quant_meta_parse_iso_(meta_column_text(st, 4));
        out->rows = (long)meta_column_int64(st, 5);
        quant_meta_col_text_(st, 6, out->status, sizeof out->status);
        quant_meta_col_text_(st, 7, out->error, sizeof out->error);
    } else if (step == META_DONE) {
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no ingest run recorded for %s yet",
                           symbol ? symbol : "");
    } else {
        rc = quant_meta_db_error_(s, "reading ingest runs", err);
    }
    meta_finalize(st);
    return rc;
}

/* ---- request ledger ------------------------------------------------------ */

enum quant_code quant_meta_ledger_get(struct quant_meta_store *s, int32_t day,
                                      const char *key_fingerprint, long *out_requests,
                                      struct quant_err *err)
{
    char d[11];
    quant_date_format(day, d);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT requests FROM request_ledger"
                              " WHERE day = ?1 AND key_fingerprint = ?2",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, d);
    quant_meta_bind_text_(st, 2, key_fingerprint);
    int step = meta_step(st);
    *out_requests = step == META_ROW ? (long)meta_column_int64(st, 0) : 0;
    if (step != META_ROW && step != META_DONE)
        rc = quant_meta_db_error_(s, "reading the request ledger", err);
    meta_finalize(st);
    return rc;
}

enum quant_code quant_meta_ledger_add(struct quant_meta_store *s, int32_t day,
                                      const char *key_fingerprint, long requests,
                                      struct quant_err *err)
{
    char d[11];
    quant_date_format(day, d);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO request_ledger (day, key_fingerprint, requests)"
                              " VALUES (?1, ?2, ?3) ON CONFLICT (day, key_fingerprint)"
                              " DO UPDATE SET requests = request_ledger.requests"
                              " + excluded.requests",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, d);
    quant_meta_bind_text_(st, 2, key_fingerprint);
    meta_bind_int64(st, 3, requests);
    return quant_meta_step_done_(s, st, "counting a request", NULL, err);
}

