/*
 * web_internal.h: the dashboard's request handler, path check and embedded
 * assets, inside libquant (server.c, api.c, path.c, assets.c) and for the
 * tests and the fuzz harness.  quant_api_handle() answers one request
 * (method + path) without any socket, so every route, every refusal and every
 * JSON body is testable directly; server.c (the only file that includes
 * civetweb.h) only moves bytes.  The routes: quant/web.h.
 *
 * Ownership: quant_api_handle fills *out; release it with
 * quant_api_response_release.
 */
#ifndef QUANT_WEB_INTERNAL_H
#define QUANT_WEB_INTERNAL_H

#include <stddef.h>

#include "quant/web.h"

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

#endif
