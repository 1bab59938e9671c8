/*
 * series_store.c: the DuckDB time-series store behind series_store.h: the
 * open/lock plumbing and the ohlcv table.  The files of lib/store are the only
 * ones that include duckdb.h; a DuckDB error is translated once, where it
 * happens, into a quant code and a message that names the file and what to do.
 * Writes go in bulk (data chunks through an Appender, never a statement per
 * row) and each call is one transaction, so a failed or killed ingest leaves
 * ohlcv exactly as it was.  It must not print, exit, or read configuration.
 *
 * Size: over 800 lines; issue 11 re-cuts lib/store by table family (open and
 * lock plumbing, ohlcv upsert, quant sql printing): split there, not twice.
 */
#define _GNU_SOURCE
#include "quant/series_store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <duckdb.h>

#include "quant/adjust.h"
#include "quant/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

#define SCHEMA_VERSION 2
#define NCOLS 13 /* columns of ohlcv, in table order */

/* Column order of ohlcv and of the staging table (the appender relies on it).
 * quality is last because version 2 added it to existing tables with ALTER
 * TABLE, which appends; new tables are created in the same order. */
enum { C_SYMBOL, C_DATE, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_ADJ, C_VOLUME, C_DIV, C_SPLIT,
       C_SOURCE, C_INGESTED, C_QUALITY };

static const char *const schema_sql[] = {
    /*
     * The PRIMARY KEY is the schema's contract: (symbol, date) is unique even
     * for a writer that is not quant, and it is what ON CONFLICT needs.  This
     * file also never appends a date a symbol already has (upsert_existing
     * compares in C first), so the key is a guard, not the mechanism.  It
     * costs: on 500 x 6,500 bars a fresh ingest measured 0.93M rows/s with the
     * key's ART index and 1.8-1.96M rows/s without it.
     * NOT NULL and the volume CHECK are the last line of defence against a
     * provider bug: such a row fails the whole call, which then rolls back.
     */
    "CREATE TABLE IF NOT EXISTS ohlcv ("
    " symbol VARCHAR NOT NULL, date DATE NOT NULL,"
    " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
    " adj_close DOUBLE, volume DOUBLE NOT NULL CHECK (volume >= 0),"
    " dividend DOUBLE, split_coefficient DOUBLE,"
    " source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL,"
    " quality UTINYINT DEFAULT 0,"
    " PRIMARY KEY (symbol, date))",
    "CREATE TABLE IF NOT EXISTS quant_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "INSERT INTO quant_meta VALUES ('schema_version', '2') ON CONFLICT DO NOTHING",
};

/*
 * Migrations, run in the schema transaction on a store of an older version.
 * 1 -> 2: ohlcv.quality, the QUANT_Q_* bits of bars.h (0 for the rows stored
 * before: they were stored as published).
 */
static const char *const migrate_v2_sql[] = {
    "ALTER TABLE ohlcv ADD COLUMN quality UTINYINT DEFAULT 0",
    "UPDATE quant_meta SET value = '2' WHERE key = 'schema_version'",
};

struct quant_series_store {
    duckdb_database db;
    duckdb_connection con;
    int read_only;
    int sandboxed;                     /* external access off, configuration locked */
    long version;                      /* schema version of the file, after migration */
    char path[PATH_MAX];
    duckdb_logical_type types[NCOLS];  /* ohlcv column types, for data chunks */
    duckdb_data_chunk chunk;           /* reused for every append */
    duckdb_prepared_statement load;    /* one symbol's bars, ascending; lazy */
    duckdb_prepared_statement one_sum; /* one symbol's summary; lazy */
    /*
     * Symbols that have rows in ohlcv, sorted.  A symbol not in here takes the
     * fast path (plain append, no diff).  Exact because DuckDB admits one writer
     * process and this handle is it; query() may change anything, so it drops
     * the set and the next upsert reloads it.
     */
    char (*known)[QUANT_SYMBOL_MAX + 1];
    size_t nknown, capknown;
    int known_valid;
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * What to do about a DuckDB failure whose words show a cause the user can act
 * on ("" when they do not): DuckDB reports a full disk, a folder it may not
 * write and a cut-short file in its own terms, which name no remedy.
 */
static const char *duckdb_advice(const char *msg)
{
    if (strstr(msg, "No space left on device") || strstr(msg, "Disk quota exceeded"))
        return "; the disk holding the store is full: free some space (or move QUANT_HOME "
               "to a bigger disk) and run the command again";
    if (strstr(msg, "Permission denied") || strstr(msg, "Read-only file system"))
        return "; quant may not write there: make the store's folder and files writable "
               "for this user, or point QUANT_HOME at a folder that is";
    if (strstr(msg, "Could not read enough bytes") || strstr(msg, "Corrupt") ||
        strstr(msg, "corrupt") || strstr(msg, "checksum"))
        return "; the file is truncated or damaged, and quant left it as it is: restore it "
               "from a backup, or move it aside, run `quant init-db` and ingest again";
    return "";
}

enum quant_code quant_series_store_fail_(const struct quant_series_store *s, const char *what,
                                         const char *msg, struct quant_err *err)
{
    if (!msg)
        msg = "unknown DuckDB error";
    return quant_err_set(err, QUANT_ESTORE, "store %s: %s failed: %s%s", s->path, what, msg,
                         duckdb_advice(msg));
}

static enum quant_code exec_sql(struct quant_series_store *s, const char *sql, const char *what,
                                struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(s->con, sql, &res) == DuckDBError)
        rc = quant_series_store_fail_(s, what, duckdb_result_error(&res), err);
    duckdb_destroy_result(&res);
    return rc;
}

/* ---- shared with the other DuckDB-side files (store_internal.h) ---------- */

duckdb_database quant_series_store_db_(struct quant_series_store *s)
{
    return s->db;
}

duckdb_connection quant_series_store_con_(struct quant_series_store *s)
{
    return s->con;
}

const char *quant_series_store_path_(const struct quant_series_store *s)
{
    return s->path;
}

int quant_series_store_read_only_(const struct quant_series_store *s)
{
    return s->read_only;
}

int quant_series_store_sandboxed_(const struct quant_series_store *s)
{
    return s->sandboxed;
}

long quant_series_store_version_(const struct quant_series_store *s)
{
    return s->version;
}

enum quant_code quant_series_store_exec_(struct quant_series_store *s, const char *sql,
                                         const char *what, struct quant_err *err)
{
    return exec_sql(s, sql, what, err);
}

