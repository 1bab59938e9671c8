/*
 * score.h: the service behind `quant score`: a registered model and the
 * features computed from the stored bars -> every row's prediction, stored
 * with the segment the row was in for that model.  Works in a workspace
 * opened with QUANT_WS_WRITE (workspace.h).
 */
#ifndef QUANT_SCORE_H
#define QUANT_SCORE_H

#include <stddef.h>

#include "quant/train.h"

struct quant_score_result {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char model_id[96];
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    long predictions;
    long out_of_sample;            /* of which test or unseen rows */
    double seconds;
};

/*
 * Score each symbol with `model` (a registry id, or NULL/"latest" for the
 * newest model trained on that symbol): every date whose features are all
 * present, labelled or not, into predictions, each row with the segment it
 * was in for that model (feature_store.h: train, embargo, valid, test,
 * unlabelled, unseen).  A model whose feature list
 * differs from the stored set's is a clear error.
 */
enum quant_code quant_score(struct quant_workspace *ws, const char *const *symbols, size_t n,
                               const char *model, const struct quant_ml_observer *obs,
                               size_t *out_failed, struct quant_err *err);

#endif
