/*
 * store_internal.h: the one internal header of the DuckDB side of lib/store
 * (not part of the public API).  lib/store/ is the only folder that includes
 * duckdb.h, and its files are cut by what they serve:
 *
 *   duck.c            the handle: open (lock retry, sandbox), close, DuckDB
 *                     errors turned into quant codes and advice, statement,
 *                     appender and vector helpers every table file uses
 *   schema.c          quant's tables in a new file, the schema version, and
 *                     the migrations of older files (run by the open)
 *   ohlcv_read.c      reading ohlcv: one symbol's bars, the stored rows of a
 *                     batch of symbols in one scan, summaries
 *   ohlcv_write.c     the ohlcv upsert engine (diff in C, new rows held,
 *                     staged updates), the set of symbols with rows
 *   ohlcv_insert.c    new ohlcv rows held in one arena for bulk_insert.c
 *   bulk_insert.c     rows in C memory into a table as one parallel INSERT
 *                     (a table function reading them in place)
 *   predictions.c     writing predictions (a rescored pair's rows replaced)
 *   series_lineage.c  one lineage per symbol; replacing a history
 *   feature_store.c   derived tables (features, labels) and their state
 *   derived_read.c    features and labels computed on read (table functions)
 *   bars_scan.c       one scan of every symbol's bars, in name order
 *   prediction_read.c predictions of one symbol
 *   sql_query.c       user SQL, sandboxed and streaming (quant sql, export)
 *   sql_table.c       one statement materialised as text (quant_table)
 *   sql_text.c        DuckDB values as text
 *
 * One database handle and one connection per process: DuckDB admits one
 * writer process per file, so every write of a command shares one lock and
 * one transaction model.  Being that single writer is also what keeps
 * (symbol, date) unique in ohlcv without an index (schema.c says why).
 */
#ifndef QUANT_STORE_INTERNAL_H
#define QUANT_STORE_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include <duckdb.h>

#include "core/buf.h"
#include "quant/error.h"
#include "store/feature_store.h"
#include "quant/series_store.h"

/* ---- the handle (duck.c) --------------------------------------------------- */

#define SCHEMA_VERSION 3
#define OHLCV_NCOLS 13 /* columns of ohlcv, in table order */

/* Column order of ohlcv and of its staging table (the appender relies on it).
 * quality is last because version 2 added it to existing tables with ALTER
 * TABLE, which appends; new and rebuilt tables keep the same order. */
enum { C_SYMBOL, C_DATE, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_ADJ, C_VOLUME, C_DIV, C_SPLIT,
       C_SOURCE, C_INGESTED, C_QUALITY };

struct quant_series_store {
    duckdb_database db;
    duckdb_connection con;
    int read_only;
    int sandboxed;                    /* external access off, configuration locked */
    long version;                     /* schema version of the file, after migration */
    char path[PATH_MAX];
    duckdb_logical_type types[OHLCV_NCOLS]; /* ohlcv column types, for data chunks */
    duckdb_data_chunk chunk;          /* reused for every ohlcv append */
    duckdb_prepared_statement load;   /* one symbol's bars, ascending; lazy */
    duckdb_prepared_statement one_sum;/* one symbol's summary; lazy */
    /*
     * Symbols that have rows in ohlcv, sorted (ohlcv_write.c).  A symbol not
     * in here takes the fast path (plain append, nothing to diff).  Exact
     * because this handle is the only writer; a user statement may change
     * anything, so quant_series_store_query drops the set (known_valid = 0)
     * and the next write reloads it.
     */
    char (*known)[QUANT_SYMBOL_MAX + 1];
    size_t nknown, capknown;
    int known_valid;
    /* bulk_insert.c's table function: registered before the first write's
     * transaction; bulk is what it reads, set only while its INSERT runs. */
    int bulk_registered;
    const struct quant_bulk_rows *bulk;
};

/* The database handle (owned by the store), for extra connections. */
duckdb_database quant_series_store_db_(struct quant_series_store *s);
/* The store's connection (owned by the store; never disconnect it). */
duckdb_connection quant_series_store_con_(struct quant_series_store *s);
/* The database file's path, for messages. */
const char *quant_series_store_path_(const struct quant_series_store *s);
int quant_series_store_read_only_(const struct quant_series_store *s);
/* Opened with options.sandbox (external access off, configuration locked). */
int quant_series_store_sandboxed_(const struct quant_series_store *s);
/* The file's schema version (1: ohlcv has no quality column; read-only opens only). */
long quant_series_store_version_(const struct quant_series_store *s);

