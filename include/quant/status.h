/*
 * status.h: the service behind `quant status` and the dashboard's overview,
 * in a QUANT_WS_READ workspace (workspace.h): it never writes, and never
 * waits for a process writing the series store.
 *
 * Ownership: output arrays are malloc'd; the caller frees them (free() for
 * quant_symbol_status arrays, quant_table_release for tables).
 */
#ifndef QUANT_STATUS_H
#define QUANT_STATUS_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/meta_store.h"
#include "quant/metrics.h"
#include "quant/series_store.h"
#include "quant/workspace.h"

#define QUANT_STATUS_MAX_SETS 4

/* What was derived for a symbol: one feature set, or the latest labels. */
struct quant_derived_status {
    int present;          /* computed at least once */
    int stale;            /* its bars changed since: a rerun would recompute */
    long rows, values;
    int32_t last_date;
    int horizon;          /* labels only */
};

struct quant_symbol_status {
    struct quant_symbol_info info;
    int registered;                      /* in the symbols table */
    int active;
    struct quant_series_summary series;  /* bars = 0 when none stored */
    int has_run;
    struct quant_ingest_run last_run;
    /* features, in quant_feature_set_at() order */
    struct quant_derived_status sets[QUANT_STATUS_MAX_SETS];
    struct quant_derived_status labels;  /* the horizon computed last */
    long predictions;                    /* rows in predictions, all models */
    int32_t predictions_last;            /* newest predicted date (0 = none) */
    char model_id[96];                   /* newest model trained on it ("" = none) */
    struct quant_metrics model;          /* its test metrics (NAN where unknown) */
    char model_warning[256];             /* quant_metrics_warning's text, "" when none */
    int64_t labels_computed_at_;         /* internal: picks that horizon */
};

/*
 * One row per symbol that is registered or has bars, sorted by symbol.
 * QUANT_ENOTFOUND (message: run `quant init-db`) when no store exists yet.
 * While another process writes the series store, the rows hold what the
 * metadata store knows (no bars, derived data or predictions) and
 * series_note says who holds it; otherwise series_note is "".
 * *out is malloc'd: free() it.
 */
enum quant_code quant_status(struct quant_workspace *ws, struct quant_symbol_status **out,
                             size_t *out_n, char *series_note, size_t note_len,
                             struct quant_err *err);

/*
 * The evaluation half at a glance: walk-forward runs and evaluations, the
 * newest of each.  wf_runs = -1 when the series store could not be read
 * (busy or missing); evaluations = 0 when there is no registry yet.
 */
struct quant_research_status {
    long wf_runs;
    char wf_latest[64], wf_state[16];      /* "ok", "running", "failed" */
    long wf_blocks, wf_predictions;
    long evaluations;
    char ev_latest[64], ev_target[96];
    double ev_rank_ic, ev_rank_ic_tstat_nw, ev_sharpe, ev_bench_sharpe, ev_excess;
};
enum quant_code quant_status_research(struct quant_workspace *ws,
                                      struct quant_research_status *out, struct quant_err *err);

#endif
