/*
 * walkforward.c: `quant walkforward` (see walkforward.h).
 *
 * The usable rows of every symbol (every feature and the label exist) are
 * gathered from one scan of the bars, then put in (date, symbol) order in
 * place.  In that order each segment of a block is one contiguous run of
 * rows, so a block's train, valid and test sets are slices of the one panel:
 * nothing is copied per block, however many blocks there are.
 *
 * Rows with features but no label (the newest h dates of each symbol, and
 * dates next to a gap) cannot train anything; they are kept apart and scored
 * by the model of the block whose span holds their date.
 */
#include "quant/walkforward.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/clock.h"
#include "quant/evaluation.h"
#include "quant/ml_split.h"
#include "quant/universe.h"
#include "services/fit_internal.h"
#include "services/frames.h"
#include "store/feature_store.h"
#include "store/walkforward_store.h"
#include "core/banned.h"

/* ---- the panel: rows of every symbol ------------------------------------------- */

struct panel {
    size_t n, cap, nf;
    float *x;          /* n * nf, row-major */
    float *y;          /* n labels 0/1 (usable rows) */
    double *ret;       /* n forward returns (usable rows) */
    int32_t *date;
    uint32_t *sym;     /* index into the run's symbol list */
};

static void panel_release(struct panel *p)
{
    free(p->x);
    free(p->y);
    free(p->ret);
    free(p->date);
    free(p->sym);
    memset(p, 0, sizeof *p);
}

static int panel_grow(struct panel *p, size_t more)
{
    if (p->n + more <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < p->n + more)
        cap *= 2;
    float *x = realloc(p->x, cap * p->nf * sizeof *x);
    if (x)
        p->x = x;
    float *y = realloc(p->y, cap * sizeof *y);
    if (y)
        p->y = y;
    double *r = realloc(p->ret, cap * sizeof *r);
    if (r)
        p->ret = r;
    int32_t *d = realloc(p->date, cap * sizeof *d);
    if (d)
        p->date = d;
    uint32_t *s = realloc(p->sym, cap * sizeof *s);
    if (s)
        p->sym = s;
    if (!x || !y || !r || !d || !s)
        return -1;
    p->cap = cap;
    return 0;
}

/* Append bar t of frame f as a row of p. */
static void panel_push(struct panel *p, const struct quant_training_frame *f, size_t t,
                       uint32_t sym, int labelled)
{
    size_t n = f->n, i = p->n++;
    float *x = p->x + i * p->nf;
    for (size_t k = 0; k < p->nf; k++)
        x[k] = (float)f->features.values[k * n + t];
    p->y[i] = labelled && f->labels.values[n + t] > 0.5 ? 1.0f : 0.0f;
    p->ret[i] = labelled ? f->labels.values[t] : NAN;
    p->date[i] = f->dates[t];
    p->sym[i] = sym;
}

/*
 * Put the rows in (date, symbol) order, in place.  Rows come grouped by
 * symbol with dates ascending, so a stable counting sort on the date gives
 * (date, symbol) order; the permutation is then applied by following its
 * cycles, moving each row once with one row of scratch space (the panel can
 * be gigabytes: no second copy of it).
 */
