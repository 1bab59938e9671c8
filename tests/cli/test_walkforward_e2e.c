/*
 * test_walkforward_e2e.c: `quant walkforward` through the binary, on a
 * synthetic market written as CSV files with pinned dates (no clock).
 *
 *  - honest by construction: every block's valid starts h usable dates after
 *    its train ends, and its test h dates after valid ends (the embargo), and
 *    each block's model is registered with its run and block;
 *  - no look-ahead: a store holding the same bars cut after a date X gives
 *    the same out-of-sample scores on every date up to X (the models before X
 *    never saw what came after, and the features of a date only its past);
 *  - what the run stores is what it says: the view's rows per block equal the
 *    block's n_scored, and they cover every date from the first test date on;
 *  - `quant evaluate` of the run agrees with the same statistic recomputed by
 *    DuckDB from the stored scores and the materialised labels, and stores
 *    one daily row per date.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <math.h>

#include "test_util.h"
#include "providers/synthetic_internal.h"

#define N_SYMBOLS 6
#define N_DAYS 2300             /* about nine years: five or six yearly blocks */
#define HORIZON "3"
#define CUT "2016-06-30"        /* the truncated store ends here */

static char full_dir[PATH_MAX], cut_dir[PATH_MAX];
static char env_full[PATH_MAX + 16], env_cut[PATH_MAX + 16];

/* Each symbol's bars as a Yahoo-style CSV, all of them and those up to CUT. */
static void write_market(void)
{
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.seed = 7;
    o.n_days = N_DAYS;
    assert_int_equal(quant_date_parse("2017-12-29", 10, &o.end_date), 0);
    int32_t cut;
    assert_int_equal(quant_date_parse(CUT, 10, &cut), 0);
    snprintf(full_dir, sizeof full_dir, "%s/full", tu_scratch_dir);
    snprintf(cut_dir, sizeof cut_dir, "%s/cut", tu_scratch_dir);
    assert_int_equal(mkdir(full_dir, 0755), 0);
    assert_int_equal(mkdir(cut_dir, 0755), 0);
    for (int i = 0; i < N_SYMBOLS; i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(i, sym);
        struct quant_bars bars;
        quant_bars_init(&bars);
        struct quant_err err;
        quant_err_clear(&err);
        assert_int_equal(quant_synth_generate(&o, sym, &bars, &err), QUANT_OK);
        char path[2][PATH_MAX + 64];
        snprintf(path[0], sizeof path[0], "%s/%s.csv", full_dir, sym);
        snprintf(path[1], sizeof path[1], "%s/%s.csv", cut_dir, sym);
        FILE *f[2] = {fopen(path[0], "w"), fopen(path[1], "w")};
        assert_non_null(f[0]);
        assert_non_null(f[1]);
        for (int k = 0; k < 2; k++)
            fprintf(f[k], "Date,Open,High,Low,Close,Adj Close,Volume\n");
        for (size_t t = 0; t < bars.n; t++) {
            const struct quant_bar *b = &bars.v[t];
            char d[11];
            quant_date_format(b->date, d);
            for (int k = 0; k < 2; k++)
                if (k == 0 || b->date <= cut)
                    fprintf(f[k], "%s,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", d, b->open,
                            b->high, b->low, b->close, b->adj_close, b->volume);
        }
        fclose(f[0]);
        fclose(f[1]);
        quant_bars_release(&bars);
    }
}

static void run_ok(const char *env_home, const char *const *argv)
{
    const char *env[] = {env_home, NULL};
    struct tu_result r;
    tu_run_quant(argv, env, &r);
    if (r.status != 0)
        fail_msg("quant %s: exit %d\nstdout: %s\nstderr: %s", argv[0], r.status, r.out, r.err);
    tu_result_release(&r);
}

static int setup(void **state)
{
    tu_scratch_setup(state);
    write_market();
    snprintf(env_full, sizeof env_full, "QUANT_HOME=%s/home-full", tu_scratch_dir);
    snprintf(env_cut, sizeof env_cut, "QUANT_HOME=%s/home-cut", tu_scratch_dir);
    run_ok(env_full, (const char *const[]){"ingest", "--provider", "csv", "--csv", full_dir,
                                           NULL});
    run_ok(env_cut, (const char *const[]){"ingest", "--provider", "csv", "--csv", cut_dir, NULL});
    const char *const wf[] = {"walkforward", "--all", "--horizon", HORIZON, "--rounds", "40",
                              "--early-stopping", "10", "--threads", "1", NULL};
    run_ok(env_full, wf);
    run_ok(env_cut, wf);
    return 0;
}

