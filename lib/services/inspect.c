/*
 * inspect.c: read-only views of the stores (status, ad-hoc SQL).  Opens DuckDB
 * read-only so it never blocks other readers and never changes a byte.
 */
#include "quant/inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <math.h>

#include "quant/feature_store.h"
#include "quant/features.h"
#include "quant/sql_query.h"
#include "core/banned.h"

static enum quant_code require_file(const char *path, struct quant_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return QUANT_OK;
    if (errno == ENOENT)
        return quant_err_set(err, QUANT_ENOTFOUND,
                             "no store at %s yet: run `quant init-db` (or `quant demo`) "
                             "first, or point --home / QUANT_HOME at an existing one", path);
    return quant_err_set(err, QUANT_EIO, "cannot read %s: %s", path, strerror(errno));
}

/* sandbox: for SQL a person wrote (sql_query.h); lock_ms < 0: the configured timeout. */
static enum quant_code open_series(const struct quant_config *cfg, int sandbox, long lock_ms,
                                   struct quant_series_store **out, struct quant_err *err)
{
    long threads = 2;
    enum quant_code rc = QUANT_OK;
    if (lock_ms < 0)
        rc = quant_config_get_long(cfg, QUANT_SET_LOCK_TIMEOUT_MS, 0, 86400000L, &lock_ms, err);
    if (!rc)
        rc = quant_config_get_long(cfg, QUANT_SET_THREADS, 1, 256, &threads, err);
    const char *path = quant_config_get(cfg, QUANT_SET_DUCKDB_PATH);
    if (!rc)
        rc = require_file(path, err);
    if (rc)
        return rc;
    struct quant_series_store_options o = {
        .read_only = 1,
        .threads = (int)threads,
        .memory_limit = quant_config_get(cfg, QUANT_SET_MEMORY_LIMIT),
        .lock_timeout_ms = lock_ms,
        .sandbox = sandbox,
    };
    rc = quant_series_store_open(path, &o, out, err);
    if (!rc && sandbox && (rc = quant_sql_attach_derived(*out, err)) != QUANT_OK) {
        quant_series_store_close(*out);
        *out = NULL;
    }
    return rc;
}

static enum quant_code open_series_ro(const struct quant_config *cfg,
                                      struct quant_series_store **out, struct quant_err *err)
{
    return open_series(cfg, 0, -1, out, err);
}

struct quant_inspect_query {
    struct quant_series_store *store;
    struct quant_sql_cursor *cursor;
};

enum quant_code quant_inspect_query_open(const struct quant_config *cfg, const char *sql,
                                         struct quant_inspect_query **out,
                                         struct quant_err *err)
{
    *out = NULL;
    struct quant_inspect_query *q = calloc(1, sizeof *q);
    if (!q)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    enum quant_code rc = open_series(cfg, 1, -1, &q->store, err);
    if (!rc)
        rc = quant_sql_cursor_open(q->store, sql, &q->cursor, err);
    if (rc) {
        quant_inspect_query_close(q);
        return rc;
    }
    *out = q;
    return QUANT_OK;
}

struct quant_sql_cursor *quant_inspect_query_cursor(struct quant_inspect_query *q)
{
    return q->cursor;
}

void quant_inspect_query_close(struct quant_inspect_query *q)
{
    if (!q)
        return;
    quant_sql_cursor_close(q->cursor);
    quant_series_store_close(q->store);
    free(q);
}

enum quant_code quant_inspect_tables(const struct quant_config *cfg, struct quant_table *out,
                                     struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct quant_series_store *s = NULL;
    enum quant_code rc = open_series(cfg, 1, 0, &s, err);
    if (rc)
        return rc;
    rc = quant_series_store_query(
        s,
        /* the derived views (temp catalog) shadow stored copies of the same name */
        "SELECT c.table_name, CASE WHEN c.table_catalog = 'temp' THEN 'on read'"
        " WHEN t.table_type = 'VIEW' THEN 'view' ELSE 'table' END,"
        " string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.ordinal_position)"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema"
        " AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'main' AND (c.table_catalog = 'temp' OR c.table_name NOT IN"
        " (SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp'))"
        " GROUP BY ALL ORDER BY 1",
        0, out, err);
    quant_series_store_close(s);
    return rc;
}

/* Fill the derived columns from derived_state; a store that predates those
 * tables simply has nothing derived yet. */
static void add_derived(struct quant_series_store *s, struct quant_symbol_status *v, size_t n)
{
    struct quant_err e;
    struct quant_input_state *in = NULL;
    struct quant_derived_state *st = NULL;
    size_t nin = 0, nst = 0;
    if (quant_feature_store_inputs(s, &in, &nin, &e) ||
        quant_feature_store_states(s, NULL, &st, &nst, &e)) {
        free(in);
        free(st);
        return;
    }
    for (size_t k = 0; k < nst; k++) {
        struct quant_symbol_status *row = NULL;
        for (size_t i = 0; i < n && !row; i++)
            if (strcmp(v[i].info.symbol, st[k].symbol) == 0)
                row = &v[i];
        if (!row)
            continue;
        const char *fp = "";
        for (size_t i = 0; i < nin; i++)
            if (strcmp(in[i].symbol, st[k].symbol) == 0)
                fp = in[i].fingerprint;
        struct quant_derived_status d = {1, strcmp(fp, st[k].fingerprint) != 0, st[k].rows,
                                         st[k].values, st[k].last_date, 0};
        if (strncmp(st[k].kind, "labels:h", 8) == 0) {
            d.horizon = (int)strtol(st[k].kind + 8, NULL, 10);
            /* several horizons: show the one computed last */
            if (!row->labels.present || st[k].computed_at >= row->labels_computed_at_) {
                row->labels = d;
                row->labels_computed_at_ = st[k].computed_at;
            }
            continue;
        }
        for (size_t i = 0; i < quant_feature_set_count() && i < QUANT_STATUS_MAX_SETS; i++)
            if (strcmp(quant_feature_set_name(quant_feature_set_at(i)), st[k].kind) == 0)
                row->sets[i] = d;
    }
    free(in);
    free(st);
}

