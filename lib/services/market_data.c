/*
 * market_data.c: the market-data service.  It owns the ingest flow
 * (provider -> validation -> series store -> run record), the request budget,
 * symbol registration, hybrid search and enrichment.  It ties modules
 * together and decides order and policy; it neither parses payloads nor
 * writes SQL, and it never prints.
 *
 * Size: over 800 lines; issue 12 renames services after commands (ingest,
 * symbols), which splits this file along its ingest / symbols seam.
 */
#define _GNU_SOURCE /* strcasestr */
#include "quant/market_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "quant/alphavantage.h"
#include "quant/csv_provider.h"
#include "quant/feature_store.h"
#include "quant/provider.h"
#include "quant/synthetic.h"
#include "quant/validate.h"
#include "core/banned.h"

struct quant_md {
    const struct quant_config *cfg;
    struct quant_series_store *series;
    struct quant_meta_store *meta;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int quant_md_provider_parse(const char *name)
{
    if (strcmp(name, "alphavantage") == 0) return QUANT_MD_ALPHAVANTAGE;
    if (strcmp(name, "csv") == 0) return QUANT_MD_CSV;
    if (strcmp(name, "synthetic") == 0) return QUANT_MD_SYNTHETIC;
    return -1;
}

const char *quant_md_provider_name(enum quant_md_provider p)
{
    switch (p) {
    case QUANT_MD_ALPHAVANTAGE: return "alphavantage";
    case QUANT_MD_CSV: return "csv";
    case QUANT_MD_SYNTHETIC: return "synthetic";
    }
    return "?";
}

enum quant_code quant_md_open(const struct quant_config *cfg, struct quant_md **out,
                              struct quant_err *err)
{
    long lock_ms, threads;
    enum quant_code rc = quant_config_get_long(cfg, QUANT_SET_LOCK_TIMEOUT_MS, 0, 86400000L,
                                               &lock_ms, err);
    if (!rc)
        rc = quant_config_get_long(cfg, QUANT_SET_THREADS, 1, 256, &threads, err);
    if (!rc)
        rc = quant_config_ensure_dirs(cfg, err);
    if (rc)
        return rc;
    struct quant_md *md = calloc(1, sizeof *md);
    if (!md)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    md->cfg = cfg;
    struct quant_series_store_options so = {
        .read_only = 0,
        .threads = (int)threads,
        .memory_limit = quant_config_get(cfg, QUANT_SET_MEMORY_LIMIT),
        .lock_timeout_ms = lock_ms,
    };
    rc = quant_series_store_open(quant_config_get(cfg, QUANT_SET_DUCKDB_PATH), &so,
                                 &md->series, err);
    if (!rc)
        rc = quant_feature_store_init(md->series, err);
    if (!rc)
        rc = quant_meta_store_open(quant_config_get(cfg, QUANT_SET_SQLITE_PATH), lock_ms,
                                   &md->meta, err);
    /* We hold DuckDB's single-writer lock, so no other ingest is running: a run
     * still marked 'running' was killed.  Say so in its record. */
    if (!rc)
        rc = quant_meta_runs_close_stale(md->meta, NULL, err);
    if (rc) {
        quant_md_close(md);
        return rc;
    }
    *out = md;
    return QUANT_OK;
}

void quant_md_close(struct quant_md *md)
{
    if (!md)
        return;
    if (md->series)
        quant_series_store_close(md->series);
    if (md->meta)
        quant_meta_store_close(md->meta);
    free(md);
}

const struct quant_config *quant_md_config(struct quant_md *md) { return md->cfg; }
struct quant_series_store *quant_md_series(struct quant_md *md) { return md->series; }
struct quant_meta_store *quant_md_meta(struct quant_md *md) { return md->meta; }

void quant_ingest_summary_release(struct quant_ingest_summary *s)
{
    quant_strings_free(s->left, s->n_left);
    memset(s, 0, sizeof *s);
}

/* ---- providers ----------------------------------------------------------- */

static enum quant_code http_options_from_config(const struct quant_config *cfg,
                                                struct quant_http_options *http,
                                                struct quant_err *err)
{
    long timeout, retries, backoff, rpm;
    enum quant_code rc;
    quant_http_options_default(http);
    if ((rc = quant_config_get_long(cfg, QUANT_SET_HTTP_TIMEOUT_MS, 100, 600000, &timeout, err)) ||
        (rc = quant_config_get_long(cfg, QUANT_SET_HTTP_RETRIES, 0, 10, &retries, err)) ||
        (rc = quant_config_get_long(cfg, QUANT_SET_HTTP_BACKOFF_MS, 0, 600000, &backoff, err)) ||
        (rc = quant_config_get_long(cfg, QUANT_SET_RPM, 0, 100000, &rpm, err)))
        return rc;
    http->timeout_ms = timeout;
    http->connect_timeout_ms = timeout < 10000 ? timeout : 10000;
    http->max_retries = (int)retries;
    http->backoff_initial_ms = backoff;
    http->requests_per_minute = (double)rpm;
    return QUANT_OK;
}

static enum quant_code open_alphavantage(const struct quant_config *cfg, int adjusted,
                                         struct quant_provider *p, struct quant_err *err)
{
    struct quant_av_options o;
    memset(&o, 0, sizeof o);
    o.base_url = quant_config_get(cfg, QUANT_SET_AV_URL);
    o.api_key = quant_config_get(cfg, QUANT_SET_API_KEY);
    enum quant_code rc = quant_config_get_bool(cfg, QUANT_SET_ADJUSTED, &o.adjusted, err);
    if (rc)
        return rc;
    o.adjusted |= adjusted;
    rc = http_options_from_config(cfg, &o.http, err);
    if (rc)
        return rc;
    return quant_av_open(&o, p, err);
}

static enum quant_code open_provider(struct quant_md *md, const struct quant_ingest_request *req,
                                     const char *const *syms, size_t n_syms,
                                     struct quant_provider *p, struct quant_err *err)
{
    switch (req->provider) {
    case QUANT_MD_ALPHAVANTAGE:
        return open_alphavantage(md->cfg, req->adjusted, p, err);
    case QUANT_MD_CSV:
        if (!req->csv_path || !*req->csv_path)
            return quant_err_set(err, QUANT_EINVAL,
                                 "the csv provider needs a file or folder: pass --csv PATH");
        return quant_csv_open(req->csv_path, syms, n_syms, p, err);
    case QUANT_MD_SYNTHETIC: {
        struct quant_synth_options so;
        quant_synth_options_default(&so);
        if (req->synthetic_days > 0)
            so.n_days = req->synthetic_days;
        if (req->synthetic_seed)
            so.seed = req->synthetic_seed;
        return quant_synth_open(&so, p, err);
    }
    }
    return quant_err_set(err, QUANT_EINVAL, "unknown provider");
}

/* ---- symbol lists -------------------------------------------------------- */

/* A list of normalised symbols with their stored summary, for ordering. */
struct target {
    char symbol[QUANT_SYMBOL_MAX + 1];
    struct quant_series_summary have;
    int registered_now;   /* this run added it to the registry */
};

static int by_staleness(const void *a, const void *b)
{
    const struct target *x = a, *y = b;
    /* No data at all is the stalest; then the oldest last date first. */
    int32_t lx = x->have.bars ? x->have.last_date : INT32_MIN;
    int32_t ly = y->have.bars ? y->have.last_date : INT32_MIN;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->symbol, y->symbol);
}

