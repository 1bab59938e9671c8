/* evaluate.c: `quant evaluate`: signal analysis and a cost-aware backtest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "opts.h"
#include "quant/evaluate.h"
#include "core/banned.h"

static void pct(char *out, size_t len, double v)
{
    if (isfinite(v))
        snprintf(out, len, "%.2f%%", 100.0 * v);
    else
        snprintf(out, len, "-");
}

static void num(char *out, size_t len, double v, int digits)
{
    if (isfinite(v))
        snprintf(out, len, "%.*f", digits, v);
    else
        snprintf(out, len, "-");
}

static void ic_line(FILE *f, const char *name, const struct quant_eval_ic_summary *s)
{
    char m[16], sd[16], ir[16], t[16], nw[16], hit[16];
    num(m, sizeof m, s->mean, 4);
    num(sd, sizeof sd, s->std, 4);
    num(ir, sizeof ir, s->ir, 3);
    num(t, sizeof t, s->tstat, 2);
    num(nw, sizeof nw, s->tstat_nw, 2);
    pct(hit, sizeof hit, s->hit);
    fprintf(f, "  %-8s %9s %9s %8s %8s %10s %9s\n", name, m, sd, ir, t, nw, hit);
}

static void growth(char *out, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(out, len, "-");
    else if (v < 1e5)
        snprintf(out, len, "%.2f", v);
    else
        snprintf(out, len, "%.3g", v);
}

/* One backtest metric: net, gross and the benchmark's, side by side
 * (kind 0: a number, 1: a percentage, 2: a growth multiple). */
static void perf_line(FILE *f, const char *name, double net, double gross, double bench,
                      int kind)
{
    char a[16], b[16], c[16];
    if (kind == 2) {
        growth(a, sizeof a, net);
        growth(b, sizeof b, gross);
        growth(c, sizeof c, bench);
    } else if (kind == 1) {
        pct(a, sizeof a, net);
        pct(b, sizeof b, gross);
        pct(c, sizeof c, bench);
    } else {
        num(a, sizeof a, net, 2);
        num(b, sizeof b, gross, 2);
        num(c, sizeof c, bench, 2);
    }
    fprintf(f, "  %-20s %10s %10s %10s\n", name, a, b, c);
}

static void print_cross(struct cli_ctx *ctx, const struct quant_evaluation *e)
{
    FILE *f = ctx->out;
    const struct quant_eval_signal *s = &e->signal;
    char nd[32];
    cli_fmt_count((long)s->ic.dates, nd, sizeof nd);
    fprintf(f, "\nSignal: the daily cross-section (%s dates counted: 5+ names, scores and "
               "returns not all equal)\n", nd);
    fprintf(f, "  %-8s %9s %9s %8s %8s %10s %9s\n", "", "mean", "std", "IR", "t-stat",
            "t-stat NW", "IC > 0");
    ic_line(f, "IC", &s->ic);
    ic_line(f, "Rank IC", &s->rank_ic);
    fprintf(f, "  (NW: Newey-West with %d lags; h-day labels overlap, so the plain t-stat "
               "overstates)\n", e->horizon > 1 ? e->horizon - 1 : 0);
    cli_fmt_count((long)s->q_dates, nd, sizeof nd);
    fprintf(f, "Mean fwd_ret_%d by score quantile (Q1 lowest; %s dates):", e->horizon, nd);
    for (size_t g = 0; g < s->quantiles; g++) {
        char v[16];
        pct(v, sizeof v, s->q_mean[g]);
        fprintf(f, " Q%zu %s", g + 1, v);
    }
    char sp[16];
    pct(sp, sizeof sp, s->q_spread);
    fprintf(f, "; spread %s\n", sp);
    const struct quant_eval_bt_metrics *m = &e->backtest.m, *b = &e->bench;
    cli_fmt_count((long)m->steps, nd, sizeof nd);
    fprintf(f, "\nBacktest: top %zu, at most %zu names changed a day, costs %.1f bp to buy "
               "and %.1f bp to sell; %s daily steps\n",
            e->topk, e->n_drop, e->buy_cost * 1e4, e->sell_cost * 1e4, nd);
    fprintf(f, "  %-20s %10s %10s %10s\n", "", "net", "gross", e->benchmark[0] ? e->benchmark
                                                                          : "benchmark");
    /* Decades of compounding make percentages unreadable: the growth of 1. */
    perf_line(f, "growth of 1", 1 + m->net.total_return, 1 + m->gross.total_return,
              1 + b->gross.total_return, 2);
    perf_line(f, "annual return", m->net.annual_return, m->gross.annual_return,
              b->gross.annual_return, 1);
    perf_line(f, "annual volatility", m->net.annual_vol, m->gross.annual_vol,
              b->gross.annual_vol, 1);
    perf_line(f, "Sharpe", m->net.sharpe, m->gross.sharpe, b->gross.sharpe, 0);
    perf_line(f, "max drawdown", m->net.max_drawdown, m->gross.max_drawdown,
              b->gross.max_drawdown, 1);
    perf_line(f, "excess return", m->net.excess_return, m->gross.excess_return, NAN, 1);
    perf_line(f, "information ratio", m->net.information_ratio, m->gross.information_ratio,
              NAN, 0);
    char to[16], tc[16], be[16];
    pct(to, sizeof to, m->turnover);
    pct(tc, sizeof tc, m->total_cost);
    num(be, sizeof be, m->break_even_cost_bps, 1);
    fprintf(f, "  daily turnover %s, costs %s of capital in all, break-even cost %s bp a "
               "side%s\n", to, tc, be,
            isfinite(m->break_even_cost_bps) && m->break_even_cost_bps < 0
                ? " (below 0: the book trails the benchmark before costs)" : "");
}