static struct quant_symbol_status *find_row(struct quant_symbol_status *v, size_t n,
                                            const char *symbol)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].info.symbol, symbol) == 0)
            return &v[i];
    return NULL;
}

/* Predictions per symbol (a store from before the predictions table has none). */
static void add_predictions(struct quant_series_store *s, struct quant_symbol_status *v, size_t n)
{
    struct quant_table t;
    struct quant_err e;
    memset(&t, 0, sizeof t);
    if (quant_series_store_query(s, "SELECT symbol, count(*), max(date) FROM predictions"
                                    " GROUP BY symbol", 0, &t, &e))
        return;
    for (size_t r = 0; r < t.nrows; r++) {
        struct quant_symbol_status *row = find_row(v, n, t.cells[r * 3] ? t.cells[r * 3] : "");
        if (!row || !t.cells[r * 3 + 1] || !t.cells[r * 3 + 2])
            continue;
        row->predictions = strtol(t.cells[r * 3 + 1], NULL, 10);
        int32_t d;
        if (quant_date_parse(t.cells[r * 3 + 2], strlen(t.cells[r * 3 + 2]), &d) == 0)
            row->predictions_last = d;
    }
    quant_table_release(&t);
}

/* The newest model trained on each symbol, with its test metrics and the
 * warning they earn (one class only, no better than the baselines). */
static void add_models(struct quant_meta_store *m, struct quant_symbol_status *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct quant_model_record *recs = NULL;
        size_t nr = 0;
        struct quant_err e;
        if (quant_meta_model_list(m, v[i].info.symbol, &recs, &nr, &e))
            continue;
        if (nr) {
            snprintf(v[i].model_id, sizeof v[i].model_id, "%s", recs[0].id);
            if (quant_metrics_from_json(recs[0].metrics_json, &v[i].model, &e) == QUANT_OK)
                quant_metrics_warning(&v[i].model, v[i].model_warning,
                                      sizeof v[i].model_warning);
        }
        for (size_t k = 0; k < nr; k++)
            quant_model_record_release(&recs[k]);
        free(recs);
    }
}

static int status_cmp(const void *a, const void *b)
{
    const struct quant_symbol_status *x = a, *y = b;
    return strcmp(x->info.symbol, y->info.symbol);
}

/* Find or append the row for symbol. */
static struct quant_symbol_status *row_for(struct quant_symbol_status **v, size_t *n,
                                           const char *symbol)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].info.symbol, symbol) == 0)
            return &(*v)[i];
    struct quant_symbol_status *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    *v = nv;
    struct quant_symbol_status *r = &nv[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->info.symbol, sizeof r->info.symbol, "%s", symbol);
    snprintf(r->series.symbol, sizeof r->series.symbol, "%s", symbol);
    return r;
}

enum quant_code quant_inspect_status(const struct quant_config *cfg,
                                     struct quant_symbol_status **out, size_t *out_n,
                                     struct quant_err *err)
{
    struct quant_series_store *s = NULL;
    struct quant_meta_store *m = NULL;
    struct quant_series_summary *sums = NULL;
    struct quant_symbol_record *recs = NULL;
    struct quant_symbol_status *v = NULL;
    size_t ns = 0, nr = 0, n = 0;
    long lock_ms = 0;

    enum quant_code rc = open_series_ro(cfg, &s, err);
    if (!rc)
        rc = quant_series_store_summary(s, &sums, &ns, err);
    if (!rc)
        rc = quant_config_get_long(cfg, QUANT_SET_LOCK_TIMEOUT_MS, 0, 86400000L, &lock_ms, err);
    if (!rc)
        rc = require_file(quant_config_get(cfg, QUANT_SET_SQLITE_PATH), err);
    if (!rc)
        rc = quant_meta_store_open_read_only(quant_config_get(cfg, QUANT_SET_SQLITE_PATH),
                                             lock_ms, &m, err);
    if (!rc)
        rc = quant_meta_symbol_list(m, 0, &recs, &nr, err);
    for (size_t i = 0; i < nr && !rc; i++) {
        struct quant_symbol_status *r = row_for(&v, &n, recs[i].info.symbol);
        if (!r) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            break;
        }
        r->info = recs[i].info;
        r->registered = 1;
        r->active = recs[i].active;
    }
    for (size_t i = 0; i < ns && !rc; i++) {
        struct quant_symbol_status *r = row_for(&v, &n, sums[i].symbol);
        if (!r) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            break;
        }
        r->series = sums[i];
    }
    for (size_t i = 0; i < n && !rc; i++) {
        struct quant_err e;
        if (quant_meta_run_last(m, v[i].info.symbol, &v[i].last_run, &e) == QUANT_OK)
            v[i].has_run = 1;
    }
    if (!rc) {
        add_derived(s, v, n);
        add_predictions(s, v, n);
        add_models(m, v, n);
    }
    free(sums);
    free(recs);
    if (m)
        quant_meta_store_close(m);
    if (s)
        quant_series_store_close(s);
    if (rc) {
        free(v);
        return rc;
    }
    if (n > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(v, n, sizeof *v, status_cmp);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}
