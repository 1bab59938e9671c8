/*
 * sql_internal.h: SQL a person wrote (quant sql, quant export), run on the
 * series store so that it can read the store's tables and nothing else, and
 * change nothing at all.
 *
 * Three locks, each closing the holes the others might leave:
 *   1. the store is opened read-only (options.read_only);
 *   2. the store is a sandbox (options.sandbox): DuckDB's external access is
 *      off (no file, no other database, no extension, no network) and its
 *      configuration is locked, so no statement can turn that back on;
 *   3. the text must hold exactly one statement, and it must be a query:
 *
 *      allowed                          | how DuckDB reports it
 *      ---------------------------------+------------------------------
 *      SELECT, WITH ... SELECT, FROM,   | SELECT
 *      VALUES, TABLE, SHOW, DESCRIBE,   |
 *      SUMMARIZE, reading PRAGMAs       | (DuckDB rewrites these PRAGMAs
 *      (table_info, show_tables,        |  into a SELECT; the others come
 *      database_size, version, ...)     |  out as SET, PRAGMA or CALL)
 *      EXPLAIN [ANALYZE] <one of those> | EXPLAIN (the inner text is
 *                                       |  checked by the same rules)
 *
 *      Everything else (COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, CALL,
 *      CREATE even TEMP, INSERT, PRAGMA settings, VACUUM, CHECKPOINT, ...)
 *      is refused before it runs.
 *
 * Errors: a refused statement, several statements, or a query that reaches
 * for a file: QUANT_EREADONLY, the message says what is allowed.  A query
 * the store cannot answer (syntax, unknown table or column, a bad cast):
 * QUANT_EINVAL quoting DuckDB's words and pointing at `quant sql --help`.
 *
 * Ownership: a cursor is opened on a store the caller keeps open until the
 * cursor is closed; the strings a cursor hands out belong to it.
 */
#ifndef QUANT_SQL_INTERNAL_H
#define QUANT_SQL_INTERNAL_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/series_store.h"
#include "quant/sql.h"

/*
 * Check that sql is one statement this header allows, without running it.
 * The store must be a sandbox (QUANT_EINTERNAL otherwise).
 */
enum quant_code quant_sql_check(struct quant_series_store *store, const char *sql,
                                struct quant_err *err);

/*
 * Make features and labels readable on this store's connection, computed
 * from the bars as they are read (derived_read.c): table functions
 * quant_features('tech-v1'), quant_labels(5) and TEMP views features_tech_v1,
 * features_alpha158, features_daily(symbol, date, feature, value, version)
 * and labels (every horizon `quant labels` has computed; h = 5 when none),
 * which shadow materialised tables of the same names on this connection.
 * Call once after opening the store for user SQL.
 */
enum quant_code quant_sql_attach_derived(struct quant_series_store *store,
                                         struct quant_err *err);

struct quant_sql_cursor;

/*
 * Check sql, then start it as a streaming query: rows are produced as they
 * are fetched, so memory stays flat however large the result.  A column of a
 * type that cannot be drawn as text (UNION, BIT, ...) is refused with
 * QUANT_EINVAL naming it and suggesting a cast to VARCHAR.
 */
enum quant_code quant_sql_cursor_open(struct quant_series_store *store, const char *sql,
                                      struct quant_sql_cursor **out, struct quant_err *err);
/* The reading half of the cursor (ncols, name, numeric, next) is public:
 * quant/sql.h. */
void quant_sql_cursor_close(struct quant_sql_cursor *c);

enum quant_sql_file_format { QUANT_SQL_CSV, QUANT_SQL_PARQUET };

/*
 * Write the result of sql (checked as above, and a SELECT) to path with
 * DuckDB's COPY ... TO: CSV with a header row, or Parquet (zstd).  path must
 * be the store's options.sandbox_write_path, the one file DuckDB may write;
 * it is overwritten.  *out_rows (may be NULL) gets the rows written.
 */
enum quant_code quant_sql_copy(struct quant_series_store *store, const char *sql,
                               const char *path, enum quant_sql_file_format format,
                               long *out_rows, struct quant_err *err);

/*
 * The same as Hive-partitioned Parquet under the folder dir (which must be
 * the store's sandbox folder, or inside it): one sub-folder per value of the
 * columns partition_by names ("symbol", "horizon, symbol"; quant's own text,
 * never a user's), the values URL-encoded, zstd files inside.
 */
enum quant_code quant_sql_copy_partitioned(struct quant_series_store *store, const char *sql,
                                           const char *dir, const char *partition_by,
                                           long *out_rows, struct quant_err *err);

#endif
