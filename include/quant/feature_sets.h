/*
 * feature_sets.h: the feature and label COMPUTE layer: pure functions from one
 * symbol's bars to a matrix of values, as defined by shared/spec/FEATURES.md
 * (tech-v1, labels, the adjusted series) and shared/spec/ALPHA158.md.  No
 * storage and no printing here; the store and the CLI sit on top.
 *
 * Flow for one symbol:
 *
 *     struct quant_adjusted adj = {0};          // once per symbol
 *     quant_adjusted_compute(&bars, &adj, &err);
 *     struct quant_feature_matrix m = {0};       // reusable across symbols
 *     quant_features_compute(quant_feature_set_find("alpha158"), &adj, &m, &err);
 *     quant_labels_compute(&adj, 5, &labels, &err);
 *     ... read m.values / m.valid ...
 *     quant_feature_matrix_release(&m);
 *     quant_adjusted_release(&adj);
 *
 * Matrix layout (feature-major, so a store can write one column at a time):
 *
 *     values[f * n_rows + t]   value of feature f on bar t (NAN when absent)
 *     valid [f * n_rows + t]   1 when the spec says a row exists and the value
 *                              is finite, else 0
 *
 * Rows are the bars' indices t = 0..n-1 (dates ascending); "no row" in the
 * spec is valid = 0.  A value is never valid and non-finite.
 *
 * Ownership: a zero-initialised struct quant_feature_matrix / quant_adjusted
 * owns nothing; the compute functions (re)allocate their arrays as needed and
 * keep them for reuse, the caller frees them with the matching _release.  The
 * feature-set descriptors are static and never freed.  Everything is
 * thread-safe: no globals are written, so separate threads may compute
 * separate symbols with separate matrices.
 */
#ifndef QUANT_FEATURE_SETS_H
#define QUANT_FEATURE_SETS_H

#include <stddef.h>
#include <stdint.h>

#include "quant/bars.h"
#include "quant/error.h"

/* ---- feature-set registry ------------------------------------------------ */

struct quant_feature_set;   /* opaque, static */

/* The set called `name` ("tech-v1", "alpha158"), or NULL when there is none. */
const struct quant_feature_set *quant_feature_set_find(const char *name);

/* Number of registered sets, and the i-th one (NULL when i is out of range). */
size_t quant_feature_set_count(void);
const struct quant_feature_set *quant_feature_set_at(size_t i);

/* The accessors below take a set from _find or _at (never NULL). */

/* The set's name ("tech-v1"). */
const char *quant_feature_set_name(const struct quant_feature_set *set);

/* Number of features in the set (17 for tech-v1, 158 for alpha158). */
size_t quant_feature_set_size(const struct quant_feature_set *set);

/*
 * Name of feature i of the set, in matrix order; NULL when i is out of range.
 * tech-v1: the order of the FEATURES.md table (ret_1, ret_5, ..., stoch_k_14).
 * alpha158: KMID KLEN KMID2 KUP KUP2 KLOW KLOW2 KSFT KSFT2, OPEN0 HIGH0 LOW0
 * VWAP0, then the 29 rolling families in the ALPHA158.md order (ROC, MA, STD,
 * BETA, RSQR, RESI, MAX, MIN, QTLU, QTLD, RANK, RSV, IMAX, IMIN, IMXD, CORR,
 * CORD, CNTP, CNTN, CNTD, SUMP, SUMN, SUMD, VMA, VSTD, WVMA, VSUMP, VSUMN,
 * VSUMD), each for d = 5, 10, 20, 30, 60 (ROC5 ROC10 ROC20 ROC30 ROC60 MA5 ...),
 * which is Qlib's Alpha158 column order.
 */
const char *quant_feature_set_feature(const struct quant_feature_set *set, size_t i);

/* Index of feature `name` in the set, or -1 when the set has no such feature. */
long quant_feature_set_index(const struct quant_feature_set *set, const char *name);

/* ---- the adjusted series ---------------------------------------------------- */

