/*
 * meta_store.h: the metadata store: symbols, ingest runs, the request
 * ledger, the model and evaluation registries, universes, and the schema
 * version.  One schema behind a URL (MLflow's convention): sqlite:///PATH
 * (a file; a bare path means the same) or postgresql://USER@HOST:PORT/DB
 * (libpq; several machines can share it).  Both backends behave the same
 * through this API; lib/store/meta_migrate.c says where their DDL differs.
 *
 * Schema (version 1, plus the models table in version 2, the universes in 3):
 *   schema_version(version INTEGER NOT NULL)            -- one row
 *   symbols(symbol TEXT PRIMARY KEY, name, type, region, exchange, currency,
 *           sector, industry TEXT, active INTEGER NOT NULL DEFAULT 1,
 *           added_at TEXT NOT NULL, updated_at TEXT NOT NULL)
 *   ingest_runs(id INTEGER PRIMARY KEY, symbol TEXT, provider TEXT,
 *               started_at TEXT, finished_at TEXT, rows INTEGER,
 *               status TEXT CHECK (status IN ('running','ok','failed')),
 *               error TEXT, series_store TEXT (v5))
 *   request_ledger(day TEXT, key_fingerprint TEXT, requests INTEGER,
 *                  PRIMARY KEY(day, key_fingerprint))
 *   models(id TEXT PRIMARY KEY, algorithm, feature_set TEXT, horizon INTEGER,
 *          params, metrics, feature_names, symbols, segments TEXT (JSON),
 *          data_fingerprint, model_path, created_at TEXT)      -- v2
 *   universes(name TEXT PRIMARY KEY COLLATE NOCASE, source TEXT, created_at TEXT,
 *             symbols INTEGER, intervals INTEGER, first_date TEXT,
 *             last_date TEXT)                                  -- v3
 *   universe_members(universe TEXT REFERENCES universes ON DELETE CASCADE,
 *                    symbol TEXT, start_date TEXT, end_date TEXT,
 *                    PRIMARY KEY (universe, symbol, start_date))  -- v3
 *   evaluations(...)                                           -- v4
 *   lake_files(id INTEGER PRIMARY KEY, table_name TEXT, part TEXT,
 *              path TEXT UNIQUE (relative to the lake), rows INTEGER,
 *              written_by TEXT, written_at TEXT,
 *              replaced_at TEXT (NULL while live))             -- v6
 * Times are UTC ISO-8601 text ("2026-11-24T03:30:00Z"); days "YYYY-MM-DD".
 *
 * Opening migrates an older schema forward in one transaction; a schema newer
 * than this build fails with QUANT_ESCHEMA.  Every value goes through bound
 * parameters, never into SQL text.
 *
 * Ownership: open allocates, close frees; list functions return malloc'd arrays
 * the caller frees with free().
 */
#ifndef QUANT_META_STORE_H
#define QUANT_META_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/symbol_info.h"

#define QUANT_META_SCHEMA_VERSION 6

struct quant_meta_store;

/*
 * Open (creating or migrating) the store `url` names: sqlite:///PATH, a bare
 * file path, or postgresql://... (QUANT_ECONFIG for another scheme).
 * busy_timeout_ms: how long to wait for another writer (SQLite's busy
 * timeout; PostgreSQL's lock_timeout and, rounded up to seconds, its
 * connect timeout).  Messages name a URL with its password masked.
 */
enum quant_code quant_meta_store_open(const char *url, long busy_timeout_ms,
                                      struct quant_meta_store **out, struct quant_err *err);

/*
 * Open an existing store for reading only (`quant status`, the dashboard):
 * never creates, migrates or writes.  A SQLite file in a folder this user may
 * not write (an archive, a read-only mount) still opens: WAL mode needs to
 * create a -shm file even to read, so when it cannot, the file is read as
 * immutable (nobody can be writing it there).  A PostgreSQL session is made
 * read-only.  A store of an older schema is refused with QUANT_ESCHEMA ("run
 * quant init-db"), a newer one likewise; a missing file is QUANT_ENOTFOUND.
 * found_version (may be NULL) gets the schema version read, also when the
 * store is refused for it (a reader can tell "older" from "newer"), or -1
 * when none was read.
 */
enum quant_code quant_meta_store_open_read_only(const char *url, long busy_timeout_ms,
                                                struct quant_meta_store **out,
                                                int *found_version, struct quant_err *err);