/* sym normalised into s, or QUANT_EINVAL saying what is wrong with it. */
static enum quant_code normalize_asked(const char *sym, char s[QUANT_SYMBOL_MAX + 1],
                                       struct quant_err *err)
{
    if (strlen(sym) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "symbol '%.40s...' is longer than %d characters", sym,
                             QUANT_SYMBOL_MAX);
    snprintf(s, QUANT_SYMBOL_MAX + 1, "%s", sym);
    return quant_symbol_normalize(s, err);
}

static enum quant_code add_target(struct target **v, size_t *n, const char *sym,
                                  struct quant_err *err)
{
    char s[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = normalize_asked(sym, s, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].symbol, s) == 0)
            return QUANT_OK; /* asked twice: ingest once */
    struct target *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    *v = nv;
    memset(&nv[*n], 0, sizeof nv[*n]);
    snprintf(nv[*n].symbol, sizeof nv[*n].symbol, "%s", s);
    (*n)++;
    return QUANT_OK;
}

static int summary_cmp(const void *a, const void *b)
{
    return strcmp(((const struct quant_series_summary *)a)->symbol,
                  ((const struct quant_series_summary *)b)->symbol);
}

/*
 * What the store holds of each target (for the fetch mode and the order of a
 * metered run): one symbol is one small query; more are one scan of the
 * store's summary, not a query per symbol (500 of them cost 0.6 s).
 */
