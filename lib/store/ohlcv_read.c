/*
 * ohlcv_read.c: reading the ohlcv table (series_store.h): one symbol's bars,
 * the stored rows of a whole batch of symbols in one scan (what a write
 * diffs against), and per-symbol summaries.  Rows are stored in (symbol, date)
 * order, so a filter on symbol reads only the row groups that hold it (zone
 * maps); there is no index.  It must not write.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

/* The value columns every read of bars selects, after what identifies the row.
 * A version-1 store opened read-only has no quality column: all 0. */
static const char *bar_columns(const struct quant_series_store *s)
{
    return s->version >= 2 ? "date, open, high, low, close, adj_close, volume, dividend,"
                             " split_coefficient, coalesce(quality, 0)"
                           : "date, open, high, low, close, adj_close, volume, dividend,"
                             " split_coefficient, 0::UTINYINT";
}

/* Rows [0, n) of a chunk whose columns from `first` on are bar_columns(),
 * appended to out (room reserved by the caller). */
static void chunk_bars(duckdb_data_chunk c, idx_t first, idx_t from, idx_t n,
                       struct quant_bars *out)
{
    duckdb_vector v[10];
    for (int k = 0; k < 10; k++)
        v[k] = duckdb_data_chunk_get_vector(c, first + (idx_t)k);
    const int32_t *dates = duckdb_vector_get_data(v[0]);
    const uint8_t *quality = duckdb_vector_get_data(v[9]);
    for (idx_t i = from; i < from + n; i++) {
        struct quant_bar *b = &out->v[out->n++];
        b->date = dates[i];
        b->open = quant_duck_vec_double_(v[1], i);
        b->high = quant_duck_vec_double_(v[2], i);
        b->low = quant_duck_vec_double_(v[3], i);
        b->close = quant_duck_vec_double_(v[4], i);
        b->adj_close = quant_duck_vec_double_(v[5], i);
        b->volume = quant_duck_vec_double_(v[6], i);
        b->dividend = quant_duck_vec_double_(v[7], i);
        b->split = quant_duck_vec_double_(v[8], i);
        b->quality = quality[i];
    }
}

enum quant_code quant_ohlcv_read_(struct quant_series_store *s, const char *sym,
                                  struct quant_bars *out, struct quant_err *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM ohlcv WHERE symbol = $1 ORDER BY date",
             bar_columns(s));
    enum quant_code rc = quant_duck_prepare_(s, &s->load, sql, err);
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
        if (quant_bars_reserve(out, out->n + n) != QUANT_OK)
            rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory reading %s",
                               s->path, sym);
        else
            chunk_bars(c, 0, 0, n, out);
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_series_store_load_bars(struct quant_series_store *s, const char *symbol,
                                             struct quant_bars *out, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = quant_duck_symbol_(symbol, sym, err);
    if (rc)
        return rc;
    out->n = 0;
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    return quant_ohlcv_read_(s, sym, out, err);
}

/* ---- the stored rows of a batch, in one scan -------------------------------- */

struct sym_index {
    const char *sym;
    size_t idx;
};

static int sym_index_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sym_index *)a)->sym, ((const struct sym_index *)b)->sym);
}

void quant_ohlcv_stored_release_(struct quant_ohlcv_stored *st)
{
    if (st->bars)
        for (size_t i = 0; i < st->n; i++)
            quant_bars_release(&st->bars[i]);
    free(st->bars);
    free(st->src);
    free(st->nsrc);
    memset(st, 0, sizeof *st);
}

/* Count one stored row of source `name` (a VARCHAR cell) for symbol i. */
static void count_source(struct quant_ohlcv_stored *st, size_t i, duckdb_string_t *name,
                         int32_t date)
{
    uint32_t len = duckdb_string_t_length(*name);
    const char *p = duckdb_string_t_data(name);
    struct quant_stored_source *v = st->src[i];
    size_t k = 0;
    while (k < st->nsrc[i] && !(strlen(v[k].name) == len && memcmp(v[k].name, p, len) == 0))
        k++;
    if (k == st->nsrc[i]) {
        if (k == QUANT_STORED_SOURCES_MAX)
            k--; /* more sources than quant writes: counted under the last one */
        else
            st->nsrc[i]++;
        memset(&v[k], 0, sizeof v[k]);
        memcpy(v[k].name, p, len < sizeof v[k].name ? len : sizeof v[k].name - 1);
        v[k].first = v[k].last = date;
    }
    v[k].bars++;
    if (date < v[k].first)
        v[k].first = date;
    if (date > v[k].last)
        v[k].last = date;
}

