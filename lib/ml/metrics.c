/*
 * metrics.c: the test-segment metrics of FEATURES.md and their JSON object.
 * AUC is the Mann-Whitney statistic over average ranks (one sort, so
 * O(n log n), and tied scores count half by construction).  Computes only:
 * no storage, no printing.
 */
#include "quant/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include "core/banned.h"

struct scored {
    double p;
    int y;
};

static int by_score(const void *a, const void *b)
{
    double pa = ((const struct scored *)a)->p, pb = ((const struct scored *)b)->p;
    return (pa > pb) - (pa < pb);
}

enum quant_code quant_metric_auc(const float *y, const double *p, size_t n, double *out_auc,
                                 struct quant_err *err)
{
    *out_auc = NAN;
    if (n == 0)
        return QUANT_OK;
    struct scored *s = malloc(n * sizeof *s);
    if (!s)
        return quant_err_set(err, QUANT_ENOMEM, "auc: out of memory for %zu scores", n);
    double n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i])) {
            free(s);
            return quant_err_set(err, QUANT_EINVAL, "auc: score %zu is NaN", i);
        }
        s[i].p = p[i];
        s[i].y = y[i] > 0.5f;
        n_pos += s[i].y;
    }
    double n_neg = (double)n - n_pos;
    if (n_pos == 0 || n_neg == 0) {
        free(s);
        return QUANT_OK;
    }
    qsort(s, n, sizeof *s, by_score);
    /* Sum of the positives' ranks, each tie group sharing its average rank. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double pos = 0;
        while (j < n && s[j].p == s[i].p)
            pos += s[j++].y;
        double avg_rank = ((double)(i + 1) + (double)j) / 2.0;   /* ranks i+1..j */
        rank_sum += pos * avg_rank;
        i = j;
    }
    free(s);
    *out_auc = (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg);
    return QUANT_OK;
}

static enum quant_code check_inputs(const float *y_test, const double *p_test, size_t n_test,
                                    const float *y_train, size_t n_train,
                                    struct quant_err *err)
{
    if (n_test == 0 || !y_test || !p_test)
        return quant_err_set(err, QUANT_EINVAL, "metrics: the test segment is empty; there "
                             "is nothing to score");
    if (n_train && !y_train)
        return quant_err_set(err, QUANT_EINVAL, "metrics: train labels missing");
    for (size_t i = 0; i < n_test; i++) {
        if (y_test[i] != 0.0f && y_test[i] != 1.0f)
            return quant_err_set(err, QUANT_EINVAL, "metrics: test label %zu is %g, not 0/1",
                                 i, (double)y_test[i]);
        if (!(p_test[i] >= 0.0 && p_test[i] <= 1.0))
            return quant_err_set(err, QUANT_EINVAL,
                                 "metrics: probability %zu is %g, not in [0, 1]", i, p_test[i]);
    }
    for (size_t i = 0; i < n_train; i++)
        if (y_train[i] != 0.0f && y_train[i] != 1.0f)
            return quant_err_set(err, QUANT_EINVAL, "metrics: train label %zu is %g, not 0/1",
                                 i, (double)y_train[i]);
    return QUANT_OK;
}

enum quant_code quant_metrics_compute(const float *y_test, const double *p_test, size_t n_test,
                                      const float *y_train, size_t n_train, size_t n_valid,
                                      struct quant_metrics *out, struct quant_err *err)
{
    enum quant_code rc = check_inputs(y_test, p_test, n_test, y_train, n_train, err);
    if (rc != QUANT_OK)
        return rc;
    double tp = 0, fp = 0, fn = 0, tn = 0, ll = 0, train_pos = 0;
    for (size_t i = 0; i < n_test; i++) {
        int y = y_test[i] == 1.0f, pred = p_test[i] >= QUANT_METRICS_THRESHOLD;
        tp += y && pred;
        fp += !y && pred;
        fn += y && !pred;
        tn += !y && !pred;
        double p = fmin(fmax(p_test[i], QUANT_METRICS_CLIP), 1.0 - QUANT_METRICS_CLIP);
        ll -= y ? log(p) : log(1.0 - p);
    }
    for (size_t i = 0; i < n_train; i++)
        train_pos += y_train[i] == 1.0f;
    double n = (double)n_test;
    out->accuracy = (tp + tn) / n;
    out->precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
    out->recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
    out->f1 = out->precision + out->recall > 0
                  ? 2 * out->precision * out->recall / (out->precision + out->recall) : 0.0;
    out->logloss = ll / n;
    out->base_rate = (tp + fn) / n;
    out->predicted_positive_rate = (tp + fp) / n;
    if (n_train == 0)
        out->baseline_accuracy = NAN;
    else
        out->baseline_accuracy = 2 * train_pos >= (double)n_train ? out->base_rate
                                                                  : 1.0 - out->base_rate;
    out->n_train = n_train;
    out->n_valid = n_valid;
    out->n_test = n_test;
    out->threshold = QUANT_METRICS_THRESHOLD;
    return quant_metric_auc(y_test, p_test, n_test, &out->auc, err);
}


