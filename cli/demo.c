/*
 * demo.c: `quant demo`: the whole pipeline end to end on embedded storage,
 * for AAPL, NVDA and QQQ: ingest (Alpha Vantage when a key is set, else the
 * seeded synthetic market, so it always runs offline) -> features -> labels
 * -> train -> score.  Later steps reuse the commands themselves, so the demo
 * prints exactly what a user running them would see.
 */
#include <string.h>

#include "cli.h"
#include "quant/derive.h"
#include "quant/market_data.h"
#include "core/banned.h"

static const struct {
    const char *symbol, *name, *type;
} demo_symbols[] = {
    {"AAPL", "Apple Inc.", "Equity"},
    {"NVDA", "NVIDIA Corporation", "Equity"},
    {"QQQ", "Invesco QQQ Trust", "ETF"},
};
#define N_DEMO (sizeof demo_symbols / sizeof *demo_symbols)

static void on_result(void *p, const struct quant_ingest_result *r)
{
    cli_print_ingest_result(p, r);
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
    struct quant_md *md = NULL;
    fprintf(ctx->out, "== 1. init-db: stores under %s\n", quant_config_get(&ctx->cfg, QUANT_SET_HOME));
    if (quant_md_open(&ctx->cfg, &md, &err))
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
        if (quant_md_symbol_add(md, &info, NULL, &err)) {
            quant_md_close(md);
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
        .provider = synthetic ? QUANT_MD_SYNTHETIC : QUANT_MD_ALPHAVANTAGE,
        .mode = QUANT_MD_AUTO,
    };
    struct quant_ingest_observer obs = {NULL, on_result, ctx, NULL};
    struct quant_ingest_summary s;
    enum quant_code code = quant_md_ingest(md, &req, &obs, &s, &err);
    size_t failed = s.n_failed + s.n_left;
    quant_ingest_summary_release(&s);
    quant_md_close(md);
    if (code)
        return cli_fail(ctx, "demo", &err);

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
    char *train_argv[] = {"train", "--symbols", "AAPL", "NVDA", "QQQ", NULL};
    rc = cmd_train.run(ctx, 5, train_argv);
    if (rc)
        return rc;
    fprintf(ctx->out, "== 7. score (latest model per symbol)\n");
    char *score_argv[] = {"score", "--symbols", "AAPL", "NVDA", "QQQ", NULL};
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
    fprintf(ctx->out, "\nNext: %s sql \"SELECT * FROM predictions ORDER BY date DESC LIMIT 5\"\n",
            ctx->argv0);
    return CLI_EXIT_OK;
}

const struct cli_command cmd_demo = {
    .name = "demo",
    .summary = "run the pipeline end to end for AAPL, NVDA and QQQ",
    .usage =
        "usage: quant demo [--offline]\n"
        "\n"
        "Creates the stores under QUANT_HOME, registers AAPL, NVDA and QQQ, ingests\n"
        "their daily bars (from Alpha Vantage when ALPHAVANTAGE_API_KEY is set, else\n"
        "from the seeded synthetic market; --offline forces synthetic), computes the\n"
        "tech-v1 features and 5-day labels, trains a LightGBM model per symbol, scores\n"
        "every date into predictions, and shows `quant status`. Safe to run again: the\n"
        "data steps change nothing; each run registers new models.\n",
    .run = run,
};
