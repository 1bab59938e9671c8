/*
 * demo.c: `quant demo`: the whole pipeline end to end on embedded storage,
 * for three symbols: ingest (Alpha Vantage when a key is set, else the
 * seeded synthetic market, so it always runs offline) -> features -> labels
 * -> train -> score; then the evaluation half on a synthetic universe big
 * enough for a cross-section: walk-forward -> evaluate.  Later steps reuse
 * the commands themselves, so the demo prints exactly what a user running
 * them would see.
 */
#include <string.h>

#include "cli.h"
#include "quant/features.h"
#include "quant/ingest.h"
#include "quant/symbols.h"
#include "core/banned.h"

/*
 * Offline, the demo's bars are synthetic, so its symbols are made-up tickers
 * with names that say so: a random walk must never pass for Apple.  With an
 * Alpha Vantage key the bars are real, and so are the tickers and names.
 */
struct demo_symbol {
    const char *symbol, *name, *type;
};
static const struct demo_symbol synthetic_symbols[] = {
    {"SYN-A", "Synthetic A (seeded random walk)", "Synthetic"},
    {"SYN-B", "Synthetic B (seeded random walk)", "Synthetic"},
    {"SYN-C", "Synthetic C (seeded random walk)", "Synthetic"},
};
static const struct demo_symbol real_symbols[] = {
    {"AAPL", "Apple Inc.", "Equity"},
    {"NVDA", "NVIDIA Corporation", "Equity"},
    {"QQQ", "Invesco QQQ Trust", "ETF"},
};
#define N_DEMO 3

/* The evaluation half runs on its own synthetic universe, even with a key: a
 * cross-section needs dozens of symbols, more than a free key's daily
 * budget.  Eight years each: three or four yearly test blocks after the three years
 * of train, the year of validation and the embargoes the spec asks for. */
#define DEMO_UNIVERSE 60
#define DEMO_UNIVERSE_DAYS 2100

/* Where the demo writes when QUANT_HOME is not given: apart from ./.quant,
 * so the demo's symbols never mix with the user's own first session. */
#define DEMO_HOME "./.quant-demo"

static void on_result(void *p, const struct quant_ingest_result *r)
{
    cli_print_ingest_result(p, r);
}