static enum quant_code stored_summaries(struct quant_md *md, struct target *v, size_t n,
                                        struct quant_err *err)
{
    if (n == 1)
        return quant_series_store_symbol_summary(md->series, v[0].symbol, &v[0].have, err);
    struct quant_series_summary *all = NULL;
    size_t nall = 0;
    enum quant_code rc = n ? quant_series_store_summary(md->series, &all, &nall, err) : QUANT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        struct quant_series_summary key;
        snprintf(key.symbol, sizeof key.symbol, "%s", v[i].symbol);
        const struct quant_series_summary *hit =
            nall ? bsearch(&key, all, nall, sizeof *all, summary_cmp) : NULL;
        memset(&v[i].have, 0, sizeof v[i].have);
        snprintf(v[i].have.symbol, sizeof v[i].have.symbol, "%s", v[i].symbol);
        if (hit)
            v[i].have = *hit;
    }
    free(all);
    return rc;
}

static enum quant_code resolve_targets(struct quant_md *md, const struct quant_ingest_request *req,
                                       struct quant_provider *p, struct target **out,
                                       size_t *out_n, struct quant_err *err)
{
    struct target *v = NULL;
    size_t n = 0;
    enum quant_code rc = QUANT_OK;
    if (req->n_symbols) {
        for (size_t i = 0; i < req->n_symbols && !rc; i++)
            rc = add_target(&v, &n, req->symbols[i], err);
    } else if (p->ops->list_symbols) {
        char **names = NULL;
        size_t nn = 0;
        rc = p->ops->list_symbols(p->state, &names, &nn, err);
        for (size_t i = 0; i < nn && !rc; i++)
            rc = add_target(&v, &n, names[i], err);
        quant_strings_free(names, nn);
    } else {
        struct quant_symbol_record *recs = NULL;
        size_t nr = 0;
        rc = quant_meta_symbol_list(md->meta, 1, &recs, &nr, err);
        for (size_t i = 0; i < nr && !rc; i++)
            rc = add_target(&v, &n, recs[i].info.symbol, err);
        free(recs);
        if (!rc && n == 0)
            rc = quant_err_set(err, QUANT_EINVAL,
                               "no symbols to ingest: register some with "
                               "`quant symbols add AAPL NVDA` or pass --symbols");
    }
    if (!rc)
        rc = stored_summaries(md, v, n, err);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/* ---- one symbol ---------------------------------------------------------- */

static enum quant_fetch_mode choose_mode(const struct quant_md *md, enum quant_md_mode asked,
                                         const struct quant_series_summary *have)
{
    if (asked == QUANT_MD_FULL)
        return QUANT_FETCH_FULL;
    if (asked == QUANT_MD_COMPACT)
        return QUANT_FETCH_COMPACT;
    long window = 120;
    struct quant_err ignore;
    quant_config_get_long(md->cfg, QUANT_SET_COMPACT_DAYS, 0, 100000, &window, &ignore);
    if (have->bars > 0 && have->last_date >= quant_today_utc() - window)
        return QUANT_FETCH_COMPACT;
    return QUANT_FETCH_FULL;
}

static void describe_bad(struct quant_ingest_result *r, const struct quant_validation *val,
                         const char *provider_warning)
{
    r->bad_rows += val->n_bad;
    if (val->n_kept > 0 && !r->bad_example[0]) {
        char d[11];
        quant_date_format(val->items[0].date, d);
        snprintf(r->bad_example, sizeof r->bad_example, "%s: %s", d, val->items[0].reason);
    }
    if (provider_warning && *provider_warning)
        snprintf(r->warning, sizeof r->warning, "%s", provider_warning);
    /* Both quote the source's own text (a CSV field may hold anything). */
    quant_mask_secrets(r->warning);
    quant_mask_secrets(r->bad_example);
}

/*
 * A symbol fetched and validated, waiting to be stored.  Symbols from local
 * sources are stored in batches of many symbols, one transaction each: a
 * commit of a bulk append costs DuckDB a checkpoint (measured on 500 x 6,500
 * bars: 13 commits of 256k rows spent 7.3 s committing, one commit 0.2 s), so
 * a batch ends only at BATCH_MAX_ROWS, which bounds the bars held in memory.
 */
struct pending {
    struct quant_ingest_result r;
    struct quant_bars bars;
    int64_t run_id;
    double t0;
    int unknown_to_vendor;   /* a network source answered "no such symbol" */
};

struct batch {
    struct pending *v;
    size_t n, cap;
    size_t rows;
    size_t max_symbols;   /* flush when reached: 1 for network sources */
};

#define BATCH_MAX_SYMBOLS 4096
#define BATCH_MAX_ROWS (4u * 1024u * 1024u) /* 320 MB of bars */

/* Fetch and validate one symbol into p (p->r.code says whether it worked). */
static void fetch_one(struct quant_md *md, struct quant_provider *prov, enum quant_md_mode asked,
                      const struct target *t, struct pending *p, long *requests)
{
    struct quant_ingest_result *r = &p->r;
    const char *provider_name = prov->ops->name;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_validation val;
    quant_validation_init(&val);
    struct quant_fetch_info info;
    memset(&info, 0, sizeof info);

    enum quant_fetch_mode mode = choose_mode(md, asked, &t->have);
    r->mode = strcmp(provider_name, "csv") == 0 ? "file"
              : mode == QUANT_FETCH_FULL      ? "full"
                                              : "compact";
    enum quant_code rc = quant_meta_run_begin(md->meta, t->symbol, provider_name, &p->run_id, &err);
    if (!rc)
        rc = prov->ops->fetch_daily(prov->state, t->symbol, mode, &p->bars, &info, &err);
    *requests += info.requests;
    if (!rc) {
        if (info.fell_back_to_compact)
            r->mode = "compact";
        snprintf(p->bars.symbol, sizeof p->bars.symbol, "%s", t->symbol);
        quant_validate_bars(&p->bars, &val);
        describe_bad(r, &val, info.warning);
        r->repaired = val.n_repaired;
        r->first_repaired = val.first_repaired;
        r->gaps = val.n_gaps;
        if (p->bars.n == 0)
            rc = quant_err_set(&err, QUANT_EVALIDATION,
                               "no valid bars for %s from %s (%zu rejected); nothing stored",
                               t->symbol, provider_name, val.n_bad);
    }
    r->code = rc;
    if (rc)
        snprintf(r->error, sizeof r->error, "%s", err.msg);
    /* Only a vendor's directory can say a symbol does not exist; a file that
     * lacks it says nothing about the symbol. */
    p->unknown_to_vendor = rc == QUANT_ENOTFOUND && strcmp(provider_name, "alphavantage") == 0;
    quant_validation_release(&val);
}

/*
 * The vendor said the symbol does not exist (Alpha Vantage: "Invalid API
 * call" for a daily series).  Left active, every later `quant ingest` would
 * spend a request on it and fail again; so it is marked inactive (its last
 * run keeps the reason) until `quant symbols add` brings it back.
 */
static void deactivate_unknown(struct quant_md *md, struct pending *p)
{
    struct quant_err e;
    if (quant_meta_symbol_set_active(md->meta, p->r.symbol, 0, &e) != QUANT_OK)
        return; /* the failure itself is still reported */
    size_t used = strlen(p->r.error);
    snprintf(p->r.error + used, sizeof p->r.error - used,
             "; %s is now inactive, so `quant ingest` skips it (`quant symbols add %s` "
             "makes it active again)", p->r.symbol, p->r.symbol);
}

/* Record the outcome of one symbol in ingest_runs and hand it to the observer. */
static void finish_one(struct quant_md *md, struct pending *p,
                       const struct quant_ingest_observer *obs,
                       struct quant_ingest_summary *summary)
{
    struct quant_ingest_result *r = &p->r;
    if (r->code == QUANT_ENOTFOUND && p->unknown_to_vendor)
        deactivate_unknown(md, p);
    if (p->run_id) {
        struct quant_err ferr;
        quant_meta_run_finish(md->meta, p->run_id, r->code ? "failed" : "ok", r->rows,
                              r->code ? r->error : NULL, &ferr);
    }
    if (r->code == QUANT_OK) {
        summary->n_ok++;
        summary->rows += r->rows;
        summary->inserted += r->inserted;
        summary->updated += r->updated;
    } else {
        summary->n_failed++;
    }
    r->seconds = now_seconds() - p->t0;
    if (obs && obs->on_result)
        obs->on_result(obs->ctx, r);
    quant_bars_release(&p->bars);
}

static void set_stored(struct pending *p, const struct quant_upsert_stats *st)
{
    p->r.rows = (long)p->bars.n;
    p->r.inserted = st->inserted;
    p->r.updated = st->updated;
    p->r.unchanged = st->unchanged;
    p->r.adj_carried = st->adj_carried;
    p->r.jumps = st->jumps;
    p->r.first_jump = st->first_jump;
    p->r.first_jump_ratio = st->first_jump_ratio;
    p->r.replaced = st->replaced;
    snprintf(p->r.replaced_sources, sizeof p->r.replaced_sources, "%s", st->replaced_sources);
}

/*
 * Store every pending symbol: one transaction for the batch; if that fails,
 * one transaction per symbol, so a bad symbol fails alone and the others are
 * still stored (each symbol is all-or-nothing either way).
 */
static void flush_batch(struct quant_md *md, struct batch *b, const char *source,
                        const struct quant_write_options *wo,
                        const struct quant_ingest_observer *obs,
                        struct quant_ingest_summary *summary)
{
    if (b->n == 0)
        return;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_bars *series = calloc(b->n, sizeof *series);
    struct quant_upsert_stats *stats = calloc(b->n, sizeof *stats);
    enum quant_code rc = (series && stats) ? QUANT_OK : QUANT_ENOMEM;
    if (!rc) {
        for (size_t i = 0; i < b->n; i++)
            series[i] = b->v[i].bars; /* shallow: the batch keeps ownership */
        rc = quant_series_store_write(md->series, series, b->n, source, wo, stats, &err);
    }
    if (!rc) {
        for (size_t i = 0; i < b->n; i++)
            set_stored(&b->v[i], &stats[i]);
    } else if (b->n == 1) {
        b->v[0].r.code = rc;
        snprintf(b->v[0].r.error, sizeof b->v[0].r.error, "%s", err.msg);
    } else {
        for (size_t i = 0; i < b->n; i++) {
            struct quant_upsert_stats st;
            memset(&st, 0, sizeof st);
            quant_err_clear(&err);
            enum quant_code one = quant_series_store_write(md->series, &b->v[i].bars, 1,
                                                           source, wo, &st, &err);
            b->v[i].r.code = one;
            if (one)
                snprintf(b->v[i].r.error, sizeof b->v[i].r.error, "%s", err.msg);
            else
                set_stored(&b->v[i], &st);
        }
    }
    for (size_t i = 0; i < b->n; i++)
        finish_one(md, &b->v[i], obs, summary);
    free(series);
    free(stats);
    b->n = 0;
    b->rows = 0;
}

/* Room for one more pending symbol; NULL when out of memory. */
static struct pending *batch_next(struct batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct pending *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return NULL;
        b->v = v;
        b->cap = cap;
    }
    struct pending *p = &b->v[b->n];
    memset(p, 0, sizeof *p);
    quant_bars_init(&p->bars);
    p->t0 = now_seconds();
    return p;
}

