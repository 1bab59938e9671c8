/*
 * xgboost.c: the "xgboost" backend of model.h over XGBoost's C API (Debian
 * libxgboost-dev 1.7).  This is the only file that includes <xgboost/c_api.h>
 * and the one place XGBoost errors become quant codes.  The C API has no early
 * stopping, so the loop lives here: one XGBoosterUpdateOneIter per round, the
 * valid logloss read back from XGBoosterEvalOneIter's text, and the booster
 * sliced to its best round at the end.  XGBoost hands out pointers into its
 * own thread-local buffers that the next call overwrites, so every result
 * (eval text, predictions, serialized model) is copied out at once.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "ml/model_internal.h"

#include "core/banned.h"

/* Ranges follow XGBoost's own parameter checks. */
static const struct quant_param_spec xgb_params[] = {
    {"eta",              QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"learning_rate",    QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"max_depth",        QUANT_PARAM_INT,    0,    64, NULL},
    {"min_child_weight", QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"subsample",        QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"colsample_bytree", QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"lambda",           QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"alpha",            QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"gamma",            QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"max_bin",          QUANT_PARAM_INT,    2,    65535, NULL},
    {"max_leaves",       QUANT_PARAM_INT,    0,    1 << 20, NULL},
};

static const char *const xgb_reserved[] = {
    "objective", "seed", "random_state", "nthread", "n_jobs", "eval_metric",
    "tree_method", "verbosity", "booster", NULL,
};

/* A booster and the threads it predicts with (XGBoost's C API cannot read
 * a parameter back; the DMatrix a prediction is made on needs it too). */
struct xgb_model {
    BoosterHandle b;
    int threads;
};

/* The library logs warnings through this hook; a library must not print. */
static void xgb_silent_log(const char *msg) { (void)msg; }

static enum quant_code xgb_fail(struct quant_err *err, const char *what)
{
    const char *m = XGBGetLastError();
    return quant_err_set(err, QUANT_EINTERNAL, "xgboost: %s failed: %s", what,
                         m && *m ? m : "(no message)");
}

/* A DMatrix from row-major floats; NAN is XGBoost's missing value. */
static enum quant_code make_dmatrix(const float *x, const float *y, size_t n_rows,
                                    size_t n_features, int threads, DMatrixHandle *out,
                                    struct quant_err *err)
{
    *out = NULL;
    if (XGDMatrixCreateFromMat_omp(x, (bst_ulong)n_rows, (bst_ulong)n_features, NAN, out,
                                   threads) != 0)
        return xgb_fail(err, "creating the data matrix");
    if (y && XGDMatrixSetFloatInfo(*out, "label", y, (bst_ulong)n_rows) != 0) {
        enum quant_code rc = xgb_fail(err, "setting labels");
        XGDMatrixFree(*out);
        *out = NULL;
        return rc;
    }
    return QUANT_OK;
}

