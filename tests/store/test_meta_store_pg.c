/*
 * test_meta_store_pg.c: the metadata store on PostgreSQL.  A throwaway
 * cluster (tests/support/pg_cluster.h) on 127.0.0.1, a fresh database per
 * case: every case of meta_store_cases.c, then what only a server shows:
 * four writer processes at once (nothing lost, nothing duplicated), a
 * password in the URL that no message repeats, and the CLI (init-db, a
 * write, a read) on a postgresql:// URL.
 *
 * Without PostgreSQL the test reports SKIPPED (exit 77) with the reason;
 * under CI=true it fails instead.
 */
#define CASES_ON_PG 1
#include "meta_store_cases.c"

#include <sys/wait.h>

#include "pg_cluster.h"

static struct tu_pg cluster;
static int db_seq;

static int case_setup(void **state)
{
    int rc = tu_scratch_setup(state);
    char name[32];
    snprintf(name, sizeof name, "case_%d", ++db_seq);
    if (tu_pg_create_db(&cluster, name, meta_url, sizeof meta_url) != 0) {
        print_error("creating database %s: %s\n", name, meta_url);
        return -1;
    }
    return rc;
}

static int case_teardown(void **state) { return tu_scratch_teardown(state); }

/* ---- four writers at once ------------------------------------------------------ */

#define WRITERS 4
#define ROUNDS 20

/* One writer process: for every round, register the shared symbol of the
 * round (all writers race for the same 20), record an ingest run, register
 * a model of its own, count a request, and read the whole registry.
 * Returns how many symbols it was the one to create, or -1. */
static int writer(int w)
{
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    if (quant_meta_store_open(meta_url, 60000, &m, &err) != QUANT_OK) {
        fprintf(stderr, "writer %d: open: %s\n", w, err.msg);
        return -1;
    }
    int created_total = 0;
    int32_t day = quant_days_from_civil(2026, 11, 24);
    for (int j = 0; j < ROUNDS; j++) {
        struct quant_symbol_info info = {0};
        snprintf(info.symbol, sizeof info.symbol, "S%02d", j);
        snprintf(info.name, sizeof info.name, "written by %d", w);
        int created = 0;
        int64_t id = 0;
        struct quant_model_record r = {0};
        snprintf(r.id, sizeof r.id, "m_w%d_%02d", w, j);
        snprintf(r.algorithm, sizeof r.algorithm, "lightgbm");
        snprintf(r.feature_set, sizeof r.feature_set, "tech-v1");
        r.horizon = 5;
        char symbols[32];
        snprintf(symbols, sizeof symbols, "[\"S%02d\"]", j);
        r.params_json = r.metrics_json = r.segments_json = "{}";
        r.feature_names_json = "[\"ret_1\"]";
        r.symbols_json = symbols;
        snprintf(r.fingerprint, sizeof r.fingerprint, "fp");
        snprintf(r.path, sizeof r.path, "/models/%s.txt", r.id);
        struct quant_model_record *list = NULL;
        size_t n = 0;
        if (quant_meta_symbol_upsert(m, &info, &created, &err) ||
            quant_meta_run_begin(m, info.symbol, "csv", &id, &err) ||
            quant_meta_run_finish(m, id, "ok", j, NULL, &err) ||
            quant_meta_model_insert(m, &r, &err) ||
            quant_meta_ledger_add(m, day, "shared-key", 1, &err) ||
            quant_meta_model_list(m, NULL, &list, &n, &err)) {
            fprintf(stderr, "writer %d round %d: %s\n", w, j, err.msg);
            quant_meta_store_close(m);
            return -1;
        }
        /* a reader sees at least this writer's own models, each whole */
        int ok = n >= (size_t)j + 1;
        for (size_t i = 0; i < n; i++) {
            ok = ok && list[i].id[0] && list[i].symbols_json[0] == '[';
            quant_model_record_release(&list[i]);
        }
        free(list);
        if (!ok) {
            fprintf(stderr, "writer %d round %d: the registry read back wrong\n", w, j);
            quant_meta_store_close(m);
            return -1;
        }
        created_total += created;
    }
    quant_meta_store_close(m);
    return created_total;
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    /* The schema first, so the writers race on rows, not on the migration
     * (that race has its own answer: the migration's write lock). */
    quant_meta_store_close(open_ok());
    int go[2], result[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(result), 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(go[1]);
            char c;
            (void)!read(go[0], &c, 1); /* all start when the parent closes the pipe */
            int created = writer(w);
            unsigned char b = created < 0 ? 255 : (unsigned char)created;
            (void)!write(result[1], &b, 1);
            _exit(created < 0 ? 1 : 0);
        }
    }
    close(go[0]);
    close(go[1]);
    close(result[1]);
    int created_sum = 0, reports = 0;
    for (int w = 0; w < WRITERS; w++) {
        int st;
        assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    unsigned char b;
    while (read(result[0], &b, 1) == 1) {
        created_sum += b;
        reports++;
    }
    close(result[0]);
    assert_int_equal(reports, WRITERS);
    /* every shared symbol was created by exactly one writer */
    assert_int_equal(created_sum, ROUNDS);

    struct quant_meta_store *m = open_ok();
    struct quant_err err;
    struct quant_symbol_record *syms = NULL;
    size_t n = 0;
    assert_int_equal(quant_meta_symbol_list(m, 0, &syms, &n, &err), QUANT_OK);
    assert_int_equal(n, ROUNDS);
    free(syms);
    struct quant_model_record *models = NULL;
    assert_int_equal(quant_meta_model_list(m, NULL, &models, &n, &err), QUANT_OK);
    assert_int_equal(n, WRITERS * ROUNDS);
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&models[i]);
    free(models);
    long requests = 0;
    assert_int_equal(quant_meta_ledger_get(m, quant_days_from_civil(2026, 11, 24), "shared-key",
                                           &requests, &err),
                     QUANT_OK);
    assert_int_equal(requests, WRITERS * ROUNDS);
    quant_meta_store_close(m);
    assert_int_equal(raw_long("SELECT count(DISTINCT id) FROM models", NULL), WRITERS * ROUNDS);
    assert_int_equal(raw_long("SELECT count(*) FROM ingest_runs WHERE status = 'ok'", NULL),
                     WRITERS * ROUNDS);
    assert_int_equal(raw_long("SELECT count(DISTINCT id) FROM ingest_runs", NULL),
                     WRITERS * ROUNDS);
    assert_int_equal(raw_long("SELECT count(DISTINCT rowid) FROM models", NULL),
                     WRITERS * ROUNDS);
}

