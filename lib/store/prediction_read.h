/*
 * prediction_read.h: read stored scores: one model's for one symbol (the
 * dashboard), and whole prediction sets (evaluate).  Works on a read-only
 * series store; never writes.
 *
 * Ownership: *out_dates and *out_scores are malloc'd (NULL when n = 0); the
 * caller frees both.
 */
#ifndef QUANT_PREDICTION_READ_H
#define QUANT_PREDICTION_READ_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/series_store.h"

/*
 * Rows of predictions for (symbol, model_id) ascending by date: dates as days
 * since epoch and scores.  A store without a predictions table yields n = 0.
 * QUANT_ESTORE with DuckDB's message on other failures.
 */
enum quant_code quant_prediction_read(struct quant_series_store *s, const char *symbol,
                                      const char *model_id, int32_t **out_dates,
                                      double **out_scores, size_t *out_n,
                                      struct quant_err *err);

/*
 * A prediction set for evaluation (evaluate.c): rows sorted by symbol, then
 * date; symbol ids number the distinct symbols in strcmp order.  Owned:
 * release with quant_score_rows_release.
 */
struct quant_score_rows {
    size_t n;
    uint32_t *sym;
    int32_t *date;
    double *score;
    char **symbols;               /* n_symbols names, ascending */
    size_t n_symbols;
};
void quant_score_rows_release(struct quant_score_rows *r);

/* The out-of-sample scores of a walk-forward run (walkforward_predictions). */
enum quant_code quant_prediction_read_run(struct quant_series_store *s, const char *run_id,
                                          struct quant_score_rows *out, struct quant_err *err);
/* A model's scores on its test segment only (predictions.segment = 'test'):
 * a model is never judged on the dates it was trained or early-stopped on. */
enum quant_code quant_prediction_read_test(struct quant_series_store *s, const char *model_id,
                                           struct quant_score_rows *out,
                                           struct quant_err *err);

#endif