struct cJSON *quant_metrics_to_json(const struct quant_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = quant_json_add_num(o, "accuracy", m->accuracy) && quant_json_add_num(o, "precision", m->precision) &&
             quant_json_add_num(o, "recall", m->recall) && quant_json_add_num(o, "f1", m->f1) &&
             quant_json_add_num(o, "auc", m->auc) && quant_json_add_num(o, "logloss", m->logloss) &&
             quant_json_add_num(o, "base_rate", m->base_rate) &&
             quant_json_add_num(o, "baseline_accuracy", m->baseline_accuracy) &&
             quant_json_add_num(o, "predicted_positive_rate", m->predicted_positive_rate) &&
             quant_json_add_num(o, "n_train", (double)m->n_train) &&
             quant_json_add_num(o, "n_valid", (double)m->n_valid) &&
             quant_json_add_num(o, "n_test", (double)m->n_test) &&
             quant_json_add_num(o, "threshold", m->threshold);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}


static size_t json_count(const cJSON *o, const char *key)
{
    double v = quant_json_num(o, key);
    return isfinite(v) && v >= 0 ? (size_t)v : 0;
}

enum quant_code quant_metrics_from_json(const char *json, struct quant_metrics *out,
                                        struct quant_err *err)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return quant_err_set(err, QUANT_EINVAL, "model metrics are not a JSON object");
    }
    out->accuracy = quant_json_num(o, "accuracy");
    out->precision = quant_json_num(o, "precision");
    out->recall = quant_json_num(o, "recall");
    out->f1 = quant_json_num(o, "f1");
    out->auc = quant_json_num(o, "auc");
    out->logloss = quant_json_num(o, "logloss");
    out->base_rate = quant_json_num(o, "base_rate");
    out->baseline_accuracy = quant_json_num(o, "baseline_accuracy");
    out->predicted_positive_rate = quant_json_num(o, "predicted_positive_rate");
    out->n_train = json_count(o, "n_train");
    out->n_valid = json_count(o, "n_valid");
    out->n_test = json_count(o, "n_test");
    out->threshold = quant_json_num(o, "threshold");
    cJSON_Delete(o);
    return QUANT_OK;
}

/*
 * The checks run in order of how much they say: a model that predicts one
 * class has learnt nothing whatever its accuracy (on a trending test segment
 * "always up" can beat the baseline); then accuracy against train's majority
 * class and AUC against chance.  Small margins are not judged: a test
 * segment of a few hundred rows cannot tell 0.51 from 0.50.
 */
const char *quant_metrics_warning(const struct quant_metrics *m, char *out, size_t cap)
{
    if (cap == 0)
        return NULL;
    out[0] = '\0';
    double ppr = m->predicted_positive_rate;
    if (isfinite(ppr) && (ppr <= 0.0 || ppr >= 1.0)) {
        snprintf(out, cap, "predicts one class only (every test row %s): it has learnt "
                           "nothing usable", ppr >= 1.0 ? "up" : "down");
        return out;
    }
    int acc_bad = isfinite(m->accuracy) && isfinite(m->baseline_accuracy) &&
                  m->accuracy <= m->baseline_accuracy;
    int auc_bad = isfinite(m->auc) && m->auc <= 0.5;
    if (acc_bad && auc_bad)
        snprintf(out, cap, "no better than its baselines: accuracy %.4f <= baseline %.4f "
                           "(train's majority class) and AUC %.4f <= 0.5 (chance)",
                 m->accuracy, m->baseline_accuracy, m->auc);
    else if (acc_bad)
        snprintf(out, cap, "accuracy %.4f is no better than the baseline %.4f (always "
                           "predicting train's majority class)", m->accuracy,
                 m->baseline_accuracy);
    else if (auc_bad)
        snprintf(out, cap, "AUC %.4f is no better than chance (0.5)", m->auc);
    else if (!isfinite(m->auc))
        snprintf(out, cap, "AUC undefined: the test segment holds one class only");
    return out[0] ? out : NULL;
}
