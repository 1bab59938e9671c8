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
 * What may run: exactly one query (SELECT, WITH ... SELECT, FROM, VALUES,
 * SHOW, DESCRIBE, SUMMARIZE, a reading PRAGMA, or EXPLAIN of one), on a
 * connection that can read nothing but the store and change nothing.
 * Anything else, or a query reaching for a file: QUANT_EREADONLY, saying what
 * is allowed.  A query the store cannot answer: QUANT_EINVAL with DuckDB's
 * words.  (The rules and their three locks: lib/store/sql_internal.h.)
 */
struct quant_sql_cursor;

/* The result's columns: how many, their names, and which are numbers. */
size_t quant_sql_cursor_ncols(const struct quant_sql_cursor *c);
const char *quant_sql_cursor_name(const struct quant_sql_cursor *c, size_t col);
/* 1 for number columns (right-aligned in a table, bare numbers in JSON). */
int quant_sql_cursor_numeric(const struct quant_sql_cursor *c, size_t col);

/*
 * The next batch of rows (one DuckDB chunk, at most 2,048 rows), as text:
 * *out_cells is *out_nrows * ncols strings, row by row, NULL for SQL NULL;
 * they belong to the cursor and stay valid until the next call or close.
 * *out_nrows = 0 at the end.  Formats: DOUBLE in the shortest form that
 * reads back exactly, DATE as YYYY-MM-DD, TIMESTAMP as "YYYY-MM-DD
 * HH:MM:SS", BOOLEAN as true/false, nested values as DuckDB draws them.
 */
enum quant_code quant_sql_cursor_next(struct quant_sql_cursor *c, size_t *out_nrows,
                                      const char *const **out_cells, struct quant_err *err);

/*
 * `quant sql`: start sql on a sandboxed read-only connection of ws.  Rows are
 * read through quant_sql_session_cursor() with quant_sql_cursor_next(); close
 * with quant_sql_session_close(), which also closes the connection.
 */
struct quant_sql_session;
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
