/*
 * test_features_e2e.c: `quant features` and `quant labels` through the real
 * binary and DuckDB file, checked value by value against the library's
 * kernels run in this process on the same real price history (the kernels
 * themselves are checked against the spec's naive implementation in
 * tests/features).  Also: skipping up-to-date symbols, --force, and a kill
 * during a rewrite leaving every symbol whole.
 */
#include "test_util.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "providers/csv_provider_internal.h"
#include "quant/feature_sets.h"
#include "quant/validate.h"

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

#define ENV ((const char *const[]){env_home, NULL})
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

/* Parse a real history the way ingest does, for the in-process reference. */
static void load_history(const char *rel, const char *symbol, struct quant_bars *out)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    struct quant_buf b;
    quant_buf_init(&b, 0);
    struct quant_err err;
    assert_int_equal(quant_buf_read_file(&b, path, &err), QUANT_OK);
    struct quant_csv_file f;
    assert_int_equal(quant_csv_parse(b.data, b.len, symbol, &f, &err), QUANT_OK);
    assert_int_equal(f.n_series, 1);
    *out = f.series[0];
    quant_bars_init(&f.series[0]); /* moved out */
    quant_validate_bars(out, NULL); /* repairs and gap marks, as ingest stores them */
    quant_csv_file_release(&f);
    quant_buf_release(&b);
}

static void ingest_file(const char *rel, const char *symbol)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    struct tu_result r;
    RUN(&r, "ingest", "--csv", path, "--symbols", symbol);
    run_ok(&r);
    tu_result_release(&r);
}

