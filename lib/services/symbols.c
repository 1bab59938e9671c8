/*
 * symbols.c: the service behind `quant symbols`: the registry of symbols in
 * the metadata store (add, list, remove), the hybrid search (the registry
 * merged with Alpha Vantage's SYMBOL_SEARCH) and enrichment from OVERVIEW.
 * It needs only the metadata store, so it works while an ingest holds the
 * series store (workspace.h, QUANT_WS_META).
 */
#define _GNU_SOURCE /* strcasestr */
#include "quant/symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "quant/clock.h"
#include "providers/provider_internal.h"
#include "services/sources.h"
#include "core/banned.h"

#define SYMBOL_FILE_MAX ((size_t)1 << 20) /* a list of symbols, not a data file */

/* Append a normalised copy of tok[0..n), or say which line holds a bad one. */
static enum quant_code file_token(const char *path, long line, const char *tok, size_t n,
                                  char ***v, size_t *nv, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    struct quant_err why;
    quant_err_clear(&why);
    if (n > QUANT_SYMBOL_MAX)
        quant_err_set(&why, QUANT_EINVAL, "'%.*s...' is longer than %d characters", 40, tok,
                      QUANT_SYMBOL_MAX);
    else {
        snprintf(sym, sizeof sym, "%.*s", (int)n, tok);
        quant_symbol_normalize(sym, &why);
    }
    if (why.code)
        return quant_err_set(err, QUANT_EINVAL, "%s line %ld: %s", path, line, why.msg);
    char **nvv = realloc(*v, (*nv + 1) * sizeof *nvv);
    if (!nvv || !(nvv[*nv] = strdup(sym))) {
        if (nvv)
            *v = nvv;
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    *v = nvv;
    (*nv)++;
    return QUANT_OK;
}

enum quant_code quant_symbols_read_file(const char *path, char ***out, size_t *out_n,
                                        struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct quant_buf buf;
    quant_buf_init(&buf, SYMBOL_FILE_MAX);
    struct quant_err why;
    quant_err_clear(&why);
    if (quant_buf_read_file(&buf, path, &why)) {
        quant_buf_release(&buf);
        return quant_err_set(err, why.code == QUANT_ENOMEM ? QUANT_ENOMEM : QUANT_EIO,
                             "cannot read the symbol list @%s: %s", path, why.msg);
    }
    char **v = NULL;
    size_t n = 0;
    long line = 1;
    enum quant_code rc = QUANT_OK;
    const char *p = buf.data, *end = buf.data + buf.len;
    while (p < end && !rc) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#') {
            while (p < end && *p != '\n')
                p++;
        } else if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        } else {
            const char *t = p;
            while (p < end && !strchr(",# \t\r\n", *p))
                p++;
            rc = file_token(path, line, t, (size_t)(p - t), &v, &n, err);
        }
    }
    quant_buf_release(&buf);
    if (!rc && n == 0)
        rc = quant_err_set(err, QUANT_EINVAL, "the symbol list @%s holds no symbols (one per "
                           "line; '#' starts a comment)", path);
    if (rc) {
        quant_strings_free(v, n);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_symbols_list(struct quant_workspace *ws, int active_only,
                                   struct quant_symbol_record **out, size_t *out_n,
                                   size_t *out_inactive, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    if (out_inactive)
        *out_inactive = 0;
    struct quant_err why;
    quant_err_clear(&why);
    struct quant_meta_store *meta = quant_workspace_meta(ws, &why);
    if (!meta) /* nothing registered yet is an empty registry, not an error */
        return why.code == QUANT_ENOTFOUND ? QUANT_OK : quant_err_set(err, why.code, "%s", why.msg);
    struct quant_symbol_record *v = NULL;
    size_t n = 0;
    enum quant_code rc = quant_meta_symbol_list(meta, 0, &v, &n, err);
    if (rc)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (active_only && !v[i].active) {
            if (out_inactive)
                (*out_inactive)++;
            continue;
        }
        v[kept++] = v[i];
    }
    *out = v;
    *out_n = kept;
    return QUANT_OK;
}

enum quant_code quant_symbols_remove(struct quant_workspace *ws, const char *symbol,
                                     char out_symbol[QUANT_SYMBOL_MAX + 1],
                                     struct quant_err *err)
{
    if (strlen(symbol) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL, "symbol '%.40s...' is too long", symbol);
    snprintf(out_symbol, QUANT_SYMBOL_MAX + 1, "%s", symbol);
    struct quant_meta_store *meta = quant_workspace_meta(ws, err);
    enum quant_code rc = meta ? quant_symbol_normalize(out_symbol, err) : err->code;
    return rc ? rc : quant_meta_symbol_remove(meta, out_symbol, err);
}

