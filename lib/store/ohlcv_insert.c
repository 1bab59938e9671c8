/*
 * ohlcv_insert.c: new ohlcv rows held in one arena until they are written in
 * bulk (bulk_insert.c's parallel INSERT reads them in place); ohlcv_write.c
 * decides which rows are new, this file only holds and moves them.  Each run
 * of rows a DuckDB thread takes is QUANT_BULK_ROW_GROUP consecutive rows of
 * the arena, so a row group holds consecutive (symbol, date) keys.
 *
 * Ownership: a quant_ohlcv_pending owns its arena of rows and the symbol
 * values it creates.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store/store_internal.h"
#include "core/banned.h"

#define ROW_GROUP QUANT_BULK_ROW_GROUP

/* ---- filling a chunk --------------------------------------------------------- */

/* Doubles column: NaN becomes SQL NULL through the validity mask. */
static void fill_double(duckdb_vector vec, const struct quant_bar *v, size_t n, size_t off)
{
    double *d = duckdb_vector_get_data(vec);
    int any_nan = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = *(const double *)((const char *)&v[i] + off);
        any_nan |= isnan(d[i]);
    }
    if (!any_nan && !duckdb_vector_get_validity(vec))
        return;
    duckdb_vector_ensure_validity_writable(vec);
    uint64_t *valid = duckdb_vector_get_validity(vec);
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        uint64_t bits = 0;
        for (size_t b = 0; b < 64 && w * 64 + b < n; b++)
            bits |= (uint64_t)!isnan(d[w * 64 + b]) << b;
        valid[w] = bits;
    }
}

void quant_ohlcv_fill_chunk_(duckdb_data_chunk c, duckdb_value symbol, duckdb_value source,
                             duckdb_value ingested, const struct quant_bar *v, size_t m)
{
    static const size_t offs[8] = {
        offsetof(struct quant_bar, open),     offsetof(struct quant_bar, high),
        offsetof(struct quant_bar, low),      offsetof(struct quant_bar, close),
        offsetof(struct quant_bar, adj_close), offsetof(struct quant_bar, volume),
        offsetof(struct quant_bar, dividend), offsetof(struct quant_bar, split)};
    /* Constant vectors: one value for the whole chunk, no per-row strings. */
    duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_SYMBOL), symbol);
    duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_SOURCE), source);
    duckdb_vector_reference_value(duckdb_data_chunk_get_vector(c, C_INGESTED), ingested);
    int32_t *dates = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, C_DATE));
    for (size_t i = 0; i < m; i++)
        dates[i] = v[i].date;
    for (int col = 0; col < 8; col++)
        fill_double(duckdb_data_chunk_get_vector(c, (idx_t)(C_OPEN + col)), v, m, offs[col]);
    uint8_t *quality = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, C_QUALITY));
    for (size_t i = 0; i < m; i++)
        quality[i] = v[i].quality;
    duckdb_data_chunk_set_size(c, m);
}

/* ---- the pending rows ---------------------------------------------------------- */

/*
 * The rows live in one arena of whole pages, mapped once per write and
 * reused after every flush, with transparent huge pages asked for: in a VM a
 * page fault is dear, and a fresh 4 KiB page per 51 bars made the faults of
 * the copies more than a tenth of an ingest (measured: 68k faults and 0.75 s
 * of system time for the 746k-row universe, 17k and 0.32 s with huge pages).
 */
struct seg {
    size_t start, n;          /* rows [start, start + n) of the arena */
    duckdb_value symbol;      /* owned */
};

struct quant_ohlcv_pending {
    struct quant_bar *arena;  /* mmap'd, cap rows */
    size_t cap, used;         /* used: rows held by segments */
    struct seg *v;
    size_t n, ncap;
    duckdb_value source, ingested; /* borrowed from the caller for the call */
};

static void unmap(struct quant_ohlcv_pending *p)
{
    if (p->arena)
        munmap(p->arena, p->cap * sizeof *p->arena);
    p->arena = NULL;
    p->cap = 0;
}