static void print_single(struct cli_ctx *ctx, const struct quant_evaluation *e)
{
    FILE *f = ctx->out;
    fprintf(f, "\nFewer than 5 symbols: no cross-section; per symbol, long when the score is "
               "> 0.5, else cash, against holding it (costs %.1f / %.1f bp)\n",
            e->buy_cost * 1e4, e->sell_cost * 1e4);
    fprintf(f, "  %-10s %6s %8s %8s %8s %11s %11s %9s %9s\n", "symbol", "dates", "ts IC",
            "rank IC", "hit", "ann. net", "buy & hold", "Sharpe", "max DD");
    for (size_t i = 0; i < e->singles.n; i++) {
        const struct quant_eval_single *s = &e->singles.v[i];
        char ic[16], ric[16], hit[16], an[16], bh[16], sh[16], dd[16];
        num(ic, sizeof ic, s->ts_ic, 4);
        num(ric, sizeof ric, s->ts_rank_ic, 4);
        pct(hit, sizeof hit, s->hit_rate);
        pct(an, sizeof an, s->m.net.annual_return);
        /* buy-and-hold is the benchmark: its annual return from the excess */
        double bh_ann = NAN;
        if (s->m.steps) {
            double prod = 1;
            for (size_t j = 0; j < s->m.steps; j++)
                prod *= 1 + s->days[j].benchmark;
            bh_ann = pow(prod, 252.0 / (double)s->m.steps) - 1;
        }
        pct(bh, sizeof bh, bh_ann);
        num(sh, sizeof sh, s->m.net.sharpe, 2);
        pct(dd, sizeof dd, s->m.net.max_drawdown);
        fprintf(f, "  %-10s %6zu %8s %8s %8s %11s %11s %9s %9s\n",
                s->symbol < e->n_symbols ? e->symbols[s->symbol] : "?", s->dates, ic, ric, hit,
                an, bh, sh, dd);
    }
}