static int panel_sort(struct panel *p)
{
    if (p->n < 2)
        return 0;
    size_t *perm = malloc(p->n * sizeof *perm);
    uint8_t *done = calloc(p->n, 1);
    float *tmp = malloc((p->nf ? p->nf : 1) * sizeof *tmp);
    int32_t lo = p->date[0], hi = p->date[0];
    for (size_t i = 1; i < p->n; i++) {
        lo = p->date[i] < lo ? p->date[i] : lo;
        hi = p->date[i] > hi ? p->date[i] : hi;
    }
    size_t span = (size_t)((int64_t)hi - lo) + 2;
    size_t *start = calloc(span, sizeof *start);
    if (!perm || !done || !tmp || !start) {
        free(perm);
        free(done);
        free(tmp);
        free(start);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++)
        start[p->date[i] - lo + 1]++;
    for (size_t k = 1; k < span; k++)
        start[k] += start[k - 1];
    /* perm[dest] = source; symbols arrive in index order, so this is stable. */
    for (size_t i = 0; i < p->n; i++)
        perm[start[p->date[i] - lo]++] = i;
    free(start);
    size_t nf = p->nf;
    for (size_t i = 0; i < p->n; i++) {
        if (done[i] || perm[i] == i) {
            done[i] = 1;
            continue;
        }
        memcpy(tmp, p->x + i * nf, nf * sizeof *tmp);
        float ty = p->y[i];
        double tr = p->ret[i];
        int32_t td = p->date[i];
        uint32_t ts = p->sym[i];
        size_t j = i;
        for (;;) {
            size_t k = perm[j];
            done[j] = 1;
            if (k == i) {
                memcpy(p->x + j * nf, tmp, nf * sizeof *tmp);
                p->y[j] = ty;
                p->ret[j] = tr;
                p->date[j] = td;
                p->sym[j] = ts;
                break;
            }
            memcpy(p->x + j * nf, p->x + k * nf, nf * sizeof *tmp);
            p->y[j] = p->y[k];
            p->ret[j] = p->ret[k];
            p->date[j] = p->date[k];
            p->sym[j] = p->sym[k];
            j = k;
        }
    }
    free(perm);
    free(done);
    free(tmp);
    return 0;
}

/* ---- gathering the rows from one scan ---------------------------------------------- */

struct gather {
    char **syms;          /* the run's symbols, sorted */
    size_t n_syms;
    const struct quant_universe *universe;  /* NULL: every date of every symbol */
    struct panel u;       /* usable rows: features and label */
    struct panel l;       /* features without a label */
    uint8_t *has_rows;    /* per symbol: at least one usable row */
    enum quant_code rc;
    char error[QUANT_ERR_MSG_MAX];
};

static int on_frame(void *ctx, const struct quant_frame_item *it)
{
    struct gather *g = ctx;
    if (it->code) {
        g->rc = it->code;
        snprintf(g->error, sizeof g->error, "%s", it->error);
        return 1;
    }
    long at = quant_strings_find(g->syms, g->n_syms, it->symbol);
    if (at < 0)
        return 0;
    uint32_t sym = (uint32_t)at;
    const struct quant_training_frame *f = it->frame;
    size_t n = f->n, nf = g->u.nf;
    size_t nu = 0, nl = 0;
    long ui = g->universe ? quant_universe_symbol_index(g->universe, it->symbol) : 0;
    if (ui < 0)
        return 0; /* never a member */
#define MEMBER(t) (!g->universe || quant_universe_member_at(g->universe, (size_t)ui, f->dates[t]))
    for (size_t t = 0; t < n; t++) {
        size_t k = 0;
        while (k < nf && f->features.valid[k * n + t])
            k++;
        if (k < nf || !MEMBER(t))
            continue;
        if (f->labels.valid[n + t])
            nu++;
        else
            nl++;
    }
    if (panel_grow(&g->u, nu) || panel_grow(&g->l, nl)) {
        g->rc = QUANT_ENOMEM;
        snprintf(g->error, sizeof g->error, "out of memory gathering rows (%zu so far)",
                 g->u.n + g->l.n);
        return 1;
    }
    for (size_t t = 0; t < n; t++) {
        size_t k = 0;
        while (k < nf && f->features.valid[k * n + t])
            k++;
        if (k < nf || !MEMBER(t))
            continue;
        if (f->labels.valid[n + t])
            panel_push(&g->u, f, t, sym, 1);
        else
            panel_push(&g->l, f, t, sym, 0);
    }
#undef MEMBER
    if (nu)
        g->has_rows[sym] = 1;
    return 0;
}

/* ---- blocks -------------------------------------------------------------------------- */

/* A block of evaluation.h's plan, with inclusive ends and its span. */
struct block {
    char label[16];
    size_t a, train_end, valid_begin, valid_end, s, e; /* date indices, inclusive ends */
    int32_t span_last;                                 /* INT32_MAX: open */
};

