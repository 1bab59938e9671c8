/*
 * ml_internal.h: what train (train.c) and score (score.c) share inside the
 * library.  Not public: the CLI sees train.h and score.h only.
 */
#ifndef QUANT_ML_INTERNAL_H
#define QUANT_ML_INTERNAL_H

#include <stddef.h>

#include <stdint.h>

#include <cjson/cJSON.h>

#include "quant/clock.h"
#include "quant/error.h"
#include "store/feature_store.h"
#include "quant/workspace.h"
#include "quant/model.h"

/*
 * The rows of one symbol's frame a model scores (score.c): every date whose
 * features all exist, as row-major floats, with the segment the model's split
 * put it in.  Owned; release with quant_ml_rows_release_.
 */
struct quant_ml_rows {
    size_t n, nf;
    int32_t *dates;
    float *x;                 /* n * nf; freed once predicted */
    double *scores;           /* n, filled by quant_ml_rows_predict_ */
    uint8_t *segments;        /* enum quant_prediction_segment per row */
    long out_of_sample;       /* test or unseen rows */
};

/* Gather f's scorable rows.  segments: the model's split of this symbol,
 * {"train": [first, last], "valid": [...], "test": [...]} (NULL: none of its
 * rows were shown to the model); h: the model's horizon. */
enum quant_code quant_ml_rows_gather_(const struct quant_training_frame *f, size_t nf,
                                      const cJSON *segments, int h, struct quant_ml_rows *out,
                                      struct quant_err *err);
/* Score the gathered rows with m (then x is freed). */
enum quant_code quant_ml_rows_predict_(struct quant_model *m, struct quant_ml_rows *r,
                                       struct quant_err *err);
void quant_ml_rows_release_(struct quant_ml_rows *r);

/* Scores gathered while training (train --score), stored when the scan of
 * the bars is over (it holds the store's connection until then). */
struct quant_ml_scored_item {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char model_id[96];
    struct quant_ml_rows rows;
};
struct quant_ml_scored {
    struct quant_ml_scored_item *v;
    size_t n, cap;
};
/* Add symbol's predicted rows under model_id, taking *rows (zeroed after);
 * QUANT_ENOMEM only (then *rows is released). */
enum quant_code quant_ml_scored_add_(struct quant_ml_scored *s, const char *symbol,
                                     const char *model_id, struct quant_ml_rows *rows);
/* Store them all in one transaction, as `quant score` stores its own;
 * *rows and *out_of_sample count what was stored. */
enum quant_code quant_ml_scored_store_(struct quant_workspace *ws, const struct quant_ml_scored *s,
                                       long *rows, long *out_of_sample, struct quant_err *err);
void quant_ml_scored_release_(struct quant_ml_scored *s);

#endif
