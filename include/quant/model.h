/*
 * model.h: the ML algorithm interface: train a binary classifier (gradient
 * boosted trees) on a dense matrix, predict probabilities, save it in the
 * library's own file format and load it back.  Two backends implement it as
 * const ops tables: "lightgbm" (LightGBM text model) and "xgboost" (XGBoost
 * JSON model).  No feature, label or storage code here: see ml_split.h for
 * turning a feature matrix into the row-major arrays this takes.
 *
 * Flow:
 *
 *     const struct quant_model_algo *algo = quant_model_algo_find("lightgbm");
 *     struct quant_train_opts opts;
 *     quant_train_opts_init(&opts);             // rounds 500, early stop 50, ...
 *     opts.seed = 42;
 *     struct quant_model *m = NULL;
 *     quant_model_train(algo, &train, &valid, &opts, &m, &err);
 *     quant_model_predict(m, x, n_rows, n_features, prob, &err);
 *     quant_model_save(m, "model.txt", &err);
 *     quant_model_free(m);
 *     quant_model_load(algo, "model.txt", &m, &err);
 *
 * Data: X is row-major float, x[r * n_features + f]; NAN means missing (both
 * libraries route missing values down a learned default branch).  y holds 0.0
 * or 1.0.  Training uses `threads` threads and is deterministic: the same
 * data, options and seed give bit-identical predictions.
 *
 * Early stopping: after every round the valid set's logloss is computed; when
 * it has not improved for early_stopping_rounds rounds, training stops and the
 * model is cut back to its best round (so predict, save and the saved file all
 * use the same trees).  With no valid rows, or early_stopping_rounds = 0, all
 * `rounds` rounds are trained and kept (the valid set then only reports).
 *
 * Params: "key=value" strings, checked before anything is trained: a key the
 * backend does not accept, a key quant sets itself (objective, seed, threads)
 * or a value out of range is QUANT_EINVAL naming the key and what is accepted.
 * Accepted keys (value ranges in lib/ml/model.c):
 *   lightgbm  learning_rate num_leaves max_depth min_data_in_leaf
 *             min_sum_hessian_in_leaf feature_fraction bagging_fraction
 *             bagging_freq lambda_l1 lambda_l2 min_gain_to_split max_bin
 *             tree_learner (data|voting; across machines only, opts.cluster)
 *   xgboost   eta (= learning_rate) max_depth min_child_weight subsample
 *             colsample_bytree lambda alpha gamma max_bin max_leaves
 *
 * Ownership: algo descriptors are static and never freed.  quant_model_train
 * and quant_model_load allocate *out_model; the caller frees it with
 * quant_model_free (NULL is fine).  Input arrays are only read during the
 * call; prediction output is a caller array.  A model may be used from one
 * thread at a time; separate models are independent.
 */
#ifndef QUANT_MODEL_H
#define QUANT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"

struct quant_model_algo;   /* opaque, static: one per backend */
struct quant_model;        /* opaque: a trained or loaded model */

/* The backend called `name` ("lightgbm", "xgboost"), or NULL when unknown. */
const struct quant_model_algo *quant_model_algo_find(const char *name);

/* Number of backends, and the i-th one (NULL when out of range). */
size_t quant_model_algo_count(void);
const struct quant_model_algo *quant_model_algo_at(size_t i);

/* The backend's name ("lightgbm"). */
const char *quant_model_algo_name(const struct quant_model_algo *algo);

/* The usual extension of its model files, with the dot (".txt", ".json"). */
const char *quant_model_algo_file_ext(const struct quant_model_algo *algo);

/*
 * Check params[0..n_params) ("key=value") against what `algo` accepts, without
 * training.  QUANT_OK or QUANT_EINVAL naming the bad key and the accepted ones.
 */
enum quant_code quant_model_params_check(const struct quant_model_algo *algo,
                                         const char *const *params, size_t n_params,
                                         struct quant_err *err);

/* A dense row-major data set (borrowed arrays). */
struct quant_ml_data {
    const float *x;      /* n_rows * n_features, x[r * n_features + f]; NAN = missing */
    const float *y;      /* n_rows labels, 0.0 or 1.0 (may be NULL for prediction) */
    size_t n_rows;
    size_t n_features;
};

#define QUANT_TRAIN_ROUNDS_DEFAULT 500
#define QUANT_TRAIN_EARLY_STOP_DEFAULT 50
#define QUANT_TRAIN_EARLY_STOP_OFF (-1)   /* train.h's request: never stop early */
#define QUANT_TRAIN_THREADS_DEFAULT 2
#define QUANT_TRAIN_ROUNDS_MAX 100000

