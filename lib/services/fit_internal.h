/*
 * fit_internal.h: training one model, as `quant train` (train.c) and the
 * walk-forward (walkforward.c) both do it.  Not public.
 *
 *   frames --quant_fit_add_frame_ (the spec's split of one symbol)--+
 *   any rows --quant_fit_dataset_add_ (caller-chosen positions)------+--> training
 *   training --quant_fit_one_ (model.h: early stopping, test metrics)--> model
 *   model --quant_fit_register_ (file first, then the registry row)--> model id
 *
 * quant_fit_one_ touches nothing shared, so worker threads run it; the
 * register step uses the registry connection and runs on the caller's thread.
 * A training owns its datasets and JSON (release with
 * quant_fit_training_release_).
 */
#ifndef QUANT_FIT_INTERNAL_H
#define QUANT_FIT_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "quant/error.h"
#include "quant/feature_sets.h"
#include "quant/model.h"
#include "quant/train.h"
#include "quant/workspace.h"
#include "store/feature_store.h"

/* Row-major float rows (x: n * nf) and their 0/1 labels (y: n). */
struct quant_fit_dataset {
    float *x, *y;
    size_t n, cap, nf;
};

/* What one model is trained, early-stopped and tested on. */
struct quant_fit_training {
    const struct quant_feature_set *set;
    int horizon;
    struct quant_fit_dataset train, valid, test;
    cJSON *segments;        /* {"AAPL": {"train": [first, last], ...}} */
    cJSON *symbols;         /* ["AAPL", ...] */
    struct quant_train_exclusion *excluded;   /* pooled: symbols left out */
    size_t n_excluded;
};

void quant_fit_training_init_(struct quant_fit_training *tr, const struct quant_feature_set *set,
                              int h);
/* Record that symbol was left out of a pooled model, and why (tr owns it). */
enum quant_code quant_fit_exclude_(struct quant_fit_training *tr, const char *symbol,
                                   const char *reason);
void quant_fit_training_release_(struct quant_fit_training *tr);

/* Append positions [begin, end) of rows (bar indices of f) to d. */
enum quant_code quant_fit_dataset_add_(struct quant_fit_dataset *d,
                                       const struct quant_training_frame *f, const size_t *rows,
                                       size_t begin, size_t end, struct quant_err *err);
void quant_fit_dataset_release_(struct quant_fit_dataset *d);
struct quant_ml_data quant_fit_as_data_(const struct quant_fit_dataset *d);

/* ["first date", "last date"] of positions [begin, end) of rows; [] when empty. */
cJSON *quant_fit_date_pair_(const struct quant_training_frame *f, const size_t *rows,
                            size_t begin, size_t end);

/*
 * Split one symbol's frame by time (ml_split.h) and add its segments to tr.
 * *too_short is set when the failure is the symbol's data (too few rows after
 * the embargo) rather than the machine's.
 */
enum quant_code quant_fit_add_frame_(struct quant_fit_training *tr, const char *symbol,
                                     const struct quant_training_frame *f, int *too_short,
                                     struct quant_err *err);

/* The library options of a request (rounds, early stopping, seed, params). */
void quant_fit_opts_(const struct quant_train_request *req, int threads,
                     struct quant_train_opts *o);

/* Train on tr->train, early-stop on tr->valid, metrics on tr->test.  On
 * failure r->code/r->error say why and *out_model is NULL. */
void quant_fit_one_(const struct quant_model_algo *algo, const struct quant_train_opts *o,
                    const struct quant_fit_training *tr, struct quant_model **out_model,
                    struct quant_train_result *r);

/*
 * Save model and register it.  The id is r->model_id when the caller set
 * one, else "<lgb|xgb>_<id_label>_<UTC stamp>" (suffixed when taken).  extra
 * (may be NULL): members copied into the model's params JSON.
 */
void quant_fit_register_(struct quant_workspace *ws, const struct quant_train_request *req,
                         const struct quant_model_algo *algo, const struct quant_train_opts *o,
                         const struct quant_fit_training *tr, struct quant_model *model,
                         const char *id_label, const cJSON *extra, struct quant_train_result *r);

/* quant_fit_one_ then quant_fit_register_, on this thread. */
void quant_fit_train_one_(struct quant_workspace *ws, const struct quant_train_request *req,
                          const struct quant_model_algo *algo, int threads,
                          struct quant_fit_training *tr, const char *id_label,
                          struct quant_train_result *r);

/*
 * Pooled across machines (req->machines, fit_ranks.c): meet the other ranks,
 * train tr (this rank's share) with them, and on rank 0 gather every rank's
 * test rows, symbols and exclusions into tr and r, then save and register.
 * all: every rank's symbols (sorted, n_all), which every rank must agree on.
 */
void quant_fit_train_ranks_(struct quant_workspace *ws, const struct quant_train_request *req,
                            const struct quant_model_algo *algo, int threads,
                            struct quant_fit_training *tr, char *const *all, size_t n_all,
                            struct quant_train_result *r);

/* "XGBoost" or "LightGBM". */
const char *quant_fit_display_name_(const char *algo);

/* Print and delete j (NULL stays NULL); the caller frees the text. */
char *quant_fit_json_print_(cJSON *j);

#endif
