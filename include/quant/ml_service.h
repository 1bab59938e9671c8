/*
 * ml_service.h: the ML service behind `quant train`, `quant score` and
 * `quant models`: stored features + labels -> leakage-safe split -> a model
 * (model.h) -> metrics on the test segment -> model file + registry row; and
 * registry model + stored features -> predictions.
 *
 * Models are trained one per symbol, or pooled (one across all the given
 * symbols, each split by time on its own and the segments concatenated).
 * Metrics are computed on the test segment only and always come with the
 * baseline.  The service never prints; it reports through callbacks.
 */
#ifndef QUANT_ML_SERVICE_H
#define QUANT_ML_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/features.h"
#include "quant/market_data.h"
#include "quant/metrics.h"
#include "quant/model.h"

struct quant_train_request {
    const char *const *symbols;    /* at least one */
    size_t n_symbols;
    const struct quant_feature_set *set;   /* NULL = tech-v1 */
    int horizon;                   /* 0 = 5 */
    const char *algo;              /* NULL = "lightgbm" */
    const char *const *params;     /* "key=value" */
    size_t n_params;
    int rounds;                    /* 0 = 500 */
    int pooled;
    uint64_t seed;                 /* 0 = 42 */
    int threads;                   /* 0 = 2 */
};

struct quant_train_result {
    char label[64];                /* the symbol, or "pooled (3 symbols)" */
    char algo_name[16];            /* "LightGBM", "XGBoost" */
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    char model_id[96];
    char path[4096];
    struct quant_metrics metrics;
    struct quant_train_info info;
    double seconds;
};

struct quant_score_result {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char model_id[96];
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    long predictions;
    double seconds;
};

struct quant_ml_observer {
    void (*on_train_start)(void *ctx, const char *label, const char *algo_name);
    void (*on_trained)(void *ctx, const struct quant_train_result *r);
    void (*on_scored)(void *ctx, const struct quant_score_result *r);
    void *ctx;
};

/* Train as asked; per-model failures go to the observer and are counted in
 * *out_failed; the return value is for failures that stop everything. */
enum quant_code quant_ml_train(struct quant_md *md, const struct quant_train_request *req,
                               const struct quant_ml_observer *obs, size_t *out_failed,
                               struct quant_err *err);

/*
 * Score each symbol with `model` (a registry id, or NULL/"latest" for the
 * newest model trained on that symbol): every date whose features are all
 * present, labelled or not, into predictions.  A model whose feature list
 * differs from the stored set's is a clear error.
 */
enum quant_code quant_ml_score(struct quant_md *md, const char *const *symbols, size_t n,
                               const char *model, const struct quant_ml_observer *obs,
                               size_t *out_failed, struct quant_err *err);

#endif
