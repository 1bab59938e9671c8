/*
 * test_read_while_writing_e2e.c: the read-only commands while another
 * process holds DuckDB's writer lock (an ingest, a training).  Each command
 * declares what it opens (cli/cli.h, workspace.h): the registry readers
 * answer at once, status answers with what the metadata store knows and
 * says the series store is busy, sql refuses at once naming the holder, and
 * none of them waits for the lock timeout or changes a byte of either store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>

#include "av_fixture.h"
#include "lock_holder.h"

#define RUN(f, res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (f)->env, (res))

/* A command that must not wait: ten times less than the lock timeout. */
#define LOCK_TIMEOUT_MS 20000
#define AT_ONCE_MS 5000

static void expect(const struct tu_result *r, int status, const char *needle, const char *what)
{
    if (r->status != status || (needle && !strstr(r->out, needle) && !strstr(r->err, needle)))
        fail_msg("%s: exit %d (expected %d), \"%s\" expected\nstdout: %s\nstderr: %s", what,
                 r->status, status, needle ? needle : "", r->out, r->err);
}

/* Two symbols, a model, registered: what the readers below have to show. */
static void seed(struct tu_av_fixture *f)
{
    struct tu_result r;
    RUN(f, &r, "ingest", "--provider", "synthetic", "--days", "600", "--symbols", "RWA", "RWB");
    expect(&r, 0, NULL, "seed ingest");
    tu_result_release(&r);
    RUN(f, &r, "train", "--symbols", "RWA", "--rounds", "5", "--threads", "1");
    expect(&r, 0, NULL, "seed train");
    tu_result_release(&r);
}

struct snapshot {
    off_t size[2];
    struct timespec mtime[2];
    char *bytes[2];
};

static void take(struct tu_av_fixture *f, struct snapshot *s)
{
    static const char *const names[2] = {"quant.duckdb", "meta.sqlite"};
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", f->home, names[i]);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        s->size[i] = st.st_size;
        s->mtime[i] = st.st_mtim;
        s->bytes[i] = tu_read_file(path, NULL);
    }
}

static void same(const struct snapshot *a, const struct snapshot *b)
{
    for (int i = 0; i < 2; i++) {
        print_message("checking %s\n", i ? "meta.sqlite" : "quant.duckdb");
        assert_int_equal(a->size[i], b->size[i]);
        assert_int_equal(a->mtime[i].tv_sec, b->mtime[i].tv_sec);
        assert_int_equal(a->mtime[i].tv_nsec, b->mtime[i].tv_nsec);
        assert_memory_equal(a->bytes[i], b->bytes[i], (size_t)a->size[i]);
    }
}

static void release(struct snapshot *s)
{
    for (int i = 0; i < 2; i++)
        free(s->bytes[i]);
}

/* Run one command and check it came back well before the lock timeout. */
#define TIMED(f, r, ...)                                                           \
    do {                                                                           \
        double t0_ = tu_now_ms();                                                  \
        RUN(f, r, __VA_ARGS__);                                                    \
        double ms_ = tu_now_ms() - t0_;                                            \
        if (ms_ > AT_ONCE_MS)                                                      \
            fail_msg("%s waited %.0f ms for the writer", #__VA_ARGS__, ms_);       \
    } while (0)

static void test_readers_answer_while_a_writer_holds_the_store(void **state)
{
    struct tu_av_fixture *f = *state;
    seed(f);
    char lock_env[64];
    snprintf(lock_env, sizeof lock_env, "QUANT_LOCK_TIMEOUT_MS=%d", LOCK_TIMEOUT_MS);
    tu_av_setenv(f, lock_env);
    char db[PATH_MAX + 32];
    snprintf(db, sizeof db, "%s/quant.duckdb", f->home);
    pid_t holder = tu_spawn_lock_holder(db, 30000);
    /* Taken once the holder has the lock: its own open may write the file. */
    struct snapshot before, after;
    take(f, &before);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)holder);
    struct tu_result r;

    TIMED(f, &r, "models", "list");
    expect(&r, 0, "RWA", "models list");
    tu_result_release(&r);
    TIMED(f, &r, "models", "show", "latest", "--symbol", "RWA");
    expect(&r, 0, "algorithm:", "models show latest");
    tu_result_release(&r);
    TIMED(f, &r, "symbols", "list");
    expect(&r, 0, "RWB", "symbols list");
    tu_result_release(&r);

    /* status: the registry and the model, and why the bars are missing */
    TIMED(f, &r, "status");
    expect(&r, 0, "RWB", "status while busy");
    expect(&r, 0, "series store is busy", "status says the series part is busy");
    expect(&r, 0, pid_text, "status names the writer");
    tu_result_release(&r);

    /* sql has nothing to answer without the series store: it says who holds it */
    TIMED(f, &r, "sql", "SELECT count(*) FROM ohlcv");
    expect(&r, 4, pid_text, "sql while busy names the holder");
    expect(&r, 4, "is locked by", "sql while busy");
    tu_result_release(&r);

    take(f, &after);

    /* search writes the registry (its requests count against the budget),
     * which SQLite allows while DuckDB is locked */
    TIMED(f, &r, "symbols", "search", "RW");
    expect(&r, 0, "RWA", "symbols search (the registry half)");
    tu_result_release(&r);

    kill(holder, SIGTERM);
    tu_wait(holder);
    same(&before, &after);
    release(&before);
    release(&after);
}

/* On a home with no store at all, the readers answer without creating one. */
static void test_readers_on_a_fresh_home_create_nothing(void **state)
{
    struct tu_av_fixture *f = *state;
    struct tu_result r;
    RUN(f, &r, "models", "list");
    expect(&r, 0, "No models registered yet", "models list on a fresh home");
    tu_result_release(&r);
    RUN(f, &r, "symbols", "list");
    expect(&r, 0, "No symbols registered", "symbols list on a fresh home");
    tu_result_release(&r);
    RUN(f, &r, "status");
    expect(&r, 1, "init-db", "status on a fresh home");
    tu_result_release(&r);
    RUN(f, &r, "sql", "SELECT 1");
    expect(&r, 1, "init-db", "sql on a fresh home");
    tu_result_release(&r);
    char path[PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/quant.duckdb", f->home);
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/meta.sqlite", f->home);
    assert_int_not_equal(stat(path, &st), 0);
}

int main(int argc, char **argv)
{
    int rc = tu_lock_holder_main(argc, argv);
    if (rc >= 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readers_answer_while_a_writer_holds_the_store,
                                        tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_readers_on_a_fresh_home_create_nothing,
                                        tu_av_setup, tu_av_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
