/*
 * test_train_distributed_e2e.c: a pooled model trained across machines
 * (`quant train --pooled --machines ... --rank i`), two ranks on 127.0.0.1
 * as two real processes, each in its own home holding the same synthetic
 * bars (as two machines would) and loading only its share of the symbols.
 *
 * What must hold: both ranks exit 0; only rank 0 registers a model, and
 * rank 1 reports the same model fingerprint (the trees are LightGBM's
 * data-parallel result, the same on every rank); the model's first tree's
 * root counts the train rows of both shares, which is the row count of a
 * single-process pooled model on the same symbols and more than either
 * share alone (proof that LightGBM did not train each rank alone, which it
 * does silently when num_machines is missing); the registered metrics cover
 * every rank's test rows and are close to the single-process model's.  And a
 * rank whose peer never comes fails within its --machines-timeout, saying
 * which rank is missing, instead of waiting forever; a bad machine list is a
 * usage error.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_HOMES 3   /* rank 0, rank 1, the single-process run */
static char home[N_HOMES][PATH_MAX];
static char env_home[N_HOMES][PATH_MAX + 16];

static void run_in(int h, const char *const *argv, struct tu_result *r)
{
    tu_run_quant(argv, (const char *const[]){env_home[h], NULL}, r);
}

static int setup(void **state)
{
    (void)state;
    for (int h = 0; h < N_HOMES; h++) {
        tu_mkdtemp(home[h]);
        snprintf(env_home[h], sizeof env_home[h], "QUANT_HOME=%s", home[h]);
        struct tu_result r;
        run_in(h, (const char *const[]){"ingest", "--provider", "synthetic", "--days", "1500",
                                        "--symbols", "AAA", "BBB", "CCC", "DDD", NULL},
               &r);
        if (r.status != 0)
            fail_msg("ingest exited %d: %s", r.status, r.err);
        tu_result_release(&r);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int h = 0; h < N_HOMES; h++)
        if (home[h][0])
            tu_rmrf(home[h]);
    return 0;
}

/* A socket bound to port (0: any) on every address, as LightGBM binds; -1 if taken. */
static int bind_any(int port, int *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *out_port = ntohs(a.sin_port);
    return fd;
}

/*
 * Two free ports for the ranks, with rank 0's port + 1 free too (quant's
 * channel): the kernel picks them (port 0), they are held together so they
 * differ, then released for quant to take.
 */
static void free_ports(int *p0, int *p1)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int a = -1, b = -1, c = -1, pa = 0, pb = 0, pc = 0;
        a = bind_any(0, &pa);
        if (a >= 0 && pa < 65534)
            b = bind_any(pa + 1, &pb);
        if (b >= 0)
            c = bind_any(0, &pc);
        if (a >= 0)
            close(a);
        if (b >= 0)
            close(b);
        if (c >= 0)
            close(c);
        if (a >= 0 && b >= 0 && c >= 0) {
            *p0 = pa;
            *p1 = pc;
            return;
        }
    }
    fail_msg("no two free ports on 127.0.0.1");
}

/* The one model registered in home h (NULL when none; fails on more). */
static cJSON *models_of(int h)
{
    struct tu_result r;
    run_in(h, (const char *const[]){"models", "list", "--json", NULL}, &r);
    if (r.status != 0)
        fail_msg("models list exited %d: %s", r.status, r.err);
    cJSON *list = cJSON_Parse(r.out);
    tu_result_release(&r);
    assert_non_null(list);
    return list;
}

static double metric(const cJSON *model, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(model, "metrics"), name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* internal_count of the root of tree 0 in a LightGBM text model. */
static long root_count(const char *path)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    const char *t0 = strstr(text, "\nTree=0\n");
    assert_non_null(t0);
    const char *ic = strstr(t0, "\ninternal_count=");
    assert_non_null(ic);
    long n = strtol(ic + strlen("\ninternal_count="), NULL, 10);
    free(text);
    return n;
}

