/*
 * test_evaluate.c: quant_evaluate (evaluate.h) and the stored evaluations'
 * readers (evaluations.c) called directly, on a walk-forward run over six
 * synthetic symbols with pinned dates.
 *
 *  - the IC is what the test recomputes itself from the stored scores
 *    (walkforward_predictions) and the materialised labels: Pearson per date
 *    over dates with 5+ names and neither side constant, averaged (1e-9);
 *    the stored daily series has one counted IC per such date, each equal,
 *    and n >= 5 on exactly the dates with 5+ labelled scores;
 *  - a dry run stores nothing and computes what a stored run computes; two
 *    evaluations of one run get distinct ids and identical metrics and
 *    daily series;
 *  - refusals (unknown run or model, a model without test-segment scores,
 *    run and model together, bad parameters, unknown benchmark or universe)
 *    come back as a code and a message with nothing stored.
 */
#include "market_fixture.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/evaluate.h"
#include "quant/features.h"
#include "quant/meta_store.h"
#include "quant/train.h"
#include "quant/walkforward.h"

#define N_SYMBOLS 6
#define N_DAYS 1150
#define END "2019-12-31"
#define H 3

static struct tu_market mk;
static char run_id[64];
static char plain_model[96];    /* trained, never scored: no test-segment scores */
static char block_model[96];    /* the run's first block's model */

static const char *const all6[N_SYMBOLS] = {"SYN0000", "SYN0001", "SYN0002",
                                            "SYN0003", "SYN0004", "SYN0005"};

static void on_trained(void *ctx, const struct quant_train_result *r)
{
    (void)ctx;
    snprintf(plain_model, sizeof plain_model, "%s", r->model_id);
}

static void on_block_done(void *ctx, size_t i, size_t n, const struct quant_walkforward_block *b)
{
    (void)ctx;
    (void)n;
    if (i == 0)
        snprintf(block_model, sizeof block_model, "%s", b->model_id);
}

static int setup(void **state)
{
    tu_scratch_setup(state);
    tu_market_open(&mk, N_SYMBOLS, N_DAYS, END, 11);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_walkforward_request wreq = {
        .symbols = all6, .n_symbols = N_SYMBOLS, .horizon = H, .rounds = 15,
        .early_stopping = 5, .seed = 3, .threads = 1, .step = 100, .valid_days = 40,
    };
    struct quant_walkforward_observer wobs = {NULL, NULL, on_block_done, NULL};
    struct quant_walkforward_summary ws;
    if (quant_walkforward(mk.ws, &wreq, &wobs, &ws, &err))
        fail_msg("walkforward: %s", err.msg);
    snprintf(run_id, sizeof run_id, "%s", ws.run_id);
    /* the labels the test recomputes the IC from */
    struct quant_derive_request lreq = {.symbols = all6, .n_symbols = N_SYMBOLS, .horizon = H,
                                        .threads = 1, .materialize = 1};
    struct quant_derive_summary ls;
    if (quant_derive_labels(mk.ws, &lreq, NULL, &ls, &err) || ls.n_failed)
        fail_msg("labels: %s", err.msg);
    struct quant_train_request treq = {.symbols = all6, .n_symbols = N_SYMBOLS, .horizon = H,
                                       .rounds = 5, .pooled = 1, .threads = 1};
    struct quant_ml_observer tobs = {NULL, on_trained, NULL, NULL};
    struct quant_train_summary ts;
    if (quant_train(mk.ws, &treq, &tobs, &ts, &err) || ts.trained != 1)
        fail_msg("train: %s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    tu_market_close(&mk);
    return tu_scratch_teardown(state);
}

static struct quant_evaluate_request run_request(void)
{
    return (struct quant_evaluate_request){.run_id = run_id, .buy_cost = NAN,
                                           .sell_cost = NAN, .threads = 1};
}

static void evaluate_ok(const struct quant_evaluate_request *req, struct quant_evaluation *e)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_evaluate(mk.ws, req, e, &err))
        fail_msg("evaluate: %s", err.msg);
}

/* ---- what is stored ---------------------------------------------------------------- */