/* Index of date d in adj (binary search); -1 when absent. */
static long date_index(const struct quant_adjusted *adj, int32_t d)
{
    size_t lo = 0, hi = adj->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (adj->date[mid] == d)
            return (long)mid;
        if (adj->date[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/*
 * Every (date, feature, value) row `quant sql` returns for the symbol and set
 * must be a valid cell of the reference matrix with the identical value, and
 * the counts must match (so no valid cell is missing either).
 */
static void compare_long_form(const char *symbol, const char *set_name, const char *hist)
{
    struct quant_bars bars;
    load_history(hist, symbol, &bars);
    struct quant_adjusted adj = {0};
    struct quant_feature_matrix m = {0};
    struct quant_err err;
    const struct quant_feature_set *set = quant_feature_set_find(set_name);
    assert_non_null(set);
    assert_int_equal(quant_adjusted_compute(&bars, &adj, &err), QUANT_OK);
    assert_int_equal(quant_features_compute(set, &adj, &m, &err), QUANT_OK);
    long want = 0;
    for (size_t i = 0; i < m.n_features * m.n_rows; i++)
        want += m.valid[i];

    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT date, feature, value FROM features_daily WHERE symbol = '%s' AND "
             "version = '%s'", symbol, set_name);
    struct tu_result r;
    RUN(&r, "sql", sql, "--csv");
    run_ok(&r);
    long got = 0;
    char *line = strchr(r.out, '\n');
    while (line && line[1]) {
        char *p = line + 1;
        line = strchr(p, '\n');
        if (line)
            *line = '\0';
        char *c1 = strchr(p, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        *c1 = *c2 = '\0';
        int32_t d;
        assert_int_equal(quant_date_parse(p, strlen(p), &d), 0);
        long t = date_index(&adj, d);
        long f = quant_feature_set_index(set, c1 + 1);
        if (t < 0 || f < 0)
            fail_msg("unexpected row %s %s", p, c1 + 1);
        size_t cell = (size_t)f * m.n_rows + (size_t)t;
        if (!m.valid[cell])
            fail_msg("%s %s: stored a value where the spec has no row", p, c1 + 1);
        double v = strtod(c2 + 1, NULL);
        if (v != m.values[cell])
            fail_msg("%s %s: stored %.17g, computed %.17g", p, c1 + 1, v, m.values[cell]);
        got++;
        if (line)
            *line = '\n';
    }
    assert_int_equal(got, want);
    tu_result_release(&r);
    quant_feature_matrix_release(&m);
    quant_adjusted_release(&adj);
    quant_bars_release(&bars);
}

static void test_tech_v1_long_form_matches_kernels(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    ingest_file("ohlcv/AAPL_yahoo_daily.csv", "AAPL");
    struct tu_result r;
    time_t t0 = time(NULL);
    RUN(&r, "features", "--symbols", "AAPL");
    time_t t1 = time(NULL);
    run_ok(&r);
    assert_non_null(strstr(r.out, "tech-v1 values for AAPL (10,086 dates)"));
    tu_result_release(&r);
    /* derived_state.computed_at is the wall-clock time of the write (it once
     * landed in January 1970: seconds stored as microseconds). */
    long at = tu_sql_long(ENV, "SELECT epoch(computed_at)::BIGINT FROM derived_state"
                               " WHERE symbol = 'AAPL' AND kind = 'tech-v1'");
    assert_in_range(at, (long)t0 - 2, (long)t1 + 2);
    compare_long_form("AAPL", "tech-v1", "ohlcv/AAPL_yahoo_daily.csv");

    /* nothing changed: skipped */
    RUN(&r, "features");
    run_ok(&r);
    assert_non_null(strstr(r.out, "AAPL is up to date for tech-v1"));
    assert_non_null(strstr(r.out, "0 computed, 1 up to date"));
    tu_result_release(&r);
    /* --force recomputes, and the result is the same */
    RUN(&r, "features", "--force");
    run_ok(&r);
    assert_non_null(strstr(r.out, "1 computed, 0 up to date"));
    tu_result_release(&r);
    compare_long_form("AAPL", "tech-v1", "ohlcv/AAPL_yahoo_daily.csv");
    /* a change in the bars makes the symbol stale again */
    ingest_file("ohlcv/NVDA_yahoo_daily.csv", "AAPL"); /* same symbol, other prices */
    RUN(&r, "features");
    run_ok(&r);
    assert_non_null(strstr(r.out, "1 computed, 0 up to date"));
    tu_result_release(&r);
}

static void test_alpha158_and_labels(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    ingest_file("ohlcv/QQQ_yahoo_daily.csv", "QQQ");
    struct tu_result r;
    RUN(&r, "features", "--set", "alpha158");
    run_ok(&r);
    tu_result_release(&r);
    compare_long_form("QQQ", "alpha158", "ohlcv/QQQ_yahoo_daily.csv");

    RUN(&r, "labels", "--horizon", "5");
    run_ok(&r);
    assert_non_null(strstr(r.out, "Computed 5,473 label rows for QQQ")); /* 5,478 - 5 */
    tu_result_release(&r);
    /* spot check against the prices themselves: C[t+5] / C[t] - 1 on adj close */
    RUN(&r, "sql",
        "WITH c AS (SELECT date, adj_close AS c, lead(adj_close, 5) OVER (ORDER BY date) AS c5"
        " FROM ohlcv WHERE symbol = 'QQQ') SELECT count(*) FROM labels l JOIN c USING (date)"
        " WHERE l.symbol = 'QQQ' AND l.horizon = 5 AND"
        " (abs(l.fwd_return - (c5 / c - 1)) > 1e-12 OR l.label <> (c5 > c)::INT)",
        "--csv");
    run_ok(&r);
    assert_string_equal(r.out, "count_star()\n0\n");
    tu_result_release(&r);
    RUN(&r, "labels", "--horizon", "0");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "1 to 250"));
    tu_result_release(&r);
    RUN(&r, "features", "--set", "alpha999");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "tech-v1, alpha158 or all"));
    tu_result_release(&r);
    RUN(&r, "features", "--symbols", "NOPE");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no bars stored for NOPE"));
    tu_result_release(&r);
}

/* A rewrite killed at a random moment leaves each symbol's set whole. */
static void test_killed_rewrite_keeps_sets_whole(void **state)
{
    (void)state;
    struct tu_result r;
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "2000", "--symbols", "K1", "K2", "K3",
        "K4", "K5", "K6", "K7", "K8");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "features", "--set", "alpha158");
    run_ok(&r);
    tu_result_release(&r);
    unsigned seed = (unsigned)time(NULL);
    print_message("kill seed %u\n", seed);
    srand(seed);
    for (int round = 0; round < 3; round++) {
        pid_t pid = tu_spawn_quant((const char *const[]){"features", "--set", "alpha158",
                                                         "--force", NULL},
                                   ENV);
        struct timespec ts = {0, (long)(100 + rand() % 600) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        tu_wait(pid);
        RUN(&r, "sql",
            "SELECT count(*) FILTER (WHERE n <> 2000), sum(n) FROM"
            " (SELECT symbol, count(*) AS n, count(DISTINCT date) AS nd FROM features_alpha158"
            "  GROUP BY symbol HAVING n = nd)",
            "--csv");
        run_ok(&r);
        assert_string_equal(strchr(r.out, '\n') + 1, "0,16000\n");
        tu_result_release(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tech_v1_long_form_matches_kernels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alpha158_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_rewrite_keeps_sets_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