/* Steps 9 and 10: walk-forward and evaluate on DEMO_UNIVERSE synthetic symbols. */
static int evaluation_half(struct cli_ctx *ctx)
{
    char names[DEMO_UNIVERSE][QUANT_SYMBOL_MAX + 1];
    const char *syms[DEMO_UNIVERSE];
    for (int i = 0; i < DEMO_UNIVERSE; i++) {
        snprintf(names[i], sizeof names[i], "SYN-U%02d", i + 1);
        syms[i] = names[i];
    }
    fprintf(ctx->out, "\n== 9. walk-forward: a synthetic universe of %d random walks "
                      "(SYN-U01..SYN-U%02d), one pooled model per test year\n",
            DEMO_UNIVERSE, DEMO_UNIVERSE);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    if (cli_workspace(ctx, CLI_OPEN_WRITE, &ws, &err))
        return cli_fail(ctx, "demo", &err);
    struct quant_ingest_request req = {
        .symbols = syms,
        .n_symbols = DEMO_UNIVERSE,
        .provider = QUANT_INGEST_SYNTHETIC,
        .mode = QUANT_INGEST_AUTO,
        .synthetic_days = DEMO_UNIVERSE_DAYS,
    };
    struct quant_ingest_summary s;
    enum quant_code code = quant_ingest(ws, &req, NULL, &s, &err);
    size_t failed = s.n_failed + s.n_left;
    quant_ingest_summary_release(&s);
    int crc = cli_close_workspace(ctx, "demo", ws, 0);
    if (code)
        return cli_fail(ctx, "demo", &err);
    if (crc)
        return crc;
    if (failed) {
        fprintf(ctx->err, "quant demo: %zu synthetic symbols could not be stored\n", failed);
        return CLI_EXIT_FAILED;
    }
    char *wf_argv[DEMO_UNIVERSE + 8];
    int k = 0;
    wf_argv[k++] = "walkforward";
    wf_argv[k++] = "--rounds";
    wf_argv[k++] = "50";
    wf_argv[k++] = "--symbols";
    for (int i = 0; i < DEMO_UNIVERSE; i++)
        wf_argv[k++] = names[i];
    wf_argv[k] = NULL;
    int rc = cmd_walkforward.run(ctx, k, wf_argv);
    if (rc)
        return rc;
    fprintf(ctx->out, "\n== 10. evaluate: would those scores have made money?\n");
    char *ev_argv[] = {"evaluate", "--run", "latest", "--topk", "10", "--n-drop", "2", NULL};
    rc = cmd_evaluate.run(ctx, 7, ev_argv);
    if (rc)
        return rc;
    fprintf(ctx->out, "\nThe universe is %d independent random walks: no signal exists, so "
                      "an IC near 0 (|t| < 2), quantile returns without order and a book that "
                      "trails its benchmark by what it pays in costs are the honest result. "
                      "An edge here would be a bug: run the same on your own data.\n",
            DEMO_UNIVERSE);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    int synthetic = !*quant_config_get(&ctx->cfg, QUANT_SET_API_KEY);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--offline") == 0)
            synthetic = 1;
        else
            return cli_usage_error(ctx, &cmd_demo, "unexpected argument '%s'", argv[i]);
    }
    struct quant_err err;
    quant_err_clear(&err);
    if (ctx->cfg.source[QUANT_SET_HOME] == QUANT_SRC_DEFAULT &&
        quant_config_resolve_home_default(&ctx->cfg, DEMO_HOME, &err))
        return cli_fail(ctx, "demo", &err);
    const struct demo_symbol *demo_symbols = synthetic ? synthetic_symbols : real_symbols;
    struct quant_workspace *ws = NULL;
    fprintf(ctx->out, "== 1. init-db: stores under %s%s\n",
            quant_config_get(&ctx->cfg, QUANT_SET_HOME),
            ctx->cfg.source[QUANT_SET_HOME] == QUANT_SRC_DEFAULT
                ? " (the demo's own; set QUANT_HOME or --home to choose)" : "");
    if (cli_workspace(ctx, cmd_demo.open, &ws, &err))
        return cli_fail(ctx, "demo", &err);

    fprintf(ctx->out, "== 2. symbols add");
    const char *syms[N_DEMO];
    for (size_t i = 0; i < N_DEMO; i++) {
        struct quant_symbol_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.symbol, sizeof info.symbol, "%s", demo_symbols[i].symbol);
        snprintf(info.name, sizeof info.name, "%s", demo_symbols[i].name);
        snprintf(info.type, sizeof info.type, "%s", demo_symbols[i].type);
        syms[i] = demo_symbols[i].symbol;
        if (quant_symbols_add(ws, &info, NULL, &err)) {
            quant_workspace_close(ws);
            return cli_fail(ctx, "demo", &err);
        }
        fprintf(ctx->out, " %s", syms[i]);
    }
    fprintf(ctx->out, "\n== 3. ingest from %s\n",
            synthetic ? "the synthetic market (no ALPHAVANTAGE_API_KEY set; seed 42)"
                      : "Alpha Vantage");
    struct quant_ingest_request req = {
        .symbols = syms,
        .n_symbols = N_DEMO,
        .provider = synthetic ? QUANT_INGEST_SYNTHETIC : QUANT_INGEST_ALPHAVANTAGE,
        .mode = QUANT_INGEST_AUTO,
    };
    struct quant_ingest_observer obs = {NULL, on_result, ctx, NULL};
    struct quant_ingest_summary s;
    enum quant_code code = quant_ingest(ws, &req, &obs, &s, &err);
    size_t failed = s.n_failed + s.n_left;
    quant_ingest_summary_release(&s);
    int crc = cli_close_workspace(ctx, "demo", ws, 0);
    if (code)
        return cli_fail(ctx, "demo", &err);
    if (crc)
        return crc;

    /* The derive steps go through the same code as `quant features` / `quant labels`. */
    struct quant_derive_request dreq = {.symbols = syms, .n_symbols = N_DEMO,
                                        .set = quant_feature_set_find("tech-v1")};
    fprintf(ctx->out, "== 4. features (tech-v1)\n");
    int rc = cli_derive_run(ctx, "demo", &dreq, 0);
    if (rc)
        return rc;
    fprintf(ctx->out, "== 5. labels (5-day forward return)\n");
    dreq.set = NULL;
    dreq.horizon = QUANT_LABEL_HORIZON_DEFAULT;
    rc = cli_derive_run(ctx, "demo", &dreq, 1);
    if (rc)
        return rc;

    fprintf(ctx->out, "== 6. train (LightGBM, one model per symbol)\n");
    char *train_argv[] = {"train", "--symbols", (char *)syms[0], (char *)syms[1],
                          (char *)syms[2], NULL};
    rc = cmd_train.run(ctx, 5, train_argv);
    if (rc)
        return rc;
    fprintf(ctx->out, "== 7. score (latest model per symbol)\n");
    char *score_argv[] = {"score", "--symbols", (char *)syms[0], (char *)syms[1],
                          (char *)syms[2], NULL};
    rc = cmd_score.run(ctx, 5, score_argv);
    if (rc)
        return rc;

    fprintf(ctx->out, "== 8. status\n");
    char *status_argv[] = {"status", NULL};
    rc = cmd_status.run(ctx, 1, status_argv);
    if (rc)
        return rc;
    if (failed) {
        fprintf(ctx->err, "quant demo: %zu symbol%s could not be ingested (see above)\n",
                failed, failed == 1 ? "" : "s");
        return CLI_EXIT_FAILED;
    }
    if (synthetic)
        fprintf(ctx->out, "\nThese bars are a seeded random walk: no model can predict them, so "
                          "AUC near 0.5 and the warnings above are the expected, honest result.\n");

    rc = evaluation_half(ctx);
    if (rc)
        return rc;
    fprintf(ctx->out, "\nNext: %s --home %s dashboard (the Evaluation page shows the "
                      "backtest), or\n      %s --home %s sql \"SELECT * FROM "
                      "walkforward_predictions ORDER BY date DESC LIMIT 5\"\n",
            ctx->argv0, quant_config_get(&ctx->cfg, QUANT_SET_HOME), ctx->argv0,
            quant_config_get(&ctx->cfg, QUANT_SET_HOME));
    return CLI_EXIT_OK;
}