static size_t registry_count(void)
{
    struct quant_evaluation_record *v = NULL;
    size_t n = 0;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_evaluations_list(mk.ws, &v, &n, &err))
        fail_msg("evaluations list: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        quant_evaluation_record_release(&v[i]);
    free(v);
    return n;
}

struct counts {
    size_t evaluations;
    long daily, runs;
};

static struct counts snapshot(void)
{
    return (struct counts){
        registry_count(),
        tu_ws_long(mk.ws, "SELECT count(*) FROM evaluation_daily"),
        tu_ws_long(mk.ws, "SELECT count(*) FROM walkforward_runs"),
    };
}

static void same_counts(struct counts a, struct counts b, const char *after)
{
    if (a.evaluations != b.evaluations || a.daily != b.daily || a.runs != b.runs)
        fail_msg("after %s: evaluations %zu -> %zu, daily rows %ld -> %ld, runs %ld -> %ld",
                 after, a.evaluations, b.evaluations, a.daily, b.daily, a.runs, b.runs);
}

struct daily {
    struct quant_evaluation_record rec;
    struct quant_eval_daily_row *rows;
    char (*symbols)[33];
    size_t n;
};

static void read_daily(const char *id, struct daily *d)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_evaluation_read(mk.ws, id, &d->rec, &d->rows, &d->symbols, &d->n, &err))
        fail_msg("read %s: %s", id, err.msg);
}

static void daily_release(struct daily *d)
{
    quant_evaluation_record_release(&d->rec);
    free(d->rows);
    free(d->symbols);
}

/* ---- the IC recomputed here ---------------------------------------------------------- */

struct day_ic {
    int32_t date;
    size_t n;
    int counted;
    double ic;
};

/* Pearson correlation of x and y over n pairs; *constant when either side
 * has no spread (then the date is not counted). */
static double pearson(const double *x, const double *y, size_t n, int *constant)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    *constant = !(sxx > 0 && syy > 0);
    return *constant ? NAN : sxy / sqrt(sxx * syy);
}

/* Every date of the run with a labelled score: its n and IC, from the
 * store's text (the query's doubles read back exactly). */
static struct day_ic *recompute(size_t *out_n)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT p.date, p.score, l.fwd_return FROM walkforward_predictions p"
             " JOIN labels l ON l.symbol = p.symbol AND l.date = p.date AND l.horizon = %d"
             " WHERE p.run_id = '%s' ORDER BY p.date, p.symbol", H, run_id);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_table t;
    memset(&t, 0, sizeof t);
    if (quant_series_store_query(quant_workspace_series(mk.ws, NULL), sql, 0, &t, &err))
        fail_msg("%s: %s", sql, err.msg);
    assert_true(t.nrows > 500);
    struct day_ic *days = calloc(t.nrows, sizeof *days);
    double *x = malloc(t.nrows * sizeof *x), *y = malloc(t.nrows * sizeof *y);
    assert_non_null(days);
    assert_non_null(x);
    assert_non_null(y);
    size_t nd = 0;
    for (size_t i = 0; i < t.nrows;) {
        const char *date = t.cells[i * 3];
        size_t k = 0;
        for (; i < t.nrows && strcmp(t.cells[i * 3], date) == 0; i++, k++) {
            x[k] = strtod(t.cells[i * 3 + 1], NULL);
            y[k] = strtod(t.cells[i * 3 + 2], NULL);
        }
        struct day_ic *d = &days[nd++];
        d->date = tu_day(date);
        d->n = k;
        int constant = 1;
        d->ic = k >= QUANT_EVAL_MIN_CROSS ? pearson(x, y, k, &constant) : NAN;
        d->counted = k >= QUANT_EVAL_MIN_CROSS && !constant;
    }
    free(x);
    free(y);
    quant_table_release(&t);
    *out_n = nd;
    return days;
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

