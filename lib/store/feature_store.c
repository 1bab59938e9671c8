/*
 * feature_store.c: the feature, label and derived-state tables of the DuckDB
 * store (layout drawn in feature_store.h).  Writes go through data chunks
 * filled column by column straight from the feature-major matrices; each call
 * is one transaction.  It shares the series store's connection through
 * store_internal.h and translates DuckDB's errors here, for these tables.
 *
 * The bars derivation reads are bars_scan.c; predictions are predictions.c.
 */
#define _GNU_SOURCE
#include "store/feature_store.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <duckdb.h>

#include "quant/clock.h"
#include "core/buf.h"
#include "store/store_internal.h"
#include "store/evaluation_store.h"
#include "store/walkforward_store.h"
#include "core/banned.h"

#define LABEL_COLS 5   /* symbol, date, horizon, fwd_return, label */

void quant_feature_store_table(const struct quant_feature_set *set, char out[64])
{
    const char *name = quant_feature_set_name(set);
    size_t k = snprintf(out, 64, "features_");
    for (const char *p = name; *p && k < 63; p++)
        out[k++] = (*p == '-') ? '_' : *p;
    out[k] = '\0';
}

static enum quant_code fail(struct quant_series_store *s, const char *what, const char *msg,
                            struct quant_err *err)
{
    return quant_series_store_fail_(s, what, msg, err);
}

static enum quant_code exec(struct quant_series_store *s, const char *sql, const char *what,
                            struct quant_err *err)
{
    return quant_series_store_exec_(s, sql, what, err);
}

/* The same on a given connection (a writer session's own). */
static enum quant_code exec_on(struct quant_series_store *s, duckdb_connection con,
                               const char *sql, const char *what, struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        rc = fail(s, what, duckdb_result_error(&res), err);
    duckdb_destroy_result(&res);
    return rc;
}

/* ---- schema ---------------------------------------------------------------- */

static enum quant_code create_set_table(struct quant_series_store *s,
                                        const struct quant_feature_set *set,
                                        struct quant_buf *sql, struct quant_err *err)
{
    char table[64];
    quant_feature_store_table(set, table);
    quant_buf_reset(sql);
    enum quant_code rc = quant_buf_printf(sql, "CREATE TABLE IF NOT EXISTS %s ("
                                               "symbol VARCHAR NOT NULL, date DATE NOT NULL",
                                          table);
    for (size_t f = 0; !rc && f < quant_feature_set_size(set); f++)
        rc = quant_buf_printf(sql, ", \"%s\" DOUBLE", quant_feature_set_feature(set, f));
    if (!rc)
        rc = quant_buf_append(sql, ")", 1);
    if (rc)
        return quant_err_set(err, rc, "out of memory building the schema");
    return exec(s, sql->data, "creating a feature table", err);
}

/* The long view: UNPIVOT drops NULLs, so one row per finite value. */
static enum quant_code create_long_view(struct quant_series_store *s, struct quant_buf *sql,
                                        struct quant_err *err)
{
    quant_buf_reset(sql);
    enum quant_code rc = quant_buf_printf(sql, "CREATE OR REPLACE VIEW features_daily AS ");
    for (size_t i = 0; !rc && i < quant_feature_set_count(); i++) {
        const struct quant_feature_set *set = quant_feature_set_at(i);
        char table[64];
        quant_feature_store_table(set, table);
        rc = quant_buf_printf(sql,
                              "%sSELECT symbol, date, feature, value, '%s' AS version FROM "
                              "(UNPIVOT %s ON COLUMNS(* EXCLUDE (symbol, date)) "
                              "INTO NAME feature VALUE value)",
                              i ? " UNION ALL " : "", quant_feature_set_name(set), table);
    }
    if (rc)
        return quant_err_set(err, rc, "out of memory building the schema");
    return exec(s, sql->data, "creating the features_daily view", err);
}

