/*
 * bars_scan.c: the bars as derivation reads them: every column features and
 * labels need, in (symbol, date) order, one symbol at a time, either pushed
 * to a callback (quant_series_store_scan_bars: train, score, quant features)
 * or pulled through a cursor (the table functions of derived_read.c).
 */
#include "quant/feature_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "quant/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

static enum quant_code fail(struct quant_series_store *s, const char *what, const char *msg,
                            struct quant_err *err)
{
    return quant_series_store_fail_(s, what, msg, err);
}

/* ---- scanning bars ------------------------------------------------------------ */

static int want_has(const char *const *want, size_t n, const char *sym)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(want[mid], sym);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static double vec_double_or_nan(duckdb_vector v, const double *d, idx_t row)
{
    uint64_t *mask = duckdb_vector_get_validity(v);
    return !mask || duckdb_validity_row_is_valid(mask, row) ? d[row] : NAN;
}

/*
 * The bars query: every column derivation needs, in (symbol, date) order.
 * With a short list of wanted symbols the list goes into the WHERE clause, so
 * DuckDB skips the other symbols' row groups by their min/max instead of
 * handing every bar of the store to C (training one symbol of a 500-symbol
 * store reads 1/500 of it).
 */
#define SCAN_IN_LIST_MAX 4096

static enum quant_code scan_sql(struct quant_series_store *s, const char *const *want,
                                size_t n_want, struct quant_buf *sql, struct quant_err *err)
{
    enum quant_code rc = quant_buf_printf(
        sql, "SELECT symbol, date, open, high, low, close, adj_close, volume, dividend,"
             " split_coefficient, %s FROM ohlcv",
        quant_series_store_version_(s) >= 2 ? "coalesce(quality, 0)" : "0::UTINYINT");
    if (!rc && want && n_want <= SCAN_IN_LIST_MAX) {
        rc = quant_buf_printf(sql, " WHERE symbol IN (");
        for (size_t i = 0; !rc && i < n_want; i++) {
            rc = quant_buf_printf(sql, "%s'", i ? ", " : "");
            for (const char *c = want[i]; !rc && *c; c++)
                rc = *c == '\'' ? quant_buf_printf(sql, "''") : quant_buf_append(sql, c, 1);
            if (!rc)
                rc = quant_buf_printf(sql, "'");
        }
        if (!rc)
            rc = quant_buf_printf(sql, ")");
    }
    if (!rc)
        rc = quant_buf_printf(sql, " ORDER BY symbol, date");
    if (rc)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    return QUANT_OK;
}

enum quant_code quant_series_store_scan_bars(struct quant_series_store *s,
                                             const char *const *want, size_t n_want,
                                             quant_bars_cb cb, void *ctx,
                                             struct quant_err *err)
{
    return quant_store_scan_bars_on_(s, quant_series_store_con_(s), want, n_want, cb, ctx,
                                     err);
}

/* ---- a cursor over the bars, one symbol at a time ---------------------------- */

struct quant_bars_cursor_ {
    struct quant_series_store *s;
    duckdb_prepared_statement st;
    duckdb_pending_result pending;
    duckdb_result res;
    int have_res;
    duckdb_data_chunk chunk;      /* the chunk being read, NULL before the first */
    idx_t pos;                    /* next row of chunk */
    int eof;
    char next[QUANT_SYMBOL_MAX + 1];  /* symbol of the row at pos ("" = unknown) */
};

enum quant_code quant_bars_cursor_open_(struct quant_series_store *s, duckdb_connection con,
                                        const char *const *want, size_t n_want,
                                        struct quant_bars_cursor_ **out, struct quant_err *err)
{
    struct quant_bars_cursor_ *c = calloc(1, sizeof *c);
    if (!c)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    c->s = s;
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    enum quant_code rc = scan_sql(s, want, n_want, &sql, err);
    if (!rc && duckdb_prepare(con, sql.data, &c->st) == DuckDBError)
        rc = fail(s, "reading bars", duckdb_prepare_error(c->st), err);
    quant_buf_release(&sql);
    if (!rc && duckdb_pending_prepared_streaming(c->st, &c->pending) == DuckDBError)
        rc = fail(s, "reading bars", duckdb_pending_error(c->pending), err);
    if (!rc) {
        c->have_res = 1; /* filled even when it fails, and then freed the same way */
        if (duckdb_execute_pending(c->pending, &c->res) == DuckDBError)
            rc = fail(s, "reading bars", duckdb_result_error(&c->res), err);
    }
    if (rc) {
        quant_bars_cursor_close_(c);
        return rc;
    }
    *out = c;
    return QUANT_OK;
}

