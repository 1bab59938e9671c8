/*
 * meta_store.c: the SQLite metadata store behind meta_store.h (symbols, ingest
 * runs, the request ledger, the model registry, universes).  With the other meta_*.c
 * files (meta_internal.h) the only code that includes sqlite3.h: SQLite
 * errors become quant codes here, once (quant_meta_db_error_).  Every value travels as a bound
 * parameter, never inside SQL text; times are stored as UTC ISO-8601 text.
 * Migrations are a table of SQL steps per version applied in one transaction,
 * so a crash mid-migration leaves the previous version intact.  It must not
 * print or exit.
 *
 * This file opens and migrates the store and holds the helpers the other
 * meta_*.c files share (meta_internal.h).
 */
#define _GNU_SOURCE
#include "store/meta_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "quant/clock.h"
#include "core/banned.h"


/* migrations[v] takes a version-v database to version v+1. */
static const char *const migration_v1[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (0)",
    "CREATE TABLE symbols (symbol TEXT PRIMARY KEY, name TEXT, type TEXT, region TEXT,"
    " exchange TEXT, currency TEXT, sector TEXT, industry TEXT,"
    " active INTEGER NOT NULL DEFAULT 1, added_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE ingest_runs (id INTEGER PRIMARY KEY, symbol TEXT, provider TEXT,"
    " started_at TEXT, finished_at TEXT, rows INTEGER,"
    " status TEXT CHECK (status IN ('running','ok','failed')), error TEXT)",
    "CREATE INDEX ingest_runs_symbol ON ingest_runs (symbol, id)",
    "CREATE TABLE request_ledger (day TEXT, key_fingerprint TEXT, requests INTEGER,"
    " PRIMARY KEY (day, key_fingerprint))",
    NULL,
};

/* v2: the model registry (quant train / score / models). */
static const char *const migration_v2[] = {
    "CREATE TABLE models (id TEXT PRIMARY KEY, algorithm TEXT NOT NULL,"
    " feature_set TEXT NOT NULL, horizon INTEGER NOT NULL, params TEXT NOT NULL,"
    " metrics TEXT NOT NULL, feature_names TEXT NOT NULL, symbols TEXT NOT NULL,"
    " segments TEXT NOT NULL, data_fingerprint TEXT NOT NULL, model_path TEXT NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX models_created ON models (created_at, id)",
    NULL,
};

/* v3: point-in-time universes (quant universe).  Days are "YYYY-MM-DD" text,
 * as elsewhere in this store, so they sort and compare as dates.  Names
 * compare without case: "SP500" and "sp500" side by side could only be a
 * mistake.  The counts and first/last dates are written with the intervals,
 * in the same transaction, so `universe list` reads one row per universe. */
static const char *const migration_v3[] = {
    "CREATE TABLE universes (name TEXT PRIMARY KEY COLLATE NOCASE, source TEXT NOT NULL,"
    " created_at TEXT NOT NULL, symbols INTEGER NOT NULL, intervals INTEGER NOT NULL,"
    " first_date TEXT NOT NULL, last_date TEXT NOT NULL)",
    "CREATE TABLE universe_members (universe TEXT NOT NULL COLLATE NOCASE"
    " REFERENCES universes (name) ON DELETE CASCADE, symbol TEXT NOT NULL,"
    " start_date TEXT NOT NULL, end_date TEXT NOT NULL, CHECK (start_date <= end_date),"
    " PRIMARY KEY (universe, symbol, start_date)) WITHOUT ROWID",
    NULL,
};

/* v4: the evaluation registry (quant evaluate): what was judged, with which
 * parameters, and every metric, as JSON text; the daily series is in DuckDB
 * (evaluation_daily), joined by id. */
static const char *const migration_v4[] = {
    "CREATE TABLE evaluations (id TEXT PRIMARY KEY, target_kind TEXT NOT NULL"
    " CHECK (target_kind IN ('run', 'model')), target TEXT NOT NULL,"
    " features TEXT NOT NULL, horizon INTEGER NOT NULL, params TEXT NOT NULL,"
    " metrics TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE INDEX evaluations_created ON evaluations (created_at, id)",
    NULL,
};

static const char *const *const migrations[QUANT_META_SCHEMA_VERSION] = {
    migration_v1, migration_v2, migration_v3, migration_v4};

/* ---- helpers ------------------------------------------------------------- */

