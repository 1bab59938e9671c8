/*
 * ohlcv_write.c: the ohlcv upsert engine behind quant_series_store_write
 * (series_store.h).  Each call is one transaction: a failed or killed write
 * leaves ohlcv exactly as it was.  Per call:
 *
 *   1. the stored rows of the call's symbols that have any, in one scan per
 *      STORED_GROUP symbols (ohlcv_read.c), with their sources for the
 *      lineage check;
 *   2. per symbol, in C: duplicates in the input resolved (the last wins),
 *      the adjustment completed against the stored bars (adjust.h), and a
 *      diff by date: a new date is appended, a changed row is staged, an
 *      identical one is left alone (ingested_at included);
 *   3. new rows go into ohlcv as data chunks through one Appender; staged
 *      rows are applied with one UPDATE ... FROM the staging table, in place.
 *
 * This diff is what keeps (symbol, date) unique now that ohlcv has no key
 * (schema.c): a date is appended only when the stored rows read in step 1
 * lack it, and those are exact, since this handle is the only writer.
 * It must not print, exit, or read configuration.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/adjust.h"
#include "quant/clock.h"
#include "store/store_internal.h"
#include "core/banned.h"

/* ---- the set of symbols with rows -------------------------------------- */

static int sym_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int known_has(const struct quant_series_store *s, const char *sym)
{
    return s->nknown && bsearch(sym, s->known, s->nknown, sizeof *s->known, sym_cmp) != NULL;
}

static int known_add(struct quant_series_store *s, const char *sym)
{
    if (known_has(s, sym))
        return 0;
    if (s->nknown == s->capknown) {
        size_t cap = s->capknown ? s->capknown * 2 : 64;
        void *p = realloc(s->known, cap * sizeof *s->known);
        if (!p)
            return -1;
        s->known = p;
        s->capknown = cap;
    }
    size_t i = s->nknown;
    while (i > 0 && strcmp(s->known[i - 1], sym) > 0) {
        memcpy(s->known[i], s->known[i - 1], sizeof *s->known);
        i--;
    }
    snprintf(s->known[i], sizeof *s->known, "%s", sym);
    s->nknown++;
    return 0;
}

/* Read a VARCHAR cell of a fetched chunk into a fixed buffer (truncating). */
static enum quant_code known_load(struct quant_series_store *s, struct quant_err *err)
{
    duckdb_result res;
    if (duckdb_query(s->con, "SELECT DISTINCT symbol FROM ohlcv", &res) == DuckDBError) {
        quant_series_store_fail_(s, "listing symbols", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return QUANT_ESTORE;
    }
    s->nknown = 0;
    enum quant_code rc = QUANT_OK;
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(c);
        duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
        for (idx_t i = 0; i < n && !rc; i++) {
            char sym[QUANT_SYMBOL_MAX + 1];
            quant_duck_vec_string_(v, i, sym, sizeof sym);
            if (known_add(s, sym))
                rc = quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    s->known_valid = !rc;
    return rc;
}


void quant_ohlcv_known_reset_(struct quant_series_store *s)
{
    s->known_valid = 0;
}

/* ---- rows into DuckDB ------------------------------------------------------ */


/*
 * The input with duplicates removed, ascending, into room (in->n rows fit):
 * the last bar of equal dates wins (sources list corrections after the
 * original).  Sorted input, the normal case, is deduplicated in one pass;
 * anything else is stably sorted first.  *out is a view of room, not owned.
 */
static void dedupe(const struct quant_bars *in, struct quant_bar *room, struct quant_bars *out)
{
    quant_bars_init(out);
    if (in->n == 0)
        return;
    out->v = room;
    out->n = out->cap = in->n;
    memcpy(out->v, in->v, in->n * sizeof *in->v);
    quant_bars_sort(out);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w > 0 && out->v[w - 1].date == out->v[i].date)
            out->v[w - 1] = out->v[i];
        else
            out->v[w++] = out->v[i];
    }
    out->n = w;
}

struct row_consts {
    duckdb_value symbol, source, ingested; /* the same in every row of a call */
};

