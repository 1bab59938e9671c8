/*
 * ingest.c: the service behind `quant ingest`.  It owns the ingest flow
 *
 *     provider.fetch_daily -> validate -> series store upsert -> ingest_runs row
 *
 * its order (a metered vendor's scarce requests go to the stalest symbols
 * first), batching (files and synthetic series are written many symbols per
 * transaction) and the request budget.  It ties modules together and decides
 * order and policy; it neither parses payloads nor writes SQL, and it never
 * prints.
 */
#include "quant/ingest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/csv_provider_internal.h"
#include "store/feature_store.h"
#include "quant/clock.h"
#include "providers/provider_internal.h"
#include "providers/synthetic_internal.h"
#include "quant/validate.h"
#include "services/sources.h"
#include "core/banned.h"

int quant_ingest_provider_parse(const char *name)
{
    if (strcmp(name, "alphavantage") == 0) return QUANT_INGEST_ALPHAVANTAGE;
    if (strcmp(name, "csv") == 0) return QUANT_INGEST_CSV;
    if (strcmp(name, "synthetic") == 0) return QUANT_INGEST_SYNTHETIC;
    return -1;
}

const char *quant_ingest_provider_name(enum quant_ingest_provider p)
{
    switch (p) {
    case QUANT_INGEST_ALPHAVANTAGE: return "alphavantage";
    case QUANT_INGEST_CSV: return "csv";
    case QUANT_INGEST_SYNTHETIC: return "synthetic";
    }
    return "?";
}

void quant_ingest_summary_release(struct quant_ingest_summary *s)
{
    quant_strings_free(s->left, s->n_left);
    memset(s, 0, sizeof *s);
}

