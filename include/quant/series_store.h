/*
 * series_store.h: the time-series store (DuckDB).
 *
 * Tables (created by quant_series_store_open in read-write mode; later issues
 * add features_daily, labels, predictions):
 *
 *   ohlcv
 *   +-------------------+-----------+-----------------------------------------+
 *   | symbol            | VARCHAR   | upper-case; one row per (symbol, date)  |
 *   | date              | DATE      | trading day                             |
 *   | open, high, low,  | DOUBLE    | as published by the source              |
 *   |   close           |           |                                         |
 *   | adj_close         | DOUBLE    | NULL when the source has none           |
 *   | volume            | DOUBLE    | shares                                  |
 *   | dividend          | DOUBLE    | NULL when unknown                       |
 *   | split_coefficient | DOUBLE    | NULL when unknown                       |
 *   | source            | VARCHAR   | provider name ("alphavantage", ...)     |
 *   | ingested_at       | TIMESTAMP | when this row's values last changed     |
 *   | quality           | UTINYINT  | QUANT_Q_* bits (bars.h): repaired,      |
 *   |                   |           | gap/jump before, adjustment carried     |
 *   +-------------------+-----------+-----------------------------------------+
 *   CHECK (volume >= 0); open/high/low/close/volume are NOT NULL.  No PRIMARY
 *   KEY: (symbol, date) is unique because quant is the only writer and diffs
 *   every write against the stored rows (lib/store/schema.c says what the
 *   key's index cost).  Rows are stored in (symbol, date) order.
 *
 * quant_meta(key VARCHAR PRIMARY KEY, value VARCHAR): schema_version = 3.
 * Version 1 had no quality column, versions 1 and 2 a PRIMARY KEY on ohlcv
 * and predictions; a read-write open migrates them (one transaction), a
 * read-only open reads them as they are (version 1's bars as quality 0).
 *
 * Adjustment: every upsert completes adj_close of bars whose source gave none
 * by carrying the stored factor (adjust.h), so the adjusted series stays
 * continuous across a seam between sources, and marks unexplained split-like
 * jumps.
 *
 * Lineage: one symbol's bars come from one lineage.  A write of source S over
 * a symbol that has bars from a source S' is refused with QUANT_ELINEAGE
 * (naming both and the remedy) unless S' == S or S' is "csv" and S is
 * "alphavantage" (the documented workflow: a CSV history topped up by Alpha
 * Vantage), or the write asks to replace the history (quant_write_options).
 *
 * Writes: quant_series_store_upsert_bars() is an idempotent upsert of one
 * symbol's series in one transaction; a failure rolls back and leaves the
 * table exactly as it was.  The stored rows of the written symbols are read
 * in one scan per 64 symbols and diffed in C: new dates are inserted (one
 * parallel INSERT reading them in place), changed rows are staged in a TEMP table and
 * applied with one UPDATE ... FROM it, in place, and a row whose values are
 * unchanged is left alone (ingested_at included).  NaN in any value column
 * is stored as SQL NULL.  Values are compared NULL-safely; source is not
 * compared (it records who last changed the values).
 * quant_series_store_upsert_many() does the same for a batch of symbols in
 * one transaction: use it for bulk ingest (see there).
 *
 * Locking: DuckDB allows one writer process per file, and a read-only open
 * also fails while a writer holds it.  Opening retries for lock_timeout_ms and
 * then fails with QUANT_ELOCKED and a message naming the PID holding the lock.
 *
 * Ownership: open allocates the store, close frees it.  Output arrays are
 * malloc'd and freed by the caller as each function says.
 */
#ifndef QUANT_SERIES_STORE_H
#define QUANT_SERIES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/bars.h"
#include "quant/error.h"

struct quant_series_store;

struct quant_series_store_options {
    int read_only;            /* open with access_mode=READ_ONLY */
    int threads;              /* DuckDB worker threads; 0 = 2 */
    const char *memory_limit; /* DuckDB memory_limit, e.g. "2GB"; NULL = "4GB" */
    long lock_timeout_ms;     /* how long to retry a locked file; default 0 (fail at once) */
    /*
     * For user-written SQL (quant sql, quant export): DuckDB's
     * enable_external_access is off (no file, no network, no ATTACH, no
     * extension), and lock_configuration is on, so no statement can turn it
     * back on.  Only the store file itself is read.  Requires read_only.
     */
    int sandbox;
    /*
     * With sandbox: the one file outside the store DuckDB may write (quant
     * export's temporary file), through DuckDB's allowed_paths; NULL = none.
     * A path ending in '/' is a folder: DuckDB may write anything under it
     * (allowed_directories; the lake export's temporary folder).
     */
    const char *sandbox_write_path;
};

/* Opens (creating the file and schema when writable).  out is set on success. */
enum quant_code quant_series_store_open(const char *path,
                                        const struct quant_series_store_options *opts,
                                        struct quant_series_store **out,
                                        struct quant_err *err);
void quant_series_store_close(struct quant_series_store *store);

