/*
 * eval_internal.h: what the evaluation kernels (lib/eval/) share inside the
 * library: the statistics every part uses (Pearson, average ranks), the
 * checks of the input panel and prices, the panel's date groups, and the
 * step-return lookup.  Not public: callers see quant/evaluation.h only.
 */
#ifndef QUANT_EVAL_INTERNAL_H
#define QUANT_EVAL_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/evaluation.h"

/* ---- statistics (stats.c) ---- */

/* A value and where it came from, for sorting without losing the pairing. */
struct quant_eval_keyed_ {
    double v;
    uint32_t id;
};

/* Sort ascending by value, ties by id ascending. */
void quant_eval_sort_keyed_(struct quant_eval_keyed_ *v, size_t n);

/* Nonzero when x[0..n) are all exactly equal (n <= 1 counts as equal). */
int quant_eval_all_equal_(const double *x, size_t n);

/*
 * Pearson correlation of x and y over n values, centred two-pass so that
 * offsets in the data do not cost digits.  NAN when n < 2 or either series
 * has no spread.
 */
double quant_eval_pearson_(const double *x, const double *y, size_t n);

/*
 * Ranks 1..n of x[0..n) into out_rank, tied values sharing their average
 * rank.  work holds n entries.
 */
void quant_eval_ranks_(const double *x, size_t n, double *out_rank,
                       struct quant_eval_keyed_ *work);

/* Pearson of the average ranks of x and y; work holds n entries, rx and ry n each. */
double quant_eval_rank_corr_(const double *x, const double *y, size_t n, double *rx,
                             double *ry, struct quant_eval_keyed_ *work);

/*
 * Fill the days' equity columns (net and gross, compounded from 1) and the
 * metrics of their gross, cost, turnover and benchmark columns.  QUANT_ENOMEM.
 */
enum quant_code quant_eval_days_finish_(struct quant_eval_bt_day *days, size_t n,
                                        struct quant_eval_bt_metrics *out,
                                        struct quant_err *err);

/* ---- inputs (panel.c) ---- */

/* A row's value is present when finite (NAN, or anything non-finite, is "none"). */
#define QUANT_EVAL_HAS(v) isfinite(v)

/* Nonzero when row i of the panel is a member (always, without a universe). */
static inline int quant_eval_member_(const struct quant_eval_panel *p, size_t i)
{
    return !p->member || p->member[i];
}

/*
 * The panel's distinct dates: group g is rows [off[g], off[g + 1]) on
 * date[g].  Owned; release with quant_eval_groups_release_.
 */
struct quant_eval_groups_ {
    size_t n;
    int32_t *date;
    size_t *off;         /* n + 1 entries */
    size_t max_rows;     /* the largest group */
};

/* QUANT_EINVAL naming the first row out of order or an id >= n_symbols. */
enum quant_code quant_eval_panel_check_(const struct quant_eval_panel *p,
                                        struct quant_err *err);
/* Group a checked panel by date; QUANT_ENOMEM. */
enum quant_code quant_eval_groups_build_(const struct quant_eval_panel *p,
                                         struct quant_eval_groups_ *out,
                                         struct quant_err *err);
void quant_eval_groups_release_(struct quant_eval_groups_ *g);

/*
 * The backtest calendar T: the groups that hold at least one finite score,
 * as indices into g (out_idx holds g->n entries); returns |T|.
 */
size_t quant_eval_calendar_(const struct quant_eval_panel *p,
                            const struct quant_eval_groups_ *g, size_t *out_idx);

/* QUANT_EINVAL naming the symbol id (what: "symbol id 3", "the benchmark")
 * whose series is unsorted or holds a close that is not finite and > 0. */
enum quant_code quant_eval_prices_check_(const struct quant_eval_prices *s, const char *what,
                                         struct quant_err *err);
/* The backtest's common checks: panel, n_symbols price series, costs. */
enum quant_code quant_eval_bt_inputs_check_(const struct quant_eval_panel *panel,
                                            const struct quant_eval_prices *prices,
                                            const struct quant_eval_bt_params *p,
                                            struct quant_err *err);

/*
 * The return of one price series over a step, C(t2) / C(t1) - 1 with C(t)
 * its last close at or before t; 0 when it has no close at or before t1.
 */
double quant_eval_step_return_(const struct quant_eval_prices *s, int32_t t1, int32_t t2);

#endif
