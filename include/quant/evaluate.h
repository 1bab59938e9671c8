/*
 * evaluate.h: `quant evaluate`, whether a prediction set would have made
 * money, as shared/spec/EVALUATION.md defines it (signal analysis and the
 * daily top-k drop-out backtest with costs; per symbol below 5 symbols).
 *
 *   a walk-forward run's scores (walkforward_predictions), or a model's scores
 *   on its test segment only (predictions.segment = 'test')
 *     + fwd_ret_h and adjusted closes computed from the stored bars (frames)
 *     --> evaluation.h's kernels
 *     --> a registry row (evaluations: parameters and every metric) and the
 *         daily series (evaluation_daily in DuckDB), then the report
 *
 * Ownership: quant_evaluate fills *out (zeroed first); release it with
 * quant_evaluation_release, also after a failure.
 */
#ifndef QUANT_EVALUATE_H
#define QUANT_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/evaluation.h"
#include "quant/workspace.h"

struct quant_evaluate_request {
    const char *run_id;            /* a walk-forward run id, or NULL */
    const char *model_id;          /* a registered model id (or "latest"), or NULL */
    size_t topk;                   /* 0 = 50 */
    size_t n_drop;                 /* the spec's m; default 5 (set has_n_drop for 0) */
    int has_n_drop;
    size_t quantiles;              /* 0 = 5 */
    double buy_cost, sell_cost;    /* NAN = the spec's defaults */
    const char *benchmark;         /* a stored symbol, or NULL: equal-weighted */
    const char *universe;          /* a universe name (point-in-time membership), or NULL */
    int threads;                   /* for reading; 0 = 2 */
    int dry_run;                   /* 1: compute only, store nothing */
};

struct quant_evaluation {
    char id[64];                   /* "ev_20261205_213000" ("" with dry_run) */
    char target_kind[8];           /* "run" or "model" */
    char target[96];               /* the run or model id */
    char features[32];
    int horizon;
    size_t n_predictions;          /* rows of the prediction set */
    size_t n_symbols;
    char **symbols;                /* n_symbols names, ascending (the panel's ids) */
    int32_t first_date, last_date; /* of the prediction set */
    int single;                    /* fewer than 5 symbols: per-symbol results */
    /* the parameters used (defaults filled in) */
    size_t topk, n_drop, quantiles;
    double buy_cost, sell_cost;
    char benchmark[40];            /* "" = equal-weighted */
    char universe[72];
    /* results */
    struct quant_eval_signal signal;       /* cross-section only */
    struct quant_eval_backtest backtest;   /* cross-section only */
    struct quant_eval_bt_metrics bench;    /* the benchmark as a strategy (no cost) */
    struct quant_eval_singles singles;     /* single only */
    double seconds;                /* reading and computing, storing excluded */
    double compute_seconds;        /* the kernels alone */
};

/* ---- stored evaluations (the dashboard's Evaluation page) ---------------- */

/* One row of evaluation_daily (evaluation_store.h says which date each
 * column belongs to).  NAN for SQL NULL; n < 0 for NULL. */
struct quant_eval_daily_row {
    int32_t date;
    int64_t n;
    double ic, rank_ic;
    double gross, net, benchmark, turnover, cost, equity, equity_gross, equity_benchmark;
};

struct quant_evaluation_record;   /* meta_store.h */

/* Newest first; a workspace with no registry yet (no store, or a read-only
 * one of a metadata schema before the registry) has none.  *out malloc'd:
 * release each record (quant_evaluation_record_release), then free it. */
enum quant_code quant_evaluations_list(struct quant_workspace *ws,
                                       struct quant_evaluation_record **out, size_t *out_n,
                                       struct quant_err *err);

/* One stored evaluation: its registry row and its daily rows (symbol ""
 * for a cross-section row).  *rows and *symbols malloc'd; QUANT_ENOTFOUND
 * when there is no such id. */
enum quant_code quant_evaluation_read(struct quant_workspace *ws, const char *id,
                                      struct quant_evaluation_record *rec,
                                      struct quant_eval_daily_row **rows, char (**symbols)[33],
                                      size_t *n, struct quant_err *err);

enum quant_code quant_evaluate(struct quant_workspace *ws, const struct quant_evaluate_request *req,
                               struct quant_evaluation *out, struct quant_err *err);
void quant_evaluation_release(struct quant_evaluation *e);

/* The spec's keys (evaluation.h's quant_eval_to_json) plus what was judged:
 * "evaluation", "target", "features", "horizon", "predictions", "symbols",
 * "first_date", "last_date", the parameters, and "benchmark_*" metrics.
 * NULL when out of memory; the caller cJSON_Delete()s. */
struct cJSON *quant_evaluation_to_json(const struct quant_evaluation *e);

#endif
