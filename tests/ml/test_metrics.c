/* test_metrics.c: the FEATURES.md metrics on hand-computed cases (AUC with
 * ties, nothing predicted 1, the train-majority baseline, logloss clipping),
 * the AUC against a naive all-pairs count, and the JSON object. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "quant/metrics.h"

#define EPS 1e-12

/* cmocka 1.1 has no double comparison. */
#define assert_double_equal(a, b, eps)                                              \
    do {                                                                            \
        double a_ = (a), b_ = (b);                                                  \
        if (!(fabs(a_ - b_) <= (eps)))                                              \
            fail_msg("%s = %.17g, expected %.17g (within %g)", #a, a_, b_, (double)(eps)); \
    } while (0)

static struct quant_metrics run(const float *y, const double *p, size_t n,
                                const float *ytr, size_t ntr)
{
    struct quant_metrics m;
    struct quant_err err = {0};
    if (quant_metrics_compute(y, p, n, ytr, ntr, 7, &m, &err) != QUANT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(m.n_test, n);
    assert_int_equal(m.n_train, ntr);
    assert_int_equal(m.n_valid, 7);
    assert_true(m.threshold == 0.5);
    return m;
}

static void test_mixed_case(void **state)
{
    (void)state;
    /* predicted 1 1 1 0 0 1 -> TP 2, FP 2, FN 1, TN 1 */
    const float y[] = {1, 0, 1, 1, 0, 0};
    const double p[] = {0.9, 0.8, 0.6, 0.4, 0.3, 0.5};
    const float ytr[] = {0, 0, 1};
    struct quant_metrics m = run(y, p, 6, ytr, 3);
    assert_double_equal(m.accuracy, 0.5, EPS);
    assert_double_equal(m.precision, 0.5, EPS);
    assert_double_equal(m.recall, 2.0 / 3, EPS);
    assert_double_equal(m.f1, 4.0 / 7, EPS);
    assert_double_equal(m.auc, 6.0 / 9, EPS);     /* 6 of 9 pos/neg pairs ordered */
    double ll = -(log(0.9) + log(0.2) + log(0.6) + log(0.4) + log(0.7) + log(0.5)) / 6;
    assert_double_equal(m.logloss, ll, EPS);
    assert_double_equal(m.base_rate, 0.5, EPS);
    assert_double_equal(m.baseline_accuracy, 0.5, EPS);
}

static void test_nothing_predicted_one(void **state)
{
    (void)state;
    const float y[] = {1, 0, 0, 1, 0};
    const double p[] = {0.1, 0.2, 0.3, 0.4, 0.1};
    const float ones[] = {1, 1, 1, 0}, zeros[] = {0, 0, 1}, tie[] = {1, 0};
    struct quant_metrics m = run(y, p, 5, ones, 4);
    assert_true(m.precision == 0.0);
    assert_true(m.recall == 0.0);
    assert_true(m.f1 == 0.0);
    assert_double_equal(m.accuracy, 0.6, EPS);
    assert_double_equal(m.base_rate, 0.4, EPS);
    assert_double_equal(m.baseline_accuracy, 0.4, EPS);   /* train says 1 */
    /* pairs: 0.1 ties 0.1 (half), 0.4 beats all three: 3.5 of 6 */
    assert_double_equal(m.auc, 3.5 / 6, EPS);
    m = run(y, p, 5, zeros, 3);
    assert_double_equal(m.baseline_accuracy, 0.6, EPS);   /* train says 0 */
    m = run(y, p, 5, tie, 2);
    assert_double_equal(m.baseline_accuracy, 0.4, EPS);   /* a tie counts as 1 */
    m = run(y, p, 5, NULL, 0);
    assert_true(isnan(m.baseline_accuracy));
}

static void test_auc_ties(void **state)
{
    (void)state;
    const float y[] = {1, 0, 1, 0};
    const double p[] = {0.5, 0.5, 0.7, 0.2};
    double auc;
    struct quant_err err = {0};
    assert_int_equal(quant_metric_auc(y, p, 4, &auc, &err), QUANT_OK);
    assert_double_equal(auc, 3.5 / 4, EPS);
    const double flat[] = {0.3, 0.3, 0.3, 0.3};
    assert_int_equal(quant_metric_auc(y, flat, 4, &auc, &err), QUANT_OK);
    assert_double_equal(auc, 0.5, EPS);
    const double rev[] = {0.1, 0.9, 0.2, 0.8};
    assert_int_equal(quant_metric_auc(y, rev, 4, &auc, &err), QUANT_OK);
    assert_double_equal(auc, 0.0, EPS);
    const float one_class[] = {1, 1, 1, 1};
    assert_int_equal(quant_metric_auc(one_class, p, 4, &auc, &err), QUANT_OK);
    assert_true(isnan(auc));
    const double nan[] = {0.1, NAN, 0.2, 0.3};
    assert_int_equal(quant_metric_auc(y, nan, 4, &auc, &err), QUANT_EINVAL);
}

/* Against the definition: count ordered pairs, ties half. */
static void test_auc_matches_pair_count(void **state)
{
    (void)state;
    enum { N = 701 };
    static float y[N];
    static double p[N];
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (double)((s >> 33) % 11) / 10.0;   /* many ties */
        y[i] = ((s >> 20) % 3) == 0 || p[i] > 0.8;
    }
    double pairs = 0, good = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (y[i] == 1 && y[j] == 0) {
                pairs++;
                good += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
            }
    double auc;
    struct quant_err err = {0};
    assert_int_equal(quant_metric_auc(y, p, N, &auc, &err), QUANT_OK);
    assert_double_equal(auc, good / pairs, 1e-12);
}

static void test_logloss_clipped(void **state)
{
    (void)state;
    const float y[] = {1, 0};
    const double wrong[] = {0.0, 1.0}, right[] = {1.0, 0.0};
    struct quant_metrics m = run(y, wrong, 2, y, 2);
    /* 1 - 1e-15 is not exact in double, so the second term is not quite ln 1e-15. */
    assert_double_equal(m.logloss, (-log(1e-15) - log(1.0 - (1.0 - 1e-15))) / 2, 1e-12);
    m = run(y, right, 2, y, 2);
    assert_true(m.logloss > 0 && m.logloss < 1e-14);
    assert_double_equal(m.accuracy, 1.0, EPS);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct quant_metrics m;
    struct quant_err err = {0};
    const float y[] = {1, 0}, bad_y[] = {1, 2};
    const double p[] = {0.2, 0.7}, bad_p[] = {0.2, 1.5}, nan_p[] = {NAN, 0.5};
    assert_int_equal(quant_metrics_compute(y, p, 0, y, 2, 0, &m, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(quant_metrics_compute(bad_y, p, 2, y, 2, 0, &m, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "label 1"));
    assert_int_equal(quant_metrics_compute(y, bad_p, 2, y, 2, 0, &m, &err), QUANT_EINVAL);
    assert_int_equal(quant_metrics_compute(y, nan_p, 2, y, 2, 0, &m, &err), QUANT_EINVAL);
    assert_int_equal(quant_metrics_compute(y, p, 2, bad_y, 2, 0, &m, &err), QUANT_EINVAL);
}

static void test_json(void **state)
{
    (void)state;
    const float y[] = {1, 1, 1};
    const double p[] = {0.9, 0.2, 0.6};
    const float ytr[] = {0, 1, 1};
    struct quant_metrics m = run(y, p, 3, ytr, 3);
    cJSON *o = quant_metrics_to_json(&m);
    assert_non_null(o);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    const char *keys[] = {"accuracy", "precision", "recall", "f1", "auc", "logloss",
                          "base_rate", "baseline_accuracy", "predicted_positive_rate",
                          "n_train", "n_valid", "n_test", "threshold"};
    assert_int_equal(cJSON_GetArraySize(back), 13);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(back, keys[i]));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "auc")));  /* one class */
    assert_double_equal(cJSON_GetObjectItemCaseSensitive(back, "accuracy")->valuedouble,
                        2.0 / 3, 1e-12);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(back, "n_valid")->valueint, 7);
    assert_double_equal(cJSON_GetObjectItemCaseSensitive(back, "threshold")->valuedouble, 0.5,
                        0);
    cJSON_Delete(back);

    /* and back into the struct, as status and the dashboard read the registry */
    struct quant_metrics r;
    struct quant_err err;
    assert_int_equal(quant_metrics_from_json(text, &r, &err), QUANT_OK);
    assert_double_equal(r.accuracy, m.accuracy, 0);
    assert_double_equal(r.predicted_positive_rate, 2.0 / 3, 1e-12);
    assert_true(isnan(r.auc));
    assert_int_equal(r.n_valid, 7);
    free(text);
    /* an older model's metrics (no predicted_positive_rate) still read */
    assert_int_equal(quant_metrics_from_json("{\"accuracy\":0.5}", &r, &err), QUANT_OK);
    assert_true(isnan(r.predicted_positive_rate));
    assert_int_equal(quant_metrics_from_json("[1]", &r, &err), QUANT_EINVAL);
}

