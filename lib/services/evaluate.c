/*
 * evaluate.c: `quant evaluate` (see evaluate.h).
 *
 * The prediction set comes from the store with its scores only; the forward
 * returns and the adjusted closes are computed from the bars by the same
 * frames train and score read (labels.c's fwd_ret_h, the adjusted series of
 * FEATURES.md), so a prediction is judged against exactly the label its
 * model was trained to predict.  The arithmetic is evaluation.h's.
 */
#include "quant/evaluate.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/clock.h"
#include "quant/meta_store.h"
#include "quant/models.h"
#include "quant/universe.h"
#include "services/frames.h"
#include "store/evaluation_store.h"
#include "store/prediction_read.h"
#include "store/walkforward_store.h"
#include "core/banned.h"

/* One symbol's dates, adjusted closes and forward returns, from its frame. */
struct series {
    size_t n;
    int32_t *date;
    double *close;
    double *fwd;      /* NAN where no label */
};

struct loaded {
    struct quant_score_rows rows;   /* the prediction set, by symbol then date */
    struct series *s;               /* per symbol id */
    struct series bench;            /* --benchmark */
    const char *bench_name;
    enum quant_code rc;
    char error[QUANT_ERR_MSG_MAX];
};

static void series_release(struct series *s)
{
    free(s->date);
    free(s->close);
    free(s->fwd);
    memset(s, 0, sizeof *s);
}

static int copy_frame(struct series *s, const struct quant_training_frame *f)
{
    s->n = f->n;
    s->date = malloc((f->n ? f->n : 1) * sizeof *s->date);
    s->close = malloc((f->n ? f->n : 1) * sizeof *s->close);
    s->fwd = malloc((f->n ? f->n : 1) * sizeof *s->fwd);
    if (!s->date || !s->close || !s->fwd)
        return -1;
    memcpy(s->date, f->dates, f->n * sizeof *s->date);
    memcpy(s->close, f->close, f->n * sizeof *s->close);
    for (size_t t = 0; t < f->n; t++)
        s->fwd[t] = f->labels.valid[f->n + t] ? f->labels.values[t] : NAN;
    return 0;
}

static int on_frame(void *ctx, const struct quant_frame_item *it)
{
    struct loaded *L = ctx;
    if (it->code) {
        L->rc = it->code;
        snprintf(L->error, sizeof L->error, "%s", it->error);
        return 1;
    }
    long id = quant_strings_find(L->rows.symbols, L->rows.n_symbols, it->symbol);
    int bad = 0;
    if (id >= 0)
        bad = copy_frame(&L->s[id], it->frame);
    if (!bad && L->bench_name && strcmp(L->bench_name, it->symbol) == 0)
        bad = copy_frame(&L->bench, it->frame);
    if (bad) {
        L->rc = QUANT_ENOMEM;
        snprintf(L->error, sizeof L->error, "out of memory reading prices");
        return 1;
    }
    return 0;
}

/* The panel in (date, symbol id) order, each row's forward return looked up
 * in its symbol's series (both are date-ascending per symbol: one merge). */
struct panel {
    int32_t *date;
    uint32_t *sym;
    double *score, *fwd;
    uint8_t *member;       /* NULL without a universe */
    size_t n;
};

static void panel_release(struct panel *p)
{
    free(p->date);
    free(p->sym);
    free(p->score);
    free(p->fwd);
    free(p->member);
    memset(p, 0, sizeof *p);
}

