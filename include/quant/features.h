/*
 * features.h: the service behind `quant features` and `quant labels`: data
 * derived from stored bars, feature sets
 * (quant features) and forward-return labels (quant labels).
 *
 *     ohlcv --scan--> bars --(worker threads: adjust, compute)--> matrices
 *           --(main thread, batched transactions)--> wide tables + derived_state
 *
 * A symbol whose ohlcv has not changed since its set (or horizon) was last
 * computed is skipped unless forced.  Bars are read in one pass; matrices are
 * computed on `threads` workers while the main thread stores finished ones,
 * with at most a bounded window of matrices in memory.  The service never
 * prints; it reports through the observer.
 */
#ifndef QUANT_FEATURES_H
#define QUANT_FEATURES_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/shard.h"
#include "quant/feature_sets.h"
#include "quant/workspace.h"

struct quant_derive_request {
    const char *const *symbols;   /* NULL/0: every symbol with bars */
    size_t n_symbols;
    const struct quant_feature_set *set;  /* features: the set; NULL for labels */
    int horizon;                  /* labels: 1..250 */
    int force;                    /* recompute even when up to date */
    int threads;                  /* compute threads; 0 = 2; at most 8 are used */
    int materialize;              /* also store the values (quant_derived_write) */
    struct quant_shard shard;     /* only this shard's symbols (shard.h) */
};

struct quant_derive_result {
    char symbol[QUANT_SYMBOL_MAX + 1];
    const char *kind;             /* "tech-v1", "alpha158", "labels" */
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    int up_to_date;               /* skipped: nothing changed since the last run */
    long rows;                    /* rows stored */
    long values;                  /* finite values stored */
};

struct quant_derive_observer {
    void (*on_result)(void *ctx, const struct quant_derive_result *r);
    void *ctx;
};

struct quant_derive_summary {
    size_t n_symbols, n_written, n_up_to_date, n_failed;
    long rows, values;
    double seconds;           /* wall, end to end */
    double seconds_read;      /* reading bars */
    double seconds_compute;   /* CPU time of the compute workers, summed */
    double seconds_store;     /* wall time the main thread spent writing */
};

enum quant_code quant_derive_features(struct quant_workspace *ws, const struct quant_derive_request *req,
                                      const struct quant_derive_observer *obs,
                                      struct quant_derive_summary *summary,
                                      struct quant_err *err);

enum quant_code quant_derive_labels(struct quant_workspace *ws, const struct quant_derive_request *req,
                                    const struct quant_derive_observer *obs,
                                    struct quant_derive_summary *summary,
                                    struct quant_err *err);

#endif
