/*
 * alphavantage.c: the Alpha Vantage provider: request URLs, the HTTP round
 * trips for the daily series, symbol search and company overview, the
 * fall-back from full to compact history on a free key, and the provider ops
 * table.  Every body is handed to alphavantage_parse.c's pure parsers; this
 * file parses nothing itself.  The API key must never appear in a message:
 * it is only ever placed in the URL, quant_err_set masks it wherever a
 * message quotes it (error.h), and URLs quoted in messages have their apikey=
 * value redacted (scrub_key).
 */
#include "providers/alphavantage_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* ---- the provider ---------------------------------------------------------- */

struct av_state {
    char *base_url;              /* owned */
    char *api_key;               /* owned; only ever written into URLs */
    int adjusted;
    int use_csv;
    struct quant_http *http;     /* owned */
    struct quant_buf body;       /* reused response buffer, capped at max_body */
    struct quant_buf url;        /* reused request URL */
};

static const char FALLBACK_WARNING[] =
    "Alpha Vantage: full history is premium on this key; fetched the last 100 days. "
    "Backfill older history with `quant ingest --provider csv --csv FILE`";

/* The key itself is masked by quant_err_set (error.h); what is left is an
 * apikey= value in a URL quoted by a lower layer, which may be escaped. */
static void scrub_key(struct quant_err *err)
{
    if (!err || !err->msg[0])
        return;
    char tmp[QUANT_ERR_MSG_MAX];
    quant_http_redact_url(err->msg, tmp, sizeof tmp);
    snprintf(err->msg, sizeof err->msg, "%s", tmp);
}

/* url = base ? function=F [&symbol=S] [&param...] &apikey=K (values escaped). */
static enum quant_code build_url(struct av_state *st, const char *function, const char *name,
                                 const char *value, const char *extra, struct quant_err *err)
{
    struct quant_buf *u = &st->url;
    quant_buf_reset(u);
    enum quant_code rc = quant_buf_printf(u, "%s%cfunction=%s", st->base_url,
                                          strchr(st->base_url, '?') ? '&' : '?', function);
    if (!rc && name && !(rc = quant_buf_printf(u, "&%s=", name)))
        rc = quant_http_append_escaped(u, value);
    if (!rc && extra)
        rc = quant_buf_printf(u, "%s", extra);
    if (!rc && st->use_csv && strcmp(function, "OVERVIEW") != 0)
        rc = quant_buf_printf(u, "&datatype=csv");
    if (!rc && !(rc = quant_buf_printf(u, "&apikey=")))
        rc = quant_http_append_escaped(u, st->api_key);
    if (rc)
        return quant_err_set(err, rc, "cannot build the Alpha Vantage URL (out of memory)");
    return QUANT_OK;
}

static enum quant_code normalized_symbol(const char *symbol, char out[QUANT_SYMBOL_MAX + 1],
                                         struct quant_err *err)
{
    if (!symbol || !*symbol || strlen(symbol) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL, "Alpha Vantage: '%.40s' is not a valid symbol "
                             "(1-%d characters)", symbol ? symbol : "", QUANT_SYMBOL_MAX);
    snprintf(out, QUANT_SYMBOL_MAX + 1, "%s", symbol);
    return quant_symbol_normalize(out, err);
}

static enum quant_code fetch_once(struct av_state *st, const char *sym, int full,
                                  struct quant_bars *out, struct quant_err *err)
{
    const char *fn = st->adjusted ? "TIME_SERIES_DAILY_ADJUSTED" : "TIME_SERIES_DAILY";
    enum quant_code rc = build_url(st, fn, "symbol", sym,
                                   full ? "&outputsize=full" : "&outputsize=compact", err);
    if (rc)
        return rc;
    if ((rc = quant_http_get(st->http, st->url.data, &st->body, NULL, err)))
        return quant_err_prefix(err, "Alpha Vantage %s %s: ", fn, sym);
    if (st->use_csv)
        rc = quant_av_parse_daily_csv(st->body.data, st->body.len, out, err);
    else
        rc = quant_av_parse_daily_json(st->body.data, st->body.len, out, err);
    if (rc == QUANT_EPARSE)
        quant_err_prefix(err, "%s %s: ", fn, sym);
    return rc;
}

