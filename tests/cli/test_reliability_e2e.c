/*
 * test_reliability_e2e.c: what quant does when things go wrong, through the
 * real binary and real store files:
 *
 *  - a data source that fails in each way it can (dropped connection, body
 *    cut short, stall past the timeout, HTTP 500 / 429, an HTML page, JSON
 *    without the series, non-numeric values): exit 5, a message of its own
 *    per failure, and not a byte of the answer stored;
 *  - kill -9 at random moments of an ingest (20 rounds, alternating two
 *    versions of the data) and of features / labels rewrites: every symbol
 *    is always wholly old or wholly new, and a re-run completes;
 *  - two writers at once: the second waits, or exits 4 naming the holder's
 *    PID once lock_timeout_ms has passed; nothing lost or duplicated;
 *  - damaged, read-only and full stores: a clear message naming the file and
 *    what to do, and the files (or the rows already stored) left as they were;
 *  - hostile symbols and file names: refused with a message, no file written
 *    outside QUANT_HOME, and the API key in no output and no file.
 *
 * Kill moments come from a seeded generator; the seed is printed so a
 * failing round can be replayed with QUANT_TEST_SEED=<seed>.
 */
#define _GNU_SOURCE /* memmem */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "av_fixture.h"
#include "lock_holder.h"
#include "quant/bars.h"

#define MSFT_FILE "alphavantage/time_series_daily_MSFT_compact_2018-06-08.json"

#define RUN(f, res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, (f)->env, (res))

/* Fail with quant's own words when it did not exit as expected. */
static void expect_exit(const struct tu_result *r, int want, const char *what)
{
    if (r->status != want)
        fail_msg("%s: exit %d, expected %d\nstdout: %s\nstderr: %s", what, r->status, want,
                 r->out, r->err);
}

static void expect_text(const char *text, const char *needle, const char *what)
{
    if (!strstr(text, needle))
        fail_msg("%s: expected \"%s\" in:\n%s", what, needle, text);
}

/* ---- seeded randomness ----------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(const char *test)
{
    const char *env = getenv("QUANT_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 10)
                                : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    print_message("%s: seed %llu (replay with QUANT_TEST_SEED=%llu)\n", test,
                  (unsigned long long)seed, (unsigned long long)seed);
    rng_state = seed ? seed : 1;
}

/* xorshift64*: the same sequence for a seed on every libc. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void sleep_ms(double ms)
{
    long us = (long)(ms * 1000);
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- CSV fixtures ------------------------------------------------------------ */

/*
 * A folder of Yahoo-style CSV files, one per symbol PREFIX00.., with n_rows
 * consecutive days each.  Closes are multiples of 0.25, so sums are exact:
 * version 1 adds 0.5 to every price of version 0, so the two versions of a
 * symbol have the same count and different sums.
 */
static long close_quarters(int sym, int row, int version)
{
    return 4L * (50 + sym) + row % 40 + 2L * version;
}

static void write_csv_dir(const char *dir, const char *prefix, int n_symbols, int n_rows,
                          int version)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", dir, strerror(errno));
    int32_t day0;
    assert_int_equal(quant_date_parse("2000-01-03", 10, &day0), 0);
    for (int s = 0; s < n_symbols; s++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s%03d_daily.csv", dir, prefix, s);
        FILE *fp = fopen(path, "w");
        if (!fp)
            fail_msg("cannot write %s: %s", path, strerror(errno));
        fputs("Date,Open,High,Low,Close,Adj Close,Volume\n", fp);
        for (int i = 0; i < n_rows; i++) {
            char d[11];
            quant_date_format(day0 + i, d);
            double c = (double)close_quarters(s, i, version) / 4.0;
            fprintf(fp, "%s,%.2f,%.2f,%.2f,%.2f,%.2f,%d\n", d, c, c + 1, c - 1, c, c, 1000 + i);
        }
        assert_int_equal(fclose(fp), 0);
    }
}

static long expected_sum(int sym, int n_rows, int version)
{
    long sum = 0;
    for (int i = 0; i < n_rows; i++)
        sum += close_quarters(sym, i, version);
    return sum;
}

#define MAX_SYMBOLS 128

/* Per symbol of PREFIXnn: rows and sum(close * 4), from the store (-1 = absent). */
struct holdings {
    long rows[MAX_SYMBOLS];
    long quarters[MAX_SYMBOLS];
    int others;              /* symbols outside the set */
};

static void read_holdings(const char *const *env, const char *prefix, int n_symbols,
                          struct holdings *h)
{
    assert_true(n_symbols <= MAX_SYMBOLS);
    memset(h, 0, sizeof *h);
    for (int s = 0; s < n_symbols; s++)
        h->rows[s] = h->quarters[s] = -1;
    char *text = tu_sql_text(env, "SELECT symbol, count(*), CAST(sum(close * 4) AS BIGINT), "
                                  "count(DISTINCT date) FROM ohlcv GROUP BY symbol");
    size_t pl = strlen(prefix);
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char sym[64];
        long rows, quarters, distinct;
        if (sscanf(line + 1, "%63[^,],%ld,%ld,%ld", sym, &rows, &quarters, &distinct) != 4)
            fail_msg("unexpected sql line: %.80s", line + 1);
        if (rows != distinct)
            fail_msg("%s has %ld rows but %ld distinct dates", sym, rows, distinct);
        char *end;
        long s = strncmp(sym, prefix, pl) == 0 ? strtol(sym + pl, &end, 10) : -1;
        if (s < 0 || s >= n_symbols || *end) {
            h->others++;
            continue;
        }
        h->rows[s] = rows;
        h->quarters[s] = quarters;
    }
    free(text);
}

