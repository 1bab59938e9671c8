/*
 * predictions.c: writing the predictions table (layout in feature_store.h).
 */
#include "store/feature_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "core/buf.h"
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

/* The rows of a write, as bulk_insert.c reads them: batch i holds rows
 * [start[i], start[i + 1]) of the concatenation; its symbol and model are
 * one value each, referenced by every chunk of the batch. */
struct pred_rows {
    const struct quant_prediction_batch *items;
    size_t n_items;
    size_t *start;            /* n_items + 1 offsets */
    duckdb_value *sym, *mod;  /* per batch, owned */
};

static size_t find_batch(const struct pred_rows *p, size_t row)
{
    size_t lo = 0, hi = p->n_items; /* the last batch whose start <= row */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->start[mid] <= row)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Run `run` is one row group's worth of consecutive rows; a chunk stays
 * within one batch. */
static size_t fill(const void *ctx, size_t run, size_t *pos, duckdb_data_chunk out)
{
    const struct pred_rows *p = ctx;
    size_t total = p->start[p->n_items];
    size_t row = run * QUANT_BULK_ROW_GROUP + *pos;
    size_t end = (run + 1) * QUANT_BULK_ROW_GROUP < total ? (run + 1) * QUANT_BULK_ROW_GROUP
                                                          : total;
    if (row >= end)
        return 0;
    size_t b = find_batch(p, row);
    while (p->start[b + 1] <= row) /* skip empty batches */
        b++;
    const struct quant_prediction_batch *it = &p->items[b];
    size_t at = row - p->start[b];
    size_t m = p->start[b + 1] - row;
    if (m > end - row)
        m = end - row;
    if (m > duckdb_vector_size())
        m = duckdb_vector_size();
    duckdb_vector_reference_value(duckdb_data_chunk_get_vector(out, 0), p->sym[b]);
    memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 1)), it->dates + at,
           m * sizeof *it->dates);
    duckdb_vector_reference_value(duckdb_data_chunk_get_vector(out, 2), p->mod[b]);
    memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 3)), it->scores + at,
           m * sizeof *it->scores);
    duckdb_vector seg = duckdb_data_chunk_get_vector(out, 4);
    for (size_t i = 0; i < m; i++)
        duckdb_vector_assign_string_element(
            seg, i, quant_prediction_segment_name(it->segments ? it->segments[at + i]
                                                               : QUANT_SEGMENT_UNSEEN));
    *pos += m;
    return m;
}

/* Every batch's rows (symbol, date, model_id, score, segment) into
 * predictions as one parallel INSERT (bulk_insert.c): through an Appender
 * DuckDB compressed them on one thread, 0.39 s for the 725k scores of the
 * 120-symbol universe. */
static enum quant_code insert_predictions(struct quant_series_store *s,
                                          const struct quant_prediction_batch *items,
                                          size_t n_items, struct quant_err *err)
{
    static const char *const names[5] = {"symbol", "date", "model_id", "score", "segment"};
    duckdb_logical_type types[5] = {duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
                                    duckdb_create_logical_type(DUCKDB_TYPE_DATE),
                                    duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
                                    duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE),
                                    duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR)};
    struct pred_rows p = {items, n_items, calloc(n_items + 1, sizeof *p.start),
                          calloc(n_items ? n_items : 1, sizeof *p.sym),
                          calloc(n_items ? n_items : 1, sizeof *p.mod)};
    enum quant_code rc = p.start && p.sym && p.mod
                             ? QUANT_OK
                             : quant_err_set(err, QUANT_ENOMEM, "out of memory storing predictions");
    for (size_t i = 0; !rc && i < n_items; i++) {
        p.start[i + 1] = p.start[i] + items[i].n;
        p.sym[i] = duckdb_create_varchar(items[i].symbol);
        p.mod[i] = duckdb_create_varchar(items[i].model_id);
        if (!p.sym[i] || !p.mod[i])
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory storing predictions");
    }
    if (!rc && n_items) {
        size_t total = p.start[n_items];
        struct quant_bulk_rows rows = {5, names, types,
                                       (total + QUANT_BULK_ROW_GROUP - 1) / QUANT_BULK_ROW_GROUP,
                                       fill, &p};
        rc = quant_bulk_insert_(s, "predictions", &rows, "writing predictions", NULL, err);
    }
    for (size_t i = 0; i < n_items && p.sym && p.mod; i++) {
        if (p.sym[i])
            duckdb_destroy_value(&p.sym[i]);
        if (p.mod[i])
            duckdb_destroy_value(&p.mod[i]);
    }
    free(p.start);
    free(p.sym);
    free(p.mod);
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
        rc = quant_bulk_ready_(s, err);
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
        rc = insert_predictions(s, items, n, err);
    if (!rc)
        rc = quant_series_store_exec_(s, "COMMIT", "committing predictions", err);
    if (rc) {
        quant_duck_rollback_(s);
        quant_bulk_failed_(s);
    }
    struct quant_err ignore;
    if (fsst_off)
        quant_series_store_exec_(s, "RESET disabled_compression_methods",
                                 "choosing the compression of predictions", &ignore);
    return rc;
}
