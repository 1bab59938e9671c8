/*
 * test_lake.c: lake mode through the workspace (services/lake.h), with a
 * SQLite registry: what a commit publishes, what a read sees, and the two
 * refusals that keep a shared lake whole: a writer that lost the race to
 * another writer publishes nothing (QUANT_ECONFLICT), and a sharded writer
 * cannot overwrite a partition it never loaded.  The PostgreSQL registry and
 * three concurrent processes are tests/cli/test_scaleout_e2e.c's.
 */
#define _GNU_SOURCE
#include "market_fixture.h"
#include "test_util.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quant/bars.h"
#include "quant/lake.h"
#include "quant/meta_store.h"
#include "quant/shard.h"
#include "quant/workspace.h"

static struct quant_config cfg;
static char lake[PATH_MAX + 16];

static int setup(void **state)
{
    tu_scratch_setup(state);
    char home[PATH_MAX + 16];
    snprintf(home, sizeof home, "%s/home", tu_scratch_dir);
    snprintf(lake, sizeof lake, "%s/lake", tu_scratch_dir);
    /* working copies and the readers' snapshot cache go to TMPDIR: this test's */
    setenv("TMPDIR", tu_scratch_dir, 1);
    quant_config_init(&cfg);
    struct quant_err err;
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_HOME, home), QUANT_OK);
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_LAKE, lake), QUANT_OK);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    return 0;
}

static int teardown(void **state)
{
    unsetenv("TMPDIR"); /* the next setup's scratch folder goes where it did */
    quant_config_release(&cfg);
    return tu_scratch_teardown(state);
}

static struct quant_workspace *open_ws(enum quant_ws_mode mode, const struct quant_shard *scope)
{
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_workspace_open(&cfg, mode, &ws, &err))
        fail_msg("open: %s", err.msg);
    quant_workspace_set_scope(ws, scope);
    return ws;
}

/* n weekday bars of symbol from 2020-01-06, close = base + i. */
static void put(struct quant_workspace *ws, const char *symbol, int n, double base)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store *s = quant_workspace_series(ws, &err);
    if (!s)
        fail_msg("series: %s", err.msg);
    struct quant_bars b;
    quant_bars_init(&b);
    snprintf(b.symbol, sizeof b.symbol, "%s", symbol);
    int32_t day = tu_day("2020-01-06");
    for (int i = 0; i < n; day++) {
        if ((day + 4) % 7 >= 5) /* 1970-01-01 was a Thursday: skip weekends */
            continue;
        double c = base + i++;
        struct quant_bar bar = {day, c, c + 1, c - 1, c, NAN, 1000, NAN, NAN, 0};
        assert_int_equal(quant_bars_push(&b, &bar), QUANT_OK);
    }
    if (quant_series_store_upsert_bars(s, &b, "csv", NULL, &err))
        fail_msg("upsert %s: %s", symbol, err.msg);
    quant_bars_release(&b);
}

static long files_under(const char *rel)
{
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s/%s", lake, rel);
    return tu_tree_count(dir, ".parquet");
}

/* Snapshots in the readers' cache. */
static long cached(void)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/quant-lake-cache-%ld", tu_scratch_dir, (long)getuid());
    return tu_tree_count(dir, ".duckdb");
}

static void commit_ok(struct quant_workspace *ws, struct quant_lake_stats *st)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_workspace_commit(ws, st, &err))
        fail_msg("commit: %s", err.msg);
}

static void test_publish_then_read_then_rewrite(void **state)
{
    (void)state;
    struct quant_workspace *ws = open_ws(QUANT_WS_WRITE, NULL);
    assert_string_equal(quant_workspace_lake(ws), lake);
    put(ws, "AAA", 30, 10);
    put(ws, "GC=F", 20, 50);
    struct quant_lake_stats st;
    commit_ok(ws, &st);
    assert_int_equal(st.partitions, 2);
    assert_int_equal(st.files_written, 2);
    assert_int_equal(st.rows_written, 50);
    assert_int_equal(st.files_replaced, 0);
    quant_workspace_close(ws);
    assert_int_equal(files_under("ohlcv/symbol=AAA"), 1);
    assert_int_equal(files_under("ohlcv/symbol=GC%3DF"), 1); /* URL-encoded, as Hive has it */
    assert_int_equal(files_under(".quant-staging"), 0);

    /* a read sees the lake; its working copy goes at close */
    ws = open_ws(QUANT_WS_READ, NULL);
    assert_int_equal(tu_ws_long(ws, "SELECT count(*) FROM ohlcv"), 50);
    assert_int_equal(tu_ws_long(ws, "SELECT CAST(sum(close) AS BIGINT) FROM ohlcv "
                                    "WHERE symbol = 'GC=F'"), 20 * 50 + 190);
    quant_workspace_close(ws);
    /* the copy stays cached; the next read opens it as it is */
    assert_int_equal(cached(), 1);
    ws = open_ws(QUANT_WS_READ, NULL);
    assert_int_equal(tu_ws_long(ws, "SELECT count(*) FROM ohlcv"), 50);
    quant_workspace_close(ws);
    assert_int_equal(cached(), 1);

    /* nothing changed: nothing published */
    ws = open_ws(QUANT_WS_WRITE, NULL);
    put(ws, "AAA", 30, 10);
    commit_ok(ws, &st);
    assert_int_equal(st.partitions, 0);
    quant_workspace_close(ws);

    /* one symbol changed: its file replaced, the other untouched */
    ws = open_ws(QUANT_WS_WRITE, NULL);
    put(ws, "AAA", 31, 10); /* one more bar */
    commit_ok(ws, &st);
    assert_int_equal(st.partitions, 1);
    assert_int_equal(st.rows_written, 31);
    assert_int_equal(st.files_replaced, 1);
    quant_workspace_close(ws);
    assert_int_equal(files_under("ohlcv/symbol=AAA"), 1);
    ws = open_ws(QUANT_WS_READ, NULL); /* the publish made the cached copy stale */
    assert_int_equal(tu_ws_long(ws, "SELECT count(*) FROM ohlcv"), 51);
    quant_workspace_close(ws);
    assert_int_equal(cached(), 1); /* the stale one is gone */

    /* close without commit publishes nothing */
    ws = open_ws(QUANT_WS_WRITE, NULL);
    put(ws, "BBB", 5, 1);
    quant_workspace_close(ws);
    assert_int_equal(files_under("ohlcv"), 2);
}

