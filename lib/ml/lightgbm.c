/*
 * lightgbm.c: the "lightgbm" backend of model.h over LightGBM's C API
 * (lib_lightgbm.so built by scripts/setup-deps.sh from the LightGBM source the
 * npm package lightgbm@1.0.27 ships).  This is the only file that includes
 * LightGBM's c_api.h and the one place LightGBM errors become quant codes.
 * Early stopping is driven from here (the C API has none): one
 * LGBM_BoosterUpdateOneIter per round, the valid binary_logloss read with
 * LGBM_BoosterGetEval, and the booster rolled back to its best round, so the
 * in-memory model, its predictions and the saved text model are one and the
 * same.  deterministic=true plus a fixed thread count make a seed reproduce a
 * model bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c_api.h defines a non-static inline function that calls a static one
 * ("'LastErrorMsg' is static but used in inline function ... which is not
 * static").  GCC gives that warning no -W name, so a diagnostic pragma cannot
 * turn it off; instead the header's directory is a system include (CMake
 * passes imported targets' include directories with -isystem), and GCC
 * exempts system headers from it.  Only LightGBM's headers get that exemption. */
#include <LightGBM/c_api.h>

#include "ml/model_internal.h"
#include "ml/ranks.h"
#include "quant/machines.h"

#include "core/banned.h"

/* Ranges follow LightGBM's own parameter checks. */
static const struct quant_param_spec lgb_params[] = {
    {"learning_rate",           QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"num_leaves",              QUANT_PARAM_INT,    2,    131072, NULL},
    {"max_depth",               QUANT_PARAM_INT,    -1,   64, NULL},
    {"min_data_in_leaf",        QUANT_PARAM_INT,    0,    1000000, NULL},
    {"min_sum_hessian_in_leaf", QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"feature_fraction",        QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"bagging_fraction",        QUANT_PARAM_DOUBLE, 1e-6, 1.0, NULL},
    {"bagging_freq",            QUANT_PARAM_INT,    0,    1000000, NULL},
    {"lambda_l1",               QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"lambda_l2",               QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"min_gain_to_split",       QUANT_PARAM_DOUBLE, 0,    1e9, NULL},
    {"max_bin",                 QUANT_PARAM_INT,    2,    65535, NULL},
    /* Across machines only (opts->cluster): how ranks share a split search. */
    {"tree_learner",            QUANT_PARAM_CHOICE, 0,    0,     "data|voting"},
};

static const char *const lgb_reserved[] = {
    "objective", "seed", "random_state", "num_threads", "nthread", "n_jobs", "metric",
    "deterministic", "verbosity", "verbose", "boosting", "num_iterations", NULL,
};

/* Where to reach the booster and what predict needs. */
struct lgb_model {
    BoosterHandle booster;
    int threads;
};

static enum quant_code lgb_fail(struct quant_err *err, const char *what)
{
    const char *m = LGBM_GetLastError();
    return quant_err_set(err, QUANT_EINTERNAL, "lightgbm: %s failed: %s", what,
                         m && *m ? m : "(no message)");
}

/* The library logs through this hook even at verbosity -1 for some fatal
 * paths; a library must not print. */
static void lgb_silent_log(const char *msg) { (void)msg; }