static void test_ic_recomputed_and_daily_series(void **state)
{
    (void)state;
    struct quant_evaluate_request req = run_request();
    struct quant_evaluation e;
    evaluate_ok(&req, &e);
    assert_false(e.single);
    assert_string_equal(e.target_kind, "run");
    assert_string_equal(e.target, run_id);
    assert_int_equal(e.horizon, H);
    assert_int_equal(e.n_symbols, N_SYMBOLS);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_predictions WHERE run_id = '%s'",
             run_id);
    assert_int_equal((long)e.n_predictions, tu_ws_long(mk.ws, sql));

    size_t nd = 0;
    struct day_ic *days = recompute(&nd);
    double sum = 0;
    size_t k = 0, k_cross = 0;
    for (size_t i = 0; i < nd; i++) {
        k_cross += days[i].n >= QUANT_EVAL_MIN_CROSS;
        if (days[i].counted) {
            sum += days[i].ic;
            k++;
        }
    }
    assert_true(k > 100);
    assert_int_equal(e.signal.ic.dates, k);
    if (!close_to(e.signal.ic.mean, sum / (double)k))
        fail_msg("ic: evaluate %.17g, recomputed %.17g over %zu dates", e.signal.ic.mean,
                 sum / (double)k, k);

    /* the stored series: one row per date, n and IC as recomputed */
    struct daily d;
    read_daily(e.id, &d);
    assert_string_equal(d.rec.target, run_id);
    size_t with_ic = 0, with_cross = 0, j = 0;
    for (size_t i = 0; i < d.n; i++) {
        const struct quant_eval_daily_row *r = &d.rows[i];
        assert_string_equal(d.symbols[i], "");
        with_cross += r->n >= QUANT_EVAL_MIN_CROSS;
        if (isnan(r->ic))
            continue;
        with_ic++;
        while (j < nd && days[j].date < r->date)
            j++;
        if (j == nd || days[j].date != r->date || !days[j].counted)
            fail_msg("stored IC on a date the recomputation does not count");
        assert_int_equal(r->n, (int64_t)days[j].n);
        if (!close_to(r->ic, days[j].ic))
            fail_msg("daily ic: stored %.17g, recomputed %.17g", r->ic, days[j].ic);
    }
    assert_int_equal(with_ic, k);
    assert_int_equal(with_cross, k_cross);
    daily_release(&d);
    free(days);
    quant_evaluation_release(&e);
}

/* The metrics as JSON text without the evaluation's id. */
static char *metrics_text(const struct quant_evaluation *e)
{
    cJSON *j = quant_evaluation_to_json(e);
    assert_non_null(j);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "evaluation");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static char *stored_metrics_text(const char *metrics_json)
{
    cJSON *j = cJSON_Parse(metrics_json);
    assert_non_null(j);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "evaluation");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void test_dry_run_and_twice(void **state)
{
    (void)state;
    struct quant_evaluate_request req = run_request();
    req.dry_run = 1;
    struct counts before = snapshot();
    struct quant_evaluation dry;
    evaluate_ok(&req, &dry);
    assert_string_equal(dry.id, "");
    same_counts(before, snapshot(), "a dry run");

    req.dry_run = 0;
    struct quant_evaluation a, b;
    evaluate_ok(&req, &a);
    evaluate_ok(&req, &b);
    struct counts after = snapshot();
    assert_int_equal(after.evaluations, before.evaluations + 2);
    assert_true(a.id[0] && b.id[0]);
    assert_string_not_equal(a.id, b.id);

    /* identical metrics, the dry run's too */
    char *ta = metrics_text(&a), *tb = metrics_text(&b), *td = metrics_text(&dry);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, td);
    assert_true(a.signal.ic.mean == b.signal.ic.mean);
    assert_true(same_value(a.backtest.m.net.sharpe, b.backtest.m.net.sharpe));
    /* and so are the stored ones, and the daily series */
    struct daily da, db;
    read_daily(a.id, &da);
    read_daily(b.id, &db);
    char *sa = stored_metrics_text(da.rec.metrics_json);
    char *sb = stored_metrics_text(db.rec.metrics_json);
    assert_string_equal(sa, sb);
    assert_string_equal(da.rec.params_json, db.rec.params_json);
    assert_true(da.n > 0);
    assert_int_equal(da.n, db.n);
    assert_int_equal((long)(after.daily - before.daily), (long)(da.n + db.n));
    for (size_t i = 0; i < da.n; i++) {
        const struct quant_eval_daily_row *x = &da.rows[i], *y = &db.rows[i];
        if (x->date != y->date || x->n != y->n || !same_value(x->ic, y->ic) ||
            !same_value(x->rank_ic, y->rank_ic) || !same_value(x->net, y->net) ||
            !same_value(x->equity, y->equity) || !same_value(x->turnover, y->turnover))
            fail_msg("daily row %zu differs between two evaluations of one run", i);
    }
    /* both listed */
    struct quant_evaluation_record *v = NULL;
    size_t n = 0;
    struct quant_err err;
    assert_int_equal(quant_evaluations_list(mk.ws, &v, &n, &err), QUANT_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        found += strcmp(v[i].id, a.id) == 0 || strcmp(v[i].id, b.id) == 0;
        quant_evaluation_record_release(&v[i]);
    }
    free(v);
    assert_int_equal(found, 2);
    free(sa);
    free(sb);
    daily_release(&da);
    daily_release(&db);
    free(ta);
    free(tb);
    free(td);
    quant_evaluation_release(&a);
    quant_evaluation_release(&b);
    quant_evaluation_release(&dry);
}