/* Normalised copy of a caller's symbol (upper-case, checked). */
static enum quant_code norm_symbol(const char *in, char out[QUANT_SYMBOL_MAX + 1],
                                   struct quant_err *err)
{
    if (!in || !*in)
        return quant_err_set(err, QUANT_EINVAL, "series store: a symbol is required");
    if (strlen(in) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "series store: symbol '%.40s...' is longer than %d characters",
                             in, QUANT_SYMBOL_MAX);
    snprintf(out, QUANT_SYMBOL_MAX + 1, "%s", in);
    return quant_symbol_normalize(out, err);
}

/* ---- opening ------------------------------------------------------------ */

/* "Could not set lock on file ... Conflicting lock is held in /usr/bin/x (PID 1234)" */
static int is_lock_error(const char *msg)
{
    return msg && (strstr(msg, "Could not set lock") || strstr(msg, "Conflicting lock"));
}

static long lock_pid(const char *msg)
{
    const char *p = msg ? strstr(msg, "(PID ") : NULL;
    if (!p)
        return -1;
    char *end;
    long pid = strtol(p + 5, &end, 10);
    return (end != p + 5 && pid > 0) ? pid : -1;
}

static enum quant_code open_error(const char *path, const char *msg, long waited_ms,
                                  struct quant_err *err)
{
    if (!msg)
        msg = "unknown DuckDB error";
    if (is_lock_error(msg)) {
        long pid = lock_pid(msg);
        char who[96] = "another process";
        if (pid > 0 && pid == (long)getpid())
            snprintf(who, sizeof who, "this process (PID %ld), which already has it open", pid);
        else if (pid > 0)
            snprintf(who, sizeof who, "another quant process (PID %ld)", pid);
        char waited[64] = "";
        if (waited_ms > 0)
            snprintf(waited, sizeof waited, " (waited %ld ms)", waited_ms);
        return quant_err_set(err, QUANT_ELOCKED,
                             "store %s is locked by %s%s; wait for it to finish, or stop it",
                             path, who, waited);
    }
    if (strstr(msg, "not a valid DuckDB database") || strstr(msg, "not a DuckDB database") ||
        strstr(msg, "Corrupt") || strstr(msg, "corrupt") || strstr(msg, "magic"))
        return quant_err_set(err, QUANT_ESTORE,
                             "store %s is not a DuckDB database (or is damaged), so quant left "
                             "it untouched; do not delete it blindly: check what it is, move it "
                             "aside, then run `quant init-db` (DuckDB said: %s)",
                             path, msg);
    return quant_err_set(err, QUANT_ESTORE, "cannot open store %s: %s%s", path, msg,
                         duckdb_advice(msg));
}

static enum quant_code check_path(const char *path, int read_only, struct quant_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return quant_err_set(err, QUANT_EIO,
                             "cannot open store %s: directory %s does not exist; create it or "
                             "point quant at another data directory",
                             path, dir);
    if (stat(path, &st) != 0) {
        if (read_only)
            return quant_err_set(err, QUANT_ENOTFOUND,
                                 "store %s does not exist; run `quant init-db` first", path);
        return QUANT_OK;
    }
    if (!S_ISREG(st.st_mode))
        return quant_err_set(err, QUANT_ESTORE, "store %s is not a regular file", path);
    /* DuckDB would happily turn an empty file into a database when writable,
     * but a read-only open of one has nothing to read. */
    if (st.st_size == 0 && read_only)
        return quant_err_set(err, QUANT_ENOTFOUND,
                             "store %s is empty; run `quant init-db` first", path);
    /* DuckDB would try to load its sqlite extension for a SQLite file and
     * report a missing extension: name the real mistake instead. */
    char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t got = fread(head, 1, sizeof head, f);
        fclose(f);
        if (got == sizeof head && memcmp(head, "SQLite format 3", 16) == 0)
            return quant_err_set(err, QUANT_ESTORE,
                                 "store %s is a SQLite database, not a DuckDB one (the metadata "
                                 "store?); check the data paths in quant.conf",
                                 path);
    }
    return QUANT_OK;
}

static enum quant_code make_config(const struct quant_series_store_options *o, duckdb_config *out,
                                   struct quant_err *err)
{
    if (duckdb_create_config(out) == DuckDBError)
        return quant_err_set(err, QUANT_ENOMEM, "series store: cannot create a DuckDB config");
    char threads[32];
    snprintf(threads, sizeof threads, "%d", o->threads > 0 ? o->threads : 2);
    const char *kv[][2] = {
        {"threads", threads},
        {"memory_limit", o->memory_limit ? o->memory_limit : "4GB"},
        {"access_mode", o->read_only ? "READ_ONLY" : "READ_WRITE"},
        /* no network, and nothing may be downloaded behind the user's back */
        {"autoinstall_known_extensions", "false"},
        {"autoload_known_extensions", "false"},
        /* sandbox only (see below): keep these two last */
        {"enable_external_access", "false"},
        {"lock_configuration", "true"},
    };
    /*
     * A sandbox without a write path is locked down before the database even
     * opens.  One with a write path must first list that path in
     * allowed_paths, which only SQL can set (lock_down() does it right after
     * the open, before any caller's statement runs).
     */
    size_t n = sizeof kv / sizeof *kv;
    if (!o->sandbox || o->sandbox_write_path)
        n -= 2;
    for (size_t i = 0; i < n; i++) {
        if (duckdb_set_config(*out, kv[i][0], kv[i][1]) == DuckDBError) {
            duckdb_destroy_config(out);
            return quant_err_set(err, QUANT_ECONFIG, "series store: DuckDB rejected %s = '%s'",
                                 kv[i][0], kv[i][1]);
        }
    }
    return QUANT_OK;
}

/* duckdb_open_ext, retried while another process holds the lock. */
static enum quant_code open_db(struct quant_series_store *s,
                               const struct quant_series_store_options *o,
                               struct quant_err *err)
{
    duckdb_config cfg;
    enum quant_code rc = make_config(o, &cfg, err);
    if (rc)
        return rc;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *msg = NULL;
        if (duckdb_open_ext(s->path, &s->db, cfg, &msg) == DuckDBSuccess) {
            duckdb_destroy_config(&cfg);
            return QUANT_OK;
        }
        s->db = NULL;
        long waited = elapsed_ms(&t0);
        if (is_lock_error(msg) && waited < o->lock_timeout_ms) {
            duckdb_free(msg);
            long left = o->lock_timeout_ms - waited;
            sleep_ms(left < 100 ? left : 100);
            continue;
        }
        rc = open_error(s->path, msg, waited, err);
        duckdb_free(msg);
        duckdb_destroy_config(&cfg);
        return rc;
    }
}

