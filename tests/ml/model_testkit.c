/*
 * model_testkit.c: the behaviour every model.h backend must show, written once
 * and run per backend: tests/ml/test_lightgbm.c and test_xgboost.c define
 * TK_ALGO and include this file (it is not built on its own).  Data are
 * synthetic and seeded (a splitmix64 generator, so results do not depend on
 * the C library's rand), except one test on a real price history from
 * ../shared/data/ohlcv.
 */
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "providers/csv_provider_internal.h"
#include "quant/feature_sets.h"
#include "quant/metrics.h"
#include "quant/ml_split.h"
#include "quant/model.h"

#ifndef TK_ALGO
#error "define TK_ALGO (\"lightgbm\" or \"xgboost\") before including model_testkit.c"
#endif

static uint64_t tk_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double tk_unif(uint64_t *s) { return (double)(tk_next(s) >> 11) * 0x1.0p-53; }

/* A data set with its own arrays. */
struct tk_set {
    float *x, *y;
    size_t n, nf;
};

static struct quant_ml_data tk_data(const struct tk_set *s)
{
    struct quant_ml_data d = {.x = s->x, .y = s->y, .n_rows = s->n, .n_features = s->nf};
    return d;
}

static void tk_free(struct tk_set *s)
{
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

enum tk_kind {
    TK_SEPARABLE,   /* y = [x0 + 0.5 x1 > 0] */
    TK_NOISE,       /* y independent of x */
};

/* n rows of nf uniform(-1, 1) features; a share nan_share of cells NAN. */
static struct tk_set tk_make(size_t n, size_t nf, enum tk_kind kind, double nan_share,
                             uint64_t seed)
{
    struct tk_set s = {.x = malloc(n * nf * sizeof(float)), .y = malloc(n * sizeof(float)),
                       .n = n, .nf = nf};
    assert_non_null(s.x);
    assert_non_null(s.y);
    for (size_t r = 0; r < n; r++) {
        float *x = s.x + r * nf;
        for (size_t f = 0; f < nf; f++)
            x[f] = (float)(2 * tk_unif(&seed) - 1);
        s.y[r] = kind == TK_SEPARABLE ? (x[0] + 0.5f * x[1] > 0) : (tk_unif(&seed) < 0.5);
        for (size_t f = 0; f < nf; f++)
            if (tk_unif(&seed) < nan_share)
                x[f] = NAN;
    }
    return s;
}

static const struct quant_model_algo *tk_algo(void)
{
    const struct quant_model_algo *a = quant_model_algo_find(TK_ALGO);
    assert_non_null(a);
    assert_string_equal(quant_model_algo_name(a), TK_ALGO);
    return a;
}

static struct quant_model *tk_train(const struct tk_set *train, const struct tk_set *valid,
                                    const struct quant_train_opts *opts,
                                    struct quant_train_info *info)
{
    struct quant_ml_data dt = tk_data(train), dv = {0};
    if (valid)
        dv = tk_data(valid);
    struct quant_model *m = NULL;
    struct quant_err err = {0};
    enum quant_code rc = quant_model_train(tk_algo(), &dt, valid ? &dv : NULL, opts, &m, info,
                                           &err);
    if (rc != QUANT_OK)
        fail_msg("train failed: %s", err.msg);
    assert_non_null(m);
    return m;
}

static double *tk_predict(struct quant_model *m, const struct tk_set *s)
{
    double *p = malloc(s->n * sizeof *p);
    assert_non_null(p);
    struct quant_err err = {0};
    if (quant_model_predict(m, s->x, s->n, s->nf, p, &err) != QUANT_OK)
        fail_msg("predict failed: %s", err.msg);
    for (size_t i = 0; i < s->n; i++)
        assert_true(p[i] >= 0 && p[i] <= 1);
    return p;
}

static double tk_auc(const struct tk_set *s, const double *p)
{
    double auc = NAN;
    struct quant_err err = {0};
    assert_int_equal(quant_metric_auc(s->y, p, s->n, &auc, &err), QUANT_OK);
    return auc;
}

static void tk_opts(struct quant_train_opts *o, int rounds, int early, uint64_t seed)
{
    quant_train_opts_init(o);
    o->rounds = rounds;
    o->early_stopping_rounds = early;
    o->seed = seed;
}

/* ---- the tests ---------------------------------------------------------------- */

static void test_learns_separable(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(2000, 5, TK_SEPARABLE, 0, 1);
    struct tk_set va = tk_make(500, 5, TK_SEPARABLE, 0, 2);
    struct tk_set te = tk_make(1000, 5, TK_SEPARABLE, 0, 3);
    struct quant_train_opts o;
    tk_opts(&o, 200, 20, 7);
    struct quant_train_info info;
    struct quant_model *m = tk_train(&tr, &va, &o, &info);
    assert_int_equal(quant_model_n_features(m), 5);
    assert_true(info.best_round >= 1 && info.best_round <= info.rounds_trained);
    assert_true(isfinite(info.best_valid_logloss));
    double *p = tk_predict(m, &te);
    double auc = tk_auc(&te, p);
    print_message("%s separable: test AUC %.4f, %d rounds, best %d\n", TK_ALGO, auc,
                  info.rounds_trained, info.best_round);
    assert_true(auc > 0.9);
    free(p);
    quant_model_free(m);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

static void test_shuffled_labels_near_half(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(2000, 5, TK_NOISE, 0, 11);
    struct tk_set va = tk_make(500, 5, TK_NOISE, 0, 12);
    struct tk_set te = tk_make(2000, 5, TK_SEPARABLE, 0, 13);
    struct quant_train_opts o;
    tk_opts(&o, 100, 10, 5);
    struct quant_model *m = tk_train(&tr, &va, &o, NULL);
    double *p = tk_predict(m, &te);
    double auc = tk_auc(&te, p);
    print_message("%s noise: test AUC %.4f\n", TK_ALGO, auc);
    assert_true(fabs(auc - 0.5) < 0.1);
    free(p);
    quant_model_free(m);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

/* Row and column sampling make the seed matter; two runs must still agree. */
static void test_deterministic_for_a_seed(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(1500, 6, TK_SEPARABLE, 0.05, 21);
    struct tk_set va = tk_make(400, 6, TK_SEPARABLE, 0.05, 22);
    struct tk_set te = tk_make(500, 6, TK_SEPARABLE, 0.05, 23);
    const char *lgb[] = {"bagging_fraction=0.7", "bagging_freq=1", "feature_fraction=0.7"};
    const char *xgb[] = {"subsample=0.7", "colsample_bytree=0.7"};
    int is_lgb = strcmp(TK_ALGO, "lightgbm") == 0;
    struct quant_train_opts o;
    tk_opts(&o, 60, 0, 99);
    o.params = is_lgb ? lgb : xgb;
    o.n_params = is_lgb ? 3 : 2;
    struct quant_model *a = tk_train(&tr, &va, &o, NULL);
    struct quant_model *b = tk_train(&tr, &va, &o, NULL);
    o.seed = 100;
    struct quant_model *c = tk_train(&tr, &va, &o, NULL);
    double *pa = tk_predict(a, &te), *pb = tk_predict(b, &te), *pc = tk_predict(c, &te);
    assert_memory_equal(pa, pb, te.n * sizeof *pa);
    /* Another seed samples other rows: some prediction must differ. */
    assert_true(memcmp(pa, pc, te.n * sizeof *pa) != 0);
    free(pa);
    free(pb);
    free(pc);
    quant_model_free(a);
    quant_model_free(b);
    quant_model_free(c);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

static void test_save_load_identical(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(1500, 4, TK_SEPARABLE, 0.1, 31);
    struct tk_set va = tk_make(400, 4, TK_SEPARABLE, 0.1, 32);
    struct tk_set te = tk_make(700, 4, TK_SEPARABLE, 0.1, 33);
    struct quant_train_opts o;
    tk_opts(&o, 300, 5, 3);
    struct quant_train_info info;
    struct quant_model *m = tk_train(&tr, &va, &o, &info);
    double *p1 = tk_predict(m, &te);

    char dir[PATH_MAX], path[PATH_MAX + 32], part[PATH_MAX + 64];
    tu_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/model%s", dir, quant_model_algo_file_ext(tk_algo()));
    struct quant_err err = {0};
    if (quant_model_save(m, path, &err) != QUANT_OK)
        fail_msg("save: %s", err.msg);
    snprintf(part, sizeof part, "%s.part", path);
    assert_int_not_equal(access(part, F_OK), 0);   /* renamed into place */
    char *text = tu_read_file(path, NULL);
    if (strcmp(TK_ALGO, "xgboost") == 0)
        assert_true(text[0] == '{');                /* JSON */
    else
        assert_non_null(strstr(text, "tree"));      /* LightGBM text model */
    free(text);

    struct quant_model *l = NULL;
    if (quant_model_load(tk_algo(), path, &l, &err) != QUANT_OK)
        fail_msg("load: %s", err.msg);
    assert_int_equal(quant_model_n_features(l), 4);
    double *p2 = tk_predict(l, &te);
    assert_memory_equal(p1, p2, te.n * sizeof *p1);

    /* Wrong width, the other backend's loader, a missing file. */
    double one;
    assert_int_equal(quant_model_predict(l, te.x, 1, 3, &one, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "4 features"));
    const char *other = strcmp(TK_ALGO, "xgboost") == 0 ? "lightgbm" : "xgboost";
    struct quant_model *w = NULL;
    assert_int_equal(quant_model_load(quant_model_algo_find(other), path, &w, &err),
                     QUANT_EPARSE);
    assert_null(w);
    snprintf(path, sizeof path, "%s/nope.model", dir);
    assert_int_equal(quant_model_load(tk_algo(), path, &w, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nope.model"));

    free(p1);
    free(p2);
    quant_model_free(m);
    quant_model_free(l);
    tu_rmrf(dir);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

static void test_early_stopping_on_noise(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(1000, 5, TK_NOISE, 0, 41);
    struct tk_set va = tk_make(400, 5, TK_NOISE, 0, 42);
    struct tk_set te = tk_make(100, 5, TK_NOISE, 0, 43);
    struct quant_train_opts o;
    tk_opts(&o, 500, 10, 1);
    struct quant_train_info info;
    struct quant_model *m = tk_train(&tr, &va, &o, &info);
    print_message("%s noise: stopped after %d rounds, best %d\n", TK_ALGO,
                  info.rounds_trained, info.best_round);
    assert_int_equal(info.stopped_early, 1);
    assert_true(info.rounds_trained < 500);
    assert_int_equal(info.rounds_trained, info.best_round + 10);

    /* Early stopping off: the valid set only reports, every round is kept. */
    struct quant_train_info off;
    tk_opts(&o, 40, 0, 1);
    struct quant_model *k = tk_train(&tr, &va, &o, &off);
    assert_int_equal(off.stopped_early, 0);
    assert_int_equal(off.rounds_trained, 40);
    assert_int_equal(off.best_round, 40);
    assert_true(isfinite(off.best_valid_logloss));
    quant_model_free(k);

    /* Without a valid set every round is trained. */
    struct quant_train_info all;
    tk_opts(&o, 30, 10, 1);
    struct quant_model *n = tk_train(&tr, NULL, &o, &all);
    assert_int_equal(all.stopped_early, 0);
    assert_int_equal(all.best_round, 30);
    assert_true(isnan(all.best_valid_logloss));
    double *p = tk_predict(n, &te);
    free(p);
    quant_model_free(n);
    quant_model_free(m);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

static void expect_param_error(const char *param, const char *needle)
{
    struct tk_set tr = tk_make(300, 3, TK_SEPARABLE, 0, 51);
    struct quant_ml_data d = tk_data(&tr);
    struct quant_train_opts o;
    tk_opts(&o, 5, 0, 1);
    const char *params[] = {param};
    o.params = params;
    o.n_params = 1;
    struct quant_model *m = NULL;
    struct quant_err err = {0};
    assert_int_equal(quant_model_train(tk_algo(), &d, NULL, &o, &m, NULL, &err), QUANT_EINVAL);
    assert_null(m);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", param, err.msg, needle);
    assert_int_equal(quant_model_params_check(tk_algo(), params, 1, &err), QUANT_EINVAL);
    tk_free(&tr);
}

static void test_bad_params(void **state)
{
    (void)state;
    expect_param_error("num_leafs=7", "'num_leafs'");
    expect_param_error("num_leafs=7", "accepted keys: ");
    expect_param_error("seed=3", "set by quant");
    expect_param_error("objective=regression", "set by quant");
    expect_param_error("max_depth=abc", "max_depth=abc");
    expect_param_error("max_depth=1000", "integer");
    expect_param_error("max_depth", "key=value");
    const char *good = strcmp(TK_ALGO, "xgboost") == 0 ? "max_depth=3" : "num_leaves=7";
    const char *dup[] = {good, good};
    struct quant_err err = {0};
    assert_int_equal(quant_model_params_check(tk_algo(), dup, 2, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(quant_model_params_check(tk_algo(), dup, 1, &err), QUANT_OK);

    /* Bad options and labels are refused before the library sees them. */
    struct tk_set tr = tk_make(300, 3, TK_SEPARABLE, 0, 52);
    struct quant_ml_data d = tk_data(&tr);
    struct quant_train_opts o;
    tk_opts(&o, 0, 0, 1);
    struct quant_model *m = NULL;
    assert_int_equal(quant_model_train(tk_algo(), &d, NULL, &o, &m, NULL, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "rounds"));
    tk_opts(&o, 5, 0, 1);
    tr.y[7] = 2;
    assert_int_equal(quant_model_train(tk_algo(), &d, NULL, &o, &m, NULL, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "row 7"));
    assert_null(m);
    tk_free(&tr);
    assert_null(quant_model_algo_find("randomforest"));
    assert_null(quant_model_algo_find(NULL));
    assert_int_equal(quant_model_algo_count(), 2);
    assert_ptr_equal(quant_model_algo_at(0), quant_model_algo_find("lightgbm"));
    assert_ptr_equal(quant_model_algo_at(1), quant_model_algo_find("xgboost"));
    assert_null(quant_model_algo_at(2));
}

/* One class only: nothing to split on, yet a usable (constant-ish) model. */
static void test_single_class(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(400, 3, TK_NOISE, 0, 71);
    struct tk_set va = tk_make(100, 3, TK_NOISE, 0, 72);
    for (size_t i = 0; i < tr.n; i++)
        tr.y[i] = 1;
    for (size_t i = 0; i < va.n; i++)
        va.y[i] = 1;
    struct quant_train_opts o;
    tk_opts(&o, 20, 5, 1);
    struct quant_train_info info;
    struct quant_model *m = tk_train(&tr, &va, &o, &info);
    assert_true(info.best_round <= info.rounds_trained);
    double *p = tk_predict(m, &va);
    assert_true(p[0] > 0.5);
    free(p);
    quant_model_free(m);
    tk_free(&tr);
    tk_free(&va);
}

static void test_missing_values(void **state)
{
    (void)state;
    struct tk_set tr = tk_make(2000, 5, TK_SEPARABLE, 0.2, 61);
    struct tk_set va = tk_make(500, 5, TK_SEPARABLE, 0.2, 62);
    struct tk_set te = tk_make(1000, 5, TK_SEPARABLE, 0.2, 63);
    struct quant_train_opts o;
    tk_opts(&o, 200, 20, 7);
    struct quant_model *m = tk_train(&tr, &va, &o, NULL);
    double *p = tk_predict(m, &te);
    double auc = tk_auc(&te, p);
    print_message("%s 20%% missing: test AUC %.4f\n", TK_ALGO, auc);
    assert_true(auc > 0.75);
    free(p);
    quant_model_free(m);
    tk_free(&tr);
    tk_free(&va);
    tk_free(&te);
}

/* ---- a real price history --------------------------------------------------------- */

struct tk_real {
    struct tk_set train, valid, test;
    struct quant_split split;
};

static void tk_real_load(const char *file, struct tk_real *r)
{
    char path[PATH_MAX], rel[PATH_MAX];
    snprintf(rel, sizeof rel, "ohlcv/%s", file);
    tu_shared_path(path, rel);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    struct quant_csv_file f = {0};
    struct quant_err err = {0};
    if (quant_csv_parse(text, len, "AAPL", &f, &err) != QUANT_OK)
        fail_msg("%s: %s", path, err.msg);
    free(text);
    assert_int_equal(f.n_series, 1);
    struct quant_adjusted adj = {0};
    struct quant_feature_matrix fm = {0}, lab = {0};
    assert_int_equal(quant_adjusted_compute(&f.series[0], &adj, &err), QUANT_OK);
    assert_int_equal(quant_features_compute(quant_feature_set_find("tech-v1"), &adj, &fm, &err),
                     QUANT_OK);
    assert_int_equal(quant_labels_compute(&adj, 5, &lab, &err), QUANT_OK);
    size_t *rows = malloc(fm.n_rows * sizeof *rows), n = 0;
    assert_non_null(rows);
    assert_int_equal(quant_split_rows(&fm, &lab, rows, &n, &err), QUANT_OK);
    if (quant_split_compute("AAPL", n, 5, &r->split, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    struct tk_set *sets[] = {&r->train, &r->valid, &r->test};
    size_t begin[] = {r->split.train_begin, r->split.valid_begin, r->split.test_begin};
    size_t end[] = {r->split.train_end, r->split.valid_end, r->split.test_end};
    for (int i = 0; i < 3; i++) {
        size_t k = end[i] - begin[i];
        sets[i]->n = k;
        sets[i]->nf = fm.n_features;
        sets[i]->x = malloc(k * fm.n_features * sizeof(float));
        sets[i]->y = malloc(k * sizeof(float));
        assert_non_null(sets[i]->x);
        assert_non_null(sets[i]->y);
        quant_split_gather(&fm, &lab, rows, begin[i], end[i], sets[i]->x, sets[i]->y);
    }
    free(rows);
    quant_feature_matrix_release(&fm);
    quant_feature_matrix_release(&lab);
    quant_adjusted_release(&adj);
    quant_csv_file_release(&f);
}

static void tk_shuffle(float *y, size_t n, uint64_t seed)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(tk_next(&seed) % i);
        float t = y[i - 1];
        y[i - 1] = y[j];
        y[j] = t;
    }
}

static double tk_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Shuffled labels on real features: nothing to learn, so test AUC ~ 0.5. */
static void test_real_history_shuffled(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct tk_real r;
    memset(&r, 0, sizeof r);
    tk_real_load("AAPL_yahoo_daily.csv", &r);
    struct quant_train_opts o;
    tk_opts(&o, 500, 50, 42);

    /* First the real labels, to measure training time and report metrics. */
    double t0 = tk_seconds();
    struct quant_train_info info;
    struct quant_model *m = tk_train(&r.train, &r.valid, &o, &info);
    double secs = tk_seconds() - t0;
    double *p = tk_predict(m, &r.test);
    struct quant_metrics met;
    struct quant_err err = {0};
    assert_int_equal(quant_metrics_compute(r.test.y, p, r.test.n, r.train.y, r.train.n,
                                           r.valid.n, &met, &err), QUANT_OK);
    print_message("%s AAPL tech-v1 h=5: train %zu valid %zu test %zu rows, %d rounds "
                  "(best %d) in %.2f s; test AUC %.4f acc %.4f baseline %.4f\n",
                  TK_ALGO, r.train.n, r.valid.n, r.test.n, info.rounds_trained,
                  info.best_round, secs, met.auc, met.accuracy, met.baseline_accuracy);
    free(p);
    quant_model_free(m);

    tk_shuffle(r.train.y, r.train.n, 1234);
    tk_shuffle(r.valid.y, r.valid.n, 5678);
    m = tk_train(&r.train, &r.valid, &o, NULL);
    p = tk_predict(m, &r.test);
    double auc = tk_auc(&r.test, p);
    print_message("%s AAPL shuffled labels: test AUC %.4f\n", TK_ALGO, auc);
    assert_true(fabs(auc - 0.5) < 0.1);
    free(p);
    quant_model_free(m);
    tk_free(&r.train);
    tk_free(&r.valid);
    tk_free(&r.test);
}

#define TK_TESTS                                                \
    cmocka_unit_test(test_learns_separable),                    \
    cmocka_unit_test(test_shuffled_labels_near_half),           \
    cmocka_unit_test(test_deterministic_for_a_seed),            \
    cmocka_unit_test(test_save_load_identical),                 \
    cmocka_unit_test(test_early_stopping_on_noise),             \
    cmocka_unit_test(test_bad_params),                          \
    cmocka_unit_test(test_single_class),                        \
    cmocka_unit_test(test_missing_values),                      \
    cmocka_unit_test(test_real_history_shuffled)