static enum quant_code build_panel(const struct loaded *L, struct panel *p, struct quant_err *err)
{
    const struct quant_score_rows *r = &L->rows;
    size_t n = r->n;
    p->n = n;
    p->date = malloc((n ? n : 1) * sizeof *p->date);
    p->sym = malloc((n ? n : 1) * sizeof *p->sym);
    p->score = malloc((n ? n : 1) * sizeof *p->score);
    p->fwd = malloc((n ? n : 1) * sizeof *p->fwd);
    double *fwd = malloc((n ? n : 1) * sizeof *fwd);
    if (!p->date || !p->sym || !p->score || !p->fwd || !fwd) {
        free(fwd);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory building the panel");
    }
    /* forward returns, symbol by symbol */
    size_t i = 0;
    while (i < n) {
        uint32_t id = r->sym[i];
        const struct series *s = &L->s[id];
        size_t t = 0;
        for (; i < n && r->sym[i] == id; i++) {
            while (t < s->n && s->date[t] < r->date[i])
                t++;
            fwd[i] = t < s->n && s->date[t] == r->date[i] ? s->fwd[t] : NAN;
        }
    }
    /* stable counting sort by date: rows arrive in symbol order */
    int32_t lo = n ? r->date[0] : 0, hi = lo;
    for (size_t k = 1; k < n; k++) {
        lo = r->date[k] < lo ? r->date[k] : lo;
        hi = r->date[k] > hi ? r->date[k] : hi;
    }
    size_t span = n ? (size_t)((int64_t)hi - lo) + 2 : 1;
    size_t *start = calloc(span, sizeof *start);
    if (!start) {
        free(fwd);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory building the panel");
    }
    for (size_t k = 0; k < n; k++)
        start[r->date[k] - lo + 1]++;
    for (size_t k = 1; k < span; k++)
        start[k] += start[k - 1];
    for (size_t k = 0; k < n; k++) {
        size_t at = start[r->date[k] - lo]++;
        p->date[at] = r->date[k];
        p->sym[at] = r->sym[k];
        p->score[at] = r->score[k];
        p->fwd[at] = fwd[k];
    }
    free(start);
    free(fwd);
    return QUANT_OK;
}

/* Membership of every row on its date; a symbol outside the universe never is. */
static enum quant_code mark_members(const struct quant_universe *u, char *const *names,
                                    size_t n_names, struct panel *p, struct quant_err *err)
{
    long *idx = malloc((n_names ? n_names : 1) * sizeof *idx);
    p->member = malloc(p->n ? p->n : 1);
    if (!idx || !p->member) {
        free(idx);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_names; i++)
        idx[i] = quant_universe_symbol_index(u, names[i]);
    for (size_t i = 0; i < p->n; i++) {
        long k = idx[p->sym[i]];
        p->member[i] = k >= 0 && quant_universe_member_at(u, (size_t)k, p->date[i]);
    }
    free(idx);
    return QUANT_OK;
}

/* ---- storing the result ------------------------------------------------------------ */

static void row_blank(struct quant_eval_daily_row *r, int32_t date)
{
    *r = (struct quant_eval_daily_row){date, -1, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
                                       NAN};
}

static void row_step(struct quant_eval_daily_row *r, const struct quant_eval_bt_day *d,
                     double *bench_equity)
{
    *bench_equity *= 1 + d->benchmark;
    r->gross = d->gross;
    r->net = d->net;
    r->benchmark = d->benchmark;
    r->turnover = d->turnover;
    r->cost = d->cost;
    r->equity = d->equity;
    r->equity_gross = d->equity_gross;
    r->equity_benchmark = *bench_equity;
}

/* The signal's dates and the backtest's steps (by the date each step's
 * return is realised) merged into one row per date. */
