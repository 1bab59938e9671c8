/*
 * walkforward_store.c: walkforward_runs and walkforward_blocks (layout and
 * write order in walkforward_store.h).  Values are bound, never pasted into
 * SQL: run ids and block names come from the caller.
 */
#include "store/walkforward_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/clock.h"
#include "store/store_internal.h"
#include "core/banned.h"

const char *const quant_wf_store_ddl[] = {
    "CREATE TABLE IF NOT EXISTS walkforward_runs (run_id VARCHAR NOT NULL,"
    " created_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, request VARCHAR NOT NULL,"
    " n_blocks BIGINT NOT NULL, n_predictions BIGINT, status VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS walkforward_blocks (run_id VARCHAR NOT NULL,"
    " block VARCHAR NOT NULL, model_id VARCHAR NOT NULL,"
    " train_first DATE, train_last DATE, valid_first DATE, valid_last DATE,"
    " test_first DATE NOT NULL, test_last DATE NOT NULL, span_last DATE,"
    " n_train BIGINT, n_valid BIGINT, n_test BIGINT, n_scored BIGINT)",
    /* A block's model may have scored more than its test span (a user can
     * `quant score --model` it): the date bounds keep only its own span. */
    "CREATE OR REPLACE VIEW walkforward_predictions AS"
    " SELECT b.run_id, b.block, p.symbol, p.date, p.score, p.model_id"
    " FROM predictions p JOIN walkforward_blocks b ON p.model_id = b.model_id"
    " WHERE p.date >= b.test_first AND (b.span_last IS NULL OR p.date <= b.span_last)",
    NULL,
};

static enum quant_code prep(struct quant_series_store *s, const char *sql, const char *what,
                            duckdb_prepared_statement *st, struct quant_err *err)
{
    if (duckdb_prepare(quant_series_store_con_(s), sql, st) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, what, duckdb_prepare_error(*st), err);
        duckdb_destroy_prepare(st);
        return rc;
    }
    return QUANT_OK;
}

/* Execute a bound statement that returns nothing, then destroy it. */
static enum quant_code run(struct quant_series_store *s, duckdb_prepared_statement *st,
                           const char *what, struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_execute_prepared(*st, &res) == DuckDBError)
        rc = quant_series_store_fail_(s, what, duckdb_result_error(&res), err);
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(st);
    return rc;
}

static void bind_date_or_null(duckdb_prepared_statement st, idx_t i, int32_t d)
{
    if (d == INT32_MAX)
        duckdb_bind_null(st, i);
    else
        duckdb_bind_date(st, i, (duckdb_date){d});
}

enum quant_code quant_wf_store_run_exists(struct quant_series_store *s, const char *run_id,
                                          int *exists, struct quant_err *err)
{
    *exists = 0;
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = prep(s, "SELECT count(*) FROM walkforward_runs WHERE run_id = $1",
                              "looking up a walk-forward run", &st, err);
    if (rc)
        return rc;
    duckdb_bind_varchar(st, 1, run_id);
    duckdb_result res;
    if (duckdb_execute_prepared(st, &res) == DuckDBError)
        rc = quant_series_store_fail_(s, "looking up a walk-forward run",
                                      duckdb_result_error(&res), err);
    else
        *exists = duckdb_value_int64(&res, 0, 0) > 0;
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    return rc;
}

enum quant_code quant_wf_store_run_begin(struct quant_series_store *s, const char *run_id,
                                         const char *request_json, int64_t n_blocks,
                                         struct quant_err *err)
{
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = prep(s, "INSERT INTO walkforward_runs VALUES ($1, $2, NULL, $3, $4,"
                                 " NULL, 'running')",
                              "recording a walk-forward run", &st, err);
    if (rc)
        return rc;
    duckdb_bind_varchar(st, 1, run_id);
    duckdb_bind_timestamp(st, 2, (duckdb_timestamp){quant_clock_unix_micros()});
    duckdb_bind_varchar(st, 3, request_json);
    duckdb_bind_int64(st, 4, n_blocks);
    return run(s, &st, "recording a walk-forward run", err);
}

