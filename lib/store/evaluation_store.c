/*
 * evaluation_store.c: evaluation_daily (layout in evaluation_store.h),
 * written through one appender: a few thousand rows per evaluation.
 */
#include "store/evaluation_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "core/banned.h"

const char *const quant_eval_store_ddl[] = {
    "CREATE TABLE IF NOT EXISTS evaluation_daily (eval_id VARCHAR NOT NULL, symbol VARCHAR,"
    " date DATE NOT NULL, n BIGINT, ic DOUBLE, rank_ic DOUBLE, gross DOUBLE, net DOUBLE,"
    " benchmark DOUBLE, turnover DOUBLE, cost DOUBLE, equity DOUBLE, equity_gross DOUBLE,"
    " equity_benchmark DOUBLE)",
    NULL,
};

static duckdb_state append_double(duckdb_appender app, double v)
{
    return isfinite(v) ? duckdb_append_double(app, v) : duckdb_append_null(app);
}

enum quant_code quant_eval_store_daily(struct quant_series_store *s, const char *eval_id,
                                       const char *symbol, const struct quant_eval_daily_row *rows,
                                       size_t n, struct quant_err *err)
{
    duckdb_appender app = NULL;
    enum quant_code rc = quant_duck_appender_(s, "evaluation_daily", &app, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct quant_eval_daily_row *r = &rows[i];
        duckdb_state st = duckdb_append_varchar(app, eval_id);
        st |= symbol ? duckdb_append_varchar(app, symbol) : duckdb_append_null(app);
        st |= duckdb_append_date(app, (duckdb_date){r->date});
        st |= r->n >= 0 ? duckdb_append_int64(app, r->n) : duckdb_append_null(app);
        const double v[] = {r->ic, r->rank_ic, r->gross, r->net, r->benchmark, r->turnover,
                            r->cost, r->equity, r->equity_gross, r->equity_benchmark};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            st |= append_double(app, v[k]);
        st |= duckdb_appender_end_row(app);
        if (st != DuckDBSuccess)
            rc = quant_duck_append_error_(s, app, err);
    }
    if (!rc && duckdb_appender_close(app) == DuckDBError)
        rc = quant_duck_append_error_(s, app, err);
    if (app)
        duckdb_appender_destroy(&app);
    return rc;
}

enum quant_code quant_eval_store_read_daily(struct quant_series_store *s, const char *eval_id,
                                            struct quant_eval_daily_row **rows,
                                            char (**symbols)[33], size_t *out_n,
                                            struct quant_err *err)
{
    *rows = NULL;
    *symbols = NULL;
    *out_n = 0;
    duckdb_connection con = quant_series_store_con_(s);
    duckdb_result res;
    if (duckdb_query(con, "SELECT 1 FROM information_schema.tables"
                          " WHERE table_name = 'evaluation_daily'", &res) == DuckDBError ||
        duckdb_row_count(&res) == 0) {
        duckdb_destroy_result(&res);
        return QUANT_OK; /* a store no evaluation has written to */
    }
    duckdb_destroy_result(&res);
    duckdb_prepared_statement st = NULL;
    if (duckdb_prepare(con, "SELECT coalesce(symbol, ''), date, coalesce(n, -1), ic, rank_ic,"
                            " gross, net, benchmark, turnover, cost, equity, equity_gross,"
                            " equity_benchmark FROM evaluation_daily WHERE eval_id = $1"
                            " ORDER BY symbol NULLS FIRST, date", &st) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "reading an evaluation",
                                                      duckdb_prepare_error(st), err);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    duckdb_bind_varchar(st, 1, eval_id);
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "reading an evaluation",
                                                      duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    idx_t n = duckdb_row_count(&res);
    struct quant_eval_daily_row *v = malloc((n ? n : 1) * sizeof *v);
    char (*sym)[33] = malloc((n ? n : 1) * sizeof *sym);
    size_t k = 0;
    duckdb_data_chunk c;
    while (v && sym && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        duckdb_vector col[13];
        for (idx_t j = 0; j < 13; j++)
            col[j] = duckdb_data_chunk_get_vector(c, j);
        const int32_t *date = duckdb_vector_get_data(col[1]);
        const int64_t *cnt = duckdb_vector_get_data(col[2]);
        for (idx_t i = 0; i < m && k < n; i++, k++) {
            quant_duck_vec_string_(col[0], i, sym[k], sizeof sym[k]);
            struct quant_eval_daily_row *r = &v[k];
            r->date = date[i];
            r->n = cnt[i];
            double *d[10] = {&r->ic, &r->rank_ic, &r->gross, &r->net, &r->benchmark,
                             &r->turnover, &r->cost, &r->equity, &r->equity_gross,
                             &r->equity_benchmark};
            for (int j = 0; j < 10; j++)
                *d[j] = quant_duck_vec_double_(col[3 + j], i);
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    if (!v || !sym) {
        free(v);
        free(sym);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory reading an evaluation");
    }
    *rows = v;
    *symbols = sym;
    *out_n = k;
    return QUANT_OK;
}
