/*
 * evaluation_store.h (internal to lib/): an evaluation's daily series in the
 * DuckDB store, beside the predictions and prices it was computed from, so
 * any client can plot or recompute it.
 *
 *   evaluation_daily(eval_id, symbol, date, n, ic, rank_ic, gross, net,
 *                    benchmark, turnover, cost, equity, equity_gross,
 *                    equity_benchmark)
 *       one row per date of the evaluation.  ic, rank_ic and n belong to the
 *       signal date t (NULL when t is not counted); the backtest columns to
 *       the step whose return is realised at date's close (t_{j+2}: decided
 *       at t_j, traded at t_{j+1}); NULL where a date has no such step.
 *       symbol is NULL for a cross-section, the symbol for the per-symbol
 *       results of a set with fewer than 5 symbols.
 *
 * The registry row (parameters and every metric) is the SQLite store's
 * (meta_store.h); the id joins the two.
 */
#ifndef QUANT_EVALUATION_STORE_H
#define QUANT_EVALUATION_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/evaluate.h"
#include "quant/series_store.h"

/* The table, for quant_feature_store_init (NULL-terminated). */
extern const char *const quant_eval_store_ddl[];


/* Append rows (symbol NULL for a cross-section) in one transaction. */
enum quant_code quant_eval_store_daily(struct quant_series_store *s, const char *eval_id,
                                       const char *symbol, const struct quant_eval_daily_row *rows,
                                       size_t n, struct quant_err *err);

/* The rows of one evaluation, by symbol (NULL first) then date; symbol[i]
 * is "" for a cross-section row.  *rows and *symbols malloc'd (caller frees
 * both); n = 0 when the store has no such evaluation (or no table yet). */
enum quant_code quant_eval_store_read_daily(struct quant_series_store *s, const char *eval_id,
                                            struct quant_eval_daily_row **rows,
                                            char (**symbols)[33], size_t *n,
                                            struct quant_err *err);

#endif