void quant_meta_store_close(struct quant_meta_store *store);

/* The schema version found when opening (before migration), 0 for a new store. */
int quant_meta_store_found_version(const struct quant_meta_store *store);

/* "SQLite" or "PostgreSQL" (static text). */
const char *quant_meta_store_backend(const struct quant_meta_store *store);

/*
 * Name the series store this process ingests into ("host:/path/quant.duckdb";
 * copied; "" = none).  Runs begun from here on record it, and
 * quant_meta_runs_close_stale closes only runs of that series store (and
 * runs that recorded none), so on a registry several machines share a
 * writer never marks another machine's live ingest as interrupted.
 */
void quant_meta_store_set_series(struct quant_meta_store *store, const char *series);

struct quant_symbol_record {
    struct quant_symbol_info info;
    int active;
    char inactive_reason[256]; /* inactive: the error of its last failed run ("" if none) */
    int64_t added_at;    /* unix seconds */
    int64_t updated_at;
};

/*
 * Insert the symbol, or update it: non-empty fields of info overwrite stored
 * ones, empty fields keep what is stored.  Sets active = 1.
 * *out_created (may be NULL) says whether the row is new.
 */
enum quant_code quant_meta_symbol_upsert(struct quant_meta_store *store,
                                         const struct quant_symbol_info *info,
                                         int *out_created, struct quant_err *err);

/*
 * Mark a registered symbol active or inactive (the ingest marks one inactive
 * when its vendor says it does not exist; upsert makes it active again).
 * Inactive symbols stay registered but are skipped by list(active_only).
 * QUANT_ENOTFOUND when absent.
 */
enum quant_code quant_meta_symbol_set_active(struct quant_meta_store *store, const char *symbol,
                                             int active, struct quant_err *err);

/* QUANT_ENOTFOUND (with a message saying how to add it) when absent. */
enum quant_code quant_meta_symbol_get(struct quant_meta_store *store, const char *symbol,
                                      struct quant_symbol_record *out, struct quant_err *err);

/* Sorted by symbol.  active_only skips deactivated ones. */
enum quant_code quant_meta_symbol_list(struct quant_meta_store *store, int active_only,
                                       struct quant_symbol_record **out, size_t *out_n,
                                       struct quant_err *err);

/* Delete from the registry (stored prices stay).  QUANT_ENOTFOUND when absent. */
enum quant_code quant_meta_symbol_remove(struct quant_meta_store *store, const char *symbol,
                                         struct quant_err *err);

/*
 * Local registry search: symbols whose symbol or name contains query
 * (case-insensitive), ranked exact symbol > symbol prefix > name prefix >
 * substring, then by symbol.  At most `limit` results (0 = 50).
 */
enum quant_code quant_meta_symbol_search(struct quant_meta_store *store, const char *query,
                                         size_t limit, struct quant_symbol_record **out,
                                         size_t *out_n, struct quant_err *err);

struct quant_ingest_run {
    int64_t id;
    char symbol[QUANT_SYMBOL_MAX + 1];
    char provider[32];
    int64_t started_at;    /* unix seconds */
    int64_t finished_at;   /* 0 while running */
    long rows;
    char status[16];       /* "running", "ok", "failed" */
    char error[512];
};

enum quant_code quant_meta_run_begin(struct quant_meta_store *store, const char *symbol,
                                     const char *provider, int64_t *out_id,
                                     struct quant_err *err);
/* status "ok" or "failed"; error_text may be NULL. */
enum quant_code quant_meta_run_finish(struct quant_meta_store *store, int64_t id,
                                      const char *status, long rows, const char *error_text,
                                      struct quant_err *err);
/*
 * Mark every run still 'running' as failed ("interrupted ...") that wrote
 * into this process's series store (quant_meta_store_set_series; with none
 * set, every run), or recorded none.  Call it only while holding that
 * store's write lock: then no other ingest into it can be running, so such
 * rows belong to a process that was killed or crashed.  *out_closed (may be
 * NULL) gets how many were closed.
 */
enum quant_code quant_meta_runs_close_stale(struct quant_meta_store *store, long *out_closed,
                                           struct quant_err *err);

/*
 * The distinct series stores of runs still 'running' whose series_store
 * starts with prefix (*out: malloc'd strings, free each and the array), and
 * closing the running runs of one series store as interrupted.  For writers
 * whose series store is not a locked file (lake mode names it by host, lake
 * and process): the caller tells a dead process from a live one.
 */
