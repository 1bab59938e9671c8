/*
 * meta_internal.h: what the files of the SQLite metadata store share (inside
 * lib/store only): the handle, and the helpers that turn SQLite's answers
 * into quant codes once.  One file per table family:
 *
 *   meta_store.c    opening, migrations, these helpers
 *   meta_symbols.c  the symbol registry
 *   meta_runs.c     ingest runs and the request ledger
 *   meta_models.c   the model registry
 *   meta_evaluations.c the evaluation registry
 *   meta_universes.c  universes and their membership intervals
 *
 * These are the only files that include sqlite3.h.
 */
#ifndef QUANT_META_INTERNAL_H
#define QUANT_META_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "quant/meta_store.h"

struct quant_meta_store {
    sqlite3 *db;
    int found_version; /* schema version before migrating; 0 for a new file */
    char path[4096];
};

/* The store's last SQLite error as a quant code and a message naming what
 * was being done and, where there is one, the remedy. */
enum quant_code quant_meta_db_error_(struct quant_meta_store *s, const char *what,
                                     struct quant_err *err);
enum quant_code quant_meta_exec_(struct quant_meta_store *s, const char *sql, const char *what,
                                 struct quant_err *err);
enum quant_code quant_meta_prep_(struct quant_meta_store *s, const char *sql, sqlite3_stmt **st,
                                 struct quant_err *err);
/* Run a statement that returns no rows, then finalize it. */
enum quant_code quant_meta_step_done_(struct quant_meta_store *s, sqlite3_stmt *st,
                                      const char *what, struct quant_err *err);
/* Times are stored as UTC ISO-8601 text. */
void quant_meta_iso_time_(int64_t t, char out[32]);
int64_t quant_meta_parse_iso_(const unsigned char *txt);
void quant_meta_col_text_(sqlite3_stmt *st, int col, char *out, size_t cap);
void quant_meta_bind_text_(sqlite3_stmt *st, int i, const char *v);

#endif
