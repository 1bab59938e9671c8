/*
 * predictions.c: writing the predictions table (layout in feature_store.h).
 */
#include "quant/feature_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "quant/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

static enum quant_code fail(struct quant_series_store *s, const char *what, const char *msg,
                            struct quant_err *err)
{
    return quant_series_store_fail_(s, what, msg, err);
}

/* ---- predictions -------------------------------------------------------------------- */

const char *quant_prediction_segment_name(enum quant_prediction_segment seg)
{
    static const char *const names[QUANT_SEGMENT_COUNT] = {"train", "embargo", "valid",
                                                           "test", "unlabelled", "unseen"};
    return (unsigned)seg < QUANT_SEGMENT_COUNT ? names[seg] : "unknown";
}

/*
 * Append every batch's rows (symbol, date, model_id, score, segment) into
 * `table` through one appender and a data chunk per vector.  One appender
 * for the whole write: each appender's close is a statement of its own
 * (measured: 120 of them, one per symbol, took most of the write).
 */
static enum quant_code append_predictions(struct quant_series_store *s, duckdb_connection con,
                                          const char *table,
                                          const struct quant_prediction_batch *items,
                                          size_t n_items, struct quant_err *err)
{
    duckdb_appender app = NULL;
    duckdb_logical_type types[5] = {duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
                                    duckdb_create_logical_type(DUCKDB_TYPE_DATE),
                                    duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
                                    duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE),
                                    duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR)};
    duckdb_data_chunk chunk = duckdb_create_data_chunk(types, 5);
    enum quant_code rc = QUANT_OK;
    if (duckdb_appender_create(con, NULL, table, &app) == DuckDBError)
        rc = fail(s, "writing predictions", duckdb_appender_error(app), err);
    const size_t step = duckdb_vector_size();
    for (size_t b = 0; !rc && b < n_items; b++) {
        const struct quant_prediction_batch *it = &items[b];
        duckdb_value vsym = duckdb_create_varchar(it->symbol);
        duckdb_value vmod = duckdb_create_varchar(it->model_id);
        for (size_t at = 0; !rc && at < it->n; at += step) {
            size_t m = it->n - at < step ? it->n - at : step;
            duckdb_data_chunk_reset(chunk);
            duckdb_vector_reference_value(duckdb_data_chunk_get_vector(chunk, 0), vsym);
            memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1)),
                   it->dates + at, m * sizeof *it->dates);
            duckdb_vector_reference_value(duckdb_data_chunk_get_vector(chunk, 2), vmod);
            memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 3)),
                   it->scores + at, m * sizeof *it->scores);
            duckdb_vector seg = duckdb_data_chunk_get_vector(chunk, 4);
            for (size_t i = 0; i < m; i++)
                duckdb_vector_assign_string_element(
                    seg, i, quant_prediction_segment_name(
                                it->segments ? it->segments[at + i] : QUANT_SEGMENT_UNSEEN));
            duckdb_data_chunk_set_size(chunk, m);
            if (duckdb_append_data_chunk(app, chunk) == DuckDBError)
                rc = fail(s, "writing predictions", duckdb_appender_error(app), err);
        }
        duckdb_destroy_value(&vsym);
        duckdb_destroy_value(&vmod);
    }
    if (!rc && app && duckdb_appender_close(app) == DuckDBError)
        rc = fail(s, "writing predictions", duckdb_appender_error(app), err);
    if (app)
        duckdb_appender_destroy(&app);
    duckdb_destroy_data_chunk(&chunk);
    for (int i = 0; i < 5; i++)
        duckdb_destroy_logical_type(&types[i]);
    return rc;
}

/*
 * Each (symbol, model) pair's old rows are deleted and its new rows appended,
 * all in one transaction.  predictions has no index (schema v3): a rescored
 * pair's rows are found by one hash join of the table with the pairs being
 * written, and the new rows are plain appends, so writing costs what
 * appending costs (an upsert against the old PRIMARY KEY measured 6.8 s for
 * 500 symbols, most of it index maintenance).
 */
static enum quant_code write_predictions_on(struct quant_series_store *s, duckdb_connection con,
                                            const struct quant_prediction_batch *items, size_t n,
                                            struct quant_err *err);

enum quant_code quant_prediction_store_write_many(struct quant_series_store *s,
                                                  const struct quant_prediction_batch *items,
                                                  size_t n, struct quant_err *err)
{
    return write_predictions_on(s, quant_series_store_con_(s), items, n, err);
}

/* The pairs being written, in a temp table the DELETE joins with. */
static enum quant_code stage_pairs(struct quant_series_store *s, duckdb_connection con,
                                   const struct quant_prediction_batch *items, size_t n,
                                   struct quant_err *err)
{
    enum quant_code rc = quant_series_store_exec_(s, "CREATE TEMP TABLE IF NOT EXISTS quant_pred_pairs"
                                         " (symbol VARCHAR, model_id VARCHAR)",
                                 "staging predictions", err);
    if (!rc)
        rc = quant_series_store_exec_(s, "DELETE FROM quant_pred_pairs", "staging predictions", err);
    duckdb_appender app = NULL;
    if (!rc &&
        duckdb_appender_create_ext(con, "temp", "main", "quant_pred_pairs", &app) == DuckDBError)
        rc = fail(s, "staging predictions", duckdb_appender_error(app), err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (duckdb_append_varchar(app, items[i].symbol) == DuckDBError ||
            duckdb_append_varchar(app, items[i].model_id) == DuckDBError ||
            duckdb_appender_end_row(app) == DuckDBError)
            rc = fail(s, "staging predictions", duckdb_appender_error(app), err);
    }
    if (!rc && duckdb_appender_close(app) == DuckDBError)
        rc = fail(s, "staging predictions", duckdb_appender_error(app), err);
    if (app)
        duckdb_appender_destroy(&app);
    return rc;
}

/* con is the store's own connection: the statements run on it through
 * quant_series_store_exec_, the appenders directly. */
static enum quant_code write_predictions_on(struct quant_series_store *s, duckdb_connection con,
                                            const struct quant_prediction_batch *items, size_t n,
                                            struct quant_err *err)
{
    enum quant_code rc = stage_pairs(s, con, items, n, err);
    if (!rc)
        rc = quant_series_store_exec_(s, "BEGIN TRANSACTION", "starting a transaction", err);
    if (rc)
        return rc;
    rc = quant_series_store_exec_(s, "DELETE FROM predictions USING quant_pred_pairs p"
                         " WHERE predictions.symbol = p.symbol"
                         " AND predictions.model_id = p.model_id",
                 "replacing predictions", err);
    /* Rows are compressed as they are appended (a row group at a time).
     * Every string column here has a handful of values per row group, which
     * dictionary compression stores best; FSST is never chosen, but trying
     * it measured a fifth of the write.  The setting is database-wide, so it
     * is put back whatever happens. */
    int fsst_off = !rc &&
                   quant_series_store_exec_(s, "SET disabled_compression_methods = 'fsst'",
                                            "choosing the compression of predictions",
                                            err) == QUANT_OK;
    if (!rc)
        rc = append_predictions(s, con, "predictions", items, n, err);
    if (!rc)
        rc = quant_series_store_exec_(s, "COMMIT", "committing predictions", err);
    if (rc)
        quant_duck_rollback_(s);
    struct quant_err ignore;
    if (fsst_off)
        quant_series_store_exec_(s, "RESET disabled_compression_methods",
                                 "choosing the compression of predictions", &ignore);
    return rc;
}