void quant_bars_cursor_close_(struct quant_bars_cursor_ *c)
{
    if (!c)
        return;
    if (c->chunk)
        duckdb_destroy_data_chunk(&c->chunk);
    if (c->have_res)
        duckdb_destroy_result(&c->res);
    if (c->pending)
        duckdb_destroy_pending(&c->pending);
    if (c->st)
        duckdb_destroy_prepare(&c->st);
    free(c);
}

/* Make c->chunk hold an unread row; 0 at the end of the result. */
static int cursor_fill(struct quant_bars_cursor_ *c)
{
    while (!c->eof && (!c->chunk || c->pos >= duckdb_data_chunk_get_size(c->chunk))) {
        if (c->chunk)
            duckdb_destroy_data_chunk(&c->chunk);
        c->chunk = duckdb_fetch_chunk(c->res);
        c->pos = 0;
        if (!c->chunk)
            c->eof = 1;
    }
    return !c->eof;
}

enum quant_code quant_bars_cursor_next_(struct quant_bars_cursor_ *c, struct quant_bars *out,
                                        int *got, struct quant_err *err)
{
    out->n = 0;
    out->symbol[0] = '\0';
    *got = 0;
    while (cursor_fill(c)) {
        duckdb_data_chunk k = c->chunk;
        idx_t m = duckdb_data_chunk_get_size(k);
        duckdb_vector vsym = duckdb_data_chunk_get_vector(k, 0);
        int32_t *date = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 1));
        duckdb_vector vv[8];
        double *dv[8];
        for (int j = 0; j < 8; j++) {
            vv[j] = duckdb_data_chunk_get_vector(k, (idx_t)(2 + j));
            dv[j] = duckdb_vector_get_data(vv[j]);
        }
        const uint8_t *quality = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 10));
        for (; c->pos < m; c->pos++) {
            idx_t i = c->pos;
            char sym[QUANT_SYMBOL_MAX + 1];
            quant_duck_vec_string_(vsym, i, sym, sizeof sym);
            if (*got && strcmp(sym, out->symbol) != 0)
                return QUANT_OK; /* the next symbol starts here */
            if (!*got) {
                snprintf(out->symbol, sizeof out->symbol, "%s", sym);
                *got = 1;
            }
            struct quant_bar b = {
                .date = date[i],
                .open = dv[0][i], .high = dv[1][i], .low = dv[2][i], .close = dv[3][i],
                .adj_close = vec_double_or_nan(vv[4], dv[4], i),
                .volume = dv[5][i],
                .dividend = vec_double_or_nan(vv[6], dv[6], i),
                .split = vec_double_or_nan(vv[7], dv[7], i),
                .quality = quality[i],
            };
            if (quant_bars_push(out, &b))
                return quant_err_set(err, QUANT_ENOMEM, "out of memory reading bars");
        }
    }
    return QUANT_OK;
}

enum quant_code quant_store_scan_bars_on_(struct quant_series_store *s, duckdb_connection con,
                                          const char *const *want, size_t n_want,
                                          quant_bars_cb cb, void *ctx, struct quant_err *err)
{
    struct quant_bars_cursor_ *c = NULL;
    enum quant_code rc = quant_bars_cursor_open_(s, con, want, n_want, &c, err);
    struct quant_bars cur;
    quant_bars_init(&cur);
    int got = 1;
    while (!rc && got) {
        rc = quant_bars_cursor_next_(c, &cur, &got, err);
        /* an IN list longer than SCAN_IN_LIST_MAX is filtered here */
        if (!rc && got && (!want || want_has(want, n_want, cur.symbol)) && cb(ctx, &cur))
            break;
    }
    quant_bars_release(&cur);
    quant_bars_cursor_close_(c);
    return rc;
}

