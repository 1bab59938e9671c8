/*
 * model_internal.h: the ops table each ML backend (lightgbm.c, xgboost.c)
 * fills, and the helpers model.c shares with them.  Backends never see
 * struct quant_model: model.c checks arguments and params once, so a backend
 * only talks to its library and translates that library's errors.
 */
#ifndef QUANT_ML_MODEL_INTERNAL_H
#define QUANT_ML_MODEL_INTERNAL_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/model.h"

/* CHOICE: one of the words in `choices` ("data|voting"); min and max unused. */
enum quant_param_kind { QUANT_PARAM_INT, QUANT_PARAM_DOUBLE, QUANT_PARAM_CHOICE };

/* One accepted "key=value" parameter and the range of its value. */
struct quant_param_spec {
    const char *key;
    enum quant_param_kind kind;
    double min, max;             /* inclusive */
    const char *choices;         /* QUANT_PARAM_CHOICE: the words, '|' between them */
};

struct quant_model_ops {
    const char *name;            /* "lightgbm" */
    const char *file_ext;        /* ".txt" */
    const struct quant_param_spec *params;   /* accepted params, n_params of them */
    size_t n_params;
    const char *const *reserved; /* keys quant sets itself, NULL-terminated */
    int distributed;             /* 1: train accepts opts->cluster */

    /*
     * Train with already-checked arguments (train->n_rows > 0, params valid,
     * valid may be NULL or empty).  *out_impl is the backend's model;
     * info is filled (never NULL).
     */
    enum quant_code (*train)(const struct quant_ml_data *train,
                             const struct quant_ml_data *valid,
                             const struct quant_train_opts *opts, void **out_impl,
                             struct quant_train_info *info, struct quant_err *err);

    /* Probabilities for n_rows > 0 rows of the model's width into out. */
    enum quant_code (*predict)(void *impl, const float *x, size_t n_rows,
                               size_t n_features, double *out, struct quant_err *err);

    /* The model file's bytes: *out_buf is malloc'd (caller frees). */
    enum quant_code (*serialize)(void *impl, char **out_buf, size_t *out_len,
                                 struct quant_err *err);

    /* Load a model file (which exists); sets *out_impl and *out_n_features. */
    enum quant_code (*load)(const char *path, void **out_impl, size_t *out_n_features,
                            struct quant_err *err);

    void (*free)(void *impl);
};

/* The algo handle of model.h is the ops table itself. */
struct quant_model_algo {
    struct quant_model_ops ops;
};

extern const struct quant_model_algo quant_model_lightgbm;
extern const struct quant_model_algo quant_model_xgboost;

/*
 * Split a checked "key=value" into key (NUL-terminated, truncated to keysz)
 * and a pointer to the value inside kv.  Returns 0, or -1 without '='.
 */
int quant_param_split(const char *kv, char *key, size_t keysz, const char **out_value);

/*
 * Early stopping bookkeeping shared by the backends: feed each round's valid
 * logloss (round is 1-based); returns 1 when training should stop.
 */
struct quant_early_stop {
    int patience;          /* 0 = never stop */
    double best;           /* best logloss so far (+inf before the first round) */
    int best_round;        /* 1-based round of `best` */
};
void quant_early_stop_init(struct quant_early_stop *es, int patience);
int quant_early_stop_update(struct quant_early_stop *es, int round, double logloss);

#endif