/* ---- the run --------------------------------------------------------------- */

static enum quant_code register_missing(struct quant_md *md, struct target *t,
                                        struct quant_err *err)
{
    struct quant_symbol_record rec;
    struct quant_err e2;
    t->registered_now = 0;
    if (quant_meta_symbol_get(md->meta, t->symbol, &rec, &e2) == QUANT_OK)
        return QUANT_OK;
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "%s", t->symbol);
    return quant_meta_symbol_upsert(md->meta, &info, &t->registered_now, err);
}

/*
 * Register every symbol of the run before the first fetch, not as each is
 * reached: a run that stops early (the daily budget, a kill) must leave the
 * symbols it never reached in the registry, where the next `quant ingest`
 * finds them.
 */
static enum quant_code register_all(struct quant_md *md, struct target *t, size_t n,
                                    struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = register_missing(md, &t[i], err);
    return rc;
}

static enum quant_code budget_left(struct quant_md *md, long *out_left, struct quant_err *err)
{
    long budget, used = 0;
    char fp[17];
    enum quant_code rc = quant_config_get_long(md->cfg, QUANT_SET_DAILY_BUDGET, 0, 1000000,
                                               &budget, err);
    if (rc)
        return rc;
    quant_config_key_fingerprint(md->cfg, fp);
    rc = quant_meta_ledger_get(md->meta, quant_today_utc(), fp, &used, err);
    if (rc)
        return rc;
    *out_left = budget - used;
    return QUANT_OK;
}