/* The spec's blocks (evaluation.h computes them) over D[0..m). */
static enum quant_code plan_blocks(const int32_t *D, const size_t *rows_before, size_t m,
                                   int h, int V, int step, int window, struct block **out,
                                   size_t *out_n, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    size_t *rows = malloc((m ? m : 1) * sizeof *rows);
    if (!rows)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++)
        rows[i] = rows_before[i + 1] - rows_before[i];
    struct quant_eval_wf_params p;
    quant_eval_wf_params_default(&p);
    p.horizon = h;
    p.valid_dates = (size_t)V;
    p.step = step > 0 ? QUANT_EVAL_STEP_DATES : QUANT_EVAL_STEP_YEAR;
    p.step_dates = step > 0 ? (size_t)step : 0;
    p.train_dates = window > 0 ? (size_t)window : 0;
    struct quant_eval_blocks b = {0};
    enum quant_code rc = quant_eval_blocks_compute(D, rows, m, &p, &b, err);
    free(rows);
    struct block *v = rc ? NULL : calloc(b.n ? b.n : 1, sizeof *v);
    if (!rc && !v)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < b.n; i++) {
        const struct quant_eval_block *x = &b.v[i];
        v[i] = (struct block){.a = x->train_begin, .train_end = x->train_end - 1,
                              .valid_begin = x->valid_begin, .valid_end = x->valid_end - 1,
                              .s = x->test_begin, .e = x->test_end - 1};
        if (x->year)
            snprintf(v[i].label, sizeof v[i].label, "%d", x->year);
        else
            snprintf(v[i].label, sizeof v[i].label, "b%02zu", i + 1);
        v[i].span_last = i + 1 < b.n ? D[b.v[i + 1].test_begin] - 1 : INT32_MAX;
    }
    if (!rc) {
        *out = v;
        *out_n = b.n;
    }
    quant_eval_blocks_release(&b);
    return rc;
}

/* ---- one run ------------------------------------------------------------------------- */

struct run {
    struct quant_workspace *ws;
    const struct quant_walkforward_request *req;
    struct quant_train_request treq;   /* the request as fit.c reads it */
    const struct quant_model_algo *algo;
    const struct quant_feature_set *set;
    int h, threads;
    struct gather g;
    int32_t *D;                        /* distinct dates of usable rows */
    size_t *rows_before;               /* m + 1: usable rows before D[i] */
    size_t m;
    char run_id[64];
};