static void test_the_later_of_two_writers_publishes_nothing(void **state)
{
    (void)state;
    struct quant_workspace *ws = open_ws(QUANT_WS_WRITE, NULL);
    put(ws, "AAA", 30, 10);
    commit_ok(ws, NULL);
    quant_workspace_close(ws);

    /* both check out AAA as it is, both change it */
    struct quant_workspace *a = open_ws(QUANT_WS_WRITE, NULL);
    struct quant_workspace *b = open_ws(QUANT_WS_WRITE, NULL);
    put(a, "AAA", 30, 100);
    put(b, "AAA", 30, 200);
    put(b, "BBB", 10, 5); /* and a partition nobody else touched */
    commit_ok(a, NULL);
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_workspace_commit(b, NULL, &err), QUANT_ECONFLICT);
    assert_non_null(strstr(err.msg, "ohlcv/AAA"));
    assert_non_null(strstr(err.msg, "run it again"));
    quant_workspace_close(a);
    quant_workspace_close(b);
    /* the winner's rows, and none of the loser's files (BBB included) */
    assert_int_equal(files_under("ohlcv/symbol=AAA"), 1);
    assert_int_equal(files_under("ohlcv/symbol=BBB"), 0);
    ws = open_ws(QUANT_WS_READ, NULL);
    assert_int_equal(tu_ws_long(ws, "SELECT CAST(min(close) AS BIGINT) FROM ohlcv"), 100);
    assert_int_equal(tu_ws_long(ws, "SELECT count(DISTINCT symbol) FROM ohlcv"), 1);
    quant_workspace_close(ws);
}

static void test_a_shard_loads_and_writes_only_its_own(void **state)
{
    (void)state;
    const char *syms[] = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF"};
    struct quant_workspace *ws = open_ws(QUANT_WS_WRITE, NULL);
    for (size_t k = 0; k < 6; k++)
        put(ws, syms[k], 10, 10);
    commit_ok(ws, NULL);
    quant_workspace_close(ws);

    struct quant_shard sh = {0, 2};
    long mine = 0;
    const char *other = NULL;
    for (size_t k = 0; k < 6; k++) {
        if (quant_shard_keeps(&sh, syms[k]))
            mine++;
        else
            other = syms[k];
    }
    assert_true(mine > 0 && other);
    ws = open_ws(QUANT_WS_WRITE, &sh);
    assert_int_equal(tu_ws_long(ws, "SELECT count(DISTINCT symbol) FROM ohlcv"), mine);
    /* writing a symbol of another shard would drop the rows it never loaded */
    put(ws, other, 3, 1);
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_workspace_commit(ws, NULL, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "outside its shard 0/2"));
    quant_workspace_close(ws);
    ws = open_ws(QUANT_WS_READ, NULL);
    assert_int_equal(tu_ws_long(ws, "SELECT count(*) FROM ohlcv"), 60);
    quant_workspace_close(ws);
}