static void refused(const struct quant_evaluate_request *req, enum quant_code code,
                    const char *needle, const char *what)
{
    struct counts before = snapshot();
    struct quant_evaluation e;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_evaluate(mk.ws, req, &e, &err);
    if (rc != code)
        fail_msg("%s: code %d (want %d): %s", what, rc, code, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", what, err.msg, needle);
    assert_string_equal(e.id, "");
    quant_evaluation_release(&e);
    same_counts(before, snapshot(), what);
}

static void test_refusals_store_nothing(void **state)
{
    (void)state;
    struct quant_evaluate_request req = run_request();
    req.run_id = "wf_nope";
    refused(&req, QUANT_ENOTFOUND, "wf_nope", "an unknown run");

    req = run_request();
    req.model_id = plain_model;
    refused(&req, QUANT_EINVAL, "one of the two", "a run and a model");
    req.run_id = NULL;
    req.model_id = NULL;
    refused(&req, QUANT_EINVAL, "one of the two", "neither a run nor a model");

    req.model_id = "lgb_nope";
    refused(&req, QUANT_ENOTFOUND, "lgb_nope", "an unknown model");
    /* trained, never scored: nothing on its test segment to judge */
    req.model_id = plain_model;
    refused(&req, QUANT_ENOTFOUND, "no stored scores on its test segment",
            "a model without test-segment scores");

    req = run_request();
    req.quantiles = 1;
    refused(&req, QUANT_EINVAL, "quantiles 1", "one quantile");
    req = run_request();
    req.buy_cost = 5;
    refused(&req, QUANT_EINVAL, "buy cost", "a buy cost of 500%");
    req = run_request();
    req.benchmark = "NOSUCH";
    refused(&req, QUANT_ENOTFOUND, "NOSUCH", "a benchmark without bars");
    req = run_request();
    req.universe = "nowhere";
    refused(&req, QUANT_ENOTFOUND, "nowhere", "an unknown universe");

    /* a block's model has a test segment: judged on exactly its test rows */
    req = run_request();
    req.run_id = NULL;
    req.model_id = block_model;
    req.dry_run = 1;
    struct counts before = snapshot();
    struct quant_evaluation e;
    evaluate_ok(&req, &e);
    assert_string_equal(e.target_kind, "model");
    assert_string_equal(e.target, block_model);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT n_test FROM walkforward_blocks WHERE model_id = '%s'",
             block_model);
    assert_int_equal((long)e.n_predictions, tu_ws_long(mk.ws, sql));
    same_counts(before, snapshot(), "a dry run of a block's model");
    quant_evaluation_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ic_recomputed_and_daily_series),
        cmocka_unit_test(test_dry_run_and_twice),
        cmocka_unit_test(test_refusals_store_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
