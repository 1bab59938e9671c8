/*
 * lake.h: lake mode (inside lib; the workspace is its only caller).
 *
 * With QUANT_LAKE=DIR the series do not live in one DuckDB file but in
 * Parquet files under DIR, a folder every machine of a team can mount:
 *
 *   DIR/ohlcv/symbol=AAPL/<uuid>.parquet
 *   DIR/labels/symbol=AAPL/<uuid>.parquet      (and every other lake table,
 *   DIR/walkforward_runs/run_id=wf_.../...      lake_io.h lists them)
 *   DIR/models/                                  the model files
 *
 * and the metadata store (SQLite, or PostgreSQL for a team) lists which
 * files are live (meta_store.h, lake_files).  A command works on a private
 * DuckDB copy of the partitions it may touch:
 *
 *   checkout  the live files of every partition in scope (all, or one
 *             shard's symbols) are loaded into the working store, and each
 *             partition's content hash is noted;
 *   publish   every partition whose hash changed is written as a new file
 *             (a {uuid} name: concurrent writers never collide), moved into
 *             place, then swapped in the registry in one transaction, which
 *             checks that nobody swapped the partition since checkout
 *             (QUANT_ECONFLICT otherwise: nothing is published); only then
 *             are the replaced files deleted.  A re-run therefore replaces a
 *             partition, never duplicates it.
 *
 * A writer killed between the move and the swap leaves a file the registry
 * does not list: quant never reads it, and a later publish of that
 * partition does not remove it (a folder listing would show it).
 *
 * Ownership: checkout allocates the lake handle; quant_lake_free frees it.
 */
#ifndef QUANT_SERVICES_LAKE_H
#define QUANT_SERVICES_LAKE_H

#include "quant/error.h"
#include "quant/meta_store.h"
#include "quant/series_store.h"
#include "quant/shard.h"
#include "quant/workspace.h"

struct quant_lake;

/* Load the live files of the partitions in scope (NULL or count 0: all)
 * into s, whose tables exist and are empty.  Creates dir when missing.  out
 * NULL: a read, which will not publish (the content hashes are not taken). */
enum quant_code quant_lake_checkout(const char *dir, struct quant_meta_store *meta,
                                    struct quant_series_store *s, const struct quant_shard *scope,
                                    struct quant_lake **out, struct quant_err *err);

/* Publish every partition of s that changed since checkout (see above),
 * once per checkout.  written_by names the writer in the registry.  stats
 * may be NULL. */
enum quant_code quant_lake_publish(struct quant_lake *lk, struct quant_meta_store *meta,
                                   struct quant_series_store *s, const char *written_by,
                                   struct quant_lake_stats *stats, struct quant_err *err);

void quant_lake_free(struct quant_lake *lk);

/* The registry's live set in a few bytes ("COUNT-NEWESTID"): it changes with
 * every swap (a swap that adds a file adds a newer id; one that only empties
 * partitions lowers the count), so a reader's cached copy of the lake is
 * current while the stamp is the same. */
enum quant_code quant_lake_stamp(struct quant_meta_store *meta, char *out, size_t n,
                                 struct quant_err *err);

#endif
