/*
 * test_universe_e2e.c: `quant universe` while another process holds DuckDB's
 * writer lock (an ingest, a training).  Universes live in the metadata store
 * only: list and show are reads (QUANT_WS_READ) and change no byte of either
 * store; add and remove write the registry (QUANT_WS_META), which SQLite
 * allows while DuckDB is locked.  None of them waits for the lock timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "av_fixture.h"
#include "lock_holder.h"

#define RUN(f, res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (f)->env, (res))

/* A command that must not wait: a quarter of the lock timeout. */
#define LOCK_TIMEOUT_MS 20000
#define AT_ONCE_MS 5000

static void expect(const struct tu_result *r, int status, const char *needle, const char *what)
{
    if (r->status != status || (needle && !strstr(r->out, needle) && !strstr(r->err, needle)))
        fail_msg("%s: exit %d (expected %d), \"%s\" expected\nstdout: %s\nstderr: %s", what,
                 r->status, status, needle ? needle : "", r->out, r->err);
}

#define TIMED(f, r, ...)                                                           \
    do {                                                                           \
        double t0_ = tu_now_ms();                                                  \
        RUN(f, r, __VA_ARGS__);                                                    \
        double ms_ = tu_now_ms() - t0_;                                            \
        if (ms_ > AT_ONCE_MS)                                                      \
            fail_msg("%s waited %.0f ms for the writer", #__VA_ARGS__, ms_);       \
    } while (0)

/* The store file's bytes and times, to show a command left it as it was. */
struct snapshot {
    off_t size;
    struct timespec mtime;
    char *bytes;
};

static void take(const char *path, struct snapshot *s)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    s->size = st.st_size;
    s->mtime = st.st_mtim;
    s->bytes = tu_read_file(path, NULL);
}

static void same(const char *what, const struct snapshot *a, const struct snapshot *b)
{
    print_message("checking %s\n", what);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->mtime.tv_sec, b->mtime.tv_sec);
    assert_int_equal(a->mtime.tv_nsec, b->mtime.tv_nsec);
    assert_memory_equal(a->bytes, b->bytes, (size_t)a->size);
}

static void test_universes_answer_while_a_writer_holds_the_store(void **state)
{
    struct tu_av_fixture *f = *state;
    char members[PATH_MAX + 32], newer[PATH_MAX + 32], db[PATH_MAX + 32],
        meta[PATH_MAX + 32];
    snprintf(members, sizeof members, "%s/members.tsv", f->home);
    snprintf(newer, sizeof newer, "%s/newer.tsv", f->home);
    snprintf(db, sizeof db, "%s/quant.duckdb", f->home);
    snprintf(meta, sizeof meta, "%s/meta.sqlite", f->home);
    tu_write_file(members, "UVA\t2020-01-02\t2020-12-31\nUVB\t2020-06-01\t2024-12-31\n");
    tu_write_file(newer, "UVC\t2021-01-04\t2021-12-31\n");
    struct tu_result r;
    RUN(f, &r, "ingest", "--provider", "synthetic", "--days", "30", "--symbols", "UVA");
    expect(&r, 0, NULL, "seed ingest");
    tu_result_release(&r);
    RUN(f, &r, "universe", "add", "busy-demo", "--members", members);
    expect(&r, 0, "Universe busy-demo: 2 symbols, 2 intervals", "seed universe");
    expect(&r, 0, "1 of 2 symbols have no bars", "the warning counts UVB only");
    tu_result_release(&r);

    char lock_env[64];
    snprintf(lock_env, sizeof lock_env, "QUANT_LOCK_TIMEOUT_MS=%d", LOCK_TIMEOUT_MS);
    tu_av_setenv(f, lock_env);
    pid_t holder = tu_spawn_lock_holder(db, 30000);
    /* Taken once the holder has the lock: its own open may write the file. */
    struct snapshot db_before, meta_before, db_after, meta_after;
    take(db, &db_before);
    take(meta, &meta_before);

    TIMED(f, &r, "universe", "list");
    expect(&r, 0, "busy-demo", "universe list while busy");
    tu_result_release(&r);
    TIMED(f, &r, "universe", "list", "--json");
    expect(&r, 0, "\"intervals\": 2", "universe list --json while busy");
    tu_result_release(&r);
    TIMED(f, &r, "universe", "show", "busy-demo", "--date", "2020-07-01");
    expect(&r, 0, "2 of 2 symbols are members", "universe show --date while busy");
    tu_result_release(&r);
    take(meta, &meta_after);
    same("meta.sqlite after the reads", &meta_before, &meta_after);
    free(meta_after.bytes);

    /* the registry writes go through too: SQLite is not DuckDB's lock */
    TIMED(f, &r, "universe", "add", "busy-demo", "--members", newer, "--replace");
    expect(&r, 0, "Universe busy-demo: 1 symbol, 1 interval", "universe add --replace while busy");
    tu_result_release(&r);
    TIMED(f, &r, "universe", "show", "busy-demo");
    expect(&r, 0, "UVC", "universe show sees the replacement");
    tu_result_release(&r);
    TIMED(f, &r, "universe", "remove", "busy-demo");
    expect(&r, 0, "Removed universe busy-demo", "universe remove while busy");
    tu_result_release(&r);

    take(db, &db_after);
    kill(holder, SIGTERM);
    tu_wait(holder);
    same("quant.duckdb", &db_before, &db_after);
    free(db_before.bytes);
    free(db_after.bytes);
    free(meta_before.bytes);
}

int main(int argc, char **argv)
{
    int rc = tu_lock_holder_main(argc, argv);
    if (rc >= 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_universes_answer_while_a_writer_holds_the_store,
                                        tu_av_setup, tu_av_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
