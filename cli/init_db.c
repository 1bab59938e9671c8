/* init_db.c: `quant init-db`: create or migrate both stores.  Safe to repeat. */
#include "cli.h"
#include "quant/workspace.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 1)
        return cli_usage_error(ctx, &cmd_init_db, "unexpected argument '%s'", argv[1]);
    struct quant_workspace *ws = NULL;
    int rc = cli_open_workspace(ctx, "init-db", cmd_init_db.open, &ws);
    if (rc)
        return rc;
    int found = quant_workspace_meta_found_version(ws);
    if (quant_workspace_lake(ws))
        fprintf(ctx->out, "Parquet lake:    %s (the metadata store lists its live files)\n",
                quant_workspace_lake(ws));
    else
        fprintf(ctx->out, "DuckDB store:    %s\n",
                quant_config_get(&ctx->cfg, QUANT_SET_DUCKDB_PATH));
    /* The URL as it may be shown: never its password. */
    char url[1024];
    quant_config_display(&ctx->cfg, QUANT_SET_META_URL, url, sizeof url);
    const char *file = quant_meta_url_sqlite_path(url);
    if (file)
        fprintf(ctx->out, "SQLite metadata: %s", file);
    else
        fprintf(ctx->out, "Metadata store:  %s", url);
    if (found == 0)
        fprintf(ctx->out, " (created, schema v%d)\n", QUANT_META_SCHEMA_VERSION);
    else if (found < QUANT_META_SCHEMA_VERSION)
        fprintf(ctx->out, " (migrated v%d -> v%d)\n", found, QUANT_META_SCHEMA_VERSION);
    else
        fprintf(ctx->out, " (schema v%d, up to date)\n", found);
    quant_workspace_close(ws);
    return CLI_EXIT_OK;
}

const struct cli_command cmd_init_db = {
    .name = "init-db",
    .summary = "create the stores (or migrate older ones); safe to run again",
    .usage =
        "usage: quant init-db\n"
        "\n"
        "Creates QUANT_HOME, the DuckDB time-series store and the metadata store\n"
        "(SQLite, or PostgreSQL when meta_url / --meta-url names one), or migrates\n"
        "existing ones to this version's schema. Running it again changes nothing.\n",
    .run = run,
    .open = CLI_OPEN_WRITE,
};