/* schema_version from quant_meta; 0 when the table is absent (a new file,
 * or a read-only store made by another tool: the binder then fails on the
 * table, which is not worth reporting). */
static long read_version(struct quant_series_store *s)
{
    long version = 0;
    duckdb_result res;
    if (duckdb_query(s->con, "SELECT value FROM quant_meta WHERE key = 'schema_version'",
                     &res) == DuckDBSuccess && duckdb_row_count(&res) > 0) {
        char *v = duckdb_value_varchar(&res, 0, 0);
        if (v)
            version = strtol(v, NULL, 10);
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    return version;
}

static enum quant_code init_schema(struct quant_series_store *s, struct quant_err *err)
{
    long version = read_version(s);
    enum quant_code rc;
    if (version > SCHEMA_VERSION)
        return quant_err_set(err, QUANT_ESCHEMA,
                             "store %s has schema version %ld but this quant supports up to %d; "
                             "upgrade quant",
                             s->path, version, SCHEMA_VERSION);
    s->version = version;
    if (s->read_only)
        return QUANT_OK;
    if ((rc = exec_sql(s, "BEGIN TRANSACTION", "starting the schema transaction", err)))
        return rc;
    for (size_t i = 0; i < sizeof schema_sql / sizeof *schema_sql; i++)
        if ((rc = exec_sql(s, schema_sql[i], "creating the schema", err)))
            break;
    for (size_t i = 0; !rc && version == 1 && i < sizeof migrate_v2_sql / sizeof *migrate_v2_sql;
         i++)
        rc = exec_sql(s, migrate_v2_sql[i], "migrating the store to schema version 2", err);
    if (rc) {
        duckdb_result r;
        duckdb_query(s->con, "ROLLBACK", &r);
        duckdb_destroy_result(&r);
        return rc;
    }
    s->version = SCHEMA_VERSION;
    if ((rc = exec_sql(s, "COMMIT", "committing the schema", err)))
        return rc;
    /* The staging table for changed rows, per connection.  Created here, not
     * on first use, because a CREATE inside an upsert that then fails would be
     * rolled back with it. */
    return exec_sql(s, "CREATE TEMP TABLE quant_staging AS SELECT * FROM ohlcv LIMIT 0",
                    "creating the staging table", err);
}

/* '...' with quotes doubled: a path inside an SQL string literal. */
static enum quant_code sql_quote(struct quant_buf *b, const char *text)
{
    enum quant_code rc = quant_buf_append(b, "'", 1);
    for (const char *p = text; !rc && *p; p++)
        rc = quant_buf_append(b, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
    return rc ? rc : quant_buf_append(b, "'", 1);
}

/*
 * The sandbox with one writable file: allow that path, then turn external
 * access off and lock the configuration (in this order: the first two are
 * refused once the configuration is locked).
 */
static enum quant_code lock_down(struct quant_series_store *s,
                                 const struct quant_series_store_options *o,
                                 struct quant_err *err)
{
    if (!o->sandbox_write_path)
        return QUANT_OK;
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    enum quant_code rc = quant_buf_printf(&sql, "SET allowed_paths = [");
    if (!rc)
        rc = sql_quote(&sql, o->sandbox_write_path);
    if (!rc)
        rc = quant_buf_append(&sql, "]", 1);
    if (rc) {
        quant_buf_release(&sql);
        return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
    }
    rc = exec_sql(s, sql.data, "allowing the export file", err);
    quant_buf_release(&sql);
    if (!rc)
        rc = exec_sql(s, "SET enable_external_access = false", "disabling file access", err);
    if (!rc)
        rc = exec_sql(s, "SET lock_configuration = true", "locking the configuration", err);
    return rc;
}

static enum quant_code init_chunk(struct quant_series_store *s, struct quant_err *err)
{
    static const duckdb_type ids[NCOLS] = {
        DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_DATE,   DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,  DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,  DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_TIMESTAMP,
        DUCKDB_TYPE_UTINYINT};
    for (int i = 0; i < NCOLS; i++)
        s->types[i] = duckdb_create_logical_type(ids[i]);
    s->chunk = duckdb_create_data_chunk(s->types, NCOLS);
    if (!s->chunk)
        return quant_err_set(err, QUANT_ENOMEM, "store %s: cannot allocate a data chunk", s->path);
    return QUANT_OK;
}

enum quant_code quant_series_store_open(const char *path,
                                        const struct quant_series_store_options *opts,
                                        struct quant_series_store **out,
                                        struct quant_err *err)
{
    static const struct quant_series_store_options defaults;
    const struct quant_series_store_options *o = opts ? opts : &defaults;
    *out = NULL;
    if (!path || !*path)
        return quant_err_set(err, QUANT_EINVAL, "series store: a file path is required");
    if (strlen(path) >= PATH_MAX)
        return quant_err_set(err, QUANT_EINVAL, "series store: path is too long");
    if (o->sandbox && !o->read_only)
        return quant_err_set(err, QUANT_EINVAL, "series store: a sandbox must be read-only");
    enum quant_code rc = check_path(path, o->read_only, err);
    if (rc)
        return rc;
    struct quant_series_store *s = calloc(1, sizeof *s);
    if (!s)
        return quant_err_set(err, QUANT_ENOMEM, "series store: out of memory opening %s", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->read_only = o->read_only;
    s->sandboxed = o->sandbox;
    if ((rc = open_db(s, o, err))) {
        free(s);
        return rc;
    }
    if (duckdb_connect(s->db, &s->con) == DuckDBError) {
        quant_err_set(err, QUANT_ESTORE, "store %s: cannot connect to the opened database", path);
        quant_series_store_close(s);
        return QUANT_ESTORE;
    }
    if ((o->sandbox && (rc = lock_down(s, o, err))) || (rc = init_schema(s, err)) ||
        (rc = init_chunk(s, err))) {
        quant_series_store_close(s);
        return rc;
    }
    *out = s;
    return QUANT_OK;
}

void quant_series_store_close(struct quant_series_store *s)
{
    if (!s)
        return;
    if (s->chunk)
        duckdb_destroy_data_chunk(&s->chunk);
    for (int i = 0; i < NCOLS; i++)
        if (s->types[i])
            duckdb_destroy_logical_type(&s->types[i]);
    if (s->load)
        duckdb_destroy_prepare(&s->load);
    if (s->one_sum)
        duckdb_destroy_prepare(&s->one_sum);
    if (s->con)
        duckdb_disconnect(&s->con);
    if (s->db)
        duckdb_close(&s->db);
    free(s->known);
    free(s);
}

/* ---- the set of symbols with rows -------------------------------------- */

static int sym_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int known_has(const struct quant_series_store *s, const char *sym)
{
    return s->nknown && bsearch(sym, s->known, s->nknown, sizeof *s->known, sym_cmp) != NULL;
}

static int known_add(struct quant_series_store *s, const char *sym)
{
    if (known_has(s, sym))
        return 0;
    if (s->nknown == s->capknown) {
        size_t cap = s->capknown ? s->capknown * 2 : 64;
        void *p = realloc(s->known, cap * sizeof *s->known);
        if (!p)
            return -1;
        s->known = p;
        s->capknown = cap;
    }
    size_t i = s->nknown;
    while (i > 0 && strcmp(s->known[i - 1], sym) > 0) {
        memcpy(s->known[i], s->known[i - 1], sizeof *s->known);
        i--;
    }
    snprintf(s->known[i], sizeof *s->known, "%s", sym);
    s->nknown++;
    return 0;
}

/* Read a VARCHAR cell of a fetched chunk into a fixed buffer (truncating). */
static void vec_string(duckdb_vector v, idx_t row, char *out, size_t cap)
{
    duckdb_string_t *d = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
    uint32_t len = duckdb_string_t_length(*d);
    const char *p = duckdb_string_t_data(d);
    if (len >= cap)
        len = (uint32_t)(cap - 1);
    memcpy(out, p, len);
    out[len] = '\0';
}

static enum quant_code known_load(struct quant_series_store *s, struct quant_err *err)
{
    duckdb_result res;
    if (duckdb_query(s->con, "SELECT DISTINCT symbol FROM ohlcv", &res) == DuckDBError) {
        quant_series_store_fail_(s, "listing symbols", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return QUANT_ESTORE;
    }
    s->nknown = 0;
    enum quant_code rc = QUANT_OK;
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(c);
        duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
        for (idx_t i = 0; i < n && !rc; i++) {
            char sym[QUANT_SYMBOL_MAX + 1];
            vec_string(v, i, sym, sizeof sym);
            if (known_add(s, sym))
                rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    s->known_valid = !rc;
    return rc;
}

/* ---- reading one symbol's bars ------------------------------------------ */

static double vec_double(duckdb_vector v, idx_t row)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid && !(valid[row / 64] & ((uint64_t)1 << (row % 64))))
        return NAN;
    return ((const double *)duckdb_vector_get_data(v))[row];
}

static enum quant_code prepare(struct quant_series_store *s, duckdb_prepared_statement *st,
                               const char *sql, struct quant_err *err)
{
    if (*st)
        return QUANT_OK;
    if (duckdb_prepare(s->con, sql, st) == DuckDBError) {
        quant_series_store_fail_(s, "preparing a query", duckdb_prepare_error(*st), err);
        duckdb_destroy_prepare(st);
        *st = NULL;
        return QUANT_ESTORE;
    }
    return QUANT_OK;
}

/* Append the stored bars of sym (ascending) to out. */
static enum quant_code read_bars(struct quant_series_store *s, const char *sym,
                                 struct quant_bars *out, struct quant_err *err)
{
    /* A version-1 store opened read-only has no quality column: all 0. */
    enum quant_code rc = prepare(s, &s->load,
                                 s->version >= 2
                                     ? "SELECT date, open, high, low, close, adj_close, volume,"
                                       " dividend, split_coefficient, coalesce(quality, 0)"
                                       " FROM ohlcv WHERE symbol = $1 ORDER BY date"
                                     : "SELECT date, open, high, low, close, adj_close, volume,"
                                       " dividend, split_coefficient, 0::UTINYINT"
                                       " FROM ohlcv WHERE symbol = $1 ORDER BY date",
                                 err);
    if (rc)
        return rc;
    duckdb_result res;
    if (duckdb_bind_varchar(s->load, 1, sym) == DuckDBError ||
        duckdb_execute_prepared(s->load, &res) == DuckDBError) {
        char what[64];
        snprintf(what, sizeof what, "reading %s", sym);
        quant_series_store_fail_(s, what, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return QUANT_ESTORE;
    }
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(c);
        if (quant_bars_reserve(out, out->n + n) != QUANT_OK) {
            rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory reading %s",
                               s->path, sym);
        } else {
            duckdb_vector v[10];
            for (int k = 0; k < 10; k++)
                v[k] = duckdb_data_chunk_get_vector(c, (idx_t)k);
            const int32_t *dates = duckdb_vector_get_data(v[0]);
            const uint8_t *quality = duckdb_vector_get_data(v[9]);
            for (idx_t i = 0; i < n; i++) {
                struct quant_bar *b = &out->v[out->n++];
                b->date = dates[i];
                b->open = vec_double(v[1], i);
                b->high = vec_double(v[2], i);
                b->low = vec_double(v[3], i);
                b->close = vec_double(v[4], i);
                b->adj_close = vec_double(v[5], i);
                b->volume = vec_double(v[6], i);
                b->dividend = vec_double(v[7], i);
                b->split = vec_double(v[8], i);
                b->quality = quality[i];
            }
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_series_store_load_bars(struct quant_series_store *s, const char *symbol,
                                             struct quant_bars *out, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = norm_symbol(symbol, sym, err);
    if (rc)
        return rc;
    out->n = 0;
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    return read_bars(s, sym, out, err);
}

/* ---- writing ------------------------------------------------------------ */

/*
 * The input with duplicates removed, ascending: the last bar of equal dates
 * wins (sources list corrections after the original).  Sorted input, the
 * normal case, is deduplicated in one pass; anything else is stably sorted
 * first.  *out is malloc'd.
 */
static enum quant_code dedupe(const struct quant_bars *in, struct quant_bars *out)
{
    quant_bars_init(out);
    if (in->n == 0)
        return QUANT_OK;
    if (quant_bars_reserve(out, in->n))
        return QUANT_ENOMEM;
    memcpy(out->v, in->v, in->n * sizeof *in->v);
    out->n = in->n;
    quant_bars_sort(out);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w > 0 && out->v[w - 1].date == out->v[i].date)
            out->v[w - 1] = out->v[i];
        else
            out->v[w++] = out->v[i];
    }
    out->n = w;
    return QUANT_OK;
}

/* Doubles column: NaN becomes SQL NULL through the validity mask. */
static void fill_double(duckdb_vector vec, const struct quant_bar *v, size_t n, size_t off)
{
    double *d = duckdb_vector_get_data(vec);
    int any_nan = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = *(const double *)((const char *)&v[i] + off);
        any_nan |= isnan(d[i]);
    }
    if (!any_nan && !duckdb_vector_get_validity(vec))
        return;
    duckdb_vector_ensure_validity_writable(vec);
    uint64_t *valid = duckdb_vector_get_validity(vec);
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        uint64_t bits = 0;
        for (size_t b = 0; b < 64 && w * 64 + b < n; b++)
            bits |= (uint64_t)!isnan(d[w * 64 + b]) << b;
        valid[w] = bits;
    }
}

/* An appender failure; a constraint failure is bad input, so say so. */
static enum quant_code append_error(struct quant_series_store *s, duckdb_appender app,
                                    struct quant_err *err)
{
    const char *m = duckdb_appender_error(app);
    if (!m)
        m = "unknown DuckDB error";
    if (strstr(m, "constraint failed"))
        return quant_err_set(err, QUANT_ESTORE,
                             "store %s: %s (a bar has a missing price or volume, or a negative "
                             "volume: fix or drop it before ingesting)",
                             s->path, m);
    return quant_err_set(err, QUANT_ESTORE, "store %s: %s%s", s->path, m, duckdb_advice(m));
}

struct row_consts {
    duckdb_value symbol, source, ingested; /* the same in every row of a call */
};

/* Append v[0..n) to the appender, STANDARD_VECTOR_SIZE rows per chunk. */
static enum quant_code append_bars(struct quant_series_store *s, duckdb_appender app,
                                   const struct row_consts *k, const struct quant_bar *v,
                                   size_t n, struct quant_err *err)
{
    static const size_t offs[8] = {
        offsetof(struct quant_bar, open),     offsetof(struct quant_bar, high),
        offsetof(struct quant_bar, low),      offsetof(struct quant_bar, close),
        offsetof(struct quant_bar, adj_close), offsetof(struct quant_bar, volume),
        offsetof(struct quant_bar, dividend), offsetof(struct quant_bar, split)};
    const size_t step = duckdb_vector_size();
    for (size_t at = 0; at < n; at += step) {
        size_t m = n - at < step ? n - at : step;
        duckdb_data_chunk c = s->chunk;
        duckdb_data_chunk_reset(c);
        /* Constant vectors: one value for the whole chunk, no per-row strings. */
        duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_SYMBOL), k->symbol);
        duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_SOURCE), k->source);
        duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_INGESTED), k->ingested);
        int32_t *dates = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, C_DATE));
        for (size_t i = 0; i < m; i++)
            dates[i] = v[at + i].date;
        for (int col = 0; col < 8; col++)
            fill_double(duckdb_data_chunk_get_vector(c, (idx_t)(C_OPEN + col)), v + at, m,
                        offs[col]);
        uint8_t *quality = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, C_QUALITY));
        for (size_t i = 0; i < m; i++)
            quality[i] = v[at + i].quality;
        duckdb_data_chunk_set_size(c, m);
        if (duckdb_append_data_chunk(app, c) == DuckDBError)
            return append_error(s, app, err);
    }
    return QUANT_OK;
}