enum quant_code quant_feature_store_init(struct quant_series_store *s, struct quant_err *err)
{
    if (quant_series_store_read_only_(s))
        return QUANT_OK; /* a reader sees whatever the last writer created */
    static const char *const fixed[] = {
        "CREATE TABLE IF NOT EXISTS labels (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
        " horizon INTEGER NOT NULL, fwd_return DOUBLE NOT NULL, label INTEGER NOT NULL)",
        /* No key since schema version 3 (schema.c): one row per (symbol,
         * date, model_id) is kept by the write path, not by an index. */
        "CREATE TABLE IF NOT EXISTS predictions (symbol VARCHAR NOT NULL, date DATE NOT NULL,"
        " model_id VARCHAR NOT NULL, score DOUBLE NOT NULL)",
        /* Stores from before segments were recorded get the column, NULL on
         * their old rows (unknown: rescore to fill it). */
        "ALTER TABLE predictions ADD COLUMN IF NOT EXISTS segment VARCHAR",
        "CREATE TABLE IF NOT EXISTS derived_state (symbol VARCHAR NOT NULL,"
        " kind VARCHAR NOT NULL, input_fingerprint VARCHAR NOT NULL, rows BIGINT NOT NULL,"
        " n_values BIGINT NOT NULL, first_date DATE, last_date DATE,"
        " computed_at TIMESTAMP NOT NULL, PRIMARY KEY (symbol, kind))",
    };
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; !rc && i < sizeof fixed / sizeof *fixed; i++)
        rc = exec(s, fixed[i], "creating the label tables", err);
    for (size_t i = 0; !rc && quant_wf_store_ddl[i]; i++)
        rc = exec(s, quant_wf_store_ddl[i], "creating the walk-forward tables", err);
    for (size_t i = 0; !rc && quant_eval_store_ddl[i]; i++)
        rc = exec(s, quant_eval_store_ddl[i], "creating the evaluation tables", err);
    for (size_t i = 0; !rc && i < quant_feature_set_count(); i++)
        rc = create_set_table(s, quant_feature_set_at(i), &sql, err);
    if (!rc)
        rc = create_long_view(s, &sql, err);
    /* Stores written before this fix went through make_timestamp(), which read
     * the microsecond count as if it were far smaller: every computed_at lands
     * in January 1970, its microseconds being the true epoch seconds. */
    if (!rc)
        rc = exec(s, "UPDATE derived_state SET computed_at = make_timestamp(epoch_us(computed_at) * 1000000)"
                     " WHERE computed_at < TIMESTAMP '1971-01-01'",
                  "repairing derived_state.computed_at", err);
    quant_buf_release(&sql);
    return rc;
}

/* ---- reads ----------------------------------------------------------------- */

enum quant_code quant_feature_store_inputs(struct quant_series_store *s,
                                           struct quant_input_state **out, size_t *out_n,
                                           struct quant_err *err)
{
    duckdb_result res;
    if (duckdb_query(quant_series_store_con_(s),
                     "SELECT symbol, count(*)::BIGINT, min(date), max(date),"
                     " epoch_us(max(ingested_at)) FROM ohlcv GROUP BY symbol ORDER BY symbol",
                     &res) == DuckDBError) {
        enum quant_code rc = fail(s, "reading the input state", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    idx_t rows = duckdb_row_count(&res);
    struct quant_input_state *v = calloc(rows ? rows : 1, sizeof *v);
    if (!v) {
        duckdb_destroy_result(&res);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    size_t n = 0;
    duckdb_data_chunk c;
    while ((c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        duckdb_vector vs = duckdb_data_chunk_get_vector(c, 0);
        int64_t *cnt = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
        int32_t *lo = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 2));
        int32_t *hi = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 3));
        int64_t *ts = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 4));
        for (idx_t i = 0; i < m && n < rows; i++, n++) {
            quant_duck_vec_string_(vs, i, v[n].symbol, sizeof v[n].symbol);
            v[n].bars = (long)cnt[i];
            snprintf(v[n].fingerprint, sizeof v[n].fingerprint, "%ld|%d|%d|%lld",
                     (long)cnt[i], lo[i], hi[i], (long long)ts[i]);
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_feature_store_states(struct quant_series_store *s, const char *kind,
                                           struct quant_derived_state **out, size_t *out_n,
                                           struct quant_err *err)
{
    duckdb_prepared_statement st = NULL;
    duckdb_connection con = quant_series_store_con_(s);
    const char *sql = "SELECT symbol, kind, input_fingerprint, rows, n_values,"
                      " coalesce(first_date, DATE '1970-01-01'),"
                      " coalesce(last_date, DATE '1970-01-01'), epoch(computed_at)::BIGINT"
                      " FROM derived_state WHERE $1 IS NULL OR kind = $1 ORDER BY symbol, kind";
    if (duckdb_prepare(con, sql, &st) == DuckDBError) {
        enum quant_code rc = fail(s, "reading derived_state", duckdb_prepare_error(st), err);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    if (kind)
        duckdb_bind_varchar(st, 1, kind);
    else
        duckdb_bind_null(st, 1);
    duckdb_result res;
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        enum quant_code rc = fail(s, "reading derived_state", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    idx_t rows = duckdb_row_count(&res);
    struct quant_derived_state *v = calloc(rows ? rows : 1, sizeof *v);
    size_t n = 0;
    duckdb_data_chunk c;
    while (v && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        int64_t *nrows = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 3));
        int64_t *nvals = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 4));
        int32_t *lo = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 5));
        int32_t *hi = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 6));
        int64_t *at = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 7));
        for (idx_t i = 0; i < m && n < rows; i++, n++) {
            quant_duck_vec_string_(duckdb_data_chunk_get_vector(c, 0), i, v[n].symbol, sizeof v[n].symbol);
            quant_duck_vec_string_(duckdb_data_chunk_get_vector(c, 1), i, v[n].kind, sizeof v[n].kind);
            quant_duck_vec_string_(duckdb_data_chunk_get_vector(c, 2), i, v[n].fingerprint,
                     sizeof v[n].fingerprint);
            v[n].rows = (long)nrows[i];
            v[n].values = (long)nvals[i];
            v[n].first_date = nrows[i] ? lo[i] : 0;
            v[n].last_date = nrows[i] ? hi[i] : 0;
            v[n].computed_at = at[i];
            size_t len = strlen(v[n].fingerprint), mark = strlen(QUANT_MATERIALIZED_MARK);
            if (len >= mark &&
                strcmp(v[n].fingerprint + len - mark, QUANT_MATERIALIZED_MARK) == 0) {
                v[n].fingerprint[len - mark] = '\0';
                v[n].materialized = 1;
            }
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&st);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/* ---- writes ------------------------------------------------------------------- */