/* The parameter string LightGBM takes: "k=v k=v ...". */
static enum quant_code build_params(const struct quant_train_opts *opts, char *out,
                                    size_t outsz, struct quant_err *err)
{
    int w = snprintf(out, outsz,
                     "objective=binary metric=binary_logloss boosting=gbdt verbosity=-1 "
                     "deterministic=true force_row_wise=true num_threads=%d seed=%llu",
                     opts->threads, (unsigned long long)(opts->seed & 0x7fffffffULL));
    size_t used = w > 0 ? (size_t)w : 0;
    for (size_t i = 0; i < opts->n_params && used < outsz; i++) {
        w = snprintf(out + used, outsz - used, " %s", opts->params[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    int learner = 0;
    for (size_t i = 0; i < opts->n_params; i++)
        learner |= strncmp(opts->params[i], "tree_learner=", 13) == 0;
    if (learner && !opts->cluster)
        return quant_err_set(err, QUANT_EINVAL, "lightgbm: tree_learner is for training "
                             "across machines (--machines); one machine learns alone");
    /* num_machines goes to the data sets as well as the booster (the same
     * string serves both): without it the data set's bins are not agreed
     * between ranks and the booster's config falls back to the serial learner,
     * training alone without a word.  pre_partition: each rank holds its own
     * share already. */
    const struct quant_train_cluster *c = opts->cluster;
    char machines[QUANT_MACHINES_MAX * 24];
    if (c && used < outsz) {
        if (quant_machines_format(c->machines, machines, sizeof machines) != 0)
            return quant_err_set(err, QUANT_EINVAL, "lightgbm: machine list too long");
        w = snprintf(out + used, outsz - used, "%s num_machines=%zu machines=%s "
                     "local_listen_port=%d time_out=%d pre_partition=true",
                     learner ? "" : " tree_learner=data", c->machines->n, machines,
                     c->machines->m[c->rank].port, (c->timeout_s + 59) / 60);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used >= outsz)
        return quant_err_set(err, QUANT_EINVAL, "lightgbm: params too long (max %zu bytes)",
                             outsz);
    return QUANT_OK;
}

/*
 * The valid logloss of this round over every rank's valid rows: LightGBM
 * evaluates each rank's own rows only, so the ranks sum loss * rows and rows
 * through quant's channel.  *n_valid is the rows of every rank (0: none).
 */
static enum quant_code global_logloss(const struct quant_train_cluster *c, double local,
                                      size_t local_rows, double *out, double *n_valid,
                                      struct quant_err *err)
{
    double v[2] = {local_rows ? local * (double)local_rows : 0.0, (double)local_rows};
    enum quant_code rc = quant_ranks_sum(c->channel, v, 2, err);
    if (rc)
        return rc;
    *n_valid = v[1];
    *out = v[1] > 0 ? v[0] / v[1] : NAN;
    return QUANT_OK;
}

static enum quant_code make_dataset(const struct quant_ml_data *d, const char *params,
                                    DatasetHandle reference, DatasetHandle *out,
                                    struct quant_err *err)
{
    *out = NULL;
    if (d->n_rows > INT32_MAX || d->n_features > INT32_MAX)
        return quant_err_set(err, QUANT_EINVAL, "lightgbm: %zu x %zu is too large a matrix",
                             d->n_rows, d->n_features);
    if (LGBM_DatasetCreateFromMat(d->x, C_API_DTYPE_FLOAT32, (int32_t)d->n_rows,
                                  (int32_t)d->n_features, 1, params, reference, out) != 0)
        return lgb_fail(err, "creating the data set");
    if (LGBM_DatasetSetField(*out, "label", d->y, (int)d->n_rows, C_API_DTYPE_FLOAT32) != 0) {
        enum quant_code rc = lgb_fail(err, "setting labels");
        LGBM_DatasetFree(*out);
        *out = NULL;
        return rc;
    }
    return QUANT_OK;
}

/* Train up to opts->rounds rounds; early-stop on the valid set (index 1). */
static enum quant_code boost(BoosterHandle b, size_t valid_rows,
                             const struct quant_train_opts *opts,
                             struct quant_train_info *info, struct quant_err *err)
{
    int has_valid = valid_rows > 0;
    struct quant_early_stop es;
    quant_early_stop_init(&es, opts->early_stopping_rounds);
    double last_ll = NAN;
    for (int it = 0; it < opts->rounds; it++) {
        int finished = 0;
        if (LGBM_BoosterUpdateOneIter(b, &finished) != 0)
            return lgb_fail(err, "a boosting round");
        if (finished)   /* no split improves anything: this round added no tree */
            break;
        info->rounds_trained = it + 1;
        if (!has_valid && !opts->cluster)
            continue;
        int n = 0;
        double ll[4] = {NAN};
        if (has_valid && LGBM_BoosterGetEval(b, 1, &n, ll) != 0)
            return lgb_fail(err, "evaluating the valid set");
        if (has_valid && (n < 1 || !isfinite(ll[0])))
            return quant_err_set(err, QUANT_EINTERNAL,
                                 "lightgbm: no valid logloss after round %d", it + 1);
        if (opts->cluster) {
            /* Every rank takes part, with or without valid rows of its own,
             * and so reaches the same decision. */
            double all_rows = 0;
            enum quant_code rc = global_logloss(opts->cluster, ll[0], valid_rows, &ll[0],
                                                &all_rows, err);
            if (rc)
                return rc;
            has_valid = all_rows > 0;
            if (!has_valid)
                continue;
        }
        last_ll = ll[0];
        if (quant_early_stop_update(&es, it + 1, ll[0])) {
            info->stopped_early = 1;
            break;
        }
    }
    /* A round that finds no split may still have added a constant tree: ask. */
    int current = 0;
    if (LGBM_BoosterGetCurrentIteration(b, &current) != 0)
        return lgb_fail(err, "counting rounds");
    info->rounds_trained = current;
    /* Without early stopping every round is kept: the valid set only reports. */
    int cut = has_valid && es.best_round && opts->early_stopping_rounds > 0;
    info->best_round = cut ? es.best_round : info->rounds_trained;
    info->best_valid_logloss = !has_valid ? NAN : cut ? es.best : last_ll;
    for (int i = info->best_round; i < info->rounds_trained; i++)
        if (LGBM_BoosterRollbackOneIter(b) != 0)
            return lgb_fail(err, "rolling back to the best round");
    return QUANT_OK;
}

/*
 * LightGBM's own links between the ranks (its C API: the booster does not
 * start them from params).  The ranks have met on quant's channel already,
 * so every peer is up and connecting takes moments; LightGBM's time_out
 * cannot be relied on for that (see ranks.h).  "rank=i" in the list names
 * this rank outright rather than LightGBM guessing it from the machine's
 * addresses and port (which fails behind NAT).
 */
static enum quant_code network_init(const struct quant_train_cluster *c, struct quant_err *err)
{
    char machines[QUANT_MACHINES_MAX * 24 + 16];
    if (quant_machines_format(c->machines, machines, sizeof machines - 16) != 0)
        return quant_err_set(err, QUANT_EINVAL, "lightgbm: machine list too long");
    size_t used = strlen(machines);
    snprintf(machines + used, sizeof machines - used, ",rank=%d", c->rank);
    if (LGBM_NetworkInit(machines, c->machines->m[c->rank].port, (c->timeout_s + 59) / 60,
                         (int)c->machines->n) != 0)
        return lgb_fail(err, "linking the machines");
    return QUANT_OK;
}

static enum quant_code lgb_train(const struct quant_ml_data *train,
                                 const struct quant_ml_data *valid,
                                 const struct quant_train_opts *opts, void **out_impl,
                                 struct quant_train_info *info, struct quant_err *err)
{
    LGBM_RegisterLogCallback(lgb_silent_log);
    char params[4096];
    enum quant_code rc = build_params(opts, params, sizeof params, err);
    if (rc != QUANT_OK)
        return rc;
    struct lgb_model *m = calloc(1, sizeof *m);
    if (!m)
        return quant_err_set(err, QUANT_ENOMEM, "lightgbm: out of memory");
    m->threads = opts->threads;
    DatasetHandle dtrain = NULL, dvalid = NULL;
    int network = 0;
    if (opts->cluster) {
        rc = network_init(opts->cluster, err);
        network = rc == QUANT_OK;
    }
    if (rc == QUANT_OK)
        rc = make_dataset(train, params, NULL, &dtrain, err);
    /* The valid set must reuse train's bins, hence the reference. */
    if (rc == QUANT_OK && valid)
        rc = make_dataset(valid, params, dtrain, &dvalid, err);
    if (rc == QUANT_OK && LGBM_BoosterCreate(dtrain, params, &m->booster) != 0)
        rc = lgb_fail(err, "creating the booster");
    if (rc == QUANT_OK && dvalid && LGBM_BoosterAddValidData(m->booster, dvalid) != 0)
        rc = lgb_fail(err, "adding the valid set");
    if (rc == QUANT_OK)
        rc = boost(m->booster, dvalid ? valid->n_rows : 0, opts, info, err);
    /* The trees are all grown: the links are not needed to predict or save. */
    if (network)
        LGBM_NetworkFree();
    /* The booster keeps what it needs of the data sets only while they live,
     * so they are freed after it is done training (not after it is freed:
     * prediction does not touch them). */
    if (rc != QUANT_OK && m->booster)
        LGBM_BoosterFree(m->booster);
    if (dvalid)
        LGBM_DatasetFree(dvalid);
    if (dtrain)
        LGBM_DatasetFree(dtrain);
    if (rc != QUANT_OK) {
        free(m);
        return rc;
    }
    *out_impl = m;
    return QUANT_OK;
}

static enum quant_code lgb_predict(void *impl, const float *x, size_t n_rows,
                                   size_t n_features, double *out, struct quant_err *err)
{
    struct lgb_model *m = impl;
    if (n_rows > INT32_MAX)
        return quant_err_set(err, QUANT_EINVAL, "lightgbm: %zu rows is too many to predict "
                             "at once; predict in chunks", n_rows);
    /* Rows are predicted independently, so threads change speed, not results.
     * For a symbol's few thousand rows, waking OpenMP workers costs more than
     * it saves (measured: its spin-wait was 17% of a 500-symbol score run). */
    char params[64];
    snprintf(params, sizeof params, "num_threads=%d", n_rows < 50000 ? 1 : m->threads);
    int64_t len = 0;
    if (LGBM_BoosterPredictForMat(m->booster, x, C_API_DTYPE_FLOAT32, (int32_t)n_rows,
                                  (int32_t)n_features, 1, C_API_PREDICT_NORMAL, 0, -1, params,
                                  &len, out) != 0)
        return lgb_fail(err, "predicting");
    if (len != (int64_t)n_rows)
        return quant_err_set(err, QUANT_EINTERNAL,
                             "lightgbm: %lld predictions for %zu rows; is this a binary model?",
                             (long long)len, n_rows);
    return QUANT_OK;
}

static enum quant_code lgb_serialize(void *impl, char **out_buf, size_t *out_len,
                                     struct quant_err *err)
{
    struct lgb_model *m = impl;
    int64_t need = 0;
    char probe[1];
    /* First call asks for the size, second one writes. */
    if (LGBM_BoosterSaveModelToString(m->booster, 0, -1, C_API_FEATURE_IMPORTANCE_SPLIT, 0,
                                      &need, probe) != 0)
        return lgb_fail(err, "writing the model");
    if (need <= 0)
        return quant_err_set(err, QUANT_EINTERNAL, "lightgbm: empty model text");
    char *buf = malloc((size_t)need);
    if (!buf)
        return quant_err_set(err, QUANT_ENOMEM, "lightgbm: out of memory saving the model");
    int64_t got = 0;
    if (LGBM_BoosterSaveModelToString(m->booster, 0, -1, C_API_FEATURE_IMPORTANCE_SPLIT, need,
                                      &got, buf) != 0 || got != need) {
        free(buf);
        return lgb_fail(err, "writing the model");
    }
    *out_buf = buf;
    *out_len = (size_t)need - 1;   /* the count includes the terminating NUL */
    return QUANT_OK;
}

/* LightGBM text models start with the line "tree".  Checking that first keeps
 * LightGBM from reporting a foreign file on stderr (its Fatal log bypasses the
 * log callback). */
static enum quant_code check_header(const char *path, struct quant_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return quant_err_set(err, QUANT_EIO, "lightgbm: cannot open model file %s", path);
    char line[8] = {0};
    size_t got = fread(line, 1, 5, f);
    fclose(f);
    if (got < 5 || memcmp(line, "tree", 4) != 0 || (line[4] != '\n' && line[4] != '\r'))
        return quant_err_set(err, QUANT_EPARSE, "%s is not a LightGBM text model; was it "
                             "trained with another algorithm?", path);
    return QUANT_OK;
}

static enum quant_code lgb_load(const char *path, void **out_impl, size_t *out_n_features,
                                struct quant_err *err)
{
    LGBM_RegisterLogCallback(lgb_silent_log);
    enum quant_code hrc = check_header(path, err);
    if (hrc != QUANT_OK)
        return hrc;
    struct lgb_model *m = calloc(1, sizeof *m);
    if (!m)
        return quant_err_set(err, QUANT_ENOMEM, "lightgbm: out of memory");
    m->threads = 2;
    int iters = 0, nf = 0;
    enum quant_code rc = QUANT_OK;
    if (LGBM_BoosterCreateFromModelfile(path, &iters, &m->booster) != 0)
        rc = quant_err_set(err, QUANT_EPARSE, "%s is not a readable LightGBM model (%s); was "
                           "it trained with another algorithm?", path, LGBM_GetLastError());
    else if (LGBM_BoosterGetNumFeature(m->booster, &nf) != 0 || nf <= 0)
        rc = quant_err_set(err, QUANT_EPARSE, "%s: LightGBM model without features", path);
    if (rc != QUANT_OK) {
        if (m->booster)
            LGBM_BoosterFree(m->booster);
        free(m);
        return rc;
    }
    *out_impl = m;
    *out_n_features = (size_t)nf;
    return QUANT_OK;
}

static void lgb_free(void *impl)
{
    struct lgb_model *m = impl;
    LGBM_BoosterFree(m->booster);
    free(m);
}

const struct quant_model_algo quant_model_lightgbm = {{
    .name = "lightgbm",
    .file_ext = ".txt",
    .params = lgb_params,
    .n_params = sizeof lgb_params / sizeof *lgb_params,
    .reserved = lgb_reserved,
    .distributed = 1,
    .train = lgb_train,
    .predict = lgb_predict,
    .serialize = lgb_serialize,
    .load = lgb_load,
    .free = lgb_free,
}};