static size_t lower_date(const struct panel *p, int32_t d)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->date[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A slice of the panel as a dataset fit.c reads (borrowed: never released). */
static struct quant_fit_dataset slice(const struct panel *p, size_t begin, size_t end)
{
    struct quant_fit_dataset d = {p->x + begin * p->nf, p->y + begin, end - begin, end - begin,
                                  p->nf};
    return d;
}

static cJSON *pair(int32_t a, int32_t b)
{
    char d1[11], d2[11];
    quant_date_format(a, d1);
    quant_date_format(b, d2);
    cJSON *v = cJSON_CreateArray();
    if (v) {
        cJSON_AddItemToArray(v, cJSON_CreateString(d1));
        cJSON_AddItemToArray(v, cJSON_CreateString(d2));
    }
    return v;
}

/* Every symbol with rows gets the block's segments (the same dates for all:
 * one pooled model), so `quant score --model` labels its rows correctly. */
static enum quant_code block_json(const struct run *r, const struct quant_walkforward_block *b,
                                  struct quant_fit_training *tr)
{
    for (size_t i = 0; i < r->g.n_syms; i++) {
        if (!r->g.has_rows[i])
            continue;
        cJSON *seg = cJSON_CreateObject();
        if (!seg)
            return QUANT_ENOMEM;
        cJSON_AddItemToObject(seg, "train", pair(b->train_first, b->train_last));
        cJSON_AddItemToObject(seg, "valid", pair(b->valid_first, b->valid_last));
        cJSON_AddItemToObject(seg, "test", pair(b->test_first, b->test_last));
        cJSON_AddItemToObject(tr->segments, r->g.syms[i], seg);
        cJSON_AddItemToArray(tr->symbols, cJSON_CreateString(r->g.syms[i]));
    }
    return QUANT_OK;
}

/* The scores of one block, regrouped per symbol for the predictions table. */
struct scored {
    size_t n;
    int32_t *dates;
    double *scores;
    uint8_t *segs;
    size_t *start;                 /* n_syms + 1 */
    struct quant_prediction_batch *batches;
    size_t n_batches;
};

static void scored_release(struct scored *s)
{
    free(s->dates);
    free(s->scores);
    free(s->segs);
    free(s->start);
    free(s->batches);
    memset(s, 0, sizeof *s);
}

/* Group rows [ub, ue) of u (scores su) and [lb, le) of l (scores sl) by symbol. */
static enum quant_code regroup(const struct run *r, size_t ub, size_t ue, const double *su,
                               size_t lb, size_t le, const double *sl, const char *model_id,
                               struct scored *out, struct quant_err *err)
{
    const struct panel *u = &r->g.u, *l = &r->g.l;
    size_t ns = r->g.n_syms, n = (ue - ub) + (le - lb);
    out->n = n;
    out->dates = malloc((n ? n : 1) * sizeof *out->dates);
    out->scores = malloc((n ? n : 1) * sizeof *out->scores);
    out->segs = malloc(n ? n : 1);
    out->start = calloc(ns + 2, sizeof *out->start);
    out->batches = calloc(ns ? ns : 1, sizeof *out->batches);
    if (!out->dates || !out->scores || !out->segs || !out->start || !out->batches)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory storing scores");
    for (size_t i = ub; i < ue; i++)
        out->start[u->sym[i] + 2]++;
    for (size_t i = lb; i < le; i++)
        out->start[l->sym[i] + 2]++;
    for (size_t k = 2; k < ns + 2; k++)
        out->start[k] += out->start[k - 1];
    /* start[k + 1] is now where symbol k's rows go; it ends as their end. */
    for (size_t i = ub; i < ue; i++) {
        size_t at = out->start[u->sym[i] + 1]++;
        out->dates[at] = u->date[i];
        out->scores[at] = su[i - ub];
        out->segs[at] = QUANT_SEGMENT_TEST;
    }
    for (size_t i = lb; i < le; i++) {
        size_t at = out->start[l->sym[i] + 1]++;
        out->dates[at] = l->date[i];
        out->scores[at] = sl[i - lb];
        out->segs[at] = QUANT_SEGMENT_UNLABELLED;
    }
    for (size_t k = 0; k < ns; k++) {
        size_t b = out->start[k], e = out->start[k + 1];
        if (e == b)
            continue;
        struct quant_prediction_batch *pb = &out->batches[out->n_batches++];
        pb->symbol = r->g.syms[k];
        pb->model_id = model_id;
        pb->dates = out->dates + b;
        pb->scores = out->scores + b;
        pb->segments = out->segs + b;
        pb->n = e - b;
    }
    return QUANT_OK;
}

static enum quant_code predict_rows(struct quant_model *m, const struct panel *p, size_t b,
                                    size_t e, double **out, struct quant_err *err)
{
    *out = malloc((e > b ? e - b : 1) * sizeof **out);
    if (!*out)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory scoring");
    if (e == b)
        return QUANT_OK;
    return quant_model_predict(m, p->x + b * p->nf, e - b, p->nf, *out, err);
}

/* Train, score, register and store one block. */
static enum quant_code run_block(struct run *r, const struct block *bk,
                                 struct quant_walkforward_block *b, struct quant_err *err)
{
    const struct panel *u = &r->g.u, *l = &r->g.l;
    double t0 = quant_clock_mono();
    size_t tb = r->rows_before[bk->a], te = r->rows_before[bk->train_end + 1];
    size_t vb = r->rows_before[bk->valid_begin], ve = r->rows_before[bk->valid_end + 1];
    size_t sb = r->rows_before[bk->s], se = r->rows_before[bk->e + 1];
    /* The label-less rows of the block's span: its test dates and up to the
     * next block (all the newest dates for the last one). */
    size_t lb = lower_date(l, r->D[bk->s]);
    size_t le = bk->span_last == INT32_MAX ? l->n : lower_date(l, bk->span_last + 1);
    struct quant_fit_training tr;
    quant_fit_training_init_(&tr, r->set, r->h);
    tr.train = slice(u, tb, te);
    tr.valid = slice(u, vb, ve);
    tr.test = slice(u, sb, se);
    enum quant_code rc = tr.segments && tr.symbols ? block_json(r, b, &tr) : QUANT_ENOMEM;
    if (rc)
        quant_err_set(err, rc, "out of memory");
    struct quant_train_opts o;
    quant_fit_opts_(&r->treq, r->threads, &o);
    struct quant_train_result res;
    memset(&res, 0, sizeof res);
    struct quant_model *model = NULL;
    if (!rc) {
        quant_fit_one_(r->algo, &o, &tr, &model, &res);
        if (res.code)
            rc = quant_err_set(err, res.code, "block %s: %s", b->label, res.error);
    }
    double *su = NULL, *sl = NULL;
    if (!rc)
        rc = predict_rows(model, u, sb, se, &su, err);
    if (!rc)
        rc = predict_rows(model, l, lb, le, &sl, err);
    cJSON *extra = NULL;
    if (!rc) {
        extra = cJSON_CreateObject();
        cJSON *wf = extra ? cJSON_AddObjectToObject(extra, "walkforward") : NULL;
        if (wf) {
            cJSON_AddStringToObject(wf, "run", r->run_id);
            cJSON_AddStringToObject(wf, "block", b->label);
            cJSON_AddItemToObject(wf, "test", pair(b->test_first, b->test_last));
        } else {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        }
    }
    if (!rc) {
        snprintf(res.model_id, sizeof res.model_id, "%s_%s", r->run_id, b->label);
        quant_fit_register_(r->ws, &r->treq, r->algo, &o, &tr, model, b->label, extra, &res);
        if (res.code)
            rc = quant_err_set(err, res.code, "block %s: %s", b->label, res.error);
    }
    struct scored sc;
    memset(&sc, 0, sizeof sc);
    if (!rc)
        rc = regroup(r, sb, se, su, lb, le, sl, res.model_id, &sc, err);
    struct quant_series_store *series = quant_workspace_series(r->ws, NULL);
    if (!rc)
        rc = quant_prediction_store_write_many(series, sc.batches, sc.n_batches, err);
    if (!rc) {
        struct quant_wf_block_row row = {
            r->run_id, b->label, res.model_id, b->train_first, b->train_last, b->valid_first,
            b->valid_last, b->test_first, b->test_last, bk->span_last, (int64_t)b->n_train,
            (int64_t)b->n_valid, (int64_t)b->n_test, (int64_t)sc.n,
        };
        rc = quant_wf_store_block(series, &row, err);
    }
    if (!rc) {
        b->n_scored = sc.n;
        snprintf(b->model_id, sizeof b->model_id, "%s", res.model_id);
        b->info = res.info;
        b->metrics = res.metrics;
    }
    b->seconds = quant_clock_mono() - t0;
    scored_release(&sc);
    cJSON_Delete(extra);
    free(su);
    free(sl);
    quant_model_free(model);
    /* The datasets are slices of the panel: only the JSON is the training's. */
    cJSON_Delete(tr.segments);
    cJSON_Delete(tr.symbols);
    return rc;
}

static void describe(const struct run *r, const struct block *bk, struct quant_walkforward_block *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->label, sizeof b->label, "%s", bk->label);
    b->train_first = r->D[bk->a];
    b->train_last = r->D[bk->train_end];
    b->valid_first = r->D[bk->valid_begin];
    b->valid_last = r->D[bk->valid_end];
    b->test_first = r->D[bk->s];
    b->test_last = r->D[bk->e];
    b->n_train = r->rows_before[bk->train_end + 1] - r->rows_before[bk->a];
    b->n_valid = r->rows_before[bk->valid_end + 1] - r->rows_before[bk->valid_begin];
    b->n_test = r->rows_before[bk->e + 1] - r->rows_before[bk->s];
}

