/*
 * duck.c: the DuckDB handle behind series_store.h and every table file of
 * lib/store: opening (lock retry, the sandbox of quant sql), closing, and the
 * helpers they share, so a DuckDB error is translated once, here, into a
 * quant code and a message that names the file and what to do.  Which tables
 * exist and how old files are migrated is schema.c's; what goes into them is
 * the table files'.  It must not print, exit, or read configuration.
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

#include "quant/clock.h"
#include "core/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

/* ---- small helpers ------------------------------------------------------ */


/*
 * What to do about a DuckDB failure whose words show a cause the user can act
 * on ("" when they do not): DuckDB reports a full disk, a folder it may not
 * write and a cut-short file in its own terms, which name no remedy.
 */
const char *quant_duck_advice_(const char *msg)
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
                         quant_duck_advice_(msg));
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


void quant_duck_rollback_(struct quant_series_store *s)
{
    duckdb_result r;
    duckdb_query(s->con, "ROLLBACK", &r);
    duckdb_destroy_result(&r);
}

enum quant_code quant_duck_prepare_(struct quant_series_store *s, duckdb_prepared_statement *st,
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

enum quant_code quant_duck_appender_(struct quant_series_store *s, const char *table,
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

enum quant_code quant_duck_append_error_(struct quant_series_store *s, duckdb_appender app,
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
    return quant_err_set(err, QUANT_ESTORE, "store %s: %s%s", s->path, m, quant_duck_advice_(m));
}

struct row_consts {
    duckdb_value symbol, source, ingested; /* the same in every row of a call */
};


enum quant_code quant_duck_quote_(struct quant_buf *b, const char *text)
{
    enum quant_code rc = quant_buf_append(b, "'", 1);
    for (const char *p = text; !rc && *p; p++)
        rc = quant_buf_append(b, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
    return rc ? rc : quant_buf_append(b, "'", 1);
}

void quant_duck_vec_string_(duckdb_vector v, idx_t row, char *out, size_t cap)
{
    duckdb_string_t *d = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
    uint32_t len = duckdb_string_t_length(*d);
    const char *p = duckdb_string_t_data(d);
    if (len >= cap)
        len = (uint32_t)(cap - 1);
    memcpy(out, p, len);
    out[len] = '\0';
}

double quant_duck_vec_double_(duckdb_vector v, idx_t row)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid && !(valid[row / 64] & ((uint64_t)1 << (row % 64))))
        return NAN;
    return ((const double *)duckdb_vector_get_data(v))[row];
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

enum quant_code quant_duck_symbol_(const char *in, char out[QUANT_SYMBOL_MAX + 1],
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
                         quant_duck_advice_(msg));
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
    double t0 = quant_clock_mono();
    for (;;) {
        char *msg = NULL;
        if (duckdb_open_ext(s->path, &s->db, cfg, &msg) == DuckDBSuccess) {
            duckdb_destroy_config(&cfg);
            return QUANT_OK;
        }
        s->db = NULL;
        long waited = (long)((quant_clock_mono() - t0) * 1000.0);
        if (is_lock_error(msg) && waited < o->lock_timeout_ms) {
            duckdb_free(msg);
            long left = o->lock_timeout_ms - waited;
            quant_clock_sleep_ms((double)(left < 100 ? left : 100));
            continue;
        }
        rc = open_error(s->path, msg, waited, err);
        duckdb_free(msg);
        duckdb_destroy_config(&cfg);
        return rc;
    }
}

/*
 * The sandbox with one writable file or folder: allow that path, then turn external
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
    size_t n = strlen(o->sandbox_write_path);
    int dir = n > 1 && o->sandbox_write_path[n - 1] == '/';
    enum quant_code rc =
        quant_buf_printf(&sql, "SET %s = [", dir ? "allowed_directories" : "allowed_paths");
    if (!rc)
        rc = quant_duck_quote_(&sql, o->sandbox_write_path);
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
    static const duckdb_type ids[OHLCV_NCOLS] = {
        DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_DATE,   DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,  DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,  DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_TIMESTAMP,
        DUCKDB_TYPE_UTINYINT};
    for (int i = 0; i < OHLCV_NCOLS; i++)
        s->types[i] = duckdb_create_logical_type(ids[i]);
    s->chunk = duckdb_create_data_chunk(s->types, OHLCV_NCOLS);
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
    if ((o->sandbox && (rc = lock_down(s, o, err))) || (rc = quant_schema_init_(s, err)) ||
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
    for (int i = 0; i < OHLCV_NCOLS; i++)
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