/* The "(model XXXX)" fingerprint a rank printed. */
static void fingerprint_in(const char *out, char fp[17])
{
    const char *p = strstr(out, "(model ");
    if (!p)
        fail_msg("no model fingerprint in: %s", out);
    assert_int_equal(sscanf(p, "(model %16[0-9a-f])", fp), 1);
}

/* Train rows of the symbols in `share` per the model's segments (`models show`). */
static long train_rows(int h, const cJSON *model, const char *const *share, size_t n)
{
    struct tu_result r;
    run_in(h, (const char *const[]){"models", "show",
                                    cJSON_GetObjectItem(model, "id")->valuestring, NULL},
           &r);
    assert_int_equal(r.status, 0);
    const char *at = strstr(r.out, "\nsegments: ");
    assert_non_null(at);
    cJSON *seg = cJSON_Parse(at + strlen("\nsegments: "));
    tu_result_release(&r);
    assert_non_null(seg);
    long sum = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetObjectItem(seg, share[i]);
        assert_non_null(s);
        sum += (long)cJSON_GetObjectItem(s, "n_train")->valuedouble;
    }
    cJSON_Delete(seg);
    return sum;
}

static void test_two_ranks_train_one_model(void **state)
{
    (void)state;
    int p0 = 0, p1 = 0;
    free_ports(&p0, &p1);
    char machines[64];
    snprintf(machines, sizeof machines, "127.0.0.1:%d,127.0.0.1:%d", p0, p1);
    char out[2][PATH_MAX + 16], err[2][PATH_MAX + 16];
    pid_t pid[2];
    double t0 = tu_now_ms();
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/rank.out", home[k]);
        snprintf(err[k], sizeof err[k], "%s/rank.err", home[k]);
        /* Early stopping on: the ranks must agree each round on the valid
         * loss of every rank's rows, or they would stop apart and hang. */
        pid[k] = tu_spawn_quant_to(
            (const char *const[]){"train", "--pooled", "--machines", machines, "--rank",
                                  k ? "1" : "0", "--rounds", "40", "--early-stopping", "5",
                                  "--threads", "1", "--machines-timeout", "60", "--symbols",
                                  "AAA", "BBB", "CCC", "DDD", NULL},
            (const char *const[]){env_home[k], NULL}, out[k], err[k]);
    }
    int status[2] = {tu_wait(pid[0]), tu_wait(pid[1])};
    double ms = tu_now_ms() - t0;
    char *o[2], *e[2];
    for (int k = 0; k < 2; k++) {
        o[k] = tu_read_file(out[k], NULL);
        e[k] = tu_read_file(err[k], NULL);
        assert_non_null(o[k]);
        assert_non_null(e[k]);
    }
    print_message("two ranks trained in %.0f ms\n", ms);
    for (int k = 0; k < 2; k++)
        if (status[k] != 0)
            fail_msg("rank %d exited %d\nstdout: %s\nstderr: %s", k, status[k], o[k], e[k]);
    assert_non_null(strstr(o[1], "rank 1 of 2"));
    assert_non_null(strstr(o[0], "saved and registered"));
    assert_null(strstr(o[1], "saved and registered"));
    char fp0[17], fp1[17];
    fingerprint_in(o[0], fp0);
    fingerprint_in(o[1], fp1);
    assert_string_equal(fp0, fp1);

    /* Exactly one model, in rank 0's home. */
    cJSON *l0 = models_of(0), *l1 = models_of(1);
    assert_int_equal(cJSON_GetArraySize(l0), 1);
    assert_int_equal(cJSON_GetArraySize(l1), 0);
    const cJSON *dist = cJSON_GetArrayItem(l0, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(dist, "symbols")), 4);

    /* The same symbols in one process. */
    struct tu_result r;
    run_in(2, (const char *const[]){"train", "--pooled", "--rounds", "40", "--early-stopping",
                                    "5", "--threads", "1", "--symbols", "AAA", "BBB", "CCC",
                                    "DDD", NULL},
           &r);
    if (r.status != 0)
        fail_msg("single-process train exited %d: %s", r.status, r.err);
    tu_result_release(&r);
    cJSON *l2 = models_of(2);
    assert_int_equal(cJSON_GetArraySize(l2), 1);
    const cJSON *single = cJSON_GetArrayItem(l2, 0);

    /* Symbol i of the sorted list goes to rank i mod 2. */
    const char *const share0[] = {"AAA", "CCC"}, *const share1[] = {"BBB", "DDD"};
    long n0 = train_rows(0, dist, share0, 2), n1 = train_rows(0, dist, share1, 2);
    long root = root_count(cJSON_GetObjectItem(dist, "path")->valuestring);
    print_message("root of tree 0: %ld rows; shares %ld + %ld; single process %g\n", root, n0,
                  n1, metric(single, "n_train"));
    assert_true(n0 > 0 && n1 > 0);
    assert_int_equal(root, n0 + n1);
    assert_int_equal(root, (long)metric(single, "n_train"));
    assert_int_equal(root, root_count(cJSON_GetObjectItem(single, "path")->valuestring));
    /* The metrics are over both ranks' test rows, as the single model's. */
    assert_int_equal((long)metric(dist, "n_test"), (long)metric(single, "n_test"));
    assert_int_equal((long)metric(dist, "n_valid"), (long)metric(single, "n_valid"));
    double auc_d = metric(dist, "auc"), auc_s = metric(single, "auc");
    print_message("AUC across machines %.4f, in one process %.4f\n", auc_d, auc_s);
    /* Not the same model bit for bit: the data-parallel learner builds each
     * feature's bins on one rank's sample, so split thresholds differ a
     * little.  Both are scored on the same ~1,150 test rows, where a whole
     * model's AUC has a standard error of about 0.017; two nearly equal
     * models differ far less (0.006 measured), so 0.02 catches a model
     * trained on one share or on nothing while allowing the binning. */
    assert_true(fabs(auc_d - auc_s) <= 0.02);
    assert_true(fabs(metric(dist, "logloss") - metric(single, "logloss")) <= 0.01);
    cJSON_Delete(l0);
    cJSON_Delete(l1);
    cJSON_Delete(l2);
    for (int k = 0; k < 2; k++) {
        free(o[k]);
        free(e[k]);
    }
}

