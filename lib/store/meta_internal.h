/*
 * meta_internal.h: what the files of the metadata store share (inside
 * lib/store only): the handle, and helpers over the backend seam (meta_db.h)
 * that turn a driver's answers into quant codes once.  One file per part:
 *
 *   meta_store.c       opening a URL or path, these helpers
 *   meta_migrate.c     the schema of both dialects and its migrations
 *   meta_sqlite.c      the SQLite driver
 *   meta_pg.c          the PostgreSQL driver
 *   meta_symbols.c     the symbol registry
 *   meta_runs.c        ingest runs and the request ledger
 *   meta_models.c      the model registry
 *   meta_evaluations.c the evaluation registry
 *   meta_universes.c   universes and their membership intervals
 *
 * The table-family files never see a driver: one SQL text per statement.
 */
#ifndef QUANT_META_INTERNAL_H
#define QUANT_META_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "quant/bars.h"
#include "quant/meta_store.h"
#include "store/meta_db.h"

struct quant_meta_store {
    const struct meta_driver *drv;
    struct meta_conn *conn;   /* owned */
    int found_version;        /* schema version before migrating; 0 for a new store */
    char where[4096];         /* the file, or the URL with its password masked */
    char series[4352];        /* quant_meta_store_set_series; "" = none */
};

/* The store's last failure as a quant code and a message naming what was
 * being done and, where there is one, the remedy. */
enum quant_code quant_meta_db_error_(struct quant_meta_store *s, const char *what,
                                     struct quant_err *err);
enum quant_code quant_meta_exec_(struct quant_meta_store *s, const char *sql, const char *what,
                                 struct quant_err *err);
enum quant_code quant_meta_prep_(struct quant_meta_store *s, const char *sql,
                                 struct meta_stmt **st, struct quant_err *err);
/* Run a statement that returns no rows (or whose rows do not matter), then
 * finalize it; *changes (may be NULL) gets the rows it wrote. */
enum quant_code quant_meta_step_done_(struct quant_meta_store *s, struct meta_stmt *st,
                                      const char *what, int64_t *changes,
                                      struct quant_err *err);
enum quant_code quant_meta_begin_(struct quant_meta_store *s, enum meta_tx tx, const char *what,
                                  struct quant_err *err);
enum quant_code quant_meta_commit_(struct quant_meta_store *s, const char *what,
                                   struct quant_err *err);
/* Best effort: after a failure there is nothing more to report. */
void quant_meta_rollback_(struct quant_meta_store *s);

/* Times are stored as UTC ISO-8601 text. */
void quant_meta_iso_time_(int64_t t, char out[32]);
int64_t quant_meta_parse_iso_(const char *txt);
void quant_meta_col_text_(struct meta_stmt *st, int col, char *out, size_t cap);
/* A malloc'd copy of the column ("" for NULL, or `dflt` when not NULL). */
char *quant_meta_col_dup_(struct meta_stmt *st, int col, const char *dflt);
/* NULL binds as "". */
void quant_meta_bind_text_(struct meta_stmt *st, int i, const char *v);

/* meta_migrate.c: read the schema version (0 when there is no schema yet)
 * and bring the schema up to QUANT_META_SCHEMA_VERSION in one transaction
 * (s->found_version gets the version found). */
enum quant_code quant_meta_read_version_(struct quant_meta_store *s, int *out,
                                         struct quant_err *err);
enum quant_code quant_meta_migrate_(struct quant_meta_store *s, struct quant_err *err);

#endif
