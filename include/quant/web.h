/*
 * web.h: the dashboard (`quant dashboard`): a small read-only HTTP server and
 * the pure request handler behind it.
 *
 * The handler behind the server (routes, assets, path checks) is internal:
 * lib/web/web_internal.h.
 *
 * Routes (GET and HEAD only; anything else is 405):
 *   /                               index.html  (embedded asset)
 *   /symbol.html /models.html /evaluation.html /app.js /style.css
 *   /evaluation.js /evaluation-kit.js /evaluation-detail.js
 *   /favicon.svg /favicon.ico (the same SVG: a browser asks for the .ico itself)
 *   /vendor/lightweight-charts.standalone.production.js
 *   /api/status                     every symbol: bars, ingest, features, labels, model
 *   /api/symbols/{SYMBOL}/bars      OHLCV ascending
 *   /api/symbols/{SYMBOL}/predictions  newest model on the symbol + its scores
 *   /api/models                     the model registry, newest first
 *   /api/evaluations                the evaluation registry, newest first (an
 *                                   empty list, not a 404, when there is no store)
 *   /api/evaluations/{ID}           one evaluation + its daily series as columns
 * Everything else is a 404 JSON body; paths with "." / ".." segments (also when
 * percent-encoded), NUL, backslashes or bad escapes are a 400 JSON body.  No
 * route reads a file from disk: assets are compiled into the binary.
 *
 * Each request reads in a QUANT_WS_READ workspace (workspace.h): while
 * a writer (ingest, features, train) holds DuckDB's lock the answer is
 * 503 {"error":"store busy","retry_after_ms":1000}.  Bodies are built with
 * cJSON, so every stored string is escaped as JSON; the API key is never read.
 *
 * Ownership: the server owns its threads until stop.
 */
#ifndef QUANT_WEB_H
#define QUANT_WEB_H

#include <stddef.h>

#include "quant/config.h"
#include "quant/error.h"

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
