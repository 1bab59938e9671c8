/* walkforward.c: `quant walkforward`: rolling retraining, out-of-sample scores. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/walkforward.h"
#include "core/banned.h"

struct view {
    struct cli_ctx *ctx;
};

static void on_plan(void *p, size_t n_blocks, size_t n_rows, size_t n_symbols)
{
    struct view *v = p;
    char rows[32];
    cli_fmt_count((long)n_rows, rows, sizeof rows);
    fprintf(v->ctx->out, "Walk-forward: %zu test blocks over %s usable rows of %zu symbols\n",
            n_blocks, rows, n_symbols);
}

static void on_block_start(void *p, size_t i, size_t n, const struct quant_walkforward_block *b)
{
    struct view *v = p;
    char label[64];
    snprintf(label, sizeof label, "training the model of %s", b->label);
    cli_progress(v->ctx, label, i, n);
}

static void on_block_done(void *p, size_t i, size_t n, const struct quant_walkforward_block *b)
{
    struct view *v = p;
    char d[6][11];
    quant_date_format(b->train_first, d[0]);
    quant_date_format(b->train_last, d[1]);
    quant_date_format(b->test_first, d[2]);
    quant_date_format(b->test_last, d[3]);
    char tr[32], te[32];
    cli_fmt_count((long)b->n_train, tr, sizeof tr);
    cli_fmt_count((long)b->n_test, te, sizeof te);
    cli_progress_clear(v->ctx);
    fprintf(v->ctx->out,
            "[%zu/%zu] %s: test %s..%s (%s rows), trained on %s..%s (%s rows), best round "
            "%d, AUC %.4f vs 0.5, %.1f s\n",
            i + 1, n, b->label, d[2], d[3], te, d[0], d[1], tr, b->info.best_round,
            b->metrics.auc, b->seconds);
    if (i + 1 < n)
        cli_progress(v->ctx, "", i + 1, n);
}

/* "year" or a number of dates. */
static int parse_step(const char *s, int *out)
{
    long v;
    if (!s || strcmp(s, "year") == 0) {
        *out = 0;
        return 0;
    }
    if (cli_parse_long(s, 1, 100000, &v))
        return -1;
    *out = (int)v;
    return 0;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_walkforward_request req;
    memset(&req, 0, sizeof req);
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    struct cli_model_opts m;
    cli_model_opts_init(&m);
    const char *step = NULL, *window = NULL, *universe = NULL;
    int valid = 0;
    const struct cli_opt opts[] = {
        CLI_MODEL_OPTS(m),
        {"--step", NULL, CLI_OPT_STRING, &step, 0, 0, "year or a number of dates"},
        {"--train-window", NULL, CLI_OPT_STRING, &window, 0, 0,
         "expanding or a number of dates"},
        {"--valid-days", NULL, CLI_OPT_INT, &valid, 1, 100000, NULL},
        {"--universe", NULL, CLI_OPT_STRING, &universe, 0, 0, "a universe name"},
    };
    int rc = cli_parse(ctx, &cmd_walkforward, argc, argv, opts, CLI_NOPTS(opts), &symbols);
    if (!rc)
        rc = cli_model_opts_finish(ctx, &cmd_walkforward, &m);
    if (!rc && parse_step(step, &req.step))
        rc = cli_usage_error(ctx, &cmd_walkforward, "--step takes year or a number of dates");
    if (!rc && window && strcmp(window, "expanding") != 0) {
        long w;
        if (cli_parse_long(window, QUANT_WF_MIN_TRAIN_DATES, 1000000, &w))
            rc = cli_usage_error(ctx, &cmd_walkforward,
                                 "--train-window takes expanding or a number of dates from "
                                 "%d (three years: the spec's least train segment)",
                                 QUANT_WF_MIN_TRAIN_DATES);
        else
            req.train_window = (int)w;
    }
    if (!rc)
        rc = cli_symbols_finish(ctx, &cmd_walkforward, &symbols);
    if (!rc && symbols.list.n == 0 && !universe)
        rc = cli_usage_error(ctx, &cmd_walkforward, "give the symbols (--symbols AAPL, @FILE, "
                             "--all or --universe NAME)");
    if (rc) {
        cli_symbols_release(&symbols);
        cli_model_opts_release(&m);
        return rc;
    }
    req.symbols = (const char *const *)symbols.list.v;
    req.n_symbols = symbols.list.n;
    CLI_MODEL_OPTS_APPLY(req, m);
    req.valid_days = valid;
    req.universe = universe;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    struct view v = {ctx};
    struct quant_walkforward_observer obs = {on_plan, on_block_start, on_block_done, &v};
    struct quant_walkforward_summary sum;
    if (cli_workspace(ctx, cmd_walkforward.open, &ws, &err) ||
        quant_walkforward(ws, &req, &obs, &sum, &err)) {
        cli_progress_clear(ctx);
        rc = cli_fail(ctx, "walkforward", &err);
    } else {
        char first[11], last[11], n[32];
        quant_date_format(sum.first_test, first);
        quant_date_format(sum.last_test, last);
        cli_fmt_count((long)sum.n_predictions, n, sizeof n);
        fprintf(ctx->out,
                "Done: run %s, %zu blocks, %s out-of-sample predictions from %s to %s in "
                "%.1f s.\n"
                "Judge it with: %s evaluate --run %s\n",
                sum.run_id, sum.n_blocks, n, first, last, sum.seconds, ctx->argv0, sum.run_id);
    }
    rc = cli_close_workspace(ctx, "walkforward", ws, rc);
    cli_symbols_release(&symbols);
    cli_model_opts_release(&m);
    return rc;
}

const struct cli_command cmd_walkforward = {
    .name = "walkforward",
    .summary = "retrain a pooled model per test block: out-of-sample scores",
    .usage =
        "usage: quant walkforward --symbols S ... | --all | --universe NAME\n"
        "                         [--features tech-v1|alpha158]\n"
        "                         [--horizon H] [--algo lightgbm|xgboost] [--param k=v ...]\n"
        "                         [--step year|N] [--train-window expanding|N]\n"
        "                         [--valid-days V] [--rounds N] [--early-stopping N]\n"
        "                         [--seed N] [--threads N]\n"
        "\n"
        "Rolling retraining as shared/spec/EVALUATION.md defines it. The dates with a\n"
        "usable row (every feature and the label) are cut into test blocks: calendar\n"
        "years, or --step N dates. Each block gets one pooled model over all symbols,\n"
        "trained on every date before it (or the last --train-window N), early-stopped\n"
        "on the V dates before the block (default 252), with an embargo of H dates\n"
        "before valid and before test, so no model sees a label that overlaps the\n"
        "dates it scores. The first block is the first with three years (756 dates)\n"
        "of train. Each model scores its block's dates, including the newest ones that\n"
        "have no label yet; the union is the run's out-of-sample prediction set.\n"
        "Every model is registered (`quant models`, params.walkforward says its run\n"
        "and block); the scores are in\n"
        "  quant sql \"SELECT symbol, date, score FROM walkforward_predictions\n"
        "             WHERE run_id = 'ID'\"\n"
        "and `quant evaluate --run ID` says whether they would have made money.\n"
        "--universe NAME (see `quant universe`): a symbol's rows count only on the\n"
        "dates it is a member, so no model trains on, and no score is made for, a\n"
        "name before it joined or after it left; alone, it names the symbols too.\n"
        "Defaults: tech-v1, H = 5, lightgbm, as `quant train` (rounds, early stopping\n"
        "50, seed 42); --threads: the threads setting.\n",
    .run = run,
    .open = CLI_OPEN_WRITE,
};
