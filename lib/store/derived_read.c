/*
 * derived_read.c: features and labels computed when SQL reads them.
 *
 * Two DuckDB table functions on the connection of `quant sql` / `quant
 * export`:
 *   quant_features('tech-v1')  symbol, date, one DOUBLE column per feature
 *   quant_labels(5)            symbol, date, horizon, fwd_return, label
 * and TEMP views with the names users query (features_tech_v1,
 * features_alpha158, features_daily, labels), which shadow any materialised
 * table of the same name on that connection only.  Rows are what
 * `quant features --materialize` would store: a feature row where at least
 * one value exists (NULL for the others), a label row where the label exists.
 *
 * A table function runs inside the query that calls it, on the store's own
 * connection, so it reads the bars through a second connection of the same
 * database (quant_bars_cursor_, which gathers them all at the start) and
 * computes one symbol at a time as DuckDB pulls the rows, on as many of
 * DuckDB's threads as it gives the scan: each thread claims the next symbol
 * from the shared cursor and holds only that symbol's matrix.  The C API
 * passes no filters to a table function, so `WHERE symbol = 'X'` on a view
 * still computes every symbol; the named parameter symbols computes only
 * those: quant_features('tech-v1', symbols := ['AE', 'ADTN']).
 */
#include <duckdb.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/feature_sets.h"
#include "store/sql_internal.h"
#include "store/store_internal.h"
#include "core/banned.h"

/* ---- shared state of one call ----------------------------------------------------- */

struct derived_bind {
    struct quant_series_store *s;
    const struct quant_feature_set *set;  /* NULL: labels */
    int horizon;
    char **want;            /* symbols := [...]: sorted, unique; NULL = every symbol */
    size_t n_want;
};

/* What the threads of one scan share: the cursor, taken in turns. */
struct derived_global {
    duckdb_connection con;
    struct quant_bars_cursor_ *cursor;
    pthread_mutex_t lock;
    int lock_ready;
};

/* One thread's symbol being emitted. */
struct derived_scan {
    struct quant_bars bars;
    struct quant_adjusted adj;
    struct quant_feature_matrix m;
    uint32_t *rows;         /* rows of m to emit */
    size_t n_rows, cap_rows, at;
    int done;
};

static void bind_free(void *p)
{
    struct derived_bind *b = p;
    for (size_t i = 0; i < b->n_want; i++)
        free(b->want[i]);
    free(b->want);
    free(b);
}

static void global_free(void *p)
{
    struct derived_global *g = p;
    quant_bars_cursor_close_(g->cursor);
    if (g->con)
        duckdb_disconnect(&g->con);
    if (g->lock_ready)
        pthread_mutex_destroy(&g->lock);
    free(g);
}

static void scan_free(void *p)
{
    struct derived_scan *sc = p;
    quant_bars_release(&sc->bars);
    quant_adjusted_release(&sc->adj);
    quant_feature_matrix_release(&sc->m);
    free(sc->rows);
    free(sc);
}