enum quant_code quant_wf_store_block(struct quant_series_store *s,
                                     const struct quant_wf_block_row *b, struct quant_err *err)
{
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = prep(s, "INSERT INTO walkforward_blocks VALUES ($1, $2, $3, $4, $5,"
                                 " $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                              "recording a walk-forward block", &st, err);
    if (rc)
        return rc;
    duckdb_bind_varchar(st, 1, b->run_id);
    duckdb_bind_varchar(st, 2, b->block);
    duckdb_bind_varchar(st, 3, b->model_id);
    bind_date_or_null(st, 4, b->train_first);
    bind_date_or_null(st, 5, b->train_last);
    bind_date_or_null(st, 6, b->valid_first);
    bind_date_or_null(st, 7, b->valid_last);
    duckdb_bind_date(st, 8, (duckdb_date){b->test_first});
    duckdb_bind_date(st, 9, (duckdb_date){b->test_last});
    bind_date_or_null(st, 10, b->span_last);
    duckdb_bind_int64(st, 11, b->n_train);
    duckdb_bind_int64(st, 12, b->n_valid);
    duckdb_bind_int64(st, 13, b->n_test);
    duckdb_bind_int64(st, 14, b->n_scored);
    return run(s, &st, "recording a walk-forward block", err);
}

enum quant_code quant_wf_store_run_finish(struct quant_series_store *s, const char *run_id,
                                          const char *status, int64_t n_predictions,
                                          const char *request_json, struct quant_err *err)
{
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = prep(s, "UPDATE walkforward_runs SET finished_at = $1, status = $2,"
                                 " n_predictions = $3, request = coalesce($5, request)"
                                 " WHERE run_id = $4",
                              "finishing a walk-forward run", &st, err);
    if (rc)
        return rc;
    duckdb_bind_timestamp(st, 1, (duckdb_timestamp){quant_clock_unix_micros()});
    duckdb_bind_varchar(st, 2, status);
    duckdb_bind_int64(st, 3, n_predictions);
    duckdb_bind_varchar(st, 4, run_id);
    if (request_json)
        duckdb_bind_varchar(st, 5, request_json);
    else
        duckdb_bind_null(st, 5);
    return run(s, &st, "finishing a walk-forward run", err);
}

enum quant_code quant_wf_store_run_get(struct quant_series_store *s, const char *run_id,
                                       struct quant_wf_run_info *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = prep(s, "SELECT run_id, status, request, n_blocks,"
                                 " coalesce(n_predictions, 0), epoch_us(created_at)"
                                 " FROM walkforward_runs WHERE run_id = $1",
                              "reading a walk-forward run", &st, err);
    if (rc) {
        /* A store no walk-forward has written to has no such table. */
        if (strstr(err->msg, "walkforward_runs") && strstr(err->msg, "does not exist"))
            rc = quant_err_set(err, QUANT_ENOTFOUND, "no walk-forward run '%.64s' in %s: "
                               "no walk-forward has run on this store yet (quant walkforward)",
                               run_id, quant_series_store_path_(s));
        return rc;
    }
    duckdb_bind_varchar(st, 1, run_id);
    duckdb_result res;
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        rc = quant_series_store_fail_(s, "reading a walk-forward run", duckdb_result_error(&res),
                                      err);
    } else if (duckdb_row_count(&res) == 0) {
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no walk-forward run '%.64s': `quant sql "
                           "\"SELECT run_id, status FROM walkforward_runs\"` lists them",
                           run_id);
    } else {
        char *v = duckdb_value_varchar(&res, 0, 0);
        snprintf(out->run_id, sizeof out->run_id, "%s", v ? v : "");
        duckdb_free(v);
        v = duckdb_value_varchar(&res, 1, 0);
        snprintf(out->status, sizeof out->status, "%s", v ? v : "");
        duckdb_free(v);
        v = duckdb_value_varchar(&res, 2, 0);
        out->request = v ? strdup(v) : NULL;
        duckdb_free(v);
        out->n_blocks = duckdb_value_int64(&res, 3, 0);
        out->n_predictions = duckdb_value_int64(&res, 4, 0);
        out->created_us = duckdb_value_int64(&res, 5, 0);
        if (!out->request)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    return rc;
}

enum quant_code quant_wf_store_latest_run(struct quant_series_store *s, char out[64],
                                          struct quant_err *err)
{
    out[0] = '\0';
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(quant_series_store_con_(s),
                     "SELECT run_id FROM walkforward_runs WHERE status = 'ok'"
                     " ORDER BY created_at DESC, run_id DESC LIMIT 1", &res) == DuckDBError) {
        const char *msg = duckdb_result_error(&res);
        rc = msg && strstr(msg, "walkforward_runs")
                 ? QUANT_ENOTFOUND
                 : quant_series_store_fail_(s, "finding the latest walk-forward run", msg, err);
    } else if (duckdb_row_count(&res) == 0) {
        rc = QUANT_ENOTFOUND;
    } else {
        char *v = duckdb_value_varchar(&res, 0, 0);
        snprintf(out, 64, "%s", v ? v : "");
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    if (rc == QUANT_ENOTFOUND)
        quant_err_set(err, rc, "no finished walk-forward run in %s: run `quant walkforward "
                      "--all` first", quant_series_store_path_(s));
    return rc;
}

enum quant_code quant_wf_store_summary(struct quant_series_store *s, long *n,
                                       struct quant_wf_run_info *latest, struct quant_err *err)
{
    *n = 0;
    memset(latest, 0, sizeof *latest);
    duckdb_connection con = quant_series_store_con_(s);
    duckdb_result res;
    if (duckdb_query(con, "SELECT 1 FROM information_schema.tables"
                          " WHERE table_name = 'walkforward_runs'", &res) == DuckDBError ||
        duckdb_row_count(&res) == 0) {
        duckdb_destroy_result(&res);
        return QUANT_OK;
    }
    duckdb_destroy_result(&res);
    if (duckdb_query(con, "SELECT count(*) OVER (), run_id, status, n_blocks,"
                          " coalesce(n_predictions, 0), epoch_us(created_at)"
                          " FROM walkforward_runs ORDER BY created_at DESC, run_id DESC LIMIT 1",
                     &res) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "summarising walk-forward runs",
                                                      duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    if (duckdb_row_count(&res) > 0) {
        *n = (long)duckdb_value_int64(&res, 0, 0);
        char *v = duckdb_value_varchar(&res, 1, 0);
        snprintf(latest->run_id, sizeof latest->run_id, "%s", v ? v : "");
        duckdb_free(v);
        v = duckdb_value_varchar(&res, 2, 0);
        snprintf(latest->status, sizeof latest->status, "%s", v ? v : "");
        duckdb_free(v);
        latest->n_blocks = duckdb_value_int64(&res, 3, 0);
        latest->n_predictions = duckdb_value_int64(&res, 4, 0);
        latest->created_us = duckdb_value_int64(&res, 5, 0);
    }
    duckdb_destroy_result(&res);
    return QUANT_OK;
}