static enum quant_code record_requests(struct quant_md *md, long n, struct quant_err *err)
{
    if (n <= 0)
        return QUANT_OK;
    char fp[17];
    quant_config_key_fingerprint(md->cfg, fp);
    return quant_meta_ledger_add(md->meta, quant_today_utc(), fp, n, err);
}

static enum quant_code leave_rest(struct quant_ingest_summary *s, const struct target *t,
                                  size_t from, size_t n, struct quant_err *err)
{
    s->left = calloc(n - from, sizeof *s->left);
    if (!s->left)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = from; i < n; i++) {
        s->left[s->n_left] = strdup(t[i].symbol);
        if (!s->left[s->n_left])
            return quant_err_set(err, QUANT_ENOMEM, "out of memory");
        s->n_left++;
    }
    return QUANT_OK;
}

enum quant_code quant_md_ingest(struct quant_md *md, const struct quant_ingest_request *req,
                                const struct quant_ingest_observer *obs,
                                struct quant_ingest_summary *summary, struct quant_err *err)
{
    double t0 = now_seconds();
    memset(summary, 0, sizeof *summary);
    struct quant_provider p = {0};
    struct target *targets = NULL;
    size_t n = 0;
    int metered = req->provider == QUANT_MD_ALPHAVANTAGE;
    /* A network source is stored symbol by symbol, so what was fetched is kept
     * even if the run stops; local sources are batched for speed. */
    struct batch batch = {.max_symbols = metered ? 1 : BATCH_MAX_SYMBOLS};
    struct quant_write_options wo = {.replace = req->replace};

