/*
 * http.c: quant's one HTTP client, and the only file that includes libcurl.
 *
 * It turns a URL into a size-capped body or a quant error code: each attempt
 * first waits for the client-side rate limiter, runs one libcurl transfer,
 * and is then classified (success, retry after a backoff, or give up).  Every
 * libcurl error and HTTP status becomes a quant code here and nowhere else,
 * and every message that shows a URL shows it redacted, so an API key cannot
 * leak through an error.  It must not print, log to stdout, or follow
 * redirects (a redirect would carry the key to another host).
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "quant/clock.h"
#include "core/banned.h"

#ifndef QUANT_VERSION
#define QUANT_VERSION "0"
#endif

#define REDACTED_URL_MAX 1024

struct quant_http {
    CURL *curl;                       /* one easy handle, reused for keep-alive */
    struct quant_http_options opts;   /* copy; user_agent points at ua */
    char ua[128];                     /* owned copy of the user agent */
    struct quant_http_stats stats;
    double last_start;                /* monotonic start of the last attempt, seconds */
    int started;                      /* last_start is valid */
};

/* State shared with libcurl's write callback during one attempt. */
struct sink {
    struct quant_buf *body;
    size_t max_body;
    enum quant_code failure;          /* why the callback refused data */
};

/* What one attempt ended with, before the retry decision. */
struct attempt {
    CURLcode cc;
    long status;
    long retry_after_s;               /* -1 when absent */
    enum quant_code sink_failure;
    char curl_msg[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void quant_http_options_default(struct quant_http_options *opts)
{
    opts->connect_timeout_ms = 10000;
    opts->timeout_ms = 30000;
    opts->max_retries = 3;
    opts->backoff_initial_ms = 1000;
    opts->backoff_max_ms = 16000;
    opts->requests_per_minute = 0;
    opts->max_body = (size_t)64 << 20;
    opts->user_agent = NULL;
}

/* Wait until the next request may start: starts are 60/rpm seconds apart. */
static void rate_limit_wait(struct quant_http *h)
{
    if (h->opts.requests_per_minute > 0 && h->started) {
        double interval = 60000.0 / h->opts.requests_per_minute;
        quant_clock_sleep_ms(h->last_start * 1000.0 + interval - quant_clock_mono() * 1000.0);
    }
    h->last_start = quant_clock_mono();
    h->started = 1;
}

/* ---- redaction and escaping --------------------------------------------- */

static int starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
            return 0;
    return 1;
}

void quant_http_redact_url(const char *url, char *out, size_t n)
{
    if (!n)
        return;
    size_t o = 0;
    const char *p = url ? url : "";
    while (*p && o + 1 < n) {
        /* Works on whole messages too: any "apikey=" loses its value. */
        if (starts_with_ci(p, "apikey=")) {
            for (int i = 0; i < 7 && o + 1 < n; i++)
                out[o++] = *p++;
            for (const char *r = "***"; *r && o + 1 < n; r++)
                out[o++] = *r;
            while (*p && *p != '&' && *p != '#' && *p != ' ' && *p != '\'' &&
                   *p != '"' && *p != '\n' && *p != ')')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

enum quant_code quant_http_append_escaped(struct quant_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        enum quant_code rc;
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            rc = quant_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = quant_buf_append(b, e, 3);
        }
        if (rc)
            return rc;
    }
    return quant_buf_append(b, "", 0);
}

/* ---- client ------------------------------------------------------------- */

struct quant_http *quant_http_new(const struct quant_http_options *opts,
                                  struct quant_err *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        quant_err_set(err, QUANT_EINTERNAL, "cannot initialise libcurl: %s",
                      curl_easy_strerror(global_rc));
        return NULL;
    }
    struct quant_http *h = calloc(1, sizeof *h);
    if (!h) {
        quant_err_set(err, QUANT_ENOMEM, "out of memory creating the HTTP client");
        return NULL;
    }
    if (opts)
        h->opts = *opts;
    else
        quant_http_options_default(&h->opts);
    if (h->opts.max_retries < 0)
        h->opts.max_retries = 0;
    snprintf(h->ua, sizeof h->ua, "%s",
             h->opts.user_agent ? h->opts.user_agent : "quant/" QUANT_VERSION);
    h->opts.user_agent = h->ua;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        quant_err_set(err, QUANT_ENOMEM, "cannot create a libcurl handle");
        return NULL;
    }
    return h;
}