/* 0 = absent, 1 = wholly version 0, 2 = wholly version 1; fails on anything else. */
static int symbol_version(const struct holdings *h, const char *prefix, int s, int n_rows)
{
    if (h->rows[s] < 0)
        return 0;
    for (int v = 0; v < 2; v++)
        if (h->rows[s] == n_rows && h->quarters[s] == expected_sum(s, n_rows, v))
            return v + 1;
    fail_msg("%s%03d is neither version: %ld rows, sum(close*4) %ld (whole versions have %d "
             "rows and %ld or %ld)", prefix, s, h->rows[s], h->quarters[s], n_rows,
             expected_sum(s, n_rows, 0), expected_sum(s, n_rows, 1));
    return -1;
}

/* Point the fixture's QUANT_HOME elsewhere (tu_av_setenv keeps the pointer,
 * so the entry lives here). */
static char moved_home[PATH_MAX + 64];

static void move_home(struct tu_av_fixture *f, const char *home)
{
    snprintf(moved_home, sizeof moved_home, "QUANT_HOME=%s", home);
    tu_av_setenv(f, moved_home);
}

/* ---- 1. a failing data source ------------------------------------------------ */

/* count, exact checksum and newest ingest time of one symbol's rows */
static char *holding_of(struct tu_av_fixture *f, const char *sym)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*), CAST(sum(close) * 10000 AS BIGINT), "
                              "max(ingested_at) FROM ohlcv WHERE symbol = '%s'", sym);
    return tu_sql_text(f->env, sql);
}

struct fault {
    const char *name;
    struct lb_response resp;
    const char *phrase;      /* what only this failure's message says */
    int attempts;            /* requests quant should make (transient ones are retried) */
};

/* The recorded MSFT payload with its newest close revised (still inside the
 * day's range) and the oldest row's open made non-numeric: if quant stored
 * any row before meeting the bad one, the checksum would show it. */
static char *non_numeric_payload(void)
{
    char path[PATH_MAX];
    tu_shared_path(path, MSFT_FILE);
    char *text = tu_read_file(path, NULL);
    char *p = strstr(text, "\"4. close\": \"101.6300\"");
    assert_non_null(p);
    memcpy(strstr(p, "101.6300"), "101.7000", 8);
    char *last = NULL;
    for (char *q = strstr(text, "\"1. open\": \""); q; q = strstr(q + 1, "\"1. open\": \""))
        last = q;
    assert_non_null(last);
    char *v = last + strlen("\"1. open\": \"");
    char *close_quote = strchr(v, '"');
    assert_true(close_quote - v >= 3);
    memcpy(v, "abc", 3);
    memmove(v + 3, close_quote, strlen(close_quote) + 1);
    return text;
}

static void test_source_faults_store_nothing(void **state)
{
    TU_REQUIRE_SHARED_DATA();
    struct tu_av_fixture *f = *state;
    /* small limits keep the stall and the retries quick */
    tu_av_setenv(f, "QUANT_HTTP_TIMEOUT_MS=400");
    tu_av_setenv(f, "QUANT_HTTP_RETRIES=1");
    struct tu_result r;
    tu_av_serve(f, "symbol=MSFT", MSFT_FILE);
    RUN(f, &r, "ingest", "--full", "--symbols", "MSFT");
    expect_exit(&r, 0, "seeding MSFT");
    tu_result_release(&r);
    char *before = holding_of(f, "MSFT");
    expect_text(before, "\n100,", "seeded rows");

    char *bad_numbers = non_numeric_payload();
    const struct fault faults[] = {
        {"connection dropped before answering", {.status = 200, .body = "{}", .behaviour = LB_DROP},
         "closed the connection without answering", 2},
        {"connection dropped mid-body", {.status = 200, .body = "{\"Meta Data\": {\"1. Informa",
                                         .behaviour = LB_TRUNCATE},
         "cut short", 2},
        {"stall past the timeout", {.status = 200, .body = "{}", .behaviour = LB_STALL,
                                    .stall_ms = 5000},
         "timed out", 2},
        {"HTTP 500", {.status = 500, .body = "<html>oops</html>"}, "HTTP 500", 2},
        {"HTTP 429", {.status = 429, .body = "{\"Note\": \"slow down\"}"}, "HTTP 429", 2},
        {"an HTML page with status 200",
         {.status = 200, .body = "<!DOCTYPE html><html><body>Service Unavailable</body></html>"},
         "not JSON", 1},
        {"JSON without the daily series",
         {.status = 200, .body = "{\"Meta Data\": {\"2. Symbol\": \"MSFT\"}}"},
         "has no \"Time Series (Daily)\"", 1},
        {"non-numeric values", {.status = 200, .body = bad_numbers}, "is not a number: 'abc'", 1},
    };
    size_t n = sizeof faults / sizeof *faults;
    char *errs[sizeof faults / sizeof *faults];
    for (size_t i = 0; i < n; i++) {
        lb_reset(f->lb);
        assert_int_equal(lb_add_response(f->lb, "symbol=MSFT", &faults[i].resp), 0);
        RUN(f, &r, "ingest", "--full", "--symbols", "MSFT");
        print_message("%s -> exit %d: %s", faults[i].name, r.status, r.err);
        expect_exit(&r, 5, faults[i].name);
        expect_text(r.err, "Failed MSFT: ", faults[i].name);
        expect_text(r.err, faults[i].phrase, faults[i].name);
        if (strstr(r.out, TU_AV_KEY) || strstr(r.err, TU_AV_KEY))
            fail_msg("%s: the API key is in the output", faults[i].name);
        assert_int_equal(lb_request_count(f->lb, "symbol=MSFT"), faults[i].attempts);
        char *after = holding_of(f, "MSFT");
        if (strcmp(before, after) != 0)
            fail_msg("%s changed the stored rows:\nbefore %s\nafter  %s", faults[i].name, before,
                     after);
        free(after);
        errs[i] = r.err;
        free(r.out);
    }
    /* each message is its own: no other failure's phrase appears in it */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && strstr(errs[i], faults[j].phrase))
                fail_msg("the message for \"%s\" reads like \"%s\": %s", faults[i].name,
                         faults[j].name, errs[i]);
    for (size_t i = 0; i < n; i++)
        free(errs[i]);
    char *leak = tu_tree_find_bytes(f->home, TU_AV_KEY);
    if (leak)
        fail_msg("the API key is stored in %s", leak);
    free(bad_numbers);
    free(before);
}