enum quant_code quant_meta_runs_running_series(struct quant_meta_store *store,
                                               const char *prefix, char ***out,
                                               size_t *out_n, struct quant_err *err);
enum quant_code quant_meta_runs_close_series(struct quant_meta_store *store, const char *series,
                                             long *out_closed, struct quant_err *err);

/* Latest run (by id) for the symbol; QUANT_ENOTFOUND when none. */
enum quant_code quant_meta_run_last(struct quant_meta_store *store, const char *symbol,
                                    struct quant_ingest_run *out, struct quant_err *err);

/* Requests counted for (UTC day, key fingerprint). */
enum quant_code quant_meta_ledger_get(struct quant_meta_store *store, int32_t day,
                                      const char *key_fingerprint, long *out_requests,
                                      struct quant_err *err);
enum quant_code quant_meta_ledger_add(struct quant_meta_store *store, int32_t day,
                                      const char *key_fingerprint, long requests,
                                      struct quant_err *err);

/* ---- the model registry (v2) ------------------------------------------- */

/* One registered model.  The JSON strings are malloc'd and owned by the record. */
struct quant_model_record {
    char id[96];                /* "lgb_AAPL_20260115_162246" */
    char algorithm[16];         /* "lightgbm", "xgboost" */
    char feature_set[32];       /* "tech-v1" */
    int horizon;
    char *params_json;          /* {"num_leaves": "31", ...} as given */
    char *metrics_json;         /* every metric of the spec, test segment */
    char *feature_names_json;   /* ["ret_1", ...] in the model's column order */
    char *symbols_json;         /* ["AAPL"] or several for a pooled model */
    char *segments_json;        /* {"AAPL": {"train": [first, last], ...}, ...} */
    char fingerprint[65];       /* of the training data, to recognise a retrain */
    char path[4096];            /* the model file */
    int64_t created_at;         /* unix seconds; 0 = now (insert) */
};

void quant_model_record_release(struct quant_model_record *r);

/* Register a model (the id must be new: QUANT_ESTORE otherwise). */
enum quant_code quant_meta_model_insert(struct quant_meta_store *store,
                                        const struct quant_model_record *r,
                                        struct quant_err *err);

/* QUANT_ENOTFOUND (saying how to list them) when absent. Caller releases *out. */
enum quant_code quant_meta_model_get(struct quant_meta_store *store, const char *id,
                                     struct quant_model_record *out, struct quant_err *err);

/*
 * Models newest first, all or those trained on `symbol` (NULL = all).  *out is
 * malloc'd: release each record, then free the array.
 */
enum quant_code quant_meta_model_list(struct quant_meta_store *store, const char *symbol,
                                      struct quant_model_record **out, size_t *out_n,
                                      struct quant_err *err);

/* ---- universes (v3) ------------------------------------------------------ */

#define QUANT_UNIVERSE_NAME_MAX 64

/* One membership interval: symbol is a member from start to end, both days
 * included (days since 1970-01-01, stored as "YYYY-MM-DD"). */
struct quant_universe_interval {
    char symbol[QUANT_SYMBOL_MAX + 1];  /* normalised */
    int32_t start;
    int32_t end;
};

/* A stored universe, without its intervals. */
struct quant_universe_record {
    char name[QUANT_UNIVERSE_NAME_MAX + 1];
    char source[1024];    /* the members file as it was named to `add` */
    int64_t created_at;   /* unix seconds; the time these members were stored */
    long n_symbols;       /* distinct symbols */
    long n_intervals;
    int32_t first;        /* earliest start and latest end, days */
    int32_t last;
};

/*
 * Store a universe: rec (created_at 0 = now) and its n intervals, in one
 * transaction.  A universe of that name (names compare without case) is
 * swapped whole when replace is set, else refused with QUANT_EINVAL saying
 * to add --replace; *out_replaced (may be NULL) says which happened.  The
 * caller validates the intervals (universe.h does); the store only refuses
 * an empty list or start > end.
 */
enum quant_code quant_meta_universe_put(struct quant_meta_store *store,
                                        const struct quant_universe_record *rec,
                                        const struct quant_universe_interval *iv, size_t n,
                                        int replace, int *out_replaced, struct quant_err *err);

/* Every universe, by name.  *out malloc'd; the caller frees it. */
enum quant_code quant_meta_universe_list(struct quant_meta_store *store,
                                         struct quant_universe_record **out, size_t *out_n,
                                         struct quant_err *err);

