/*
 * meta_universes.c: universes in the metadata store (meta_store.h): one row
 * per universe and one per membership interval, written and replaced in one
 * transaction, so a reader sees a universe's old intervals or its new ones,
 * never a mix.  Validating a members file is the service's job (universe.c);
 * this file stores what it is given and reads it back in order.
 */
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

#define UNIVERSE_COLS \
    "name, source, created_at, symbols, intervals, first_date, last_date"

static int32_t col_date(struct meta_stmt *st, int col)
{
    const char *t = meta_column_text(st, col);
    int32_t d = 0;
    if (t)
        quant_date_parse(t, strlen(t), &d);
    return d;
}

static void read_universe(struct meta_stmt *st, struct quant_universe_record *r)
{
    memset(r, 0, sizeof *r);
    quant_meta_col_text_(st, 0, r->name, sizeof r->name);
    quant_meta_col_text_(st, 1, r->source, sizeof r->source);
    r->created_at = quant_meta_parse_iso_(meta_column_text(st, 2));
    r->n_symbols = (long)meta_column_int64(st, 3);
    r->n_intervals = (long)meta_column_int64(st, 4);
    r->first = col_date(st, 5);
    r->last = col_date(st, 6);
}

static void bind_date(struct meta_stmt *st, int i, int32_t days)
{
    char d[11];
    quant_date_format(days, d);
    quant_meta_bind_text_(st, i, d);
}

/* The stored record of name into out (may be NULL): 1 found, 0 not, -1 error. */
static int find(struct quant_meta_store *s, const char *name, struct quant_universe_record *out,
                struct quant_err *err)
{
    struct meta_stmt *st;
    if (quant_meta_prep_(s, "SELECT " UNIVERSE_COLS " FROM universes WHERE lower(name) = lower(?1)",
                         &st, err))
        return -1;
    quant_meta_bind_text_(st, 1, name);
    int step = meta_step(st);
    if (step == META_ROW && out)
        read_universe(st, out);
    meta_finalize(st);
    if (step != META_ROW && step != META_DONE) {
        quant_meta_db_error_(s, "reading a universe", err);
        return -1;
    }
    return step == META_ROW;
}

static enum quant_code not_found(const char *name, struct quant_err *err)
{
    return quant_err_set(err, QUANT_ENOTFOUND,
                         "no universe named '%.80s': `quant universe list` shows the stored "
                         "ones", name);
}

static enum quant_code insert_record(struct quant_meta_store *s,
                                     const struct quant_universe_record *rec,
                                     struct quant_err *err)
{
    char at[32];
    quant_meta_iso_time_(rec->created_at ? rec->created_at : (int64_t)time(NULL), at);
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO universes (" UNIVERSE_COLS ")"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, rec->name);
    quant_meta_bind_text_(st, 2, rec->source);
    quant_meta_bind_text_(st, 3, at);
    meta_bind_int64(st, 4, rec->n_symbols);
    meta_bind_int64(st, 5, rec->n_intervals);
    bind_date(st, 6, rec->first);
    bind_date(st, 7, rec->last);
    return quant_meta_step_done_(s, st, "storing a universe", NULL, err);
}

/* One prepared statement for every interval: a 10,000-line file is one
 * transaction of reused inserts, a few milliseconds. */
static enum quant_code insert_intervals(struct quant_meta_store *s, const char *name,
                                        const struct quant_universe_interval *iv, size_t n,
                                        struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "INSERT INTO universe_members (universe, symbol, start_date,"
                              " end_date) VALUES (?1, ?2, ?3, ?4)",
                              &st, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        meta_reset(st);
        quant_meta_bind_text_(st, 1, name);
        quant_meta_bind_text_(st, 2, iv[i].symbol);
        bind_date(st, 3, iv[i].start);
        bind_date(st, 4, iv[i].end);
        if (meta_step(st) != META_DONE)
            rc = quant_meta_db_error_(s, "storing a universe's intervals", err);
    }
    meta_finalize(st);
    return rc;
}

enum quant_code quant_meta_universe_put(struct quant_meta_store *s,
                                        const struct quant_universe_record *rec,
                                        const struct quant_universe_interval *iv, size_t n,
                                        int replace, int *out_replaced, struct quant_err *err)
{
    if (!rec->name[0] || n == 0)
        return quant_err_set(err, QUANT_EINVAL, "a universe needs a name and at least one "
                             "interval");
    for (size_t i = 0; i < n; i++)
        if (iv[i].start > iv[i].end)
            return quant_err_set(err, QUANT_EINVAL, "universe %s: an interval of %s ends "
                                 "before it starts", rec->name, iv[i].symbol);
    /* IMMEDIATE: the existence check and the swap see the same state even
     * with another writer. */
    enum quant_code rc = quant_meta_begin_(s, META_TX_WRITE, "storing a universe", err);
    if (rc)
        return rc;
    struct quant_universe_record old;
    int found = find(s, rec->name, &old, err);
    if (found < 0)
        rc = err->code;
    else if (found && !replace)
        rc = quant_err_set(err, QUANT_EINVAL,
                           "universe %s already exists (%ld symbols, %ld intervals): add "
                           "--replace to swap its members for the file's, or `quant universe "
                           "remove %s` first", old.name, old.n_symbols, old.n_intervals,
                           old.name);
    struct meta_stmt *del;
    if (!rc && found &&
        !(rc = quant_meta_prep_(s, "DELETE FROM universes WHERE lower(name) = lower(?1)",
                                &del, err))) {
        quant_meta_bind_text_(del, 1, rec->name);
        rc = quant_meta_step_done_(s, del, "replacing a universe", NULL, err);
    }
    if (!rc)
        rc = insert_record(s, rec, err);
    if (!rc)
        rc = insert_intervals(s, rec->name, iv, n, err);
    if (!rc)
        rc = quant_meta_commit_(s, "storing a universe", err);
    if (rc) {
        quant_meta_rollback_(s);
        return rc;
    }
    if (out_replaced)
        *out_replaced = found;
    return QUANT_OK;
}