/*
 * One upsert call's writers: an appender on ohlcv for new rows and, created
 * on first need, one on the TEMP staging table for changed rows.  Both live
 * for the whole call so a batch of symbols pays their setup and flush once.
 */
struct writer {
    duckdb_appender rows;    /* into ohlcv */
    duckdb_appender staged;  /* into quant_staging; NULL until a row changed */
    size_t nstaged;
};

static enum quant_code appender_open(struct quant_series_store *s, const char *table,
                                     duckdb_appender *out, struct quant_err *err)
{
    if (duckdb_appender_create(s->con, NULL, table, out) == DuckDBSuccess)
        return QUANT_OK;
    char what[64];
    snprintf(what, sizeof what, "appending to %s", table);
    quant_series_store_fail_(s, what, *out ? duckdb_appender_error(*out) : NULL, err);
    duckdb_appender_destroy(out);
    *out = NULL;
    return QUANT_ESTORE;
}

static enum quant_code stage(struct quant_series_store *s, struct writer *w,
                             const struct row_consts *k, const struct quant_bar *v, size_t n,
                             struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    if (n == 0)
        return QUANT_OK;
    if (!w->staged) {
        rc = exec_sql(s, "DELETE FROM quant_staging", "clearing the staging table", err);
        if (!rc)
            rc = appender_open(s, "quant_staging", &w->staged, err);
        if (rc)
            return rc;
    }
    w->nstaged += n;
    return append_bars(s, w->staged, k, v, n, err);
}