/*
 * A pooled training across machines (LightGBM only): this process is rank
 * `rank` of machines->n, each holding its own share of the rows; the trees
 * are grown from every rank's rows (LightGBM's data-parallel or voting
 * learner, param tree_learner=data|voting, default data) and are the same on
 * every rank.  Early stopping uses the valid logloss over every rank's valid
 * rows (summed through channel each round), so every rank stops at the same
 * round.  The channel is met before training (lib/ml/ranks.h).
 */
struct quant_machines;
struct quant_ranks;
struct quant_train_cluster {
    const struct quant_machines *machines;
    int rank;
    int timeout_s;                   /* LightGBM's socket time_out (rounded up to minutes) */
    struct quant_ranks *channel;
};

struct quant_train_opts {
    int rounds;                  /* maximum boosting rounds, 1..100000 */
    int early_stopping_rounds;   /* stop after this many rounds without a better
                                    valid logloss; 0 = never stop early */
    uint64_t seed;               /* every random choice derives from it (the
                                    libraries take 31 bits: seed & 0x7fffffff) */
    int threads;                 /* worker threads, >= 1 */
    const char *const *params;   /* n_params "key=value" strings (borrowed) */
    size_t n_params;
    const struct quant_train_cluster *cluster;   /* NULL: this process alone */
};

/* Defaults: rounds 500, early stopping 50, seed 0, threads 2, no params. */
void quant_train_opts_init(struct quant_train_opts *opts);

/* What training did, for the caller to record. */
struct quant_train_info {
    int rounds_trained;        /* rounds actually run (<= opts.rounds) */
    int best_round;            /* rounds kept in the model (1-based count) */
    int stopped_early;         /* 1 when early stopping ended training */
    double best_valid_logloss; /* valid logloss of the kept model (at best_round);
                                  NAN without valid rows */
};

/*
 * Train `algo` on `train`, early-stopping on `valid` (valid may be NULL or have
 * 0 rows: then all rounds are trained).  Both sets must have the same
 * n_features and labels in {0,1}; train needs at least one row.  On success
 * *out_model is a new model (caller frees) and *info (may be NULL) says what
 * happened.  QUANT_EINVAL for bad options, params or data (naming the
 * problem), QUANT_ENOMEM, QUANT_EINTERNAL when the library itself fails (its
 * message included).
 */
enum quant_code quant_model_train(const struct quant_model_algo *algo,
                                  const struct quant_ml_data *train,
                                  const struct quant_ml_data *valid,
                                  const struct quant_train_opts *opts,
                                  struct quant_model **out_model,
                                  struct quant_train_info *info,
                                  struct quant_err *err);

/*
 * Probability of class 1 for each of the n_rows rows of x (row-major,
 * n_features columns, which must equal the model's) into out_prob[0..n_rows).
 * n_rows = 0 is a no-op.  QUANT_EINVAL on a feature-count mismatch.
 */
enum quant_code quant_model_predict(struct quant_model *model, const float *x,
                                    size_t n_rows, size_t n_features, double *out_prob,
                                    struct quant_err *err);

/*
 * Write the model to `path` in the library's own format (LightGBM text model,
 * XGBoost JSON), atomically: written to "<path>.part" then renamed, so a
 * reader never sees half a file.  QUANT_EIO naming the path on failure.
 */
enum quant_code quant_model_save(struct quant_model *model, const char *path,
                                 struct quant_err *err);

/*
 * Load a model file written by quant_model_save (or by the library itself)
 * with backend `algo`.  *out_model is a new model (caller frees).
 * QUANT_ENOTFOUND when the file does not exist, QUANT_EPARSE when the library
 * cannot read it (e.g. a model of the other backend).
 */
enum quant_code quant_model_load(const struct quant_model_algo *algo, const char *path,
                                 struct quant_model **out_model, struct quant_err *err);

/*
 * 16 hex digits identifying what the model learned (its trees; for LightGBM
 * not the trailing parameters, which name the machine's own port), so the
 * ranks of one training can show they hold the same model.
 */
enum quant_code quant_model_fingerprint(struct quant_model *model, char out[17],
                                        struct quant_err *err);

/* The model's backend and number of features. */
const struct quant_model_algo *quant_model_get_algo(const struct quant_model *model);
size_t quant_model_n_features(const struct quant_model *model);

/* Free the model (NULL is a no-op). */
void quant_model_free(struct quant_model *model);

#endif
