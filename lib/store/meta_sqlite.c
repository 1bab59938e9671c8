/*
 * meta_sqlite.c: the SQLite driver of the metadata store (meta_db.h): one
 * file, WAL mode, foreign keys on.  The only file that includes sqlite3.h.
 */
#define _GNU_SOURCE
#include "store/meta_db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/banned.h"

struct meta_conn {
    sqlite3 *db;
};

struct sqlite_stmt {
    struct meta_stmt base; /* first: the seam dispatches through it */
    struct meta_conn *c;
    sqlite3_stmt *st;
    int64_t changes;
};

static const struct meta_driver sqlite_driver;

static sqlite3_stmt *raw(struct meta_stmt *st) { return ((struct sqlite_stmt *)st)->st; }

static int s_prepare(struct meta_conn *c, const char *sql, struct meta_stmt **out)
{
    *out = NULL;
    struct sqlite_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s->st, NULL) != SQLITE_OK) {
        free(s);
        return -1;
    }
    s->base.drv = &sqlite_driver;
    s->c = c;
    *out = &s->base;
    return 0;
}

static void s_bind_text(struct meta_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(raw(st), i, v ? v : "", -1, SQLITE_TRANSIENT);
}
static void s_bind_int64(struct meta_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(raw(st), i, (sqlite3_int64)v);
}
static void s_bind_double(struct meta_stmt *st, int i, double v)
{
    sqlite3_bind_double(raw(st), i, v);
}
static void s_bind_null(struct meta_stmt *st, int i) { sqlite3_bind_null(raw(st), i); }

static int s_step(struct meta_stmt *st)
{
    struct sqlite_stmt *s = (struct sqlite_stmt *)st;
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return META_ROW;
    if (rc == SQLITE_DONE) {
        /* sqlite3_changes counts the last INSERT/UPDATE/DELETE; a SELECT
         * leaves it alone, so count only statements that write. */
        s->changes = sqlite3_stmt_readonly(s->st) ? 0 : sqlite3_changes(s->c->db);
        return META_DONE;
    }
    return META_FAIL;
}

static void s_reset(struct meta_stmt *st) { sqlite3_reset(raw(st)); }

static void s_finalize(struct meta_stmt *st)
{
    sqlite3_finalize(raw(st));
    free(st);
}

static const char *s_column_text(struct meta_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(raw(st), col);
}
static int64_t s_column_int64(struct meta_stmt *st, int col)
{
    return sqlite3_column_int64(raw(st), col);
}
static double s_column_double(struct meta_stmt *st, int col)
{
    return sqlite3_column_double(raw(st), col);
}
static int64_t s_changes(struct meta_stmt *st) { return ((struct sqlite_stmt *)st)->changes; }

static int s_exec(struct meta_conn *c, const char *sql)
{
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK;
}

static int s_begin(struct meta_conn *c, enum meta_tx tx)
{
    /* IMMEDIATE takes the write lock first: two writers queue on the busy
     * timeout instead of one failing when it upgrades a read lock. */
    return s_exec(c, tx == META_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

static enum quant_code s_error(struct meta_conn *c, const char *where, const char *what,
                               struct quant_err *err)
{
    if (!c || !c->db)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store %s: out of memory", where);
    int ec = sqlite3_errcode(c->db);
    const char *m = sqlite3_errmsg(c->db);
    if (ec == SQLITE_BUSY || ec == SQLITE_LOCKED)
        return quant_err_set(err, QUANT_ELOCKED,
                             "metadata store %s: %s: the database is busy (another quant "
                             "process is writing); try again when it has finished",
                             where, what);
    if (ec == SQLITE_NOTADB)
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s is not a SQLite database; quant left it "
                             "untouched: check what it is and move it aside",
                             where);
    if (ec == SQLITE_CORRUPT)
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s is truncated or damaged (SQLite: %s); quant "
                             "left it untouched: restore it from a backup, or move it aside "
                             "and run `quant init-db` (the symbol registry and run history "
                             "then start empty)",
                             where, m);
    /* SQLite's words name no remedy for the causes a user can fix. */
    const char *advice = "";
    if (ec == SQLITE_FULL)
        advice = "; the disk is full: free some space and run the command again";
    else if (ec == SQLITE_READONLY || ec == SQLITE_CANTOPEN || ec == SQLITE_PERM)
        advice = "; quant needs to write the file and create files beside it (-wal, -shm): "
                 "make its folder writable for this user, or point QUANT_HOME at a folder "
                 "that is";
    return quant_err_set(err, QUANT_ESTORE, "metadata store %s: %s: %s%s", where, what, m,
                         advice);
}

