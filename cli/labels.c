/* labels.c: `quant labels`: forward-return labels from stored bars. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/features.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_derive_request req;
    memset(&req, 0, sizeof req);
    req.horizon = QUANT_LABEL_HORIZON_DEFAULT;
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    symbols.shardable = 1;
    char takes[48];
    snprintf(takes, sizeof takes, "%d to %d trading days", QUANT_LABEL_HORIZON_MIN,
             QUANT_LABEL_HORIZON_MAX);
    const struct cli_opt opts[] = {
        {"--horizon", NULL, CLI_OPT_INT, &req.horizon, QUANT_LABEL_HORIZON_MIN,
         QUANT_LABEL_HORIZON_MAX, takes},
        CLI_DERIVE_OPTS(req),
    };
    int rc = cli_parse(ctx, &cmd_labels, argc, argv, opts, CLI_NOPTS(opts), &symbols);
    if (!rc)
        rc = cli_symbols_finish(ctx, &cmd_labels, &symbols);
    req.symbols = (const char *const *)symbols.list.v;
    req.n_symbols = symbols.list.n;
    req.shard = symbols.shard;
    if (!rc && !symbols.shard_empty)
        rc = cli_derive_run(ctx, "labels", &req, 1);
    cli_symbols_release(&symbols);
    return rc;
}

const struct cli_command cmd_labels = {
    .name = "labels",
    .summary = "compute forward-return labels from stored bars",
    .usage =
        "usage: quant labels [--symbols S ... | --all] [--horizon H] [--materialize]\n"
        "                    [--force] [--threads N] [--shard i/n]\n"
        "\n"
        "Computes labels(symbol, date, horizon, fwd_return, label) for horizon H\n"
        "(default 5, 1 to 250 trading days): fwd_return = C[t+H] / C[t] - 1 on the\n"
        "adjusted close, label = 1 when fwd_return > 0. The last H dates of a symbol\n"
        "have no label. Like features, labels are computed from the bars whenever\n"
        "they are read (train, score; the labels view of `quant sql` shows every\n"
        "horizon computed here); --materialize also stores them in the labels table\n"
        "for other DuckDB clients. Up-to-date symbols are skipped unless --force.\n"
        "Symbols: as for `quant features` (default: every symbol with bars).\n"
        CLI_SHARD_USAGE,
    .run = run,
    .open = CLI_OPEN_WRITE,
};
