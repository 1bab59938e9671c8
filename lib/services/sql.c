/*
 * sql.c: the service behind `quant sql`: SQL a person wrote, run on a
 * sandboxed read-only connection to the series store (workspace.h,
 * quant_workspace_open_sandbox; sql.h says what may run), and the list
 * of tables and views such a query can read.
 */
#include "quant/sql.h"
#include "store/sql_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

struct quant_sql_session {
    struct quant_series_store *store;
    struct quant_sql_cursor *cursor;
};

enum quant_code quant_sql_session_open(struct quant_workspace *ws, const char *sql,
                                         struct quant_sql_session **out,
                                         struct quant_err *err)
{
    *out = NULL;
    struct quant_sql_session *q = calloc(1, sizeof *q);
    if (!q)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    enum quant_code rc = quant_workspace_open_sandbox(ws, NULL, &q->store, err);
    if (!rc)
        rc = quant_sql_cursor_open(q->store, sql, &q->cursor, err);
    if (rc) {
        quant_sql_session_close(q);
        return rc;
    }
    *out = q;
    return QUANT_OK;
}

struct quant_sql_cursor *quant_sql_session_cursor(struct quant_sql_session *q)
{
    return q->cursor;
}

void quant_sql_session_close(struct quant_sql_session *q)
{
    if (!q)
        return;
    quant_sql_cursor_close(q->cursor);
    quant_series_store_close(q->store);
    free(q);
}

enum quant_code quant_sql_tables(struct quant_workspace *ws, struct quant_table *out,
                                     struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct quant_series_store *s = NULL;
    enum quant_code rc = quant_workspace_open_sandbox(ws, NULL, &s, err);
    if (rc)
        return rc;
    rc = quant_series_store_query(
        s,
        /* the derived views (temp catalog) shadow stored copies of the same name */
        "SELECT c.table_name, CASE WHEN c.table_catalog = 'temp' THEN 'on read'"
        " WHEN t.table_type = 'VIEW' THEN 'view' ELSE 'table' END,"
        " string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.ordinal_position)"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema"
        " AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'main' AND (c.table_catalog = 'temp' OR c.table_name NOT IN"
        " (SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp'))"
        " GROUP BY ALL ORDER BY 1",
        0, out, err);
    quant_series_store_close(s);
    return rc;
}
