/*
 * test_ranks.c: quant's channel between the ranks of a training across
 * machines (lib/ml/ranks.h), two or three ranks as threads of this process
 * on 127.0.0.1: they meet, sum each round's numbers to the same total on
 * every rank, gather bytes on rank 0; a rank with other options, or with no
 * rows, stops every rank with one message; a missing rank is a time-out
 * naming it.  And the machine list parser (quant/machines.h).
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ml/ranks.h"
#include "quant/machines.h"

/* A port p with p and p + 1 free on 127.0.0.1 (the channel uses p + 1). */
static int free_port(void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), fd2 = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                 getsockname(fd, (struct sockaddr *)&a, &len) == 0;
        int p = ntohs(a.sin_port);
        a.sin_port = htons((uint16_t)(p + 1));
        ok = ok && p < 65534 && bind(fd2, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        close(fd2);
        if (ok)
            return p;
    }
    fail_msg("no free port pair");
    return -1;
}

static void machines_of(int n, struct quant_machines *m)
{
    char text[256] = "";
    size_t used = 0;
    int base = free_port();
    for (int k = 0; k < n; k++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s127.0.0.1:%d",
                                 k ? "\n" : "", base + 10 * k);
    struct quant_err err;
    assert_int_equal(quant_machines_parse(text, m, &err), QUANT_OK);
    assert_int_equal(m->n, (size_t)n);
}

struct rank_run {
    const struct quant_machines *m;
    int rank, timeout;
    uint64_t key, rows;
    enum quant_code meet, sum, gather;
    double v[2];
    char msg[QUANT_ERR_MSG_MAX];
    size_t got[3];          /* rank 0: bytes gathered from each rank */
    char first[3];          /* rank 0: each rank's first byte */
};

static void *run_rank(void *p)
{
    struct rank_run *r = p;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_ranks *ch = NULL;
    r->meet = quant_ranks_meet(r->m, r->rank, r->timeout, r->key, r->rows, &ch, &err);
    snprintf(r->msg, sizeof r->msg, "%s", err.msg);
    if (r->meet)
        return NULL;
    /* A value with no exact binary sum, to see every rank get the same bits. */
    r->v[0] = 0.1 * (r->rank + 1);
    r->v[1] = r->rank + 1;
    r->sum = quant_ranks_sum(ch, r->v, 2, &err);
    char bytes[64];
    memset(bytes, 'a' + r->rank, sizeof bytes);
    void **bufs = NULL;
    size_t *lens = NULL;
    r->gather = quant_ranks_gather(ch, bytes, (size_t)(10 + r->rank), &bufs, &lens, &err);
    for (int k = 0; bufs && k < quant_ranks_count(ch); k++) {
        r->got[k] = lens[k];
        r->first[k] = ((char *)bufs[k])[0];
    }
    quant_ranks_gathered_free(bufs, lens, quant_ranks_count(ch));
    quant_ranks_close(ch);
    return NULL;
}

static void run_all(struct rank_run *runs, int n)
{
    pthread_t t[3];
    for (int k = 0; k < n; k++)
        assert_int_equal(pthread_create(&t[k], NULL, run_rank, &runs[k]), 0);
    for (int k = 0; k < n; k++)
        pthread_join(t[k], NULL);
}

static void test_three_ranks_meet_sum_and_gather(void **state)
{
    (void)state;
    struct quant_machines m;
    machines_of(3, &m);
    struct rank_run runs[3];
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < 3; k++)
        runs[k] = (struct rank_run){.m = &m, .rank = k, .timeout = 20, .key = 7, .rows = 5};
    run_all(runs, 3);
    for (int k = 0; k < 3; k++) {
        if (runs[k].meet || runs[k].sum || runs[k].gather)
            fail_msg("rank %d: %s", k, runs[k].msg);
        assert_true(runs[k].v[0] == runs[0].v[0]);   /* the same bits on every rank */
        assert_true(runs[k].v[0] > 0.59 && runs[k].v[0] < 0.61);
        assert_true(runs[k].v[1] == 6.0);
    }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(runs[0].got[k], 10 + k);
        assert_int_equal(runs[0].first[k], 'a' + k);
    }
    assert_int_equal(runs[1].got[0], 0);   /* only rank 0 gathers */
}