static int map(struct quant_ohlcv_pending *p, size_t rows)
{
    void *m = mmap(NULL, rows * sizeof *p->arena, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
#ifdef MADV_HUGEPAGE
    (void)madvise(m, rows * sizeof *p->arena, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
    p->arena = m;
    p->cap = rows;
    return 0;
}

struct quant_ohlcv_pending *quant_ohlcv_pending_new_(duckdb_value source, duckdb_value ingested)
{
    struct quant_ohlcv_pending *p = calloc(1, sizeof *p);
    if (p) {
        p->source = source;
        p->ingested = ingested;
    }
    return p;
}

static void clear(struct quant_ohlcv_pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        duckdb_destroy_value(&p->v[i].symbol);
    p->n = 0;
    p->used = 0;
}

void quant_ohlcv_pending_free_(struct quant_ohlcv_pending *p)
{
    if (!p)
        return;
    clear(p);
    unmap(p);
    free(p->v);
    free(p);
}

enum quant_code quant_ohlcv_pending_room_(struct quant_series_store *s,
                                          struct quant_ohlcv_pending *p, size_t n,
                                          struct quant_bar **out, struct quant_err *err)
{
    *out = NULL;
    if (p->used + n > p->cap) {
        enum quant_code rc = quant_ohlcv_pending_flush_(s, p, err);
        if (rc)
            return rc;
    }
    if (n > p->cap) { /* empty now: map one big enough */
        size_t want = n > QUANT_OHLCV_PENDING_ROWS ? n : QUANT_OHLCV_PENDING_ROWS;
        unmap(p);
        if (map(p, want))
            return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory for %zu new rows",
                                 s->path, want);
    }
    *out = p->arena + p->used;
    return QUANT_OK;
}

enum quant_code quant_ohlcv_pending_add_(struct quant_ohlcv_pending *p, const char *symbol,
                                         size_t n)
{
    if (n == 0)
        return QUANT_OK;
    if (p->n == p->ncap) {
        size_t cap = p->ncap ? p->ncap * 2 : 64;
        struct seg *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return QUANT_ENOMEM;
        p->v = v;
        p->ncap = cap;
    }
    duckdb_value sym = duckdb_create_varchar(symbol);
    if (!sym)
        return QUANT_ENOMEM;
    p->v[p->n++] = (struct seg){p->used, n, sym};
    p->used += n;
    return QUANT_OK;
}

/* ---- the INSERT ------------------------------------------------------------------ */

static const char *const k_names[OHLCV_NCOLS] = {
    "symbol", "date", "open", "high", "low", "close", "adj_close", "volume", "dividend",
    "split_coefficient", "source", "ingested_at", "quality"};

/* The segment holding row r: the last whose start is <= r. */
static size_t find_seg(const struct quant_ohlcv_pending *p, size_t r)
{
    size_t lo = 0, hi = p->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->v[mid].start <= r)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Run `run` is ROW_GROUP consecutive rows of the arena; a chunk stays within
 * one symbol, so the symbol is a constant vector. */
static size_t fill(const void *ctx, size_t run, size_t *pos, duckdb_data_chunk out)
{
    const struct quant_ohlcv_pending *p = ctx;
    size_t row = run * ROW_GROUP + *pos;
    size_t end = run * ROW_GROUP + ROW_GROUP < p->used ? run * ROW_GROUP + ROW_GROUP : p->used;
    if (row >= end)
        return 0;
    const struct seg *sg = &p->v[find_seg(p, row)];
    size_t m = sg->start + sg->n - row;
    if (m > end - row)
        m = end - row;
    if (m > duckdb_vector_size())
        m = duckdb_vector_size();
    quant_ohlcv_fill_chunk_(out, sg->symbol, p->source, p->ingested, p->arena + row, m);
    *pos += m;
    return m;
}

enum quant_code quant_ohlcv_pending_flush_(struct quant_series_store *s,
                                           struct quant_ohlcv_pending *p, struct quant_err *err)
{
    if (p->used == 0)
        return QUANT_OK;
    struct quant_bulk_rows rows = {OHLCV_NCOLS, k_names, s->types,
                                   (p->used + ROW_GROUP - 1) / ROW_GROUP, fill, p};
    enum quant_code rc = quant_bulk_insert_(s, "ohlcv", &rows, "inserting new rows",
                                            "a bar has a missing price or volume, or a "
                                            "negative volume: fix or drop it before ingesting",
                                            err);
    clear(p);
    return rc;
}