static void s_close(struct meta_conn *c)
{
    if (!c)
        return;
    sqlite3_close_v2(c->db);
    free(c);
}

static const struct meta_driver sqlite_driver = {
    .dialect = META_SQLITE,
    .name = "SQLite",
    .prepare = s_prepare,
    .bind_text = s_bind_text,
    .bind_int64 = s_bind_int64,
    .bind_double = s_bind_double,
    .bind_null = s_bind_null,
    .step = s_step,
    .reset = s_reset,
    .finalize = s_finalize,
    .column_text = s_column_text,
    .column_int64 = s_column_int64,
    .column_double = s_column_double,
    .changes = s_changes,
    .exec = s_exec,
    .begin = s_begin,
    .error = s_error,
    .close = s_close,
};

static int open_db(struct meta_conn *c, const char *name, int flags, long busy_timeout_ms)
{
    int rc = sqlite3_open_v2(name, &c->db, flags, NULL);
    if (c->db) {
        sqlite3_extended_result_codes(c->db, 0);
        sqlite3_busy_timeout(c->db, busy_timeout_ms > 0 ? (int)busy_timeout_ms : 0);
    }
    return rc;
}

/* Reading the catalogue is where a non-database, or a missing -shm that
 * cannot be created, first shows. */
static int probe(struct meta_conn *c)
{
    return s_exec(c, "SELECT count(*) FROM sqlite_master");
}

static enum quant_code open_rw(struct meta_conn *c, const char *path, long busy_timeout_ms,
                               struct quant_err *err)
{
    if (open_db(c, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_timeout_ms) !=
        SQLITE_OK) {
        if (!c->db)
            return quant_err_set(err, QUANT_ENOMEM, "metadata store %s: out of memory", path);
        return quant_err_set(err, QUANT_ESTORE,
                             "cannot open metadata store %s: %s; check that its directory "
                             "exists and is writable",
                             path, sqlite3_errmsg(c->db));
    }
    static const char *const pragmas[][2] = {
        {"PRAGMA journal_mode = WAL", "enabling WAL"},
        {"PRAGMA foreign_keys = ON", "enabling foreign keys"},
        {"PRAGMA synchronous = NORMAL", "setting synchronous"},
    };
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++)
        if (s_exec(c, pragmas[i][0]))
            return s_error(c, path, pragmas[i][1], err);
    return QUANT_OK;
}

static enum quant_code open_ro(struct meta_conn *c, const char *path, long busy_timeout_ms,
                               struct quant_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return quant_err_set(err, QUANT_ENOTFOUND,
                             "no metadata store at %s: run `quant init-db` first", path);
    int orc = open_db(c, path, SQLITE_OPEN_READONLY, busy_timeout_ms);
    if (orc == SQLITE_OK && !probe(c))
        return QUANT_OK;
    int ec = c->db ? sqlite3_errcode(c->db) : SQLITE_NOMEM;
    if (ec != SQLITE_CANTOPEN && ec != SQLITE_READONLY)
        return s_error(c, path, "opening", err);
    /* WAL mode needs a -shm file even to read; with no right to create one,
     * read the file as immutable (nobody can be writing it there).  The URI
     * wants the path percent-encoded where it has '%', '?' or '#'. */
    sqlite3_close_v2(c->db);
    c->db = NULL;
    char uri[PATH_MAX * 3 + 32];
    size_t o = (size_t)snprintf(uri, sizeof uri, "file:");
    for (const char *p = path; *p && o + 4 < sizeof uri; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X", (unsigned char)*p);
        else
            uri[o++] = *p;
    }
    snprintf(uri + o, sizeof uri - o, "?immutable=1");
    if (open_db(c, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_timeout_ms) != SQLITE_OK ||
        probe(c))
        return s_error(c, path, "opening", err);
    return QUANT_OK;
}

enum quant_code meta_sqlite_open(const char *path, int read_only, long busy_timeout_ms,
                                 const struct meta_driver **drv, struct meta_conn **out,
                                 struct quant_err *err)
{
    *out = NULL;
    *drv = &sqlite_driver;
    struct meta_conn *c = calloc(1, sizeof *c);
    if (!c)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    enum quant_code rc = read_only ? open_ro(c, path, busy_timeout_ms, err)
                                   : open_rw(c, path, busy_timeout_ms, err);
    if (rc) {
        s_close(c);
        return rc;
    }
    *out = c;
    return QUANT_OK;
}