/* D and the usable rows before each date, from the sorted panel. */
static enum quant_code index_dates(struct run *r, struct quant_err *err)
{
    const struct panel *u = &r->g.u;
    r->D = malloc((u->n ? u->n : 1) * sizeof *r->D);
    r->rows_before = malloc((u->n + 1) * sizeof *r->rows_before);
    if (!r->D || !r->rows_before)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (i == 0 || u->date[i] != u->date[i - 1]) {
            r->D[m] = u->date[i];
            r->rows_before[m++] = i;
        }
    }
    r->rows_before[m] = u->n;
    r->m = m;
    return QUANT_OK;
}

static char *request_json(const struct run *r, size_t n_blocks)
{
    const struct quant_walkforward_request *q = r->req;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "features", quant_feature_set_name(r->set));
    cJSON_AddNumberToObject(j, "horizon", r->h);
    cJSON_AddStringToObject(j, "algo", quant_model_algo_name(r->algo));
    cJSON *p = cJSON_AddArrayToObject(j, "params");
    for (size_t i = 0; p && i < q->n_params; i++)
        cJSON_AddItemToArray(p, cJSON_CreateString(q->params[i]));
    cJSON_AddNumberToObject(j, "rounds", r->treq.rounds ? r->treq.rounds
                                                        : QUANT_TRAIN_ROUNDS_DEFAULT);
    cJSON_AddNumberToObject(j, "early_stopping",
                            q->early_stopping == QUANT_TRAIN_EARLY_STOP_OFF ? 0
                            : q->early_stopping > 0 ? q->early_stopping
                                                    : QUANT_TRAIN_EARLY_STOP_DEFAULT);
    cJSON_AddNumberToObject(j, "seed", (double)(q->seed ? q->seed : 42));
    if (q->step > 0)
        cJSON_AddNumberToObject(j, "step", q->step);
    else
        cJSON_AddStringToObject(j, "step", "year");
    if (q->train_window > 0)
        cJSON_AddNumberToObject(j, "train_window", q->train_window);
    else
        cJSON_AddStringToObject(j, "train_window", "expanding");
    cJSON_AddNumberToObject(j, "valid_days", q->valid_days > 0 ? q->valid_days
                                                               : QUANT_WF_VALID_DAYS_DEFAULT);
    cJSON_AddNumberToObject(j, "blocks", (double)n_blocks);
    if (q->universe)
        cJSON_AddStringToObject(j, "universe", q->universe);
    cJSON *s = cJSON_AddArrayToObject(j, "symbols");
    for (size_t i = 0; s && i < r->g.n_syms; i++)
        if (r->g.has_rows[i])
            cJSON_AddItemToArray(s, cJSON_CreateString(r->g.syms[i]));
    return quant_fit_json_print_(j);
}

