/* lake.c: `quant lake check`: the lake folder against the registry. */
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/lake.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(ctx, &cmd_lake, "missing subcommand (check)");
    if (strcmp(argv[1], "check") != 0)
        return cli_usage_error(ctx, &cmd_lake, "unknown subcommand '%s'", argv[1]);
    int remove = 0, hours = 1;
    const struct cli_opt opts[] = {
        {"--remove-orphans", NULL, CLI_OPT_FLAG, &remove, 0, 0, NULL},
        {"--older-than", NULL, CLI_OPT_INT, &hours, 0, 24 * 365, "0 to 8760 hours"},
    };
    int rc = cli_parse(ctx, &cmd_lake, argc - 1, argv + 1, opts, CLI_NOPTS(opts), NULL);
    if (rc)
        return rc;
    struct quant_workspace *ws = NULL;
    if ((rc = cli_open_workspace(ctx, "lake", cmd_lake.open, &ws)))
        return rc;
    struct quant_lake_check c;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_lake_check(ws, remove ? (long)hours * 3600 : -1, &c, &err)) {
        rc = cli_fail(ctx, "lake", &err);
        quant_workspace_close(ws);
        return rc;
    }
    fprintf(ctx->out, "Lake %s: live files by table, as the registry lists them\n",
            quant_workspace_lake(ws));
    quant_workspace_close(ws);
    fprintf(ctx->out, "%-20s %10s %8s %14s\n", "table", "partitions", "files", "rows");
    for (int i = 0; i < c.ntables; i++) {
        char rows[32];
        cli_fmt_count((long)c.tables[i].rows, rows, sizeof rows);
        fprintf(ctx->out, "%-20s %10ld %8ld %14s\n", c.tables[i].name, c.tables[i].parts,
                c.tables[i].files, rows);
    }
    if (c.orphans == 0)
        fprintf(ctx->out, "Orphans: none (every Parquet file under the tables is live).\n");
    else if (!remove)
        fprintf(ctx->out,
                "Orphans: %ld file(s), %lld bytes, not live in the registry (first: %s). "
                "A run killed while publishing leaves them; quant never reads them, but an "
                "engine that globs the folder does. Remove them with "
                "`quant lake check --remove-orphans` (files younger than --older-than, 1 hour "
                "by default, are kept: a run may still be publishing them).\n",
                c.orphans, (long long)c.orphan_bytes, c.first_orphan);
    else
        fprintf(ctx->out, "Orphans: %ld file(s) not live in the registry; %ld removed, %ld kept "
                          "(younger than %d hour(s)).\n",
                c.orphans, c.orphans_removed, c.orphans_young, hours);
    if (c.missing == 0) {
        fprintf(ctx->out, "Missing: none (every live file is on disk).\n");
        return CLI_EXIT_OK;
    }
    fprintf(ctx->err,
            "quant lake: %ld live file(s) are missing from the folder (first: %s): reads of "
            "those partitions fail. Run again the command that wrote them (ingest for ohlcv, "
            "labels, features, train --score or score for the others).\n",
            c.missing, c.first_missing);
    return CLI_EXIT_FAILED;
}

const struct cli_command cmd_lake = {
    .name = "lake",
    .summary = "check a Parquet lake against its registry; remove orphaned files",
    .usage =
        "usage: quant lake check [--remove-orphans] [--older-than HOURS]\n"
        "\n"
        "In lake mode (QUANT_LAKE or --lake DIR), compares the lake folder with the\n"
        "files the registry lists as live: per table the live partitions, files and\n"
        "rows; orphans (Parquet files under the tables, or in .quant-staging, that are\n"
        "not live: a run killed while publishing leaves them); missing files (live but\n"
        "not on disk: exit 1). --remove-orphans deletes orphans older than\n"
        "--older-than HOURS (default 1; 0 = all, only when no run is writing).\n"
        "Never touches a live file or the registry.\n",
    .run = run,
    .open = CLI_OPEN_READ,
};