    /* Check the asked symbols before a source is opened: a bad one is a usage
     * error whatever the provider, not a failure to read a CSV file. */
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < req->n_symbols && !rc; i++) {
        char s[QUANT_SYMBOL_MAX + 1];
        rc = normalize_asked(req->symbols[i], s, err);
    }
    if (!rc)
        rc = open_provider(md, req, req->symbols, req->n_symbols, &p, err);
    if (!rc)
        rc = resolve_targets(md, req, &p, &targets, &n, err);
    if (rc)
        goto out;
    if (metered && n > 1) /* spend the scarce daily budget on the symbols that need it most */
        qsort(targets, n, sizeof *targets, by_staleness);
    summary->n_symbols = n;
    if ((rc = register_all(md, targets, n, err)))
        goto out;
    const char *note = p.ops->warnings ? p.ops->warnings(p.state) : NULL;
    if (note && *note && obs && obs->on_note) {
        char masked[QUANT_ERR_MSG_MAX];
        snprintf(masked, sizeof masked, "%s", note);
        quant_mask_secrets(masked);
        obs->on_note(obs->ctx, masked);
    }

    for (size_t i = 0; i < n; i++) {
        if (metered) {
            long left = 0;
            if ((rc = budget_left(md, &left, err)))
                goto out;
            if (left <= 0) {
                rc = leave_rest(summary, targets, i, n, err);
                break;
            }
        }
        if (obs && obs->on_start)
            obs->on_start(obs->ctx, targets[i].symbol, i, n);
        struct pending *pend = batch_next(&batch);
        if (!pend) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(pend->r.symbol, sizeof pend->r.symbol, "%s", targets[i].symbol);
        pend->r.registered_now = targets[i].registered_now;
        long requests = 0;
        fetch_one(md, &p, req->mode, &targets[i], pend, &requests);
        summary->requests += requests;
        if (metered && (rc = record_requests(md, requests, err)))
            goto out;
        enum quant_code fetched = pend->r.code;
        if (fetched) {
            /* nothing to store: report it now; the slot is reused */
            struct pending failed = *pend;
            finish_one(md, &failed, obs, summary);
            /* A daily limit answered by the API itself means every further call fails too. */
            if (metered && fetched == QUANT_EDAILYLIMIT && i + 1 < n) {
                rc = leave_rest(summary, targets, i + 1, n, err);
                break;
            }
            continue;
        }
        batch.n++;
        batch.rows += pend->bars.n;
        if (batch.n >= batch.max_symbols || batch.rows >= BATCH_MAX_ROWS)
            flush_batch(md, &batch, p.ops->name, &wo, obs, summary);
    }