static void test_check_finds_orphans_and_missing_files(void **state)
{
    (void)state;
    struct quant_workspace *ws = open_ws(QUANT_WS_WRITE, NULL);
    put(ws, "AAA", 30, 10);
    put(ws, "BBB", 20, 10);
    commit_ok(ws, NULL);
    quant_workspace_close(ws);

    struct quant_lake_check c;
    struct quant_err err;
    quant_err_clear(&err);
    ws = open_ws(QUANT_WS_READ, NULL);
    assert_int_equal(quant_lake_check(ws, -1, &c, &err), QUANT_OK);
    assert_string_equal(c.tables[0].name, "ohlcv");
    assert_int_equal(c.tables[0].files, 2);
    assert_int_equal(c.tables[0].parts, 2);
    assert_int_equal(c.tables[0].rows, 50);
    assert_int_equal(c.orphans + c.missing, 0);

    /* what a run killed between its move and its swap leaves, and a file of
     * the staging folder: orphans, kept while young, removed when old */
    char orphan[PATH_MAX * 2], staged[PATH_MAX * 2];
    snprintf(orphan, sizeof orphan, "%s/ohlcv/symbol=AAA/killed-run.parquet", lake);
    snprintf(staged, sizeof staged, "%s/.quant-staging/run-x/ohlcv/symbol=CCC", lake);
    tu_write_file(orphan, "PAR1");
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", staged);
    assert_int_equal(system(cmd), 0);
    strcat(staged, "/f.parquet");
    tu_write_file(staged, "PAR1");
    assert_int_equal(quant_lake_check(ws, 3600, &c, &err), QUANT_OK);
    assert_int_equal(c.orphans, 2);
    assert_int_equal(c.orphans_young, 2);
    assert_int_equal(c.orphans_removed, 0);
    assert_int_equal(files_under("ohlcv"), 3);
    assert_int_equal(quant_lake_check(ws, 0, &c, &err), QUANT_OK);
    assert_int_equal(c.orphans_removed, 2);
    assert_int_equal(files_under("ohlcv"), 2);
    assert_int_equal(files_under(".quant-staging"), 0);
    assert_int_equal(quant_lake_check(ws, -1, &c, &err), QUANT_OK);
    assert_int_equal(c.orphans, 0);

    /* a live file deleted by hand is missing; nothing else changes */
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s/ohlcv/symbol=BBB", lake);
    tu_rmrf(dir);
    assert_int_equal(quant_lake_check(ws, 0, &c, &err), QUANT_OK);
    assert_int_equal(c.missing, 1);
    assert_non_null(strstr(c.first_missing, "ohlcv/symbol=BBB/"));
    assert_int_equal(c.tables[0].files, 2);
    quant_workspace_close(ws);
}

/* A lake writer's ingest run is closed as interrupted once its process is
 * gone, and only then. */
static void test_runs_of_dead_lake_writers_are_closed(void **state)
{
    (void)state;
    struct quant_workspace *ws = open_ws(QUANT_WS_WRITE, NULL); /* creates the registry */
    quant_workspace_close(ws);
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char host[256] = "localhost", real[PATH_MAX], tag[PATH_MAX + 400];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    assert_non_null(realpath(lake, real));
    struct quant_meta_store *m = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_meta_store_open(quant_config_get(&cfg, QUANT_SET_META_URL), 2000, &m,
                                           &err), QUANT_OK);
    int64_t id_dead = 0, id_live = 0, id_other = 0;
    snprintf(tag, sizeof tag, "%s:lake:%s#pid=%ld", host, real, (long)dead);
    quant_meta_store_set_series(m, tag);
    assert_int_equal(quant_meta_run_begin(m, "AAA", "csv", &id_dead, &err), QUANT_OK);
    snprintf(tag, sizeof tag, "%s:lake:%s#pid=%ld", host, real, (long)getpid());
    quant_meta_store_set_series(m, tag);
    assert_int_equal(quant_meta_run_begin(m, "BBB", "csv", &id_live, &err), QUANT_OK);
    snprintf(tag, sizeof tag, "another-host:lake:%s#pid=%ld", real, (long)dead);
    quant_meta_store_set_series(m, tag);
    assert_int_equal(quant_meta_run_begin(m, "CCC", "csv", &id_other, &err), QUANT_OK);
    quant_meta_store_close(m);

    /* and the working folder the dead process left in TMPDIR */
    char left[PATH_MAX + 64], leftfile[PATH_MAX + 96];
    snprintf(left, sizeof left, "%s/quant-lake-%ld-AbC123", tu_scratch_dir, (long)dead);
    assert_int_equal(mkdir(left, 0700), 0);
    snprintf(leftfile, sizeof leftfile, "%s/work.duckdb", left);
    tu_write_file(leftfile, "x");
    ws = open_ws(QUANT_WS_WRITE, NULL);
    quant_workspace_close(ws);
    assert_int_not_equal(access(left, F_OK), 0);
    assert_int_equal(quant_meta_store_open(quant_config_get(&cfg, QUANT_SET_META_URL), 2000, &m,
                                           &err), QUANT_OK);
    struct quant_ingest_run r;
    assert_int_equal(quant_meta_run_last(m, "AAA", &r, &err), QUANT_OK);
    assert_string_equal(r.status, "failed");
    assert_non_null(strstr(r.error, "interrupted"));
    assert_int_equal(quant_meta_run_last(m, "BBB", &r, &err), QUANT_OK);
    assert_string_equal(r.status, "running"); /* its process lives: this test */
    assert_int_equal(quant_meta_run_last(m, "CCC", &r, &err), QUANT_OK);
    assert_string_equal(r.status, "running"); /* another host's: not ours to judge */
    quant_meta_store_close(m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_then_read_then_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_later_of_two_writers_publishes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_shard_loads_and_writes_only_its_own, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_orphans_and_missing_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_runs_of_dead_lake_writers_are_closed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