/*
 * The adjusted bar series of FEATURES.md: f_t = adj_close_t / close_t (1 when
 * adj_close is NAN), O = open f, H = high f, L = low f, C = close f,
 * V = volume / f.  Arrays of n doubles, owned by the struct.
 *
 * Segments: brk[t] = 1 when bar t carries QUANT_Q_BREAK (bars were dropped
 * before it, or the move into it is an unexplained split-like jump).  Features
 * and labels are computed on each segment as if it were a whole history, so
 * no value (a return, a window, a forward return) spans a break: the price
 * path across it is unknown or untrusted.  The cost is each segment's warm-up.
 */
struct quant_adjusted {
    size_t n;
    double *open, *high, *low, *close, *volume;
    int32_t *date;   /* the bars' dates, for the caller's convenience */
    uint8_t *brk;    /* n flags: a segment starts at t (brk[0] = 0); NULL = none */
    size_t n_breaks; /* flags set */
    size_t cap;      /* allocated length of each array */
};

/*
 * Fill *out from bars (which must be in strictly ascending date order:
 * QUANT_EINVAL naming the symbol and the first out-of-order date otherwise).
 * Reuses out's arrays when large enough.  QUANT_ENOMEM on allocation failure.
 */
enum quant_code quant_adjusted_compute(const struct quant_bars *bars,
                                       struct quant_adjusted *out, struct quant_err *err);

/* Free the arrays; *adj is then empty (and may be reused). */
void quant_adjusted_release(struct quant_adjusted *adj);

/* ---- feature matrices ------------------------------------------------------- */

struct quant_feature_matrix {
    size_t n_features;   /* rows of the layout: features */
    size_t n_rows;       /* bars, t = 0..n_rows-1 */
    double *values;      /* n_features * n_rows, feature-major; NAN where absent */
    uint8_t *valid;      /* n_features * n_rows, 1 = a row exists */
    size_t cap;          /* allocated cells in values and valid */
};

/*
 * Size m for n_features x n_rows, reusing its arrays when large enough.
 * Contents are unspecified afterwards.  QUANT_ENOMEM on allocation failure.
 */
enum quant_code quant_feature_matrix_reserve(struct quant_feature_matrix *m,
                                             size_t n_features, size_t n_rows,
                                             struct quant_err *err);

/* Free the arrays; *m is then empty (and may be reused). */
void quant_feature_matrix_release(struct quant_feature_matrix *m);

/*
 * Compute every feature of `set` on the adjusted series into *out (reserved
 * to quant_feature_set_size(set) x adj->n).  A series shorter than a window
 * simply has no rows for that feature; n = 0 gives an empty matrix.
 * QUANT_EINVAL when set or adj is NULL, QUANT_ENOMEM on allocation failure
 * (scratch is allocated once per call, never inside the loops).
 */
enum quant_code quant_features_compute(const struct quant_feature_set *set,
                                       const struct quant_adjusted *adj,
                                       struct quant_feature_matrix *out,
                                       struct quant_err *err);

/* ---- labels ------------------------------------------------------------------ */

#define QUANT_LABEL_HORIZON_MIN 1
#define QUANT_LABEL_HORIZON_MAX 250
#define QUANT_LABEL_HORIZON_DEFAULT 5

/*
 * Labels for horizon h into *out, a 2 x n matrix:
 *   feature 0  fwd_ret_h_t = C_{t+h} / C_t - 1
 *   feature 1  label_h_t   = 1.0 if fwd_ret_h_t > 0 else 0.0
 * Both are valid exactly for t <= n-1-h where fwd_ret is finite (the last h
 * dates have no label row) and no break lies in (t, t+h] (see adj->brk).  QUANT_EINVAL, with the accepted range, when h is
 * outside 1..250.
 */
enum quant_code quant_labels_compute(const struct quant_adjusted *adj, int horizon,
                                     struct quant_feature_matrix *out,
                                     struct quant_err *err);

/* "fwd_ret_5" / "label_5" for horizon 5 into out (at least 16 bytes). */
void quant_label_names(int horizon, char fwd_ret_name[16], char label_name[16]);

#endif
