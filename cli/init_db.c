/* init_db.c: `quant init-db`: create or migrate both stores.  Safe to repeat. */
#include "cli.h"
#include "quant/market_data.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 1)
        return cli_usage_error(ctx, &cmd_init_db, "unexpected argument '%s'", argv[1]);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_md *md = NULL;
    if (quant_md_open(&ctx->cfg, &md, &err))
        return cli_fail(ctx, "init-db", &err);
    int found = quant_meta_store_found_version(quant_md_meta(md));
    fprintf(ctx->out, "DuckDB store:    %s\n", quant_config_get(&ctx->cfg, QUANT_SET_DUCKDB_PATH));
    fprintf(ctx->out, "SQLite metadata: %s", quant_config_get(&ctx->cfg, QUANT_SET_SQLITE_PATH));
    if (found == 0)
        fprintf(ctx->out, " (created, schema v%d)\n", QUANT_META_SCHEMA_VERSION);
    else if (found < QUANT_META_SCHEMA_VERSION)
        fprintf(ctx->out, " (migrated v%d -> v%d)\n", found, QUANT_META_SCHEMA_VERSION);
    else
        fprintf(ctx->out, " (schema v%d, up to date)\n", found);
    quant_md_close(md);
    return CLI_EXIT_OK;
}

const struct cli_command cmd_init_db = {
    .name = "init-db",
    .summary = "create the stores (or migrate older ones); safe to run again",
    .usage =
        "usage: quant init-db\n"
        "\n"
        "Creates QUANT_HOME, the DuckDB time-series store and the SQLite metadata\n"
        "store, or migrates existing ones to this version's schema. Running it again\n"
        "changes nothing.\n",
    .run = run,
};