enum quant_code quant_meta_db_error_(struct quant_meta_store *s, const char *what,
                                struct quant_err *err)
{
    int ec = sqlite3_errcode(s->db);
    const char *m = sqlite3_errmsg(s->db);
    if (ec == SQLITE_BUSY || ec == SQLITE_LOCKED)
        return quant_err_set(err, QUANT_ELOCKED,
                             "metadata store %s: %s: the database is busy (another quant "
                             "process is writing); try again when it has finished",
                             s->path, what);
    if (ec == SQLITE_NOTADB)
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s is not a SQLite database; quant left it "
                             "untouched: check what it is and move it aside",
                             s->path);
    if (ec == SQLITE_CORRUPT)
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s is truncated or damaged (SQLite: %s); quant "
                             "left it untouched: restore it from a backup, or move it aside "
                             "and run `quant init-db` (the symbol registry and run history "
                             "then start empty)",
                             s->path, m);
    /* SQLite's words name no remedy for the causes a user can fix. */
    const char *advice = "";
    if (ec == SQLITE_FULL)
        advice = "; the disk is full: free some space and run the command again";
    else if (ec == SQLITE_READONLY || ec == SQLITE_CANTOPEN || ec == SQLITE_PERM)
        advice = "; quant needs to write the file and create files beside it (-wal, -shm): "
                 "make its folder writable for this user, or point QUANT_HOME at a folder "
                 "that is";
    if (advice[0] || ec == SQLITE_IOERR)
        return quant_err_set(err, QUANT_ESTORE, "metadata store %s: %s: %s%s", s->path, what, m,
                             advice);
    return quant_err_set(err, QUANT_ESTORE, "metadata store %s: %s: %s", s->path, what, m);
}

enum quant_code quant_meta_exec_(struct quant_meta_store *s, const char *sql, const char *what,
                            struct quant_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return quant_meta_db_error_(s, what, err);
    return QUANT_OK;
}

enum quant_code quant_meta_prep_(struct quant_meta_store *s, const char *sql, sqlite3_stmt **st,
                            struct quant_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return quant_meta_db_error_(s, "preparing a statement", err);
    return QUANT_OK;
}

/* Run a statement that returns no rows, then finalize it. */
enum quant_code quant_meta_step_done_(struct quant_meta_store *s, sqlite3_stmt *st, const char *what,
                                 struct quant_err *err)
{
    int rc = sqlite3_step(st);
    enum quant_code q = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? QUANT_OK
                                                                : quant_meta_db_error_(s, what, err);
    sqlite3_finalize(st);
    return q;
}

