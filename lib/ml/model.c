/*
 * model.c: the backend-independent half of model.h: the registry of backends,
 * argument and "key=value" param checks (done once here so both backends
 * reject the same mistakes with the same words), early-stopping bookkeeping,
 * and the atomic model-file write.  It must not include any ML library's
 * header: that stays in lightgbm.c and xgboost.c.
 */
#include "quant/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ml/model_internal.h"
#include "quant/machines.h"

#include "core/banned.h"

struct quant_model {
    const struct quant_model_algo *algo;
    void *impl;            /* the backend's model */
    size_t n_features;
};

static const struct quant_model_algo *const algos[] = {
    &quant_model_lightgbm,
    &quant_model_xgboost,
};
#define N_ALGOS (sizeof algos / sizeof *algos)

const struct quant_model_algo *quant_model_algo_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_ALGOS; i++)
        if (strcmp(algos[i]->ops.name, name) == 0)
            return algos[i];
    return NULL;
}

size_t quant_model_algo_count(void) { return N_ALGOS; }

const struct quant_model_algo *quant_model_algo_at(size_t i)
{
    return i < N_ALGOS ? algos[i] : NULL;
}

const char *quant_model_algo_name(const struct quant_model_algo *algo)
{
    return algo->ops.name;
}

const char *quant_model_algo_file_ext(const struct quant_model_algo *algo)
{
    return algo->ops.file_ext;
}

void quant_train_opts_init(struct quant_train_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->rounds = QUANT_TRAIN_ROUNDS_DEFAULT;
    opts->early_stopping_rounds = QUANT_TRAIN_EARLY_STOP_DEFAULT;
    opts->threads = QUANT_TRAIN_THREADS_DEFAULT;
}

/* ---- params ---------------------------------------------------------------- */

int quant_param_split(const char *kv, char *key, size_t keysz, const char **out_value)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return -1;
    size_t n = (size_t)(eq - kv);
    if (n >= keysz)
        n = keysz - 1;
    memcpy(key, kv, n);
    key[n] = '\0';
    *out_value = eq + 1;
    return 0;
}

/* "learning_rate, num_leaves, ..." into out, for messages. */
static void accepted_keys(const struct quant_model_ops *ops, char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ops->n_params && used < outsz; i++) {
        int w = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", ops->params[i].key);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static const struct quant_param_spec *find_param(const struct quant_model_ops *ops,
                                                 const char *key)
{
    for (size_t i = 0; i < ops->n_params; i++)
        if (strcmp(ops->params[i].key, key) == 0)
            return &ops->params[i];
    return NULL;
}

static int is_reserved(const struct quant_model_ops *ops, const char *key)
{
    for (const char *const *r = ops->reserved; r && *r; r++)
        if (strcmp(*r, key) == 0)
            return 1;
    return 0;
}

/* Parse value per spec; 0 when it is a number of the right kind in range. */
static int value_ok(const struct quant_param_spec *spec, const char *value)
{
    char *end = NULL;
    errno = 0;
    double v;
    if (spec->kind == QUANT_PARAM_CHOICE) {
        /* A whole word of "a|b|c". */
        size_t len = strlen(value);
        for (const char *c = spec->choices; len && c && *c; c += strcspn(c, "|"), c += *c == '|')
            if (strncmp(c, value, len) == 0 && (c[len] == '|' || c[len] == '\0'))
                return 0;
        return -1;
    }
    if (spec->kind == QUANT_PARAM_INT) {
        long l = strtol(value, &end, 10);
        v = (double)l;
    } else {
        v = strtod(value, &end);
    }
    if (end == value || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    return v >= spec->min && v <= spec->max ? 0 : -1;
}

static enum quant_code check_one_param(const struct quant_model_ops *ops, const char *kv,
                                       struct quant_err *err)
{
    char key[64];
    const char *value = NULL;
    char keys[512];
    accepted_keys(ops, keys, sizeof keys);
    if (!kv || quant_param_split(kv, key, sizeof key, &value) != 0 || key[0] == '\0')
        return quant_err_set(err, QUANT_EINVAL,
                             "%s param '%s' is not key=value; write e.g. %s=%s",
                             ops->name, kv ? kv : "(null)", ops->params[0].key, "0.05");
    if (is_reserved(ops, key))
        return quant_err_set(err, QUANT_EINVAL,
                             "%s param '%s' is set by quant itself (objective, seed and "
                             "threads come from the train options); remove it",
                             ops->name, key);
    const struct quant_param_spec *spec = find_param(ops, key);
    if (!spec)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s does not accept param '%s'; accepted keys: %s",
                             ops->name, key, keys);
    if (value_ok(spec, value) != 0 && spec->kind == QUANT_PARAM_CHOICE)
        return quant_err_set(err, QUANT_EINVAL, "%s param %s=%s: expected one of %s",
                             ops->name, key, value, spec->choices);
    if (value_ok(spec, value) != 0)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s param %s=%s: expected %s from %g to %g",
                             ops->name, key, value,
                             spec->kind == QUANT_PARAM_INT ? "an integer" : "a number",
                             spec->min, spec->max);
    return QUANT_OK;
}

