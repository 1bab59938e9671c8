/*
 * test_walkforward.c: quant_walkforward (walkforward.h) called directly on a
 * scratch store of six synthetic symbols with pinned dates.
 *
 *  - the observer: on_plan once before anything else, then on_block_start
 *    and on_block_done once per block in order, i and n consistent, and what
 *    it was told (blocks, rows, predictions) is what the store holds;
 *  - every block honest: train < valid < test with exactly h usable dates
 *    between each, V valid dates, test blocks of N dates one after another;
 *  - refusals come back as a code and a message with nothing stored and the
 *    observer never called: no symbols, an unknown universe, a horizon out of
 *    range, symbols without bars, a history too short for one block;
 *  - a run that fails after its first block (the registry refuses the
 *    second block's model) is left 'failed' with the first block kept, and
 *    `quant evaluate` refuses it.
 */
#include "market_fixture.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "quant/evaluate.h"
#include "quant/models.h"
#include "quant/walkforward.h"

#define N_SYMBOLS 6
#define N_DAYS 1150             /* about 4.5 years: 756 train dates, then a few blocks */
#define END "2019-12-31"
#define H 3
#define V 40
#define STEP 100

static struct tu_market mk;

static int setup(void **state)
{
    tu_scratch_setup(state);
    tu_market_open(&mk, N_SYMBOLS, N_DAYS, END, 7);
    tu_market_add(&mk, "SHORT", 500, END, 7); /* too little history for a block */
    return 0;
}

static int teardown(void **state)
{
    tu_market_close(&mk);
    return tu_scratch_teardown(state);
}

/* ---- what the observer saw ------------------------------------------------------- */

enum ev_kind { EV_PLAN, EV_START, EV_DONE };

#define MAX_EVENTS 64

struct seen {
    struct {
        enum ev_kind kind;
        size_t i, n;
        struct quant_walkforward_block b;
    } ev[MAX_EVENTS];
    size_t n_ev;
    size_t plan_blocks, plan_rows, plan_symbols;
};

static void push(struct seen *s, enum ev_kind k, size_t i, size_t n,
                 const struct quant_walkforward_block *b)
{
    if (s->n_ev == MAX_EVENTS)
        fail_msg("more than %d observer calls", MAX_EVENTS);
    s->ev[s->n_ev].kind = k;
    s->ev[s->n_ev].i = i;
    s->ev[s->n_ev].n = n;
    if (b)
        s->ev[s->n_ev].b = *b;
    s->n_ev++;
}

static void on_plan(void *ctx, size_t n_blocks, size_t n_rows, size_t n_symbols)
{
    struct seen *s = ctx;
    s->plan_blocks = n_blocks;
    s->plan_rows = n_rows;
    s->plan_symbols = n_symbols;
    push(s, EV_PLAN, 0, n_blocks, NULL);
}

static void on_start(void *ctx, size_t i, size_t n, const struct quant_walkforward_block *b)
{
    push(ctx, EV_START, i, n, b);
}

static void on_done(void *ctx, size_t i, size_t n, const struct quant_walkforward_block *b)
{
    push(ctx, EV_DONE, i, n, b);
}

static struct quant_walkforward_request request(const char *const *symbols, size_t n)
{
    return (struct quant_walkforward_request){
        .symbols = symbols, .n_symbols = n, .horizon = H, .rounds = 15,
        .early_stopping = 5, .seed = 3, .threads = 1, .step = STEP, .valid_days = V,
    };
}

static const char *const all6[N_SYMBOLS] = {"SYN0000", "SYN0001", "SYN0002",
                                            "SYN0003", "SYN0004", "SYN0005"};

/* ---- the store's side ---------------------------------------------------------------- */

static long count_run(const char *table, const char *run_id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE run_id = '%s'", table, run_id);
    return tu_ws_long(mk.ws, sql);
}

/* Distinct stored dates d with a < d < b (every symbol shares one calendar). */
static long dates_between(int32_t a, int32_t b)
{
    char d1[11], d2[11], sql[160];
    quant_date_format(a, d1);
    quant_date_format(b, d2);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT date) FROM ohlcv WHERE date > DATE '%s'"
             " AND date < DATE '%s'", d1, d2);
    return tu_ws_long(mk.ws, sql);
}

struct counts {
    long runs, blocks, predictions, models;
};