/* ---- 2. kill -9 ------------------------------------------------------------------ */

/*
 * CSV ingests commit 64 symbols per transaction, so 128 symbols make two
 * commits of equal size: a kill between them leaves some symbols new and the
 * rest old, which is the state the per-symbol check must accept (and a kill
 * inside either must leave its 64 symbols old).
 */
#define KILL_SYMBOLS 128
#define KILL_ROWS 1000
#define KILL_ROUNDS 20

static double timed_run(struct tu_av_fixture *f, const char *const *argv, const char *what)
{
    struct tu_result r;
    double t0 = tu_now_ms();
    tu_run_quant(argv, f->env, &r);
    double ms = tu_now_ms() - t0;
    expect_exit(&r, 0, what);
    tu_result_release(&r);
    return ms;
}

/*
 * SIGKILL pid at a random moment of slice `round` of `rounds` equal slices of
 * [0, window_ms): stratified, so the kills cover the whole run (startup,
 * parsing, each commit) instead of clustering by chance.  Returns the wait
 * status.
 */
static int kill_at_random(pid_t pid, double window_ms, int round, int rounds)
{
    double u = (double)(rng_next() % 10000) / 10000.0;
    sleep_ms((round + u) / rounds * window_ms);
    kill(pid, SIGKILL);
    return tu_wait(pid);
}

static void expect_status_ok(struct tu_av_fixture *f, const char *when)
{
    struct tu_result r;
    RUN(f, &r, "status");
    expect_exit(&r, 0, when);
    tu_result_release(&r);
}

static void test_kill9_ingest_keeps_symbols_whole(void **state)
{
    struct tu_av_fixture *f = *state;
    rng_seed("kill -9 ingest");
    char dirs[2][PATH_MAX + 16];
    for (int v = 0; v < 2; v++) {
        snprintf(dirs[v], sizeof dirs[v], "%s/csv-v%d", f->home, v);
        write_csv_dir(dirs[v], "K", KILL_SYMBOLS, KILL_ROWS, v);
    }
    const char *argv[2][4] = {{"ingest", "--csv", dirs[0], NULL},
                              {"ingest", "--csv", dirs[1], NULL}};
    /* Two whole runs: new symbols, then every symbol updated.  The rounds do
     * updates too, so the second one's length is the window to kill in (a
     * little more, so that a run that just finished is a case too). */
    double t0 = timed_run(f, argv[0], "ingest v0");
    double t1 = timed_run(f, argv[1], "ingest v1");
    double window = 1.05 * t1;
    print_message("whole ingest: %.0f ms new, %.0f ms updating; killing within %.0f ms\n", t0,
                  t1, window);

    int killed = 0, mixed = 0;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        int v = round % 2; /* the store holds v1 (or a mix); write v0, then v1, ... */
        pid_t pid = tu_spawn_quant(argv[v], f->env);
        int st = kill_at_random(pid, window, round, KILL_ROUNDS);
        killed += st == 128 + SIGKILL;
        expect_status_ok(f, "quant status after a kill");
        struct holdings h;
        read_holdings(f->env, "K", KILL_SYMBOLS, &h);
        assert_int_equal(h.others, 0);
        int seen[3] = {0, 0, 0};
        for (int s = 0; s < KILL_SYMBOLS; s++)
            seen[symbol_version(&h, "K", s, KILL_ROWS)]++;
        assert_int_equal(seen[0], 0); /* every symbol was stored before the kills */
        mixed += seen[1] && seen[2];
    }
    print_message("%d of %d rounds killed mid-run, %d left a mix of versions\n", killed,
                  KILL_ROUNDS, mixed);
    /* most rounds must really have been cut short, or this tested nothing */
    assert_true(killed >= KILL_ROUNDS / 2);

    timed_run(f, argv[1], "re-run after the kills");
    struct holdings h;
    read_holdings(f->env, "K", KILL_SYMBOLS, &h);
    for (int s = 0; s < KILL_SYMBOLS; s++)
        assert_int_equal(symbol_version(&h, "K", s, KILL_ROWS), 2);
    struct tu_result r;
    RUN(f, &r, "status");
    expect_exit(&r, 0, "final status");
    assert_null(strstr(r.out, "running")); /* killed runs are not left 'running' */
    tu_result_release(&r);
}