enum quant_code quant_model_params_check(const struct quant_model_algo *algo,
                                         const char *const *params, size_t n_params,
                                         struct quant_err *err)
{
    if (!algo)
        return quant_err_set(err, QUANT_EINVAL, "no ML algorithm given");
    if (n_params && !params)
        return quant_err_set(err, QUANT_EINVAL, "%s: %zu params announced but none given",
                             algo->ops.name, n_params);
    for (size_t i = 0; i < n_params; i++) {
        enum quant_code rc = check_one_param(&algo->ops, params[i], err);
        if (rc != QUANT_OK)
            return rc;
        /* The same key twice would leave it to the library which one wins. */
        char key[64], other[64];
        const char *v;
        quant_param_split(params[i], key, sizeof key, &v);
        for (size_t j = 0; j < i; j++) {
            quant_param_split(params[j], other, sizeof other, &v);
            if (strcmp(key, other) == 0)
                return quant_err_set(err, QUANT_EINVAL,
                                     "%s param '%s' is given twice; keep one", algo->ops.name,
                                     key);
        }
    }
    return QUANT_OK;
}

/* ---- early stopping ---------------------------------------------------------- */

void quant_early_stop_init(struct quant_early_stop *es, int patience)
{
    es->patience = patience;
    es->best = INFINITY;
    es->best_round = 0;
}

int quant_early_stop_update(struct quant_early_stop *es, int round, double logloss)
{
    /* Strictly better only: equal losses keep the earlier, smaller model. */
    if (logloss < es->best || es->best_round == 0) {
        es->best = logloss;
        es->best_round = round;
        return 0;
    }
    return es->patience > 0 && round - es->best_round >= es->patience;
}

/* ---- train / predict ----------------------------------------------------------- */

static enum quant_code check_data(const char *algo, const char *what,
                                  const struct quant_ml_data *d, size_t n_features,
                                  struct quant_err *err)
{
    if (d->n_rows == 0)
        return QUANT_OK;
    if (!d->x || !d->y)
        return quant_err_set(err, QUANT_EINVAL, "%s: %s set has %zu rows but no %s array",
                             algo, what, d->n_rows, d->x ? "label" : "feature");
    if (d->n_features != n_features)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s: %s set has %zu features, train has %zu; build both from "
                             "the same feature set", algo, what, d->n_features, n_features);
    for (size_t r = 0; r < d->n_rows; r++)
        if (d->y[r] != 0.0f && d->y[r] != 1.0f)
            return quant_err_set(err, QUANT_EINVAL,
                                 "%s: %s label of row %zu is %g; labels must be 0 or 1",
                                 algo, what, r, (double)d->y[r]);
    return QUANT_OK;
}

static enum quant_code check_opts(const struct quant_model_algo *algo,
                                  const struct quant_train_opts *opts, struct quant_err *err)
{
    const char *name = algo->ops.name;
    if (opts->rounds < 1 || opts->rounds > QUANT_TRAIN_ROUNDS_MAX)
        return quant_err_set(err, QUANT_EINVAL, "%s: rounds %d is out of range; use 1..%d",
                             name, opts->rounds, QUANT_TRAIN_ROUNDS_MAX);
    if (opts->early_stopping_rounds < 0)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s: early stopping rounds %d is negative; use 0 (off) or more",
                             name, opts->early_stopping_rounds);
    if (opts->threads < 1 || opts->threads > 256)
        return quant_err_set(err, QUANT_EINVAL, "%s: threads %d is out of range; use 1..256",
                             name, opts->threads);
    if (opts->cluster && !algo->ops.distributed)
        return quant_err_set(err, QUANT_EINVAL, "%s cannot train across machines; use "
                             "--algo lightgbm with --machines", name);
    if (opts->cluster && (!opts->cluster->machines || !opts->cluster->channel ||
                          opts->cluster->rank < 0 ||
                          (size_t)opts->cluster->rank >= opts->cluster->machines->n))
        return quant_err_set(err, QUANT_EINVAL, "%s: training across machines needs the "
                             "machine list, this rank and the ranks' channel", name);
    return quant_model_params_check(algo, opts->params, opts->n_params, err);
}