static struct counts snapshot(void)
{
    struct counts c = {
        tu_ws_long(mk.ws, "SELECT count(*) FROM walkforward_runs"),
        tu_ws_long(mk.ws, "SELECT count(*) FROM walkforward_blocks"),
        tu_ws_long(mk.ws, "SELECT count(*) FROM predictions"),
        0,
    };
    /* the registry, through the library's reader */
    struct quant_model_entry *v = NULL;
    size_t n = 0;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_models_list(mk.ws, NULL, &v, &n, &err))
        fail_msg("models list: %s", err.msg);
    quant_models_free(v, n);
    c.models = (long)n;
    return c;
}

static void same_counts(struct counts a, struct counts b, const char *after)
{
    if (a.runs != b.runs || a.blocks != b.blocks || a.predictions != b.predictions ||
        a.models != b.models)
        fail_msg("after %s: runs %ld -> %ld, blocks %ld -> %ld, predictions %ld -> %ld, "
                 "models %ld -> %ld", after, a.runs, b.runs, a.blocks, b.blocks,
                 a.predictions, b.predictions, a.models, b.models);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_observer_plan_and_store(void **state)
{
    (void)state;
    struct seen s;
    memset(&s, 0, sizeof s);
    struct quant_walkforward_observer obs = {on_plan, on_start, on_done, &s};
    struct quant_walkforward_request req = request(all6, N_SYMBOLS);
    struct quant_walkforward_summary sum;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_walkforward(mk.ws, &req, &obs, &sum, &err))
        fail_msg("walkforward: %s", err.msg);

    /* 756 train dates + 2h + V before the first test date: a few blocks of N */
    size_t nb = sum.n_blocks;
    assert_true(nb >= 2 && nb <= 5);
    assert_int_equal(s.n_ev, 1 + 2 * nb);
    assert_int_equal(s.ev[0].kind, EV_PLAN);
    assert_int_equal(s.plan_blocks, nb);
    assert_int_equal(s.plan_rows, sum.n_rows);
    assert_int_equal(s.plan_symbols, N_SYMBOLS);
    assert_int_equal(sum.n_symbols, N_SYMBOLS);
    size_t scored = 0;
    for (size_t i = 0; i < nb; i++) {
        const struct quant_walkforward_block *st = &s.ev[1 + 2 * i].b, *dn = &s.ev[2 + 2 * i].b;
        assert_int_equal(s.ev[1 + 2 * i].kind, EV_START);
        assert_int_equal(s.ev[2 + 2 * i].kind, EV_DONE);
        assert_int_equal(s.ev[1 + 2 * i].i, i);
        assert_int_equal(s.ev[2 + 2 * i].i, i);
        assert_int_equal(s.ev[1 + 2 * i].n, nb);
        assert_int_equal(s.ev[2 + 2 * i].n, nb);
        /* the block announced is the block done */
        assert_string_equal(st->label, dn->label);
        assert_int_equal(st->train_first, dn->train_first);
        assert_int_equal(st->test_last, dn->test_last);
        assert_int_equal(st->n_test, dn->n_test);
        char want[16];
        snprintf(want, sizeof want, "b%02zu", i + 1);
        assert_string_equal(dn->label, want);
        assert_true(dn->n_scored >= dn->n_test);
        assert_true(dn->n_train > 0 && dn->n_valid > 0 && dn->n_test > 0);
        assert_true(strstr(dn->model_id, sum.run_id) == dn->model_id);
        scored += dn->n_scored;

        /* honest: train < valid < test, h usable dates between each (the
         * embargo), V valid dates, N test dates (the last block fewer) */
        assert_true(dn->train_first <= dn->train_last);
        assert_true(dn->train_last < dn->valid_first);
        assert_true(dn->valid_first <= dn->valid_last);
        assert_true(dn->valid_last < dn->test_first);
        assert_true(dn->test_first <= dn->test_last);
        assert_int_equal(dates_between(dn->train_last, dn->valid_first), H);
        assert_int_equal(dates_between(dn->valid_last, dn->test_first), H);
        assert_int_equal(dates_between(dn->valid_first - 1, dn->valid_last + 1), V);
        long test_dates = dates_between(dn->test_first - 1, dn->test_last + 1);
        if (i + 1 < nb)
            assert_int_equal(test_dates, STEP);
        else
            assert_true(test_dates >= 1 && test_dates <= STEP);
        assert_int_equal(dn->n_test, (size_t)test_dates * N_SYMBOLS);
        /* expanding window: every block trains from the first usable date */
        assert_int_equal(dn->train_first, s.ev[2].b.train_first);
        if (i > 0) {
            /* the next test block starts on the date after the previous one */
            const struct quant_walkforward_block *prev = &s.ev[2 * i].b;
            assert_int_equal(dates_between(prev->test_last, dn->test_first), 0);
            assert_true(dn->test_first > prev->test_last);
        }
    }
    assert_int_equal(sum.first_test, s.ev[2].b.test_first);
    assert_int_equal(sum.last_test, s.ev[2 * nb].b.test_last);
    assert_int_equal(sum.n_predictions, scored);

    /* what the run says is what the store holds */
    assert_int_equal(count_run("walkforward_blocks", sum.run_id), (long)nb);
    assert_int_equal(count_run("walkforward_predictions", sum.run_id), (long)sum.n_predictions);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_runs WHERE run_id = '%s'"
             " AND status = 'ok' AND n_blocks = %zu AND n_predictions = %zu"
             " AND finished_at IS NOT NULL", sum.run_id, nb, sum.n_predictions);
    assert_int_equal(tu_ws_long(mk.ws, sql), 1);
    for (size_t i = 0; i < nb; i++) {
        const struct quant_walkforward_block *b = &s.ev[2 + 2 * i].b;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_predictions"
                 " WHERE run_id = '%s' AND block = '%s' AND model_id = '%s'", sum.run_id,
                 b->label, b->model_id);
        assert_int_equal(tu_ws_long(mk.ws, sql), (long)b->n_scored);
        char d[4][11];
        quant_date_format(b->train_last, d[0]);
        quant_date_format(b->valid_first, d[1]);
        quant_date_format(b->test_first, d[2]);
        quant_date_format(b->test_last, d[3]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_blocks WHERE run_id = '%s'"
                 " AND block = '%s' AND train_last = DATE '%s' AND valid_first = DATE '%s'"
                 " AND test_first = DATE '%s' AND test_last = DATE '%s' AND n_test = %zu"
                 " AND n_scored = %zu", sum.run_id, b->label, d[0], d[1], d[2], d[3],
                 b->n_test, b->n_scored);
        assert_int_equal(tu_ws_long(mk.ws, sql), 1);
        /* each block's model is registered */
        struct quant_model_entry m;
        if (quant_models_get(mk.ws, b->model_id, NULL, &m, &err))
            fail_msg("block %s's model %s: %s", b->label, b->model_id, err.msg);
        assert_int_equal(m.rec.horizon, H);
        quant_model_entry_release(&m);
    }
    /* no score of a run before its first test date */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_predictions p JOIN"
             " walkforward_blocks b USING (run_id, block) WHERE run_id = '%s'"
             " AND p.date < b.test_first", sum.run_id);
    assert_int_equal(tu_ws_long(mk.ws, sql), 0);
}