/* Each warning fires on the case it names, and only then. */
static void test_warning(void **state)
{
    (void)state;
    char buf[256];
    const float y[] = {1, 0, 1, 0, 1, 1};
    const float ytr[] = {1, 1, 0};            /* train majority: 1 */
    /* every row predicted up */
    const double up[] = {0.9, 0.8, 0.7, 0.6, 0.55, 0.51};
    struct quant_metrics m = run(y, up, 6, ytr, 3);
    assert_double_equal(m.predicted_positive_rate, 1.0, 0);
    assert_non_null(quant_metrics_warning(&m, buf, sizeof buf));
    assert_non_null(strstr(buf, "one class only (every test row up)"));
    /* a perfect ranker that is also right at 0.5: no warning */
    const double good[] = {0.9, 0.1, 0.8, 0.2, 0.7, 0.6};
    m = run(y, good, 6, ytr, 3);
    assert_null(quant_metrics_warning(&m, buf, sizeof buf));
    assert_string_equal(buf, "");
    /* exactly wrong: accuracy below baseline and AUC below chance */
    const double bad[] = {0.1, 0.9, 0.2, 0.8, 0.3, 0.4};
    m = run(y, bad, 6, ytr, 3);
    assert_non_null(quant_metrics_warning(&m, buf, sizeof buf));
    assert_non_null(strstr(buf, "no better than its baselines"));
    assert_non_null(strstr(buf, "<= 0.5 (chance)"));
    /* a good ranker whose threshold is off: accuracy only */
    const double shifted[] = {0.49, 0.1, 0.48, 0.2, 0.7, 0.6};
    m = run(y, shifted, 6, ytr, 3);
    assert_true(m.auc > 0.9);
    assert_non_null(quant_metrics_warning(&m, buf, sizeof buf));
    assert_non_null(strstr(buf, "no better than the baseline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_case),
        cmocka_unit_test(test_nothing_predicted_one),
        cmocka_unit_test(test_auc_ties),
        cmocka_unit_test(test_auc_matches_pair_count),
        cmocka_unit_test(test_logloss_clipped),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