enum quant_code quant_symbols_add(struct quant_workspace *ws, const struct quant_symbol_info *info,
                                    int *out_created, struct quant_err *err)
{
    struct quant_symbol_info copy = *info;
    enum quant_code rc = quant_symbol_normalize(copy.symbol, err);
    if (rc)
        return rc;
    return quant_meta_symbol_upsert(quant_workspace_meta(ws, NULL), &copy, out_created, err);
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

enum quant_code quant_symbols_search(struct quant_workspace *ws, const char *query,
                                       struct quant_search_hit **out, size_t *out_n,
                                       char *remote_note, size_t note_len,
                                       struct quant_err *err)
{
    struct quant_search_hit *v = NULL;
    size_t n = 0, cap = 0;
    remote_note[0] = '\0';
    struct quant_symbol_record *recs = NULL;
    size_t nr = 0;
    enum quant_code rc = quant_meta_symbol_search(quant_workspace_meta(ws, NULL), query, 50, &recs, &nr, err);
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
    if (!*quant_config_get(quant_workspace_config(ws), QUANT_SET_API_KEY))
        rrc = quant_err_set(&rerr, QUANT_ENOKEY, "no Alpha Vantage key is set "
                            "(ALPHAVANTAGE_API_KEY)");
    else
        rrc = quant_av_from_config_(quant_workspace_config(ws), 0, &p, &rerr);
    struct quant_symbol_info *remote = NULL;
    size_t nrem = 0;
    if (!rrc) {
        long before = p.ops->requests_sent(p.state);
        rrc = p.ops->search(p.state, query, &remote, &nrem, &rerr);
        struct quant_err lerr;
        quant_budget_record_(ws, p.ops->requests_sent(p.state) - before, &lerr);
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

/* The symbols asked for, normalised, or every active registered one. */
static enum quant_code enrich_targets(struct quant_workspace *ws, const char *const *symbols,
                                      size_t n_symbols, char ***out, size_t *out_n,
                                      struct quant_err *err)
{
    if (n_symbols)
        return quant_symbols_normalize_all(symbols, n_symbols, out, out_n, err);
    struct quant_symbol_record *recs = NULL;
    size_t nr = 0;
    enum quant_code rc = quant_symbols_list(ws, 1, &recs, &nr, NULL, err);
    const char **names = rc ? NULL : calloc(nr ? nr : 1, sizeof *names);
    if (!rc && !names)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < nr; i++)
        names[i] = recs[i].info.symbol;
    if (!rc && nr == 0)
        rc = quant_err_set(err, QUANT_EINVAL, "no symbols to enrich: register some with "
                           "`quant symbols add AAPL NVDA` or name them");
    if (!rc)
        rc = quant_symbols_normalize_all(names, nr, out, out_n, err);
    free(names);
    free(recs);
    return rc;
}

enum quant_code quant_symbols_enrich(struct quant_workspace *ws, const char *const *symbols,
                                        size_t n_symbols,
                                        const struct quant_ingest_observer *obs,
                                        struct quant_ingest_summary *summary,
                                        struct quant_err *err)
{
    memset(summary, 0, sizeof *summary);
    double t0 = quant_clock_mono();
    struct quant_provider p = {0};
    char **targets = NULL;
    size_t n = 0;
    enum quant_code rc = quant_av_from_config_(quant_workspace_config(ws), 0, &p, err);
    if (!rc)
        rc = enrich_targets(ws, symbols, n_symbols, &targets, &n, err);
    summary->n_symbols = n;
    for (size_t i = 0; i < n && !rc; i++) {
        long left = 0;
        if ((rc = quant_budget_left_(ws, &left, err)))
            break;
        if (left <= 0) {
            /* Not attempted: handed to the summary (freed by its _release). */
            summary->left = calloc(n - i, sizeof *summary->left);
            if (!summary->left) {
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
                break;
            }
            for (size_t j = i; j < n; j++, summary->n_left++) {
                summary->left[j - i] = targets[j];
                targets[j] = NULL;
            }
            break;
        }
        struct quant_ingest_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.symbol, sizeof r.symbol, "%s", targets[i]);
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
        if ((rc = quant_budget_record_(ws, sent, err)))
            break;
        if (r.code == QUANT_OK) {
            snprintf(info.symbol, sizeof info.symbol, "%s", r.symbol);
            r.code = quant_meta_symbol_upsert(quant_workspace_meta(ws, NULL), &info, &r.registered_now, &e);
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
    quant_strings_free(targets, n);
    quant_provider_close(&p);
    summary->seconds = quant_clock_mono() - t0;
    return rc;
}