/*
 * One universe by name: its record, and with out_iv non-NULL its intervals
 * sorted by symbol then start (*out_iv malloc'd; the caller frees it).
 * QUANT_ENOTFOUND saying how to list them when there is none.
 */
enum quant_code quant_meta_universe_get(struct quant_meta_store *store, const char *name,
                                        struct quant_universe_record *out,
                                        struct quant_universe_interval **out_iv,
                                        size_t *out_n, struct quant_err *err);

/* Delete a universe and its intervals; *out (may be NULL) gets what was
 * removed.  QUANT_ENOTFOUND when there is none. */
enum quant_code quant_meta_universe_remove(struct quant_meta_store *store, const char *name,
                                           struct quant_universe_record *out,
                                           struct quant_err *err);

/*
 * The universe's symbols that no ingest has stored bars for (no run of
 * theirs ended 'ok'), sorted: the registry's cheap answer to "is this symbol
 * a typo?", never a read of the series store.  *out malloc'd, as is each
 * name: free with quant_strings_free.
 */
enum quant_code quant_meta_universe_without_bars(struct quant_meta_store *store,
                                                 const char *name, char ***out, size_t *out_n,
                                                 struct quant_err *err);

/* ---- evaluations (v4) ------------------------------------------------------ */

struct quant_evaluation_record {
    char id[64];                /* "ev_20261205_213000" */
    char target_kind[8];        /* "run" or "model" */
    char target[96];            /* the walk-forward run or model id */
    char features[32];
    int horizon;
    char *params_json;          /* {"topk": 50, ...} */
    char *metrics_json;         /* the spec's names: {"ic": ..., "sharpe": ...} */
    int64_t created_at;         /* unix seconds; 0 = now (insert) */
};

void quant_evaluation_record_release(struct quant_evaluation_record *r);
/* QUANT_ESTORE when the id is taken. */
enum quant_code quant_meta_evaluation_insert(struct quant_meta_store *store,
                                             const struct quant_evaluation_record *r,
                                             struct quant_err *err);
/* QUANT_ENOTFOUND when absent.  Caller releases *out. */
enum quant_code quant_meta_evaluation_get(struct quant_meta_store *store, const char *id,
                                          struct quant_evaluation_record *out,
                                          struct quant_err *err);
/* Newest first; *out malloc'd: release each record, then free the array. */
enum quant_code quant_meta_evaluation_list(struct quant_meta_store *store,
                                           struct quant_evaluation_record **out, size_t *out_n,
                                           struct quant_err *err);

/* ---- the lake's catalogue (v6) --------------------------------------------
 * In lake mode (services/lake.h) the series live in Parquet files under a
 * shared folder; this table says which files make up each partition (a
 * table's rows for one symbol, or one run).  Readers take only the live
 * files, so a file that was written but never swapped in, or one replaced
 * but not yet deleted, is never read twice. */

struct quant_lake_file {
    int64_t id;
    char table[64];   /* "ohlcv", "labels", ... */
    char part[160];   /* the partition's key value: a symbol, a run id */
    char path[512];   /* relative to the lake: "ohlcv/symbol=AAPL/<uuid>.parquet" */
    int64_t rows;
};

/* Every live file, ordered by (table, part, id).  *out malloc'd; caller frees. */
enum quant_code quant_meta_lake_live(struct quant_meta_store *store,
                                     struct quant_lake_file **out, size_t *out_n,
                                     struct quant_err *err);

/* One partition's new content, and the live set its writer started from. */
struct quant_lake_swap {
    const char *table;
    const char *part;
    size_t expect_n;       /* live files read before (0: none) */
    int64_t expect_max;    /* the newest of their ids (0: none) */
    const struct quant_lake_file *files; /* new files: path and rows (n_files 0: now empty) */
    size_t n_files;
};

/*
 * Swap partitions in one write transaction: every partition's live set must
 * still be the one its writer read (otherwise QUANT_ECONFLICT, naming the
 * partition, and nothing changes), then the old files are marked replaced
 * and the new ones recorded as live.  *old (may be NULL) gets the replaced
 * files, for the caller to delete: malloc'd, caller frees.
 */
enum quant_code quant_meta_lake_swap(struct quant_meta_store *store,
                                     const struct quant_lake_swap *swaps, size_t n,
                                     const char *written_by, struct quant_lake_file **old,
                                     size_t *n_old, struct quant_err *err);

#endif
