/*
 * http_internal.h: quant's HTTP GET client over libcurl.
 *
 * What it adds over a bare curl_easy_perform:
 *  - bounded retries with exponential backoff (and jitter-free, so tests are
 *    deterministic) for transient failures: HTTP 429 and 5xx, timeouts,
 *    connection refused/reset, a body cut short;
 *  - a client-side rate limiter: at most requests_per_minute requests are
 *    started in any 60 s window (0 = no limit).  It spaces request starts
 *    60/requests_per_minute seconds apart on a monotonic clock rather than
 *    allowing a burst, because Alpha Vantage also throttles bursts (about one
 *    request per second); retries go through the limiter too;
 *  - a hard cap on the body size;
 *  - errors translated once into quant codes, with URLs redacted: any
 *    `apikey=` query value is replaced by `***` before a URL appears in a
 *    message, so the key can never leak through an error.
 *
 * Ownership: quant_http_new() allocates a client, quant_http_free() frees it.
 * The caller owns the body buffer passed to quant_http_get().
 */
#ifndef QUANT_HTTP_H
#define QUANT_HTTP_H

#include "core/buf.h"
#include "quant/error.h"

struct quant_http_options {
    long connect_timeout_ms;     /* default 10000 */
    long timeout_ms;             /* whole request, default 30000 */
    int max_retries;             /* retries after the first try, default 3 */
    long backoff_initial_ms;     /* first retry delay, doubled each time; default 1000 */
    long backoff_max_ms;         /* cap on one delay, default 16000 */
    double requests_per_minute;  /* client-side limit; 0 = unlimited */
    size_t max_body;             /* default 64 MiB */
    const char *user_agent;      /* default "quant/<version>" */
};

/* Fill opts with the defaults above. */
void quant_http_options_default(struct quant_http_options *opts);

struct quant_http;

struct quant_http_stats {
    long requests;   /* HTTP attempts started, retries included */
    long retries;    /* attempts that were retries */
    long sent;       /* attempts whose request reached the server (bytes were sent):
                        what a vendor can have counted; a refused connection is not */
};

/* Returns NULL and fills err on failure.  opts may be NULL for defaults. */
struct quant_http *quant_http_new(const struct quant_http_options *opts,
                                  struct quant_err *err);
void quant_http_free(struct quant_http *http);

/*
 * GET url into body (reset first).  The body is capped by both opts.max_body
 * and body->max (whichever is smaller).  Retried: HTTP 408/429/5xx (a 429's
 * Retry-After, capped by backoff_max_ms, replaces the backoff delay),
 * timeouts, connection refused/reset, an empty reply and a body cut short.
 * Not retried: other 4xx, an over-cap body, a malformed URL, TLS failures.
 * A body cut short (Content-Length not reached) ends as QUANT_ENET.  On QUANT_OK, *out_status is the final HTTP
 * status (2xx).  A non-2xx final status after retries gives QUANT_EHTTP (with
 * *out_status set); timeouts QUANT_ETIMEOUT; other transport failures
 * QUANT_ENET; an over-cap body QUANT_ETOOBIG.  out_status may be NULL.
 */
enum quant_code quant_http_get(struct quant_http *http, const char *url,
                               struct quant_buf *body, long *out_status,
                               struct quant_err *err);

/* Counters since quant_http_new(). */
void quant_http_get_stats(const struct quant_http *http, struct quant_http_stats *out);

/*
 * Copy url into out (size n) with the value of every apikey= parameter
 * replaced by "***".  Always NUL-terminates.
 */
void quant_http_redact_url(const char *url, char *out, size_t n);

/*
 * Append s to b percent-encoded for use as one query value (RFC 3986:
 * everything but ALPHA / DIGIT / "-._~" is escaped).  Errors as
 * quant_buf_append().
 */
enum quant_code quant_http_append_escaped(struct quant_buf *b, const char *s);

#endif
