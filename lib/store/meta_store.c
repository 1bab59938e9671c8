/*
 * meta_store.c: the SQLite metadata store behind meta_store.h (symbols, ingest
 * runs, the request ledger).  The only file that includes sqlite3.h: SQLite
 * errors become quant codes here, once.  Every value travels as a bound
 * parameter, never inside SQL text; times are stored as UTC ISO-8601 text.
 * Migrations are a table of SQL steps per version applied in one transaction,
 * so a crash mid-migration leaves the previous version intact.  It must not
 * print or exit.
 *
 * Size: over 800 lines; issue 14 puts a migrations module over SQLite and
 * PostgreSQL, the seam (schema/migrations vs registry vs runs) to split along.
 */
#define _GNU_SOURCE
#include "quant/meta_store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "quant/clock.h"
#include "core/banned.h"

struct quant_meta_store {
    sqlite3 *db;
    int found_version; /* schema version before migrating; 0 for a new file */
    char path[4096];
};

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

static const char *const *const migrations[QUANT_META_SCHEMA_VERSION] = {migration_v1,
                                                                         migration_v2};

/* ---- helpers ------------------------------------------------------------- */

static enum quant_code db_error(struct quant_meta_store *s, const char *what,
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

static enum quant_code exec(struct quant_meta_store *s, const char *sql, const char *what,
                            struct quant_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, what, err);
    return QUANT_OK;
}

static enum quant_code prep(struct quant_meta_store *s, const char *sql, sqlite3_stmt **st,
                            struct quant_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_error(s, "preparing a statement", err);
    return QUANT_OK;
}

/* Run a statement that returns no rows, then finalize it. */
static enum quant_code step_done(struct quant_meta_store *s, sqlite3_stmt *st, const char *what,
                                 struct quant_err *err)
{
    int rc = sqlite3_step(st);
    enum quant_code q = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? QUANT_OK
                                                                : db_error(s, what, err);
    sqlite3_finalize(st);
    return q;
}

static void iso_time(int64_t t, char out[32])
{
    if (!quant_utc_format(t, QUANT_UTC_ISO, out, 32)[0])
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static int64_t parse_iso(const unsigned char *txt)
{
    int32_t days;
    if (!txt || quant_date_parse((const char *)txt, strlen((const char *)txt), &days) != 0)
        return 0;
    int h = 0, m = 0, sec = 0;
    if (strlen((const char *)txt) >= 19)
        sscanf((const char *)txt + 11, "%2d:%2d:%2d", &h, &m, &sec);
    return (int64_t)days * 86400 + h * 3600 + m * 60 + sec;
}

static void col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/* ---- opening and migrating ---------------------------------------------- */

static enum quant_code read_version(struct quant_meta_store *s, int *out, struct quant_err *err)
{
    sqlite3_stmt *st;
    *out = 0;
    enum quant_code rc = prep(s,
                              "SELECT count(*) FROM sqlite_master "
                              "WHERE type = 'table' AND name = 'schema_version'",
                              &st, err);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    int have = step == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW)
        return db_error(s, "reading the schema version", err);
    if (!have)
        return QUANT_OK;
    if ((rc = prep(s, "SELECT max(version) FROM schema_version", &st, err)))
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
    enum quant_code rc = exec(s, "BEGIN IMMEDIATE", "starting the migration", err);
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
            rc = exec(s, *step, "migrating the schema", err);
        sqlite3_stmt *st;
        if (!rc && !(rc = prep(s, "UPDATE schema_version SET version = ?1", &st, err))) {
            sqlite3_bind_int(st, 1, v + 1);
            rc = step_done(s, st, "recording the schema version", err);
        }
    }
    if (!rc)
        rc = exec(s, "COMMIT", "committing the migration", err);
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
    enum quant_code rc = exec(s, "PRAGMA journal_mode = WAL", "enabling WAL", err);
    if (!rc)
        rc = exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err);
    if (!rc)
        rc = exec(s, "PRAGMA synchronous = NORMAL", "setting synchronous", err);
    if (!rc)
        rc = migrate(s, err);
    if (rc) {
        quant_meta_store_close(s);
        return rc;
    }
    *out = s;
    return QUANT_OK;
}