out:
    if (p.ops)
        flush_batch(md, &batch, p.ops->name, &wo, obs, summary);
    for (size_t i = 0; i < batch.n; i++) /* only left over after an early error */
        quant_bars_release(&batch.v[i].bars);
    free(batch.v);
    free(targets);
    quant_provider_close(&p);
    summary->seconds = now_seconds() - t0;
    return rc;
}

/* ---- symbols ------------------------------------------------------------- */

enum quant_code quant_md_symbol_add(struct quant_md *md, const struct quant_symbol_info *info,
                                    int *out_created, struct quant_err *err)
{
    struct quant_symbol_info copy = *info;
    enum quant_code rc = quant_symbol_normalize(copy.symbol, err);
    if (rc)
        return rc;
    return quant_meta_symbol_upsert(md->meta, &copy, out_created, err);
}

static int hit_cmp(const void *a, const void *b)
{
    const struct quant_search_hit *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return strcmp(x->info.symbol, y->info.symbol);
}

/* Rank of a hit: an exact symbol match first, then symbol prefix, then name
 * prefix, then substring; local knowledge and remote relevance add to it. */
static double rank_hit(const struct quant_search_hit *h, const char *q)
{
    size_t ql = strlen(q);
    double r = 0;
    if (strcasecmp(h->info.symbol, q) == 0)
        r += 100;
    else if (strncasecmp(h->info.symbol, q, ql) == 0)
        r += 50;
    else if (strncasecmp(h->info.name, q, ql) == 0)
        r += 30;
    else if (strcasestr(h->info.symbol, q) || strcasestr(h->info.name, q))
        r += 10;
    if (h->local)
        r += 5;
    if (h->remote)
        r += 10 * h->info.match_score;
    return r;
}