static void add_column(duckdb_bind_info info, const char *name, duckdb_type id)
{
    duckdb_logical_type t = duckdb_create_logical_type(id);
    duckdb_bind_add_result_column(info, name, t);
    duckdb_destroy_logical_type(&t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* symbols := [...] into b->want (normalised, sorted, unique); 0 on success,
 * else the error is set on info. */
static int bind_symbols(duckdb_bind_info info, struct derived_bind *b)
{
    duckdb_value v = duckdb_bind_get_named_parameter(info, "symbols");
    if (!v)
        return 0;
    int bad = 0;
    size_t n = duckdb_is_null_value(v) ? 0 : (size_t)duckdb_get_list_size(v);
    b->want = calloc(n ? n : 1, sizeof *b->want);
    if (!b->want) {
        duckdb_bind_set_error(info, "out of memory");
        bad = 1;
    }
    for (size_t i = 0; !bad && i < n; i++) {
        duckdb_value c = duckdb_get_list_child(v, (idx_t)i);
        char *text = c && !duckdb_is_null_value(c) ? duckdb_get_varchar(c) : NULL;
        char sym[QUANT_SYMBOL_MAX + 1];
        struct quant_err err;
        quant_err_clear(&err);
        if (!text || strlen(text) > QUANT_SYMBOL_MAX) {
            quant_err_set(&err, QUANT_EINVAL, "'%.40s' is not a symbol", text ? text : "NULL");
        } else {
            snprintf(sym, sizeof sym, "%s", text);
            if (!quant_symbol_normalize(sym, &err) && !(b->want[b->n_want] = strdup(sym)))
                quant_err_set(&err, QUANT_ENOMEM, "out of memory");
            else if (!err.code)
                b->n_want++;
        }
        if (err.code) {
            char msg[QUANT_ERR_MSG_MAX + 32];
            snprintf(msg, sizeof msg, "symbols := [...]: %s", err.msg);
            duckdb_bind_set_error(info, msg);
            bad = 1;
        }
        duckdb_free(text);
        duckdb_destroy_value(&c);
    }
    duckdb_destroy_value(&v);
    if (!bad && b->n_want) {
        qsort(b->want, b->n_want, sizeof *b->want, cmp_str);
        size_t u = 1;
        for (size_t i = 1; i < b->n_want; i++) {
            if (strcmp(b->want[i], b->want[u - 1]) == 0)
                free(b->want[i]);
            else
                b->want[u++] = b->want[i];
        }
        b->n_want = u;
    }
    return bad;
}

static void features_bind(duckdb_bind_info info)
{
    struct quant_series_store *s = duckdb_bind_get_extra_info(info);
    duckdb_value v = duckdb_bind_get_parameter(info, 0);
    char *name = v ? duckdb_get_varchar(v) : NULL;
    const struct quant_feature_set *set = name ? quant_feature_set_find(name) : NULL;
    if (!set) {
        char msg[160];
        snprintf(msg, sizeof msg, "quant_features: unknown feature set '%.40s' (tech-v1 or "
                                  "alpha158)", name ? name : "");
        duckdb_bind_set_error(info, msg);
    }
    duckdb_free(name);
    duckdb_destroy_value(&v);
    if (!set)
        return;
    struct derived_bind *b = calloc(1, sizeof *b);
    if (!b) {
        duckdb_bind_set_error(info, "out of memory");
        return;
    }
    b->s = s;
    b->set = set;
    if (bind_symbols(info, b)) {
        bind_free(b);
        return;
    }
    add_column(info, "symbol", DUCKDB_TYPE_VARCHAR);
    add_column(info, "date", DUCKDB_TYPE_DATE);
    for (size_t f = 0; f < quant_feature_set_size(set); f++)
        add_column(info, quant_feature_set_feature(set, f), DUCKDB_TYPE_DOUBLE);
    duckdb_bind_set_bind_data(info, b, bind_free);
}

static void labels_bind(duckdb_bind_info info)
{
    struct quant_series_store *s = duckdb_bind_get_extra_info(info);
    duckdb_value v = duckdb_bind_get_parameter(info, 0);
    int64_t h = v ? duckdb_get_int64(v) : 0;
    duckdb_destroy_value(&v);
    if (h < QUANT_LABEL_HORIZON_MIN || h > QUANT_LABEL_HORIZON_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg, "quant_labels: horizon %lld is outside %d..%d trading days",
                 (long long)h, QUANT_LABEL_HORIZON_MIN, QUANT_LABEL_HORIZON_MAX);
        duckdb_bind_set_error(info, msg);
        return;
    }
    struct derived_bind *b = calloc(1, sizeof *b);
    if (!b) {
        duckdb_bind_set_error(info, "out of memory");
        return;
    }
    b->s = s;
    b->horizon = (int)h;
    if (bind_symbols(info, b)) {
        bind_free(b);
        return;
    }
    add_column(info, "symbol", DUCKDB_TYPE_VARCHAR);
    add_column(info, "date", DUCKDB_TYPE_DATE);
    add_column(info, "horizon", DUCKDB_TYPE_INTEGER);
    add_column(info, "fwd_return", DUCKDB_TYPE_DOUBLE);
    add_column(info, "label", DUCKDB_TYPE_INTEGER);
    duckdb_bind_set_bind_data(info, b, bind_free);
}

/* Most threads a scan asks DuckDB for: it gives no more than it has. */
#define DERIVED_MAX_THREADS 64

static void derived_init(duckdb_init_info info)
{
    struct derived_bind *b = duckdb_init_get_bind_data(info);
    struct derived_global *g = calloc(1, sizeof *g);
    if (!g) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    g->lock_ready = pthread_mutex_init(&g->lock, NULL) == 0;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = g->lock_ready ? QUANT_OK
                                       : quant_err_set(&err, QUANT_ENOMEM, "out of memory");
    if (!rc && duckdb_connect(quant_series_store_db_(b->s), &g->con) == DuckDBError)
        rc = quant_err_set(&err, QUANT_ESTORE, "could not open a second connection");
    /* an empty symbols := [] wants nothing, not everything */
    if (!rc && (!b->want || b->n_want))
        rc = quant_bars_cursor_open_(b->s, g->con, (const char *const *)b->want, b->n_want,
                                     &g->cursor, &err);
    if (rc) {
        duckdb_init_set_error(info, err.msg);
        global_free(g);
        return;
    }
    duckdb_init_set_init_data(info, g, global_free);
    duckdb_init_set_max_threads(info, DERIVED_MAX_THREADS);
}

static void derived_local_init(duckdb_init_info info)
{
    struct derived_scan *sc = calloc(1, sizeof *sc);
    if (!sc) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    quant_bars_init(&sc->bars);
    duckdb_init_set_init_data(info, sc, scan_free);
}

/* The next symbol of the shared cursor into sc->bars; 0 at the end. */
static int claim_symbol(const struct derived_bind *b, struct derived_global *g,
                        struct derived_scan *sc, struct quant_err *err)
{
    int got = 0;
    pthread_mutex_lock(&g->lock);
    /* An IN list longer than the cursor's limit is filtered here. */
    do {
        if (!g->cursor || quant_bars_cursor_next_(g->cursor, &sc->bars, &got, err))
            got = 0;
    } while (got && b->want && !bsearch(&(const char *){sc->bars.symbol}, b->want, b->n_want,
                                        sizeof *b->want, cmp_str));
    pthread_mutex_unlock(&g->lock);
    return got;
}

/* Compute the next symbol with rows to emit; 0 at the end. */
static int next_symbol(const struct derived_bind *b, struct derived_global *g,
                       struct derived_scan *sc, struct quant_err *err)
{
    for (;;) {
        if (!claim_symbol(b, g, sc, err))
            return 0;
        enum quant_code rc = quant_adjusted_compute(&sc->bars, &sc->adj, err);
        if (!rc)
            rc = b->set ? quant_features_compute(b->set, &sc->adj, &sc->m, err)
                        : quant_labels_compute(&sc->adj, b->horizon, &sc->m, err);
        if (rc)
            return 0;
        size_t n = sc->m.n_rows;
        if (n > sc->cap_rows) {
            uint32_t *r = realloc(sc->rows, n * sizeof *r);
            if (!r) {
                quant_err_set(err, QUANT_ENOMEM, "out of memory");
                return 0;
            }
            sc->rows = r;
            sc->cap_rows = n;
        }
        sc->n_rows = sc->at = 0;
        for (size_t t = 0; t < n; t++) {
            int keep = 0;
            if (!b->set) /* a label row where the label exists */
                keep = sc->m.valid[n + t] && sc->m.valid[t];
            for (size_t f = 0; b->set && f < sc->m.n_features && !keep; f++)
                keep = sc->m.valid[f * n + t] && isfinite(sc->m.values[f * n + t]);
            if (keep)
                sc->rows[sc->n_rows++] = (uint32_t)t;
        }
        if (sc->n_rows)
            return 1;
    }
}

static void derived_function(duckdb_function_info info, duckdb_data_chunk out)
{
    struct derived_bind *b = duckdb_function_get_bind_data(info);
    struct derived_global *g = duckdb_function_get_init_data(info);
    struct derived_scan *sc = duckdb_function_get_local_init_data(info);
    const idx_t cap = duckdb_vector_size();
    idx_t k = 0;
    struct quant_err err;
    quant_err_clear(&err);
    while (k < cap && !sc->done) {
        if (sc->at >= sc->n_rows && !next_symbol(b, g, sc, &err)) {
            sc->done = 1;
            if (err.code) {
                duckdb_function_set_error(info, err.msg);
                duckdb_data_chunk_set_size(out, 0);
                return;
            }
            break;
        }
        size_t take = sc->n_rows - sc->at;
        if (take > cap - k)
            take = cap - k;
        const size_t n = sc->m.n_rows;
        const uint32_t *rows = sc->rows + sc->at;
        duckdb_vector vsym = duckdb_data_chunk_get_vector(out, 0);
        int32_t *date = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 1));
        for (size_t i = 0; i < take; i++) {
            duckdb_vector_assign_string_element(vsym, k + i, sc->bars.symbol);
            date[k + i] = sc->adj.date[rows[i]];
        }
        if (b->set) {
            for (size_t f = 0; f < sc->m.n_features; f++) {
                duckdb_vector v = duckdb_data_chunk_get_vector(out, (idx_t)(2 + f));
                double *d = duckdb_vector_get_data(v);
                duckdb_vector_ensure_validity_writable(v);
                uint64_t *mask = duckdb_vector_get_validity(v);
                const double *src = sc->m.values + f * n;
                const uint8_t *ok = sc->m.valid + f * n;
                for (size_t i = 0; i < take; i++) {
                    double x = src[rows[i]];
                    d[k + i] = x;
                    if (!ok[rows[i]] || !isfinite(x))
                        duckdb_validity_set_row_invalid(mask, k + i);
                }
            }
        } else {
            int32_t *h = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 2));
            double *fwd = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 3));
            int32_t *lab = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 4));
            for (size_t i = 0; i < take; i++) {
                h[k + i] = b->horizon;
                fwd[k + i] = sc->m.values[rows[i]];
                lab[k + i] = (int32_t)sc->m.values[n + rows[i]];
            }
        }
        sc->at += take;
        k += (idx_t)take;
    }
    duckdb_data_chunk_set_size(out, k);
}

