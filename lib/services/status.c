/*
 * status.c: the service behind `quant status` and the dashboard's overview:
 * one row per symbol joining the registry, the stored series, what was
 * derived, predictions and the latest model.  It works in a QUANT_WS_READ
 * workspace, so it never changes a byte; while another process writes the
 * series store it answers with what the metadata store knows and says so.
 */
#include "quant/status.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "store/feature_store.h"
#include "quant/evaluate.h"
#include "quant/models.h"
#include "store/walkforward_store.h"
#include "quant/feature_sets.h"
#include "core/banned.h"

/* Fill the derived columns from derived_state; a store that predates those
 * tables simply has nothing derived yet. */
static void add_derived(struct quant_series_store *s, struct quant_symbol_status *v, size_t n)
{
    struct quant_err e;
    struct quant_input_state *in = NULL;
    struct quant_derived_state *st = NULL;
    size_t nin = 0, nst = 0;
    if (quant_feature_store_inputs(s, &in, &nin, &e) ||
        quant_feature_store_states(s, NULL, &st, &nst, &e)) {
        free(in);
        free(st);
        return;
    }
    for (size_t k = 0; k < nst; k++) {
        struct quant_symbol_status *row = NULL;
        for (size_t i = 0; i < n && !row; i++)
            if (strcmp(v[i].info.symbol, st[k].symbol) == 0)
                row = &v[i];
        if (!row)
            continue;
        const char *fp = "";
        for (size_t i = 0; i < nin; i++)
            if (strcmp(in[i].symbol, st[k].symbol) == 0)
                fp = in[i].fingerprint;
        struct quant_derived_status d = {1, strcmp(fp, st[k].fingerprint) != 0, st[k].rows,
                                         st[k].values, st[k].last_date, 0};
        if (strncmp(st[k].kind, "labels:h", 8) == 0) {
            d.horizon = (int)strtol(st[k].kind + 8, NULL, 10);
            /* several horizons: show the one computed last */
            if (!row->labels.present || st[k].computed_at >= row->labels_computed_at_) {
                row->labels = d;
                row->labels_computed_at_ = st[k].computed_at;
            }
            continue;
        }
        for (size_t i = 0; i < quant_feature_set_count() && i < QUANT_STATUS_MAX_SETS; i++)
            if (strcmp(quant_feature_set_name(quant_feature_set_at(i)), st[k].kind) == 0)
                row->sets[i] = d;
    }
    free(in);
    free(st);
}

static struct quant_symbol_status *find_row(struct quant_symbol_status *v, size_t n,
                                            const char *symbol)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].info.symbol, symbol) == 0)
            return &v[i];
    return NULL;
}

/* Predictions per symbol (a store from before the predictions table has none). */
static void add_predictions(struct quant_series_store *s, struct quant_symbol_status *v, size_t n)
{
    struct quant_table t;
    struct quant_err e;
    memset(&t, 0, sizeof t);
    if (quant_series_store_query(s, "SELECT symbol, count(*), max(date) FROM predictions"
                                    " GROUP BY symbol", 0, &t, &e))
        return;
    for (size_t r = 0; r < t.nrows; r++) {
        struct quant_symbol_status *row = find_row(v, n, t.cells[r * 3] ? t.cells[r * 3] : "");
        if (!row || !t.cells[r * 3 + 1] || !t.cells[r * 3 + 2])
            continue;
        row->predictions = strtol(t.cells[r * 3 + 1], NULL, 10);
        int32_t d;
        if (quant_date_parse(t.cells[r * 3 + 2], strlen(t.cells[r * 3 + 2]), &d) == 0)
            row->predictions_last = d;
    }
    quant_table_release(&t);
}

/* The newest model trained on each symbol, with its test metrics and the
 * warning they earn (one class only, no better than the baselines). */
/* The newest model of each symbol, its metrics judged (models.c). */
static void add_models(struct quant_workspace *ws, struct quant_symbol_status *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct quant_model_entry *e = NULL;
        size_t ne = 0;
        struct quant_err ignore;
        if (quant_models_list(ws, v[i].info.symbol, &e, &ne, &ignore))
            continue;
        if (ne) {
            snprintf(v[i].model_id, sizeof v[i].model_id, "%s", e[0].rec.id);
            v[i].model = e[0].metrics;
            snprintf(v[i].model_warning, sizeof v[i].model_warning, "%s", e[0].warning);
        }
        quant_models_free(e, ne);
    }
}

static int status_cmp(const void *a, const void *b)
{
    const struct quant_symbol_status *x = a, *y = b;
    return strcmp(x->info.symbol, y->info.symbol);
}