/* Rows of m that carry at least one value (feature-major scan, cache friendly). */
static size_t rows_with_values(const struct quant_feature_matrix *m, uint8_t *any)
{
    memset(any, 0, m->n_rows);
    for (size_t f = 0; f < m->n_features; f++) {
        const uint8_t *valid = m->valid + f * m->n_rows;
        for (size_t t = 0; t < m->n_rows; t++)
            any[t] |= valid[t];
    }
    size_t n = 0;
    for (size_t t = 0; t < m->n_rows; t++)
        n += any[t];
    return n;
}

/* An INTEGER column from a matrix of whole numbers stored as doubles (labels). */
static long fill_int_column(duckdb_vector vec, const double *src, const uint32_t *idx, size_t k)
{
    int32_t *dst = duckdb_vector_get_data(vec);
    for (size_t i = 0; i < k; i++)
        dst[i] = (int32_t)src[idx[i]];
    return (long)k;
}

/* Fill a DOUBLE vector from src[idx[0..k)] with validity from valid[idx[..]]. */
static long fill_column(duckdb_vector vec, const double *src, const uint8_t *valid,
                        const uint32_t *idx, size_t k)
{
    double *dst = duckdb_vector_get_data(vec);
    duckdb_vector_ensure_validity_writable(vec);
    uint64_t *mask = duckdb_vector_get_validity(vec);
    long values = 0;
    for (size_t w = 0; w * 64 < k; w++) {
        uint64_t bits = 0;
        size_t end = (w + 1) * 64 < k ? (w + 1) * 64 : k;
        for (size_t i = w * 64; i < end; i++) {
            uint32_t t = idx[i];
            dst[i] = src[t];
            bits |= (uint64_t)(valid[t] != 0) << (i - w * 64);
        }
        mask[w] = bits;
        values += __builtin_popcountll(bits);
    }
    return values;
}

struct derived_writer {
    struct quant_series_store *s;
    duckdb_connection con;            /* the store's own, or a session's */
    duckdb_appender app;
    duckdb_data_chunk chunk;
    duckdb_logical_type *types;
    duckdb_type *ids;                 /* column type ids, for conversions */
    size_t ncols;
    duckdb_prepared_statement del;    /* DELETE this symbol's rows */
    uint32_t *idx;                    /* scratch: row indices with values */
    uint8_t *any;                     /* scratch: per-row "has a value" */
    size_t scratch;
    int table_empty;                  /* nothing to delete before writing */
};