/* ---- registration and the views ------------------------------------------------------ */

static enum quant_code register_one(struct quant_series_store *s, const char *name,
                                    duckdb_type param, duckdb_table_function_bind_t bind,
                                    struct quant_err *err)
{
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, name);
    duckdb_logical_type t = duckdb_create_logical_type(param);
    duckdb_table_function_add_parameter(tf, t);
    duckdb_destroy_logical_type(&t);
    duckdb_table_function_set_extra_info(tf, s, NULL);
    duckdb_table_function_set_bind(tf, bind);
    duckdb_logical_type vc = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_logical_type list = duckdb_create_list_type(vc);
    duckdb_table_function_add_named_parameter(tf, "symbols", list);
    duckdb_destroy_logical_type(&list);
    duckdb_destroy_logical_type(&vc);
    duckdb_table_function_set_init(tf, derived_init);
    duckdb_table_function_set_local_init(tf, derived_local_init);
    duckdb_table_function_set_function(tf, derived_function);
    duckdb_state st = duckdb_register_table_function(quant_series_store_con_(s), tf);
    duckdb_destroy_table_function(&tf);
    if (st == DuckDBError)
        return quant_err_set(err, QUANT_ESTORE, "could not register %s", name);
    return QUANT_OK;
}

/* The horizons `quant labels` has computed (derived_state kinds "labels:hN"). */
static size_t label_horizons(struct quant_series_store *s, int *out, size_t cap)
{
    duckdb_result res;
    size_t n = 0;
    if (duckdb_query(quant_series_store_con_(s),
                     "SELECT DISTINCT TRY_CAST(substr(kind, 9) AS INTEGER) AS h"
                     " FROM derived_state WHERE kind LIKE 'labels:h%' AND h IS NOT NULL"
                     " ORDER BY h", &res) == DuckDBSuccess) {
        for (idx_t i = 0; i < duckdb_row_count(&res) && n < cap; i++) {
            int32_t h = duckdb_value_int32(&res, 0, i);
            if (h >= QUANT_LABEL_HORIZON_MIN && h <= QUANT_LABEL_HORIZON_MAX)
                out[n++] = h;
        }
    }
    duckdb_destroy_result(&res); /* a store without derived_state: no horizon */
    return n;
}

