/*
 * workspace.h: the one place that turns a configuration into open stores.
 *
 * Every command and every dashboard request works in a workspace opened in
 * the mode it declares (cli/main.c's table, lib/web/api.c's routes), the way
 * tmux marks commands CMD_READONLY and git marks them RUN_SETUP:
 *
 *   mode               DuckDB (series)                 SQLite (metadata)
 *   -----------------  ------------------------------  ----------------------------
 *   QUANT_WS_READ      read-only, on first use,        read-only, on first use,
 *                      never waits for a writer        never created
 *   QUANT_WS_META      read-only, on first use,        read-write, created and
 *                      never waits for a writer        migrated at open
 *   QUANT_WS_WRITE     read-write, created and         read-write, created and
 *                      migrated at open; waits up to   migrated at open
 *                      lock_timeout_ms for a writer
 *
 * A read never writes a byte and never takes DuckDB's writer lock, so
 * `quant models list`, `quant symbols list` and `quant status` answer at once
 * while an ingest runs; a store that is busy (another process writes it) or
 * missing is reported when it is used, with who holds it and what to do.
 * QUANT_WS_META is for commands that change only the registry (`symbols
 * add`, `symbols search` counting its requests): SQLite allows a writer while
 * DuckDB is locked by another process.
 *
 * Ownership: quant_workspace_open() allocates the workspace; it borrows the
 * config, which must outlive it.  The stores belong to the workspace and are
 * closed by quant_workspace_close(); callers never close them.
 */
#ifndef QUANT_WORKSPACE_H
#define QUANT_WORKSPACE_H

#include "quant/config.h"
#include "quant/error.h"
#include "quant/meta_store.h"
#include "quant/series_store.h"
#include "quant/shard.h"

enum quant_ws_mode {
    QUANT_WS_READ,
    QUANT_WS_META,
    QUANT_WS_WRITE,
};

struct quant_workspace;

/*
 * Open a workspace.  QUANT_WS_WRITE creates QUANT_HOME and both stores (or
 * migrates them), waits for DuckDB's writer lock up to the configured
 * timeout, and marks ingest runs a killed process left 'running' as
 * interrupted (holding the writer lock proves no ingest runs).  The read
 * modes check the settings they will need and open nothing yet.
 */
enum quant_code quant_workspace_open(const struct quant_config *cfg, enum quant_ws_mode mode,
                                     struct quant_workspace **out, struct quant_err *err);
void quant_workspace_close(struct quant_workspace *ws);

enum quant_ws_mode quant_workspace_mode(const struct quant_workspace *ws);
const struct quant_config *quant_workspace_config(const struct quant_workspace *ws);

/*
 * The series store, opened on first use in the workspace's mode; NULL with
 * err set when it cannot be: QUANT_ENOTFOUND (no store yet: the message says
 * to run `quant init-db`), QUANT_ELOCKED (another process writes it: the
 * message names it), QUANT_ESCHEMA, ...  A failure is remembered: later calls
 * fail the same way without trying again.
 */
struct quant_series_store *quant_workspace_series(struct quant_workspace *ws,
                                                  struct quant_err *err);

/* The metadata store, likewise (QUANT_ENOTFOUND in QUANT_WS_READ when there is
 * no store yet). */
struct quant_meta_store *quant_workspace_meta(struct quant_workspace *ws, struct quant_err *err);

/*
 * A separate read-only connection to the series store for SQL a person wrote
 * (`quant sql`, `quant export`): DuckDB's external access off and its
 * configuration locked (series_store.h, sandbox), the derived views attached;
 * write_path is the one file it may write (NULL: none).  Never waits for a
 * writer.  The caller owns the result: quant_series_store_close().
 */
enum quant_code quant_workspace_open_sandbox(struct quant_workspace *ws, const char *write_path,
                                             struct quant_series_store **out,
                                             struct quant_err *err);

/*
 * Lake mode (QUANT_LAKE set; lib/services/lake.h says how it works): the
 * series store is a private working copy, loaded from the lake's live
 * Parquet files on first use and deleted at close.  A read (QUANT_WS_READ,
 * QUANT_WS_META, not sharded) instead opens a snapshot of the whole lake kept
 * in $TMPDIR/quant-lake-cache-UID and rebuilt when the registry's live set
 * changed, so repeated reads (the dashboard's requests) cost an open.
 *
 * quant_workspace_set_scope: load only one shard's symbols (sharded runs);
 * call it before the first use of the series store.  No effect outside lake
 * mode.
 *
 * quant_workspace_commit: in a QUANT_WS_WRITE workspace in lake mode,
 * publish every partition the work changed (new files, swapped in the
 * registry in one transaction; QUANT_ECONFLICT when another run rewrote one
 * of them meanwhile, and then nothing is published).  A write command calls
 * it before close, also after a partial failure, since what it stored is
 * what a DuckDB store would have kept; close without it discards the work.
 * Outside lake mode, or when the series were never used, it does nothing
 * (stats zero).  stats may be NULL.
 */
struct quant_lake_stats {
    long partitions;      /* (table, partition) pairs swapped */
    long files_written;
    long files_replaced;  /* older files deleted */
    long rows_written;
};
void quant_workspace_set_scope(struct quant_workspace *ws, const struct quant_shard *shard);
enum quant_code quant_workspace_commit(struct quant_workspace *ws, struct quant_lake_stats *stats,
                                       struct quant_err *err);
/* The lake folder, or NULL outside lake mode. */
const char *quant_workspace_lake(const struct quant_workspace *ws);

/* The metadata schema version found when the workspace opened it (before any
 * migration), 0 for a store it created; for a store a read refused for its
 * schema (QUANT_ESCHEMA), the version it has; -1 when none was read. */
int quant_workspace_meta_found_version(struct quant_workspace *ws);

#endif
