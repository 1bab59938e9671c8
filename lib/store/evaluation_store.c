/*
 * evaluation_store.c: evaluation_daily (layout in evaluation_store.h),
 * written through one appender: a few thousand rows per evaluation.
 */
#include "store/evaluation_store.h"

#include <math.h>
#include <stdio.h>
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