void quant_meta_iso_time_(int64_t t, char out[32])
{
    if (!quant_utc_format(t, QUANT_UTC_ISO, out, 32)[0])
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int64_t quant_meta_parse_iso_(const unsigned char *txt)
{
    int32_t days;
    if (!txt || quant_date_parse((const char *)txt, strlen((const char *)txt), &days) != 0)
        return 0;
    int h = 0, m = 0, sec = 0;
    if (strlen((const char *)txt) >= 19)
        sscanf((const char *)txt + 11, "%2d:%2d:%2d", &h, &m, &sec);
    return (int64_t)days * 86400 + h * 3600 + m * 60 + sec;
}

void quant_meta_col_text_(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

void quant_meta_bind_text_(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/* ---- opening and migrating ---------------------------------------------- */

static enum quant_code read_version(struct quant_meta_store *s, int *out, struct quant_err *err)
{
    sqlite3_stmt *st;
    *out = 0;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT count(*) FROM sqlite_master "
                              "WHERE type = 'table' AND name = 'schema_version'",
                              &st, err);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    int have = step == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW)
        return quant_meta_db_error_(s, "reading the schema version", err);
    if (!have)
        return QUANT_OK;
    if ((rc = quant_meta_prep_(s, "SELECT max(version) FROM schema_version", &st, err)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return QUANT_OK;
}

static enum quant_code migrate(struct quant_meta_store *s, struct quant_err *err)
{
    /* IMMEDIATE takes the write lock first, so two processes opening a new
     * file at once migrate it one after the other. */
    enum quant_code rc = quant_meta_exec_(s, "BEGIN IMMEDIATE", "starting the migration", err);
    int v = 0;
    if (!rc)
        rc = read_version(s, &v, err);
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    s->found_version = v;
    if (v > QUANT_META_SCHEMA_VERSION) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return quant_err_set(err, QUANT_ESCHEMA,
                             "metadata store %s has schema version %d but this quant supports "
                             "up to %d; upgrade quant",
                             s->path, v, QUANT_META_SCHEMA_VERSION);
    }
    for (; !rc && v < QUANT_META_SCHEMA_VERSION; v++) {
        for (const char *const *step = migrations[v]; *step && !rc; step++)
            rc = quant_meta_exec_(s, *step, "migrating the schema", err);
        sqlite3_stmt *st;
        if (!rc && !(rc = quant_meta_prep_(s, "UPDATE schema_version SET version = ?1", &st, err))) {
            sqlite3_bind_int(st, 1, v + 1);
            rc = quant_meta_step_done_(s, st, "recording the schema version", err);
        }
    }
    if (!rc)
        rc = quant_meta_exec_(s, "COMMIT", "committing the migration", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

enum quant_code quant_meta_store_open(const char *path, long busy_timeout_ms,
                                      struct quant_meta_store **out, struct quant_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return quant_err_set(err, QUANT_EINVAL, "metadata store: a file path is required");
    struct quant_meta_store *s = calloc(1, sizeof *s);
    if (!s)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    int orc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (orc != SQLITE_OK) {
        enum quant_code rc;
        if (!s->db)
            rc = quant_err_set(err, QUANT_ENOMEM, "metadata store %s: out of memory", path);
        else
            rc = quant_err_set(err, QUANT_ESTORE,
                               "cannot open metadata store %s: %s; check that its directory "
                               "exists and is writable",
                               path, sqlite3_errmsg(s->db));
        quant_meta_store_close(s);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, busy_timeout_ms > 0 ? (int)busy_timeout_ms : 0);
    /* The first statement that reads the file is where a non-database shows. */
    enum quant_code rc = quant_meta_exec_(s, "PRAGMA journal_mode = WAL", "enabling WAL", err);
    if (!rc)
        rc = quant_meta_exec_(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err);
    if (!rc)
        rc = quant_meta_exec_(s, "PRAGMA synchronous = NORMAL", "setting synchronous", err);
    if (!rc)
        rc = migrate(s, err);
    if (rc) {
        quant_meta_store_close(s);
        return rc;
    }
    *out = s;
    return QUANT_OK;
}

/* One read-only attempt; the version read is where a missing -shm shows.
 * *found is the version read, kept when the store is refused for it. */
static enum quant_code open_ro_once(struct quant_meta_store *s, const char *name, int flags,
                                    long busy_timeout_ms, int *found, struct quant_err *err)
{
    if (sqlite3_open_v2(name, &s->db, flags, NULL) != SQLITE_OK) {
        if (!s->db)
            return quant_err_set(err, QUANT_ENOMEM, "metadata store %s: out of memory",
                                 s->path);
        return quant_meta_db_error_(s, "opening", err);
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, busy_timeout_ms > 0 ? (int)busy_timeout_ms : 0);
    int v = 0;
    enum quant_code rc = read_version(s, &v, err);
    if (rc)
        return rc;
    s->found_version = v;
    *found = v;
    if (v != QUANT_META_SCHEMA_VERSION)
        return quant_err_set(err, QUANT_ESCHEMA,
                             "metadata store %s has schema version %d and this quant reads "
                             "version %d: %s",
                             s->path, v, QUANT_META_SCHEMA_VERSION,
                             v > QUANT_META_SCHEMA_VERSION
                                 ? "upgrade quant"
                                 : "run `quant init-db` once (where the store is writable) to "
                                   "migrate it");
    return QUANT_OK;
}

enum quant_code quant_meta_store_open_read_only(const char *path, long busy_timeout_ms,
                                                struct quant_meta_store **out,
                                                int *found_version, struct quant_err *err)
{
    *out = NULL;
    int found = -1;
    if (found_version)
        *found_version = -1;
    if (!path || !*path)
        return quant_err_set(err, QUANT_EINVAL, "metadata store: a file path is required");
    struct stat st;
    if (stat(path, &st) != 0)
        return quant_err_set(err, QUANT_ENOTFOUND,
                             "no metadata store at %s: run `quant init-db` first", path);
    struct quant_meta_store *s = calloc(1, sizeof *s);
    if (!s)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    enum quant_code rc = open_ro_once(s, path, SQLITE_OPEN_READONLY, busy_timeout_ms, &found,
                                      err);
    int ec = s->db ? sqlite3_errcode(s->db) : SQLITE_OK;
    if (rc == QUANT_ESTORE && (ec == SQLITE_CANTOPEN || ec == SQLITE_READONLY)) {
        /* No -shm and no right to create one: read the file as immutable.
         * The URI wants the path percent-encoded where it has '%', '?' or '#'. */
        sqlite3_close_v2(s->db);
        s->db = NULL;
        char uri[PATH_MAX * 3 + 32];
        size_t o = (size_t)snprintf(uri, sizeof uri, "file:");
        for (const char *p = path; *p && o + 4 < sizeof uri; p++) {
            if (*p == '%' || *p == '?' || *p == '#')
                o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X", (unsigned char)*p);
            else
                uri[o++] = *p;
        }
        snprintf(uri + o, sizeof uri - o, "?immutable=1");
        quant_err_clear(err);
        rc = open_ro_once(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_timeout_ms,
                          &found, err);
    }
    if (found_version)
        *found_version = found;
    if (rc) {
        quant_meta_store_close(s);
        return rc;
    }
    *out = s;
    return QUANT_OK;
}

void quant_meta_store_close(struct quant_meta_store *s)
{
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s);
}

int quant_meta_store_found_version(const struct quant_meta_store *s)
{
    return s->found_version;
}

