/* config.c: `quant config`: every setting, its resolved value and where it came from. */
#include <string.h>

#include "cli.h"
#include "table.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    enum cli_format fmt = CLI_FMT_TABLE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            fmt = CLI_FMT_JSON;
        else
            return cli_usage_error(ctx, &cmd_config, "unexpected argument '%s'", argv[i]);
    }
    const char *names[] = {"setting", "value", "source", "environment"};
    struct cli_table t;
    if (cli_table_init(&t, 4, names, NULL))
        goto oom;
    for (int id = 0; id < QUANT_SETTING_COUNT; id++) {
        char shown[1024];
        quant_config_display(&ctx->cfg, id, shown, sizeof shown);
        const char *row[] = {quant_setting_key(id), shown,
                             quant_config_source_name(ctx->cfg.source[id]),
                             quant_setting_env(id)};
        if (cli_table_add(&t, row))
            goto oom;
    }
    struct cli_rows rows = cli_table_rows(&t);
    cli_rows_print(ctx->out, &rows, fmt);
    if (fmt == CLI_FMT_TABLE)
        fprintf(ctx->out, "\nconfig file: %s (%s)\n", ctx->cfg.conf_path,
                ctx->cfg.conf_found ? "read" : "not present");
    cli_table_release(&t);
    return CLI_EXIT_OK;
oom:
    cli_table_release(&t);
    fprintf(ctx->err, "quant config: out of memory\n");
    return CLI_EXIT_FAILED;
}

const struct cli_command cmd_config = {
    .name = "config",
    .summary = "show every setting, its value and where it came from",
    .usage =
        "usage: quant config [--json]\n"
        "\n"
        "Prints each setting's resolved value and its source. Precedence, highest\n"
        "first: command-line flag, environment variable, $QUANT_HOME/quant.conf,\n"
        "built-in default. The API key is shown masked.\n"
        "\n"
        "quant.conf holds `key = value` lines (keys as in the first column).\n",
    .run = run,
};