/*
 * LightGBM's voting learner, the machine list from a file: both ranks
 * train, rank 0 registers one more model, whose first root still counts
 * every train row of both shares.
 */
static void test_voting_learner_from_a_machine_file(void **state)
{
    (void)state;
    int p0 = 0, p1 = 0;
    free_ports(&p0, &p1);
    char list[PATH_MAX + 16], text[96], at[PATH_MAX + 16];
    snprintf(list, sizeof list, "%s/machines.txt", home[2]);
    snprintf(text, sizeof text, "# rank 0, then rank 1\n127.0.0.1:%d\n127.0.0.1:%d\n", p0, p1);
    tu_write_file(list, text);
    snprintf(at, sizeof at, "@%s", list);
    cJSON *before = models_of(0);
    int n_before = cJSON_GetArraySize(before);
    cJSON_Delete(before);
    char list_err[PATH_MAX + 16];
    snprintf(list_err, sizeof list_err, "%s/voting.err", home[2]);
    pid_t pid[2];
    for (int k = 0; k < 2; k++)
        pid[k] = tu_spawn_quant_to(
            (const char *const[]){"train", "--pooled", "--machines", at, "--rank", k ? "1" : "0",
                                  "--param", "tree_learner=voting", "--rounds", "10",
                                  "--threads", "1", "--machines-timeout", "60", "--symbols",
                                  "AAA", "BBB", "CCC", "DDD", NULL},
            (const char *const[]){env_home[k], NULL}, NULL, k ? NULL : list_err);
    int s0 = tu_wait(pid[0]), s1 = tu_wait(pid[1]);
    if (s0 != 0 || s1 != 0) {
        char *e = tu_read_file(list_err, NULL);
        fail_msg("ranks exited %d and %d; rank 0 said: %s", s0, s1, e);
    }
    cJSON *l0 = models_of(0), *l1 = models_of(1);
    assert_int_equal(cJSON_GetArraySize(l0), n_before + 1);
    assert_int_equal(cJSON_GetArraySize(l1), 0);
    const cJSON *newest = cJSON_GetArrayItem(l0, 0);   /* newest first */
    const char *path = cJSON_GetObjectItem(newest, "path")->valuestring;
    char *model = tu_read_file(path, NULL);
    assert_non_null(strstr(model, "[tree_learner: voting]"));
    free(model);
    assert_int_equal(root_count(path), (long)metric(newest, "n_train"));
    const char *const all[] = {"AAA", "BBB", "CCC", "DDD"};
    assert_int_equal(root_count(path), train_rows(0, newest, all, 4));
    cJSON_Delete(l0);
    cJSON_Delete(l1);
}