/* Per symbol: rows in a derived table and whether they are unique per date. */
static void derived_counts(struct tu_av_fixture *f, const char *table, long *rows, int n)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT symbol, count(*), count(DISTINCT date) FROM %s "
                              "GROUP BY symbol ORDER BY symbol", table);
    char *text = tu_sql_text(f->env, sql);
    for (int s = 0; s < n; s++)
        rows[s] = 0;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int s;
        long c, d;
        if (sscanf(line + 1, "L%d,%ld,%ld", &s, &c, &d) != 3 || s < 0 || s >= n)
            fail_msg("unexpected row in %s: %.80s", table, line + 1);
        if (c != d)
            fail_msg("%s: L%d has %ld rows for %ld dates", table, s, c, d);
        rows[s] = c;
    }
    free(text);
}

static void test_kill9_features_and_labels_keep_sets_whole(void **state)
{
    struct tu_av_fixture *f = *state;
    rng_seed("kill -9 features/labels");
    enum { N = 6, H = 5 };
    const char *syms[] = {"L0", "L1", "L2", "L3", "L4", "L5"};
    struct tu_result r;
    RUN(f, &r, "ingest", "--provider", "synthetic", "--days", "1500", "--symbols", syms[0],
        syms[1], syms[2], syms[3], syms[4], syms[5]);
    expect_exit(&r, 0, "synthetic ingest");
    tu_result_release(&r);
    /* the stored copies (--materialize) are what a kill could tear */
    const char *features[] = {"features", "--set", "tech-v1", "--force", "--materialize", NULL};
    const char *labels[] = {"labels", "--force", "--materialize", NULL};
    /* each command is killed within its own run time (measured on fewer
     * bars than the rounds rewrite, so the kills land before the end) */
    const double window[2] = {timed_run(f, features, "features"),
                              timed_run(f, labels, "labels")};
    long old_f[N], old_l[N], bars[N];
    derived_counts(f, "quant.main.features_tech_v1", old_f, N);
    derived_counts(f, "quant.main.labels", old_l, N);
    /* more history: every set is now stale, and a rewrite has other counts */
    RUN(f, &r, "ingest", "--provider", "synthetic", "--full", "--days", "1700", "--symbols",
        syms[0], syms[1], syms[2], syms[3], syms[4], syms[5]);
    expect_exit(&r, 0, "longer synthetic ingest");
    tu_result_release(&r);
    derived_counts(f, "ohlcv", bars, N);
    for (int s = 0; s < N; s++) {
        assert_int_equal(old_f[s], 1500);
        assert_int_equal(old_l[s], 1500 - H);
        assert_true(bars[s] > 1500);
    }
    int killed = 0;
    for (int round = 0; round < 6; round++) {
        pid_t pid = tu_spawn_quant(round % 2 ? labels : features, f->env);
        killed += kill_at_random(pid, window[round % 2], round / 2, 3) == 128 + SIGKILL;
        expect_status_ok(f, "quant status after a kill");
        long fr[N], lr[N];
        derived_counts(f, "quant.main.features_tech_v1", fr, N);
        derived_counts(f, "quant.main.labels", lr, N);
        for (int s = 0; s < N; s++) {
            if (fr[s] != old_f[s] && fr[s] != bars[s])
                fail_msg("round %d: L%d has %ld tech-v1 rows (whole sets: %ld or %ld)", round, s,
                         fr[s], old_f[s], bars[s]);
            if (lr[s] != old_l[s] && lr[s] != bars[s] - H)
                fail_msg("round %d: L%d has %ld label rows (whole sets: %ld or %ld)", round, s,
                         lr[s], old_l[s], bars[s] - H);
        }
    }
    print_message("%d of 6 rounds killed mid-run\n", killed);
    assert_true(killed >= 3);
    timed_run(f, features, "features after the kills");
    timed_run(f, labels, "labels after the kills");
    long fr[N], lr[N];
    derived_counts(f, "quant.main.features_tech_v1", fr, N);
    derived_counts(f, "quant.main.labels", lr, N);
    for (int s = 0; s < N; s++) {
        assert_int_equal(fr[s], bars[s]);
        assert_int_equal(lr[s], bars[s] - H);
    }
}

/* ---- 3. two writers ------------------------------------------------------------- */

static void db_path(struct tu_av_fixture *f, char *out)
{
    snprintf(out, PATH_MAX, "%s/quant.duckdb", f->home);
}

static void seed_small_store(struct tu_av_fixture *f)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/seed", f->home);
    write_csv_dir(dir, "S", 2, 200, 0);
    const char *argv[] = {"ingest", "--csv", dir, NULL};
    timed_run(f, argv, "seeding the store");
}

