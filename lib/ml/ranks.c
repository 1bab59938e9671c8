/*
 * ranks.c: quant's channel between the ranks of a pooled training across
 * machines (see ranks.h): a star of TCP connections around rank 0, every wait
 * bounded by poll().  Integers travel little-endian, doubles as their IEEE
 * bits, so machines of either byte order agree.
 */
#define _GNU_SOURCE /* accept4 */
#include "ml/ranks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "quant/clock.h"

#include "core/banned.h"

#define HELLO_MAGIC 0x524e5451u   /* "QTNR" */
#define HELLO_VERSION 1u
#define HELLO_SIZE 32
#define VERDICT_MAX 1024

struct quant_ranks {
    int rank, n, timeout_s;
    int fd[QUANT_MACHINES_MAX];   /* rank 0: fd[k] is rank k's link; others: fd[0] */
    char where[QUANT_MACHINES_MAX][32];   /* "127.0.0.1:5001" of each rank, for messages */
    /* quant_ranks_watch */
    int watching;
    pthread_t watcher;
    int stop[2];                  /* a pipe: unwatch writes, the watcher wakes */
    void (*lost)(void *ctx, const char *why);
    void *lost_ctx;
};

static void put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static uint64_t get64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static int left_ms(double deadline)
{
    double ms = (deadline - quant_clock_mono()) * 1000.0;
    return ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms + 1;
}

/* Read or write exactly len bytes before the deadline: 0, or -1 with *why
 * "timeout", "closed" or the errno text. */
static int io_all(int fd, void *buf, size_t len, int writing, double deadline, const char **why)
{
    unsigned char *p = buf;
    while (len) {
        struct pollfd pf = {fd, (short)(writing ? POLLOUT : POLLIN), 0};
        int ms = left_ms(deadline);
        int pr = ms ? poll(&pf, 1, ms) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            *why = pr == 0 ? "timeout" : strerror(errno);
            return -1;
        }
        ssize_t k = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0) {
            *why = k == 0 ? "closed" : strerror(errno);
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static enum quant_code link_fail(const struct quant_ranks *r, int k, const char *what,
                                 const char *why, struct quant_err *err)
{
    if (strcmp(why, "timeout") == 0)
        return quant_err_set(err, QUANT_ETIMEOUT, "rank %d of %d: rank %d (%s) did not %s "
                             "within %d s (--machines-timeout); is it still running?", r->rank,
                             r->n, k, r->where[k], what, r->timeout_s);
    return quant_err_set(err, QUANT_ENET, "rank %d of %d: the link to rank %d (%s) failed "
                         "while waiting to %s (%s); see that rank's output for why",
                         r->rank, r->n, k, r->where[k], what,
                         strcmp(why, "closed") == 0 ? "it closed the link" : why);
}

static int addr_of(const struct quant_machine *m, int port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, m->host, &a->sin_addr) == 1 ? 0 : -1;
}