/* Append v[0..n) to the appender, STANDARD_VECTOR_SIZE rows per chunk. */
static enum quant_code append_bars(struct quant_series_store *s, duckdb_appender app,
                                   const struct row_consts *k, const struct quant_bar *v,
                                   size_t n, struct quant_err *err)
{
    const size_t step = duckdb_vector_size();
    for (size_t at = 0; at < n; at += step) {
        size_t m = n - at < step ? n - at : step;
        duckdb_data_chunk_reset(s->chunk);
        quant_ohlcv_fill_chunk_(s->chunk, k->symbol, k->source, k->ingested, v + at, m);
        if (duckdb_append_data_chunk(app, s->chunk) == DuckDBError)
            return quant_duck_append_error_(s, app, err);
    }
    return QUANT_OK;
}

/*
 * One upsert call's writers: new rows wait in `fresh` for a parallel INSERT
 * (ohlcv_insert.c), which also holds each symbol's working copy; changed
 * rows go through an appender on the TEMP staging table, created on first
 * need.  Both live for the whole call so a batch of symbols pays their setup
 * once.
 */
struct writer {
    struct quant_ohlcv_pending *fresh; /* new rows for ohlcv */
    duckdb_appender staged;  /* into quant_staging; NULL until a row changed */
    size_t nstaged;
};

static enum quant_code stage(struct quant_series_store *s, struct writer *w,
                             const struct row_consts *k, const struct quant_bar *v, size_t n,
                             struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    if (n == 0)
        return QUANT_OK;
    if (!w->staged) {
        rc = quant_series_store_exec_(s, "DELETE FROM quant_staging",
                                      "clearing the staging table", err);
        if (!rc)
            rc = quant_duck_appender_(s, "quant_staging", &w->staged, err);
        if (rc)
            return rc;
    }
    w->nstaged += n;
    return append_bars(s, w->staged, k, v, n, err);
}

/*
 * Flush both appenders, then apply the staged changes in one UPDATE, in
 * place: the rows keep their position, so ohlcv stays in (symbol, date)
 * order for the zone maps.  The staging table holds one row per key (the
 * input was deduplicated), and only keys the stored rows have.
 */
static enum quant_code writer_finish(struct quant_series_store *s, struct writer *w,
                                     struct quant_err *err)
{
    enum quant_code rc = quant_ohlcv_pending_flush_(s, w->fresh, err);
    if (!rc && w->staged && duckdb_appender_close(w->staged) == DuckDBError)
        rc = quant_duck_append_error_(s, w->staged, err);
    if (!rc && w->nstaged)
        rc = quant_series_store_exec_(
            s,
            "UPDATE ohlcv SET open = x.open, high = x.high, low = x.low, close = x.close,"
            " adj_close = x.adj_close, volume = x.volume, dividend = x.dividend,"
            " split_coefficient = x.split_coefficient, source = x.source,"
            " ingested_at = x.ingested_at, quality = x.quality"
            " FROM quant_staging AS x WHERE ohlcv.symbol = x.symbol AND ohlcv.date = x.date",
            "updating changed rows", err);
    return rc;
}