static void writer_release(struct derived_writer *w)
{
    if (w->app)
        duckdb_appender_destroy(&w->app);
    if (w->chunk)
        duckdb_destroy_data_chunk(&w->chunk);
    for (size_t i = 0; w->types && i < w->ncols; i++)
        duckdb_destroy_logical_type(&w->types[i]);
    free(w->types);
    free(w->ids);
    if (w->del)
        duckdb_destroy_prepare(&w->del);
    free(w->idx);
    free(w->any);
}

static enum quant_code prep(struct derived_writer *w, const char *sql,
                            duckdb_prepared_statement *out, struct quant_err *err)
{
    if (duckdb_prepare(w->con, sql, out) == DuckDBSuccess)
        return QUANT_OK;
    return fail(w->s, "preparing a statement", duckdb_prepare_error(*out), err);
}

static enum quant_code writer_open(struct derived_writer *w, struct quant_series_store *s,
                                   duckdb_connection con, const char *table,
                                   const duckdb_type *ids, size_t ncols,
                                   const char *delete_sql, struct quant_err *err)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->con = con;
    w->ncols = ncols;
    w->types = calloc(ncols, sizeof *w->types);
    w->ids = malloc(ncols * sizeof *w->ids);
    if (!w->types || !w->ids)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    memcpy(w->ids, ids, ncols * sizeof *ids);
    for (size_t i = 0; i < ncols; i++)
        w->types[i] = duckdb_create_logical_type(ids[i]);
    w->chunk = duckdb_create_data_chunk(w->types, ncols);
    if (!w->chunk)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    enum quant_code rc = prep(w, delete_sql, &w->del, err);
    if (rc)
        return rc;
    if (duckdb_appender_create(con, NULL, table, &w->app) == DuckDBError)
        return fail(s, "opening an appender", duckdb_appender_error(w->app), err);
    /* Features computed on read leave the tables empty: then a run has no
     * old rows to delete, and skipping one DELETE per symbol saves a scan
     * each (120 symbols: about a second). */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1)", table);
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBSuccess)
        w->table_empty = duckdb_value_int64(&res, 0, 0) == 0;
    duckdb_destroy_result(&res);
    return QUANT_OK;
}

static enum quant_code writer_scratch(struct derived_writer *w, size_t n, struct quant_err *err)
{
    if (n <= w->scratch)
        return QUANT_OK;
    uint32_t *idx = realloc(w->idx, n * sizeof *idx);
    if (idx)
        w->idx = idx;
    uint8_t *any = realloc(w->any, n);
    if (any)
        w->any = any;
    if (!idx || !any)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    w->scratch = n;
    return QUANT_OK;
}

static enum quant_code run_prepared(struct derived_writer *w, duckdb_prepared_statement st,
                                    const char *what, struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_execute_prepared(st, &res) == DuckDBError)
        rc = fail(w->s, what, duckdb_result_error(&res), err);
    duckdb_destroy_result(&res);
    return rc;
}

/*
 * The derived_state rows of a whole batch in one statement: one INSERT per
 * symbol cost more than computing its labels (120 symbols: 0.3 s, each a
 * round through DuckDB's planner and the primary key).
 */
