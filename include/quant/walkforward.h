/*
 * walkforward.h: `quant walkforward`, rolling retraining as
 * shared/spec/EVALUATION.md ("Walk-forward") defines it.
 *
 *   bars --frames (features + labels on read)--> usable rows of every symbol
 *        --> distinct dates D, test blocks (calendar years or N dates)
 *        --> per block: one pooled model trained on train, early-stopped on
 *            valid (an embargo of h dates before each), scoring its test span
 *        --> models registered (params.walkforward = {run, block}), scores in
 *            predictions, the run and its blocks in walkforward_runs /
 *            walkforward_blocks, read back through the walkforward_predictions
 *            view (walkforward_store.h)
 *
 * Every score of a run comes from a model that saw no label overlapping its
 * date: the union of the blocks' test spans is the run's out-of-sample
 * prediction set, which `quant evaluate --run ID` judges.
 *
 * Memory: every usable row of every symbol at once (rows x features x 4
 * bytes: 50 MB for tech-v1 on 120 x 6,200 bars, 2 GB for alpha158 on
 * 500 x 6,500), since each block's model trains on all rows before it.
 */
#ifndef QUANT_WALKFORWARD_H
#define QUANT_WALKFORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/evaluation.h"
#include "quant/feature_sets.h"
#include "quant/metrics.h"
#include "quant/model.h"
#include "quant/workspace.h"

#define QUANT_WF_VALID_DAYS_DEFAULT QUANT_EVAL_VALID_DATES
#define QUANT_WF_MIN_TRAIN_DATES QUANT_EVAL_MIN_TRAIN_DATES  /* a train segment's least dates */

struct quant_walkforward_request {
    const char *const *symbols;    /* at least one, unless universe is given */
    size_t n_symbols;
    /* A universe (universe.h): with no symbols, its members; a row of
     * (symbol, date) takes part only when the symbol is a member that day
     * (point in time: no survivorship bias). */
    const char *universe;
    const struct quant_feature_set *set;   /* NULL = tech-v1 */
    int horizon;                   /* 0 = 5 */
    const char *algo;              /* NULL = "lightgbm" */
    const char *const *params;     /* "key=value", as quant train takes them */
    size_t n_params;
    int rounds;                    /* 0 = quant train's default */
    int early_stopping;            /* as quant_train_request.early_stopping */
    uint64_t seed;                 /* 0 = 42 */
    int threads;                   /* library threads; 0 = 2 */
    int step;                      /* 0 = calendar years; N > 0: blocks of N dates */
    int train_window;              /* 0 = expanding; T > 0: the last T dates */
    int valid_days;                /* 0 = QUANT_WF_VALID_DAYS_DEFAULT */
};

/* One block, as reported while the run goes and kept in the summary. */
struct quant_walkforward_block {
    char label[16];                /* "2015", or "b03" with step = N */
    int32_t train_first, train_last, valid_first, valid_last, test_first, test_last;
    size_t n_train, n_valid, n_test;   /* usable rows in each segment */
    size_t n_scored;               /* predictions stored: test rows and the
                                      label-less rows of its span */
    char model_id[96];
    struct quant_train_info info;  /* rounds trained, best round */
    struct quant_metrics metrics;  /* classification metrics on its test rows */
    double seconds;
};

struct quant_walkforward_observer {
    /* The plan, before the first model: blocks, rows, symbols that have rows. */
    void (*on_plan)(void *ctx, size_t n_blocks, size_t n_rows, size_t n_symbols);
    void (*on_block_start)(void *ctx, size_t i, size_t n, const struct quant_walkforward_block *b);
    void (*on_block_done)(void *ctx, size_t i, size_t n, const struct quant_walkforward_block *b);
    void *ctx;
};

struct quant_walkforward_summary {
    char run_id[64];
    size_t n_blocks, n_symbols, n_rows, n_predictions;
    int32_t first_test, last_test; /* the out-of-sample span */
    double seconds;
};

/*
 * Run a walk-forward over req->symbols (a WRITE workspace).  Fails with
 * QUANT_EINVAL when the request is wrong or the history too short for one
 * block (the message says how many dates there are and need to be);
 * QUANT_ENOTFOUND when no symbol has a usable row.  A failure after the first
 * block leaves the blocks done so far stored and the run marked 'failed'.
 */
enum quant_code quant_walkforward(struct quant_workspace *ws,
                                  const struct quant_walkforward_request *req,
                                  const struct quant_walkforward_observer *obs,
                                  struct quant_walkforward_summary *out, struct quant_err *err);

#endif
