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