static enum quant_code record_states(struct derived_writer *w, const char *kind,
                                     const struct quant_derived_write *items, size_t n,
                                     const int32_t *first, const int32_t *last, int64_t at,
                                     struct quant_err *err)
{
    if (n == 0)
        return QUANT_OK;
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    enum quant_code rc = quant_buf_printf(&sql, "INSERT OR REPLACE INTO derived_state VALUES");
    for (size_t i = 0; !rc && i < n; i++) {
        size_t p = i * 8;
        rc = quant_buf_printf(&sql, "%s ($%zu, $%zu, $%zu, $%zu, $%zu, $%zu, $%zu, $%zu)",
                              i ? "," : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7,
                              p + 8);
    }
    if (rc) {
        quant_buf_release(&sql);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    duckdb_prepared_statement st = NULL;
    rc = prep(w, sql.data, &st, err);
    quant_buf_release(&sql);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct quant_derived_write *it = &items[i];
        idx_t p = (idx_t)(i * 8);
        char fp[QUANT_FINGERPRINT_MAX + 8];
        snprintf(fp, sizeof fp, "%s%s", it->fingerprint ? it->fingerprint : "",
                 it->state_only ? "" : QUANT_MATERIALIZED_MARK);
        duckdb_bind_varchar(st, p + 1, it->symbol);
        duckdb_bind_varchar(st, p + 2, kind);
        duckdb_bind_varchar(st, p + 3, fp);
        duckdb_bind_int64(st, p + 4, it->out_rows);
        duckdb_bind_int64(st, p + 5, it->out_values);
        if (it->out_rows) {
            duckdb_bind_date(st, p + 6, (duckdb_date){first[i]});
            duckdb_bind_date(st, p + 7, (duckdb_date){last[i]});
        } else {
            duckdb_bind_null(st, p + 6);
            duckdb_bind_null(st, p + 7);
        }
        duckdb_bind_timestamp(st, p + 8, (duckdb_timestamp){at});
    }
    if (!rc)
        rc = run_prepared(w, st, "recording derived_state", err);
    if (st)
        duckdb_destroy_prepare(&st);
    return rc;
}

static enum quant_code delete_symbol(struct derived_writer *w, const char *symbol,
                                     int horizon, struct quant_err *err)
{
    duckdb_bind_varchar(w->del, 1, symbol);
    if (horizon > 0)
        duckdb_bind_int32(w->del, 2, horizon);
    return run_prepared(w, w->del, "replacing old rows", err);
}

/*
 * Append the rows listed in w->idx[0..k) of one symbol: columns symbol and
 * date, then `extra` constant INTEGER columns (the horizon), then n_cols
 * DOUBLE columns taken from the matrix.  Returns the count of finite values.
 */
static enum quant_code append_rows(struct derived_writer *w, const char *symbol,
                                   const int32_t *dates, const struct quant_feature_matrix *m,
                                   size_t k, const int32_t *constant_int, long *values,
                                   struct quant_err *err)
{
    const size_t step = duckdb_vector_size();
    duckdb_value sym = duckdb_create_varchar(symbol);
    duckdb_value cval = constant_int ? duckdb_create_int32(*constant_int) : NULL;
    size_t first_value_col = constant_int ? 3 : 2;
    enum quant_code rc = QUANT_OK;
    for (size_t at = 0; at < k && !rc; at += step) {
        size_t nrow = k - at < step ? k - at : step;
        const uint32_t *idx = w->idx + at;
        duckdb_data_chunk c = w->chunk;
        duckdb_data_chunk_reset(c);
        duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, 0), sym);
        int32_t *d = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
        for (size_t i = 0; i < nrow; i++)
            d[i] = dates[idx[i]];
        if (cval)
            duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, 2), cval);
        for (size_t f = 0; f + first_value_col < w->ncols; f++) {
            size_t col = first_value_col + f;
            duckdb_vector vec = duckdb_data_chunk_get_vector(c, (idx_t)col);
            if (w->ids[col] == DUCKDB_TYPE_INTEGER)
                fill_int_column(vec, m->values + f * m->n_rows, idx, nrow);
            else
                *values += fill_column(vec, m->values + f * m->n_rows,
                                       m->valid + f * m->n_rows, idx, nrow);
        }
        duckdb_data_chunk_set_size(c, nrow);
        if (duckdb_append_data_chunk(w->app, c) == DuckDBError)
            rc = fail(w->s, "appending derived rows", duckdb_appender_error(w->app), err);
    }
    duckdb_destroy_value(&sym);
    if (cval)
        duckdb_destroy_value(&cval);
    return rc;
}

static void rollback(struct quant_series_store *s, duckdb_connection con)
{
    struct quant_err ignore;
    exec_on(s, con, "ROLLBACK", "rolling back", &ignore);
}

/* Finite values in rows idx[0..k) (labels: the fwd_return and label columns). */
static long count_values(const struct quant_feature_matrix *m, const uint32_t *idx, size_t k,
                         int labels)
{
    long values = 0;
    for (size_t f = 0; f < m->n_features; f++) {
        const double *v = m->values + f * m->n_rows;
        const uint8_t *ok = m->valid + f * m->n_rows;
        for (size_t i = 0; i < k; i++)
            values += ok[idx[i]] && (labels || isfinite(v[idx[i]]));
    }
    return values;
}