struct quant_upsert_stats {
    long inserted;   /* new (symbol, date) rows */
    long updated;    /* existing rows whose values changed */
    long unchanged;  /* existing rows with identical values */
    long adj_carried;          /* written bars whose adj_close quant carried (adjust.h) */
    long jumps;                /* written bars marked QUANT_Q_JUMP_BEFORE */
    int32_t first_jump;        /* the first of them (0 when none) */
    double first_jump_ratio;   /* its split-like ratio (2 = looks like 2-for-1) */
    int replaced;              /* the symbol's history (and derived rows) was replaced */
    char replaced_sources[48]; /* the sources stored before, "csv, synthetic" ("" = none) */
};

/*
 * Whether bars of source `incoming` may be written over bars of `stored`
 * without replacing the history: the same source, or a CSV history topped up
 * by "alphavantage".  Anything with "synthetic" mixes only with itself.
 */
int quant_lineage_compatible(const char *stored, const char *incoming);

/*
 * Upsert bars (bars->symbol must be set; duplicates by date: the last one
 * wins) with the given source name.  One transaction.  stats may be NULL.
 */
enum quant_code quant_series_store_upsert_bars(struct quant_series_store *store,
                                               const struct quant_bars *bars,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err);

/*
 * Upsert n series (distinct symbols) in ONE transaction: all of them are
 * written or, on any failure, none (err names the failing symbol).  Why it
 * exists: every commit of a bulk append costs DuckDB a checkpoint, so a bulk
 * ingest of hundreds of symbols is much faster in one transaction.
 * The trade-off is the unit of failure: one bad series rolls back its whole
 * batch, so a caller that wants per-symbol isolation retries the batch's
 * series one by one with quant_series_store_upsert_bars() after a failure.
 * stats (may be NULL) has n entries, filled only on success.
 */
enum quant_code quant_series_store_upsert_many(struct quant_series_store *store,
                                               const struct quant_bars *series, size_t n,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err);

struct quant_write_options {
    /*
     * Replace each symbol's history: its ohlcv rows and everything derived
     * from them (feature, label, prediction and derived_state rows) are
     * deleted in the same transaction, then the new bars are written.
     */
    int replace;
};

/*
 * quant_series_store_upsert_many with options (opts NULL = upsert_many: a
 * symbol whose stored lineage does not admit `source` fails the whole call
 * with QUANT_ELINEAGE).
 */
enum quant_code quant_series_store_write(struct quant_series_store *store,
                                         const struct quant_bars *series, size_t n,
                                         const char *source,
                                         const struct quant_write_options *opts,
                                         struct quant_upsert_stats *stats,
                                         struct quant_err *err);

struct quant_series_summary {
    char symbol[QUANT_SYMBOL_MAX + 1];
    long bars;
    int32_t first_date;   /* days since epoch */
    int32_t last_date;
    long repaired;        /* bars with a QUANT_Q_REPAIRED bit */
    long gaps;            /* bars with QUANT_Q_GAP_BEFORE: holes where bars were dropped */
    long jumps;           /* bars with QUANT_Q_JUMP_BEFORE */
    long carried;         /* bars with QUANT_Q_ADJ_CARRIED */
};

/* One row per symbol in ohlcv, sorted by symbol.  *out malloc'd; caller frees. */
enum quant_code quant_series_store_summary(struct quant_series_store *store,
                                           struct quant_series_summary **out,
                                           size_t *out_n, struct quant_err *err);

/* Summary of one symbol; bars = 0 (dates 0) when it has no rows. */
enum quant_code quant_series_store_symbol_summary(struct quant_series_store *store,
                                                  const char *symbol,
                                                  struct quant_series_summary *out,
                                                  struct quant_err *err);

/* Load one symbol's bars ascending into out (caller-initialised, caller releases). */
enum quant_code quant_series_store_load_bars(struct quant_series_store *store,
                                             const char *symbol, struct quant_bars *out,
                                             struct quant_err *err);

/* A query result materialised as text, for `quant sql`. */
struct quant_table {
    size_t ncols;
    size_t nrows;
    char **col_names;   /* ncols strings */
    int *col_numeric;   /* ncols flags: right-align when printing */
    char **cells;       /* nrows * ncols, row-major; NULL for SQL NULL */
};

/*
 * Run one SQL statement and materialise its result (at most max_rows rows;
 * 0 = no limit).  Errors come back as QUANT_ESTORE with DuckDB's message.
 * Cells: DOUBLE in the shortest form that reads back exactly (%.15g..%.17g),
 * DATE as YYYY-MM-DD, TIMESTAMP as "YYYY-MM-DD HH:MM:SS" (fraction dropped),
 * BOOLEAN as true/false, anything else as DuckDB casts it to VARCHAR; a
 * SELECT with LIST/STRUCT/MAP columns is run a second time with every column
 * cast to VARCHAR, since the C API cannot render nested values.
 * Release with quant_table_release.
 */
enum quant_code quant_series_store_query(struct quant_series_store *store, const char *sql,
                                         size_t max_rows, struct quant_table *out,
                                         struct quant_err *err);
void quant_table_release(struct quant_table *t);

#endif