/* Find or append the row for symbol. */
static struct quant_symbol_status *row_for(struct quant_symbol_status **v, size_t *n,
                                           const char *symbol)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].info.symbol, symbol) == 0)
            return &(*v)[i];
    struct quant_symbol_status *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    *v = nv;
    struct quant_symbol_status *r = &nv[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->info.symbol, sizeof r->info.symbol, "%s", symbol);
    snprintf(r->series.symbol, sizeof r->series.symbol, "%s", symbol);
    return r;
}

enum quant_code quant_status(struct quant_workspace *ws, struct quant_symbol_status **out,
                             size_t *out_n, char *series_note, size_t note_len,
                             struct quant_err *err)
{
    struct quant_series_summary *sums = NULL;
    struct quant_symbol_record *recs = NULL;
    struct quant_symbol_status *v = NULL;
    size_t ns = 0, nr = 0, n = 0;
    *out = NULL;
    *out_n = 0;
    if (note_len)
        series_note[0] = '\0';

    /* A series store being written is not a failure: the registry, the runs
     * and the models are still worth showing. */
    struct quant_err why;
    quant_err_clear(&why);
    struct quant_series_store *s = quant_workspace_series(ws, &why);
    enum quant_code rc = QUANT_OK;
    if (!s && why.code == QUANT_ELOCKED)
        snprintf(series_note, note_len, "%s", why.msg);
    else if (!s)
        rc = quant_err_set(err, why.code, "%s", why.msg);
    if (!rc && s)
        rc = quant_series_store_summary(s, &sums, &ns, err);
    struct quant_meta_store *m = rc ? NULL : quant_workspace_meta(ws, err);
    if (!rc && !m)
        rc = err->code;
    if (!rc)
        rc = quant_meta_symbol_list(m, 0, &recs, &nr, err);
    for (size_t i = 0; i < nr && !rc; i++) {
        struct quant_symbol_status *r = row_for(&v, &n, recs[i].info.symbol);
        if (!r) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            break;
        }
        r->info = recs[i].info;
        r->registered = 1;
        r->active = recs[i].active;
    }
    for (size_t i = 0; i < ns && !rc; i++) {
        struct quant_symbol_status *r = row_for(&v, &n, sums[i].symbol);
        if (!r) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            break;
        }
        r->series = sums[i];
    }
    for (size_t i = 0; i < n && !rc; i++) {
        struct quant_err e;
        if (quant_meta_run_last(m, v[i].info.symbol, &v[i].last_run, &e) == QUANT_OK)
            v[i].has_run = 1;
    }
    if (!rc) {
        if (s) {
            add_derived(s, v, n);
            add_predictions(s, v, n);
        }
        add_models(ws, v, n);
    }
    free(sums);
    free(recs);
    if (rc) {
        free(v);
        return rc;
    }
    if (n > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(v, n, sizeof *v, status_cmp);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/* ---- walk-forward runs and evaluations ------------------------------------------- */

static double metric(const cJSON *m, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

enum quant_code quant_status_research(struct quant_workspace *ws,
                                      struct quant_research_status *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    out->wf_runs = -1;
    out->ev_rank_ic = out->ev_rank_ic_tstat_nw = out->ev_sharpe = out->ev_bench_sharpe =
        out->ev_excess = NAN;
    struct quant_err e;
    quant_err_clear(&e);
    struct quant_series_store *series = quant_workspace_series(ws, &e);
    if (series) {
        struct quant_wf_run_info latest;
        if (quant_wf_store_summary(series, &out->wf_runs, &latest, err))
            return err->code;
        snprintf(out->wf_latest, sizeof out->wf_latest, "%s", latest.run_id);
        snprintf(out->wf_state, sizeof out->wf_state, "%s", latest.status);
        out->wf_blocks = (long)latest.n_blocks;
        out->wf_predictions = (long)latest.n_predictions;
    }
    struct quant_evaluation_record *v = NULL;
    size_t n = 0;
    enum quant_code rc = quant_evaluations_list(ws, &v, &n, err);
    if (rc)
        return rc;
    out->evaluations = (long)n;
    if (n) {
        snprintf(out->ev_latest, sizeof out->ev_latest, "%s", v[0].id);
        snprintf(out->ev_target, sizeof out->ev_target, "%s %s", v[0].target_kind,
                 v[0].target);
        cJSON *m = cJSON_Parse(v[0].metrics_json);
        out->ev_rank_ic = metric(m, "rank_ic");
        out->ev_rank_ic_tstat_nw = metric(m, "rank_ic_tstat_nw");
        out->ev_sharpe = metric(m, "sharpe");
        out->ev_bench_sharpe = metric(m, "benchmark_sharpe");
        out->ev_excess = metric(m, "excess_return");
        cJSON_Delete(m);
    }
    for (size_t i = 0; i < n; i++)
        quant_evaluation_record_release(&v[i]);
    free(v);
    return QUANT_OK;
}
