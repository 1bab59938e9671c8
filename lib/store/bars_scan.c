/*
 * bars_scan.c: the bars as derivation reads them: every column features and
 * labels need, in (symbol, date) order, one symbol at a time, either pushed
 * to a callback (quant_series_store_scan_bars: train, score, quant features)
 * or pulled through a cursor (the table functions of derived_read.c).
 */
#include "store/feature_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>

#include "core/buf.h"
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
 * The bars query: every column derivation needs, in whatever order the
 * parallel scan yields (the cursor below orders them).
 * With a short list of wanted symbols the list goes into the WHERE clause, so
 * DuckDB skips the other symbols' row groups by their min/max instead of
 * handing every bar of the store to C (training one symbol of a 500-symbol
 * store reads 1/500 of it).
 */
#define SCAN_IN_LIST_MAX 4096

static enum quant_code scan_sql(struct quant_series_store *s, int counts,
                                const char *const *want, size_t n_want, struct quant_buf *sql,
                                struct quant_err *err)
{
    enum quant_code rc =
        counts ? quant_buf_printf(sql, "SELECT symbol, count(*) FROM ohlcv")
               : quant_buf_printf(sql,
                                  "SELECT symbol, date, open, high, low, close, adj_close,"
                                  " volume, dividend, split_coefficient, %s FROM ohlcv",
                                  quant_series_store_version_(s) >= 2 ? "coalesce(quality, 0)"
                                                                       : "0::UTINYINT");
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
    if (!rc && counts)
        rc = quant_buf_printf(sql, " GROUP BY symbol");
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

/*
 * Why the bars are gathered in C instead of asking DuckDB for ORDER BY
 * symbol, date: the sort was three quarters of the read (0.45 of 0.6 s on the
 * 746k bars of the universe), yet the table is already clustered (ingest
 * writes a symbol's bars together, dates ascending).  A parallel scan hands
 * the rows over in no particular order, though, so the cursor reads them all
 * first, files each row under its symbol (rows come in long runs, so the last
 * bucket is almost always the right one), sorts a symbol's dates only when
 * they arrive out of order, and hands the symbols out in name order.
 * Memory: every wanted bar at once (80 bytes each; 260 MB for 500 x 6,500),
 * what DuckDB's sort held before.
 */
struct bucket {
    struct quant_bars bars;
    int sorted;                   /* dates ascending as they arrived */
};

struct quant_bars_cursor_ {
    struct bucket **order;        /* buckets by symbol name, after the read */
    size_t n, cap;                /* buckets in use, allocated */
    struct bucket **table;        /* open addressing on the symbol, tcap slots */
    size_t tcap;
    size_t next;                  /* next bucket of order to hand out */
};

static uint64_t sym_hash(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static int sym_eq(const struct bucket *b, const char *p, size_t len)
{
    return strncmp(b->bars.symbol, p, len) == 0 && b->bars.symbol[len] == '\0';
}

static enum quant_code table_grow(struct quant_bars_cursor_ *c)
{
    size_t cap = c->tcap ? c->tcap * 2 : 256;
    struct bucket **t = calloc(cap, sizeof *t);
    if (!t)
        return QUANT_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        struct bucket *b = c->order[i];
        size_t k = sym_hash(b->bars.symbol, strlen(b->bars.symbol)) & (cap - 1);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = b;
    }
    free(c->table);
    c->table = t;
    c->tcap = cap;
    return QUANT_OK;
}

/* The bucket of symbol p[0..len), made when new; NULL when out of memory. */
static struct bucket *bucket_for(struct quant_bars_cursor_ *c, const char *p, size_t len)
{
    if (len > QUANT_SYMBOL_MAX)
        len = QUANT_SYMBOL_MAX;
    if (c->tcap) {
        size_t k = sym_hash(p, len) & (c->tcap - 1);
        for (; c->table[k]; k = (k + 1) & (c->tcap - 1))
            if (sym_eq(c->table[k], p, len))
                return c->table[k];
    }
    if ((c->n + 1) * 2 > c->tcap && table_grow(c))
        return NULL;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct bucket **o = realloc(c->order, cap * sizeof *o);
        if (!o)
            return NULL;
        c->order = o;
        c->cap = cap;
    }
    struct bucket *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    quant_bars_init(&b->bars);
    memcpy(b->bars.symbol, p, len);
    b->bars.symbol[len] = '\0';
    b->sorted = 1;
    c->order[c->n++] = b;
    size_t k = sym_hash(p, len) & (c->tcap - 1);
    while (c->table[k])
        k = (k + 1) & (c->tcap - 1);
    c->table[k] = b;
    return b;
}

/* File the rows of one result chunk under their symbols. */
static enum quant_code take_chunk(struct quant_bars_cursor_ *c, duckdb_data_chunk k,
                                  struct bucket **last)
{
    idx_t m = duckdb_data_chunk_get_size(k);
    duckdb_string_t *sym = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 0));
    int32_t *date = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 1));
    duckdb_vector vv[8];
    double *dv[8];
    for (int j = 0; j < 8; j++) {
        vv[j] = duckdb_data_chunk_get_vector(k, (idx_t)(2 + j));
        dv[j] = duckdb_vector_get_data(vv[j]);
    }
    const uint8_t *quality = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 10));
    struct bucket *b = *last;
    for (idx_t i = 0; i < m; i++) {
        uint32_t len = duckdb_string_t_length(sym[i]);
        const char *p = duckdb_string_t_data(&sym[i]);
        if (!b || !sym_eq(b, p, len < QUANT_SYMBOL_MAX ? len : QUANT_SYMBOL_MAX)) {
            b = bucket_for(c, p, len);
            if (!b)
                return QUANT_ENOMEM;
        }
        struct quant_bar bar = {
            .date = date[i],
            .open = dv[0][i], .high = dv[1][i], .low = dv[2][i], .close = dv[3][i],
            .adj_close = vec_double_or_nan(vv[4], dv[4], i),
            .volume = dv[5][i],
            .dividend = vec_double_or_nan(vv[6], dv[6], i),
            .split = vec_double_or_nan(vv[7], dv[7], i),
            .quality = quality[i],
        };
        if (b->bars.n && bar.date < b->bars.v[b->bars.n - 1].date)
            b->sorted = 0;
        if (b->bars.n < b->bars.cap) /* presized: the usual case */
            b->bars.v[b->bars.n++] = bar;
        else if (quant_bars_push(&b->bars, &bar))
            return QUANT_ENOMEM;
    }
    *last = b;
    return QUANT_OK;
}