/* Flush both appenders, then apply the staged changes in one upsert. */
static enum quant_code writer_finish(struct quant_series_store *s, struct writer *w,
                                     struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    if (w->rows && duckdb_appender_close(w->rows) == DuckDBError)
        rc = append_error(s, w->rows, err);
    if (!rc && w->staged && duckdb_appender_close(w->staged) == DuckDBError)
        rc = append_error(s, w->staged, err);
    if (!rc && w->nstaged)
        rc = exec_sql(s,
                      "INSERT INTO ohlcv SELECT * FROM quant_staging"
                      " ON CONFLICT (symbol, date) DO UPDATE SET"
                      " open = excluded.open, high = excluded.high, low = excluded.low,"
                      " close = excluded.close, adj_close = excluded.adj_close,"
                      " volume = excluded.volume, dividend = excluded.dividend,"
                      " split_coefficient = excluded.split_coefficient,"
                      " source = excluded.source, ingested_at = excluded.ingested_at,"
                      " quality = excluded.quality",
                      "updating changed rows", err);
    return rc;
}

static void writer_release(struct writer *w)
{
    /* destroy also flushes: harmless after a close, and after a failure the
     * transaction is rolled back anyway */
    if (w->rows)
        duckdb_appender_destroy(&w->rows);
    if (w->staged)
        duckdb_appender_destroy(&w->staged);
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int same_bar(const struct quant_bar *a, const struct quant_bar *b)
{
    return same(a->open, b->open) && same(a->high, b->high) && same(a->low, b->low) &&
           same(a->close, b->close) && same(a->adj_close, b->adj_close) &&
           same(a->volume, b->volume) && same(a->dividend, b->dividend) &&
           same(a->split, b->split) && a->quality == b->quality;
}

/* Fill the incoming bars' adjustment against the stored ones (adjust.h). */
static int adjust(const struct quant_bars *old, struct quant_bars *in,
                  struct quant_upsert_stats *st)
{
    struct quant_adjust_report rep;
    if (quant_adjust_merge(old, in, &rep))
        return -1;
    st->adj_carried = rep.carried;
    st->jumps = rep.jumps;
    st->first_jump = rep.first_jump;
    st->first_jump_ratio = rep.first_jump_ratio;
    return 0;
}

/*
 * The symbol already has rows: diff against them in C (both sides sorted by
 * date).  New dates are appended straight into ohlcv; changed rows go to the
 * staging table for one set-based UPDATE at the end of the call; identical
 * rows are not touched, so an unchanged re-ingest writes nothing and keeps
 * ingested_at.  The counts are exact by construction.  Comparison is
 * NULL-safe (NaN == NaN here, as IS NOT DISTINCT FROM would say) and covers
 * the eight values, not source: source tells who last changed the values.
 */
static enum quant_code upsert_existing(struct quant_series_store *s, struct writer *w,
                                       const struct row_consts *k, const char *sym,
                                       struct quant_bars *in, struct quant_upsert_stats *st,
                                       struct quant_err *err)
{
    struct quant_bars old, changed;
    quant_bars_init(&old);
    quant_bars_init(&changed);
    enum quant_code rc = read_bars(s, sym, &old, err);
    if (!rc && adjust(&old, in, st))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    size_t fresh = 0, j = 0;
    for (size_t i = 0; !rc && i < in->n; i++) {
        while (j < old.n && old.v[j].date < in->v[i].date)
            j++;
        if (j < old.n && old.v[j].date == in->v[i].date) {
            if (same_bar(&old.v[j], &in->v[i]))
                st->unchanged++;
            else if (quant_bars_push(&changed, &in->v[i]))
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        } else {
            in->v[fresh++] = in->v[i]; /* compact the new dates to the front */
        }
    }
    if (!rc)
        rc = stage(s, w, k, changed.v, changed.n, err);
    if (!rc)
        rc = append_bars(s, w->rows, k, in->v, fresh, err);
    if (!rc) {
        st->updated = (long)changed.n;
        st->inserted = (long)fresh;
    }
    quant_bars_release(&old);
    quant_bars_release(&changed);
    return rc;
}

static enum quant_code upsert_one(struct quant_series_store *s, struct writer *w,
                                  const struct quant_bars *bars, const char *sym,
                                  const char *source, int replace, int64_t ts,
                                  struct quant_upsert_stats *st, struct quant_err *err)
{
    memset(st, 0, sizeof *st);
    struct quant_bars in;
    if (dedupe(bars, &in))
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct row_consts k = {duckdb_create_varchar(sym), duckdb_create_varchar(source),
                           duckdb_create_timestamp((duckdb_timestamp){ts})};
    enum quant_code rc = QUANT_OK;
    int fresh = !known_has(s, sym);
    if (!fresh) {
        /* One lineage per symbol: refuse another source, or replace on request. */
        rc = quant_series_store_lineage_(s, sym, source, replace, st->replaced_sources,
                                         sizeof st->replaced_sources, err);
        if (!rc && replace) {
            rc = quant_series_store_forget_(s, sym, err);
            fresh = !rc;
            st->replaced = !rc;
        }
    }
    if (rc) {
        /* refused or failed: nothing of this symbol is written */
    } else if (fresh) {
        /* Nothing stored (any more), so no key can collide: append straight in. */
        struct quant_bars none;
        quant_bars_init(&none);
        if (adjust(&none, &in, st))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        if (!rc)
            rc = append_bars(s, w->rows, &k, in.v, in.n, err);
        if (!rc)
            st->inserted = (long)in.n;
    } else {
        rc = upsert_existing(s, w, &k, sym, &in, st, err);
    }
    duckdb_destroy_value(&k.symbol);
    duckdb_destroy_value(&k.source);
    duckdb_destroy_value(&k.ingested);
    quant_bars_release(&in);
    return rc;
}

static void rollback(struct quant_series_store *s)
{
    duckdb_result r;
    duckdb_query(s->con, "ROLLBACK", &r);
    duckdb_destroy_result(&r);
}

static enum quant_code check_batch(const struct quant_series_store *s,
                                   const struct quant_bars *series, size_t n,
                                   const char *source, char (*syms)[QUANT_SYMBOL_MAX + 1],
                                   struct quant_err *err)
{
    if (s->read_only)
        return quant_err_set(err, QUANT_EREADONLY,
                             "store %s was opened read-only; writing needs a read-write open",
                             s->path);
    if (!source || !*source)
        return quant_err_set(err, QUANT_EINVAL, "series store: a source name is required");
    for (size_t i = 0; i < n; i++) {
        enum quant_code rc = norm_symbol(series[i].symbol, syms[i], err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(syms[i], syms[j]) == 0)
                return quant_err_set(err, QUANT_EINVAL,
                                     "series store: %s appears twice in one batch; merge the "
                                     "series first",
                                     syms[i]);
    }
    return QUANT_OK;
}

/* Why a bar breaks ohlcv's constraints, or NULL when it does not. */
static const char *bad_bar(const struct quant_bar *b)
{
    if (isnan(b->open)) return "has no open price";
    if (isnan(b->high)) return "has no high price";
    if (isnan(b->low)) return "has no low price";
    if (isnan(b->close)) return "has no close price";
    if (isnan(b->volume)) return "has no volume";
    if (b->volume < 0) return "has a negative volume";
    return NULL;
}

/*
 * Name what failed.  The appender flushes when its buffer fills, so a
 * constraint failure can surface while a later symbol is being appended;
 * rather than flush per symbol (6% slower), find the offending bar in C.
 */
static void upsert_failed(const struct quant_bars *series, size_t n,
                          char (*syms)[QUANT_SYMBOL_MAX + 1], struct quant_err *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < series[i].n; j++) {
            const char *why = bad_bar(&series[i].v[j]);
            if (why) {
                char d[11];
                quant_date_format(series[i].v[j].date, d);
                quant_err_prefix(err, "upsert of %s failed (its bar of %s %s), nothing of this "
                                      "call was written: ", syms[i], d, why);
                return;
            }
        }
    if (err && err->code == QUANT_ELINEAGE)
        return; /* the refusal names the symbol and the remedy already */
    if (n == 1)
        quant_err_prefix(err, "upsert of %s failed, nothing of this call was written: ",
                         syms[0]);
    else
        quant_err_prefix(err, "upsert of %zu symbols (%s ... %s) failed, nothing of this call "
                              "was written: ", n, syms[0], syms[n - 1]);
}