static void test_embargo_and_registry(void **state)
{
    (void)state;
    const char *env[] = {env_full, NULL};
    long blocks = tu_sql_long(env, "SELECT count(*) FROM walkforward_blocks");
    assert_true(blocks >= 4);
    /* h usable dates between train and valid and between valid and test (the
     * synthetic symbols share one calendar, so ohlcv's dates are D there) */
    long bad = tu_sql_long(env,
        "SELECT count(*) FROM walkforward_blocks b WHERE"
        " (SELECT count(DISTINCT date) FROM ohlcv o WHERE o.date > b.train_last"
        "  AND o.date < b.valid_first) <> " HORIZON
        " OR (SELECT count(DISTINCT date) FROM ohlcv o WHERE o.date > b.valid_last"
        "  AND o.date < b.test_first) <> " HORIZON
        " OR b.valid_first > b.valid_last OR b.train_first > b.train_last");
    assert_int_equal(bad, 0);
    /* blocks follow each other: a test span starts after the previous one */
    long overlap = tu_sql_long(env,
        "SELECT count(*) FROM walkforward_blocks a JOIN walkforward_blocks b"
        " ON a.block < b.block WHERE b.test_first <= a.test_last OR b.train_last >= b.test_first");
    assert_int_equal(overlap, 0);
    /* every score is stored, each block's under its own model */
    long mismatch = tu_sql_long(env,
        "SELECT count(*) FROM walkforward_blocks b WHERE b.n_scored <>"
        " (SELECT count(*) FROM walkforward_predictions p WHERE p.block = b.block)");
    assert_int_equal(mismatch, 0);
    /* no score before its block's test span, none from another run's model */
    long early = tu_sql_long(env,
        "SELECT count(*) FROM walkforward_predictions p JOIN walkforward_blocks b"
        " USING (run_id, block) WHERE p.date < b.test_first OR p.model_id <> b.model_id");
    assert_int_equal(early, 0);
    long ok_runs = tu_sql_long(env, "SELECT count(*) FROM walkforward_runs WHERE status = 'ok'");
    assert_int_equal(ok_runs, 1);
    /* each block's model is in the registry, saying its run and block */
    struct tu_result r;
    tu_run_quant((const char *const[]){"models", "list", "--json", NULL}, env, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count(r.out, "\"id\":\t\"wf_"), blocks);
    assert_int_equal(tu_count(r.out, "\"walkforward\":"), blocks);
    tu_result_release(&r);
}

static void test_no_look_ahead(void **state)
{
    (void)state;
    const char *sql = "SELECT block, symbol, date, score FROM walkforward_predictions"
                      " WHERE date <= DATE '" CUT "' ORDER BY date, symbol";
    const char *ef[] = {env_full, NULL}, *ec[] = {env_cut, NULL};
    char *full = tu_sql_text(ef, sql), *cut = tu_sql_text(ec, sql);
    /* the cut store scores up to CUT too (with fewer labels, not fewer scores) */
    assert_true(tu_count(full, "\n") > 1000);
    if (strcmp(full, cut) != 0) {
        size_t i = 0;
        while (full[i] && full[i] == cut[i])
            i++;
        size_t line = 1;
        for (size_t k = 0; k < i; k++)
            line += full[k] == '\n';
        fail_msg("scores up to " CUT " differ once the bars after it are gone (first "
                 "difference on line %zu): a model or a feature looked ahead", line);
    }
    free(full);
    free(cut);
}


static double sql_double(const char *const *env, const char *sql)
{
    char *text = tu_sql_text(env, sql);
    char *nl = strchr(text, '\n'); /* past the header */
    assert_non_null(nl);
    double v = strtod(nl + 1, NULL);
    free(text);
    return v;
}

static cJSON *evaluate_json(const char *const *env, const char *const *argv)
{
    struct tu_result r;
    tu_run_quant(argv, env, &r);
    if (r.status != 0)
        fail_msg("quant evaluate: exit %d\nstderr: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    if (!j)
        fail_msg("quant evaluate --json printed no JSON:\n%s", r.out);
    tu_result_release(&r);
    return j;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v))
        fail_msg("evaluate --json lacks a number '%s'", key);
    return v->valuedouble;
}

