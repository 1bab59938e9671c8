/*
 * alphavantage_internal.h: the Alpha Vantage provider (HTTPS via quant_http).
 *
 * Two layers, both public so tests can reach each:
 *  1. Pure parsers over a response body already in memory.  They never touch
 *     the network and never allocate beyond their outputs.
 *  2. A provider (quant_av_open) that builds request URLs, fetches through
 *     quant_http, classifies the body and parses it.
 *
 * Alpha Vantage answers every error with HTTP 200 and a JSON body, even when
 * datatype=csv was asked, so each body is classified before it is parsed:
 *   {"Error Message": "Invalid API call..."} -> QUANT_ENOTFOUND (the symbol is
 *                              not listed: the service marks it inactive)
 *   {"Error Message": ...}  -> QUANT_EAPI       (a bad key or call)
 *   {"Note": ...}           -> QUANT_ERATELIMIT (per-minute throttle, pre-2024 wording)
 *   {"Information": ...}    -> QUANT_EDAILYLIMIT, QUANT_EPREMIUM or QUANT_ERATELIMIT
 *                              depending on the text (daily limit / premium / burst)
 *   {"message": "This is a premium endpoint..."} -> QUANT_EPREMIUM
 * "Information" is matched on its text, in this order (the daily-limit and
 * burst notices also advertise premium plans): "is a premium ..." -> EPREMIUM;
 * "spreading out" / "per second" / "per minute" / "frequency" / "burst" ->
 * ERATELIMIT; "per day" / "daily" -> EDAILYLIMIT; any other "premium" ->
 * EPREMIUM; anything else -> EAPI.
 * Messages quote the API's sentence (truncated) and say what to do.  The API
 * key is never part of any message (a notice that echoes "your API key as X"
 * is masked, and quant_err_set masks the key itself, see error.h).
 *
 * Bodies that are not what was asked for are QUANT_EPARSE, naming what they
 * are: HTML or other non-JSON text, an intraday/weekly series given to the
 * daily parser, a CSV with a time of day in its timestamps.
 */
#ifndef QUANT_ALPHAVANTAGE_INTERNAL_H
#define QUANT_ALPHAVANTAGE_INTERNAL_H

#include <stddef.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "http/http_internal.h"
#include "providers/provider_internal.h"
#include "quant/symbol_info.h"

#define QUANT_AV_DEFAULT_URL "https://www.alphavantage.co/query"

/* ---- pure parsers ------------------------------------------------------ */

/*
 * If body is an Alpha Vantage error/throttle payload return its code (and
 * fill err); otherwise QUANT_OK.  Cheap: looks only at the top-level keys.
 */
enum quant_code quant_av_classify(const char *body, size_t len, struct quant_err *err);

/*
 * Parse a TIME_SERIES_DAILY or TIME_SERIES_DAILY_ADJUSTED JSON body into out
 * (appended, then sorted ascending).  Sets out->symbol from Meta Data
 * "2. Symbol".  Fields absent from the plain daily endpoint (adjusted close,
 * dividend, split) are NAN.  An error payload gives its classify() code; a body
 * without the series, or a value that is not a number, QUANT_EPARSE naming the
 * date and field.
 */
enum quant_code quant_av_parse_daily_json(const char *body, size_t len,
                                          struct quant_bars *out, struct quant_err *err);

/* Same for datatype=csv (plain or adjusted header; CRLF or LF). */
enum quant_code quant_av_parse_daily_csv(const char *body, size_t len,
                                         struct quant_bars *out, struct quant_err *err);

/*
 * SYMBOL_SEARCH (JSON "bestMatches" or CSV).  *out is malloc'd, caller frees
 * (it is NULL when *out_n is 0).  Matches whose symbol quant cannot accept
 * (quant_symbol_normalize) are left out.
 */
enum quant_code quant_av_parse_search_json(const char *body, size_t len,
                                           struct quant_symbol_info **out, size_t *out_n,
                                           struct quant_err *err);
enum quant_code quant_av_parse_search_csv(const char *body, size_t len,
                                          struct quant_symbol_info **out, size_t *out_n,
                                          struct quant_err *err);

/*
 * OVERVIEW: fills out (the string "None" counts as unknown, i.e. "").  region
 * is the "Country" field.  An empty object {} (Alpha Vantage's answer for a
 * symbol without an overview) gives QUANT_ENOTFOUND.
 */
enum quant_code quant_av_parse_overview_json(const char *body, size_t len,
                                             struct quant_symbol_info *out,
                                             struct quant_err *err);

/* ---- the provider ------------------------------------------------------ */

struct quant_av_options {
    const char *base_url;    /* e.g. QUANT_AV_DEFAULT_URL or http://127.0.0.1:PORT/query */
    const char *api_key;     /* required for fetches; copied, never printed */
    int adjusted;            /* use TIME_SERIES_DAILY_ADJUSTED (premium) */
    int use_csv;             /* datatype=csv instead of JSON */
    struct quant_http_options http; /* all-zero (timeout_ms and max_body 0) = defaults */
};

/*
 * Requests made by the provider (values URL-encoded):
 *   BASE?function=TIME_SERIES_DAILY[_ADJUSTED]&symbol=S&outputsize=compact|full
 *        [&datatype=csv]&apikey=K
 *   BASE?function=SYMBOL_SEARCH&keywords=Q[&datatype=csv]&apikey=K
 *   BASE?function=OVERVIEW&symbol=S&apikey=K          (JSON only)
 * fetch_daily sets info->requests to the HTTP attempts it made (retries and
 * the compact fallback included).
 *
 * Open the provider.  Fails with QUANT_ENOKEY when api_key is NULL or empty
 * (message says to set ALPHAVANTAGE_API_KEY).  Its fetch_daily in FULL mode
 * falls back to COMPACT when the API says `full` is premium, and says so in
 * info->warning with how to backfill history from CSV.
 */
enum quant_code quant_av_open(const struct quant_av_options *opts,
                              struct quant_provider *out, struct quant_err *err);

#endif
