/*
 * walkforward_store.h (internal to lib/): a walk-forward run's records in the
 * DuckDB store, where its predictions are, so that any DuckDB client can
 * recompute from one file what quant reports.
 *
 *   walkforward_runs(run_id, created_at, finished_at, request, n_blocks,
 *                    n_predictions, status)
 *       one row per run; status 'running' until the last block is stored,
 *       then 'ok' (or 'failed' with the reason in request's "error")
 *   walkforward_blocks(run_id, block, model_id, train_first, train_last,
 *                      valid_first, valid_last, test_first, test_last,
 *                      span_last, n_train, n_valid, n_test, n_scored)
 *       one row per block: its segments' dates; span_last is the last date
 *       the block's model scores (NULL for the last block: it also scores the
 *       newest dates, which have features but no label yet)
 *   walkforward_predictions (VIEW): run_id, block, symbol, date, score, model_id
 *       the run's out-of-sample scores: predictions of each block's model on
 *       its own test span, and nothing else
 *
 * The scores themselves are rows of predictions (feature_store.h) under the
 * block's model id, written by the same path as `quant score`'s.  A block is
 * recorded after its scores are stored, so the view never shows a block
 * whose scores are missing; a run killed halfway stays 'running' and
 * evaluate refuses it.
 */
#ifndef QUANT_WALKFORWARD_STORE_H
#define QUANT_WALKFORWARD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/series_store.h"

/* The tables and the view, for quant_feature_store_init (NULL-terminated). */
extern const char *const quant_wf_store_ddl[];

struct quant_wf_block_row {
    const char *run_id;
    const char *block;            /* "2015" or "b03" */
    const char *model_id;
    int32_t train_first, train_last, valid_first, valid_last, test_first, test_last;
    int32_t span_last;            /* INT32_MAX: open (the last block) */
    int64_t n_train, n_valid, n_test, n_scored;
};

/* *exists = 1 when run_id has a row in walkforward_runs. */
enum quant_code quant_wf_store_run_exists(struct quant_series_store *s, const char *run_id,
                                          int *exists, struct quant_err *err);
/* A new run (status 'running'); request_json is the run's parameters. */
enum quant_code quant_wf_store_run_begin(struct quant_series_store *s, const char *run_id,
                                         const char *request_json, int64_t n_blocks,
                                         struct quant_err *err);
enum quant_code quant_wf_store_block(struct quant_series_store *s,
                                     const struct quant_wf_block_row *row,
                                     struct quant_err *err);
/* status "ok" or "failed"; finished_at = now.  request_json, when not NULL,
 * replaces the run's request (a failed run's, with its "error"). */
enum quant_code quant_wf_store_run_finish(struct quant_series_store *s, const char *run_id,
                                          const char *status, int64_t n_predictions,
                                          const char *request_json, struct quant_err *err);

/* A run as evaluate reads it back.  request is malloc'd (caller frees). */
struct quant_wf_run_info {
    char run_id[64];
    char status[16];
    char *request;                /* JSON text */
    int64_t n_blocks, n_predictions;
    int64_t created_us;           /* UTC microseconds */
};
/* How many runs there are, and the newest one (any status): *n = 0 and
 * latest empty when none (or no table yet). */
enum quant_code quant_wf_store_summary(struct quant_series_store *s, long *n,
                                       struct quant_wf_run_info *latest, struct quant_err *err);
/* The newest finished ('ok') run's id; QUANT_ENOTFOUND when there is none. */
enum quant_code quant_wf_store_latest_run(struct quant_series_store *s, char out[64],
                                          struct quant_err *err);
/* QUANT_ENOTFOUND (naming the run and how to list runs) when there is none. */
enum quant_code quant_wf_store_run_get(struct quant_series_store *s, const char *run_id,
                                       struct quant_wf_run_info *out, struct quant_err *err);

#endif
