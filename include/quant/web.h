/*
 * web.h: the dashboard (`quant dashboard`): a small read-only HTTP server and
 * the pure request handler behind it.
 *
 * quant_api_handle() answers one request (method + path) without any socket,
 * so every route, every refusal and every JSON body is testable directly;
 * server.c (the only file that includes civetweb.h) only moves bytes.
 *
 * Routes (GET and HEAD only; anything else is 405):
 *   /                               index.html  (embedded asset)
 *   /symbol.html /models.html /app.js /style.css
 *   /vendor/lightweight-charts.standalone.production.js
 *   /api/status                     every symbol: bars, ingest, features, labels, model
 *   /api/symbols/{SYMBOL}/bars      OHLCV ascending
 *   /api/symbols/{SYMBOL}/predictions  newest model on the symbol + its scores
 *   /api/models                     the model registry, newest first
 * Everything else is a 404 JSON body; paths with "." / ".." segments (also when
 * percent-encoded), NUL, backslashes or bad escapes are a 400 JSON body.  No
 * route reads a file from disk: assets are compiled into the binary.
 *
 * The stores are opened read-only per request with a lock timeout of 0: while
 * a writer (ingest, features, train) holds DuckDB's lock the answer is
 * 503 {"error":"store busy","retry_after_ms":1000}.  Bodies are built with
 * cJSON, so every stored string is escaped as JSON; the API key is never read.
 *
 * Ownership: quant_api_handle fills *out; release it with
 * quant_api_response_release.  The server owns its threads until stop.
 */
#ifndef QUANT_WEB_H
#define QUANT_WEB_H

#include <stddef.h>

#include "quant/config.h"
#include "quant/error.h"

struct quant_api_response {
    int status;                /* HTTP status code */
    const char *content_type;  /* static string, with charset for text */
    const char *body;          /* the bytes to send (owned_ or an embedded asset) */
    size_t body_len;
    char *owned_;              /* malloc'd body, or NULL for an embedded asset */
    int is_html;               /* send the Content-Security-Policy header */
    int retry_after_s;         /* > 0: send Retry-After (store busy) */
};

void quant_api_response_release(struct quant_api_response *r);

/*
 * Answer `method path` (path as sent, query string allowed and ignored).
 * Always fills *out with a complete response (errors become 4xx/5xx JSON);
 * returns QUANT_OK, or QUANT_ENOMEM when even the error body could not be
 * allocated (then *out is a static 500 body).  err gets the store's message
 * for 5xx answers, for logging.
 */
enum quant_code quant_api_handle(const struct quant_config *cfg, const char *method,
                                 const char *path, struct quant_api_response *out,
                                 struct quant_err *err);

/*
 * Percent-decode a URL path into out (cap bytes) and refuse what could
 * escape the served set: returns QUANT_OK with the decoded path (query
 * string dropped), QUANT_EINVAL for a path not starting with '/', a bad or
 * NUL escape, a control byte, a backslash, or a "." / ".." segment, and
 * QUANT_ETOOBIG when it does not fit.
 */
enum quant_code quant_web_path_decode(const char *raw, char *out, size_t cap);

/* One file compiled into the binary (generated at build time from web/). */
struct quant_web_asset {
    const char *path;           /* "/app.js" */
    const char *content_type;   /* "text/javascript; charset=utf-8" */
    const unsigned char *data;
    size_t len;
};

/* The asset served at decoded path ("/" means "/index.html"), or NULL. */
const struct quant_web_asset *quant_web_asset_find(const char *path);

struct quant_web_server;

/*
 * Listen on host:port (port 0 picks a free port) and serve until
 * quant_web_server_stop.  cfg must outlive the server.  QUANT_EIO with
 * civetweb's reason when the address cannot be bound.
 */
enum quant_code quant_web_server_start(const struct quant_config *cfg, const char *host,
                                       int port, struct quant_web_server **out,
                                       struct quant_err *err);
/* The port actually bound (useful after port 0). */
int quant_web_server_port(const struct quant_web_server *srv);
/* Stop serving, join the threads and free the server (NULL is a no-op). */
void quant_web_server_stop(struct quant_web_server *srv);

#endif