static void test_lock_held_past_timeout_exits_4_naming_holder(void **state)
{
    struct tu_av_fixture *f = *state;
    seed_small_store(f);
    char *before = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv");
    char dir[PATH_MAX + 16], db[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/more", f->home);
    write_csv_dir(dir, "W", 3, 300, 0);
    db_path(f, db);
    const long timeout = 1000;
    tu_av_setenv(f, "QUANT_LOCK_TIMEOUT_MS=1000");

    pid_t holder = tu_spawn_lock_holder(db, timeout + 2500);
    struct tu_result r;
    double t0 = tu_now_ms();
    RUN(f, &r, "ingest", "--csv", dir);
    double waited = tu_now_ms() - t0;
    print_message("locked store: exit %d after %.0f ms: %s", r.status, waited, r.err);
    expect_exit(&r, 4, "ingest while another process holds the store");
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)holder);
    expect_text(r.err, "is locked by", "lock message");
    expect_text(r.err, pid_text, "lock message names the holder");
    expect_text(r.err, db, "lock message names the store");
    tu_result_release(&r);
    /* it waited the timeout, and not much more (startup under sanitizers included) */
    assert_true(waited >= (double)timeout);
    assert_true(waited < (double)timeout + 2500);
    assert_int_equal(tu_wait(holder), 0);

    char *after = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_lock_released_in_time_then_ingest_succeeds(void **state)
{
    struct tu_av_fixture *f = *state;
    seed_small_store(f);
    char dir[PATH_MAX + 16], db[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/more", f->home);
    write_csv_dir(dir, "W", 3, 300, 1);
    db_path(f, db);
    tu_av_setenv(f, "QUANT_LOCK_TIMEOUT_MS=20000");
    const long hold = 800;
    pid_t holder = tu_spawn_lock_holder(db, hold);
    struct tu_result r;
    double t0 = tu_now_ms();
    RUN(f, &r, "ingest", "--csv", dir);
    double waited = tu_now_ms() - t0;
    expect_exit(&r, 0, "ingest after the holder let go");
    tu_result_release(&r);
    assert_int_equal(tu_wait(holder), 0);
    /* the store only became free when the holder let go */
    assert_true(waited >= (double)hold - 300);
    struct holdings h;
    read_holdings(f->env, "W", 3, &h);
    for (int s = 0; s < 3; s++)
        assert_int_equal(symbol_version(&h, "W", s, 300), 2);
    assert_int_equal(h.others, 2); /* S00, S01 from the seed */
}

/* Both outcomes of a race are fine; anything else is not. */
static void expect_ok_or_locked_by(const char *err_path, int status, pid_t other,
                                   const char *who)
{
    char *err = tu_read_file(err_path, NULL);
    if (status == 4) {
        char pid_text[32];
        snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)other);
        if (!strstr(err, "is locked by") || !strstr(err, pid_text))
            fail_msg("%s exited 4 without naming the other writer %s: %s", who, pid_text, err);
    } else if (status != 0) {
        fail_msg("%s exited %d: %s", who, status, err);
    }
    free(err);
}

static void test_two_ingests_at_once(void **state)
{
    struct tu_av_fixture *f = *state;
    enum { NS = 20, NR = 2500 };
    char dir_a[PATH_MAX + 16], dir_b[PATH_MAX + 16];
    snprintf(dir_a, sizeof dir_a, "%s/a", f->home);
    snprintf(dir_b, sizeof dir_b, "%s/b", f->home);
    write_csv_dir(dir_a, "A", NS, NR, 0);
    write_csv_dir(dir_b, "B", NS, NR, 1);
    struct tu_result r;
    RUN(f, &r, "init-db");
    expect_exit(&r, 0, "init-db");
    tu_result_release(&r);
    const char *argv_a[] = {"ingest", "--csv", dir_a, NULL};
    const char *argv_b[] = {"ingest", "--csv", dir_b, NULL};
    char out_a[PATH_MAX + 16], err_a[PATH_MAX + 16], out_b[PATH_MAX + 16], err_b[PATH_MAX + 16];
    snprintf(out_a, sizeof out_a, "%s/a.out", f->home);
    snprintf(err_a, sizeof err_a, "%s/a.err", f->home);
    snprintf(out_b, sizeof out_b, "%s/b.out", f->home);
    snprintf(err_b, sizeof err_b, "%s/b.err", f->home);

    /* a generous timeout: the second waits for the first, both succeed */
    tu_av_setenv(f, "QUANT_LOCK_TIMEOUT_MS=60000");
    pid_t a = tu_spawn_quant_to(argv_a, f->env, out_a, err_a);
    pid_t b = tu_spawn_quant_to(argv_b, f->env, out_b, err_b);
    int sa = tu_wait(a), sb = tu_wait(b);
    expect_ok_or_locked_by(err_a, sa, b, "ingest A");
    expect_ok_or_locked_by(err_b, sb, a, "ingest B");
    assert_int_equal(sa, 0);
    assert_int_equal(sb, 0);
    struct holdings ha, hb;
    read_holdings(f->env, "A", NS, &ha);
    read_holdings(f->env, "B", NS, &hb);
    for (int s = 0; s < NS; s++) {
        assert_int_equal(symbol_version(&ha, "A", s, NR), 1);
        assert_int_equal(symbol_version(&hb, "B", s, NR), 2);
    }
    assert_int_equal(tu_sql_long(f->env, "SELECT count(*) - count(DISTINCT (symbol, date)) "
                                         "FROM ohlcv"), 0);

    /* a short timeout: one may give up, and then it names the other; the
     * data flips version, so a loser that wrote anything would show */
    write_csv_dir(dir_a, "A", NS, NR, 1);
    write_csv_dir(dir_b, "B", NS, NR, 0);
    tu_av_setenv(f, "QUANT_LOCK_TIMEOUT_MS=50");
    a = tu_spawn_quant_to(argv_a, f->env, out_a, err_a);
    b = tu_spawn_quant_to(argv_b, f->env, out_b, err_b);
    sa = tu_wait(a);
    sb = tu_wait(b);
    print_message("short lock timeout: A exited %d, B exited %d\n", sa, sb);
    expect_ok_or_locked_by(err_a, sa, b, "ingest A");
    expect_ok_or_locked_by(err_b, sb, a, "ingest B");
    assert_true(sa == 0 || sb == 0);
    read_holdings(f->env, "A", NS, &ha);
    read_holdings(f->env, "B", NS, &hb);
    for (int s = 0; s < NS; s++) {
        assert_int_equal(symbol_version(&ha, "A", s, NR), sa == 0 ? 2 : 1);
        assert_int_equal(symbol_version(&hb, "B", s, NR), sb == 0 ? 1 : 2);
    }
    assert_int_equal(tu_sql_long(f->env, "SELECT count(*) - count(DISTINCT (symbol, date)) "
                                         "FROM ohlcv"), 0);
    assert_int_equal(tu_sql_long(f->env, "SELECT count(*) FROM ohlcv"), 2L * NS * NR);
}