/* The request's JSON text with "error": msg added (NULL when out of memory:
 * the run is still marked failed, without its reason). */
static char *with_error(const char *request, const char *msg)
{
    cJSON *j = cJSON_Parse(request);
    if (j && !cJSON_AddStringToObject(j, "error", msg)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return quant_fit_json_print_(j);
}

static void new_run_id(struct run *r)
{
    char stamp[32];
    quant_utc_format((int64_t)time(NULL), QUANT_UTC_STAMP, stamp, sizeof stamp);
    snprintf(r->run_id, sizeof r->run_id, "wf_%s", stamp);
    struct quant_series_store *s = quant_workspace_series(r->ws, NULL);
    struct quant_err e;
    int taken = 0;
    for (int k = 2; s && quant_wf_store_run_exists(s, r->run_id, &taken, &e) == QUANT_OK && taken;
         k++)
        snprintf(r->run_id, sizeof r->run_id, "wf_%s_%d", stamp, k);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum quant_code check_request(const struct quant_walkforward_request *q,
                                     struct quant_err *err)
{
    if (q->n_symbols == 0 && !q->universe)
        return quant_err_set(err, QUANT_EINVAL, "give the symbols to walk forward over "
                                                "(--symbols AAPL ..., --all or --universe)");
    /* 0 is the default; any other horizon must be one labels are computed
     * for: below 1 the frames come without labels, and gathering rows would
     * read label columns that do not exist. */
    if (q->horizon != 0 &&
        (q->horizon < QUANT_LABEL_HORIZON_MIN || q->horizon > QUANT_LABEL_HORIZON_MAX))
        return quant_err_set(err, QUANT_EINVAL, "horizon %d: use %d to %d trading days",
                             q->horizon, QUANT_LABEL_HORIZON_MIN, QUANT_LABEL_HORIZON_MAX);
    if (q->step < 0)
        return quant_err_set(err, QUANT_EINVAL, "step %d: use year or a number of dates", q->step);
    if (q->train_window < 0 ||
        (q->train_window > 0 && q->train_window < QUANT_WF_MIN_TRAIN_DATES))
        return quant_err_set(err, QUANT_EINVAL,
                             "a rolling train window of %d dates is shorter than the %d the "
                             "spec asks of a train segment; use %d or more, or expanding",
                             q->train_window, QUANT_WF_MIN_TRAIN_DATES, QUANT_WF_MIN_TRAIN_DATES);
    if (q->valid_days < 0)
        return quant_err_set(err, QUANT_EINVAL, "valid days %d: use 1 or more", q->valid_days);
    if (q->early_stopping < QUANT_TRAIN_EARLY_STOP_OFF)
        return quant_err_set(err, QUANT_EINVAL, "early stopping %d is not a number of rounds",
                             q->early_stopping);
    return QUANT_OK;
}

enum quant_code quant_walkforward(struct quant_workspace *ws,
                                  const struct quant_walkforward_request *req,
                                  const struct quant_walkforward_observer *obs,
                                  struct quant_walkforward_summary *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = quant_clock_mono();
    enum quant_code rc = check_request(req, err);
    if (rc)
        return rc;
    struct run r;
    memset(&r, 0, sizeof r);
    r.ws = ws;
    r.req = req;
    const char *algo_name = req->algo ? req->algo : "lightgbm";
    r.algo = quant_model_algo_find(algo_name);
    if (!r.algo)
        return quant_err_set(err, QUANT_EINVAL, "unknown algorithm '%.40s': use lightgbm or "
                                                "xgboost", algo_name);
    r.set = req->set ? req->set : quant_feature_set_find("tech-v1");
    r.h = req->horizon ? req->horizon : QUANT_LABEL_HORIZON_DEFAULT;
    r.threads = req->threads > 0 ? req->threads : QUANT_TRAIN_THREADS_DEFAULT;
    int V = req->valid_days > 0 ? req->valid_days : QUANT_WF_VALID_DAYS_DEFAULT;
    r.treq = (struct quant_train_request){
        .symbols = req->symbols, .n_symbols = req->n_symbols, .set = r.set, .horizon = r.h,
        .algo = algo_name, .params = req->params, .n_params = req->n_params,
        .rounds = req->rounds, .early_stopping = req->early_stopping, .pooled = 1,
        .seed = req->seed, .threads = r.threads,
    };
    rc = quant_model_params_check(r.algo, req->params, req->n_params, err);
    struct quant_universe *uni = NULL;
    if (!rc && req->universe)
        rc = quant_universe_load(ws, req->universe, &uni, err);
    r.g.universe = uni;
    if (!rc && req->n_symbols) {
        rc = quant_symbols_normalize_all(req->symbols, req->n_symbols, &r.g.syms, &r.g.n_syms,
                                         err);
    } else if (!rc) {
        /* the universe's own symbols */
        size_t k = quant_universe_symbol_count(uni);
        const char **names = malloc((k ? k : 1) * sizeof *names);
        for (size_t i = 0; names && i < k; i++)
            names[i] = quant_universe_symbol(uni, i);
        rc = names ? quant_symbols_normalize_all(names, k, &r.g.syms, &r.g.n_syms, err)
                   : quant_err_set(err, QUANT_ENOMEM, "out of memory");
        free(names);
    }
    if (rc) {
        quant_universe_free(uni);
        return rc;
    }
    qsort(r.g.syms, r.g.n_syms, sizeof *r.g.syms, cmp_str);
    size_t nf = quant_feature_set_size(r.set);
    r.g.u.nf = r.g.l.nf = nf;
    r.g.has_rows = calloc(r.g.n_syms, 1);
    struct quant_series_store *series = quant_workspace_series(ws, err);
    if (!r.g.has_rows)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    else if (!series)
        rc = err->code ? err->code : QUANT_ESTORE;
    struct quant_frames_request fq = {
        .set = r.set, .horizon = r.h, .want = (const char *const *)r.g.syms,
        .n_want = r.g.n_syms, .threads = r.threads,
    };
    if (!rc)
        rc = quant_frames_scan(series, &fq, on_frame, &r.g, err);
    if (!rc && r.g.rc)
        rc = quant_err_set(err, r.g.rc, "%s", r.g.error);
    if (!rc && (panel_sort(&r.g.u) || panel_sort(&r.g.l)))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory ordering %zu rows by date",
                           r.g.u.n);
    if (!rc && r.g.u.n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "none of the %zu symbols has a date with every %s feature and an "
                           "h=%d label: ingest more history first", r.g.n_syms,
                           quant_feature_set_name(r.set), r.h);
    if (!rc)
        rc = index_dates(&r, err);
    struct block *blocks = NULL;
    size_t nb = 0;
    if (!rc)
        rc = plan_blocks(r.D, r.rows_before, r.m, r.h, V, req->step, req->train_window, &blocks,
                         &nb, err);
    for (size_t i = 0; i < r.g.n_syms; i++)
        out->n_symbols += r.g.has_rows[i];
    out->n_rows = r.g.u.n;
    char *rq = NULL;
    if (!rc) {
        new_run_id(&r);
        rq = request_json(&r, nb);
        rc = rq ? quant_wf_store_run_begin(series, r.run_id, rq, (int64_t)nb, err)
                : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    int begun = !rc;
    if (!rc) {
        snprintf(out->run_id, sizeof out->run_id, "%s", r.run_id);
        out->n_blocks = nb;
        if (obs && obs->on_plan)
            obs->on_plan(obs->ctx, nb, r.g.u.n, out->n_symbols);
    }
    for (size_t i = 0; !rc && i < nb; i++) {
        struct quant_walkforward_block b;
        describe(&r, &blocks[i], &b);
        if (obs && obs->on_block_start)
            obs->on_block_start(obs->ctx, i, nb, &b);
        rc = run_block(&r, &blocks[i], &b, err);
        if (!rc) {
            out->n_predictions += b.n_scored;
            if (i == 0)
                out->first_test = b.test_first;
            out->last_test = b.test_last;
            if (obs && obs->on_block_done)
                obs->on_block_done(obs->ctx, i, nb, &b);
        }
    }
    if (begun) {
        struct quant_err e;
        quant_err_clear(&e);
        /* A failed run keeps its reason beside its parameters, so the store
         * says why without the terminal that ran it. */
        char *failed = rc ? with_error(rq, err->msg) : NULL;
        enum quant_code fc = quant_wf_store_run_finish(series, r.run_id, rc ? "failed" : "ok",
                                                       (int64_t)out->n_predictions, failed, &e);
        free(failed);
        if (!rc && fc)
            rc = quant_err_set(err, fc, "%s", e.msg);
    }
    free(rq);
    free(blocks);
    free(r.D);
    free(r.rows_before);
    panel_release(&r.g.u);
    panel_release(&r.g.l);
    free(r.g.has_rows);
    quant_strings_free(r.g.syms, r.g.n_syms);
    quant_universe_free(uni);
    out->seconds = quant_clock_mono() - t0;
    return rc;
}
