/*
 * loopback_server.c: the scripted 127.0.0.1 HTTP server behind tests that must
 * not touch the network (see loopback_server.h for the route rules).
 *
 * One accept thread; each connection gets its own thread so a stalled or
 * dropped answer never blocks the next request (a client that times out and
 * retries must be seen and counted).  Every wait polls a self-pipe that
 * lb_stop() writes to, so stopping is prompt and joins everything.
 */
#define _GNU_SOURCE
#include "loopback_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LB_MAX_REQUEST 16384     /* request head cap */
#define LB_IO_TIMEOUT_MS 5000    /* a client that sends nothing for 5 s is dropped */

struct lb_resp {
    int status;
    char *body;
    size_t body_len;
    char *content_type;
    char *extra_headers;
    enum lb_behaviour behaviour;
    int stall_ms;
    struct lb_resp *next;
};

struct lb_route {
    char *match;
    struct lb_resp *head, *tail;
    struct lb_route *next;
};

struct lb_conn {
    struct lb_server *lb;
    int fd;
    pthread_t thread;
    int done;                    /* set (under lb->mu) when the thread finished */
    struct lb_conn *next;
};

struct lb_server {
    int listen_fd;
    int port;
    int stop_pipe[2];            /* written by lb_stop: readable = stop */
    pthread_t accept_thread;
    pthread_mutex_t mu;          /* guards routes, requests, conns */
    struct lb_route *routes;
    char **requests;
    int n_requests, cap_requests;
    struct lb_conn *conns;
};

/* ---- small helpers --------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void free_resp(struct lb_resp *r)
{
    free(r->body);
    free(r->content_type);
    free(r->extra_headers);
    free(r);
}

static void free_routes(struct lb_route *rt)
{
    while (rt) {
        struct lb_route *next = rt->next;
        for (struct lb_resp *r = rt->head; r;) {
            struct lb_resp *rn = r->next;
            free_resp(r);
            r = rn;
        }
        free(rt->match);
        free(rt);
        rt = next;
    }
}

/*
 * Wait up to ms (-1 = forever) for fd to be readable.  Returns 1 readable,
 * 0 timeout, -1 stop requested.
 */
