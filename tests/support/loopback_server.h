/*
 * loopback_server.h: a scripted HTTP/1.1 server on 127.0.0.1 for tests.
 *
 * It runs in its own thread (plus one short-lived thread per connection) and
 * answers GET requests from a route table:
 *
 *   route  = a match string + a queue of responses
 *   match  = a substring of the request target ("/query?function=...&symbol=AAPL")
 *            When several routes match, the one with the LONGEST match string
 *            wins, so "function=TIME_SERIES_DAILY_ADJUSTED" beats
 *            "function=TIME_SERIES_DAILY".  "" matches everything.
 *   queue  = each request pops the front response; the last one left repeats
 *            forever.  lb_add() with an existing match string appends to its queue.
 *   no match -> 404 with a small JSON body.
 *
 * Every connection gets one response and is closed (Connection: close).  Every
 * request target is recorded, in arrival order, so tests can count requests and
 * check what was sent (e.g. that the apikey went out).
 *
 * Lifetime: lb_start() binds an ephemeral port and starts serving; lb_stop()
 * wakes every stalled handler, joins all threads, closes every socket and frees
 * the server.  Nothing outlives lb_stop().  The server binds 127.0.0.1 only.
 *
 * Failures inside the server (bad request, write to a closed client) are never
 * fatal; setup failures (bind, thread creation, unreadable file) make lb_start
 * return NULL or lb_add_file return -1.
 */
#ifndef QUANT_LOOPBACK_SERVER_H
#define QUANT_LOOPBACK_SERVER_H

#include <stddef.h>

enum lb_behaviour {
    LB_NORMAL,     /* answer at once */
    LB_STALL,      /* wait stall_ms, then answer normally; stall_ms < 0: never
                      answer (hold the connection until the client leaves or
                      lb_stop) */
    LB_TRUNCATE,   /* send a Content-Length larger than the body, send the body,
                      close: the client sees a body cut short */
    LB_DROP,       /* read the request, close without answering */
};

/* Full description of one scripted response (for lb_add_response). */
struct lb_response {
    int status;                    /* HTTP status, e.g. 200 */
    const char *body;              /* copied; NULL = empty */
    size_t body_len;               /* 0 = strlen(body) */
    const char *content_type;      /* NULL = guessed from the body ('{'/'[' json,
                                      '<' html, else text/csv) */
    const char *extra_headers;     /* copied; NULL or lines ending "\r\n",
                                      e.g. "Retry-After: 1\r\n" */
    enum lb_behaviour behaviour;
    int stall_ms;                  /* for LB_STALL */
};

struct lb_server;

/* Start a server on 127.0.0.1 with an ephemeral port.  NULL on failure. */
struct lb_server *lb_start(void);

/* Stop serving, join all threads, free everything.  NULL is a no-op. */
void lb_stop(struct lb_server *lb);

/* The port it listens on. */
int lb_port(const struct lb_server *lb);

/* "http://127.0.0.1:PORT/query" into out (size n). */
void lb_url(const struct lb_server *lb, char *out, size_t n);

/* Queue a response on route `match` (body copied, content type guessed). */
void lb_add(struct lb_server *lb, const char *match, int status, const char *body,
            enum lb_behaviour b, int stall_ms);

/*
 * Same with the body read from a file now (content type from the extension:
 * .json, .csv, .html, else text/plain).  Returns 0, or -1 when the file cannot
 * be read.
 */
int lb_add_file(struct lb_server *lb, const char *match, int status, const char *path,
                enum lb_behaviour b, int stall_ms);

/* Queue a fully described response.  Returns 0 (or -1 out of memory). */
int lb_add_response(struct lb_server *lb, const char *match, const struct lb_response *r);

/* Number of requests seen whose target contains match (NULL or "" = all). */
int lb_request_count(struct lb_server *lb, const char *match);

/*
 * Copy the i-th request target seen (0-based, arrival order) into out (size n).
 * Returns 0, or -1 when there is no such request (out is then "").
 */
int lb_request_target(struct lb_server *lb, int i, char *out, size_t n);

/* Forget all routes and recorded requests (the server keeps running). */
void lb_reset(struct lb_server *lb);

#endif