/* ---- 4. bad stores ------------------------------------------------------------- */

enum damage { GARBAGE_DUCKDB, TRUNCATED_DUCKDB, GARBAGE_SQLITE, TRUNCATED_SQLITE };

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Build a store in home, then damage one of its files; returns that file's path. */
static void damage_store(struct tu_av_fixture *f, enum damage d, char *victim)
{
    int duck = d == GARBAGE_DUCKDB || d == TRUNCATED_DUCKDB;
    snprintf(victim, PATH_MAX, "%s/%s", f->home, duck ? "quant.duckdb" : "meta.sqlite");
    if (d != GARBAGE_DUCKDB)
        seed_small_store(f);
    if (d == TRUNCATED_DUCKDB || d == TRUNCATED_SQLITE) {
        struct stat st;
        assert_int_equal(stat(victim, &st), 0);
        assert_int_equal(truncate(victim, st.st_size / 2), 0);
        return;
    }
    size_t n = 65536;
    char *junk = malloc(n);
    assert_non_null(junk);
    for (size_t i = 0; i < n; i++)
        junk[i] = (char)(rng_next() >> 56);
    write_bytes(victim, junk, n);
    free(junk);
}

static void test_damaged_stores_are_refused_untouched(void **state)
{
    struct tu_av_fixture *f = *state;
    rng_seed("damaged stores");
    static const struct {
        enum damage d;
        const char *what;
        const char *advice;   /* what the message must tell the user to do */
    } cases[] = {
        {GARBAGE_DUCKDB, "a DuckDB file of random bytes", "move it aside"},
        {TRUNCATED_DUCKDB, "a DuckDB file cut to half its size", "truncated or damaged"},
        {GARBAGE_SQLITE, "a SQLite file of random bytes", "move it aside"},
        {TRUNCATED_SQLITE, "a SQLite file cut to half its size", "truncated or damaged"},
    };
    char input[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_rmrf(f->home);
        assert_int_equal(mkdir(f->home, 0700), 0);
        char victim[PATH_MAX];
        damage_store(f, cases[i].d, victim);
        snprintf(input, sizeof input, "%s/new", f->home);
        write_csv_dir(input, "N", 1, 50, 0);
        size_t len0;
        char *bytes0 = tu_read_file(victim, &len0);
        const char *const cmds[][4] = {{"status", NULL}, {"ingest", "--csv", input, NULL}};
        for (size_t c = 0; c < 2; c++) {
            struct tu_result r;
            tu_run_quant(cmds[c], f->env, &r);
            print_message("%s, quant %s -> exit %d: %s", cases[i].what, cmds[c][0], r.status,
                          r.err);
            expect_exit(&r, 4, cases[i].what);
            expect_text(r.err, victim, cases[i].what);
            expect_text(r.err, cases[i].advice, cases[i].what);
            tu_result_release(&r);
        }
        size_t len1;
        char *bytes1 = tu_read_file(victim, &len1);
        if (len0 != len1 || memcmp(bytes0, bytes1, len0) != 0)
            fail_msg("%s: quant changed the damaged file", cases[i].what);
        free(bytes0);
        free(bytes1);
    }
}

/* Bytes of the two store files, to show a failed write left them alone. */
static char *store_bytes(const char *home, size_t *len)
{
    char p1[PATH_MAX + 32], p2[PATH_MAX + 32];
    snprintf(p1, sizeof p1, "%s/quant.duckdb", home);
    snprintf(p2, sizeof p2, "%s/meta.sqlite", home);
    size_t l1, l2;
    char *a = tu_read_file(p1, &l1), *b = tu_read_file(p2, &l2);
    char *all = malloc(l1 + l2 + 1);
    assert_non_null(all);
    memcpy(all, a, l1);
    memcpy(all + l1, b, l2);
    free(a);
    free(b);
    *len = l1 + l2;
    return all;
}