/*
 * Make every symbol's bucket at its final size before the rows come: the
 * count is a scan of the symbol column alone (10 ms for 746k bars), and the
 * buckets then never grow (growing them by doubling cost more in copies and
 * page faults than the whole count).
 */
static enum quant_code presize(struct quant_bars_cursor_ *c, struct quant_series_store *s,
                               duckdb_connection con, const char *const *want, size_t n_want,
                               struct quant_err *err)
{
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    duckdb_result res;
    enum quant_code rc = scan_sql(s, 1, want, n_want, &sql, err);
    if (!rc && duckdb_query(con, sql.data, &res) == DuckDBError) {
        rc = fail(s, "counting bars", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        quant_buf_release(&sql);
        return rc;
    }
    quant_buf_release(&sql);
    if (rc)
        return rc;
    for (;;) {
        duckdb_data_chunk k = duckdb_fetch_chunk(res);
        if (!k)
            break;
        idx_t m = duckdb_data_chunk_get_size(k);
        duckdb_string_t *sym = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 0));
        int64_t *count = duckdb_vector_get_data(duckdb_data_chunk_get_vector(k, 1));
        for (idx_t i = 0; !rc && i < m; i++) {
            struct bucket *b = bucket_for(c, duckdb_string_t_data(&sym[i]),
                                          duckdb_string_t_length(sym[i]));
            if (!b || quant_bars_reserve(&b->bars, (size_t)count[i]))
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading bars");
        }
        duckdb_destroy_data_chunk(&k);
        if (rc)
            break;
    }
    duckdb_destroy_result(&res);
    return rc;
}

static int bucket_cmp(const void *a, const void *b)
{
    return strcmp((*(struct bucket *const *)a)->bars.symbol,
                  (*(struct bucket *const *)b)->bars.symbol);
}

enum quant_code quant_bars_cursor_open_(struct quant_series_store *s, duckdb_connection con,
                                        const char *const *want, size_t n_want,
                                        struct quant_bars_cursor_ **out, struct quant_err *err)
{
    struct quant_bars_cursor_ *c = calloc(1, sizeof *c);
    if (!c)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    duckdb_prepared_statement st = NULL;
    duckdb_pending_result pending = NULL;
    duckdb_result res;
    int have_res = 0;
    enum quant_code rc = presize(c, s, con, want, n_want, err);
    if (!rc)
        rc = scan_sql(s, 0, want, n_want, &sql, err);
    if (!rc && duckdb_prepare(con, sql.data, &st) == DuckDBError)
        rc = fail(s, "reading bars", duckdb_prepare_error(st), err);
    quant_buf_release(&sql);
    /* Streaming: the chunks are filed as they come, never held twice. */
    if (!rc && duckdb_pending_prepared_streaming(st, &pending) == DuckDBError)
        rc = fail(s, "reading bars", duckdb_pending_error(pending), err);
    if (!rc) {
        have_res = 1; /* filled even when it fails, and then freed the same way */
        if (duckdb_execute_pending(pending, &res) == DuckDBError)
            rc = fail(s, "reading bars", duckdb_result_error(&res), err);
    }
    struct bucket *last = NULL;
    while (!rc) {
        duckdb_data_chunk k = duckdb_fetch_chunk(res);
        if (!k)
            break;
        if (take_chunk(c, k, &last))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading bars");
        duckdb_destroy_data_chunk(&k);
    }
    /* A failure in the middle of a streamed result surfaces here, not as NULL data. */
    if (!rc && have_res && duckdb_result_error(&res))
        rc = fail(s, "reading bars", duckdb_result_error(&res), err);
    if (have_res)
        duckdb_destroy_result(&res);
    if (pending)
        duckdb_destroy_pending(&pending);
    if (st)
        duckdb_destroy_prepare(&st);
    if (!rc) {
        if (c->n > 1) /* order is NULL when no bar matched */
            qsort(c->order, c->n, sizeof *c->order, bucket_cmp);
        for (size_t i = 0; i < c->n; i++)
            if (!c->order[i]->sorted)
                quant_bars_sort(&c->order[i]->bars);
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
    for (size_t i = 0; i < c->n; i++) {
        quant_bars_release(&c->order[i]->bars);
        free(c->order[i]);
    }
    free(c->order);
    free(c->table);
    free(c);
}

enum quant_code quant_bars_cursor_next_(struct quant_bars_cursor_ *c, struct quant_bars *out,
                                        int *got, struct quant_err *err)
{
    (void)err;
    out->n = 0;
    out->symbol[0] = '\0';
    *got = 0;
    if (c->next == c->n)
        return QUANT_OK;
    /* The bucket's array moves to out, which gives its own back to be freed. */
    struct bucket *b = c->order[c->next++];
    struct quant_bars old = *out;
    *out = b->bars;
    b->bars = old;
    b->bars.n = 0;
    quant_bars_release(&b->bars);
    *got = 1;
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