static enum quant_code daily_cross(const struct quant_evaluation *e,
                                   struct quant_eval_daily_row **out, size_t *out_n)
{
    const struct quant_eval_signal *sg = &e->signal;
    const struct quant_eval_backtest *bt = &e->backtest;
    struct quant_eval_daily_row *v = malloc((sg->n_days + bt->n_days + 1) * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    size_t n = 0, i = 0, j = 0;
    double beq = 1;
    while (i < sg->n_days || j < bt->n_days) {
        int32_t di = i < sg->n_days ? sg->days[i].date : INT32_MAX;
        int32_t dj = j < bt->n_days ? bt->days[j].date : INT32_MAX;
        struct quant_eval_daily_row *r = &v[n++];
        row_blank(r, di < dj ? di : dj);
        if (di <= dj) {
            r->n = (int64_t)sg->days[i].n;
            r->ic = sg->days[i].ic;
            r->rank_ic = sg->days[i].rank_ic;
            i++;
        }
        if (dj <= di)
            row_step(r, &bt->days[j++], &beq);
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

static enum quant_code store_result(struct quant_workspace *ws, struct quant_evaluation *e,
                                    struct quant_err *err)
{
    struct quant_series_store *series = quant_workspace_series(ws, err);
    if (!series)
        return err->code ? err->code : QUANT_ESTORE;
    /* ev_<UTC stamp>, suffixed when two evaluations share a second */
    char stamp[32];
    quant_utc_format((int64_t)time(NULL), QUANT_UTC_STAMP, stamp, sizeof stamp);
    snprintf(e->id, sizeof e->id, "ev_%s", stamp);
    struct quant_meta_store *reg = quant_workspace_meta(ws, err);
    if (!reg)
        return err->code ? err->code : QUANT_ESTORE;
    struct quant_evaluation_record taken;
    struct quant_err ignore;
    for (int k = 2; quant_meta_evaluation_get(reg, e->id, &taken, &ignore) == QUANT_OK; k++) {
        quant_evaluation_record_release(&taken);
        snprintf(e->id, sizeof e->id, "ev_%s_%d", stamp, k);
    }
    enum quant_code rc = QUANT_OK;
    if (!e->single) {
        struct quant_eval_daily_row *rows = NULL;
        size_t n = 0;
        if (daily_cross(e, &rows, &n))
            return quant_err_set(err, QUANT_ENOMEM, "out of memory");
        rc = quant_eval_store_daily(series, e->id, NULL, rows, n, err);
        free(rows);
    }
    for (size_t k = 0; !rc && e->single && k < e->singles.n; k++) {
        const struct quant_eval_single *s = &e->singles.v[k];
        struct quant_eval_daily_row *rows = malloc((s->m.steps + 1) * sizeof *rows);
        if (!rows)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory");
        double beq = 1;
        for (size_t j = 0; j < s->m.steps; j++) {
            row_blank(&rows[j], s->days[j].date);
            row_step(&rows[j], &s->days[j], &beq);
        }
        rc = quant_eval_store_daily(series, e->id, e->symbols[s->symbol], rows, s->m.steps, err);
        free(rows);
    }
    /* The registry row last: it is what lists the evaluation, so a failure
     * before it leaves nothing that claims to be complete. */
    struct quant_meta_store *meta = rc ? NULL : quant_workspace_meta(ws, err);
    if (!rc && !meta)
        rc = err->code ? err->code : QUANT_ESTORE;
    if (!rc) {
        struct quant_evaluation_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.id, sizeof rec.id, "%s", e->id);
        snprintf(rec.target_kind, sizeof rec.target_kind, "%s", e->target_kind);
        snprintf(rec.target, sizeof rec.target, "%s", e->target);
        snprintf(rec.features, sizeof rec.features, "%s", e->features);
        rec.horizon = e->horizon;
        cJSON *p = cJSON_CreateObject();
        if (p) {
            cJSON_AddNumberToObject(p, "topk", (double)e->topk);
            cJSON_AddNumberToObject(p, "n_drop", (double)e->n_drop);
            cJSON_AddNumberToObject(p, "quantiles", (double)e->quantiles);
            cJSON_AddNumberToObject(p, "buy_cost", e->buy_cost);
            cJSON_AddNumberToObject(p, "sell_cost", e->sell_cost);
            cJSON_AddStringToObject(p, "benchmark", e->benchmark);
            cJSON_AddStringToObject(p, "universe", e->universe);
        }
        cJSON *m = quant_evaluation_to_json(e);
        rec.params_json = p ? cJSON_PrintUnformatted(p) : NULL;
        rec.metrics_json = m ? cJSON_PrintUnformatted(m) : NULL;
        cJSON_Delete(p);
        cJSON_Delete(m);
        rc = rec.params_json && rec.metrics_json
                 ? quant_meta_evaluation_insert(meta, &rec, err)
                 : quant_err_set(err, QUANT_ENOMEM, "out of memory");
        quant_evaluation_record_release(&rec);
    }
    return rc;
}

/* ---- what is judged ------------------------------------------------------------------ */

static enum quant_code load_target(struct quant_workspace *ws,
                                   const struct quant_evaluate_request *req,
                                   struct quant_series_store *series, struct quant_evaluation *e,
                                   struct quant_score_rows *rows, struct quant_err *err)
{
    enum quant_code rc;
    if (req->run_id) {
        char latest[64];
        const char *run_id = req->run_id;
        if (strcmp(run_id, "latest") == 0) {
            rc = quant_wf_store_latest_run(series, latest, err);
            if (rc)
                return rc;
            run_id = latest;
        }
        struct quant_wf_run_info info;
        rc = quant_wf_store_run_get(series, run_id, &info, err);
        if (rc)
            return rc;
        if (strcmp(info.status, "ok") != 0) {
            rc = quant_err_set(err, QUANT_EINVAL,
                               "walk-forward run %s is '%s', not finished: judging part of a "
                               "run would judge the years it reached; run the walk-forward "
                               "again", info.run_id, info.status);
            free(info.request);
            return rc;
        }
        cJSON *j = cJSON_Parse(info.request);
        const char *fs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "features"));
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "horizon");
        snprintf(e->features, sizeof e->features, "%s", fs ? fs : "");
        e->horizon = cJSON_IsNumber(h) ? h->valueint : 0;
        cJSON_Delete(j);
        free(info.request);
        if (e->horizon < 1)
            return quant_err_set(err, QUANT_ESTORE, "walk-forward run %s has no horizon in "
                                 "its record", run_id);
        snprintf(e->target_kind, sizeof e->target_kind, "run");
        snprintf(e->target, sizeof e->target, "%s", info.run_id);
        return quant_prediction_read_run(series, info.run_id, rows, err);
    }
    struct quant_model_entry m;
    rc = quant_models_get(ws, req->model_id, NULL, &m, err);
    if (rc)
        return rc;
    snprintf(e->features, sizeof e->features, "%s", m.rec.feature_set);
    e->horizon = m.rec.horizon;
    snprintf(e->target_kind, sizeof e->target_kind, "model");
    snprintf(e->target, sizeof e->target, "%s", m.rec.id);
    rc = quant_prediction_read_test(series, m.rec.id, rows, err);
    if (!rc && rows->n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "model %s has no stored scores on its test segment: run `quant "
                           "score --model %s` (or train with --score) first; a model is only "
                           "judged on dates it never trained or early-stopped on",
                           m.rec.id, m.rec.id);
    quant_model_entry_release(&m);
    return rc;
}

