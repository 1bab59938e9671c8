/*
 * to_json.c: the evaluation's metrics as the JSON object `quant evaluate
 * --json` prints, under exactly the names EVALUATION.md gives them (a
 * reimplementation compares by name).  Undefined values are null.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "quant/evaluation.h"

#include "core/json.h"
#include "core/banned.h"

/* prefix "ic" gives ic, ic_std, icir, ...; "rank_ic" gives rank_ic, rank_ic_std, rank_icir, ... */
static int add_ic(cJSON *o, const char *prefix, const struct quant_eval_ic_summary *s)
{
    char k[7][32];
    snprintf(k[0], sizeof k[0], "%s", prefix);
    snprintf(k[1], sizeof k[1], "%s_std", prefix);
    snprintf(k[2], sizeof k[2], "%sir", prefix);
    snprintf(k[3], sizeof k[3], "%s_tstat", prefix);
    snprintf(k[4], sizeof k[4], "%s_tstat_nw", prefix);
    snprintf(k[5], sizeof k[5], "%s_hit", prefix);
    snprintf(k[6], sizeof k[6], "%s_dates", prefix);
    return quant_json_add_num(o, k[0], s->mean) && quant_json_add_num(o, k[1], s->std) &&
           quant_json_add_num(o, k[2], s->ir) && quant_json_add_num(o, k[3], s->tstat) &&
           quant_json_add_num(o, k[4], s->tstat_nw) && quant_json_add_num(o, k[5], s->hit) &&
           quant_json_add_num(o, k[6], (double)s->dates);
}

static int add_signal(cJSON *o, const struct quant_eval_signal *s)
{
    if (!add_ic(o, "ic", &s->ic) || !add_ic(o, "rank_ic", &s->rank_ic))
        return 0;
    for (size_t g = 0; g < s->quantiles && g < QUANT_EVAL_Q_MAX; g++) {
        char k[32];
        snprintf(k, sizeof k, "q_mean_%zu", g + 1);
        if (!quant_json_add_num(o, k, s->q_mean[g]))
            return 0;
    }
    return quant_json_add_num(o, "q_spread", s->q_spread) != NULL;
}

static int add_perf(cJSON *o, const char *suffix, const struct quant_eval_perf *p)
{
    static const char *names[] = {"total_return", "annual_return", "annual_vol", "sharpe",
                                  "max_drawdown", "excess_return", "information_ratio"};
    const double v[] = {p->total_return, p->annual_return, p->annual_vol, p->sharpe,
                        p->max_drawdown, p->excess_return, p->information_ratio};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char k[48];
        snprintf(k, sizeof k, "%s%s", names[i], suffix);
        if (!quant_json_add_num(o, k, v[i]))
            return 0;
    }
    return 1;
}

static int add_backtest(cJSON *o, const struct quant_eval_bt_metrics *m)
{
    return add_perf(o, "", &m->net) && add_perf(o, "_gross", &m->gross) &&
           quant_json_add_num(o, "turnover", m->turnover) &&
           quant_json_add_num(o, "total_cost", m->total_cost) &&
           quant_json_add_num(o, "break_even_cost_bps", m->break_even_cost_bps) &&
           quant_json_add_num(o, "steps", (double)m->steps);
}

struct cJSON *quant_eval_to_json(const struct quant_eval_signal *sig,
                                 const struct quant_eval_bt_metrics *bt)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if ((sig && !add_signal(o, sig)) || (bt && !add_backtest(o, bt))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

struct cJSON *quant_eval_single_to_json(const struct quant_eval_single *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = quant_json_add_num(o, "ts_ic", s->ts_ic) &&
             quant_json_add_num(o, "ts_rank_ic", s->ts_rank_ic) &&
             quant_json_add_num(o, "hit_rate", s->hit_rate) && add_backtest(o, &s->m);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