static void writer_release(struct writer *w)
{
    /* destroy also flushes: harmless after a close, and after a failure the
     * transaction is rolled back anyway */
    quant_ohlcv_pending_free_(w->fresh);
    if (w->staged)
        duckdb_appender_destroy(&w->staged);
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int same_bar(const struct quant_bar *a, const struct quant_bar *b)
{
    return same(a->open, b->open) && same(a->high, b->high) && same(a->low, b->low) &&
           same(a->close, b->close) && same(a->adj_close, b->adj_close) &&
           same(a->volume, b->volume) && same(a->dividend, b->dividend) &&
           same(a->split, b->split) && a->quality == b->quality;
}

/* Fill the incoming bars' adjustment against the stored ones (adjust.h). */
/* Fill the incoming bars' adjustment against the stored ones (adjust.h). */
static int adjust(const struct quant_bars *old, struct quant_bars *in,
                  struct quant_upsert_stats *st)
{
    struct quant_adjust_report rep;
    if (quant_adjust_merge(old, in, &rep))
        return -1;
    st->adj_carried = rep.carried;
    st->jumps = rep.jumps;
    st->first_jump = rep.first_jump;
    st->first_jump_ratio = rep.first_jump_ratio;
    return 0;
}


/*
 * Diff the incoming bars against the stored ones (both ascending by date).
 * New dates are appended straight into ohlcv; changed rows go to the staging
 * table for one set-based UPDATE at the end of the call; identical rows are
 * not touched, so an unchanged re-ingest writes nothing and keeps
 * ingested_at.  The counts are exact by construction.  Comparison is
 * NULL-safe (NaN == NaN here, as IS NOT DISTINCT FROM would say) and covers
 * the eight values, not source: source tells who last changed the values.
 */
static enum quant_code upsert_existing(struct quant_series_store *s, struct writer *w,
                                       const struct row_consts *k, const char *sym,
                                       const struct quant_bars *old,
                                       struct quant_bars *in, struct quant_upsert_stats *st,
                                       struct quant_err *err)
{
    struct quant_bars changed;
    quant_bars_init(&changed);
    enum quant_code rc = QUANT_OK;
    size_t fresh = 0, j = 0;
    for (size_t i = 0; !rc && i < in->n; i++) {
        while (j < old->n && old->v[j].date < in->v[i].date)
            j++;
        if (j < old->n && old->v[j].date == in->v[i].date) {
            if (same_bar(&old->v[j], &in->v[i]))
                st->unchanged++;
            else if (quant_bars_push(&changed, &in->v[i]))
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        } else {
            in->v[fresh++] = in->v[i]; /* compact the new dates to the front */
        }
    }
    if (!rc)
        rc = stage(s, w, k, changed.v, changed.n, err);
    if (!rc && quant_ohlcv_pending_add_(w->fresh, sym, fresh))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc) {
        st->updated = (long)changed.n;
        st->inserted = (long)fresh;
    }
    quant_bars_release(&changed);
    return rc;
}

/* What one symbol of a call brings and finds. */
struct one_write {
    const struct quant_bars *bars; /* the caller's, as given */
    const char *sym;               /* normalised */
    struct quant_bars *old;        /* stored bars (ascending; may be empty) */
    const struct quant_stored_source *src; /* their sources */
    size_t nsrc;
};

static enum quant_code upsert_one(struct quant_series_store *s, struct writer *w,
                                  const struct one_write *o, const char *source, int replace,
                                  int64_t ts, struct quant_upsert_stats *st,
                                  struct quant_err *err)
{
    memset(st, 0, sizeof *st);
    /* The working copy goes where the new rows wait for the INSERT: they
     * are compacted to its front (upsert_existing), so nothing is copied twice. */
    struct quant_bar *room;
    enum quant_code rc = quant_ohlcv_pending_room_(s, w->fresh, o->bars->n, &room, err);
    if (rc)
        return rc;
    struct quant_bars in;
    dedupe(o->bars, room, &in);
    struct row_consts k = {duckdb_create_varchar(o->sym), duckdb_create_varchar(source),
                           duckdb_create_timestamp((duckdb_timestamp){ts})};
    struct quant_bars none;
    quant_bars_init(&none);
    const struct quant_bars *old = o->old;
    if (o->nsrc) {
        /* One lineage per symbol: refuse another source, or replace on request. */
        rc = quant_series_store_lineage_(o->sym, o->src, o->nsrc, source, replace,
                                         st->replaced_sources, sizeof st->replaced_sources, err);
        if (!rc && replace) {
            rc = quant_series_store_forget_(s, o->sym, err);
            st->replaced = !rc;
            old = &none; /* nothing stored any more: every bar is new */
        }
    }
    if (!rc && adjust(old, &in, st))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = upsert_existing(s, w, &k, o->sym, old, &in, st, err);
    duckdb_destroy_value(&k.symbol);
    duckdb_destroy_value(&k.source);
    duckdb_destroy_value(&k.ingested);
    return rc;
}