static void test_read_only_home_fails_clearly_and_keeps_data(void **state)
{
    struct tu_av_fixture *f = *state;
    seed_small_store(f);
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/more", f->home);
    write_csv_dir(dir, "R", 2, 100, 0);
    char *before = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv");
    size_t len0, len1;
    char *bytes0 = store_bytes(f->home, &len0);

    assert_int_equal(chmod(f->home, 0555), 0);
    const struct tu_run_opts unpriv = {.unprivileged = 1};
    struct tu_result r;
    tu_run_quant_opts((const char *const[]){"ingest", "--csv", dir, NULL}, f->env, &unpriv, &r);
    if (r.status == TU_EXIT_NOPRIV) {
        chmod(f->home, 0700);
        char why[512];
        snprintf(why, sizeof why, "%.*s", (int)strcspn(r.err, "\n"), r.err);
        tu_result_release(&r);
        tu_skip_or_fail("%s", why);
    }
    print_message("read-only QUANT_HOME -> exit %d: %s", r.status, r.err);
    int ingest_status = r.status;
    char *ingest_err = r.err;
    r.err = NULL;
    tu_result_release(&r);
    /* Reading an archived store still works: status lists what is there
     * (SQLite cannot create its -shm file here, so it reads the file as immutable). */
    tu_run_quant_opts((const char *const[]){"status", NULL}, f->env, &unpriv, &r);
    chmod(f->home, 0700);
    print_message("status on the read-only home -> exit %d: %s", r.status, r.err);
    assert_int_not_equal(ingest_status, 0);
    expect_text(ingest_err, f->home, "read-only home");
    expect_text(ingest_err, "writable", "read-only home");
    free(ingest_err);
    expect_exit(&r, 0, "status on a read-only home");
    expect_text(r.out, "S000", "status on a read-only home");
    expect_text(r.out, "S001", "status on a read-only home");
    tu_result_release(&r);

    char *bytes1 = store_bytes(f->home, &len1);
    assert_true(len0 == len1 && memcmp(bytes0, bytes1, len0) == 0);
    char *after = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv");
    assert_string_equal(before, after);
    free(bytes0);
    free(bytes1);
    free(before);
    free(after);
}

/* The tmpfs the full-disk test mounts, unmounted by its teardown even after a failure. */
static char full_mount[PATH_MAX + 16];

static int teardown_full_disk(void **state)
{
    if (full_mount[0] && umount2(full_mount, MNT_DETACH) != 0)
        print_message("umount %s: %s\n", full_mount, strerror(errno));
    full_mount[0] = '\0';
    return tu_av_teardown(state);
}

static void test_full_disk_fails_clearly_and_keeps_data(void **state)
{
    struct tu_av_fixture *f = *state;
    char mnt[PATH_MAX + 16];
    snprintf(mnt, sizeof mnt, "%s/small-disk", f->home);
    assert_int_equal(mkdir(mnt, 0700), 0);
    /* 4 MiB: room for a fresh store (about 2 MiB) and a few bars, not for 120,000 */
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0700") != 0) {
        tu_skip_or_fail("cannot mount a small tmpfs to fill (%s); a loop-mounted file "
                        "system would need the same privilege (CAP_SYS_ADMIN)",
                        strerror(errno));
    }
    snprintf(full_mount, sizeof full_mount, "%s", mnt);
    char home[PATH_MAX + 32];
    snprintf(home, sizeof home, "%s/home", mnt);
    move_home(f, home);
    struct tu_result r;
    RUN(f, &r, "ingest", "--provider", "synthetic", "--days", "250", "--symbols", "SMALL");
    expect_exit(&r, 0, "seeding the small disk");
    tu_result_release(&r);
    char *before = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv "
                                       "WHERE symbol = 'SMALL'");

    const char *big[] = {"BIG1", "BIG2", "BIG3", "BIG4", "BIG5", "BIG6"};
    RUN(f, &r, "ingest", "--provider", "synthetic", "--days", "20000", "--symbols", big[0],
        big[1], big[2], big[3], big[4], big[5]);
    print_message("full disk -> exit %d:\n%s", r.status, r.err);
    assert_int_not_equal(r.status, 0);
    expect_text(r.err, "No space left on device", "full disk");
    expect_text(r.err, "disk holding the store is full", "full disk");
    /* each symbol is whole or absent: what fitted before the disk filled is
     * complete, what did not left nothing behind */
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        char failed[32], sql[128];
        snprintf(failed, sizeof failed, "Failed %s:", big[i]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM ohlcv WHERE symbol = '%s'", big[i]);
        long rows = tu_sql_long(f->env, sql);
        if (rows != (strstr(r.err, failed) ? 0 : 20000))
            fail_msg("%s holds %ld rows after %s", big[i], rows,
                     strstr(r.err, failed) ? "failing" : "succeeding");
    }
    tu_result_release(&r);

    RUN(f, &r, "status");
    expect_exit(&r, 0, "status on the full disk");
    tu_result_release(&r);
    char *after = tu_sql_text(f->env, "SELECT count(*), sum(close) FROM ohlcv "
                                      "WHERE symbol = 'SMALL'");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* ---- 5. hostile names ------------------------------------------------------------ */