/* The shared write loop for features (horizon 0) and labels (horizon > 0). */
static enum quant_code write_derived(struct derived_writer *w, const char *kind, int horizon,
                                     struct quant_derived_write *items, size_t n,
                                     struct quant_err *err)
{
    int64_t at = quant_clock_unix_micros(); /* one stamp for the whole batch, in microseconds */
    int32_t *first = calloc(n ? n : 1, sizeof *first), *last = calloc(n ? n : 1, sizeof *last);
    enum quant_code rc = first && last ? QUANT_OK
                                       : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        struct quant_derived_write *it = &items[i];
        const struct quant_feature_matrix *m = it->m;
        it->out_rows = it->out_values = 0;
        rc = writer_scratch(w, m->n_rows ? m->n_rows : 1, err);
        if (!rc && !w->table_empty)
            rc = delete_symbol(w, it->symbol, horizon, err);
        if (rc)
            break;
        /* Labels: a row exists where the label does; features: where any value does. */
        size_t k = 0;
        if (horizon > 0) {
            for (size_t t = 0; t < m->n_rows; t++)
                if (m->valid[m->n_rows + t] && m->valid[t])
                    w->idx[k++] = (uint32_t)t;
        } else {
            rows_with_values(m, w->any);
            for (size_t t = 0; t < m->n_rows; t++)
                if (w->any[t])
                    w->idx[k++] = (uint32_t)t;
        }
        if (!it->state_only)
            rc = append_rows(w, it->symbol, it->dates, m, k, horizon > 0 ? &horizon : NULL,
                             &it->out_values, err);
        else
            it->out_values = count_values(m, w->idx, k, horizon > 0);
        it->out_rows = (long)k;
        first[i] = k ? it->dates[w->idx[0]] : 0;
        last[i] = k ? it->dates[w->idx[k - 1]] : 0;
    }
    if (!rc)
        rc = record_states(w, kind, items, n, first, last, at, err);
    free(first);
    free(last);
    return rc;
}

/*
 * Derived tables are written uncompressed.  Measured on 500 x 6,500 bars:
 * DuckDB's compression analysis (ALP, RLE, ...) nearly halved write speed
 * (tech-v1 store 5.6 s -> 3.0 s, alpha158 50 s -> 36 s without it) and saved
 * only about a quarter of the space, since feature values are full-precision
 * doubles.  Rebuildable data, so space is the cheaper resource.  The setting
 * is database-wide, so it is switched on around a whole bulk write (all
 * sessions) and back off after it, so ohlcv keeps its compression.
 */
enum quant_code quant_feature_store_bulk(struct quant_series_store *s, int on,
                                         struct quant_err *err)
{
    return exec(s, on ? "SET force_compression = 'uncompressed'" : "RESET force_compression",
                "choosing the compression of derived tables", err);
}

static enum quant_code commit(struct derived_writer *w, struct quant_err *err)
{
    if (duckdb_appender_close(w->app) == DuckDBError)
        return fail(w->s, "flushing derived rows", duckdb_appender_error(w->app), err);
    return exec_on(w->s, w->con, "COMMIT", "committing derived rows", err);
}

static enum quant_code write_features_on(struct quant_series_store *s, duckdb_connection con,
                                         const struct quant_feature_set *set,
                                         struct quant_derived_write *items, size_t n,
                                         struct quant_err *err)
{
    if (quant_series_store_read_only_(s))
        return quant_err_set(err, QUANT_EREADONLY, "store %s is open read-only",
                             quant_series_store_path_(s));
    size_t nf = quant_feature_set_size(set);
    for (size_t i = 0; i < n; i++)
        if (items[i].m->n_features != nf)
            return quant_err_set(err, QUANT_EINVAL, "%s: matrix has %zu features, set %s has %zu",
                                 items[i].symbol, items[i].m->n_features,
                                 quant_feature_set_name(set), nf);
    char table[64], del[160];
    quant_feature_store_table(set, table);
    snprintf(del, sizeof del, "DELETE FROM %s WHERE symbol = $1", table);
    duckdb_type *ids = malloc((nf + 2) * sizeof *ids);
    if (!ids)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    ids[0] = DUCKDB_TYPE_VARCHAR;
    ids[1] = DUCKDB_TYPE_DATE;
    for (size_t f = 0; f < nf; f++)
        ids[2 + f] = DUCKDB_TYPE_DOUBLE;
    struct derived_writer w;
    memset(&w, 0, sizeof w);
    enum quant_code rc = exec_on(s, con, "BEGIN TRANSACTION", "starting a transaction", err);
    int open = !rc;
    if (!rc)
        rc = writer_open(&w, s, con, table, ids, nf + 2, del, err);
    if (!rc)
        rc = write_derived(&w, quant_feature_set_name(set), 0, items, n, err);
    if (!rc)
        rc = commit(&w, err);
    if (rc && open)
        rollback(s, con);
    writer_release(&w);
    free(ids);
    return rc;
}