static enum quant_code open_provider(struct quant_workspace *ws, const struct quant_ingest_request *req,
                                     const char *const *syms, size_t n_syms,
                                     struct quant_provider *p, struct quant_err *err)
{
    switch (req->provider) {
    case QUANT_INGEST_ALPHAVANTAGE:
        return quant_av_from_config_(quant_workspace_config(ws), req->adjusted, p, err);
    case QUANT_INGEST_CSV:
        if (!req->csv_path || !*req->csv_path)
            return quant_err_set(err, QUANT_EINVAL,
                                 "the csv provider needs a file or folder: pass --csv PATH");
        return quant_csv_open(req->csv_path, syms, n_syms, p, err);
    case QUANT_INGEST_SYNTHETIC: {
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
                                  const struct quant_shard *shard, struct quant_err *err)
{
    char s[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = normalize_asked(sym, s, err);
    if (rc || !quant_shard_keeps(shard, s))
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
static enum quant_code stored_summaries(struct quant_workspace *ws, struct target *v, size_t n,
                                        struct quant_err *err)
{
    if (n == 1)
        return quant_series_store_symbol_summary(quant_workspace_series(ws, NULL), v[0].symbol, &v[0].have, err);
    struct quant_series_summary *all = NULL;
    size_t nall = 0;
    enum quant_code rc = n ? quant_series_store_summary(quant_workspace_series(ws, NULL), &all, &nall, err) : QUANT_OK;
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

static enum quant_code resolve_targets(struct quant_workspace *ws, const struct quant_ingest_request *req,
                                       struct quant_provider *p, struct target **out,
                                       size_t *out_n, struct quant_err *err)
{
    struct target *v = NULL;
    size_t n = 0;
    enum quant_code rc = QUANT_OK;
    if (req->n_symbols) {
        for (size_t i = 0; i < req->n_symbols && !rc; i++)
            rc = add_target(&v, &n, req->symbols[i], &req->shard, err);
    } else if (p->ops->list_symbols) {
        char **names = NULL;
        size_t nn = 0;
        rc = p->ops->list_symbols(p->state, &names, &nn, err);
        for (size_t i = 0; i < nn && !rc; i++)
            rc = add_target(&v, &n, names[i], &req->shard, err);
        quant_strings_free(names, nn);
    } else {
        struct quant_symbol_record *recs = NULL;
        size_t nr = 0;
        rc = quant_meta_symbol_list(quant_workspace_meta(ws, NULL), 1, &recs, &nr, err);
        for (size_t i = 0; i < nr && !rc; i++)
            rc = add_target(&v, &n, recs[i].info.symbol, &req->shard, err);
        free(recs);
        if (!rc && nr == 0)
            rc = quant_err_set(err, QUANT_EINVAL,
                               "no symbols to ingest: register some with "
                               "`quant symbols add AAPL NVDA` or pass --symbols");
    }
    if (!rc)
        rc = stored_summaries(ws, v, n, err);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/* ---- one symbol ---------------------------------------------------------- */

static enum quant_fetch_mode choose_mode(const struct quant_workspace *ws, enum quant_ingest_mode asked,
                                         const struct quant_series_summary *have)
{
    if (asked == QUANT_INGEST_FULL)
        return QUANT_FETCH_FULL;
    if (asked == QUANT_INGEST_COMPACT)
        return QUANT_FETCH_COMPACT;
    long window = 120;
    struct quant_err ignore;
    quant_config_get_long(quant_workspace_config(ws), QUANT_SET_COMPACT_DAYS, 0, 100000, &window, &ignore);
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
static void fetch_one(struct quant_workspace *ws, struct quant_provider *prov, enum quant_ingest_mode asked,
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

    enum quant_fetch_mode mode = choose_mode(ws, asked, &t->have);
    r->mode = strcmp(provider_name, "csv") == 0 ? "file"
              : mode == QUANT_FETCH_FULL      ? "full"
                                              : "compact";
    enum quant_code rc = quant_meta_run_begin(quant_workspace_meta(ws, NULL), t->symbol, provider_name, &p->run_id, &err);
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
static void deactivate_unknown(struct quant_workspace *ws, struct pending *p)
{
    struct quant_err e;
    if (quant_meta_symbol_set_active(quant_workspace_meta(ws, NULL), p->r.symbol, 0, &e) != QUANT_OK)
        return; /* the failure itself is still reported */
    size_t used = strlen(p->r.error);
    snprintf(p->r.error + used, sizeof p->r.error - used,
             "; %s is now inactive, so `quant ingest` skips it (`quant symbols add %s` "
             "makes it active again)", p->r.symbol, p->r.symbol);
}

/* Record the outcome of one symbol in ingest_runs and hand it to the observer. */
static void finish_one(struct quant_workspace *ws, struct pending *p,
                       const struct quant_ingest_observer *obs,
                       struct quant_ingest_summary *summary)
{
    struct quant_ingest_result *r = &p->r;
    if (r->code == QUANT_ENOTFOUND && p->unknown_to_vendor)
        deactivate_unknown(ws, p);
    if (p->run_id) {
        struct quant_err ferr;
        quant_meta_run_finish(quant_workspace_meta(ws, NULL), p->run_id, r->code ? "failed" : "ok", r->rows,
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
    r->seconds = quant_clock_mono() - p->t0;
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
static void flush_batch(struct quant_workspace *ws, struct batch *b, const char *source,
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
        rc = quant_series_store_write(quant_workspace_series(ws, NULL), series, b->n, source, wo, stats, &err);
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
            enum quant_code one = quant_series_store_write(quant_workspace_series(ws, NULL), &b->v[i].bars, 1,
                                                           source, wo, &st, &err);
            b->v[i].r.code = one;
            if (one)
                snprintf(b->v[i].r.error, sizeof b->v[i].r.error, "%s", err.msg);
            else
                set_stored(&b->v[i], &st);
        }
    }
    for (size_t i = 0; i < b->n; i++)
        finish_one(ws, &b->v[i], obs, summary);
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
    p->t0 = quant_clock_mono();
    return p;
}

/* ---- the run --------------------------------------------------------------- */

static enum quant_code register_missing(struct quant_workspace *ws, struct target *t,
                                        struct quant_err *err)
{
    struct quant_symbol_record rec;
    struct quant_err e2;
    t->registered_now = 0;
    if (quant_meta_symbol_get(quant_workspace_meta(ws, NULL), t->symbol, &rec, &e2) == QUANT_OK)
        return QUANT_OK;
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "%s", t->symbol);
    return quant_meta_symbol_upsert(quant_workspace_meta(ws, NULL), &info, &t->registered_now, err);
}

/*
 * Register every symbol of the run before the first fetch, not as each is
 * reached: a run that stops early (the daily budget, a kill) must leave the
 * symbols it never reached in the registry, where the next `quant ingest`
 * finds them.
 */
static enum quant_code register_all(struct quant_workspace *ws, struct target *t, size_t n,
                                    struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = register_missing(ws, &t[i], err);
    return rc;
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

enum quant_code quant_ingest(struct quant_workspace *ws, const struct quant_ingest_request *req,
                                const struct quant_ingest_observer *obs,
                                struct quant_ingest_summary *summary, struct quant_err *err)
{
    double t0 = quant_clock_mono();
    memset(summary, 0, sizeof *summary);
    struct quant_provider p = {0};
    struct target *targets = NULL;
    size_t n = 0;
    /* A replaced history is the whole history: left to itself, a symbol
     * stored recently would get a compact fetch (100 days) and lose years. */
    enum quant_ingest_mode asked =
        req->replace && req->mode == QUANT_INGEST_AUTO ? QUANT_INGEST_FULL : req->mode;
    int metered = 0; /* the opened provider's ops say (QUANT_PROVIDER_METERED) */
    /* A network source is stored symbol by symbol, so what was fetched is kept
     * even if the run stops; local sources are batched for speed. */
    struct batch batch = {.max_symbols = BATCH_MAX_SYMBOLS};
    struct quant_write_options wo = {.replace = req->replace};

    /* Check the asked symbols before a source is opened: a bad one is a usage
     * error whatever the provider, not a failure to read a CSV file. */
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < req->n_symbols && !rc; i++) {
        char s[QUANT_SYMBOL_MAX + 1];
        rc = normalize_asked(req->symbols[i], s, err);
    }
    if (!rc)
        rc = open_provider(ws, req, req->symbols, req->n_symbols, &p, err);
    if (!rc)
        rc = resolve_targets(ws, req, &p, &targets, &n, err);
    if (rc)
        goto out;
    metered = (p.ops->caps & QUANT_PROVIDER_METERED) != 0;
    if (metered)
        batch.max_symbols = 1;
    if (metered && n > 1) /* spend the scarce daily budget on the symbols that need it most */
        qsort(targets, n, sizeof *targets, by_staleness);
    summary->n_symbols = n;
    if ((rc = register_all(ws, targets, n, err)))
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
            if ((rc = quant_budget_left_(ws, &left, err)))
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
        fetch_one(ws, &p, asked, &targets[i], pend, &requests);
        summary->requests += requests;
        if (metered && (rc = quant_budget_record_(ws, requests, err)))
            goto out;
        enum quant_code fetched = pend->r.code;
        if (fetched) {
            /* nothing to store: report it now; the slot is reused */
            struct pending failed = *pend;
            finish_one(ws, &failed, obs, summary);
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
            flush_batch(ws, &batch, p.ops->name, &wo, obs, summary);
    }
out:
    if (p.ops)
        flush_batch(ws, &batch, p.ops->name, &wo, obs, summary);
    for (size_t i = 0; i < batch.n; i++) /* only left over after an early error */
        quant_bars_release(&batch.v[i].bars);
    free(batch.v);
    free(targets);
    quant_provider_close(&p);
    summary->seconds = quant_clock_mono() - t0;
    return rc;
}