/* The rows of one fetched chunk (symbol, source, bar columns...) into st. */
static enum quant_code stored_chunk(struct quant_ohlcv_stored *st, duckdb_data_chunk c,
                                    const struct sym_index *ix, size_t nix)
{
    idx_t n = duckdb_data_chunk_get_size(c);
    duckdb_string_t *sym = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0));
    duckdb_string_t *src = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
    const int32_t *dates = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 2));
    idx_t i = 0;
    while (i < n) {
        /* a run of rows of one symbol (rows are stored by symbol) */
        char name[QUANT_SYMBOL_MAX + 1];
        quant_duck_vec_string_(duckdb_data_chunk_get_vector(c, 0), i, name, sizeof name);
        idx_t j = i + 1;
        while (j < n && duckdb_string_t_length(sym[j]) == duckdb_string_t_length(sym[i]) &&
               memcmp(duckdb_string_t_data(&sym[j]), duckdb_string_t_data(&sym[i]),
                      duckdb_string_t_length(sym[i])) == 0)
            j++;
        struct sym_index key = {name, 0};
        const struct sym_index *hit = bsearch(&key, ix, nix, sizeof *ix, sym_index_cmp);
        if (hit) {
            struct quant_bars *b = &st->bars[hit->idx];
            size_t need = b->n + (j - i);
            if (need > b->cap && quant_bars_reserve(b, need < 2 * b->cap ? 2 * b->cap : need))
                return QUANT_ENOMEM;
            chunk_bars(c, 2, i, j - i, b);
            for (idx_t r = i; r < j; r++)
                count_source(st, hit->idx, &src[r], dates[r]);
        }
        i = j;
    }
    return QUANT_OK;
}

/* SELECT ... WHERE symbol IN ('A', 'B', ...) over the wanted symbols. */
static enum quant_code stored_sql(const struct quant_series_store *s,
                                  const struct sym_index *ix, size_t nix, struct quant_buf *sql)
{
    enum quant_code rc = quant_buf_printf(sql, "SELECT symbol, source, %s FROM ohlcv"
                                               " WHERE symbol IN (", bar_columns(s));
    for (size_t i = 0; !rc && i < nix; i++) {
        if (i)
            rc = quant_buf_append(sql, ", ", 2);
        if (!rc)
            rc = quant_duck_quote_(sql, ix[i].sym);
    }
    return rc ? rc : quant_buf_append(sql, ")", 1);
}

static enum quant_code stored_scan(struct quant_series_store *s, const struct sym_index *ix,
                                   size_t nix, struct quant_ohlcv_stored *out,
                                   struct quant_err *err)
{
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    if (stored_sql(s, ix, nix, &sql)) {
        quant_buf_release(&sql);
        return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
    }
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(s->con, sql.data, &res) == DuckDBError)
        rc = quant_series_store_fail_(s, "reading the stored bars", duckdb_result_error(&res),
                                      err);
    quant_buf_release(&sql);
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        if (stored_chunk(out, c, ix, nix))
            rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory reading bars",
                               s->path);
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_ohlcv_stored_read_(struct quant_series_store *s,
                                         char (*syms)[QUANT_SYMBOL_MAX + 1], const int *want,
                                         size_t n, struct quant_ohlcv_stored *out,
                                         struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->bars = calloc(n ? n : 1, sizeof *out->bars);
    out->src = calloc(n ? n : 1, sizeof *out->src);
    out->nsrc = calloc(n ? n : 1, sizeof *out->nsrc);
    struct sym_index *ix = calloc(n ? n : 1, sizeof *ix);
    if (!out->bars || !out->src || !out->nsrc || !ix) {
        free(ix);
        quant_ohlcv_stored_release_(out);
        return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
    }
    size_t nix = 0;
    for (size_t i = 0; i < n; i++) {
        quant_bars_init(&out->bars[i]);
        snprintf(out->bars[i].symbol, sizeof out->bars[i].symbol, "%s", syms[i]);
        if (want[i])
            ix[nix++] = (struct sym_index){syms[i], i};
    }
    enum quant_code rc = QUANT_OK;
    if (nix) {
        qsort(ix, nix, sizeof *ix, sym_index_cmp);
        rc = stored_scan(s, ix, nix, out, err);
    }
    free(ix);
    /* A parallel scan returns row groups in any order: sort each series
     * (already ascending, the usual case, costs one pass). */
    for (size_t i = 0; !rc && i < n; i++)
        quant_bars_sort(&out->bars[i]);
    if (rc)
        quant_ohlcv_stored_release_(out);
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
                quant_duck_vec_string_(sym, i, v[n].symbol, sizeof v[n].symbol);
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
    enum quant_code rc = quant_duck_symbol_(symbol, sym, err);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT symbol, %s FROM ohlcv WHERE symbol = $1 GROUP BY symbol",
             summary_columns(s));
    if (!rc)
        rc = quant_duck_prepare_(s, &s->one_sum, sql, err);
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