static int wait_readable(struct lb_server *lb, int fd, int ms)
{
    struct pollfd p[2] = {{lb->stop_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int nfds = fd >= 0 ? 2 : 1;
    for (;;) {
        int r = poll(p, (nfds_t)nfds, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (p[0].revents & (POLLIN | POLLHUP)))
            return -1;
        if (r == 0)
            return 0;
        return 1;
    }
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* ---- request handling ---------------------------------------------------- */

/* Read the request head; returns a malloc'd target or NULL. */
static char *read_target(struct lb_server *lb, int fd)
{
    char buf[LB_MAX_REQUEST + 1];
    size_t len = 0;
    while (len < LB_MAX_REQUEST) {
        if (wait_readable(lb, fd, LB_IO_TIMEOUT_MS) != 1)
            return NULL;
        ssize_t r = recv(fd, buf + len, LB_MAX_REQUEST - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    buf[len] = '\0';
    /* "GET <target> HTTP/1.1" */
    char *sp1 = strchr(buf, ' ');
    if (!sp1)
        return NULL;
    char *sp2 = strchr(sp1 + 1, ' ');
    char *eol = strstr(buf, "\r\n");
    if (!sp2 || (eol && sp2 > eol))
        return NULL;
    return dup_n(sp1 + 1, (size_t)(sp2 - sp1 - 1));
}

/* Pick the response for target (copy, so the queue may change meanwhile). */
static struct lb_resp *pick(struct lb_server *lb, const char *target)
{
    struct lb_route *best = NULL;
    for (struct lb_route *rt = lb->routes; rt; rt = rt->next)
        if (strstr(target, rt->match) && (!best || strlen(rt->match) > strlen(best->match)))
            best = rt;
    if (!best || !best->head)
        return NULL;
    struct lb_resp *r = best->head;
    if (r->next) {            /* pop; the last one left repeats */
        best->head = r->next;
        r->next = NULL;
        return r;
    }
    struct lb_resp *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *r;
    c->body = dup_n(r->body, r->body_len);
    c->content_type = dup_n(r->content_type, strlen(r->content_type));
    c->extra_headers = dup_n(r->extra_headers, strlen(r->extra_headers));
    c->next = NULL;
    if (!c->body || !c->content_type || !c->extra_headers) {
        free_resp(c);
        return NULL;
    }
    return c;
}

static void record(struct lb_server *lb, const char *target)
{
    if (lb->n_requests == lb->cap_requests) {
        int cap = lb->cap_requests ? lb->cap_requests * 2 : 32;
        char **p = realloc(lb->requests, (size_t)cap * sizeof *p);
        if (!p)
            return;
        lb->requests = p;
        lb->cap_requests = cap;
    }
    char *t = dup_n(target, strlen(target));
    if (t)
        lb->requests[lb->n_requests++] = t;
}

static void answer(int fd, const struct lb_resp *r, size_t declared_len)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     r->status, reason(r->status), r->content_type, declared_len,
                     r->extra_headers);
    if (n < 0 || (size_t)n >= sizeof head)
        return;
    send_all(fd, head, (size_t)n);
    send_all(fd, r->body, r->body_len);
}

static void serve(struct lb_server *lb, int fd)
{
    char *target = read_target(lb, fd);
    if (!target)
        return;
    pthread_mutex_lock(&lb->mu);
    record(lb, target);
    struct lb_resp *r = pick(lb, target);
    pthread_mutex_unlock(&lb->mu);

    if (!r) {
        char body[256];
        int n = snprintf(body, sizeof body, "{\"error\": \"no route for this request\"}");
        struct lb_resp nf = {.status = 404, .body = body, .body_len = (size_t)n,
                             .content_type = "application/json", .extra_headers = ""};
        answer(fd, &nf, nf.body_len);
        free(target);
        return;
    }
    switch (r->behaviour) {
    case LB_NORMAL:
        answer(fd, r, r->body_len);
        break;
    case LB_STALL:
        /* Readable client fd here means it closed (or sent more): stop waiting. */
        if (wait_readable(lb, fd, r->stall_ms < 0 ? -1 : r->stall_ms) == 0)
            answer(fd, r, r->body_len);
        break;
    case LB_TRUNCATE:
        answer(fd, r, r->body_len * 2 + 64);
        break;
    case LB_DROP:
        break;
    }
    free_resp(r);
    free(target);
}

static void *conn_main(void *arg)
{
    struct lb_conn *c = arg;
    serve(c->lb, c->fd);
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    pthread_mutex_lock(&c->lb->mu);
    c->done = 1;
    pthread_mutex_unlock(&c->lb->mu);
    return NULL;
}

/* Join finished connection threads (all of them when `all`). */
static void reap(struct lb_server *lb, int all)
{
    for (;;) {
        struct lb_conn *victim = NULL, **pp;
        pthread_mutex_lock(&lb->mu);
        for (pp = &lb->conns; *pp; pp = &(*pp)->next) {
            if (all || (*pp)->done) {
                victim = *pp;
                *pp = victim->next;
                break;
            }
        }
        pthread_mutex_unlock(&lb->mu);
        if (!victim)
            return;
        pthread_join(victim->thread, NULL);
        free(victim);
    }
}

static void *accept_main(void *arg)
{
    struct lb_server *lb = arg;
    for (;;) {
        int w = wait_readable(lb, lb->listen_fd, 200);
        reap(lb, 0);
        if (w < 0)
            break;
        if (w == 0)
            continue;
        int fd = accept4(lb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct lb_conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->lb = lb;
        c->fd = fd;
        pthread_mutex_lock(&lb->mu);
        c->next = lb->conns;
        lb->conns = c;
        if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
            lb->conns = c->next;
            pthread_mutex_unlock(&lb->mu);
            close(fd);
            free(c);
            continue;
        }
        pthread_mutex_unlock(&lb->mu);
    }
    reap(lb, 1);
    return NULL;
}

/* ---- public API ---------------------------------------------------------- */

struct lb_server *lb_start(void)
{
    struct lb_server *lb = calloc(1, sizeof *lb);
    if (!lb)
        return NULL;
    lb->listen_fd = -1;
    lb->stop_pipe[0] = lb->stop_pipe[1] = -1;
    pthread_mutex_init(&lb->mu, NULL);
    if (pipe2(lb->stop_pipe, O_CLOEXEC) != 0)
        goto fail;
    lb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lb->listen_fd < 0)
        goto fail;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(lb->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(lb->listen_fd, 64) != 0 ||
        getsockname(lb->listen_fd, (struct sockaddr *)&a, &alen) != 0)
        goto fail;
    lb->port = ntohs(a.sin_port);
    if (pthread_create(&lb->accept_thread, NULL, accept_main, lb) != 0)
        goto fail;
    return lb;
fail:
    if (lb->listen_fd >= 0)
        close(lb->listen_fd);
    if (lb->stop_pipe[0] >= 0) {
        close(lb->stop_pipe[0]);
        close(lb->stop_pipe[1]);
    }
    pthread_mutex_destroy(&lb->mu);
    free(lb);
    return NULL;
}

void lb_stop(struct lb_server *lb)
{
    if (!lb)
        return;
    ssize_t w;
    do {
        w = write(lb->stop_pipe[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    pthread_join(lb->accept_thread, NULL);
    close(lb->listen_fd);
    close(lb->stop_pipe[0]);
    close(lb->stop_pipe[1]);
    lb_reset(lb);
    free(lb->requests);
    pthread_mutex_destroy(&lb->mu);
    free(lb);
}

int lb_port(const struct lb_server *lb)
{
    return lb->port;
}

void lb_url(const struct lb_server *lb, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d/query", lb->port);
}

static const char *guess_type(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i < len && (body[i] == '{' || body[i] == '['))
        return "application/json";
    if (i < len && body[i] == '<')
        return "text/html";
    return "text/csv";
}

int lb_add_response(struct lb_server *lb, const char *match, const struct lb_response *r)
{
    const char *body = r->body ? r->body : "";
    size_t blen = r->body_len ? r->body_len : strlen(body);
    struct lb_resp *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    const char *ct = r->content_type ? r->content_type : guess_type(body, blen);
    const char *eh = r->extra_headers ? r->extra_headers : "";
    x->status = r->status;
    x->body = dup_n(body, blen);
    x->body_len = blen;
    x->content_type = dup_n(ct, strlen(ct));
    x->extra_headers = dup_n(eh, strlen(eh));
    x->behaviour = r->behaviour;
    x->stall_ms = r->stall_ms;
    if (!x->body || !x->content_type || !x->extra_headers) {
        free_resp(x);
        return -1;
    }
    const char *m = match ? match : "";
    pthread_mutex_lock(&lb->mu);
    struct lb_route *rt = lb->routes;
    while (rt && strcmp(rt->match, m) != 0)
        rt = rt->next;
    if (!rt) {
        rt = calloc(1, sizeof *rt);
        if (rt)
            rt->match = dup_n(m, strlen(m));
        if (!rt || !rt->match) {
            free(rt);
            pthread_mutex_unlock(&lb->mu);
            free_resp(x);
            return -1;
        }
        rt->next = lb->routes;
        lb->routes = rt;
    }
    if (rt->tail)
        rt->tail->next = x;
    else
        rt->head = x;
    rt->tail = x;
    pthread_mutex_unlock(&lb->mu);
    return 0;
}

void lb_add(struct lb_server *lb, const char *match, int status, const char *body,
            enum lb_behaviour b, int stall_ms)
{
    struct lb_response r = {.status = status, .body = body, .behaviour = b,
                            .stall_ms = stall_ms};
    (void)lb_add_response(lb, match, &r);
}

int lb_add_file(struct lb_server *lb, const char *match, int status, const char *path,
                enum lb_behaviour b, int stall_ms)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return -1;
    }
    const char *dot = strrchr(path, '.');
    const char *ct = "text/plain";
    if (dot && strcmp(dot, ".json") == 0)
        ct = "application/json";
    else if (dot && strcmp(dot, ".csv") == 0)
        ct = "text/csv";
    else if (dot && strcmp(dot, ".html") == 0)
        ct = "text/html";
    /* An empty file is served as an empty body (body_len 0 means strlen). */
    struct lb_response r = {.status = status, .body = len ? buf : "", .body_len = len,
                            .content_type = ct, .behaviour = b, .stall_ms = stall_ms};
    int rc = lb_add_response(lb, match, &r);
    free(buf);
    return rc;
}

int lb_request_count(struct lb_server *lb, const char *match)
{
    int n = 0;
    pthread_mutex_lock(&lb->mu);
    for (int i = 0; i < lb->n_requests; i++)
        if (!match || !*match || strstr(lb->requests[i], match))
            n++;
    pthread_mutex_unlock(&lb->mu);
    return n;
}

int lb_request_target(struct lb_server *lb, int i, char *out, size_t n)
{
    int rc = -1;
    if (n)
        out[0] = '\0';
    pthread_mutex_lock(&lb->mu);
    if (i >= 0 && i < lb->n_requests) {
        snprintf(out, n, "%s", lb->requests[i]);
        rc = 0;
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

void lb_reset(struct lb_server *lb)
{
    pthread_mutex_lock(&lb->mu);
    free_routes(lb->routes);
    lb->routes = NULL;
    for (int i = 0; i < lb->n_requests; i++)
        free(lb->requests[i]);
    lb->n_requests = 0;
    pthread_mutex_unlock(&lb->mu);
}