/* Rank `rank` alone: it must give up after its time-out, saying who is missing. */
static void lone_rank(int rank, const char *expect)
{
    int p0 = 0, p1 = 0;
    free_ports(&p0, &p1);
    char machines[64];
    snprintf(machines, sizeof machines, "127.0.0.1:%d,127.0.0.1:%d", p0, p1);
    double t0 = tu_now_ms();
    struct tu_result r;
    run_in(rank, (const char *const[]){"train", "--pooled", "--machines", machines, "--rank",
                                       rank ? "1" : "0", "--rounds", "5", "--threads", "1",
                                       "--machines-timeout", "2", "--symbols", "AAA", "BBB",
                                       NULL},
           &r);
    double ms = tu_now_ms() - t0;
    print_message("rank %d alone gave up after %.0f ms\n", rank, ms);
    assert_int_not_equal(r.status, 0);
    assert_int_not_equal(r.status, 2);   /* not a usage error: a run that timed out */
    if (!strstr(r.err, expect) || !strstr(r.err, "within 2 s"))
        fail_msg("rank %d: expected \"%s\" in: %s", rank, expect, r.err);
    /* 2 s to wait, plus reading the bars and starting up under ASan. */
    assert_true(ms < 30000);
    tu_result_release(&r);
    cJSON *l = models_of(rank);
    assert_int_equal(cJSON_GetArraySize(l), 0);
    cJSON_Delete(l);
}

static void test_lone_rank_times_out(void **state)
{
    (void)state;
    lone_rank(1, "rank 0 did not answer at 127.0.0.1:");
    lone_rank(0, "rank 1 (127.0.0.1:");
}

static void test_bad_machine_lists_are_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[8];
        const char *expect;
    } cases[] = {
        {{"--machines", "127.0.0.1:5000,127.0.0.1:5010", "--rank", "0"}, "add --pooled"},
        {{"--pooled", "--machines", "127.0.0.1:5000,127.0.0.1:5010", "--rank", "2"},
         "use 0 to 1"},
        {{"--pooled", "--machines", "127.0.0.1:5000,127.0.0.1:5000", "--rank", "0"},
         "listed twice"},
        {{"--pooled", "--algo", "xgboost", "--machines", "127.0.0.1:5000,127.0.0.1:5010",
          "--rank", "0"}, "use --algo lightgbm"},
        {{"--pooled", "--machines", "example.com:5000,127.0.0.1:5010", "--rank", "0"},
         "not an IPv4 address"},
        {{"--pooled", "--machines", "127.0.0.1:5000,127.0.0.1:5001", "--rank", "1"},
         "rank 0's port + 1"},
        {{"--pooled", "--machines", "127.0.0.1:5000,127.0.0.1", "--rank", "1"},
         "is not host:port"},
        {{"--pooled", "--machines", "127.0.0.1:5000,127.0.0.1:5010"}, "give this process's --rank"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *argv[16] = {"train", "--symbols", "AAA", "BBB"};
        size_t n = 4;
        for (size_t j = 0; j < 8 && cases[i].args[j]; j++)
            argv[n++] = cases[i].args[j];
        argv[n] = NULL;
        struct tu_result r;
        run_in(0, argv, &r);
        if (r.status != 2 || !strstr(r.err, cases[i].expect))
            fail_msg("case %zu: exit %d, expected 2 and \"%s\" in: %s", i, r.status,
                     cases[i].expect, r.err);
        tu_result_release(&r);
    }
}