static enum quant_code set_params(BoosterHandle b, const struct quant_train_opts *opts,
                                  struct quant_err *err)
{
    char seed[32], threads[16];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(opts->seed & 0x7fffffffULL));
    snprintf(threads, sizeof threads, "%d", opts->threads);
    const char *fixed[][2] = {
        {"booster", "gbtree"},         {"objective", "binary:logistic"},
        {"tree_method", "hist"},       {"eval_metric", "logloss"},
        {"nthread", threads},          {"seed", seed},
        {"verbosity", "0"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (XGBoosterSetParam(b, fixed[i][0], fixed[i][1]) != 0)
            return xgb_fail(err, "setting a parameter");
    for (size_t i = 0; i < opts->n_params; i++) {
        char key[64];
        const char *value;
        quant_param_split(opts->params[i], key, sizeof key, &value);
        if (XGBoosterSetParam(b, key, value) != 0)
            return xgb_fail(err, opts->params[i]);
    }
    return QUANT_OK;
}

/* The logloss in "[3]\tvalid-logloss:0.69123"; NAN when absent. */
static double parse_logloss(const char *eval)
{
    const char *p = eval ? strstr(eval, "valid-logloss:") : NULL;
    if (!p)
        return NAN;
    char *end = NULL;
    double v = strtod(p + strlen("valid-logloss:"), &end);
    return end == p + strlen("valid-logloss:") ? NAN : v;
}

/* Train rounds, early-stopping on dvalid; info filled. */
static enum quant_code boost(BoosterHandle b, DMatrixHandle dtrain, DMatrixHandle dvalid,
                             const struct quant_train_opts *opts,
                             struct quant_train_info *info, struct quant_err *err)
{
    struct quant_early_stop es;
    quant_early_stop_init(&es, opts->early_stopping_rounds);
    const char *names[] = {"valid"};
    double last_ll = NAN;
    for (int it = 0; it < opts->rounds; it++) {
        if (XGBoosterUpdateOneIter(b, it, dtrain) != 0)
            return xgb_fail(err, "a boosting round");
        info->rounds_trained = it + 1;
        if (!dvalid)
            continue;
        const char *eval = NULL;
        DMatrixHandle mats[] = {dvalid};
        if (XGBoosterEvalOneIter(b, it, mats, names, 1, &eval) != 0)
            return xgb_fail(err, "evaluating the valid set");
        double ll = parse_logloss(eval);
        last_ll = ll;
        if (isnan(ll))
            return quant_err_set(err, QUANT_EINTERNAL,
                                 "xgboost: no valid-logloss in the evaluation '%s'",
                                 eval ? eval : "");
        if (quant_early_stop_update(&es, it + 1, ll)) {
            info->stopped_early = 1;
            break;
        }
    }
    /* Without early stopping every round is kept: the valid set only reports. */
    int cut = dvalid && opts->early_stopping_rounds > 0;
    info->best_round = cut ? es.best_round : info->rounds_trained;
    info->best_valid_logloss = !dvalid ? NAN : cut ? es.best : last_ll;
    return QUANT_OK;
}

static enum quant_code xgb_train(const struct quant_ml_data *train,
                                 const struct quant_ml_data *valid,
                                 const struct quant_train_opts *opts, void **out_impl,
                                 struct quant_train_info *info, struct quant_err *err)
{
    XGBRegisterLogCallback(xgb_silent_log);
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    BoosterHandle b = NULL, best = NULL;
    enum quant_code rc = make_dmatrix(train->x, train->y, train->n_rows, train->n_features,
                                      opts->threads, &dtrain, err);
    if (rc == QUANT_OK && valid)
        rc = make_dmatrix(valid->x, valid->y, valid->n_rows, valid->n_features,
                          opts->threads, &dvalid, err);
    if (rc == QUANT_OK) {
        DMatrixHandle cache[] = {dtrain, dvalid};
        if (XGBoosterCreate(cache, dvalid ? 2 : 1, &b) != 0)
            rc = xgb_fail(err, "creating the booster");
    }
    if (rc == QUANT_OK)
        rc = set_params(b, opts, err);
    if (rc == QUANT_OK)
        rc = boost(b, dtrain, dvalid, opts, info, err);
    /* Cut the trees after the best round so every use sees the same model. */
    if (rc == QUANT_OK && info->best_round < info->rounds_trained) {
        if (XGBoosterSlice(b, 0, info->best_round, 1, &best) != 0)
            rc = xgb_fail(err, "cutting the model to its best round");
    }
    if (rc == QUANT_OK && best) {
        XGBoosterFree(b);
        b = best;
    }
    if (dtrain)
        XGDMatrixFree(dtrain);
    if (dvalid)
        XGDMatrixFree(dvalid);
    if (rc != QUANT_OK) {
        if (b)
            XGBoosterFree(b);
        return rc;
    }
    /* The threads setting is not saved with the model; keep it for predict. */
    struct xgb_model *m = malloc(sizeof *m);
    if (!m) {
        XGBoosterFree(b);
        return quant_err_set(err, QUANT_ENOMEM, "xgboost: out of memory");
    }
    m->b = b;
    m->threads = opts->threads;
    *out_impl = m;
    return QUANT_OK;
}

static enum quant_code xgb_predict(void *impl, const float *x, size_t n_rows,
                                   size_t n_features, double *out, struct quant_err *err)
{
    struct xgb_model *m = impl;
    DMatrixHandle d = NULL;
    enum quant_code rc = make_dmatrix(x, NULL, n_rows, n_features, m->threads, &d, err);
    if (rc != QUANT_OK)
        return rc;
    bst_ulong len = 0;
    const float *res = NULL;
    if (XGBoosterPredict(m->b, d, 0, 0, 0, &len, &res) != 0)
        rc = xgb_fail(err, "predicting");
    else if (len != n_rows)
        rc = quant_err_set(err, QUANT_EINTERNAL,
                           "xgboost: %llu predictions for %zu rows; is this a binary model?",
                           (unsigned long long)len, n_rows);
    else
        for (size_t i = 0; i < n_rows; i++)   /* copy before any other XGBoost call */
            out[i] = res[i];
    XGDMatrixFree(d);
    return rc;
}

static enum quant_code xgb_serialize(void *impl, char **out_buf, size_t *out_len,
                                     struct quant_err *err)
{
    bst_ulong len = 0;
    const char *data = NULL;
    struct xgb_model *m = impl;
    if (XGBoosterSaveModelToBuffer(m->b, "{\"format\": \"json\"}", &len, &data) != 0)
        return xgb_fail(err, "writing the model as JSON");
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return quant_err_set(err, QUANT_ENOMEM, "xgboost: out of memory saving the model");
    memcpy(copy, data, len);
    *out_buf = copy;
    *out_len = len;
    return QUANT_OK;
}

static enum quant_code read_whole(const char *path, char **out, size_t *out_len,
                                  struct quant_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return quant_err_set(err, QUANT_EIO, "xgboost: cannot open model file %s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return quant_err_set(err, QUANT_ENOMEM, "xgboost: out of memory reading %s", path);
    if (bad) {
        free(buf);
        return quant_err_set(err, QUANT_EIO, "xgboost: cannot read model file %s", path);
    }
    *out = buf;
    *out_len = len;
    return QUANT_OK;
}

static enum quant_code xgb_load(const char *path, void **out_impl, size_t *out_n_features,
                                struct quant_err *err)
{
    XGBRegisterLogCallback(xgb_silent_log);
    char *buf = NULL;
    size_t len = 0;
    enum quant_code rc = read_whole(path, &buf, &len, err);
    if (rc != QUANT_OK)
        return rc;
    BoosterHandle b = NULL;
    bst_ulong nf = 0;
    /* Only JSON: XGBoost's legacy binary reader trusts its input too much. */
    if (len == 0 || buf[0] != '{')
        rc = quant_err_set(err, QUANT_EPARSE, "%s is not an XGBoost JSON model; was it "
                           "trained with another algorithm?", path);
    else if (XGBoosterCreate(NULL, 0, &b) != 0)
        rc = xgb_fail(err, "creating a booster");
    else if (XGBoosterLoadModelFromBuffer(b, buf, (bst_ulong)len) != 0)
        rc = quant_err_set(err, QUANT_EPARSE, "%s is not a readable XGBoost model: %s",
                           path, XGBGetLastError());
    else if (XGBoosterGetNumFeature(b, &nf) != 0 || nf == 0)
        rc = quant_err_set(err, QUANT_EPARSE, "%s: XGBoost model without features", path);
    else if (XGBoosterSetParam(b, "nthread", "2") != 0)
        rc = xgb_fail(err, "setting threads");
    free(buf);
    struct xgb_model *m = rc == QUANT_OK ? malloc(sizeof *m) : NULL;
    if (rc == QUANT_OK && !m)
        rc = quant_err_set(err, QUANT_ENOMEM, "xgboost: out of memory loading %s", path);
    if (rc != QUANT_OK) {
        if (b)
            XGBoosterFree(b);
        return rc;
    }
    m->b = b;
    m->threads = 2;
    *out_impl = m;
    *out_n_features = (size_t)nf;
    return QUANT_OK;
}

static void xgb_free(void *impl)
{
    struct xgb_model *m = impl;
    XGBoosterFree(m->b);
    free(m);
}

const struct quant_model_algo quant_model_xgboost = {{
    .name = "xgboost",
    .file_ext = ".json",
    .params = xgb_params,
    .n_params = sizeof xgb_params / sizeof *xgb_params,
    .reserved = xgb_reserved,
    .train = xgb_train,
    .predict = xgb_predict,
    .serialize = xgb_serialize,
    .load = xgb_load,
    .free = xgb_free,
}};
