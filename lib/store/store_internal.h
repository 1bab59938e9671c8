/*
 * store_internal.h: what the DuckDB-side files of lib/store share (not part
 * of the public API).  lib/store/ is the only folder that includes duckdb.h:
 * series_store.c owns the database handle and its connection; feature_store.c
 * writes the feature and label tables through the same connection, so one
 * process holds one writer lock and every write shares one transaction model.
 */
#ifndef QUANT_STORE_INTERNAL_H
#define QUANT_STORE_INTERNAL_H

#include <duckdb.h>

#include "quant/buf.h"
#include "quant/error.h"
#include "quant/feature_store.h"
#include "quant/series_store.h"

/* The database handle (owned by the store), for extra connections. */
duckdb_database quant_series_store_db_(struct quant_series_store *s);
/* The store's connection (owned by the store; never disconnect it). */
duckdb_connection quant_series_store_con_(struct quant_series_store *s);
/* The database file's path, for messages. */
const char *quant_series_store_path_(const struct quant_series_store *s);
int quant_series_store_read_only_(const struct quant_series_store *s);
/* Opened with options.sandbox (external access off, configuration locked). */
int quant_series_store_sandboxed_(const struct quant_series_store *s);
/*
 * A DuckDB failure as QUANT_ESTORE: "store PATH: WHAT failed: <DuckDB's words>"
 * plus what to do when those words show a cause the user can act on (a full
 * disk, a folder quant may not write, a truncated or damaged file).  msg may
 * be NULL.  Returns QUANT_ESTORE.
 */
enum quant_code quant_series_store_fail_(const struct quant_series_store *s, const char *what,
                                         const char *msg, struct quant_err *err);
/* Run a statement; on failure, quant_series_store_fail_'s message. */
enum quant_code quant_series_store_exec_(struct quant_series_store *s, const char *sql,
                                         const char *what, struct quant_err *err);

/* ---- sql_text.c: values as text ------------------------------------------ */

/* Shortest of %.15g/%.16g/%.17g that reads back as x; NaN, Infinity. */
void quant_sql_fmt_double_(double x, char *out, size_t cap);
/* "YYYY-MM-DD HH:MM:SS" (UTC, the fraction dropped). */
void quant_sql_fmt_timestamp_(int64_t micros, char *out, size_t cap);
/* 1 for the number types (right-aligned, bare in JSON). */
int quant_sql_type_numeric_(duckdb_logical_type t);
int quant_sql_type_id_numeric_(duckdb_type id);
/* 1 when quant_sql_cell_text_ can draw every value of the type. */
int quant_sql_type_printable_(duckdb_logical_type t);
/*
 * Append the text of row `row` of vector v (of type t) to b; for SQL NULL
 * append nothing and set *is_null.  QUANT_ENOMEM (or b's cap) on failure.
 */
enum quant_code quant_sql_cell_text_(duckdb_vector v, duckdb_logical_type t, idx_t row,
                                     struct quant_buf *b, int *is_null);
/*
 * Lineage (series_lineage.c), inside an upsert transaction.  _lineage_ reads
 * which sources sym's bars come from (written to stored, "csv, synthetic")
 * and fails with QUANT_ELINEAGE, naming both sources and the remedy, when one
 * does not admit `source` and replace is 0.  _forget_ deletes sym's ohlcv
 * rows and its rows in every derived table.
 */
enum quant_code quant_series_store_lineage_(struct quant_series_store *s, const char *sym,
                                            const char *source, int replace, char *stored,
                                            size_t stored_cap, struct quant_err *err);
enum quant_code quant_series_store_forget_(struct quant_series_store *s, const char *sym,
                                           struct quant_err *err);
/*
 * quant_series_store_scan_bars on another connection of the same database
 * (feature_store.c): the table functions of derived_read.c read bars while
 * the store's own connection is running the query that called them.
 */
enum quant_code quant_store_scan_bars_on_(struct quant_series_store *s, duckdb_connection con,
                                          const char *const *want, size_t n_want,
                                          quant_bars_cb cb, void *ctx, struct quant_err *err);
/*
 * The same bars as a cursor, one symbol per call (for code that pulls, like a
 * DuckDB table function).  next sets *got = 0 at the end; out is reused.
 */
struct quant_bars_cursor_;
enum quant_code quant_bars_cursor_open_(struct quant_series_store *s, duckdb_connection con,
                                        const char *const *want, size_t n_want,
                                        struct quant_bars_cursor_ **out, struct quant_err *err);
enum quant_code quant_bars_cursor_next_(struct quant_bars_cursor_ *c, struct quant_bars *out,
                                        int *got, struct quant_err *err);
void quant_bars_cursor_close_(struct quant_bars_cursor_ *c);
/* The file's schema version (1: ohlcv has no quality column; read-only opens only). */
long quant_series_store_version_(const struct quant_series_store *s);

#endif