static double or_default(double v, double d)
{
    return isnan(v) ? d : v;
}

static enum quant_code check_request(const struct quant_evaluate_request *req,
                                     struct quant_err *err)
{
    if (!req->run_id == !req->model_id)
        return quant_err_set(err, QUANT_EINVAL, "give a walk-forward run (--run ID) or a model "
                                                "(--model ID), one of the two");
    if (!isnan(req->buy_cost) && !(req->buy_cost >= 0 && req->buy_cost < 1))
        return quant_err_set(err, QUANT_EINVAL, "buy cost %g: a fraction of the traded weight "
                             "from 0 to below 1 (0.0005 = 5 bp)", req->buy_cost);
    if (!isnan(req->sell_cost) && !(req->sell_cost >= 0 && req->sell_cost < 1))
        return quant_err_set(err, QUANT_EINVAL, "sell cost %g: a fraction of the traded weight "
                             "from 0 to below 1 (0.0015 = 15 bp)", req->sell_cost);
    if (req->quantiles == 1 || req->quantiles > QUANT_EVAL_Q_MAX)
        return quant_err_set(err, QUANT_EINVAL, "quantiles %zu: use 2 to %d", req->quantiles,
                             QUANT_EVAL_Q_MAX);
    return QUANT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum quant_code quant_evaluate(struct quant_workspace *ws, const struct quant_evaluate_request *req,
                               struct quant_evaluation *e, struct quant_err *err)
{
    memset(e, 0, sizeof *e);
    double t0 = quant_clock_mono();
    enum quant_code rc = check_request(req, err);
    if (rc)
        return rc;
    struct quant_series_store *series = quant_workspace_series(ws, err);
    if (!series)
        return err->code ? err->code : QUANT_ESTORE;
    struct loaded L;
    memset(&L, 0, sizeof L);
    char bench[QUANT_SYMBOL_MAX + 1] = "";
    if (req->benchmark) {
        snprintf(bench, sizeof bench, "%s", req->benchmark);
        rc = quant_symbol_normalize(bench, err);
        L.bench_name = bench;
    }
    if (!rc)
        rc = load_target(ws, req, series, e, &L.rows, err);
    e->topk = req->topk ? req->topk : QUANT_EVAL_TOPK;
    e->n_drop = req->has_n_drop ? req->n_drop : QUANT_EVAL_N_DROP;
    e->quantiles = req->quantiles ? req->quantiles : QUANT_EVAL_QUANTILES;
    e->buy_cost = or_default(req->buy_cost, QUANT_EVAL_BUY_COST);
    e->sell_cost = or_default(req->sell_cost, QUANT_EVAL_SELL_COST);
    snprintf(e->benchmark, sizeof e->benchmark, "%s", bench);
    if (!rc) {
        L.s = calloc(L.rows.n_symbols ? L.rows.n_symbols : 1, sizeof *L.s);
        if (!L.s)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    /* The scan wants its symbols sorted and unique: the set's, plus the benchmark. */
    char **want = NULL;
    size_t n_want = 0;
    if (!rc) {
        want = calloc(L.rows.n_symbols + 1, sizeof *want);
        if (!want)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        for (size_t i = 0; want && i < L.rows.n_symbols; i++)
            want[n_want++] = L.rows.symbols[i];
        if (want && bench[0] && quant_strings_find(L.rows.symbols, L.rows.n_symbols, bench) < 0) {
            want[n_want++] = bench;
            qsort(want, n_want, sizeof *want, cmp_str);
        }
    }
    if (!rc) {
        struct quant_frames_request fq = {
            .set = NULL, .horizon = e->horizon, .want = (const char *const *)want,
            .n_want = n_want, .threads = req->threads,
        };
        rc = quant_frames_scan(series, &fq, on_frame, &L, err);
        if (!rc && L.rc)
            rc = quant_err_set(err, L.rc, "%s", L.error);
    }
    free(want);
    if (!rc && bench[0] && L.bench.n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND, "benchmark %s has no stored bars: ingest it "
                           "first (quant ingest --symbols %s)", bench, bench);
    struct panel p;
    memset(&p, 0, sizeof p);
    if (!rc)
        rc = build_panel(&L, &p, err);
    struct quant_universe *uni = NULL;
    if (!rc && req->universe) {
        rc = quant_universe_load(ws, req->universe, &uni, err);
        if (!rc) {
            snprintf(e->universe, sizeof e->universe, "%s", quant_universe_info(uni)->name);
            rc = mark_members(uni, L.rows.symbols, L.rows.n_symbols, &p, err);
        }
        quant_universe_free(uni);
    }
    /* prices per symbol id, as the backtest reads them */
    struct quant_eval_prices *prices = NULL;
    if (!rc) {
        prices = calloc(L.rows.n_symbols ? L.rows.n_symbols : 1, sizeof *prices);
        if (!prices)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        for (size_t i = 0; prices && i < L.rows.n_symbols; i++)
            prices[i] = (struct quant_eval_prices){L.s[i].date, L.s[i].close, L.s[i].n};
    }
    if (!rc) {
        e->n_predictions = p.n;
        e->n_symbols = L.rows.n_symbols;
        e->first_date = p.n ? p.date[0] : 0;
        e->last_date = p.n ? p.date[p.n - 1] : 0;
        e->single = e->n_symbols < QUANT_EVAL_MIN_CROSS;
        struct quant_eval_panel panel = {p.n, p.date, p.sym, p.score, p.fwd, p.member,
                                         L.rows.n_symbols};
        struct quant_eval_prices bp = {L.bench.date, L.bench.close, L.bench.n};
        struct quant_eval_bt_params bt;
        quant_eval_bt_params_default(&bt);
        bt.topk = e->topk;
        bt.n_drop = e->n_drop;
        bt.buy_cost = e->buy_cost;
        bt.sell_cost = e->sell_cost;
        bt.benchmark = bench[0] ? &bp : NULL;
        double c0 = quant_clock_mono();
        if (e->single) {
            rc = quant_eval_single_run(&panel, prices, &bt, &e->singles, err);
        } else {
            struct quant_eval_signal_params sp = {e->horizon, e->quantiles};
            rc = quant_eval_signal_compute(&panel, &sp, &e->signal, err);
            if (!rc)
                rc = quant_eval_backtest_run(&panel, prices, &bt, &e->backtest, err);
            if (!rc) {
                /* The benchmark judged as a strategy: no cost, no turnover. */
                size_t k = e->backtest.n_days;
                double *b = malloc((k ? k : 1) * sizeof *b);
                double *z = calloc(k ? k : 1, sizeof *z);
                if (!b || !z)
                    rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
                for (size_t j = 0; !rc && j < k; j++)
                    b[j] = e->backtest.days[j].benchmark;
                if (!rc)
                    quant_eval_bt_metrics_compute(b, z, z, b, k, &e->bench);
                free(b);
                free(z);
            }
        }
        e->compute_seconds = quant_clock_mono() - c0;
    }
    /* the names move to the result; the rest goes */
    e->symbols = L.rows.symbols;
    e->n_symbols = L.rows.n_symbols;
    L.rows.symbols = NULL;
    L.rows.n_symbols = 0;
    e->seconds = quant_clock_mono() - t0;
    if (!rc && !req->dry_run)
        rc = store_result(ws, e, err);
    free(prices);
    panel_release(&p);
    for (size_t i = 0; L.s && i < e->n_symbols; i++)
        series_release(&L.s[i]);
    free(L.s);
    series_release(&L.bench);
    quant_score_rows_release(&L.rows);
    return rc;
}

void quant_evaluation_release(struct quant_evaluation *e)
{
    quant_strings_free(e->symbols, e->n_symbols);
    quant_eval_signal_release(&e->signal);
    quant_eval_backtest_release(&e->backtest);
    quant_eval_singles_release(&e->singles);
    memset(e, 0, sizeof *e);
}

static void add_num(cJSON *j, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(j, k, v);
    else
        cJSON_AddNullToObject(j, k);
}

struct cJSON *quant_evaluation_to_json(const struct quant_evaluation *e)
{
    cJSON *j = e->single ? cJSON_CreateObject()
                         : quant_eval_to_json(&e->signal, &e->backtest.m);
    if (!j)
        return NULL;
    char d1[11] = "", d2[11] = "";
    if (e->n_predictions) {
        quant_date_format(e->first_date, d1);
        quant_date_format(e->last_date, d2);
    }
    cJSON_AddStringToObject(j, "evaluation", e->id);
    cJSON_AddStringToObject(j, "target", e->target);
    cJSON_AddStringToObject(j, "target_kind", e->target_kind);
    cJSON_AddStringToObject(j, "features", e->features);
    cJSON_AddNumberToObject(j, "horizon", e->horizon);
    cJSON_AddNumberToObject(j, "predictions", (double)e->n_predictions);
    cJSON_AddNumberToObject(j, "symbols", (double)e->n_symbols);
    cJSON_AddStringToObject(j, "first_date", d1);
    cJSON_AddStringToObject(j, "last_date", d2);
    cJSON_AddNumberToObject(j, "topk", (double)e->topk);
    cJSON_AddNumberToObject(j, "n_drop", (double)e->n_drop);
    cJSON_AddNumberToObject(j, "quantiles", (double)e->quantiles);
    cJSON_AddNumberToObject(j, "buy_cost", e->buy_cost);
    cJSON_AddNumberToObject(j, "sell_cost", e->sell_cost);
    cJSON_AddStringToObject(j, "benchmark", e->benchmark[0] ? e->benchmark : "equal-weighted");
    if (e->universe[0])
        cJSON_AddStringToObject(j, "universe", e->universe);
    if (!e->single) {
        add_num(j, "benchmark_total_return", e->bench.gross.total_return);
        add_num(j, "benchmark_annual_return", e->bench.gross.annual_return);
        add_num(j, "benchmark_annual_vol", e->bench.gross.annual_vol);
        add_num(j, "benchmark_sharpe", e->bench.gross.sharpe);
        add_num(j, "benchmark_max_drawdown", e->bench.gross.max_drawdown);
    } else {
        cJSON *per = cJSON_AddObjectToObject(j, "per_symbol");
        for (size_t i = 0; per && i < e->singles.n; i++) {
            const struct quant_eval_single *s = &e->singles.v[i];
            cJSON *one = quant_eval_single_to_json(s);
            if (one && s->symbol < e->n_symbols)
                cJSON_AddItemToObject(per, e->symbols[s->symbol], one);
            else
                cJSON_Delete(one);
        }
    }
    cJSON_AddStringToObject(j, "conventions", "252 periods a year, compounded returns, "
                            "risk-free rate 0, equal-weighted benchmark unless one is named");
    return j;
}