const struct cli_command cmd_demo = {
    .name = "demo",
    .summary = "run the pipeline end to end, then a walk-forward and its evaluation",
    .usage =
        "usage: quant demo [--offline]\n"
        "\n"
        "Creates the stores under ./.quant-demo (or QUANT_HOME / --home when given),\n"
        "registers three symbols, ingests their daily bars, computes the tech-v1\n"
        "features and 5-day labels, trains a LightGBM model per symbol, scores every\n"
        "date into predictions, and shows `quant status`. With ALPHAVANTAGE_API_KEY set\n"
        "the symbols are AAPL, NVDA and QQQ from Alpha Vantage; otherwise (or with\n"
        "--offline) they are SYN-A, SYN-B and SYN-C from the seeded synthetic market,\n"
        "named as such. Then the evaluation half, always on synthetic data: 60\n"
        "random-walk symbols (SYN-U01..SYN-U60), a walk-forward with one pooled model\n"
        "per test year and an evaluation of its out-of-sample scores (IC, quantiles,\n"
        "a cost-aware top-10 backtest), where no edge is the right answer.\n"
        "Safe to run again: the data steps change nothing; each run registers new\n"
        "models, a new walk-forward run and a new evaluation.\n",
    .run = run,
    .open = CLI_OPEN_WRITE,
};
