/* score.c: `quant score`: predictions from a registered model. */
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/score.h"
#include "core/banned.h"

struct view {
    struct cli_ctx *ctx;
    enum quant_code first_failure;
    size_t scored;
    long rows, out_of_sample;
};

static void on_scored(void *p, const struct quant_score_result *r)
{
    struct view *v = p;
    if (r->code) {
        fprintf(v->ctx->err, "Failed %s: %s\n", r->symbol, r->error);
        if (!v->first_failure)
            v->first_failure = r->code;
        return;
    }
    char n[32], oos[32];
    cli_fmt_count(r->predictions, n, sizeof n);
    cli_fmt_count(r->out_of_sample, oos, sizeof oos);
    fprintf(v->ctx->out, "Saved %s predictions for %s using %s (%s out of sample)\n", n,
            r->symbol, r->model_id, oos);
    v->scored++;
    v->rows += r->predictions;
    v->out_of_sample += r->out_of_sample;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    symbols.shardable = 1;
    const char *model = "latest";
    const struct cli_opt opts[] = {
        {"--model", NULL, CLI_OPT_STRING, &model, 0, 0, "a model id or latest"},
    };
    int rc = cli_parse(ctx, &cmd_score, argc, argv, opts, CLI_NOPTS(opts), &symbols);
    if (!rc)
        rc = cli_symbols_finish(ctx, &cmd_score, &symbols);
    if (!rc && symbols.list.n == 0 && !symbols.shard_empty)
        rc = cli_usage_error(ctx, &cmd_score, "give the symbols to score (--symbols AAPL, "
                             "@FILE or --all)");
    if (rc || symbols.shard_empty) {
        cli_symbols_release(&symbols);
        return rc;
    }
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    struct view v = {ctx, QUANT_OK, 0, 0, 0};
    struct quant_ml_observer obs = {NULL, NULL, on_scored, &v};
    size_t failed = 0;
    if (cli_workspace(ctx, cmd_score.open, &ws, &err) ||
        quant_score(ws, (const char *const *)symbols.list.v, symbols.list.n, model, &obs, &failed,
                       &err))
        rc = cli_fail(ctx, "score", &err);
    else if (failed)
        rc = failed == symbols.list.n ? cli_exit_for(v.first_failure) : CLI_EXIT_FAILED;
    if (rc != CLI_EXIT_USAGE && (v.scored || failed)) {
        char rows[32], oos[32];
        cli_fmt_count(v.rows, rows, sizeof rows);
        cli_fmt_count(v.out_of_sample, oos, sizeof oos);
        fprintf(ctx->out, "Done: %zu scored, %zu failed; %s predictions, %s of them out of "
                          "sample (test or unseen: see predictions.segment)\n",
                v.scored, failed, rows, oos);
    }
    rc = cli_close_workspace(ctx, "score", ws, rc);
    cli_symbols_release(&symbols);
    return rc;
}

const struct cli_command cmd_score = {
    .name = "score",
    .summary = "predict with a registered model into the predictions table",
    .usage =
        "usage: quant score --symbols S ... | --all [--model ID|latest] [--shard i/n]\n"
        "\n"
        "Scores every date of each symbol whose features are complete, including the\n"
        "newest dates that have no label yet, into predictions(symbol, date, model_id,\n"
        "score, segment). segment says what the row was to that model: train, embargo,\n"
        "valid, test, unlabelled (no forward return yet) or unseen (labelled, never\n"
        "shown to the model); judge a model on test and unseen rows only.\n"
        "--model latest (the default) takes the newest model trained on each\n"
        "symbol. Rescoring with the same model replaces its rows. Symbols: --symbols\n"
        "A B, A,B or @FILE (one per line); --all: every active registered symbol.\n"
        CLI_SHARD_USAGE,
    .run = run,
    .open = CLI_OPEN_WRITE,
};