/*
 * A DuckDB failure as QUANT_ESTORE: "store PATH: WHAT failed: <DuckDB's words>"
 * plus what to do when those words show a cause the user can act on (a full
 * disk, a folder quant may not write, a truncated or damaged file).  msg may
 * be NULL.  Returns QUANT_ESTORE.
 */
enum quant_code quant_series_store_fail_(const struct quant_series_store *s, const char *what,
                                         const char *msg, struct quant_err *err);
/* The advice part of that message alone ("" when DuckDB's words show nothing). */
const char *quant_duck_advice_(const char *msg);
/* Run a statement; on failure, quant_series_store_fail_'s message. */
enum quant_code quant_series_store_exec_(struct quant_series_store *s, const char *sql,
                                         const char *what, struct quant_err *err);
/* ---- bulk_insert.c: rows in C memory into a table, one parallel INSERT ---- */
/* DuckDB's row group size: a run of this many consecutive rows fills one. */
#define QUANT_BULK_ROW_GROUP ((size_t)122880)
struct quant_bulk_rows {
    size_t ncols;
    const char *const *names;          /* the table's columns, in its order */
    const duckdb_logical_type *types;
    size_t runs;                       /* independent runs of rows */
    /* Fill out with the next rows of `run` from *pos (0 at its start),
     * advancing *pos; return how many (<= duckdb_vector_size()), 0 once the
     * run is done.  Called on DuckDB's threads, one run on one thread at a
     * time: ctx is only read. */
    size_t (*fill)(const void *ctx, size_t run, size_t *pos, duckdb_data_chunk out);
    const void *ctx;
};
/* Register the table function on s's connection, once per store.  Call it
 * before BEGIN: a catalog entry made inside a transaction goes with that
 * transaction's ROLLBACK. */
enum quant_code quant_bulk_ready_(struct quant_series_store *s, struct quant_err *err);
/* INSERT INTO table every row of rows (in the caller's transaction).  what
 * names the step in a failure; a failed constraint is reported with bad_row
 * (what to do about such a row) when it is not NULL. */
enum quant_code quant_bulk_insert_(struct quant_series_store *s, const char *table,
                                   const struct quant_bulk_rows *rows, const char *what,
                                   const char *bad_row, struct quant_err *err);
/* After the ROLLBACK of a failed write: the connection's insertion order back
 * on, should a failed insert have left it off. */
void quant_bulk_failed_(struct quant_series_store *s);

/* ---- ohlcv_insert.c: new ohlcv rows held for a bulk insert ---- */
struct quant_ohlcv_pending;
/* Fill chunk c (ohlcv's columns) with v[0..m): symbol, source and ingested_at
 * as constant vectors, NaN as NULL.  m <= duckdb_vector_size(). */
void quant_ohlcv_fill_chunk_(duckdb_data_chunk c, duckdb_value symbol, duckdb_value source,
                             duckdb_value ingested, const struct quant_bar *v, size_t m);
/* Rows held before a flush: 16 row groups, so every thread has whole groups
 * to write, and a bounded arena (157 MB of address space, touched as used). */
#define QUANT_OHLCV_PENDING_ROWS ((size_t)16 * 122880)
/* An empty set of pending rows for one write; source and ingested stay the
 * caller's and must outlive it.  NULL when out of memory. */
struct quant_ohlcv_pending *quant_ohlcv_pending_new_(duckdb_value source, duckdb_value ingested);
void quant_ohlcv_pending_free_(struct quant_ohlcv_pending *p);
/* *out: room for n rows after the pending ones (flushing them first when
 * the arena is full); valid until the next call on p. */
enum quant_code quant_ohlcv_pending_room_(struct quant_series_store *s,
                                          struct quant_ohlcv_pending *p, size_t n,
                                          struct quant_bar **out, struct quant_err *err);
/* The first n rows of the room last given become pending rows of symbol.
 * QUANT_ENOMEM only. */
enum quant_code quant_ohlcv_pending_add_(struct quant_ohlcv_pending *p, const char *symbol,
                                         size_t n);
/* INSERT the pending rows into ohlcv (in the caller's transaction, after
 * quant_bulk_ready_) and empty p, whether it worked or not. */
enum quant_code quant_ohlcv_pending_flush_(struct quant_series_store *s,
                                           struct quant_ohlcv_pending *p, struct quant_err *err);

