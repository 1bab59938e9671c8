/*
 * meta_lake.c: the lake's catalogue in the metadata store (schema v6): which
 * Parquet files are live for each (table, partition).
 *
 * Why the registry and not the folder listing: a writer first puts its
 * files in place, then swaps them in here, then deletes the files they
 * replace.  Between those steps the folder holds both, and a writer killed
 * in between leaves a file nobody swapped in.  The registry's live set is
 * right at every instant, on a registry several machines share.
 */
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

static void read_file_row(struct meta_stmt *st, struct quant_lake_file *f)
{
    memset(f, 0, sizeof *f);
    f->id = meta_column_int64(st, 0);
    quant_meta_col_text_(st, 1, f->table, sizeof f->table);
    quant_meta_col_text_(st, 2, f->part, sizeof f->part);
    quant_meta_col_text_(st, 3, f->path, sizeof f->path);
    f->rows = meta_column_int64(st, 4);
}

/* Rows of a statement appended to a growing array. */
static enum quant_code collect(struct quant_meta_store *s, struct meta_stmt *st,
                               const char *what, struct quant_lake_file **v, size_t *n,
                               size_t *cap, struct quant_err *err)
{
    int step;
    while ((step = meta_step(st)) == META_ROW) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            struct quant_lake_file *g = realloc(*v, nc * sizeof *g);
            if (!g)
                return quant_err_set(err, QUANT_ENOMEM, "out of memory %s", what);
            *v = g;
            *cap = nc;
        }
        read_file_row(st, &(*v)[(*n)++]);
    }
    return step == META_DONE ? QUANT_OK : quant_meta_db_error_(s, what, err);
}

enum quant_code quant_meta_lake_live(struct quant_meta_store *s, struct quant_lake_file **out,
                                     size_t *out_n, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                                          "SELECT id, table_name, part, path, rows FROM lake_files"
                                          " WHERE replaced_at IS NULL ORDER BY table_name, part, id",
                                          &st, err);
    if (rc)
        return rc;
    size_t cap = 0;
    rc = collect(s, st, "reading the lake's files", out, out_n, &cap, err);
    meta_finalize(st);
    if (rc) {
        free(*out);
        *out = NULL;
        *out_n = 0;
    }
    return rc;
}

/* The partition's live set as (count, newest id), and its files appended to old. */
static enum quant_code live_set(struct quant_meta_store *s, const struct quant_lake_swap *sw,
                                struct quant_lake_file **old, size_t *n_old, size_t *cap,
                                size_t *count, int64_t *max_id, struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                                          "SELECT id, table_name, part, path, rows FROM lake_files"
                                          " WHERE table_name = ?1 AND part = ?2"
                                          " AND replaced_at IS NULL ORDER BY id",
                                          &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, sw->table);
    quant_meta_bind_text_(st, 2, sw->part);
    size_t before = *n_old;
    rc = collect(s, st, "reading a partition's files", old, n_old, cap, err);
    meta_finalize(st);
    *count = *n_old - before;
    *max_id = 0;
    for (size_t k = before; k < *n_old; k++)
        if ((*old)[k].id > *max_id)
            *max_id = (*old)[k].id;
    return rc;
}

static enum quant_code swap_one(struct quant_meta_store *s, const struct quant_lake_swap *sw,
                                const char *written_by, const char *now,
                                struct quant_lake_file **old, size_t *n_old, size_t *cap,
                                struct quant_err *err)
{
    size_t count = 0;
    int64_t max_id = 0;
    enum quant_code rc = live_set(s, sw, old, n_old, cap, &count, &max_id, err);
    if (rc)
        return rc;
    if (count != sw->expect_n || max_id != sw->expect_max)
        return quant_err_set(err, QUANT_ECONFLICT,
                             "lake partition %s/%s was rewritten by another run while this one "
                             "worked (it read %zu file(s), now %zu); nothing of this run was "
                             "published: run it again",
                             sw->table, sw->part, sw->expect_n, count);
    struct meta_stmt *st;
    if (count) {
        if ((rc = quant_meta_prep_(s,
                                   "UPDATE lake_files SET replaced_at = ?3 WHERE table_name = ?1"
                                   " AND part = ?2 AND replaced_at IS NULL",
                                   &st, err)))
            return rc;
        quant_meta_bind_text_(st, 1, sw->table);
        quant_meta_bind_text_(st, 2, sw->part);
        quant_meta_bind_text_(st, 3, now);
        if ((rc = quant_meta_step_done_(s, st, "replacing a partition's files", NULL, err)))
            return rc;
    }
    for (size_t k = 0; k < sw->n_files && !rc; k++) {
        if ((rc = quant_meta_prep_(s,
                                   "INSERT INTO lake_files (table_name, part, path, rows,"
                                   " written_by, written_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                   &st, err)))
            return rc;
        quant_meta_bind_text_(st, 1, sw->table);
        quant_meta_bind_text_(st, 2, sw->part);
        quant_meta_bind_text_(st, 3, sw->files[k].path);
        meta_bind_int64(st, 4, sw->files[k].rows);
        quant_meta_bind_text_(st, 5, written_by);
        quant_meta_bind_text_(st, 6, now);
        rc = quant_meta_step_done_(s, st, "recording a lake file", NULL, err);
    }
    return rc;
}

enum quant_code quant_meta_lake_swap(struct quant_meta_store *s,
                                     const struct quant_lake_swap *swaps, size_t n,
                                     const char *written_by, struct quant_lake_file **old,
                                     size_t *n_old, struct quant_err *err)
{
    struct quant_lake_file *gone = NULL;
    size_t ngone = 0, cap = 0;
    if (old) {
        *old = NULL;
        *n_old = 0;
    }
    if (n == 0)
        return QUANT_OK;
    char now[32];
    quant_meta_iso_time_((int64_t)time(NULL), now);
    enum quant_code rc = quant_meta_begin_(s, META_TX_WRITE, "publishing to the lake", err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = swap_one(s, &swaps[i], written_by, now, &gone, &ngone, &cap, err);
    if (!rc)
        rc = quant_meta_commit_(s, "publishing to the lake", err);
    if (rc) {
        quant_meta_rollback_(s);
        free(gone);
        return rc;
    }
    if (old) {
        *old = gone;
        *n_old = ngone;
    } else {
        free(gone);
    }
    return QUANT_OK;
}