static enum quant_code check_batch(const struct quant_series_store *s,
                                   const struct quant_bars *series, size_t n,
                                   const char *source, char (*syms)[QUANT_SYMBOL_MAX + 1],
                                   struct quant_err *err)
{
    if (s->read_only)
        return quant_err_set(err, QUANT_EREADONLY,
                             "store %s was opened read-only; writing needs a read-write open",
                             s->path);
    if (!source || !*source)
        return quant_err_set(err, QUANT_EINVAL, "series store: a source name is required");
    for (size_t i = 0; i < n; i++) {
        enum quant_code rc = quant_duck_symbol_(series[i].symbol, syms[i], err);
        if (rc)
            return rc;
    }
    /* One series per symbol: two would be diffed against the same stored
     * rows and could append one date twice. */
    char(*sorted)[QUANT_SYMBOL_MAX + 1] = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return quant_err_set(err, QUANT_ENOMEM, "series store: out of memory");
    memcpy(sorted, syms, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, sym_cmp);
    enum quant_code rc = QUANT_OK;
    for (size_t i = 1; i < n && !rc; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0)
            rc = quant_err_set(err, QUANT_EINVAL,
                               "series store: %s appears twice in one batch; merge the "
                               "series first", sorted[i]);
    free(sorted);
    return rc;
}

/* Why a bar breaks ohlcv's constraints, or NULL when it does not. */
static const char *bad_bar(const struct quant_bar *b)
{
    if (isnan(b->open)) return "has no open price";
    if (isnan(b->high)) return "has no high price";
    if (isnan(b->low)) return "has no low price";
    if (isnan(b->close)) return "has no close price";
    if (isnan(b->volume)) return "has no volume";
    if (b->volume < 0) return "has a negative volume";
    return NULL;
}

/*
 * Name what failed.  The appender flushes when its buffer fills, so a
 * constraint failure can surface while a later symbol is being appended;
 * rather than flush per symbol (6% slower), find the offending bar in C.
 */
static void upsert_failed(const struct quant_bars *series, size_t n,
                          char (*syms)[QUANT_SYMBOL_MAX + 1], struct quant_err *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < series[i].n; j++) {
            const char *why = bad_bar(&series[i].v[j]);
            if (why) {
                char d[11];
                quant_date_format(series[i].v[j].date, d);
                quant_err_prefix(err, "upsert of %s failed (its bar of %s %s), nothing of this "
                                      "call was written: ", syms[i], d, why);
                return;
            }
        }
    if (err && err->code == QUANT_ELINEAGE)
        return; /* the refusal names the symbol and the remedy already */
    if (n == 1)
        quant_err_prefix(err, "upsert of %s failed, nothing of this call was written: ",
                         syms[0]);
    else
        quant_err_prefix(err, "upsert of %zu symbols (%s ... %s) failed, nothing of this call "
                              "was written: ", n, syms[0], syms[n - 1]);
}

/*
 * Symbols whose stored rows one scan reads: a bound on the bars held at once
 * (a re-ingest holds stored and incoming bars side by side) that still makes
 * the scans few (500 symbols: 8 scans, not 500 queries).
 */
#define STORED_GROUP 64

/* Upsert series[from, to) against their stored rows, read in one scan. */
static enum quant_code upsert_group(struct quant_series_store *s, struct writer *w,
                                    const struct quant_bars *series, size_t from, size_t to,
                                    char (*syms)[QUANT_SYMBOL_MAX + 1], const char *source,
                                    int replace, int64_t ts, struct quant_upsert_stats *stats,
                                    struct quant_err *err)
{
    int want[STORED_GROUP] = {0};
    for (size_t i = from; i < to; i++)
        want[i - from] = known_has(s, syms[i]);
    struct quant_ohlcv_stored stored;
    enum quant_code rc = quant_ohlcv_stored_read_(s, syms + from, want, to - from, &stored, err);
    for (size_t i = from; i < to && !rc; i++) {
        size_t k = i - from;
        struct one_write o = {&series[i], syms[i], &stored.bars[k], stored.src[k],
                              stored.nsrc[k]};
        rc = upsert_one(s, w, &o, source, replace, ts, &stats[i], err);
    }
    if (stored.bars)
        quant_ohlcv_stored_release_(&stored);
    return rc;
}