/* ROLLBACK, ignoring its result (after a failure, whose error is already set). */
void quant_duck_rollback_(struct quant_series_store *s);
/* Prepare sql into *st unless *st is already prepared (lazy statements). */
enum quant_code quant_duck_prepare_(struct quant_series_store *s, duckdb_prepared_statement *st,
                                    const char *sql, struct quant_err *err);
/* An appender on `table` of the store's connection; *out NULL on failure. */
enum quant_code quant_duck_appender_(struct quant_series_store *s, const char *table,
                                     duckdb_appender *out, struct quant_err *err);
/* An appender's failure; a constraint failure is named as bad input. */
enum quant_code quant_duck_append_error_(struct quant_series_store *s, duckdb_appender app,
                                         struct quant_err *err);
/* Append '...' (quotes doubled) to b: text inside an SQL string literal. */
enum quant_code quant_duck_quote_(struct quant_buf *b, const char *text);
/* Now as microseconds since the epoch, UTC (ingested_at). */
/* Normalised copy of a caller's symbol (upper-case, checked). */
enum quant_code quant_duck_symbol_(const char *in, char out[QUANT_SYMBOL_MAX + 1],
                                   struct quant_err *err);

/* Cells of a fetched chunk: a VARCHAR into a fixed buffer (truncating), a
 * DOUBLE with SQL NULL as NaN. */
void quant_duck_vec_string_(duckdb_vector v, idx_t row, char *out, size_t cap);
double quant_duck_vec_double_(duckdb_vector v, idx_t row);

/* ---- schema.c ---------------------------------------------------------------- */

/*
 * Read the file's schema version into s->version; when writable, create the
 * tables and migrate an older file to SCHEMA_VERSION in one transaction.
 * QUANT_ESCHEMA for a file newer than this quant.
 */
enum quant_code quant_schema_init_(struct quant_series_store *s, struct quant_err *err);

/* ---- ohlcv_read.c ------------------------------------------------------------ */

/* Append the stored bars of sym (normalised; ascending) to out. */
enum quant_code quant_ohlcv_read_(struct quant_series_store *s, const char *sym,
                                  struct quant_bars *out, struct quant_err *err);

/* Which source a symbol's stored bars come from, and how many.  quant writes
 * three source names; a symbol with more sources than the cap (written by
 * another client) is refused by the lineage check (series_lineage.c). */
#define QUANT_STORED_SOURCES_MAX 8
struct quant_stored_source {
    char name[24];
    long bars;
    int32_t first, last;
};

/*
 * What a batch write needs to know of the stored rows of its n symbols
 * (syms: normalised, distinct), read in one scan of ohlcv instead of one
 * query per symbol.  bars[i] is syms[i]'s stored series (ascending; empty
 * when it has none) and src[i][0..nsrc[i]) its sources (by name).  Release
 * with quant_ohlcv_stored_release_.
 */
struct quant_ohlcv_stored {
    size_t n;
    struct quant_bars *bars;
    struct quant_stored_source (*src)[QUANT_STORED_SOURCES_MAX];
    size_t *nsrc;
};
/* want[i] = 0 skips syms[i] (nothing stored: no need to read it). */
enum quant_code quant_ohlcv_stored_read_(struct quant_series_store *s,
                                         char (*syms)[QUANT_SYMBOL_MAX + 1], const int *want,
                                         size_t n, struct quant_ohlcv_stored *out,
                                         struct quant_err *err);
void quant_ohlcv_stored_release_(struct quant_ohlcv_stored *st);

/* ---- ohlcv_write.c ----------------------------------------------------------- */

/* Forget the set of symbols with rows (a statement may have changed it). */
void quant_ohlcv_known_reset_(struct quant_series_store *s);

/* ---- series_lineage.c -------------------------------------------------------- */

/*
 * Whether `source` may write over sym's stored sources src[0..n): fails with
 * QUANT_ELINEAGE, naming both sources and the remedy, when one does not admit
 * it and replace is 0.  stored gets their names ("csv, synthetic").
 */
enum quant_code quant_series_store_lineage_(const char *sym,
                                            const struct quant_stored_source *src, size_t n,
                                            const char *source, int replace, char *stored,
                                            size_t stored_cap, struct quant_err *err);
/* Delete sym's ohlcv rows and its rows in every derived table (inside the
 * caller's transaction). */
enum quant_code quant_series_store_forget_(struct quant_series_store *s, const char *sym,
                                           struct quant_err *err);

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

/* ---- feature_store.c: bars for derivation ----------------------------------- */

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

#endif
