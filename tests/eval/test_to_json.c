/*
 * test_to_json.c: the JSON object carries exactly the spec's names, in the
 * documented order, with undefined values as null and counts as integers;
 * either half can be left out; the single-symbol object.
 */
#include "eval_testkit.c"

#include <cjson/cJSON.h>

static const char *const signal_keys[] = {
    "ic", "ic_std", "icir", "ic_tstat", "ic_tstat_nw", "ic_hit", "ic_dates",
    "rank_ic", "rank_ic_std", "rank_icir", "rank_ic_tstat", "rank_ic_tstat_nw",
    "rank_ic_hit", "rank_ic_dates", "q_mean_1", "q_mean_2", "q_mean_3", "q_spread"};
static const char *const bt_keys[] = {
    "total_return", "annual_return", "annual_vol", "sharpe", "max_drawdown",
    "excess_return", "information_ratio", "total_return_gross", "annual_return_gross",
    "annual_vol_gross", "sharpe_gross", "max_drawdown_gross", "excess_return_gross",
    "information_ratio_gross", "turnover", "total_cost", "break_even_cost_bps", "steps"};

#define N_SIG (sizeof signal_keys / sizeof *signal_keys)
#define N_BT (sizeof bt_keys / sizeof *bt_keys)

/* The object's keys are exactly keys[0..n), in that order. */
static void expect_keys(const cJSON *o, const char *const *keys, size_t n)
{
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next, i++) {
        assert_true(i < n);
        assert_string_equal(c->string, keys[i]);
    }
    assert_int_equal(i, n);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void fill(struct quant_eval_signal *s, struct quant_eval_bt_metrics *m)
{
    memset(s, 0, sizeof *s);
    s->ic = (struct quant_eval_ic_summary){0.03, 0.1, 0.3, 4.5, 2.1, 0.6, 225};
    s->rank_ic = (struct quant_eval_ic_summary){0.04, NAN, NAN, NAN, NAN, 1.0, 1};
    s->quantiles = 3;
    s->q_mean[0] = -0.001;
    s->q_mean[1] = 0.0002;
    s->q_mean[2] = 0.0031;
    s->q_spread = 0.0041;
    memset(m, 0, sizeof *m);
    m->net = (struct quant_eval_perf){0.12, 0.05, 0.2, 0.25, -0.3, 0.01, 0.1};
    m->gross = (struct quant_eval_perf){0.2, 0.08, 0.21, 0.4, -0.28, 0.03, 0.3};
    m->turnover = 0.15;
    m->total_cost = 0.6;
    m->break_even_cost_bps = NAN;
    m->steps = 1000;
}

static void test_keys_and_values(void **state)
{
    (void)state;
    struct quant_eval_signal s;
    struct quant_eval_bt_metrics m;
    fill(&s, &m);
    cJSON *o = quant_eval_to_json(&s, &m);
    assert_non_null(o);
    const char *all[N_SIG + N_BT];
    memcpy(all, signal_keys, sizeof signal_keys);
    memcpy(all + N_SIG, bt_keys, sizeof bt_keys);
    expect_keys(o, all, N_SIG + N_BT);
    assert_close(num(o, "ic"), 0.03);
    assert_close(num(o, "icir"), 0.3);
    assert_close(num(o, "ic_tstat_nw"), 2.1);
    assert_close(num(o, "rank_ic"), 0.04);
    assert_close(num(o, "rank_ic_hit"), 1.0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "rank_ic_std")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "rank_icir")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "break_even_cost_bps")));
    assert_close(num(o, "q_mean_3"), 0.0031);
    assert_close(num(o, "q_spread"), 0.0041);
    assert_close(num(o, "max_drawdown"), -0.3);
    assert_close(num(o, "sharpe_gross"), 0.4);
    assert_close(num(o, "information_ratio_gross"), 0.3);
    assert_close(num(o, "total_cost"), 0.6);
    /* counts print as integers */
    char *text = cJSON_PrintUnformatted(o);
    assert_non_null(strstr(text, "\"ic_dates\":225,"));
    assert_non_null(strstr(text, "\"steps\":1000}"));
    /* 17 significant digits survive printing */
    cJSON *back = cJSON_Parse(text);
    assert_true(num(back, "ic") == 0.03);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(o);

    o = quant_eval_to_json(&s, NULL);
    expect_keys(o, signal_keys, N_SIG);
    cJSON_Delete(o);
    o = quant_eval_to_json(NULL, &m);
    expect_keys(o, bt_keys, N_BT);
    cJSON_Delete(o);
    s.quantiles = 10;
    o = quant_eval_to_json(&s, NULL);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "q_mean_10"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "q_mean_11"));
    cJSON_Delete(o);
}

static void test_single(void **state)
{
    (void)state;
    struct quant_eval_signal s;
    struct quant_eval_single one = {.symbol = 2, .ts_ic = 0.05, .ts_rank_ic = NAN,
                                    .hit_rate = 0.52, .dates = 300};
    fill(&s, &one.m);
    cJSON *o = quant_eval_single_to_json(&one);
    const char *keys[3 + N_BT] = {"ts_ic", "ts_rank_ic", "hit_rate"};
    memcpy(keys + 3, bt_keys, sizeof bt_keys);
    expect_keys(o, keys, 3 + N_BT);
    assert_close(num(o, "ts_ic"), 0.05);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "ts_rank_ic")));
    assert_close(num(o, "hit_rate"), 0.52);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_values),
        cmocka_unit_test(test_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
