/*
 * metrics.h: classification metrics on the test segment, as defined by
 * shared/spec/FEATURES.md ("Metrics"), and their JSON form.
 *
 * Definitions (threshold 0.5: predicted 1 when p >= 0.5):
 *   accuracy           share of test rows predicted right
 *   precision          TP / (TP + FP); 0 when nothing is predicted 1
 *   recall             TP / (TP + FN); 0 when the test has no label 1
 *   f1                 2 P R / (P + R); 0 when P + R = 0
 *   auc                ROC AUC, tied scores counted half (Mann-Whitney with
 *                      average ranks); NAN (JSON null) when the test holds
 *                      only one class
 *   logloss            mean -[y ln p + (1-y) ln(1-p)], p clipped to [1e-15, 1-1e-15]
 *   base_rate          share of label 1 in test
 *   baseline_accuracy  accuracy of predicting train's majority class for every
 *                      test row (a tie in train counts as majority 1)
 *   predicted_positive_rate  share of test rows predicted 1 (0 or 1: the model
 *                      predicts one class only; not in the spec, quant's own)
 *   n_train, n_valid, n_test   rows in each segment after the embargo
 *
 * Ownership: everything is computed into a caller struct; quant_metrics_to_json
 * returns a new cJSON object the caller deletes with cJSON_Delete.
 */
#ifndef QUANT_METRICS_H
#define QUANT_METRICS_H

#include <stddef.h>

#include "quant/error.h"

#define QUANT_METRICS_THRESHOLD 0.5
#define QUANT_METRICS_CLIP 1e-15

struct quant_metrics {
    double accuracy, precision, recall, f1, auc, logloss;
    double base_rate, baseline_accuracy;
    double predicted_positive_rate;   /* NAN when read from a model that predates it */
    size_t n_train, n_valid, n_test;
    double threshold;             /* 0.5 */
};

/*
 * Metrics of predictions p_test[0..n_test) against labels y_test (0/1), with
 * train's labels y_train[0..n_train) for the baseline and n_valid for the
 * record.  QUANT_EINVAL when n_test = 0, a label is not 0/1, or a probability
 * is not in [0, 1]; QUANT_ENOMEM when the AUC's sort buffer cannot be had.
 */
enum quant_code quant_metrics_compute(const float *y_test, const double *p_test, size_t n_test,
                                      const float *y_train, size_t n_train, size_t n_valid,
                                      struct quant_metrics *out, struct quant_err *err);

/*
 * ROC AUC alone (ties counted half), O(n log n).  *out_auc is NAN when y has
 * only one class or n = 0.  QUANT_ENOMEM on allocation failure, QUANT_EINVAL
 * on a NAN score.
 */
enum quant_code quant_metric_auc(const float *y, const double *p, size_t n, double *out_auc,
                                 struct quant_err *err);

/*
 * The metrics as a JSON object:
 *   {"accuracy":..,"precision":..,"recall":..,"f1":..,"auc":..,"logloss":..,
 *    "base_rate":..,"baseline_accuracy":..,"predicted_positive_rate":..,
 *    "n_train":..,"n_valid":..,
 *    "n_test":..,"threshold":0.5}
 * Non-finite values are null.  Returns a new object (caller cJSON_Delete()s
 * it), or NULL when out of memory.  struct cJSON is cJSON's own type, only
 * declared here so that includers need not include <cjson/cJSON.h>.
 */
struct cJSON;
struct cJSON *quant_metrics_to_json(const struct quant_metrics *m);

/*
 * Read back what quant_metrics_to_json wrote (a registry row's metrics_json).
 * Missing or null keys become NAN (counts 0), so models registered by an
 * older quant still read.  QUANT_EINVAL when json is not an object.
 */
enum quant_code quant_metrics_from_json(const char *json, struct quant_metrics *out,
                                        struct quant_err *err);

/*
 * The one warning a user must see about these metrics, written into out and
 * returned, or NULL when there is none: the model predicts one class only,
 * its accuracy is no better than the baseline, or its AUC no better than
 * chance (0.5).  The CLI, status and the dashboard all use this wording.
 */
const char *quant_metrics_warning(const struct quant_metrics *m, char *out, size_t cap);

#endif