/* The body of one upsert transaction (BEGIN is done, COMMIT is the caller's). */
static enum quant_code upsert_all(struct quant_series_store *s, const struct quant_bars *series,
                                  size_t n, char (*syms)[QUANT_SYMBOL_MAX + 1],
                                  const char *source, int replace,
                                  struct quant_upsert_stats *stats, struct quant_err *err)
{
    struct writer w = {NULL, NULL, 0};
    enum quant_code rc = appender_open(s, "ohlcv", &w.rows, err);
    int64_t ts = now_micros(); /* one ingested_at per call, in UTC */
    for (size_t i = 0; i < n && !rc; i++)
        rc = upsert_one(s, &w, &series[i], syms[i], source, replace, ts, &stats[i], err);
    if (!rc)
        rc = writer_finish(s, &w, err);
    if (rc)
        upsert_failed(series, n, syms, err);
    writer_release(&w);
    return rc;
}

enum quant_code quant_series_store_upsert_many(struct quant_series_store *s,
                                               const struct quant_bars *series, size_t n,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err)
{
    return quant_series_store_write(s, series, n, source, NULL, stats, err);
}

enum quant_code quant_series_store_write(struct quant_series_store *s,
                                         const struct quant_bars *series, size_t n,
                                         const char *source,
                                         const struct quant_write_options *opts,
                                         struct quant_upsert_stats *stats,
                                         struct quant_err *err)
{
    int replace = opts && opts->replace;
    if (n == 0)
        return QUANT_OK;
    char(*syms)[QUANT_SYMBOL_MAX + 1] = calloc(n, sizeof *syms);
    struct quant_upsert_stats *st = calloc(n, sizeof *st);
    if (!syms || !st) {
        free(syms);
        free(st);
        return quant_err_set(err, QUANT_ENOMEM, "series store: out of memory");
    }
    enum quant_code rc = check_batch(s, series, n, source, syms, err);
    if (!rc && !s->known_valid)
        rc = known_load(s, err);
    if (!rc && !(rc = exec_sql(s, "BEGIN TRANSACTION", "starting the upsert", err))) {
        rc = upsert_all(s, series, n, syms, source, replace, st, err);
        if (!rc)
            rc = exec_sql(s, "COMMIT", "committing the upsert", err);
        if (rc)
            rollback(s);
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            if ((series[i].n && known_add(s, syms[i])) || (st[i].replaced && !series[i].n))
                s->known_valid = 0; /* out of memory, or a symbol emptied: reload next time */
        if (stats)
            memcpy(stats, st, n * sizeof *st);
    }
    free(syms);
    free(st);
    return rc;
}

