/*
 * prediction_read.c: one symbol's scores from one model, read with a bound
 * prepared statement (the symbol and id are never interpolated into SQL).
 * Read-only: it must not create or change any table.
 */
#include "store/prediction_read.h"

#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "core/banned.h"

static int has_predictions_table(duckdb_connection con)
{
    duckdb_result res;
    int found = 0;
    if (duckdb_query(con, "SELECT 1 FROM information_schema.tables"
                          " WHERE table_name = 'predictions'", &res) != DuckDBError)
        found = duckdb_row_count(&res) > 0;
    duckdb_destroy_result(&res);
    return found;
}

enum quant_code quant_prediction_read(struct quant_series_store *s, const char *symbol,
                                      const char *model_id, int32_t **out_dates,
                                      double **out_scores, size_t *out_n,
                                      struct quant_err *err)
{
    *out_dates = NULL;
    *out_scores = NULL;
    *out_n = 0;
    duckdb_connection con = quant_series_store_con_(s);
    if (!has_predictions_table(con))
        return QUANT_OK;
    duckdb_prepared_statement st = NULL;
    duckdb_result res;
    const char *sql = "SELECT date, score FROM predictions WHERE symbol = $1 AND model_id = $2"
                      " AND score IS NOT NULL ORDER BY date";
    if (duckdb_prepare(con, sql, &st) == DuckDBError) {
        enum quant_code rc = quant_err_set(err, QUANT_ESTORE, "store %s: reading predictions "
                                           "failed: %s", quant_series_store_path_(s),
                                           duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return rc;
    }
    duckdb_bind_varchar(st, 1, symbol);
    duckdb_bind_varchar(st, 2, model_id);
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        enum quant_code rc = quant_err_set(err, QUANT_ESTORE, "store %s: reading predictions "
                                           "failed: %s", quant_series_store_path_(s),
                                           duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    idx_t rows = duckdb_row_count(&res);
    int32_t *d = malloc((rows ? rows : 1) * sizeof *d);
    double *v = malloc((rows ? rows : 1) * sizeof *v);
    size_t n = 0;
    duckdb_data_chunk c;
    while (d && v && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        int32_t *dates = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0));
        double *scores = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
        for (idx_t i = 0; i < m && n < rows; i++, n++) {
            d[n] = dates[i];
            v[n] = scores[i];
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    if (!d || !v) {
        free(d);
        free(v);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory reading predictions");
    }
    *out_dates = d;
    *out_scores = v;
    *out_n = n;
    return QUANT_OK;
}

/* ---- prediction sets ------------------------------------------------------------- */

void quant_score_rows_release(struct quant_score_rows *r)
{
    free(r->sym);
    free(r->date);
    free(r->score);
    quant_strings_free(r->symbols, r->n_symbols);
    memset(r, 0, sizeof *r);
}

/* Rows of (symbol, date, score) ordered by symbol, date, with id bound to $1. */
static enum quant_code read_set(struct quant_series_store *s, const char *sql, const char *id,
                                struct quant_score_rows *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    duckdb_connection con = quant_series_store_con_(s);
    duckdb_prepared_statement st = NULL;
    duckdb_result res;
    if (duckdb_prepare(con, sql, &st) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "reading predictions",
                                                      duckdb_prepare_error(st), err);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    duckdb_bind_varchar(st, 1, id);
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "reading predictions",
                                                      duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    idx_t rows = duckdb_row_count(&res);
    out->sym = malloc((rows ? rows : 1) * sizeof *out->sym);
    out->date = malloc((rows ? rows : 1) * sizeof *out->date);
    out->score = malloc((rows ? rows : 1) * sizeof *out->score);
    enum quant_code rc = out->sym && out->date && out->score ? QUANT_OK : QUANT_ENOMEM;
    size_t cap = 0;
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        duckdb_string_t *sym = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0));
        int32_t *dates = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
        double *scores = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 2));
        for (idx_t i = 0; !rc && i < m && out->n < rows; i++) {
            uint32_t len = duckdb_string_t_length(sym[i]);
            const char *p = duckdb_string_t_data(&sym[i]);
            const char *last = out->n_symbols ? out->symbols[out->n_symbols - 1] : NULL;
            if (!last || strlen(last) != len || memcmp(last, p, len) != 0) {
                if (out->n_symbols == cap) {
                    cap = cap ? cap * 2 : 64;
                    char **v = realloc(out->symbols, cap * sizeof *v);
                    if (!v) {
                        rc = QUANT_ENOMEM;
                        break;
                    }
                    out->symbols = v;
                }
                char *name = strndup(p, len);
                if (!name) {
                    rc = QUANT_ENOMEM;
                    break;
                }
                /* ids must follow strcmp order ("ties by symbol" in the spec) */
                if (last && strcmp(last, name) >= 0)
                    rc = QUANT_EINTERNAL;
                out->symbols[out->n_symbols++] = name;
            }
            out->sym[out->n] = (uint32_t)(out->n_symbols - 1);
            out->date[out->n] = dates[i];
            out->score[out->n] = scores[i];
            out->n++;
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    if (rc) {
        quant_score_rows_release(out);
        return rc == QUANT_ENOMEM
                   ? quant_err_set(err, rc, "out of memory reading predictions")
                   : quant_err_set(err, rc, "predictions came back out of symbol order");
    }
    return QUANT_OK;
}

enum quant_code quant_prediction_read_run(struct quant_series_store *s, const char *run_id,
                                          struct quant_score_rows *out, struct quant_err *err)
{
    return read_set(s, "SELECT symbol, date, score FROM walkforward_predictions"
                       " WHERE run_id = $1 AND score IS NOT NULL"
                       " ORDER BY symbol, date",
                    run_id, out, err);
}

enum quant_code quant_prediction_read_test(struct quant_series_store *s, const char *model_id,
                                           struct quant_score_rows *out, struct quant_err *err)
{
    if (!has_predictions_table(quant_series_store_con_(s))) {
        memset(out, 0, sizeof *out);
        return QUANT_OK;
    }
    return read_set(s, "SELECT symbol, date, score FROM predictions"
                       " WHERE model_id = $1 AND segment = 'test' AND score IS NOT NULL"
                       " ORDER BY symbol, date",
                    model_id, out, err);
}