void quant_http_free(struct quant_http *http)
{
    if (!http)
        return;
    curl_easy_cleanup(http->curl);
    free(http);
}

void quant_http_get_stats(const struct quant_http *http, struct quant_http_stats *out)
{
    *out = http->stats;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (s->max_body && n > s->max_body - s->body->len) {
        s->failure = QUANT_ETOOBIG;
        return 0;
    }
    enum quant_code rc = quant_buf_append(s->body, data, n);
    if (rc) {
        s->failure = rc;
        return 0;
    }
    return n;
}

static void setup_handle(struct quant_http *h, const char *url, struct sink *sink,
                         char *errbuf)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);   /* statuses are classified below */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* Loopback never goes through a proxy, so tests stay on 127.0.0.1. */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->opts.timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->opts.user_agent);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");   /* cap applies after decoding */
    if (sink->max_body)
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink->max_body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

static void run_attempt(struct quant_http *h, const char *url, struct sink *sink,
                        struct attempt *a)
{
    memset(a, 0, sizeof *a);
    a->retry_after_s = -1;
    quant_buf_reset(sink->body);
    sink->failure = QUANT_OK;
    setup_handle(h, url, sink, a->curl_msg);
    rate_limit_wait(h);
    h->stats.requests++;
    a->cc = curl_easy_perform(h->curl);
    /* A request counts against a vendor's quota only if it reached the
     * server: a refused connection or a failed DNS lookup sent nothing. */
    long sent = 0;
    if (curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0)
        h->stats.sent++;
    a->sink_failure = sink->failure;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
    curl_off_t ra = -1;
    if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        a->retry_after_s = ra > 86400 ? 86400 : (long)ra;
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
}