enum quant_code quant_series_store_upsert_bars(struct quant_series_store *s,
                                               const struct quant_bars *bars,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err)
{
    struct quant_upsert_stats one;
    memset(&one, 0, sizeof one);
    enum quant_code rc = quant_series_store_upsert_many(s, bars, 1, source, &one, err);
    if (stats)
        *stats = one;
    return rc;
}

/* ---- summaries ----------------------------------------------------------- */

static enum quant_code summary_rows(struct quant_series_store *s, duckdb_result *res,
                                    struct quant_series_summary **out, size_t *out_n,
                                    struct quant_err *err)
{
    size_t n = 0, cap = 0;
    struct quant_series_summary *v = NULL;
    enum quant_code rc = QUANT_OK;
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(*res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        if (n + m > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            while (ncap < n + m)
                ncap *= 2;
            void *p = realloc(v, ncap * sizeof *v);
            if (!p)
                rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
            else
                v = p, cap = ncap;
        }
        if (!rc) {
            duckdb_vector sym = duckdb_data_chunk_get_vector(c, 0);
            const int64_t *cnt = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
            const int32_t *lo = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 2));
            const int32_t *hi = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 3));
            const int64_t *q[4];
            for (int k = 0; k < 4; k++)
                q[k] = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, (idx_t)(4 + k)));
            for (idx_t i = 0; i < m; i++, n++) {
                vec_string(sym, i, v[n].symbol, sizeof v[n].symbol);
                v[n].bars = (long)cnt[i];
                v[n].first_date = lo[i];
                v[n].last_date = hi[i];
                v[n].repaired = (long)q[0][i];
                v[n].gaps = (long)q[1][i];
                v[n].jumps = (long)q[2][i];
                v[n].carried = (long)q[3][i];
            }
        }
        duckdb_destroy_data_chunk(&c);
    }
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/* The aggregates summary_rows reads after the symbol (bits as in bars.h). */
static const char *summary_columns(const struct quant_series_store *s)
{
    if (s->version < 2)
        return "count(*)::BIGINT, min(date), max(date), 0::BIGINT, 0::BIGINT, 0::BIGINT,"
               " 0::BIGINT";
    return "count(*)::BIGINT, min(date), max(date),"
           " count(*) FILTER (WHERE quality & 7 <> 0)::BIGINT,"
           " count(*) FILTER (WHERE quality & 8 <> 0)::BIGINT,"
           " count(*) FILTER (WHERE quality & 32 <> 0)::BIGINT,"
           " count(*) FILTER (WHERE quality & 16 <> 0)::BIGINT";
}

enum quant_code quant_series_store_summary(struct quant_series_store *s,
                                           struct quant_series_summary **out, size_t *out_n,
                                           struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    duckdb_result res;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT symbol, %s FROM ohlcv GROUP BY symbol ORDER BY symbol",
             summary_columns(s));
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        quant_series_store_fail_(s, "summary", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return QUANT_ESTORE;
    }
    enum quant_code rc = summary_rows(s, &res, out, out_n, err);
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_series_store_symbol_summary(struct quant_series_store *s,
                                                  const char *symbol,
                                                  struct quant_series_summary *out,
                                                  struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = norm_symbol(symbol, sym, err);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT symbol, %s FROM ohlcv WHERE symbol = $1 GROUP BY symbol",
             summary_columns(s));
    if (!rc)
        rc = prepare(s, &s->one_sum, sql, err);
    if (rc)
        return rc;
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    duckdb_result res;
    if (duckdb_bind_varchar(s->one_sum, 1, sym) == DuckDBError ||
        duckdb_execute_prepared(s->one_sum, &res) == DuckDBError) {
        char what[64];
        snprintf(what, sizeof what, "summary of %s", sym);
        quant_series_store_fail_(s, what, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return QUANT_ESTORE;
    }
    struct quant_series_summary *v = NULL;
    size_t n = 0;
    rc = summary_rows(s, &res, &v, &n, err);
    duckdb_destroy_result(&res);
    if (!rc && n == 1)
        *out = v[0];
    free(v);
    return rc;
}