static enum quant_code merge_hit(struct quant_search_hit **v, size_t *n, size_t *cap,
                                 const struct quant_symbol_info *info, int remote)
{
    for (size_t i = 0; i < *n; i++) {
        struct quant_search_hit *h = &(*v)[i];
        if (strcmp(h->info.symbol, info->symbol) != 0)
            continue;
        if (remote) {
            h->remote = 1;
            h->info.match_score = info->match_score;
            if (!h->info.name[0])
                snprintf(h->info.name, sizeof h->info.name, "%s", info->name);
            if (!h->info.region[0])
                snprintf(h->info.region, sizeof h->info.region, "%s", info->region);
            if (!h->info.currency[0])
                snprintf(h->info.currency, sizeof h->info.currency, "%s", info->currency);
            if (!h->info.type[0])
                snprintf(h->info.type, sizeof h->info.type, "%s", info->type);
        } else {
            h->local = 1;
        }
        return QUANT_OK;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct quant_search_hit *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return QUANT_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    struct quant_search_hit *h = &(*v)[(*n)++];
    memset(h, 0, sizeof *h);
    h->info = *info;
    h->local = !remote;
    h->remote = remote;
    return QUANT_OK;
}

enum quant_code quant_md_symbol_search(struct quant_md *md, const char *query,
                                       struct quant_search_hit **out, size_t *out_n,
                                       char *remote_note, size_t note_len,
                                       struct quant_err *err)
{
    struct quant_search_hit *v = NULL;
    size_t n = 0, cap = 0;
    remote_note[0] = '\0';
    struct quant_symbol_record *recs = NULL;
    size_t nr = 0;
    enum quant_code rc = quant_meta_symbol_search(md->meta, query, 50, &recs, &nr, err);
    for (size_t i = 0; i < nr && !rc; i++)
        rc = merge_hit(&v, &n, &cap, &recs[i].info, 0);
    free(recs);
    if (rc) {
        free(v);
        return rc == QUANT_ENOMEM ? quant_err_set(err, rc, "out of memory") : rc;
    }

    struct quant_provider p = {0};
    struct quant_err rerr;
    quant_err_clear(&rerr);
    enum quant_code rrc;
    if (!*quant_config_get(md->cfg, QUANT_SET_API_KEY))
        rrc = quant_err_set(&rerr, QUANT_ENOKEY, "no Alpha Vantage key is set "
                            "(ALPHAVANTAGE_API_KEY)");
    else
        rrc = open_alphavantage(md->cfg, 0, &p, &rerr);
    struct quant_symbol_info *remote = NULL;
    size_t nrem = 0;
    if (!rrc) {
        long before = p.ops->requests_sent(p.state);
        rrc = p.ops->search(p.state, query, &remote, &nrem, &rerr);
        struct quant_err lerr;
        record_requests(md, p.ops->requests_sent(p.state) - before, &lerr);
    }
    if (rrc)
        snprintf(remote_note, note_len, "remote search unavailable: %s", rerr.msg);
    for (size_t i = 0; i < nrem && !rc; i++) {
        struct quant_symbol_info info = remote[i];
        struct quant_err ignore;
        if (quant_symbol_normalize(info.symbol, &ignore) == QUANT_OK)
            rc = merge_hit(&v, &n, &cap, &info, 1);
    }
    free(remote);
    quant_provider_close(&p);
    if (rc) {
        free(v);
        return quant_err_set(err, rc, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        v[i].rank = rank_hit(&v[i], query);
    if (n > 1)
        qsort(v, n, sizeof *v, hit_cmp);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_md_symbols_enrich(struct quant_md *md, const char *const *symbols,
                                        size_t n_symbols,
                                        const struct quant_ingest_observer *obs,
                                        struct quant_ingest_summary *summary,
                                        struct quant_err *err)
{
    memset(summary, 0, sizeof *summary);
    double t0 = now_seconds();
    struct quant_provider p = {0};
    struct target *targets = NULL;
    size_t n = 0;
    struct quant_ingest_request req = {.symbols = symbols, .n_symbols = n_symbols,
                                       .provider = QUANT_MD_ALPHAVANTAGE};
    enum quant_code rc = open_alphavantage(md->cfg, 0, &p, err);
    if (!rc)
        rc = resolve_targets(md, &req, &p, &targets, &n, err);
    summary->n_symbols = n;
    for (size_t i = 0; i < n && !rc; i++) {
        long left = 0;
        if ((rc = budget_left(md, &left, err)))
            break;
        if (left <= 0) {
            rc = leave_rest(summary, targets, i, n, err);
            break;
        }
        struct quant_ingest_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.symbol, sizeof r.symbol, "%s", targets[i].symbol);
        if (obs && obs->on_start)
            obs->on_start(obs->ctx, r.symbol, i, n);
        struct quant_symbol_info info;
        memset(&info, 0, sizeof info);
        struct quant_err e;
        quant_err_clear(&e);
        long before = p.ops->requests_sent(p.state);
        r.code = p.ops->overview(p.state, r.symbol, &info, &e);
        long sent = p.ops->requests_sent(p.state) - before;
        summary->requests += sent;
        if ((rc = record_requests(md, sent, err)))
            break;
        if (r.code == QUANT_OK) {
            snprintf(info.symbol, sizeof info.symbol, "%s", r.symbol);
            r.code = quant_meta_symbol_upsert(md->meta, &info, &r.registered_now, &e);
        }
        if (r.code) {
            snprintf(r.error, sizeof r.error, "%s", e.msg);
            summary->n_failed++;
        } else {
            summary->n_ok++;
        }
        if (obs && obs->on_result)
            obs->on_result(obs->ctx, &r);
    }
    free(targets);
    quant_provider_close(&p);
    summary->seconds = now_seconds() - t0;
    return rc;
}