enum quant_code quant_meta_universe_list(struct quant_meta_store *s,
                                         struct quant_universe_record **out, size_t *out_n,
                                         struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, "SELECT " UNIVERSE_COLS " FROM universes"
                                             " ORDER BY lower(name), name", &st, err);
    if (rc)
        return rc;
    struct quant_universe_record *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = meta_step(st)) == META_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(v, cap * sizeof *v);
            if (!p) {
                rc = quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
                break;
            }
            v = p;
        }
        read_universe(st, &v[n++]);
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "listing universes", err);
    meta_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

static enum quant_code read_intervals(struct quant_meta_store *s, const char *name,
                                      struct quant_universe_interval **out, size_t *out_n,
                                      struct quant_err *err)
{
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT symbol, start_date, end_date FROM universe_members"
                              " WHERE universe = ?1 ORDER BY symbol, start_date",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, name);
    struct quant_universe_interval *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = meta_step(st)) == META_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            void *p = realloc(v, cap * sizeof *v);
            if (!p) {
                rc = quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
                break;
            }
            v = p;
        }
        memset(&v[n], 0, sizeof v[n]);
        quant_meta_col_text_(st, 0, v[n].symbol, sizeof v[n].symbol);
        v[n].start = col_date(st, 1);
        v[n].end = col_date(st, 2);
        n++;
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "reading a universe's intervals", err);
    meta_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_meta_universe_get(struct quant_meta_store *s, const char *name,
                                        struct quant_universe_record *out,
                                        struct quant_universe_interval **out_iv,
                                        size_t *out_n, struct quant_err *err)
{
    if (out_iv)
        *out_iv = NULL;
    if (out_n)
        *out_n = 0;
    /* One read transaction: the record and its intervals from one state,
     * even while `add --replace` swaps them in another process. */
    enum quant_code rc = quant_meta_begin_(s, META_TX_READ, "reading a universe", err);
    if (rc)
        return rc;
    int found = find(s, name, out, err);
    if (found < 0)
        rc = err->code;
    else if (!found)
        rc = not_found(name, err);
    else if (out_iv)
        rc = read_intervals(s, out->name, out_iv, out_n, err);
    quant_meta_rollback_(s); /* it only read */
    return rc;
}

enum quant_code quant_meta_universe_remove(struct quant_meta_store *s, const char *name,
                                           struct quant_universe_record *out,
                                           struct quant_err *err)
{
    enum quant_code rc = quant_meta_begin_(s, META_TX_WRITE, "removing a universe", err);
    if (rc)
        return rc;
    struct quant_universe_record old;
    int found = find(s, name, &old, err);
    if (found < 0)
        rc = err->code;
    else if (!found)
        rc = not_found(name, err);
    struct meta_stmt *st;
    if (!rc && !(rc = quant_meta_prep_(s, "DELETE FROM universes WHERE lower(name) = lower(?1)",
                                       &st, err))) {
        quant_meta_bind_text_(st, 1, name);
        rc = quant_meta_step_done_(s, st, "removing a universe", NULL, err);
    }
    if (!rc)
        rc = quant_meta_commit_(s, "removing a universe", err);
    if (rc) {
        quant_meta_rollback_(s);
        return rc;
    }
    if (out)
        *out = old;
    return QUANT_OK;
}

enum quant_code quant_meta_universe_without_bars(struct quant_meta_store *s, const char *name,
                                                 char ***out, size_t *out_n,
                                                 struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    /* ingest_runs_symbol (symbol, id) answers each NOT EXISTS by index. */
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT DISTINCT symbol FROM universe_members m"
                              " WHERE lower(universe) = lower(?1) AND NOT EXISTS (SELECT 1 FROM ingest_runs r"
                              "  WHERE r.symbol = m.symbol AND r.status = 'ok')"
                              " ORDER BY symbol",
                              &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, name);
    char **v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = meta_step(st)) == META_ROW) {
        char **nv = n < cap ? v : realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *nv);
        const char *t = meta_column_text(st, 0);
        if (nv)
            v = nv;
        if (!nv || !(v[n] = strdup(t ? t : ""))) {
            rc = quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
            break;
        }
        n++;
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "checking a universe's symbols", err);
    meta_finalize(st);
    if (rc) {
        quant_strings_free(v, n);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}
