/*
 * lake_io.h: moving a series store's tables to and from Parquet files (inside
 * lib only; services/lake.c decides which files and when).
 *
 * A lake table is one of the store's tables, split into partitions by a key
 * column: the series tables by symbol, the walk-forward and evaluation
 * tables by their run.  A partition is written as Hive-partitioned Parquet
 * (DIR/KEY=VALUE/<uuid>.parquet, the value URL-encoded by DuckDB, the key
 * column kept out of the file as Hive readers expect) and read back with
 * read_parquet(..., hive_partitioning = true).
 *
 * Ownership: arrays returned are malloc'd; the caller frees them.
 */
#ifndef QUANT_LAKE_IO_H
#define QUANT_LAKE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/series_store.h"

struct quant_lake_table {
    const char *name; /* the store's table */
    const char *key;  /* its partition column */
    int by_symbol;    /* key is the symbol: a shard keeps only its own */
};

/* Every table a lake holds, in the order they are loaded; *n gets the count. */
const struct quant_lake_table *quant_lake_tables(size_t *n);

/* One partition's content, for telling whether a command changed it. */
struct quant_lake_print {
    char part[160];
    int64_t rows;
    char hash[48]; /* sum of the rows' hashes, as text */
};

/* Append the rows of the given files (absolute paths) to the table. */
enum quant_code quant_lake_load(struct quant_series_store *s, const struct quant_lake_table *t,
                                const char *const *paths, size_t n, struct quant_err *err);

/* Every partition of the table with its rows and hash, sorted by part. */
enum quant_code quant_lake_prints(struct quant_series_store *s, const struct quant_lake_table *t,
                                  struct quant_lake_print **out, size_t *out_n,
                                  struct quant_err *err);

/* Write the rows of the given partitions under dir (created), one file per
 * partition: dir/KEY=VALUE/<uuid>.parquet. */
enum quant_code quant_lake_write(struct quant_series_store *s, const struct quant_lake_table *t,
                                 const char *const *parts, size_t n, const char *dir,
                                 struct quant_err *err);

#endif