/* Run a request that must fail before anything is stored. */
static void refused(const struct quant_walkforward_request *req, enum quant_code code,
                    const char *needle, const char *what)
{
    struct counts before = snapshot();
    struct seen s;
    memset(&s, 0, sizeof s);
    struct quant_walkforward_observer obs = {on_plan, on_start, on_done, &s};
    struct quant_walkforward_summary sum;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_walkforward(mk.ws, req, &obs, &sum, &err);
    if (rc != code)
        fail_msg("%s: code %d (want %d): %s", what, rc, code, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", what, err.msg, needle);
    assert_int_equal(s.n_ev, 0);
    assert_string_equal(sum.run_id, "");
    assert_int_equal(sum.n_blocks, 0);
    assert_int_equal(sum.n_predictions, 0);
    same_counts(before, snapshot(), what);
}

static void test_refusals_store_nothing(void **state)
{
    (void)state;
    struct quant_walkforward_request req = request(NULL, 0);
    refused(&req, QUANT_EINVAL, "give the symbols", "no symbols");

    req.universe = "nowhere";
    refused(&req, QUANT_ENOTFOUND, "nowhere", "an unknown universe");

    req = request(all6, N_SYMBOLS);
    req.horizon = QUANT_LABEL_HORIZON_MAX + 1;
    refused(&req, QUANT_EINVAL, "horizon", "horizon 251");
    /* below 1 the frames carry no labels: refused before any is read */
    req.horizon = -1;
    refused(&req, QUANT_EINVAL, "horizon -1", "horizon -1");

    req = request(all6, N_SYMBOLS);
    req.algo = "catboost";
    refused(&req, QUANT_EINVAL, "catboost", "an unknown algorithm");

    const char *const bad_param[] = {"learning_rate=7"};
    req = request(all6, N_SYMBOLS);
    req.params = bad_param;
    req.n_params = 1;
    refused(&req, QUANT_EINVAL, "learning_rate", "a param out of range");

    req = request(all6, N_SYMBOLS);
    req.train_window = 100;
    refused(&req, QUANT_EINVAL, "756", "a train window under 756 dates");

    const char *const absent[] = {"NOSUCH", "NOTHER"};
    req = request(absent, 2);
    refused(&req, QUANT_ENOTFOUND, "none of the 2 symbols", "symbols without bars");

    /* 500 bars: features and labels, but not 756 train dates before a block */
    const char *const short1[] = {"SHORT"};
    req = request(short1, 1);
    refused(&req, QUANT_EINVAL, "756", "a history too short for one block");
}

static sqlite3 *meta_db(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/home/meta.sqlite", tu_scratch_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void meta_exec(const char *sql)
{
    sqlite3 *db = meta_db();
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void test_failure_after_first_block(void **state)
{
    (void)state;
    /* The registry refuses the second block's model: the run has begun and
     * one block is stored when it fails. */
    meta_exec("CREATE TRIGGER refuse_b02 BEFORE INSERT ON models WHEN NEW.id LIKE '%\\_b02'"
              " ESCAPE '\\' BEGIN SELECT RAISE(ABORT, 'injected: no second block'); END");
    struct counts before = snapshot();
    struct seen s;
    memset(&s, 0, sizeof s);
    struct quant_walkforward_observer obs = {on_plan, on_start, on_done, &s};
    struct quant_walkforward_request req = request(all6, N_SYMBOLS);
    struct quant_walkforward_summary sum;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_walkforward(mk.ws, &req, &obs, &sum, &err);
    meta_exec("DROP TRIGGER refuse_b02");
    assert_int_not_equal(rc, QUANT_OK);
    if (!strstr(err.msg, "b02") || !strstr(err.msg, "injected"))
        fail_msg("the message should name the block and the cause: %s", err.msg);
    /* plan, b01 started and done, b02 started and never done */
    assert_int_equal(s.n_ev, 4);
    assert_int_equal(s.ev[0].kind, EV_PLAN);
    assert_int_equal(s.ev[2].kind, EV_DONE);
    assert_int_equal(s.ev[3].kind, EV_START);
    assert_int_equal(s.ev[3].i, 1);
    assert_true(sum.run_id[0] != '\0');

    /* marked failed, never left 'running'; the first block and its scores kept */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_runs WHERE run_id = '%s'"
             " AND status = 'failed' AND finished_at IS NOT NULL", sum.run_id);
    assert_int_equal(tu_ws_long(mk.ws, sql), 1);
    assert_int_equal(tu_ws_long(mk.ws, "SELECT count(*) FROM walkforward_runs"
                                       " WHERE status = 'running'"), 0);
    assert_int_equal(count_run("walkforward_blocks", sum.run_id), 1);
    assert_int_equal(count_run("walkforward_predictions", sum.run_id),
                     (long)s.ev[2].b.n_scored);
    struct counts after = snapshot();
    assert_int_equal(after.runs, before.runs + 1);
    assert_int_equal(after.models, before.models + 1);
    snprintf(sql, sizeof sql, "SELECT n_predictions FROM walkforward_runs WHERE run_id = '%s'",
             sum.run_id);
    assert_int_equal(tu_ws_long(mk.ws, sql), (long)s.ev[2].b.n_scored);
    /* and it says why (walkforward_store.h: the reason in request's "error") */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM walkforward_runs WHERE run_id = '%s'"
             " AND request LIKE '%%\"error\":%%injected: no second block%%'"
             " AND request LIKE '%%\"horizon\":%d%%'", sum.run_id, H);
    assert_int_equal(tu_ws_long(mk.ws, sql), 1);

    /* evaluate refuses a run that did not finish, and stores nothing */
    struct quant_evaluation_record *recs = NULL;
    size_t n_before = 0, n_after = 0;
    assert_int_equal(quant_evaluations_list(mk.ws, &recs, &n_before, &err), QUANT_OK);
    for (size_t i = 0; i < n_before; i++)
        quant_evaluation_record_release(&recs[i]);
    free(recs);
    struct quant_evaluate_request ereq = {.run_id = sum.run_id, .buy_cost = NAN,
                                          .sell_cost = NAN, .threads = 1};
    struct quant_evaluation e;
    assert_int_equal(quant_evaluate(mk.ws, &ereq, &e, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "'failed', not finished"));
    quant_evaluation_release(&e);
    assert_int_equal(quant_evaluations_list(mk.ws, &recs, &n_after, &err), QUANT_OK);
    for (size_t i = 0; i < n_after; i++)
        quant_evaluation_record_release(&recs[i]);
    free(recs);
    assert_int_equal(n_after, n_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observer_plan_and_store),
        cmocka_unit_test(test_refusals_store_nothing),
        cmocka_unit_test(test_failure_after_first_block),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
