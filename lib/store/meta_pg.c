/*
 * meta_pg.c: the PostgreSQL driver of the metadata store (meta_db.h), over
 * libpq.  The only file that includes libpq-fe.h.
 *
 * A statement is its SQL rewritten to $n placeholders plus its bound values
 * as text; the first step sends both with PQexecParams (values never enter
 * the SQL text), and the rows of the answer are read from there.  Parameter
 * types are left to the server to infer from where each one is used.
 *
 * Writers serialise on a transaction-scoped advisory lock (META_TX_WRITE),
 * the counterpart of SQLite's BEGIN IMMEDIATE: a check-then-write (is this
 * symbol new? does this universe exist?) sees the state it writes over.
 * Readers that need one snapshot across statements use REPEATABLE READ.
 */
#define _GNU_SOURCE
#include "store/meta_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/banned.h"

/* The advisory lock key of quant's writers ("quantmeta" in ASCII, trimmed
 * to 63 bits): any fixed number no other application is likely to use. */
#define WRITE_LOCK_KEY "7384706184461697121"

struct meta_conn {
    PGconn *pg;
    char sqlstate[6];   /* of the last failure; "" when the connection failed */
    char msg[512];      /* the server's or libpq's words for it */
};

struct pg_stmt {
    struct meta_stmt base; /* first: the seam dispatches through it */
    struct meta_conn *c;
    char *sql;             /* with $n placeholders */
    int nparams;
    char **values;         /* nparams entries; NULL = SQL NULL */
    PGresult *res;         /* after the first step */
    int row;               /* the current row, -1 before the first */
    int64_t changes;
};

static const struct meta_driver pg_driver;

/* Remember a failure (from a result, or from the connection when res is NULL). */
static void note_failure(struct meta_conn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    snprintf(c->msg, sizeof c->msg, "%s", m ? m : PQerrorMessage(c->pg));
    /* libpq's messages end with a newline. */
    size_t n = strlen(c->msg);
    while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' '))
        c->msg[--n] = '\0';
}

char *meta_sql_to_pg(const char *sql, int *out_nparams)
{
    size_t n = strlen(sql);
    /* A placeholder becomes "$" and at most 6 digits (see the loop), so
     * eight bytes per input byte is always enough. */
    char *out = malloc(n * 8 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    int next = 0, max = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = sql[i];
        if (quote) {
            if (ch == quote)
                quote = 0; /* a doubled quote closes and reopens: same result */
            out[o++] = ch;
            continue;
        }
        if (ch == '\'' || ch == '"') {
            quote = ch;
            out[o++] = ch;
            continue;
        }
        if (ch != '?') {
            out[o++] = ch;
            continue;
        }
        int num = 0;
        size_t j = i + 1;
        while (j < n && sql[j] >= '0' && sql[j] <= '9' && num < 100000)
            num = num * 10 + (sql[j++] - '0');
        if (j == i + 1)
            num = ++next;
        else
            next = num;
        if (num > max)
            max = num;
        o += (size_t)snprintf(out + o, 8, "$%d", num);
        i = j - 1;
    }
    out[o] = '\0';
    *out_nparams = max;
    return out;
}

static struct pg_stmt *ps(struct meta_stmt *st) { return (struct pg_stmt *)st; }

static void clear_result(struct pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
}

static int p_prepare(struct meta_conn *c, const char *sql, struct meta_stmt **out)
{
    *out = NULL;
    struct pg_stmt *s = calloc(1, sizeof *s);
    if (s)
        s->sql = meta_sql_to_pg(sql, &s->nparams);
    if (s && s->sql && s->nparams > 0)
        s->values = calloc((size_t)s->nparams, sizeof *s->values);
    if (!s || !s->sql || (s->nparams > 0 && !s->values)) {
        if (s) {
            free(s->sql);
            free(s);
        }
        snprintf(c->sqlstate, sizeof c->sqlstate, "53200"); /* out_of_memory */
        snprintf(c->msg, sizeof c->msg, "out of memory");
        return -1;
    }
    s->base.drv = &pg_driver;
    s->c = c;
    s->row = -1;
    *out = &s->base;
    return 0;
}

/* Takes ownership of v; NULL sends SQL NULL (a failed copy too: the NOT
 * NULL constraints then refuse the row rather than store a wrong value). */
static void set_value(struct pg_stmt *s, int i, char *v)
{
    if (i < 1 || i > s->nparams) {
        free(v);
        return;
    }
    free(s->values[i - 1]);
    s->values[i - 1] = v;
}

static void p_bind_text(struct meta_stmt *st, int i, const char *v)
{
    set_value(ps(st), i, strdup(v ? v : ""));
}

static void p_bind_int64(struct meta_stmt *st, int i, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    set_value(ps(st), i, strdup(buf));
}

static void p_bind_double(struct meta_stmt *st, int i, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    set_value(ps(st), i, strdup(buf));
}

static void p_bind_null(struct meta_stmt *st, int i) { set_value(ps(st), i, NULL); }

static int p_step(struct meta_stmt *st)
{
    struct pg_stmt *s = ps(st);
    if (!s->res) {
        s->res = PQexecParams(s->c->pg, s->sql, s->nparams, NULL,
                              (const char *const *)s->values, NULL, NULL, 0);
        ExecStatusType es = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
        if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
            note_failure(s->c, s->res);
            clear_result(s);
            return META_FAIL;
        }
        /* Rows written: an INSERT/UPDATE/DELETE's count (with or without
         * RETURNING); a SELECT's row count is not a change. */
        const char *n = PQcmdTuples(s->res);
        s->changes = strncmp(PQcmdStatus(s->res), "SELECT", 6) != 0 && n && *n
                         ? strtoll(n, NULL, 10)
                         : 0;
    }
    if (s->row + 1 < PQntuples(s->res)) {
        s->row++;
        return META_ROW;
    }
    s->row = PQntuples(s->res);
    return META_DONE;
}