enum quant_code quant_sql_attach_derived(struct quant_series_store *s, struct quant_err *err)
{
    enum quant_code rc = register_one(s, "quant_features", DUCKDB_TYPE_VARCHAR, features_bind,
                                      err);
    if (!rc)
        rc = register_one(s, "quant_labels", DUCKDB_TYPE_INTEGER, labels_bind, err);
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    for (size_t i = 0; !rc && i < quant_feature_set_count(); i++) {
        const struct quant_feature_set *set = quant_feature_set_at(i);
        char table[64];
        quant_feature_store_table(set, table);
        quant_buf_reset(&sql);
        rc = quant_buf_printf(&sql, "CREATE OR REPLACE TEMP VIEW %s AS"
                                    " SELECT * FROM quant_features('%s')",
                              table, quant_feature_set_name(set));
        if (!rc)
            rc = quant_series_store_exec_(s, sql.data, "creating the feature views", err);
    }
    quant_buf_reset(&sql);
    for (size_t i = 0; !rc && i < quant_feature_set_count(); i++) {
        const struct quant_feature_set *set = quant_feature_set_at(i);
        char table[64];
        quant_feature_store_table(set, table);
        rc = quant_buf_printf(&sql,
                              "%sSELECT symbol, date, feature, value, '%s' AS version FROM "
                              "(UNPIVOT temp.main.%s ON COLUMNS(* EXCLUDE (symbol, date)) "
                              "INTO NAME feature VALUE value)",
                              i ? " UNION ALL " : "CREATE OR REPLACE TEMP VIEW features_daily AS ",
                              quant_feature_set_name(set), table);
    }
    if (!rc)
        rc = quant_series_store_exec_(s, sql.data, "creating the features_daily view", err);
    int hs[16];
    size_t nh = label_horizons(s, hs, sizeof hs / sizeof *hs);
    if (nh == 0)
        hs[nh++] = QUANT_LABEL_HORIZON_DEFAULT;
    quant_buf_reset(&sql);
    for (size_t i = 0; !rc && i < nh; i++)
        rc = quant_buf_printf(&sql, "%sSELECT * FROM quant_labels(%d)",
                              i ? " UNION ALL " : "CREATE OR REPLACE TEMP VIEW labels AS ", hs[i]);
    if (!rc)
        rc = quant_series_store_exec_(s, sql.data, "creating the labels view", err);
    quant_buf_release(&sql);
    return rc;
}