static enum quant_code av_fetch_daily(void *state, const char *symbol,
                                      enum quant_fetch_mode mode, struct quant_bars *out,
                                      struct quant_fetch_info *info, struct quant_err *err)
{
    struct av_state *st = state;
    struct quant_fetch_info scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = normalized_symbol(symbol, sym, err);
    if (rc)
        return rc;
    struct quant_http_stats before, after;
    quant_http_get_stats(st->http, &before);
    rc = fetch_once(st, sym, mode == QUANT_FETCH_FULL, out, err);
    /* Free keys get `full` refused as premium: take the 100 days they allow. */
    if (rc == QUANT_EPREMIUM && mode == QUANT_FETCH_FULL) {
        rc = fetch_once(st, sym, 0, out, err);
        if (rc == QUANT_OK) {
            info->fell_back_to_compact = 1;
            snprintf(info->warning, sizeof info->warning, "%s", FALLBACK_WARNING);
        }
    }
    quant_http_get_stats(st->http, &after);
    info->requests = after.sent - before.sent;
    if (rc) {
        scrub_key(err);
        return rc;
    }
    if (!out->symbol[0])
        snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    return QUANT_OK;
}

static enum quant_code av_search(void *state, const char *query,
                                 struct quant_symbol_info **out, size_t *out_n,
                                 struct quant_err *err)
{
    struct av_state *st = state;
    *out = NULL;
    *out_n = 0;
    if (!query || !*query)
        return quant_err_set(err, QUANT_EINVAL, "Alpha Vantage search: empty query");
    enum quant_code rc = build_url(st, "SYMBOL_SEARCH", "keywords", query, NULL, err);
    if (!rc && (rc = quant_http_get(st->http, st->url.data, &st->body, NULL, err)))
        quant_err_prefix(err, "Alpha Vantage SYMBOL_SEARCH: ");
    if (!rc)
        rc = st->use_csv
                 ? quant_av_parse_search_csv(st->body.data, st->body.len, out, out_n, err)
                 : quant_av_parse_search_json(st->body.data, st->body.len, out, out_n, err);
    scrub_key(err);
    return rc;
}

static enum quant_code av_overview(void *state, const char *symbol,
                                   struct quant_symbol_info *out, struct quant_err *err)
{
    struct av_state *st = state;
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = normalized_symbol(symbol, sym, err);
    if (!rc)
        rc = build_url(st, "OVERVIEW", "symbol", sym, NULL, err);
    if (!rc && (rc = quant_http_get(st->http, st->url.data, &st->body, NULL, err)))
        quant_err_prefix(err, "Alpha Vantage OVERVIEW %s: ", sym);
    if (!rc)
        rc = quant_av_parse_overview_json(st->body.data, st->body.len, out, err);
    if (rc == QUANT_ENOTFOUND || rc == QUANT_EPARSE)
        quant_err_prefix(err, "OVERVIEW %s: ", sym);
    scrub_key(err);
    return rc;
}

static long av_requests_sent(void *state)
{
    struct quant_http_stats stats;
    quant_http_get_stats(((struct av_state *)state)->http, &stats);
    return stats.sent;
}

static void av_close(void *state)
{
    struct av_state *st = state;
    if (!st)
        return;
    quant_http_free(st->http);
    quant_buf_release(&st->body);
    quant_buf_release(&st->url);
    free(st->base_url);
    free(st->api_key);
    free(st);
}

static const struct quant_provider_ops av_ops = {
    .name = "alphavantage",
    .caps = QUANT_PROVIDER_METERED, /* 25 requests a day on a free key */
    .fetch_daily = av_fetch_daily,
    .list_symbols = NULL,
    .search = av_search,
    .overview = av_overview,
    .requests_sent = av_requests_sent,
    .close = av_close,
};

enum quant_code quant_av_open(const struct quant_av_options *opts,
                              struct quant_provider *out, struct quant_err *err)
{
    out->ops = NULL;
    out->state = NULL;
    if (!opts || !opts->api_key || !*opts->api_key)
        return quant_err_set(err, QUANT_ENOKEY,
                             "Alpha Vantage needs an API key: set ALPHAVANTAGE_API_KEY (a free "
                             "key is at https://www.alphavantage.co/support/#api-key)");
    struct quant_http_options hopts = opts->http;
    if (hopts.timeout_ms == 0 && hopts.max_body == 0)   /* zero-initialised: defaults */
        quant_http_options_default(&hopts);
    struct av_state *st = calloc(1, sizeof *st);
    if (!st)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory opening Alpha Vantage");
    st->base_url = strdup(opts->base_url && *opts->base_url ? opts->base_url
                                                            : QUANT_AV_DEFAULT_URL);
    st->api_key = strdup(opts->api_key);
    quant_secret_add(opts->api_key); /* no message may carry it from here on */
    st->adjusted = opts->adjusted;
    st->use_csv = opts->use_csv;
    quant_buf_init(&st->body, hopts.max_body);
    quant_buf_init(&st->url, 8192);
    if (!st->base_url || !st->api_key) {
        av_close(st);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory opening Alpha Vantage");
    }
    st->http = quant_http_new(&hopts, err);
    if (!st->http) {
        av_close(st);
        return err ? err->code : QUANT_ENOMEM;
    }
    out->ops = &av_ops;
    out->state = st;
    return QUANT_OK;
}