enum quant_code quant_model_train(const struct quant_model_algo *algo,
                                  const struct quant_ml_data *train,
                                  const struct quant_ml_data *valid,
                                  const struct quant_train_opts *opts,
                                  struct quant_model **out_model,
                                  struct quant_train_info *info,
                                  struct quant_err *err)
{
    if (!algo || !train || !opts || !out_model)
        return quant_err_set(err, QUANT_EINVAL, "model train: missing argument");
    *out_model = NULL;
    const char *name = algo->ops.name;
    enum quant_code rc = check_opts(algo, opts, err);
    if (rc != QUANT_OK)
        return rc;
    if (train->n_rows == 0 || train->n_features == 0)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s: the train set is empty (%zu rows, %zu features); "
                             "there is nothing to learn from", name, train->n_rows,
                             train->n_features);
    if ((rc = check_data(name, "train", train, train->n_features, err)) != QUANT_OK)
        return rc;
    if (valid && (rc = check_data(name, "valid", valid, train->n_features, err)) != QUANT_OK)
        return rc;

    struct quant_model *m = calloc(1, sizeof *m);
    if (!m)
        return quant_err_set(err, QUANT_ENOMEM, "%s: out of memory", name);
    struct quant_train_info local;
    struct quant_train_info *inf = info ? info : &local;
    memset(inf, 0, sizeof *inf);
    inf->best_valid_logloss = NAN;
    const struct quant_ml_data *v = valid && valid->n_rows ? valid : NULL;
    rc = algo->ops.train(train, v, opts, &m->impl, inf, err);
    if (rc != QUANT_OK) {
        free(m);
        return rc;
    }
    m->algo = algo;
    m->n_features = train->n_features;
    *out_model = m;
    return QUANT_OK;
}

enum quant_code quant_model_predict(struct quant_model *model, const float *x,
                                    size_t n_rows, size_t n_features, double *out_prob,
                                    struct quant_err *err)
{
    if (!model)
        return quant_err_set(err, QUANT_EINVAL, "model predict: no model");
    if (n_rows == 0)
        return QUANT_OK;
    if (!x || !out_prob)
        return quant_err_set(err, QUANT_EINVAL, "model predict: missing input or output array");
    if (n_features != model->n_features)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s: the model was trained on %zu features, the data has %zu; "
                             "use the feature set the model was trained with",
                             model->algo->ops.name, model->n_features, n_features);
    return model->algo->ops.predict(model->impl, x, n_rows, n_features, out_prob, err);
}

/* ---- files ------------------------------------------------------------------------- */

static enum quant_code write_atomic(const char *path, const char *buf, size_t len,
                                    struct quant_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.part", path) >= sizeof tmp)
        return quant_err_set(err, QUANT_EINVAL, "model path is too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return quant_err_set(err, QUANT_EIO, "cannot write model file %s: %s; check the "
                             "directory exists and is writable", tmp, strerror(errno));
    int ok = fwrite(buf, 1, len, f) == len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    int saved = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        unlink(tmp);
        return quant_err_set(err, QUANT_EIO, "cannot write model file %s: %s (disk full?)",
                             tmp, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return quant_err_set(err, QUANT_EIO, "cannot rename %s to %s: %s", tmp, path,
                             strerror(saved));
    }
    return QUANT_OK;
}

enum quant_code quant_model_save(struct quant_model *model, const char *path,
                                 struct quant_err *err)
{
    if (!model || !path || !*path)
        return quant_err_set(err, QUANT_EINVAL, "model save: missing model or path");
    char *buf = NULL;
    size_t len = 0;
    enum quant_code rc = model->algo->ops.serialize(model->impl, &buf, &len, err);
    if (rc != QUANT_OK)
        return quant_err_prefix(err, "save %s: ", path);
    rc = write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

enum quant_code quant_model_load(const struct quant_model_algo *algo, const char *path,
                                 struct quant_model **out_model, struct quant_err *err)
{
    if (!algo || !path || !out_model)
        return quant_err_set(err, QUANT_EINVAL, "model load: missing argument");
    *out_model = NULL;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return quant_err_set(err, QUANT_ENOTFOUND, "%s model file %s not found; train a "
                             "model first", algo->ops.name, path);
    struct quant_model *m = calloc(1, sizeof *m);
    if (!m)
        return quant_err_set(err, QUANT_ENOMEM, "%s: out of memory", algo->ops.name);
    enum quant_code rc = algo->ops.load(path, &m->impl, &m->n_features, err);
    if (rc != QUANT_OK) {
        free(m);
        return rc;
    }
    m->algo = algo;
    *out_model = m;
    return QUANT_OK;
}

enum quant_code quant_model_fingerprint(struct quant_model *model, char out[17],
                                        struct quant_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum quant_code rc = model->algo->ops.serialize(model->impl, &buf, &len, err);
    if (rc != QUANT_OK)
        return rc;
    /* A LightGBM text model ends with the parameters it was trained with,
     * which name this rank's own port: only the trees say what was learned. */
    const char *end = strstr(buf, "\nend of trees\n");
    if (end)
        len = (size_t)(end - buf) + 1;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    free(buf);
    return QUANT_OK;
}

const struct quant_model_algo *quant_model_get_algo(const struct quant_model *model)
{
    return model->algo;
}

size_t quant_model_n_features(const struct quant_model *model)
{
    return model->n_features;
}

void quant_model_free(struct quant_model *model)
{
    if (!model)
        return;
    if (model->impl)
        model->algo->ops.free(model->impl);
    free(model);
}