/* One read-only attempt; the version read is where a missing -shm shows. */
static enum quant_code open_ro_once(struct quant_meta_store *s, const char *name, int flags,
                                    long busy_timeout_ms, struct quant_err *err)
{
    if (sqlite3_open_v2(name, &s->db, flags, NULL) != SQLITE_OK) {
        if (!s->db)
            return quant_err_set(err, QUANT_ENOMEM, "metadata store %s: out of memory",
                                 s->path);
        return db_error(s, "opening", err);
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, busy_timeout_ms > 0 ? (int)busy_timeout_ms : 0);
    int v = 0;
    enum quant_code rc = read_version(s, &v, err);
    if (rc)
        return rc;
    s->found_version = v;
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
                                                struct quant_err *err)
{
    *out = NULL;
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
    enum quant_code rc = open_ro_once(s, path, SQLITE_OPEN_READONLY, busy_timeout_ms, err);
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
        rc = open_ro_once(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_timeout_ms, err);
    }
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

/* ---- symbols ------------------------------------------------------------- */

static enum quant_code check_symbol(const char *in, char out[QUANT_SYMBOL_MAX + 1],
                                    struct quant_err *err)
{
    if (!in || !*in || strlen(in) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "symbol '%.40s' is empty or longer than %d characters",
                             in ? in : "", QUANT_SYMBOL_MAX);
    snprintf(out, QUANT_SYMBOL_MAX + 1, "%s", in);
    return quant_symbol_normalize(out, err);
}

enum quant_code quant_meta_symbol_upsert(struct quant_meta_store *s,
                                         const struct quant_symbol_info *info,
                                         int *out_created, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(info->symbol, sym, err);
    if (rc)
        return rc;
    char now[32];
    iso_time((int64_t)time(NULL), now);
    /* NULLIF turns "" into NULL so COALESCE keeps the stored value: an empty
     * field means "unknown", never "erase". */
    static const char sql[] =
        "INSERT INTO symbols (symbol, name, type, region, exchange, currency, sector, industry,"
        " active, added_at, updated_at)"
        " VALUES (?1, NULLIF(?2,''), NULLIF(?3,''), NULLIF(?4,''), NULLIF(?5,''),"
        " NULLIF(?6,''), NULLIF(?7,''), NULLIF(?8,''), 1, ?9, ?9)"
        " ON CONFLICT (symbol) DO UPDATE SET"
        " name = COALESCE(excluded.name, name), type = COALESCE(excluded.type, type),"
        " region = COALESCE(excluded.region, region),"
        " exchange = COALESCE(excluded.exchange, exchange),"
        " currency = COALESCE(excluded.currency, currency),"
        " sector = COALESCE(excluded.sector, sector),"
        " industry = COALESCE(excluded.industry, industry),"
        " active = 1, updated_at = excluded.updated_at";
    /* IMMEDIATE: the existence check and the write see the same state, so
     * out_created is right even with another writer. */
    if ((rc = exec(s, "BEGIN IMMEDIATE", "saving a symbol", err)))
        return rc;
    sqlite3_stmt *chk, *st;
    int exists = 0;
    if (!(rc = prep(s, "SELECT 1 FROM symbols WHERE symbol = ?1", &chk, err))) {
        sqlite3_bind_text(chk, 1, sym, -1, SQLITE_TRANSIENT);
        exists = sqlite3_step(chk) == SQLITE_ROW;
        sqlite3_finalize(chk);
    }
    if (!rc && !(rc = prep(s, sql, &st, err))) {
        const char *vals[] = {sym, info->name, info->type, info->region, info->exchange,
                              info->currency, info->sector, info->industry, now};
        for (int i = 0; i < 9; i++)
            bind_text(st, i + 1, vals[i]);
        rc = step_done(s, st, "saving the symbol", err);
    }
    if (!rc)
        rc = exec(s, "COMMIT", "saving a symbol", err);
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return quant_err_prefix(err, "symbol %s: ", sym);
    }
    if (out_created)
        *out_created = !exists;
    return QUANT_OK;
}

/* An inactive symbol's reason is the error of its last failed run: the run
 * that made it inactive, unless it was asked for by name again since. */
#define SYMBOL_COLS                                                                       \
    "symbol, coalesce(name,''), coalesce(type,''), coalesce(region,''),"                  \
    " coalesce(exchange,''), coalesce(currency,''), coalesce(sector,''),"                 \
    " coalesce(industry,''), active, added_at, updated_at,"                               \
    " CASE WHEN active = 0 THEN (SELECT error FROM ingest_runs r"                          \
    "  WHERE r.symbol = symbols.symbol AND r.status = 'failed' ORDER BY r.id DESC LIMIT 1)" \
    " END"

