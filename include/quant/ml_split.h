/*
 * ml_split.h: the leakage-safe time split of shared/spec/FEATURES.md
 * ("Training split") and the gathering of a feature matrix's rows into the
 * dense row-major arrays model.h trains on.  Pure functions on index ranges:
 * no allocation except where the caller passes a buffer, no storage, no I/O.
 *
 *   eligible rows (N, ascending dates: every feature AND the label exist)
 *   |<------------ train ------------>|<-- valid -->|<---- test ---->|
 *   |                        |embargo |      |embarg|                |
 *   0                    train_end  valid_begin valid_end  test_begin   N
 *
 *   n_test  = floor(0.2 N)          test  = the last n_test rows
 *   n_valid = floor(0.1 N)          valid = the n_valid rows before test
 *   train   = the rows before valid
 *   embargo: the last h rows of train and the last h rows of valid are dropped
 *   (their h-day-ahead labels look into the next segment).  Nothing is shuffled.
 *
 * Indices in struct quant_split are positions in the eligible-row list, not bar
 * indices: rows[i] (from quant_split_rows) is the bar index t of position i.
 */
#ifndef QUANT_ML_SPLIT_H
#define QUANT_ML_SPLIT_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/feature_sets.h"

#define QUANT_SPLIT_MIN_TRAIN 200   /* fewer train rows after the embargo is an error */

/* Half-open ranges [begin, end) of positions 0..n-1 in the eligible rows. */
struct quant_split {
    size_t n;                          /* N, eligible rows */
    size_t train_begin, train_end;     /* train_begin is always 0 */
    size_t valid_begin, valid_end;
    size_t test_begin, test_end;       /* test_end is always n */
    size_t n_train, n_valid, n_test;   /* the ranges' lengths */
};

/*
 * The split of n eligible rows for label horizon h (1..250).  QUANT_EINVAL
 * naming `symbol` (may be NULL) and the count when fewer than 200 train rows
 * remain after the embargo, or when h is out of range.  *out is filled either
 * way (so a caller can report the sizes).
 */
enum quant_code quant_split_compute(const char *symbol, size_t n, int horizon,
                                    struct quant_split *out, struct quant_err *err);

/*
 * The eligible rows of one symbol: bar indices t (ascending) where every
 * feature of `features` is valid and the label (feature 1 of `labels`, from
 * quant_labels_compute) is valid.  out_rows is a caller array of at least
 * features->n_rows entries; *out_n receives N.  QUANT_EINVAL when the two
 * matrices do not have the same number of rows.
 */
enum quant_code quant_split_rows(const struct quant_feature_matrix *features,
                                 const struct quant_feature_matrix *labels,
                                 size_t *out_rows, size_t *out_n, struct quant_err *err);

/*
 * Copy positions [begin, end) of `rows` out of the matrices into caller
 * arrays: out_x gets (end - begin) x features->n_features floats, row-major
 * (out_x[i * n_features + f]), absent values as NAN; out_y (may be NULL, and
 * labels may then be NULL too: scoring rows have no label) gets the labels
 * as 0.0 / 1.0.
 */
void quant_split_gather(const struct quant_feature_matrix *features,
                        const struct quant_feature_matrix *labels, const size_t *rows,
                        size_t begin, size_t end, float *out_x, float *out_y);

#endif
