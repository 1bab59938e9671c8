/*
 * meta_db.h: the backend seam of the metadata store (inside lib/store only).
 *
 * The table-family files (meta_symbols.c, meta_runs.c, ...) hold one SQL text
 * per statement, in a dialect both backends accept: numbered placeholders
 * ?1..?n (the PostgreSQL driver rewrites them to $1..$n), ON CONFLICT
 * upserts, RETURNING, CAST(?n AS TEXT) where a parameter's type could not be
 * inferred otherwise, and a few names the PostgreSQL schema provides so the
 * text stays the same (an instr() function, a rowid column: meta_migrate.c).
 * They run them through this small statement API; a driver implements it:
 *
 *   meta_sqlite.c  SQLite (the only file that includes sqlite3.h)
 *   meta_pg.c      PostgreSQL via libpq (the only file that includes libpq-fe.h)
 *
 * Every value is bound, never spliced into SQL text.  Text handed to a bind
 * call is copied by the driver.  Text a column reader returns belongs to the
 * statement and stays valid until the next step, reset or finalize.
 *
 * Ownership: a driver's open allocates the connection, close frees it;
 * prepare allocates a statement, finalize frees it (NULL is fine for both).
 */
#ifndef QUANT_META_DB_H
#define QUANT_META_DB_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"

enum meta_dialect { META_SQLITE = 0, META_PG = 1 };

/* What step answers. */
enum { META_DONE = 0, META_ROW = 1, META_FAIL = -1 };

/* META_TX_WRITE serialises writers (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
 * transaction-scoped advisory lock), so a check and the write that depends
 * on it see the same state.  META_TX_READ reads one consistent snapshot. */
enum meta_tx { META_TX_READ, META_TX_WRITE };

struct meta_conn;   /* a driver's connection */
struct meta_driver;

/* Every driver's statement starts with this, so the calls below dispatch. */
struct meta_stmt {
    const struct meta_driver *drv;
};

struct meta_driver {
    enum meta_dialect dialect;
    const char *name; /* "SQLite", "PostgreSQL": for messages */
    /* Non-zero on failure; the driver's error() then describes it. */
    int (*prepare)(struct meta_conn *c, const char *sql, struct meta_stmt **out);
    void (*bind_text)(struct meta_stmt *st, int i, const char *v);
    void (*bind_int64)(struct meta_stmt *st, int i, int64_t v);
    void (*bind_double)(struct meta_stmt *st, int i, double v);
    void (*bind_null)(struct meta_stmt *st, int i);
    int (*step)(struct meta_stmt *st); /* META_ROW, META_DONE or META_FAIL */
    void (*reset)(struct meta_stmt *st); /* run again; bindings are kept */
    void (*finalize)(struct meta_stmt *st);
    const char *(*column_text)(struct meta_stmt *st, int col); /* NULL for SQL NULL */
    int64_t (*column_int64)(struct meta_stmt *st, int col);
    double (*column_double)(struct meta_stmt *st, int col);
    /* Rows the statement inserted, updated or deleted (after its step). */
    int64_t (*changes)(struct meta_stmt *st);
    int (*exec)(struct meta_conn *c, const char *sql); /* non-zero on failure */
    int (*begin)(struct meta_conn *c, enum meta_tx tx);
    /* The connection's last failure as a quant code and a message naming
     * `where` (the file, or the URL with its password masked), what was being
     * done and, where there is one, the remedy. */
    enum quant_code (*error)(struct meta_conn *c, const char *where, const char *what,
                             struct quant_err *err);
    void (*close)(struct meta_conn *c);
};

static inline void meta_bind_text(struct meta_stmt *st, int i, const char *v)
{
    st->drv->bind_text(st, i, v);
}
static inline void meta_bind_int64(struct meta_stmt *st, int i, int64_t v)
{
    st->drv->bind_int64(st, i, v);
}
static inline void meta_bind_double(struct meta_stmt *st, int i, double v)
{
    st->drv->bind_double(st, i, v);
}
static inline void meta_bind_null(struct meta_stmt *st, int i) { st->drv->bind_null(st, i); }
static inline int meta_step(struct meta_stmt *st) { return st->drv->step(st); }
static inline void meta_reset(struct meta_stmt *st) { st->drv->reset(st); }
static inline void meta_finalize(struct meta_stmt *st)
{
    if (st)
        st->drv->finalize(st);
}
static inline const char *meta_column_text(struct meta_stmt *st, int col)
{
    return st->drv->column_text(st, col);
}
static inline int64_t meta_column_int64(struct meta_stmt *st, int col)
{
    return st->drv->column_int64(st, col);
}
static inline double meta_column_double(struct meta_stmt *st, int col)
{
    return st->drv->column_double(st, col);
}
static inline int64_t meta_changes(struct meta_stmt *st) { return st->drv->changes(st); }

/* Open a SQLite file.  read_only never creates or writes; a file in a folder
 * this user may not write is then read as immutable. */
enum quant_code meta_sqlite_open(const char *path, int read_only, long busy_timeout_ms,
                                 const struct meta_driver **drv, struct meta_conn **out,
                                 struct quant_err *err);

/* Connect to PostgreSQL.  `url` goes to libpq as it is; `where` (the URL
 * with its password masked) is what messages name.  read_only makes every
 * transaction of the session read-only. */
enum quant_code meta_pg_open(const char *url, const char *where, int read_only,
                             long busy_timeout_ms, const struct meta_driver **drv,
                             struct meta_conn **out, struct quant_err *err);

/*
 * The PostgreSQL form of a common-dialect statement: ?N -> $N, a bare ? ->
 * the next number; quoted text and identifiers are copied as they are.
 * *out_nparams gets the highest parameter number.  malloc'd; NULL when out
 * of memory.
 */
char *meta_sql_to_pg(const char *sql, int *out_nparams);

#endif