static void read_symbol(sqlite3_stmt *st, struct quant_symbol_record *r)
{
    memset(r, 0, sizeof *r);
    col_text(st, 0, r->info.symbol, sizeof r->info.symbol);
    col_text(st, 1, r->info.name, sizeof r->info.name);
    col_text(st, 2, r->info.type, sizeof r->info.type);
    col_text(st, 3, r->info.region, sizeof r->info.region);
    col_text(st, 4, r->info.exchange, sizeof r->info.exchange);
    col_text(st, 5, r->info.currency, sizeof r->info.currency);
    col_text(st, 6, r->info.sector, sizeof r->info.sector);
    col_text(st, 7, r->info.industry, sizeof r->info.industry);
    r->active = sqlite3_column_int(st, 8);
    r->added_at = parse_iso(sqlite3_column_text(st, 9));
    r->updated_at = parse_iso(sqlite3_column_text(st, 10));
    col_text(st, 11, r->inactive_reason, sizeof r->inactive_reason);
}

enum quant_code quant_meta_symbol_set_active(struct quant_meta_store *s, const char *symbol,
                                             int active, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1], now[32];
    enum quant_code rc = check_symbol(symbol, sym, err);
    sqlite3_stmt *st;
    if (rc || (rc = prep(s, "UPDATE symbols SET active = ?2, updated_at = ?3 WHERE symbol = ?1",
                         &st, err)))
        return rc;
    iso_time((int64_t)time(NULL), now);
    sqlite3_bind_text(st, 1, sym, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, active ? 1 : 0);
    bind_text(st, 3, now);
    if ((rc = step_done(s, st, "updating a symbol", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "symbol %s is not in the registry", sym);
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_get(struct quant_meta_store *s, const char *symbol,
                                      struct quant_symbol_record *out, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(symbol, sym, err);
    sqlite3_stmt *st;
    if (rc || (rc = prep(s, "SELECT " SYMBOL_COLS " FROM symbols WHERE symbol = ?1", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, sym, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_symbol(st, out);
    else if (step == SQLITE_DONE)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "symbol %s is not in the registry; add it with `quant symbols add %s`",
                           sym, sym);
    else
        rc = db_error(s, "reading a symbol", err);
    sqlite3_finalize(st);
    return rc;
}

/* Collect every row of a prepared symbol query (consumes st). */
static enum quant_code collect_symbols(struct quant_meta_store *s, sqlite3_stmt *st,
                                       struct quant_symbol_record **out, size_t *out_n,
                                       struct quant_err *err)
{
    size_t n = 0, cap = 0;
    struct quant_symbol_record *v = NULL;
    enum quant_code rc = QUANT_OK;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(v, cap * sizeof *v);
            if (!p) {
                rc = quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
                break;
            }
            v = p;
        }
        read_symbol(st, &v[n++]);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(s, "listing symbols", err);
    sqlite3_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_list(struct quant_meta_store *s, int active_only,
                                       struct quant_symbol_record **out, size_t *out_n,
                                       struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "SELECT " SYMBOL_COLS " FROM symbols"
                              " WHERE ?1 = 0 OR active = 1 ORDER BY symbol",
                              &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, active_only ? 1 : 0);
    return collect_symbols(s, st, out, out_n, err);
}

enum quant_code quant_meta_symbol_remove(struct quant_meta_store *s, const char *symbol,
                                         struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(symbol, sym, err);
    sqlite3_stmt *st;
    if (rc || (rc = prep(s, "DELETE FROM symbols WHERE symbol = ?1", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, sym, -1, SQLITE_TRANSIENT);
    if ((rc = step_done(s, st, "removing a symbol", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "symbol %s is not in the registry", sym);
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_search(struct quant_meta_store *s, const char *query,
                                         size_t limit, struct quant_symbol_record **out,
                                         size_t *out_n, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    if (!query || !*query)
        return quant_err_set(err, QUANT_EINVAL, "symbol search: a search text is required");
    /* instr() rather than LIKE: the query is data, so '%' and '_' in it must
     * match themselves.  lower() folds ASCII only, like SQLite's LIKE. */
    static const char sql[] =
        "SELECT " SYMBOL_COLS ","
        " CASE WHEN lower(symbol) = lower(?1) THEN 0"
        "      WHEN instr(lower(symbol), lower(?1)) = 1 THEN 1"
        "      WHEN instr(lower(coalesce(name,'')), lower(?1)) = 1 THEN 2"
        "      ELSE 3 END AS rank"
        " FROM symbols"
        " WHERE instr(lower(symbol), lower(?1)) > 0"
        "    OR instr(lower(coalesce(name,'')), lower(?1)) > 0"
        " ORDER BY rank, symbol LIMIT ?2";
    sqlite3_stmt *st;
    enum quant_code rc = prep(s, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, query, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : 50);
    return collect_symbols(s, st, out, out_n, err);
}

/* ---- ingest runs --------------------------------------------------------- */

enum quant_code quant_meta_run_begin(struct quant_meta_store *s, const char *symbol,
                                     const char *provider, int64_t *out_id,
                                     struct quant_err *err)
{
    char now[32];
    iso_time((int64_t)time(NULL), now);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "INSERT INTO ingest_runs (symbol, provider, started_at, rows, status)"
                              " VALUES (?1, ?2, ?3, 0, 'running')",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, symbol);
    bind_text(st, 2, provider);
    bind_text(st, 3, now);
    if ((rc = step_done(s, st, "recording an ingest run", err)))
        return rc;
    if (out_id)
        *out_id = sqlite3_last_insert_rowid(s->db);
    return QUANT_OK;
}

enum quant_code quant_meta_run_finish(struct quant_meta_store *s, int64_t id,
                                      const char *status, long rows, const char *error_text,
                                      struct quant_err *err)
{
    if (!status || (strcmp(status, "ok") != 0 && strcmp(status, "failed") != 0))
        return quant_err_set(err, QUANT_EINVAL, "ingest run %lld: status must be ok or failed",
                             (long long)id);
    char now[32];
    iso_time((int64_t)time(NULL), now);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "UPDATE ingest_runs SET finished_at = ?1, status = ?2, rows = ?3,"
                              " error = ?4 WHERE id = ?5",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, now);
    bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, rows);
    if (error_text) {
        /* Stored text outlives the run and is shown by status and the
         * dashboard: no secret may reach the file (error.h). */
        char masked[QUANT_ERR_MSG_MAX];
        snprintf(masked, sizeof masked, "%s", error_text);
        quant_mask_secrets(masked);
        sqlite3_bind_text(st, 4, masked, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 4);
    }
    sqlite3_bind_int64(st, 5, id);
    if ((rc = step_done(s, st, "finishing an ingest run", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "ingest run %lld does not exist",
                             (long long)id);
    return QUANT_OK;
}

enum quant_code quant_meta_runs_close_stale(struct quant_meta_store *s, long *out_closed,
                                           struct quant_err *err)
{
    char now[32];
    iso_time((int64_t)time(NULL), now);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "UPDATE ingest_runs SET finished_at = ?1, status = 'failed',"
                              " error = 'interrupted: the ingest stopped before it finished"
                              " (killed or crashed); nothing of it was stored'"
                              " WHERE status = 'running'",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, now);
    if ((rc = step_done(s, st, "closing interrupted ingest runs", err)))
        return rc;
    if (out_closed)
        *out_closed = (long)sqlite3_changes(s->db);
    return QUANT_OK;
}

enum quant_code quant_meta_run_last(struct quant_meta_store *s, const char *symbol,
                                    struct quant_ingest_run *out, struct quant_err *err)
{
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "SELECT id, coalesce(symbol,''), coalesce(provider,''), started_at,"
                              " finished_at, coalesce(rows,0), status, coalesce(error,'')"
                              " FROM ingest_runs WHERE symbol = ?1 ORDER BY id DESC LIMIT 1",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, symbol);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, out->symbol, sizeof out->symbol);
        col_text(st, 2, out->provider, sizeof out->provider);
        out->started_at = parse_iso(sqlite3_column_text(st, 3));
        out->finished_at = parse_iso(sqlite3_column_text(st, 4));
        out->rows = (long)sqlite3_column_int64(st, 5);
        col_text(st, 6, out->status, sizeof out->status);
        col_text(st, 7, out->error, sizeof out->error);
    } else if (step == SQLITE_DONE) {
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no ingest run recorded for %s yet",
                           symbol ? symbol : "");
    } else {
        rc = db_error(s, "reading ingest runs", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- request ledger ------------------------------------------------------ */

enum quant_code quant_meta_ledger_get(struct quant_meta_store *s, int32_t day,
                                      const char *key_fingerprint, long *out_requests,
                                      struct quant_err *err)
{
    char d[11];
    quant_date_format(day, d);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "SELECT requests FROM request_ledger"
                              " WHERE day = ?1 AND key_fingerprint = ?2",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, d);
    bind_text(st, 2, key_fingerprint);
    int step = sqlite3_step(st);
    *out_requests = step == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_error(s, "reading the request ledger", err);
    sqlite3_finalize(st);
    return rc;
}

enum quant_code quant_meta_ledger_add(struct quant_meta_store *s, int32_t day,
                                      const char *key_fingerprint, long requests,
                                      struct quant_err *err)
{
    char d[11];
    quant_date_format(day, d);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "INSERT INTO request_ledger (day, key_fingerprint, requests)"
                              " VALUES (?1, ?2, ?3) ON CONFLICT (day, key_fingerprint)"
                              " DO UPDATE SET requests = requests + excluded.requests",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, d);
    bind_text(st, 2, key_fingerprint);
    sqlite3_bind_int64(st, 3, requests);
    return step_done(s, st, "counting a request", err);
}

/* ---- the model registry ---------------------------------------------------- */

void quant_model_record_release(struct quant_model_record *r)
{
    free(r->params_json);
    free(r->metrics_json);
    free(r->feature_names_json);
    free(r->symbols_json);
    free(r->segments_json);
    memset(r, 0, sizeof *r);
}

enum quant_code quant_meta_model_insert(struct quant_meta_store *s,
                                        const struct quant_model_record *r,
                                        struct quant_err *err)
{
    char at[32];
    iso_time(r->created_at ? r->created_at : (int64_t)time(NULL), at);
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "INSERT INTO models (id, algorithm, feature_set, horizon, params,"
                              " metrics, feature_names, symbols, segments, data_fingerprint,"
                              " model_path, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                              &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->algorithm);
    bind_text(st, 3, r->feature_set);
    sqlite3_bind_int(st, 4, r->horizon);
    bind_text(st, 5, r->params_json);
    bind_text(st, 6, r->metrics_json);
    bind_text(st, 7, r->feature_names_json);
    bind_text(st, 8, r->symbols_json);
    bind_text(st, 9, r->segments_json);
    bind_text(st, 10, r->fingerprint);
    bind_text(st, 11, r->path);
    bind_text(st, 12, at);
    return step_done(s, st, "registering a model", err);
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

static int read_model(sqlite3_stmt *st, struct quant_model_record *r)
{
    memset(r, 0, sizeof *r);
    col_text(st, 0, r->id, sizeof r->id);
    col_text(st, 1, r->algorithm, sizeof r->algorithm);
    col_text(st, 2, r->feature_set, sizeof r->feature_set);
    r->horizon = sqlite3_column_int(st, 3);
    r->params_json = col_dup(st, 4);
    r->metrics_json = col_dup(st, 5);
    r->feature_names_json = col_dup(st, 6);
    r->symbols_json = col_dup(st, 7);
    r->segments_json = col_dup(st, 8);
    col_text(st, 9, r->fingerprint, sizeof r->fingerprint);
    col_text(st, 10, r->path, sizeof r->path);
    r->created_at = parse_iso(sqlite3_column_text(st, 11));
    return r->params_json && r->metrics_json && r->feature_names_json && r->symbols_json &&
           r->segments_json;
}

#define MODEL_COLUMNS                                                                   \
    "id, algorithm, feature_set, horizon, params, metrics, feature_names, symbols,"    \
    " segments, data_fingerprint, model_path, created_at"

enum quant_code quant_meta_model_get(struct quant_meta_store *s, const char *id,
                                     struct quant_model_record *out, struct quant_err *err)
{
    sqlite3_stmt *st;
    enum quant_code rc = prep(s, "SELECT " MODEL_COLUMNS " FROM models WHERE id = ?1", &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = read_model(st, out) ? QUANT_OK : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "no model '%.80s' in the registry: `quant models list` shows them",
                           id);
    } else {
        rc = db_error(s, "reading a model", err);
    }
    sqlite3_finalize(st);
    return rc;
}

enum quant_code quant_meta_model_list(struct quant_meta_store *s, const char *symbol,
                                      struct quant_model_record **out, size_t *out_n,
                                      struct quant_err *err)
{
    /* symbols is a JSON array of validated symbols, so '"AAPL"' cannot match
     * inside another symbol's name. */
    char pattern[QUANT_SYMBOL_MAX + 8];
    snprintf(pattern, sizeof pattern, "%%\"%s\"%%", symbol ? symbol : "");
    sqlite3_stmt *st;
    enum quant_code rc = prep(s,
                              "SELECT " MODEL_COLUMNS " FROM models"
                              " WHERE ?1 IS NULL OR symbols LIKE ?2"
                              " ORDER BY created_at DESC, rowid DESC",
                              &st, err);
    if (rc)
        return rc;
    if (symbol)
        bind_text(st, 1, symbol);
    else
        sqlite3_bind_null(st, 1);
    bind_text(st, 2, pattern);
    struct quant_model_record *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct quant_model_record *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        if (!read_model(st, &v[n++]))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(s, "listing models", err);
    sqlite3_finalize(st);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            quant_model_record_release(&v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}
