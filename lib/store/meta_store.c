/*
 * meta_store.c: opening the metadata store (meta_store.h) behind a URL, and
 * the helpers the table-family files share over the backend seam.  The
 * schema and its migrations live in meta_migrate.c.
 */
#define _GNU_SOURCE
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/clock.h"
#include "quant/config.h"
#include "core/banned.h"

/* ---- helpers ------------------------------------------------------------- */

enum quant_code quant_meta_db_error_(struct quant_meta_store *s, const char *what,
                                     struct quant_err *err)
{
    return s->drv->error(s->conn, s->where, what, err);
}

enum quant_code quant_meta_exec_(struct quant_meta_store *s, const char *sql, const char *what,
                                 struct quant_err *err)
{
    return s->drv->exec(s->conn, sql) ? quant_meta_db_error_(s, what, err) : QUANT_OK;
}

enum quant_code quant_meta_prep_(struct quant_meta_store *s, const char *sql,
                                 struct meta_stmt **st, struct quant_err *err)
{
    if (s->drv->prepare(s->conn, sql, st))
        return quant_meta_db_error_(s, "preparing a statement", err);
    return QUANT_OK;
}

enum quant_code quant_meta_step_done_(struct quant_meta_store *s, struct meta_stmt *st,
                                      const char *what, int64_t *changes,
                                      struct quant_err *err)
{
    int rc = meta_step(st);
    enum quant_code q = rc == META_FAIL ? quant_meta_db_error_(s, what, err) : QUANT_OK;
    if (changes)
        *changes = rc == META_DONE ? meta_changes(st) : 0;
    meta_finalize(st);
    return q;
}

enum quant_code quant_meta_begin_(struct quant_meta_store *s, enum meta_tx tx, const char *what,
                                  struct quant_err *err)
{
    return s->drv->begin(s->conn, tx) ? quant_meta_db_error_(s, what, err) : QUANT_OK;
}

enum quant_code quant_meta_commit_(struct quant_meta_store *s, const char *what,
                                   struct quant_err *err)
{
    return quant_meta_exec_(s, "COMMIT", what, err);
}

void quant_meta_rollback_(struct quant_meta_store *s) { s->drv->exec(s->conn, "ROLLBACK"); }

void quant_meta_iso_time_(int64_t t, char out[32])
{
    if (!quant_utc_format(t, QUANT_UTC_ISO, out, 32)[0])
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int64_t quant_meta_parse_iso_(const char *txt)
{
    int32_t days;
    if (!txt || quant_date_parse(txt, strlen(txt), &days) != 0)
        return 0;
    int h = 0, m = 0, sec = 0;
    if (strlen(txt) >= 19)
        sscanf(txt + 11, "%2d:%2d:%2d", &h, &m, &sec);
    return (int64_t)days * 86400 + h * 3600 + m * 60 + sec;
}

void quant_meta_col_text_(struct meta_stmt *st, int col, char *out, size_t cap)
{
    const char *t = meta_column_text(st, col);
    snprintf(out, cap, "%s", t ? t : "");
}

char *quant_meta_col_dup_(struct meta_stmt *st, int col, const char *dflt)
{
    const char *t = meta_column_text(st, col);
    return strdup(t ? t : dflt ? dflt : "");
}

void quant_meta_bind_text_(struct meta_stmt *st, int i, const char *v)
{
    meta_bind_text(st, i, v ? v : "");
}

/* ---- opening --------------------------------------------------------------- */

static enum quant_code open_any(const char *url, int read_only, long busy_timeout_ms,
                                struct quant_meta_store **out, int *found,
                                struct quant_err *err)
{
    *out = NULL;
    if (found)
        *found = -1;
    if (!url || !*url)
        return quant_err_set(err, QUANT_EINVAL,
                             "metadata store: a URL (sqlite:///PATH or postgresql://...) or a "
                             "file path is required");
    const char *path = quant_meta_url_sqlite_path(url);
    if (!path && !quant_meta_url_is_postgres(url)) {
        char shown[1024];
        quant_meta_url_mask(url, shown, sizeof shown);
        return quant_err_set(err, QUANT_ECONFIG,
                             "metadata store URL '%s' is neither sqlite:///PATH nor "
                             "postgresql://USER@HOST:PORT/DB",
                             shown);
    }
    if (path && !*path)
        return quant_err_set(err, QUANT_ECONFIG,
                             "metadata store URL '%s' names no file (sqlite:///PATH)", url);
    struct quant_meta_store *s = calloc(1, sizeof *s);
    if (!s)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    enum quant_code rc;
    if (path) {
        snprintf(s->where, sizeof s->where, "%s", path);
        rc = meta_sqlite_open(path, read_only, busy_timeout_ms, &s->drv, &s->conn, err);
    } else {
        /* Never the password in a message: name the store by its masked URL. */
        quant_meta_url_mask(url, s->where, sizeof s->where);
        rc = meta_pg_open(url, s->where, read_only, busy_timeout_ms, &s->drv, &s->conn, err);
    }
    if (!rc && !read_only)
        rc = quant_meta_migrate_(s, err);
    if (!rc && read_only) {
        int v = 0;
        rc = quant_meta_read_version_(s, &v, err);
        s->found_version = v;
        if (!rc && found)
            *found = v; /* kept when refused: a reader tells older from newer */
        if (!rc && v != QUANT_META_SCHEMA_VERSION)
            rc = quant_err_set(err, QUANT_ESCHEMA,
                               "metadata store %s has schema version %d and this quant reads "
                               "version %d: %s",
                               s->where, v, QUANT_META_SCHEMA_VERSION,
                               v > QUANT_META_SCHEMA_VERSION
                                   ? "upgrade quant"
                                   : "run `quant init-db` once (where the store is writable) "
                                     "to migrate it");
    }
    if (rc) {
        quant_meta_store_close(s);
        return rc;
    }
    *out = s;
    return QUANT_OK;
}

enum quant_code quant_meta_store_open(const char *url, long busy_timeout_ms,
                                      struct quant_meta_store **out, struct quant_err *err)
{
    return open_any(url, 0, busy_timeout_ms, out, NULL, err);
}

enum quant_code quant_meta_store_open_read_only(const char *url, long busy_timeout_ms,
                                                struct quant_meta_store **out,
                                                int *found_version, struct quant_err *err)
{
    return open_any(url, 1, busy_timeout_ms, out, found_version, err);
}

void quant_meta_store_close(struct quant_meta_store *s)
{
    if (!s)
        return;
    if (s->drv)
        s->drv->close(s->conn);
    free(s);
}

int quant_meta_store_found_version(const struct quant_meta_store *s)
{
    return s->found_version;
}

const char *quant_meta_store_backend(const struct quant_meta_store *s)
{
    return s->drv->name;
}

void quant_meta_store_set_series(struct quant_meta_store *s, const char *series)
{
    snprintf(s->series, sizeof s->series, "%s", series ? series : "");
}