/* Names in a folder (without . and ..), sorted into one "a,b,c" string. */
static void list_names(const char *dir, char *out, size_t n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char names[16][256];
    int k = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && k < 16)
            snprintf(names[k++], sizeof names[0], "%s", de->d_name);
    closedir(d);
    qsort(names, (size_t)k, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (int i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", names[i]);
}

static void test_hostile_names_are_refused(void **state)
{
    struct tu_av_fixture *f = *state;
    /* QUANT_HOME, a working folder and the inputs side by side, so anything
     * quant writes outside QUANT_HOME shows up in this folder */
    char home[PATH_MAX + 16], cwd[PATH_MAX + 16], in[PATH_MAX + 16];
    snprintf(home, sizeof home, "%s/home", f->home);
    snprintf(cwd, sizeof cwd, "%s/cwd", f->home);
    snprintf(in, sizeof in, "%s/in", f->home);
    assert_int_equal(mkdir(cwd, 0755), 0);
    assert_int_equal(mkdir(in, 0755), 0);
    move_home(f, home);
    const struct tu_run_opts at_cwd = {.cwd = cwd};
    char outputs[1 << 16] = "";
    struct tu_result r;

    char long_name[201];
    memset(long_name, 'A', 200);
    long_name[200] = '\0';
    const char *symbols[] = {"A'B", "A;B", "A\"B", "\xC3\x84PFEL", long_name, "../x", "a/b",
                             "A B"};
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
        const char *const cmds[][5] = {{"symbols", "add", symbols[i], NULL},
                                       {"ingest", "--symbols", symbols[i], NULL}};
        for (size_t c = 0; c < 2; c++) {
            tu_run_quant_opts(cmds[c], f->env, &at_cwd, &r);
            expect_exit(&r, 2, symbols[i]);
            expect_text(r.err, "symbol '", symbols[i]);
            if (strlen(symbols[i]) < 40)   /* shown as typed */
                expect_text(r.err, symbols[i], "the refused symbol as typed");
            snprintf(outputs + strlen(outputs), sizeof outputs - strlen(outputs), "%s%s", r.out,
                     r.err);
            tu_result_release(&r);
        }
    }
    assert_int_equal(lb_request_count(f->lb, NULL), 0); /* none reached the API */

    /* file names that do not start with a symbol are refused, not filed under "A" */
    const char *files[] = {"A'B_daily.csv", "A;B.csv", "A\"B.csv", "\xC3\x84PFEL.csv",
                           "A$(touch x).csv", NULL};
    char path[PATH_MAX + 300];
    for (size_t i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", in, files[i]);
        tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                            "2024-01-02,10,11,9,10.5,10.5,1000\n");
        tu_run_quant_opts((const char *const[]){"ingest", "--csv", path, NULL}, f->env, &at_cwd,
                          &r);
        expect_exit(&r, 5, files[i]);
        expect_text(r.err, "does not start with a symbol", files[i]);
        tu_result_release(&r);
        assert_int_equal(unlink(path), 0);
    }
    /* a 200-character name: the same */
    snprintf(path, sizeof path, "%s/%s.csv", in, long_name);
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2024-01-02,10,11,9,10.5,10.5,1000\n");
    tu_run_quant_opts((const char *const[]){"ingest", "--csv", path, NULL}, f->env, &at_cwd, &r);
    expect_exit(&r, 5, "a 200-character file name");
    expect_text(r.err, "does not start with a symbol", "a 200-character file name");
    tu_result_release(&r);
    assert_int_equal(unlink(path), 0);

    /* hostile symbols inside a file: the file is refused with the line */
    snprintf(path, sizeof path, "%s/long.csv", in);
    const char *bad_rows[] = {"../x", "A;DROP TABLE ohlcv;--", "a/b", "\xC3\x84PFEL",
                              "'; DELETE FROM ohlcv; --", long_name};
    for (size_t i = 0; i < sizeof bad_rows / sizeof *bad_rows; i++) {
        char text[1024];
        snprintf(text, sizeof text, "symbol,date,open,high,low,close,volume\n"
                                    "GOOD,2024-01-02,10,11,9,10.5,1000\n"
                                    "%s,2024-01-02,10,11,9,10.5,1000\n", bad_rows[i]);
        tu_write_file(path, text);
        tu_run_quant_opts((const char *const[]){"ingest", "--csv", path, NULL}, f->env, &at_cwd,
                          &r);
        expect_exit(&r, 5, bad_rows[i]);
        expect_text(r.err, "long.csv line 3: symbol", bad_rows[i]);
        expect_text(r.err, "fix or remove that row", bad_rows[i]);
        tu_result_release(&r);
    }
    /* a good file with a hostile --symbols */
    tu_write_file(path, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        "2024-01-02,10,11,9,10.5,10.5,1000\n");
    tu_run_quant_opts((const char *const[]){"ingest", "--csv", path, "--symbols", "../x", NULL},
                      f->env, &at_cwd, &r);
    expect_exit(&r, 2, "--csv with --symbols ../x");
    tu_result_release(&r);
    assert_int_equal(unlink(path), 0);

    /* nothing stored, nothing written anywhere but QUANT_HOME */
    RUN(f, &r, "sql", "SELECT count(*) FROM ohlcv", "--csv");
    if (r.status == 0)
        assert_string_equal(r.out, "count_star()\n0\n");
    tu_result_release(&r);
    char names[4096];
    list_names(f->home, names, sizeof names);
    assert_string_equal(names, "cwd,home,in");
    list_names(cwd, names, sizeof names);
    assert_string_equal(names, "");
    list_names(in, names, sizeof names);
    assert_string_equal(names, "");
    /* and the key is nowhere */
    assert_null(strstr(outputs, TU_AV_KEY));
    char *leak = tu_tree_find_bytes(f->home, TU_AV_KEY);
    if (leak)
        fail_msg("the API key is stored in %s", leak);
}

int main(int argc, char **argv)
{
    int rc = tu_lock_holder_main(argc, argv);
    if (rc >= 0)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_source_faults_store_nothing, tu_av_setup,
                                        tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_ingest_keeps_symbols_whole, tu_av_setup,
                                        tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_features_and_labels_keep_sets_whole,
                                        tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_lock_held_past_timeout_exits_4_naming_holder,
                                        tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_lock_released_in_time_then_ingest_succeeds,
                                        tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_two_ingests_at_once, tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_stores_are_refused_untouched, tu_av_setup,
                                        tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_home_fails_clearly_and_keeps_data,
                                        tu_av_setup, tu_av_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_fails_clearly_and_keeps_data, tu_av_setup,
                                        teardown_full_disk),
        cmocka_unit_test_setup_teardown(test_hostile_names_are_refused, tu_av_setup,
                                        tu_av_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