static void test_disagreement_stops_every_rank(void **state)
{
    (void)state;
    struct quant_machines m;
    machines_of(2, &m);
    struct rank_run runs[2] = {
        {.m = &m, .rank = 0, .timeout = 20, .key = 7, .rows = 5},
        {.m = &m, .rank = 1, .timeout = 20, .key = 8, .rows = 5},
    };
    run_all(runs, 2);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(runs[k].meet, QUANT_EINVAL);
        assert_non_null(strstr(runs[k].msg, "other training options"));
    }
    /* A rank with nothing to train on. */
    machines_of(2, &m);
    runs[1].key = 7;
    runs[1].rows = 0;
    run_all(runs, 2);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(runs[k].meet, QUANT_EINVAL);
        assert_non_null(strstr(runs[k].msg, "rank 1 has no training rows"));
    }
}

static void test_missing_rank_times_out(void **state)
{
    (void)state;
    struct quant_machines m;
    machines_of(3, &m);
    /* Ranks 0 and 1 come, rank 2 never does. */
    struct rank_run runs[2] = {
        {.m = &m, .rank = 0, .timeout = 1, .key = 7, .rows = 5},
        {.m = &m, .rank = 1, .timeout = 1, .key = 7, .rows = 5},
    };
    double t0 = tu_now_ms();
    run_all(runs, 2);
    double ms = tu_now_ms() - t0;
    assert_true(ms < 15000);
    assert_int_equal(runs[0].meet, QUANT_ETIMEOUT);
    assert_non_null(strstr(runs[0].msg, "rank 2 (127.0.0.1:"));
    assert_non_null(strstr(runs[0].msg, "did not join within 1 s"));
    /* Rank 1 hears rank 0's verdict, or times out itself: either names why. */
    assert_int_not_equal(runs[1].meet, QUANT_OK);
    assert_non_null(strstr(runs[1].msg, "within 1 s"));
}

static void test_taken_port_stops_the_rank(void **state)
{
    (void)state;
    struct quant_machines m;
    machines_of(2, &m);
    /* Someone else listens on rank 1's port (as LightGBM would need it). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)m.m[1].port);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    struct quant_ranks *ch = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    double t0 = tu_now_ms();
    assert_int_equal(quant_ranks_meet(&m, 1, 20, 7, 5, &ch, &err), QUANT_ENET);
    assert_true(tu_now_ms() - t0 < 1000);   /* at once, not after the time-out */
    assert_null(ch);
    assert_non_null(strstr(err.msg, "cannot be taken on this machine"));
    close(fd);
}

static void test_machine_lists(void **state)
{
    (void)state;
    struct quant_machines m;
    struct quant_err err;
    const char *file = "# ranks, in order\n10.0.0.5:12400\n\n 10.0.0.6:12400 \n";
    assert_int_equal(quant_machines_parse(file, &m, &err), QUANT_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.m[1].host, "10.0.0.6");
    assert_int_equal(m.m[1].port, 12400);
    char out[64];
    assert_int_equal(quant_machines_format(&m, out, sizeof out), 0);
    assert_string_equal(out, "10.0.0.5:12400,10.0.0.6:12400");
    assert_int_equal(quant_machines_format(&m, out, 10), -1);
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"127.0.0.1:1", "at least 2"},
        {"", "at least 2"},
        {"127.0.0.1:1,127.0.0.1:1", "listed twice"},
        {"127.0.0.1:1,127.0.0.1:2", "rank 0's port + 1"},
        {"host:1,127.0.0.1:5", "not an IPv4 address"},
        {"0.0.0.0:1,127.0.0.1:5", "not one machine's address"},
        {"224.0.0.1:1,127.0.0.1:5", "not one machine's address"},
        {"127.0.0.1:0,127.0.0.1:5", "from 1 to 65534"},
        {"127.0.0.1:65535,127.0.0.1:5", "from 1 to 65534"},
        {"127.0.0.1:+5,127.0.0.1:9", "from 1 to 65534"},
        {"127.0.0.1,127.0.0.1:5", "not host:port"},
        {":5,127.0.0.1:9", "not host:port"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        quant_err_clear(&err);
        if (quant_machines_parse(bad[i].text, &m, &err) != QUANT_EINVAL ||
            !strstr(err.msg, bad[i].expect))
            fail_msg("'%s': expected \"%s\", got \"%s\"", bad[i].text, bad[i].expect, err.msg);
    }
    /* rank 0's port + 1 on another host is that host's business. */
    assert_int_equal(quant_machines_parse("127.0.0.1:1,127.0.0.2:2", &m, &err), QUANT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine_lists),
        cmocka_unit_test(test_three_ranks_meet_sum_and_gather),
        cmocka_unit_test(test_disagreement_stops_every_rank),
        cmocka_unit_test(test_missing_rank_times_out),
        cmocka_unit_test(test_taken_port_stops_the_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