/* The body of one upsert transaction (BEGIN is done, COMMIT is the caller's). */
static enum quant_code upsert_all(struct quant_series_store *s, const struct quant_bars *series,
                                  size_t n, char (*syms)[QUANT_SYMBOL_MAX + 1],
                                  const char *source, int replace,
                                  struct quant_upsert_stats *stats, struct quant_err *err)
{
    int64_t ts = quant_clock_unix_micros(); /* one ingested_at per call, in UTC */
    duckdb_value source_v = duckdb_create_varchar(source);
    duckdb_value ingested_v = duckdb_create_timestamp((duckdb_timestamp){ts});
    struct writer w = {quant_ohlcv_pending_new_(source_v, ingested_v), NULL, 0};
    enum quant_code rc = w.fresh ? QUANT_OK
                                 : quant_err_set(err, QUANT_ENOMEM, "series store: out of memory");
    for (size_t i = 0; i < n && !rc; i += STORED_GROUP)
        rc = upsert_group(s, &w, series, i, i + STORED_GROUP < n ? i + STORED_GROUP : n, syms,
                          source, replace, ts, stats, err);
    if (!rc)
        rc = writer_finish(s, &w, err);
    if (rc)
        upsert_failed(series, n, syms, err);
    writer_release(&w);
    duckdb_destroy_value(&source_v);
    duckdb_destroy_value(&ingested_v);
    return rc;
}

enum quant_code quant_series_store_upsert_many(struct quant_series_store *s,
                                               const struct quant_bars *series, size_t n,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err)
{
    return quant_series_store_write(s, series, n, source, NULL, stats, err);
}

enum quant_code quant_series_store_write(struct quant_series_store *s,
                                         const struct quant_bars *series, size_t n,
                                         const char *source,
                                         const struct quant_write_options *opts,
                                         struct quant_upsert_stats *stats,
                                         struct quant_err *err)
{
    int replace = opts && opts->replace;
    if (n == 0)
        return QUANT_OK;
    char(*syms)[QUANT_SYMBOL_MAX + 1] = calloc(n, sizeof *syms);
    struct quant_upsert_stats *st = calloc(n, sizeof *st);
    if (!syms || !st) {
        free(syms);
        free(st);
        return quant_err_set(err, QUANT_ENOMEM, "series store: out of memory");
    }
    enum quant_code rc = check_batch(s, series, n, source, syms, err);
    if (!rc && !s->known_valid)
        rc = known_load(s, err);
    if (!rc)
        rc = quant_bulk_ready_(s, err);
    if (!rc && !(rc = quant_series_store_exec_(s, "BEGIN TRANSACTION", "starting the upsert", err))) {
        rc = upsert_all(s, series, n, syms, source, replace, st, err);
        if (!rc)
            rc = quant_series_store_exec_(s, "COMMIT", "committing the upsert", err);
        if (rc) {
            quant_duck_rollback_(s);
            quant_bulk_failed_(s);
        }
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            if ((series[i].n && known_add(s, syms[i])) || (st[i].replaced && !series[i].n))
                s->known_valid = 0; /* out of memory, or a symbol emptied: reload next time */
        if (stats)
            memcpy(stats, st, n * sizeof *st);
    }
    free(syms);
    free(st);
    return rc;
}

enum quant_code quant_series_store_upsert_bars(struct quant_series_store *s,
                                               const struct quant_bars *bars,
                                               const char *source,
                                               struct quant_upsert_stats *stats,
                                               struct quant_err *err)
{
    struct quant_upsert_stats one;
    memset(&one, 0, sizeof one);
    enum quant_code rc = quant_series_store_upsert_many(s, bars, 1, source, &one, err);
    if (stats)
        *stats = one;
    return rc;
}