static int status_retryable(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static int curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Should this attempt be retried (ignoring the retry budget)? */
static int attempt_retryable(const struct attempt *a)
{
    if (a->sink_failure)
        return 0;
    if (a->cc == CURLE_OK)
        return status_retryable(a->status);
    return curl_retryable(a->cc);
}

static long backoff_ms(const struct quant_http *h, int retry_no, const struct attempt *a)
{
    long max = h->opts.backoff_max_ms > 0 ? h->opts.backoff_max_ms : 0;
    if (a->status == 429 && a->retry_after_s >= 0) {
        long ra = a->retry_after_s * 1000;
        return ra < max ? ra : max;
    }
    long d = h->opts.backoff_initial_ms > 0 ? h->opts.backoff_initial_ms : 0;
    for (int i = 0; i < retry_no && d < max; i++)
        d *= 2;
    return d < max ? d : max;
}

static const char *status_advice(long status)
{
    if (status == 429)
        return "the server is throttling requests; wait a minute or lower requests_per_minute";
    if (status >= 500)
        return "the server is failing; try again later";
    if (status == 401 || status == 403)
        return "the server refused access; check the API key and the URL";
    if (status == 404)
        return "check the URL";
    if (status >= 300 && status < 400)
        return "redirects are not followed; use the final (https) URL";
    return "check the URL and try again";
}

/* Translate the final attempt into a quant code + message (the only place). */
static enum quant_code translate(const struct attempt *a, const char *rurl, int attempts,
                                 const struct quant_http_options *o, struct quant_err *err)
{
    char tries[64] = "";
    if (attempts > 1)
        snprintf(tries, sizeof tries, " after %d attempts", attempts);
    if (a->sink_failure == QUANT_ETOOBIG)
        return quant_err_set(err, QUANT_ETOOBIG,
                             "GET %s: response body is larger than the %zu-byte limit for "
                             "one response; this is not the answer that was asked for: "
                             "check the URL", rurl, o->max_body);
    if (a->sink_failure)
        return quant_err_set(err, a->sink_failure, "GET %s: out of memory storing the body",
                             rurl);
    if (a->cc == CURLE_OK)
        return quant_err_set(err, QUANT_EHTTP, "GET %s: HTTP %ld%s; %s", rurl, a->status,
                             tries, status_advice(a->status));

    char cmsg[CURL_ERROR_SIZE + 64];
    quant_http_redact_url(a->curl_msg[0] ? a->curl_msg : curl_easy_strerror(a->cc), cmsg,
                          sizeof cmsg);
    switch (a->cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return quant_err_set(err, QUANT_ETIMEOUT,
                             "GET %s: timed out%s (limit %ld ms): %s; the server is slow or "
                             "unreachable, try again later or raise http_timeout_ms "
                             "(quant.conf or QUANT_HTTP_TIMEOUT_MS)",
                             rurl, tries, o->timeout_ms, cmsg);
    case CURLE_FILESIZE_EXCEEDED:
        return quant_err_set(err, QUANT_ETOOBIG,
                             "GET %s: response body is larger than the %zu-byte limit",
                             rurl, o->max_body);
    case CURLE_PARTIAL_FILE:
        return quant_err_set(err, QUANT_ENET,
                             "GET %s: the body was cut short%s (%s); the connection dropped, "
                             "try again later", rurl, tries, cmsg);
    case CURLE_GOT_NOTHING:
        /* curl's own words ("Empty reply from server") do not say it was the
         * server that hung up, which is the useful part. */
        return quant_err_set(err, QUANT_ENET,
                             "GET %s: the server closed the connection without answering%s; "
                             "it may be overloaded or a proxy is dropping the request, try "
                             "again later", rurl, tries);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return quant_err_set(err, QUANT_EINVAL, "GET %s: bad URL: %s", rurl, cmsg);
    case CURLE_OUT_OF_MEMORY:
        return quant_err_set(err, QUANT_ENOMEM, "GET %s: out of memory", rurl);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return quant_err_set(err, QUANT_ENET,
                             "GET %s: cannot resolve the host (%s); check the network and "
                             "the URL", rurl, cmsg);
    default:
        return quant_err_set(err, QUANT_ENET, "GET %s: network error%s: %s; check the "
                             "network and try again", rurl, tries, cmsg);
    }
}

enum quant_code quant_http_get(struct quant_http *http, const char *url,
                               struct quant_buf *body, long *out_status,
                               struct quant_err *err)
{
    char rurl[REDACTED_URL_MAX];
    quant_http_redact_url(url, rurl, sizeof rurl);
    if (out_status)
        *out_status = 0;
    quant_buf_reset(body);

    struct sink sink = {.body = body, .max_body = http->opts.max_body};
    struct attempt a;
    int attempts = 0;
    for (;;) {
        run_attempt(http, url, &sink, &a);
        attempts++;
        if (out_status)
            *out_status = a.status;
        if (a.cc == CURLE_OK && !a.sink_failure && a.status >= 200 && a.status <= 299)
            break;
        if (!attempt_retryable(&a) || attempts > http->opts.max_retries) {
            quant_buf_reset(body);
            return translate(&a, rurl, attempts, &http->opts, err);
        }
        http->stats.retries++;
        quant_clock_sleep_ms((double)backoff_ms(http, attempts - 1, &a));
    }
    /* An empty body still reaches the caller as a valid empty string. */
    enum quant_code rc = quant_buf_append(body, "", 0);
    if (rc)
        return quant_err_set(err, rc, "GET %s: out of memory", rurl);
    return QUANT_OK;
}
