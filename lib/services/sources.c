/*
 * sources.c: the data vendors as the configuration sets them up (key, URL,
 * HTTP timeouts, retries and rate), and the daily request budget a metered
 * vendor spends, counted in the metadata store's ledger per key fingerprint
 * (the key itself is never stored).  See sources.h.
 */
#include "services/sources.h"

#include <string.h>

#include "providers/alphavantage_internal.h"
#include "http/http_internal.h"
#include "core/banned.h"

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

enum quant_code quant_av_from_config_(const struct quant_config *cfg, int adjusted,
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

enum quant_code quant_budget_left_(struct quant_workspace *ws, long *out_left, struct quant_err *err)
{
    long budget, used = 0;
    char fp[17];
    enum quant_code rc = quant_config_get_long(quant_workspace_config(ws), QUANT_SET_DAILY_BUDGET, 0, 1000000,
                                               &budget, err);
    if (rc)
        return rc;
    quant_config_key_fingerprint(quant_workspace_config(ws), fp);
    rc = quant_meta_ledger_get(quant_workspace_meta(ws, NULL), quant_today_utc(), fp, &used, err);
    if (rc)
        return rc;
    *out_left = budget - used;
    return QUANT_OK;
}

enum quant_code quant_budget_record_(struct quant_workspace *ws, long n, struct quant_err *err)
{
    if (n <= 0)
        return QUANT_OK;
    char fp[17];
    quant_config_key_fingerprint(quant_workspace_config(ws), fp);
    return quant_meta_ledger_add(quant_workspace_meta(ws, NULL), quant_today_utc(), fp, n, err);
}