/* Rank k: connect to rank 0's channel port, retrying until the deadline. */
static int connect_hub(const struct quant_machine *hub, double deadline)
{
    struct sockaddr_in a;
    if (addr_of(hub, hub->port + 1, &a) != 0)
        return -1;
    while (left_ms(deadline) > 0) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return -1;
        int rc = connect(fd, (const struct sockaddr *)&a, sizeof a);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pf = {fd, POLLOUT, 0};
            int ms = left_ms(deadline);
            if (poll(&pf, 1, ms < 1000 ? ms : 1000) == 1) {
                int e = 0;
                socklen_t el = sizeof e;
                rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0 ? 0 : -1;
            }
        }
        if (rc == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        close(fd);
        /* Rank 0 is not listening yet: it may still be reading its rows. */
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int listen_hub(const struct quant_machine *hub, int backlog)
{
    struct sockaddr_in a;
    if (addr_of(hub, hub->port + 1, &a) != 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Rank 0: what is wrong with rank k's hello, or "" when nothing is. */
static void judge(const unsigned char *h, int k, int n, uint64_t key, char *why, size_t whysz)
{
    why[0] = '\0';
    if (get32(h + 12) != (uint32_t)n)
        snprintf(why, whysz, "rank %d was given %u machines, rank 0 %d: give every rank the "
                 "same --machines list", k, get32(h + 12), n);
    else if (get64(h + 16) != key)
        snprintf(why, whysz, "rank %d was started with other training options, symbols or "
                 "machines than rank 0: start every rank with the same command, only --rank "
                 "differing", k);
    else if (get64(h + 24) == 0)
        snprintf(why, whysz, "rank %d has no training rows in its share of the symbols: give "
                 "more symbols, or fewer machines", k);
}

/* Rank 0: accept every other rank's hello, then send them all the verdict. */
static enum quant_code meet_hub(struct quant_ranks *r, const struct quant_machines *m,
                                uint64_t key, uint64_t rows, double deadline,
                                struct quant_err *err)
{
    int lfd = listen_hub(&m->m[0], r->n);
    if (lfd < 0)
        return quant_err_set(err, QUANT_ENET, "rank 0 cannot listen on %s:%d (its port + 1, "
                             "quant's channel): %s; is %s this machine's address, and is the "
                             "port free?", m->m[0].host, m->m[0].port + 1, strerror(errno),
                             m->m[0].host);
    char verdict[VERDICT_MAX] = "";
    if (rows == 0)
        snprintf(verdict, sizeof verdict, "rank 0 has no training rows in its share of the "
                 "symbols: give more symbols, or fewer machines");
    int joined = 1;
    enum quant_code rc = QUANT_OK;
    while (joined < r->n) {
        struct pollfd pf = {lfd, POLLIN, 0};
        int ms = left_ms(deadline);
        int pr = ms ? poll(&pf, 1, ms) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        unsigned char h[HELLO_SIZE];
        const char *why = NULL;
        double hello_by = quant_clock_mono() + 10.0 < deadline ? quant_clock_mono() + 10.0
                                                                : deadline;
        int k = -1;
        if (io_all(c, h, sizeof h, 0, hello_by, &why) == 0 && get32(h) == HELLO_MAGIC &&
            get32(h + 4) == HELLO_VERSION)
            k = (int)get32(h + 8);
        if (k < 1 || k >= r->n || r->fd[k] >= 0) {
            /* Not a rank of this run (a stray connection, or a rank given twice). */
            if (k >= 1 && k < r->n && !verdict[0])
                snprintf(verdict, sizeof verdict, "two processes were started as rank %d: "
                         "give each its own --rank", k);
            close(c);
            continue;
        }
        r->fd[k] = c;
        joined++;
        char why_k[512];
        judge(h, k, r->n, key, why_k, sizeof why_k);
        if (why_k[0] && !verdict[0])
            snprintf(verdict, sizeof verdict, "%s", why_k);
    }
    close(lfd);
    if (joined < r->n) {
        char missing[256] = "";
        size_t used = 0;
        for (int k = 1; k < r->n && used < sizeof missing; k++)
            if (r->fd[k] < 0) {
                int w = snprintf(missing + used, sizeof missing - used, "%s%d (%s)",
                                 used ? ", " : "", k, r->where[k]);
                used += w > 0 ? (size_t)w : 0;
            }
        snprintf(verdict, sizeof verdict, "rank%s %s did not join within %d s "
                 "(--machines-timeout): start every rank, each with its own --rank, within "
                 "that time of each other", r->n - joined > 1 ? "s" : "", missing,
                 r->timeout_s);
        rc = QUANT_ETIMEOUT;
    } else if (verdict[0]) {
        rc = QUANT_EINVAL;
    }
    size_t vl = strlen(verdict);
    for (int k = 1; k < r->n; k++) {
        if (r->fd[k] < 0)
            continue;
        unsigned char v[8];
        put32(v, rc ? 1u : 0u);
        put32(v + 4, (uint32_t)vl);
        const char *why = NULL;
        if ((io_all(r->fd[k], v, sizeof v, 1, deadline + 5, &why) != 0 ||
             io_all(r->fd[k], verdict, vl, 1, deadline + 5, &why) != 0) && !rc)
            rc = link_fail(r, k, "hear that every rank joined", why, err);
    }
    if (rc && verdict[0])
        quant_err_set(err, rc, "%s", verdict);
    return rc;
}

/* Rank k: say hello to rank 0 and wait for its verdict. */
static enum quant_code meet_spoke(struct quant_ranks *r, const struct quant_machines *m,
                                  uint64_t key, uint64_t rows, double deadline,
                                  struct quant_err *err)
{
    r->fd[0] = connect_hub(&m->m[0], deadline);
    if (r->fd[0] < 0)
        return quant_err_set(err, QUANT_ETIMEOUT, "rank %d of %d: rank 0 did not answer at "
                             "%s:%d (its port + 1, quant's channel) within %d s "
                             "(--machines-timeout): start rank 0 too, with the same "
                             "--machines list", r->rank, r->n, m->m[0].host, m->m[0].port + 1,
                             r->timeout_s);
    unsigned char h[HELLO_SIZE];
    put32(h, HELLO_MAGIC);
    put32(h + 4, HELLO_VERSION);
    put32(h + 8, (uint32_t)r->rank);
    put32(h + 12, (uint32_t)r->n);
    put64(h + 16, key);
    put64(h + 24, rows);
    const char *why = NULL;
    unsigned char v[8];
    /* Rank 0 answers once every rank has joined, up to its own time-out. */
    if (io_all(r->fd[0], h, sizeof h, 1, deadline, &why) != 0 ||
        io_all(r->fd[0], v, sizeof v, 0, deadline + 10, &why) != 0)
        return link_fail(r, 0, "hear that every rank joined", why, err);
    uint32_t status = get32(v), vl = get32(v + 4);
    char verdict[VERDICT_MAX];
    if (vl >= sizeof verdict ||
        io_all(r->fd[0], verdict, vl, 0, deadline + 10, &why) != 0)
        return link_fail(r, 0, "hear that every rank joined", why ? why : "closed", err);
    verdict[vl] = '\0';
    if (status != 0)
        return quant_err_set(err, QUANT_EINVAL, "rank 0 stopped the run: %s", verdict);
    return QUANT_OK;
}

/*
 * 0 when LightGBM will be able to listen on port: it binds every address
 * without SO_REUSEADDR, and a rank that fails to bind after the meeting
 * would leave the others retrying for two minutes and then going on without
 * a link to it (ranks.h).  Checked before meeting, so this rank stops at
 * once (the others then time out naming it).
 */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons((uint16_t)port);
    int rc = bind(fd, (const struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

enum quant_code quant_ranks_meet(const struct quant_machines *m, int rank, int timeout_s,
                                 uint64_t key, uint64_t rows, struct quant_ranks **out,
                                 struct quant_err *err)
{
    *out = NULL;
    if (m->n < 2 || m->n > QUANT_MACHINES_MAX || rank < 0 || (size_t)rank >= m->n ||
        timeout_s < 1)
        return quant_err_set(err, QUANT_EINVAL, "rank %d of %zu machines (time-out %d s) is "
                             "not a pooled training across machines", rank, m->n, timeout_s);
    if (port_free(m->m[rank].port) != 0)
        return quant_err_set(err, QUANT_ENET, "rank %d of %zu: port %d (this rank's in "
                             "--machines, for LightGBM) cannot be taken on this machine: %s; "
                             "free it or list another port for this rank on every rank",
                             rank, m->n, m->m[rank].port, strerror(errno));
    struct quant_ranks *r = calloc(1, sizeof *r);
    if (!r)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    r->rank = rank;
    r->n = (int)m->n;
    r->timeout_s = timeout_s;
    for (int k = 0; k < QUANT_MACHINES_MAX; k++)
        r->fd[k] = -1;
    for (int k = 0; k < r->n; k++)
        snprintf(r->where[k], sizeof r->where[k], "%s:%d", m->m[k].host, m->m[k].port);
    double deadline = quant_clock_mono() + timeout_s;
    enum quant_code rc = rank == 0 ? meet_hub(r, m, key, rows, deadline, err)
                                   : meet_spoke(r, m, key, rows, deadline, err);
    if (rc) {
        quant_ranks_close(r);
        return rc;
    }
    *out = r;
    return QUANT_OK;
}

int quant_ranks_rank(const struct quant_ranks *r) { return r->rank; }
int quant_ranks_count(const struct quant_ranks *r) { return r->n; }

enum quant_code quant_ranks_sum(struct quant_ranks *r, double *v, size_t n,
                                struct quant_err *err)
{
    unsigned char *b = malloc(n ? n * 8 : 1);
    double *total = calloc(n ? n : 1, sizeof *total);
    enum quant_code rc = b && total ? QUANT_OK
                                    : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    double deadline = quant_clock_mono() + r->timeout_s;
    const char *why = NULL;
    if (!rc && r->rank != 0) {
        for (size_t i = 0; i < n; i++) {
            uint64_t bits;
            memcpy(&bits, &v[i], 8);
            put64(b + 8 * i, bits);
        }
        if (io_all(r->fd[0], b, n * 8, 1, deadline, &why) != 0 ||
            io_all(r->fd[0], b, n * 8, 0, deadline, &why) != 0)
            rc = link_fail(r, 0, "send the round's sums", why, err);
    } else if (!rc) {
        memcpy(total, v, n * sizeof *v);
        for (int k = 1; k < r->n && !rc; k++) {
            if (io_all(r->fd[k], b, n * 8, 0, deadline, &why) != 0) {
                rc = link_fail(r, k, "send its round's sums", why, err);
                break;
            }
            for (size_t i = 0; i < n; i++) {
                uint64_t bits = get64(b + 8 * i);
                double x;
                memcpy(&x, &bits, 8);
                total[i] += x;
            }
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t bits;
            memcpy(&bits, &total[i], 8);
            put64(b + 8 * i, bits);
        }
        for (int k = 1; k < r->n && !rc; k++)
            if (io_all(r->fd[k], b, n * 8, 1, deadline, &why) != 0)
                rc = link_fail(r, k, "hear the round's sums", why, err);
    }
    if (!rc)
        for (size_t i = 0; i < n; i++) {
            uint64_t bits = get64(b + 8 * i);
            memcpy(&v[i], &bits, 8);
        }
    free(b);
    free(total);
    return rc;
}

enum quant_code quant_ranks_gather(struct quant_ranks *r, const void *buf, size_t len,
                                   void ***out_bufs, size_t **out_lens, struct quant_err *err)
{
    *out_bufs = NULL;
    *out_lens = NULL;
    double deadline = quant_clock_mono() + r->timeout_s;
    const char *why = NULL;
    unsigned char hdr[8];
    if (r->rank != 0) {
        put64(hdr, (uint64_t)len);
        if (io_all(r->fd[0], hdr, 8, 1, deadline, &why) != 0 ||
            io_all(r->fd[0], (void *)(uintptr_t)buf, len, 1, deadline, &why) != 0)
            return link_fail(r, 0, "take this rank's results", why, err);
        return QUANT_OK;
    }
    void **bufs = calloc((size_t)r->n, sizeof *bufs);
    size_t *lens = calloc((size_t)r->n, sizeof *lens);
    enum quant_code rc = bufs && lens ? QUANT_OK
                                      : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (int k = 0; k < r->n && !rc; k++) {
        uint64_t l = len;
        if (k > 0) {
            if (io_all(r->fd[k], hdr, 8, 0, deadline, &why) != 0) {
                rc = link_fail(r, k, "send its results", why, err);
                break;
            }
            l = get64(hdr);
        }
        if (l > ((uint64_t)1 << 36)) {
            rc = quant_err_set(err, QUANT_ETOOBIG, "rank %d sent %llu bytes of results; "
                               "is it the same version of quant?", k, (unsigned long long)l);
            break;
        }
        bufs[k] = malloc(l ? (size_t)l : 1);
        lens[k] = (size_t)l;
        if (!bufs[k])
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory gathering rank %d's results",
                               k);
        else if (k == 0)
            memcpy(bufs[k], buf, len);
        else if (io_all(r->fd[k], bufs[k], (size_t)l, 0, deadline, &why) != 0)
            rc = link_fail(r, k, "send its results", why, err);
    }
    if (rc) {
        quant_ranks_gathered_free(bufs, lens, r->n);
        return rc;
    }
    *out_bufs = bufs;
    *out_lens = lens;
    return QUANT_OK;
}

void quant_ranks_gathered_free(void **bufs, size_t *lens, int n)
{
    for (int k = 0; bufs && k < n; k++)
        free(bufs[k]);
    free(bufs);
    free(lens);
}

/* Which rank a link leads to: on rank 0, link k is rank k's; elsewhere the
 * one link is rank 0's. */
static int peer_of(const struct quant_ranks *r, int k) { return r->rank == 0 ? k : 0; }

static void *watch_main(void *arg)
{
    struct quant_ranks *r = arg;
    struct pollfd p[QUANT_MACHINES_MAX + 1];
    int link[QUANT_MACHINES_MAX + 1];
    nfds_t n = 0;
    p[n++] = (struct pollfd){r->stop[0], POLLIN, 0};
    for (int k = 0; k < QUANT_MACHINES_MAX; k++)
        if (r->fd[k] >= 0) {
            link[n] = k;
            /* POLLRDHUP alone: data arriving (the round's sums, which the
             * training thread reads) does not wake the watcher. */
            p[n++] = (struct pollfd){r->fd[k], POLLRDHUP, 0};
        }
    for (;;) {
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (p[0].revents)
            return NULL;
        for (nfds_t i = 1; i < n; i++) {
            if (!(p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)))
                continue;
            char c;
            if (recv(p[i].fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
                /* It sent something first: it ended normally, or the
                 * training thread will find out when it answers. */
                p[i].fd = -1;
                continue;
            }
            int peer = peer_of(r, link[i]);
            char why[256];
            snprintf(why, sizeof why,
                     "rank %d (%s) closed its link in the middle of training: it failed or "
                     "was killed (see its own output). The other ranks cannot finish without "
                     "it; start every rank again",
                     peer, r->where[peer]);
            r->lost(r->lost_ctx, why);
            return NULL;
        }
    }
}

int quant_ranks_watch(struct quant_ranks *r, void (*lost)(void *ctx, const char *why),
                      void *ctx)
{
    if (r->watching || !lost || pipe(r->stop) != 0)
        return -1;
    /* A peer whose host vanishes (power, network) sends no FIN or RST: TCP
     * keepalive probes then fail the link after about 30 s (10 s idle, 4
     * probes 5 s apart), which the watcher sees.  LightGBM's own sockets
     * have no such probe. */
    for (int k = 0; k < QUANT_MACHINES_MAX; k++) {
        if (r->fd[k] < 0)
            continue;
        int on = 1, idle = 10, intvl = 5, cnt = 4;
        setsockopt(r->fd[k], SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        setsockopt(r->fd[k], IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(r->fd[k], IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(r->fd[k], IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
    r->lost = lost;
    r->lost_ctx = ctx;
    if (pthread_create(&r->watcher, NULL, watch_main, r) != 0) {
        close(r->stop[0]);
        close(r->stop[1]);
        return -1;
    }
    r->watching = 1;
    return 0;
}

void quant_ranks_unwatch(struct quant_ranks *r)
{
    if (!r || !r->watching)
        return;
    ssize_t w = write(r->stop[1], "x", 1);
    (void)w;
    pthread_join(r->watcher, NULL);
    close(r->stop[0]);
    close(r->stop[1]);
    r->watching = 0;
}

void quant_ranks_close(struct quant_ranks *r)
{
    if (!r)
        return;
    quant_ranks_unwatch(r);
    for (int k = 0; k < QUANT_MACHINES_MAX; k++)
        if (r->fd[k] >= 0)
            close(r->fd[k]);
    free(r);
}
