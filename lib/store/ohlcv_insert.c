/*
 * ohlcv_insert.c: new ohlcv rows in bulk, as one INSERT ... SELECT over a
 * table function that reads quant's bars in place (ohlcv_write.c decides
 * which rows are new; this file only moves them into DuckDB).
 *
 * Why not the Appender: an Appender buffers its chunks and flushes them as an
 * INSERT with a single-threaded source, so all of DuckDB's work on new rows
 * (statistics, compression, writing full row groups to disk) ran on one core.
 * A table function can hand rows to several threads, and DuckDB's insert
 * then compresses and writes row groups in parallel, as its own read_csv
 * load does.  Insertion order is not kept across threads (readers sort, see
 * ohlcv_read.c and bars_scan.c), but each thread takes whole runs of
 * ROW_GROUP consecutive rows, so a row group holds consecutive (symbol, date)
 * keys and its min/max still prune scans of one symbol.
 *
 * Ownership: a quant_ohlcv_pending owns its arena of rows and the symbol
 * values it creates; the store holds the registered function, whose
 * extra info is the store itself (pending is set only during the INSERT).
 */
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store/store_internal.h"
#include "core/banned.h"

#define FN_NAME "quant_pending_ohlcv"
/* DuckDB's row group size: a run of rows one thread takes fills one group. */
#define ROW_GROUP 122880

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

/* ---- the table function ------------------------------------------------------ */

struct global_state {
    const struct quant_ohlcv_pending *p;
    size_t runs;
    atomic_size_t next_run;
};

struct local_state {
    size_t row, end;   /* the rows of the run being read, [row, end) */
    size_t seg;        /* the segment holding row */
};

static const char *const k_names[OHLCV_NCOLS] = {
    "symbol", "date", "open", "high", "low", "close", "adj_close", "volume", "dividend",
    "split_coefficient", "source", "ingested_at", "quality"};

static void fn_bind(duckdb_bind_info info)
{
    struct quant_series_store *s = duckdb_bind_get_extra_info(info);
    for (int i = 0; i < OHLCV_NCOLS; i++)
        duckdb_bind_add_result_column(info, k_names[i], s->types[i]);
}

static void fn_init(duckdb_init_info info)
{
    struct quant_series_store *s = duckdb_init_get_extra_info(info);
    struct global_state *g = malloc(sizeof *g);
    if (!g) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    g->p = s->pending;
    g->runs = g->p ? (g->p->used + ROW_GROUP - 1) / ROW_GROUP : 0;
    atomic_init(&g->next_run, 0);
    duckdb_init_set_init_data(info, g, free);
    duckdb_init_set_max_threads(info, g->runs > 1 ? g->runs : 1);
}

static void fn_local_init(duckdb_init_info info)
{
    struct local_state *l = calloc(1, sizeof *l);
    if (!l) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    duckdb_init_set_init_data(info, l, free);
}

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

static void fn_scan(duckdb_function_info info, duckdb_data_chunk out)
{
    struct global_state *g = duckdb_function_get_init_data(info);
    struct local_state *l = duckdb_function_get_local_init_data(info);
    const struct quant_ohlcv_pending *p = g->p;
    if (l->row >= l->end) {
        size_t run = atomic_fetch_add(&g->next_run, 1);
        if (run >= g->runs) {
            duckdb_data_chunk_set_size(out, 0);
            return;
        }
        l->row = run * ROW_GROUP;
        l->end = l->row + ROW_GROUP < p->used ? l->row + ROW_GROUP : p->used;
        l->seg = find_seg(p, l->row);
    }
    while (l->row >= p->v[l->seg].start + p->v[l->seg].n)
        l->seg++;
    const struct seg *s = &p->v[l->seg];
    size_t at = l->row - s->start;
    /* A chunk stays within one symbol, so the symbol is a constant vector. */
    size_t m = s->n - at;
    if (m > l->end - l->row)
        m = l->end - l->row;
    if (m > duckdb_vector_size())
        m = duckdb_vector_size();
    quant_ohlcv_fill_chunk_(out, s->symbol, p->source, p->ingested, p->arena + l->row, m);
    l->row += m;
}

static enum quant_code register_fn(struct quant_series_store *s, struct quant_err *err)
{
    duckdb_table_function tf = duckdb_create_table_function();
    if (!tf)
        return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
    duckdb_table_function_set_name(tf, FN_NAME);
    duckdb_table_function_set_extra_info(tf, s, NULL);
    duckdb_table_function_set_bind(tf, fn_bind);
    duckdb_table_function_set_init(tf, fn_init);
    duckdb_table_function_set_local_init(tf, fn_local_init);
    duckdb_table_function_set_function(tf, fn_scan);
    duckdb_state st = duckdb_register_table_function(s->con, tf);
    duckdb_destroy_table_function(&tf);
    if (st == DuckDBError)
        return quant_err_set(err, QUANT_ESTORE, "store %s: cannot register the bulk insert "
                             "function", s->path);
    s->insert_fn_registered = 1;
    return QUANT_OK;
}

enum quant_code quant_ohlcv_insert_ready_(struct quant_series_store *s, struct quant_err *err)
{
    return s->insert_fn_registered ? QUANT_OK : register_fn(s, err);
}

void quant_ohlcv_insert_failed_(struct quant_series_store *s)
{
    duckdb_result res;
    (void)duckdb_query(s->con, "SET preserve_insertion_order = true", &res);
    duckdb_destroy_result(&res);
}

/* Run sql; a failed constraint is named as bad input, as the Appender's is. */
static enum quant_code run(struct quant_series_store *s, const char *sql, const char *what,
                           struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        const char *m = duckdb_result_error(&res);
        if (m && strstr(m, "constraint failed"))
            rc = quant_err_set(err, QUANT_ESTORE,
                               "store %s: %s (a bar has a missing price or volume, or a "
                               "negative volume: fix or drop it before ingesting)",
                               s->path, m);
        else
            rc = quant_series_store_fail_(s, what, m, err);
    }
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_ohlcv_pending_flush_(struct quant_series_store *s,
                                           struct quant_ohlcv_pending *p, struct quant_err *err)
{
    if (p->used == 0)
        return QUANT_OK;
    if (!s->insert_fn_registered)
        return quant_err_set(err, QUANT_EINTERNAL, "store %s: the bulk insert function was "
                             "not registered before the transaction", s->path);
    enum quant_code rc = QUANT_OK;
    /* Without order preservation DuckDB's insert runs on every thread. */
    int parallel = !rc && p->used > ROW_GROUP;
    if (parallel)
        rc = run(s, "SET preserve_insertion_order = false", "allowing a parallel insert", err);
    if (!rc) {
        s->pending = p;
        rc = run(s, "INSERT INTO ohlcv SELECT * FROM " FN_NAME "()", "inserting new rows", err);
        s->pending = NULL;
    }
    if (parallel) {
        /* restored even after a failure, so other statements keep their order
         * (in an aborted transaction this SET may be refused too: the writer
         * repeats it after its ROLLBACK, quant_ohlcv_insert_failed_) */
        struct quant_err e2;
        enum quant_code r2 = run(s, "SET preserve_insertion_order = true",
                                 "restoring insertion order", &e2);
        if (!rc && r2)
            rc = quant_err_set(err, r2, "%s", e2.msg);
    }
    clear(p);
    return rc;
}