/* Plain words on what the numbers say, for a reader who is not a quant. */
static void verdict(struct cli_ctx *ctx, const struct quant_evaluation *e)
{
    if (e->single)
        return;
    const struct quant_eval_signal *s = &e->signal;
    const struct quant_eval_bt_metrics *m = &e->backtest.m;
    double t = s->rank_ic.tstat_nw;
    fprintf(ctx->out, "\nVerdict: ");
    if (!isfinite(t) || fabs(t) < 2)
        fprintf(ctx->out, "the scores' rank IC is not distinguishable from zero (NW t-stat "
                          "%.2f, |t| < 2): no evidence of an edge.", t);
    else if (t <= -2)
        fprintf(ctx->out, "the scores rank the returns the wrong way round (NW t-stat %.2f).",
                t);
    else
        fprintf(ctx->out, "the scores rank the next %d-day returns better than chance (NW "
                          "t-stat %.2f).", e->horizon, t);
    if (isfinite(m->net.excess_return))
        fprintf(ctx->out, " After costs the top-%zu book %s the benchmark by %.2f%% a year.",
                e->topk, m->net.excess_return >= 0 ? "beats" : "trails",
                100.0 * fabs(m->net.excess_return));
    fprintf(ctx->out, "\n");
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_evaluate_request req;
    memset(&req, 0, sizeof req);
    req.buy_cost = req.sell_cost = NAN;
    const char *run_id = NULL, *model = NULL, *buy = NULL, *sell = NULL, *bench = NULL,
               *universe = NULL;
    int topk = 0, n_drop = -1, quantiles = 0, json = 0, dry = 0;
    const struct cli_opt opts[] = {
        {"--run", NULL, CLI_OPT_STRING, &run_id, 0, 0, "a walk-forward run id"},
        {"--model", NULL, CLI_OPT_STRING, &model, 0, 0, "a model id or latest"},
        {"--topk", NULL, CLI_OPT_INT, &topk, 1, 100000, NULL},
        {"--n-drop", NULL, CLI_OPT_INT, &n_drop, 0, 100000, NULL},
        {"--quantiles", NULL, CLI_OPT_INT, &quantiles, 2, QUANT_EVAL_Q_MAX, NULL},
        {"--buy-cost", NULL, CLI_OPT_STRING, &buy, 0, 0, "a fraction, e.g. 0.0005 (5 bp)"},
        {"--sell-cost", NULL, CLI_OPT_STRING, &sell, 0, 0, "a fraction, e.g. 0.0015 (15 bp)"},
        {"--benchmark", NULL, CLI_OPT_STRING, &bench, 0, 0, "a stored symbol"},
        {"--universe", NULL, CLI_OPT_STRING, &universe, 0, 0, "a universe name"},
        {"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL},
        {"--dry-run", NULL, CLI_OPT_FLAG, &dry, 0, 0, NULL},
    };
    int rc = cli_parse(ctx, &cmd_evaluate, argc, argv, opts, CLI_NOPTS(opts), NULL);
    if (!rc && !run_id == !model)
        rc = cli_usage_error(ctx, &cmd_evaluate, "give --run ID or --model ID (one of them)");
    const char *costs[2] = {buy, sell};
    double *dest[2] = {&req.buy_cost, &req.sell_cost};
    for (int k = 0; k < 2 && !rc; k++) {
        if (!costs[k])
            continue;
        char *end;
        double v = strtod(costs[k], &end);
        if (end == costs[k] || *end || !(v >= 0 && v < 1))
            rc = cli_usage_error(ctx, &cmd_evaluate, "%s takes a fraction from 0 to below 1 "
                                 "(0.0005 = 5 bp)", k ? "--sell-cost" : "--buy-cost");
        *dest[k] = v;
    }
    if (rc)
        return rc;
    req.run_id = run_id;
    req.model_id = model;
    req.topk = (size_t)topk;
    req.n_drop = n_drop >= 0 ? (size_t)n_drop : 0;
    req.has_n_drop = n_drop >= 0;
    req.quantiles = (size_t)quantiles;
    req.benchmark = bench;
    req.universe = universe;
    req.dry_run = dry;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    struct quant_evaluation e;
    memset(&e, 0, sizeof e);
    if (cli_workspace(ctx, dry ? CLI_OPEN_READ : cmd_evaluate.open, &ws, &err) ||
        quant_evaluate(ws, &req, &e, &err)) {
        rc = cli_fail(ctx, "evaluate", &err);
    } else if (json) {
        cJSON *j = quant_evaluation_to_json(&e);
        char *text = j ? cJSON_Print(j) : NULL;
        if (text)
            fprintf(ctx->out, "%s\n", text);
        else
            rc = CLI_EXIT_FAILED;
        free(text);
        cJSON_Delete(j);
    } else {
        char d1[11], d2[11], n[32];
        quant_date_format(e.first_date, d1);
        quant_date_format(e.last_date, d2);
        cli_fmt_count((long)e.n_predictions, n, sizeof n);
        fprintf(ctx->out, "Evaluation %s of %s %s (%s, h=%d)\n",
                e.id[0] ? e.id : "(dry run, not stored)", e.target_kind, e.target, e.features,
                e.horizon);
        fprintf(ctx->out, "Prediction set: %s scores of %zu symbols, %s to %s%s%s\n", n,
                e.n_symbols, d1, d2, e.universe[0] ? ", universe " : "", e.universe);
        if (e.single)
            print_single(ctx, &e);
        else
            print_cross(ctx, &e);
        verdict(ctx, &e);
        fprintf(ctx->out, "Conventions: 252 periods a year, compounded returns, risk-free rate "
                          "0, %s benchmark. Computed in %.3f s.\n",
                e.benchmark[0] ? "a named" : "an equal-weighted", e.compute_seconds);
    }
    quant_evaluation_release(&e);
    return cli_close_workspace(ctx, "evaluate", ws, rc);
}

const struct cli_command cmd_evaluate = {
    .name = "evaluate",
    .summary = "judge a prediction set: IC, quantiles and a top-k backtest with costs",
    .usage =
        "usage: quant evaluate --run ID | --model ID [--topk K] [--n-drop M]\n"
        "                      [--quantiles Q] [--buy-cost X] [--sell-cost Y]\n"
        "                      [--benchmark SYMBOL] [--universe NAME] [--json] [--dry-run]\n"
        "\n"
        "Judges scores as shared/spec/EVALUATION.md defines it: a walk-forward run's\n"
        "out-of-sample scores (--run), or a model's scores on its test segment only\n"
        "(--model: a model is never judged on dates it trained or early-stopped on).\n"
        "Signal: the daily IC and rank IC of score against the forward return the\n"
        "model was trained on (mean, std, IR, t-stat, Newey-West t-stat, share > 0),\n"
        "and the mean return of each score quantile. Backtest: each day, hold the K\n"
        "best-scored names equally weighted, replacing at most M a day, trading at\n"
        "the next close; costs X per unit bought and Y per unit sold; net and gross\n"
        "beside the benchmark (the equal-weighted scored names, or --benchmark).\n"
        "With fewer than 5 symbols: per symbol, long or flat against buy-and-hold.\n"
        "Defaults: K 50, M 5, Q 5, X 0.0005, Y 0.0015.\n"
        "The result is stored (unless --dry-run): a registry row with every metric\n"
        "and the daily series in evaluation_daily (quant sql), shown by the\n"
        "dashboard's Evaluation page. --json prints the spec's metric names.\n",
    .run = run,
    .open = CLI_OPEN_WRITE,
};
