/*
 * sql.h: the service behind `quant sql`: a query a person wrote, run on a
 * sandboxed, read-only connection to the series store of a QUANT_WS_READ
 * workspace.  A store another process is writing is refused at once with
 * QUANT_ELOCKED, naming that process: a reader never waits for an ingest.
 */
#ifndef QUANT_SQL_H
#define QUANT_SQL_H

#include "quant/error.h"
#include "quant/series_store.h"
#include "quant/workspace.h"

/*
 * `quant sql`: start sql on the DuckDB store, opened read-only as a sandbox
 * (sql_query.h says what may run and how errors come back).  Rows are read
 * through quant_sql_session_cursor() with quant_sql_cursor_next(); close
 * with quant_sql_session_close(), which also closes the store.
 */
struct quant_sql_session;
struct quant_sql_cursor;
enum quant_code quant_sql_session_open(struct quant_workspace *ws, const char *sql,
                                         struct quant_sql_session **out,
                                         struct quant_err *err);
struct quant_sql_cursor *quant_sql_session_cursor(struct quant_sql_session *q);
void quant_sql_session_close(struct quant_sql_session *q);

/*
 * The tables and views a query can read, for `quant sql --help`: one row per
 * table (name, "table" or "view", its columns as "name TYPE, ..."), sorted
 * by name.  Does not wait for a lock: QUANT_ELOCKED at once while an ingest
 * writes.  Release with quant_table_release.
 */
enum quant_code quant_sql_tables(struct quant_workspace *ws, struct quant_table *out,
                                     struct quant_err *err);

#endif