static void test_evaluate_agrees_with_duckdb(void **state)
{
    (void)state;
    const char *env[] = {env_full, NULL};
    run_ok(env_full, (const char *const[]){"labels", "--horizon", HORIZON, "--materialize",
                                           NULL});
    cJSON *j = evaluate_json(env, (const char *const[]){"evaluate", "--run", "latest", "--json",
                                                        NULL});
    /* IC_t = corr(score, fwd_ret_h) over the symbols of date t; a date counts
     * with 5+ of them and neither side constant (EVALUATION.md). */
    const char *daily =
        "WITH d AS (SELECT p.date, corr(p.score, l.fwd_return) AS ic, count(*) AS n,"
        " stddev_pop(p.score) AS ss, stddev_pop(l.fwd_return) AS sr"
        " FROM walkforward_predictions p JOIN labels l ON l.symbol = p.symbol"
        " AND l.date = p.date AND l.horizon = " HORIZON " GROUP BY p.date)";
    char sql[1024];
    snprintf(sql, sizeof sql, "%s SELECT printf('%%.17g', avg(ic)) FROM d"
             " WHERE n >= 5 AND ss > 0 AND sr > 0", daily);
    double ic = sql_double(env, sql);
    snprintf(sql, sizeof sql, "%s SELECT count(*) FROM d WHERE n >= 5 AND ss > 0 AND sr > 0",
             daily);
    long k = tu_sql_long(env, sql);
    assert_true(k > 500);
    assert_int_equal((long)num(j, "ic_dates"), k);
    if (!(fabs(num(j, "ic") - ic) <= 1e-9 * fabs(ic) + 1e-12))
        fail_msg("ic: evaluate %.17g, DuckDB %.17g", num(j, "ic"), ic);
    /* the stored daily series holds each counted date's IC */
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "evaluation"));
    assert_non_null(id);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM evaluation_daily WHERE eval_id = '%s'"
             " AND ic IS NOT NULL", id);
    assert_int_equal(tu_sql_long(env, sql), k);
    snprintf(sql, sizeof sql, "%s SELECT count(*) FROM d JOIN evaluation_daily e"
             " ON e.date = d.date AND e.eval_id = '%s' WHERE abs(e.ic - d.ic) > 1e-9", daily, id);
    assert_int_equal(tu_sql_long(env, sql), 0);
    /* the backtest's steps: |T| - 2 of them, each a row with its equity */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM evaluation_daily WHERE eval_id = '%s'"
             " AND equity IS NOT NULL", id);
    assert_int_equal(tu_sql_long(env, sql), (long)num(j, "steps"));
    long dates = tu_sql_long(env, "SELECT count(DISTINCT date) FROM walkforward_predictions");
    assert_int_equal((long)num(j, "steps"), dates - 2);
    /* with 6 symbols, the default top 50 holds every name: net = gross - costs */
    assert_true(num(j, "total_cost") > 0);
    assert_true(num(j, "annual_return_gross") >= num(j, "annual_return"));
    cJSON_Delete(j);
    /* --dry-run stores nothing */
    long before = tu_sql_long(env, "SELECT count(DISTINCT eval_id) FROM evaluation_daily");
    j = evaluate_json(env, (const char *const[]){"evaluate", "--run", "latest", "--json",
                                                 "--dry-run", "--topk", "3", NULL});
    assert_int_equal(tu_sql_long(env, "SELECT count(DISTINCT eval_id) FROM evaluation_daily"),
                     before);
    assert_int_equal((long)num(j, "topk"), 3);
    cJSON_Delete(j);
}

static void test_evaluate_refuses(void **state)
{
    (void)state;
    const char *env[] = {env_full, NULL};
    struct tu_result r;
    tu_run_quant((const char *const[]){"evaluate", "--run", "wf_nope", NULL}, env, &r);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "no walk-forward run 'wf_nope'"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"evaluate", "--run", "latest", "--model", "x", NULL},
                 env, &r);
    assert_int_equal(r.status, 2);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"evaluate", "--run", "latest", "--buy-cost", "5", NULL},
                 env, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--buy-cost takes a fraction"));
    tu_result_release(&r);
}

/* With a universe, a symbol scores (and trains) only on its member days. */
static void test_universe_membership(void **state)
{
    (void)state;
    const char *env[] = {env_full, NULL};
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/members.tsv", tu_scratch_dir);
    /* SYN0000 leaves at the end of 2014 and comes back in 2016; SYN0005 is out */
    tu_write_file(path, "SYN0000\t2000-01-01\t2014-12-31\n"
                        "SYN0000\t2016-01-01\t2030-12-31\n"
                        "SYN0001\t2000-01-01\t2030-12-31\nSYN0002\t2000-01-01\t2030-12-31\n"
                        "SYN0003\t2000-01-01\t2030-12-31\nSYN0004\t2000-01-01\t2030-12-31\n");
    run_ok(env_full, (const char *const[]){"universe", "add", "five", "--members", path, NULL});
    run_ok(env_full, (const char *const[]){"walkforward", "--universe", "five", "--horizon",
                                           HORIZON, "--rounds", "20", "--threads", "1", NULL});
    const char *latest = "(SELECT run_id FROM walkforward_runs ORDER BY created_at DESC,"
                         " run_id DESC LIMIT 1)";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_predictions WHERE run_id = %s"
             " AND (symbol = 'SYN0005' OR (symbol = 'SYN0000' AND date BETWEEN"
             " DATE '2015-01-01' AND DATE '2015-12-31'))", latest);
    assert_int_equal(tu_sql_long(env, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT symbol) FROM walkforward_predictions"
             " WHERE run_id = %s", latest);
    assert_int_equal(tu_sql_long(env, sql), 5);
    /* evaluate with the universe: the same set, judged on member days */
    cJSON *j = evaluate_json(env, (const char *const[]){"evaluate", "--run", "latest",
                                                        "--universe", "five", "--json",
                                                        "--dry-run", NULL});
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "universe")),
                        "five");
    assert_true(num(j, "ic_dates") > 100);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embargo_and_registry),
        cmocka_unit_test(test_no_look_ahead),
        cmocka_unit_test(test_evaluate_agrees_with_duckdb),
        cmocka_unit_test(test_evaluate_refuses),
        cmocka_unit_test(test_universe_membership),
    };
    return cmocka_run_group_tests(tests, setup, tu_scratch_teardown);
}
