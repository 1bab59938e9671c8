/*
 * server.c: the dashboard's HTTP server, the only file that includes
 * civetweb.h.  It moves bytes: each request's method and raw path go to
 * quant_api_handle() and the answer is written back with the security headers
 * (no-store, nosniff, a same-origin CSP on HTML).  civetweb is given no
 * document root, so it never serves a file itself; this file must not grow
 * any routing or store logic of its own, and it never prints (civetweb's log
 * lines are swallowed: the CLI reports what matters).
 */
#include "web/web_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "core/banned.h"

struct quant_web_server {
    struct mg_context *ctx;
    const struct quant_config *cfg;   /* borrowed; outlives the server */
    int port;
};

static int quiet_log(const struct mg_connection *conn, const char *msg)
{
    (void)conn;
    (void)msg;
    return 1;   /* handled: keep civetweb from writing to stderr */
}

static void write_all(struct mg_connection *conn, const char *p, size_t n)
{
    while (n > 0) {
        int w = mg_write(conn, p, n);
        if (w <= 0)
            return;   /* the client went away */
        p += w;
        n -= (size_t)w;
    }
}

/* One request's work, run on a thread of our own (see run_handler). */
struct handler_job {
    const struct quant_config *cfg;
    const char *method, *path;
    struct quant_api_response r;
    struct quant_err err;
};

static void *handler_thread(void *arg)
{
    struct handler_job *j = arg;
    quant_api_handle(j->cfg, j->method, j->path, &j->r, &j->err);
    return NULL;
}

/*
 * civetweb's worker threads have small stacks, and Debian's build refuses its
 * thread_stack_size option; DuckDB's sort (ORDER BY in the bars and
 * predictions queries) needs more and crashed the server.  So each request's
 * handler runs on a thread with an 8 MiB stack, which the worker joins.
 */
static void run_handler(struct handler_job *j)
{
    pthread_attr_t attr;
    pthread_t t;
    int ok = pthread_attr_init(&attr) == 0;
    ok = ok && pthread_attr_setstacksize(&attr, 8u << 20) == 0 &&
         pthread_create(&t, &attr, handler_thread, j) == 0;
    if (ok)
        pthread_join(t, NULL);
    else
        handler_thread(j); /* no thread: the worker's own stack is the fallback */
    pthread_attr_destroy(&attr);
}

static int on_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct quant_web_server *srv = ri->user_data;
    struct handler_job job;
    memset(&job, 0, sizeof job);
    quant_err_clear(&job.err);
    /* local_uri_raw is civetweb's decoded, uncleaned path; decoding it again
     * in quant_api_handle only refuses more (a literal "%2e" stays refused). */
    job.cfg = srv->cfg;
    job.method = ri->request_method;
    job.path = ri->local_uri_raw ? ri->local_uri_raw : "";
    run_handler(&job);
    struct quant_api_response r = job.r;
    char len[32];
    snprintf(len, sizeof len, "%zu", r.body_len);
    mg_response_header_start(conn, r.status);
    mg_response_header_add(conn, "Content-Type", r.content_type, -1);
    mg_response_header_add(conn, "Content-Length", len, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
    if (r.is_html)
        mg_response_header_add(conn, "Content-Security-Policy", "default-src 'self'", -1);
    if (r.status == 405)
        mg_response_header_add(conn, "Allow", "GET, HEAD", -1);
    if (r.retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r.retry_after_s);
        mg_response_header_add(conn, "Retry-After", ra, -1);
    }
    mg_response_header_send(conn);
    if (strcmp(ri->request_method, "HEAD") != 0)
        write_all(conn, r.body, r.body_len);
    int status = r.status;
    quant_api_response_release(&r);
    return status;   /* non-zero: civetweb does nothing more with the request */
}

enum quant_code quant_web_server_start(const struct quant_config *cfg, const char *host,
                                       int port, struct quant_web_server **out,
                                       struct quant_err *err)
{
    if (port < 0 || port > 65535)
        return quant_err_set(err, QUANT_EINVAL, "port %d is not in 0..65535", port);
    if (!host || !*host || strpbrk(host, ",/ \t"))
        return quant_err_set(err, QUANT_EINVAL, "bad host '%s'", host ? host : "");
    struct quant_web_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory starting the dashboard");
    srv->cfg = cfg;
    char listen[300];
    if (strchr(host, ':'))   /* IPv6 literal: civetweb wants [addr]:port with a + prefix */
        snprintf(listen, sizeof listen, "+[%s]:%d", host, port);
    else
        snprintf(listen, sizeof listen, "%s:%d", host, port);
    const char *opts[] = {"listening_ports", listen, "num_threads", "4",
                          "request_timeout_ms", "10000", "enable_keep_alive", "no", NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.begin_request = on_request;
    cb.log_message = quiet_log;
    struct mg_init_data init = {&cb, srv, opts};
    char why[256] = "";
    unsigned code = 0;
    struct mg_error_data e = {&code, why, sizeof why};
    mg_init_library(0);
    srv->ctx = mg_start2(&init, &e);
    if (!srv->ctx) {
        mg_exit_library();
        free(srv);
        return quant_err_set(err, QUANT_EIO, "dashboard: cannot listen on %s:%d: %s "
                             "(is another program using the port? try --port)", host, port,
                             why[0] ? why : "civetweb refused to start");
    }
    struct mg_server_port ports[4];
    memset(ports, 0, sizeof ports);
    int n = mg_get_server_ports(srv->ctx, 4, ports);
    srv->port = n > 0 ? ports[0].port : port;
    *out = srv;
    return QUANT_OK;
}

int quant_web_server_port(const struct quant_web_server *srv)
{
    return srv ? srv->port : 0;
}

void quant_web_server_stop(struct quant_web_server *srv)
{
    if (!srv)
        return;
    mg_stop(srv->ctx);
    mg_exit_library();
    free(srv);
}
