/*
 * prediction_read.h: read one model's stored scores for one symbol (for the
 * dashboard).  Works on a read-only series store; never writes.
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

#endif