static enum quant_code write_labels_on(struct quant_series_store *s, duckdb_connection con,
                                       int horizon, struct quant_derived_write *items, size_t n,
                                       struct quant_err *err)
{
    if (quant_series_store_read_only_(s))
        return quant_err_set(err, QUANT_EREADONLY, "store %s is open read-only",
                             quant_series_store_path_(s));
    /* label is an INTEGER column; append_rows converts the matrix's 0.0/1.0 */
    static const duckdb_type lids[LABEL_COLS] = {DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_DATE,
                                                 DUCKDB_TYPE_INTEGER, DUCKDB_TYPE_DOUBLE,
                                                 DUCKDB_TYPE_INTEGER};
    char kind[32];
    snprintf(kind, sizeof kind, "labels:h%d", horizon);
    struct derived_writer w;
    memset(&w, 0, sizeof w);
    enum quant_code rc = exec_on(s, con, "BEGIN TRANSACTION", "starting a transaction", err);
    int open = !rc;
    if (!rc)
        rc = writer_open(&w, s, con, "labels", lids, LABEL_COLS,
                         "DELETE FROM labels WHERE symbol = $1 AND horizon = $2", err);
    if (!rc)
        rc = write_derived(&w, kind, horizon, items, n, err);
    if (!rc)
        rc = commit(&w, err);
    if (rc && open)
        rollback(s, con);
    writer_release(&w);
    return rc;
}

enum quant_code quant_feature_store_write(struct quant_series_store *s,
                                          const struct quant_feature_set *set,
                                          struct quant_derived_write *items, size_t n,
                                          struct quant_err *err)
{
    return write_features_on(s, quant_series_store_con_(s), set, items, n, err);
}

enum quant_code quant_label_store_write(struct quant_series_store *s, int horizon,
                                        struct quant_derived_write *items, size_t n,
                                        struct quant_err *err)
{
    return write_labels_on(s, quant_series_store_con_(s), horizon, items, n, err);
}

/* ---- writer sessions ------------------------------------------------------------ */

struct quant_feature_session {
    struct quant_series_store *s;
    duckdb_connection con;
};

enum quant_code quant_feature_session_open(struct quant_series_store *s,
                                           struct quant_feature_session **out,
                                           struct quant_err *err)
{
    struct quant_feature_session *fs = calloc(1, sizeof *fs);
    if (!fs)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    fs->s = s;
    if (duckdb_connect(quant_series_store_db_(s), &fs->con) == DuckDBError) {
        free(fs);
        return quant_err_set(err, QUANT_ESTORE, "store %s: cannot open another connection",
                             quant_series_store_path_(s));
    }
    *out = fs;
    return QUANT_OK;
}

void quant_feature_session_close(struct quant_feature_session *fs)
{
    if (!fs)
        return;
    duckdb_disconnect(&fs->con);
    free(fs);
}

enum quant_code quant_feature_session_write(struct quant_feature_session *fs,
                                            const struct quant_feature_set *set,
                                            struct quant_derived_write *items, size_t n,
                                            struct quant_err *err)
{
    return write_features_on(fs->s, fs->con, set, items, n, err);
}

enum quant_code quant_label_session_write(struct quant_feature_session *fs, int horizon,
                                          struct quant_derived_write *items, size_t n,
                                          struct quant_err *err)
{
    return write_labels_on(fs->s, fs->con, horizon, items, n, err);
}

/* ---- training frames --------------------------------------------------------------- */

void quant_training_frame_release(struct quant_training_frame *f)
{
    free(f->dates);
    quant_feature_matrix_release(&f->features);
    quant_feature_matrix_release(&f->labels);
    memset(f, 0, sizeof *f);
}