/* ---- ad-hoc queries (quant sql) ----------------------------------------- */

/* One cell as malloc'd text (NULL for SQL NULL); *oom set on failure. */
static char *cell_text(duckdb_result *res, duckdb_type t, idx_t col, idx_t row, int *oom)
{
    if (duckdb_value_is_null(res, col, row))
        return NULL;
    char buf[64];
    const char *txt = NULL;
    if (t == DUCKDB_TYPE_DOUBLE || t == DUCKDB_TYPE_FLOAT) {
        quant_sql_fmt_double_(duckdb_value_double(res, col, row), buf, sizeof buf);
        txt = buf;
    } else if (t == DUCKDB_TYPE_DATE) {
        duckdb_date d = duckdb_value_date(res, col, row);
        if (duckdb_is_finite_date(d)) {
            quant_date_format(d.days, buf);
            txt = buf;
        }
    } else if (t == DUCKDB_TYPE_TIMESTAMP) {
        duckdb_timestamp ts = duckdb_value_timestamp(res, col, row);
        if (duckdb_is_finite_timestamp(ts)) {
            quant_sql_fmt_timestamp_(ts.micros, buf, sizeof buf);
            txt = buf;
        }
    } else if (t == DUCKDB_TYPE_BOOLEAN) {
        txt = duckdb_value_boolean(res, col, row) ? "true" : "false";
    }
    char *out;
    if (txt) {
        out = strdup(txt);
    } else { /* everything else as DuckDB's own cast to VARCHAR */
        char *v = duckdb_value_varchar(res, col, row);
        out = strdup(v ? v : "");
        duckdb_free(v);
    }
    if (!out)
        *oom = 1;
    return out;
}

static enum quant_code query_error(struct quant_series_store *s, const char *msg,
                                   struct quant_err *err)
{
    if (!msg)
        msg = "unknown DuckDB error";
    if (s->read_only && (strstr(msg, "read-only") || strstr(msg, "read only")))
        return quant_err_set(err, QUANT_ESTORE,
                             "%s (quant sql is read-only: it opens the store read-only; change "
                             "data with quant's own commands)",
                             msg);
    return quant_err_set(err, QUANT_ESTORE, "%s", msg);
}

static int is_nested(duckdb_type t)
{
    return t == DUCKDB_TYPE_LIST || t == DUCKDB_TYPE_STRUCT || t == DUCKDB_TYPE_MAP ||
           t == DUCKDB_TYPE_ARRAY || t == DUCKDB_TYPE_UNION;
}

/*
 * The legacy value API cannot turn LIST/STRUCT/MAP cells into text, and the
 * C API has no per-vector value access.  So a result with such columns is
 * read again with every column cast to VARCHAR by DuckDB; all cells then come
 * from that second run, since an unordered query may return rows in another
 * order.  Only done for a SELECT, which is harmless to repeat.
 */
static int rerun_as_text(struct quant_series_store *s, const char *sql, duckdb_result *res)
{
    size_t len = strlen(sql);
    while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
                   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
        len--;
    size_t cap = len + 96;
    char *q = malloc(cap);
    if (!q)
        return -1;
    snprintf(q, cap, "SELECT COLUMNS(*)::VARCHAR FROM (%.*s) AS quant_sql_text", (int)len, sql);
    int rc = duckdb_query(s->con, q, res) == DuckDBSuccess ? 0 : -1;
    if (rc)
        duckdb_destroy_result(res);
    free(q);
    return rc;
}

enum quant_code quant_series_store_query(struct quant_series_store *s, const char *sql,
                                         size_t max_rows, struct quant_table *out,
                                         struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    if (!sql || !*sql)
        return quant_err_set(err, QUANT_EINVAL, "sql: an SQL statement is required");
    if (!s->read_only)
        s->known_valid = 0; /* the statement may change which symbols have rows */
    duckdb_result res;
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        enum quant_code rc = query_error(s, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    size_t ncols = duckdb_column_count(&res);
    out->ncols = ncols;
    out->col_names = calloc(ncols ? ncols : 1, sizeof *out->col_names);
    out->col_numeric = calloc(ncols ? ncols : 1, sizeof *out->col_numeric);
    int oom = !out->col_names || !out->col_numeric, nested = 0;
    for (size_t c = 0; c < ncols && !oom; c++) {
        out->col_names[c] = strdup(duckdb_column_name(&res, c));
        oom = !out->col_names[c];
        out->col_numeric[c] = quant_sql_type_id_numeric_(duckdb_column_type(&res, c));
        nested |= is_nested(duckdb_column_type(&res, c));
    }
    duckdb_result text;
    if (nested && !oom && duckdb_result_statement_type(res) == DUCKDB_STATEMENT_TYPE_SELECT &&
        rerun_as_text(s, sql, &text) == 0) {
        if (duckdb_column_count(&text) == ncols) {
            duckdb_destroy_result(&res);
            res = text;
        } else {
            duckdb_destroy_result(&text);
        }
    }
    size_t nrows = duckdb_row_count(&res);
    if (max_rows && nrows > max_rows)
        nrows = max_rows;
    size_t ncells = ncols * nrows;
    out->cells = calloc(ncells ? ncells : 1, sizeof *out->cells);
    oom |= !out->cells;
    for (size_t r = 0; r < nrows && !oom; r++, out->nrows++)
        for (size_t c = 0; c < ncols && !oom; c++)
            out->cells[r * ncols + c] = cell_text(&res, duckdb_column_type(&res, c), c, r, &oom);
    duckdb_destroy_result(&res);
    if (oom) {
        quant_table_release(out);
        return quant_err_set(err, QUANT_ENOMEM, "sql: out of memory holding the result");
    }
    return QUANT_OK;
}

void quant_table_release(struct quant_table *t)
{
    if (!t)
        return;
    if (t->cells)
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
            free(t->cells[i]);
    if (t->col_names)
        for (size_t i = 0; i < t->ncols; i++)
            free(t->col_names[i]);
    free(t->cells);
    free(t->col_names);
    free(t->col_numeric);
    memset(t, 0, sizeof *t);
}