/* ---- a password in the URL ------------------------------------------------------- */

static void test_password_never_in_messages(void **state)
{
    (void)state;
    const char *secret = "Hunter2Secret99";
    /* trust authentication ignores the password, so the right database opens */
    char url[PATH_MAX + 128];
    snprintf(url, sizeof url, "postgresql://quant:%s@127.0.0.1:%d/case_%d", secret,
             cluster.port, db_seq);
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    assert_int_equal(quant_meta_store_open(url, 2000, &m, &err), QUANT_OK);
    assert_string_equal(quant_meta_store_backend(m), "PostgreSQL");
    quant_meta_store_close(m);
    /* and a wrong one fails with a message naming the URL masked */
    snprintf(url, sizeof url, "postgresql://quant:%s@127.0.0.1:%d/no_such_db", secret,
             cluster.port);
    assert_int_equal(quant_meta_store_open(url, 2000, &m, &err), QUANT_ESTORE);
    assert_null(m);
    assert_null(strstr(err.msg, secret));
    assert_non_null(strstr(err.msg, "quant:****@127.0.0.1"));
    assert_non_null(strstr(err.msg, "no_such_db"));
    /* a closed port: the same, and no wait longer than the timeout */
    snprintf(url, sizeof url, "postgresql://quant:%s@127.0.0.1:1/x?sslmode=disable", secret);
    assert_int_equal(quant_meta_store_open(url, 2000, &m, &err), QUANT_ESTORE);
    assert_null(strstr(err.msg, secret));
    assert_non_null(strstr(err.msg, "server is running"));
}

/* ---- the CLI on a PostgreSQL store ------------------------------------------------ */

/* init-db creates the schema in the database the URL names and says so (the
 * URL, password masked), a second run finds it up to date, and the commands
 * that write (symbols add) and read (symbols list: the read-only open) use
 * it; no metadata file appears in QUANT_HOME. */
static void test_cli_on_postgres(void **state)
{
    (void)state;
    char home_env[PATH_MAX + 16], url_env[PATH_MAX + 96], url[PATH_MAX + 64];
    snprintf(home_env, sizeof home_env, "QUANT_HOME=%s/home", tu_scratch_dir);
    /* a password in the URL (trust authentication ignores it) */
    snprintf(url, sizeof url, "postgresql://quant:NotShown-77@127.0.0.1:%d/case_%d",
             cluster.port, db_seq);
    snprintf(url_env, sizeof url_env, "QUANT_META_URL=%s", url);
    const char *env[] = {home_env, url_env, NULL};
    struct tu_result r;
    const char *init[] = {"init-db", NULL};
    tu_run_quant(init, env, &r);
    if (r.status != 0)
        fail_msg("init-db: %s", r.err);
    char want[PATH_MAX + 96];
    snprintf(want, sizeof want, "Metadata store:  postgresql://quant:****@127.0.0.1:%d/case_%d "
             "(created, schema v%d)", cluster.port, db_seq, QUANT_META_SCHEMA_VERSION);
    assert_non_null(strstr(r.out, want));
    assert_null(strstr(r.out, "NotShown-77"));
    tu_result_release(&r);
    tu_run_quant(init, env, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "up to date"));
    tu_result_release(&r);
    const char *add[] = {"symbols", "add", "IBM", "--name", "International Business Machines",
                         NULL};
    tu_run_quant(add, env, &r);
    if (r.status != 0)
        fail_msg("symbols add: %s", r.err);
    tu_result_release(&r);
    const char *list[] = {"symbols", "list", NULL};
    tu_run_quant(list, env, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "International Business Machines"));
    tu_result_release(&r);
    char sqlite_file[PATH_MAX + 32];
    snprintf(sqlite_file, sizeof sqlite_file, "%s/home/meta.sqlite", tu_scratch_dir);
    assert_int_equal(access(sqlite_file, F_OK), -1);
    assert_int_equal(raw_long("SELECT count(*) FROM symbols WHERE symbol = 'IBM'", NULL), 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int skip = tu_pg_start_or_skip(&cluster, "store/test_meta_store_pg");
    if (skip >= 0)
        return skip;
    const struct CMUnitTest tests[] = {
        META_STORE_CASES
        cmocka_unit_test_setup_teardown(test_concurrent_writers, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_password_never_in_messages, case_setup,
                                        case_teardown),
        cmocka_unit_test_setup_teardown(test_cli_on_postgres, case_setup, case_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_pg_stop(&cluster);
    return failed;
}