/* A rank killed while LightGBM trains: the other ends at once with exit 1,
 * saying why, and registers nothing. */
static void test_a_killed_rank_ends_the_other(void **state)
{
    (void)state;
    int p0 = 0, p1 = 0;
    free_ports(&p0, &p1);
    char machines[64];
    snprintf(machines, sizeof machines, "127.0.0.1:%d,127.0.0.1:%d", p0, p1);
    cJSON *before = models_of(0);
    int n_before = cJSON_GetArraySize(before);
    cJSON_Delete(before);
    char out[2][PATH_MAX + 16], err[2][PATH_MAX + 16];
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/killed.out", home[k]);
        snprintf(err[k], sizeof err[k], "%s/killed.err", home[k]);
        /* far more rounds than the test waits for, never stopping early */
        pid[k] = tu_spawn_quant_to(
            (const char *const[]){"train", "--pooled", "--machines", machines, "--rank",
                                  k ? "1" : "0", "--rounds", "100000", "--early-stopping",
                                  "100000", "--threads", "1", "--machines-timeout", "60",
                                  "--symbols", "AAA", "BBB", "CCC", "DDD", NULL},
            (const char *const[]){env_home[k], NULL}, out[k], err[k]);
    }
    /* LightGBM's network is up once a rank says it listens (after the
     * meeting); give the boosting a moment to start. */
    double t0 = tu_now_ms();
    int up = 0;
    while (!up && tu_now_ms() - t0 < 120000) {
        char *e = tu_read_file(err[1], NULL), *o = tu_read_file(out[1], NULL);
        up = (e && strstr(e, "Listening")) || (o && strstr(o, "Listening"));
        free(e);
        free(o);
        if (!up)
            usleep(100 * 1000);
    }
    assert_true(up);
    usleep(1500 * 1000);
    assert_int_equal(kill(pid[1], SIGKILL), 0);
    double t1 = tu_now_ms();
    int st = tu_wait(pid[0]);
    double ms = tu_now_ms() - t1;
    tu_wait(pid[1]);
    char *e0 = tu_read_file(err[0], NULL);
    print_message("rank 0 ended %.0f ms after rank 1 was killed (exit %d)\n", ms, st);
    /* Whichever sees it first: LightGBM (the killed process's reset reached
     * the socket it was reading) or quant's watch on its own link. */
    assert_int_equal(st, 1);
    if (!e0 || (!strstr(e0, "rank 1 (127.0.0.1:") && !strstr(e0, "Connection reset")))
        fail_msg("rank 0 should say the other rank is gone: %s", e0 ? e0 : "(no stderr)");
    assert_true(ms < 30000);
    free(e0);
    cJSON *l = models_of(0);
    assert_int_equal(cJSON_GetArraySize(l), n_before); /* nothing registered */
    cJSON_Delete(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_machine_lists_are_usage_errors),
        cmocka_unit_test(test_lone_rank_times_out),
        cmocka_unit_test(test_two_ranks_train_one_model),
        cmocka_unit_test(test_voting_learner_from_a_machine_file),
        cmocka_unit_test(test_a_killed_rank_ends_the_other),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
