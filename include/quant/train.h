/*
 * train.h: the service behind `quant train` (and, with score.h, `quant
 * score`): stored features + labels -> leakage-safe split -> a model
 * (model.h) -> metrics on the test segment -> model file + registry row; and
 * registry model + stored features -> predictions.
 *
 * Models are trained one per symbol, or pooled (one across all the given
 * symbols, each split by time on its own and the segments concatenated).
 * Metrics are computed on the test segment only and always come with the
 * baseline.  The service never prints; it reports through callbacks.
 */
#ifndef QUANT_TRAIN_H
#define QUANT_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "quant/error.h"
#include "quant/feature_sets.h"
#include "quant/workspace.h"
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
    int early_stopping;            /* stop after this many rounds without a better
                                      valid logloss: 0 = the default (50),
                                      QUANT_TRAIN_EARLY_STOP_OFF = never stop early */
    int pooled;
    uint64_t seed;                 /* 0 = 42 */
    /* 0 = 2 (the CLI passes the threads setting).  Per-symbol models train
     * `threads` at once with one library thread each (params record
     * "threads": 1); a pooled model, or a single symbol, uses them all. */
    int threads;
    /* 1: also score every row of each new model's symbols and store the
     * predictions, as `quant score` would, from the features this pass
     * already computed (the model is still in memory). */
    int score;
    /* Pooled across machines (LightGBM only; not with score): NULL, or the
     * machine list this process is rank `rank` of.  Each rank trains on its
     * share of the symbols: symbol i of the sorted, de-duplicated list goes
     * to rank i mod n (every rank computes the same split from the same
     * list, and the shares differ by one symbol at most).  Rank 0 registers
     * the model; the others only train with it. */
    const struct quant_machines *machines;
    int rank;
    int machines_timeout;          /* seconds to wait for the other ranks; 0 = 300 */
    /* Called (from another thread, once) when another rank's link closes
     * while LightGBM trains: this process is then blocked inside LightGBM,
     * which cannot be interrupted, so the callback should end the process
     * (the CLI prints why and exits 1).  NULL: wait, as LightGBM would. */
    void (*on_rank_lost)(void *ctx, const char *why);
    void *on_rank_lost_ctx;
};

/* A symbol a pooled model left out, and why (too little data, no features). */
struct quant_train_exclusion {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char reason[QUANT_ERR_MSG_MAX];
};

struct quant_train_result {
    char label[64];                /* the symbol, or "pooled (3 of 4 symbols)" */
    char algo_name[16];            /* "LightGBM", "XGBoost" */
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    char model_id[96];
    char path[4096];
    struct quant_metrics metrics;
    struct quant_train_info info;
    double seconds;                /* this model's own work (not its wait in a queue) */
    /* When its rows were gathered and it was queued: models of one run train
     * several at once, so on_train_start no longer comes just before it. */
    time_t started;
    /* Per-symbol: 1 when the symbol does not qualify (too little data, no
     * features or labels): not an error of the run, `error` says why. */
    int skipped;
    /* Pooled: the symbols left out, and why (borrowed: valid during the
     * on_trained call only).  Recorded in the model's params as "excluded". */
    const struct quant_train_exclusion *excluded;
    size_t n_excluded;
    /* Across machines: this process's rank of n_ranks (0 otherwise) and the
     * model's fingerprint (quant_model_fingerprint, the same on every rank). */
    int rank, n_ranks;
    char model_fingerprint[17];
};

/* What a train run did, model by model. */
struct quant_train_summary {
    size_t trained;                /* models registered */
    size_t skipped;                /* per-symbol: symbols that do not qualify */
    size_t failed;                 /* models that should have trained and did not */
    size_t excluded;               /* pooled: symbols left out of the model */
    enum quant_code first_failure; /* the code of the first failure (QUANT_OK if none) */
    double seconds;
    long predictions;              /* request.score: rows scored and stored */
    long out_of_sample;            /* of which test or unseen rows */
};

struct quant_score_result;

struct quant_ml_observer {
    void (*on_train_start)(void *ctx, const char *label, const char *algo_name);
    void (*on_trained)(void *ctx, const struct quant_train_result *r);
    void (*on_scored)(void *ctx, const struct quant_score_result *r);
    void *ctx;
};

/*
 * Train as asked.  Per-model outcomes go to the observer, on the calling
 * thread and in symbol order (on_train_start as a symbol's rows are
 * gathered, on_trained once its model is registered; others may start in
 * between), and are counted in *out; the return value is for failures that stop everything.  A symbol
 * that does not qualify (too short after the embargo, no features or labels)
 * is skipped in per-symbol mode and left out of a pooled model, with the
 * reason; a pooled model fails only when no symbol qualifies.
 */
enum quant_code quant_train(struct quant_workspace *ws, const struct quant_train_request *req,
                               const struct quant_ml_observer *obs,
                               struct quant_train_summary *out, struct quant_err *err);

#endif