static void p_reset(struct meta_stmt *st) { clear_result(ps(st)); }

static void p_finalize(struct meta_stmt *st)
{
    struct pg_stmt *s = ps(st);
    clear_result(s);
    for (int i = 0; i < s->nparams; i++)
        free(s->values[i]);
    free(s->values);
    free(s->sql);
    free(s);
}

static const char *p_column_text(struct meta_stmt *st, int col)
{
    struct pg_stmt *s = ps(st);
    if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || col < 0 ||
        col >= PQnfields(s->res) || PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

static int64_t p_column_int64(struct meta_stmt *st, int col)
{
    const char *t = p_column_text(st, col);
    return t ? strtoll(t, NULL, 10) : 0;
}

static double p_column_double(struct meta_stmt *st, int col)
{
    const char *t = p_column_text(st, col);
    return t ? strtod(t, NULL) : 0.0;
}

static int64_t p_changes(struct meta_stmt *st) { return ps(st)->changes; }

static int p_exec(struct meta_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    ExecStatusType es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int failed = es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK;
    if (failed)
        note_failure(c, r);
    PQclear(r);
    return failed;
}

static int p_begin(struct meta_conn *c, enum meta_tx tx)
{
    if (tx == META_TX_READ)
        return p_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    if (p_exec(c, "BEGIN"))
        return 1;
    if (p_exec(c, "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")")) {
        char state[6], msg[512];
        memcpy(state, c->sqlstate, sizeof state);
        memcpy(msg, c->msg, sizeof msg);
        p_exec(c, "ROLLBACK");
        memcpy(c->sqlstate, state, sizeof state); /* report the lock, not the rollback */
        memcpy(c->msg, msg, sizeof msg);
        return 1;
    }
    return 0;
}

static enum quant_code p_error(struct meta_conn *c, const char *where, const char *what,
                               struct quant_err *err)
{
    const char *st = c ? c->sqlstate : "";
    const char *m = c ? c->msg : "out of memory";
    /* lock_not_available, deadlock, serialization failure: another writer. */
    if (!strcmp(st, "55P03") || !strcmp(st, "40P01") || !strcmp(st, "40001"))
        return quant_err_set(err, QUANT_ELOCKED,
                             "metadata store %s: %s: the database is busy (another quant "
                             "process is writing); try again when it has finished",
                             where, what);
    if (!strcmp(st, "53200"))
        return quant_err_set(err, QUANT_ENOMEM, "metadata store %s: %s: out of memory", where,
                             what);
    if (!strcmp(st, "25006"))
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s: %s: this session is read-only (%s)", where,
                             what, m);
    if (!c || !c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return quant_err_set(err, QUANT_ESTORE,
                             "metadata store %s: %s: %s; check that the server is running "
                             "and the URL's host, port, user and database are right",
                             where, what, m);
    return quant_err_set(err, QUANT_ESTORE, "metadata store %s: %s: %s", where, what, m);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void p_close(struct meta_conn *c)
{
    if (!c)
        return;
    PQfinish(c->pg);
    free(c);
}

static const struct meta_driver pg_driver = {
    .dialect = META_PG,
    .name = "PostgreSQL",
    .prepare = p_prepare,
    .bind_text = p_bind_text,
    .bind_int64 = p_bind_int64,
    .bind_double = p_bind_double,
    .bind_null = p_bind_null,
    .step = p_step,
    .reset = p_reset,
    .finalize = p_finalize,
    .column_text = p_column_text,
    .column_int64 = p_column_int64,
    .column_double = p_column_double,
    .changes = p_changes,
    .exec = p_exec,
    .begin = p_begin,
    .error = p_error,
    .close = p_close,
};

enum quant_code meta_pg_open(const char *url, const char *where, int read_only,
                             long busy_timeout_ms, const struct meta_driver **drv,
                             struct meta_conn **out, struct quant_err *err)
{
    *out = NULL;
    *drv = &pg_driver;
    struct meta_conn *c = calloc(1, sizeof *c);
    if (!c)
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    /* The URL expands into the parameters (expand_dbname); the timeout comes
     * after it, so it wins over one in the URL.  libpq wants whole seconds,
     * and reads 1 as 2. */
    char timeout[24];
    long secs = busy_timeout_ms > 0 ? (busy_timeout_ms + 999) / 1000 : 2;
    snprintf(timeout, sizeof timeout, "%ld", secs < 2 ? 2 : secs);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {url, timeout, "quant", NULL};
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg) {
        free(c);
        return quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        note_failure(c, NULL);
        enum quant_code rc = quant_err_set(err, QUANT_ESTORE,
                                           "cannot connect to metadata store %s: %s; check "
                                           "that the server is running and the URL's host, "
                                           "port, user and database are right",
                                           where, c->msg);
        p_close(c);
        return rc;
    }
    /* Waiting for a lock as long as SQLite would (0 would mean forever
     * here, so "do not wait" is the shortest wait instead).  Notices (such as
     * "relation exists") would go to stderr: quant never prints from the
     * library. */
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    char set[96];
    snprintf(set, sizeof set, "SET lock_timeout = %ld",
             busy_timeout_ms > 0 ? busy_timeout_ms : 1);
    const char *what = "setting the lock timeout";
    int failed = p_exec(c, set) || p_exec(c, "SET client_min_messages = warning");
    if (!failed && read_only) {
        what = "making the session read-only";
        failed = p_exec(c, "SET default_transaction_read_only = on");
    }
    if (failed) {
        enum quant_code rc = p_error(c, where, what, err);
        p_close(c);
        return rc;
    }
    *out = c;
    return QUANT_OK;
}
