/*
 * sql_table.c: quant_series_store_query (series_store.h): one statement run
 * on the store's own connection and its whole result materialised as text
 * (struct quant_table), for callers that want every cell at once (the
 * status and inspect services, the dashboard's API).  `quant sql` itself streams through sql_query.c
 * instead; both draw values with sql_text.c.  It must not print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "store/store_internal.h"
#include "core/banned.h"

/* One cell as malloc'd text (NULL for SQL NULL); *oom set on failure. */
static char *cell_text(duckdb_result *res, duckdb_type t, idx_t col, idx_t row, int *oom)
{
    if (duckdb_value_is_null(res, col, row))
        return NULL;
    char buf[64];
    const char *txt = NULL;
    if (t == DUCKDB_TYPE_DOUBLE || t == DUCKDB_TYPE_FLOAT) {
        quant_sql_fmt_double_(duckdb_value_double(res, col, row), buf, sizeof buf);
        txt = buf;
    } else if (t == DUCKDB_TYPE_DATE) {
        duckdb_date d = duckdb_value_date(res, col, row);
        if (duckdb_is_finite_date(d)) {
            quant_date_format(d.days, buf);
            txt = buf;
        }
    } else if (t == DUCKDB_TYPE_TIMESTAMP) {
        duckdb_timestamp ts = duckdb_value_timestamp(res, col, row);
        if (duckdb_is_finite_timestamp(ts)) {
            quant_sql_fmt_timestamp_(ts.micros, buf, sizeof buf);
            txt = buf;
        }
    } else if (t == DUCKDB_TYPE_BOOLEAN) {
        txt = duckdb_value_boolean(res, col, row) ? "true" : "false";
    }
    char *out;
    if (txt) {
        out = strdup(txt);
    } else { /* everything else as DuckDB's own cast to VARCHAR */
        char *v = duckdb_value_varchar(res, col, row);
        out = strdup(v ? v : "");
        duckdb_free(v);
    }
    if (!out)
        *oom = 1;
    return out;
}

static enum quant_code query_error(struct quant_series_store *s, const char *msg,
                                   struct quant_err *err)
{
    if (!msg)
        msg = "unknown DuckDB error";
    if (s->read_only && (strstr(msg, "read-only") || strstr(msg, "read only")))
        return quant_err_set(err, QUANT_ESTORE,
                             "%s (quant sql is read-only: it opens the store read-only; change "
                             "data with quant's own commands)",
                             msg);
    return quant_err_set(err, QUANT_ESTORE, "%s", msg);
}

static int is_nested(duckdb_type t)
{
    return t == DUCKDB_TYPE_LIST || t == DUCKDB_TYPE_STRUCT || t == DUCKDB_TYPE_MAP ||
           t == DUCKDB_TYPE_ARRAY || t == DUCKDB_TYPE_UNION;
}

/*
 * The legacy value API cannot turn LIST/STRUCT/MAP cells into text, and the
 * C API has no per-vector value access.  So a result with such columns is
 * read again with every column cast to VARCHAR by DuckDB; all cells then come
 * from that second run, since an unordered query may return rows in another
 * order.  Only done for a SELECT, which is harmless to repeat.
 */
static int rerun_as_text(struct quant_series_store *s, const char *sql, duckdb_result *res)
{
    size_t len = strlen(sql);
    while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
                   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
        len--;
    size_t cap = len + 96;
    char *q = malloc(cap);
    if (!q)
        return -1;
    snprintf(q, cap, "SELECT COLUMNS(*)::VARCHAR FROM (%.*s) AS quant_sql_text", (int)len, sql);
    int rc = duckdb_query(s->con, q, res) == DuckDBSuccess ? 0 : -1;
    if (rc)
        duckdb_destroy_result(res);
    free(q);
    return rc;
}

enum quant_code quant_series_store_query(struct quant_series_store *s, const char *sql,
                                         size_t max_rows, struct quant_table *out,
                                         struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    if (!sql || !*sql)
        return quant_err_set(err, QUANT_EINVAL, "sql: an SQL statement is required");
    if (!s->read_only)
        quant_ohlcv_known_reset_(s); /* the statement may change which symbols have rows */
    duckdb_result res;
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        enum quant_code rc = query_error(s, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    size_t ncols = duckdb_column_count(&res);
    out->ncols = ncols;
    out->col_names = calloc(ncols ? ncols : 1, sizeof *out->col_names);
    out->col_numeric = calloc(ncols ? ncols : 1, sizeof *out->col_numeric);
    int oom = !out->col_names || !out->col_numeric, nested = 0;
    for (size_t c = 0; c < ncols && !oom; c++) {
        out->col_names[c] = strdup(duckdb_column_name(&res, c));
        oom = !out->col_names[c];
        out->col_numeric[c] = quant_sql_type_id_numeric_(duckdb_column_type(&res, c));
        nested |= is_nested(duckdb_column_type(&res, c));
    }
    duckdb_result text;
    if (nested && !oom && duckdb_result_statement_type(res) == DUCKDB_STATEMENT_TYPE_SELECT &&
        rerun_as_text(s, sql, &text) == 0) {
        if (duckdb_column_count(&text) == ncols) {
            duckdb_destroy_result(&res);
            res = text;
        } else {
            duckdb_destroy_result(&text);
        }
    }
    size_t nrows = duckdb_row_count(&res);
    if (max_rows && nrows > max_rows)
        nrows = max_rows;
    size_t ncells = ncols * nrows;
    out->cells = calloc(ncells ? ncells : 1, sizeof *out->cells);
    oom |= !out->cells;
    for (size_t r = 0; r < nrows && !oom; r++, out->nrows++)
        for (size_t c = 0; c < ncols && !oom; c++)
            out->cells[r * ncols + c] = cell_text(&res, duckdb_column_type(&res, c), c, r, &oom);
    duckdb_destroy_result(&res);
    if (oom) {
        quant_table_release(out);
        return quant_err_set(err, QUANT_ENOMEM, "sql: out of memory holding the result");
    }
    return QUANT_OK;
}

void quant_table_release(struct quant_table *t)
{
    if (!t)
        return;
    if (t->cells)
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
            free(t->cells[i]);
    if (t->col_names)
        for (size_t i = 0; i < t->ncols; i++)
            free(t->col_names[i]);
    free(t->cells);
    free(t->col_names);
    free(t->col_numeric);
    memset(t, 0, sizeof *t);
}
