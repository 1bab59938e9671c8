/* sql.c: `quant sql`: read-only SQL on the DuckDB store. */
#include <string.h>

#include "cli.h"
#include "table.h"
#include "quant/inspect.h"
#include "core/banned.h"

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    enum cli_format fmt = CLI_FMT_TABLE;
    const char *sql = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0)
            fmt = CLI_FMT_CSV;
        else if (strcmp(argv[i], "--json") == 0)
            fmt = CLI_FMT_JSON;
        else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2])
            return cli_usage_error(ctx, &cmd_sql, "unknown option '%s'", argv[i]);
        else if (!sql)
            sql = argv[i];
        else
            return cli_usage_error(ctx, &cmd_sql,
                                   "give the query as one argument (quote it)");
    }
    if (!sql || !*sql)
        return cli_usage_error(ctx, &cmd_sql, "missing the SQL query");
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_table t;
    memset(&t, 0, sizeof t);
    if (quant_inspect_query(&ctx->cfg, sql, &t, &err))
        return cli_fail(ctx, "sql", &err);
    struct cli_rows rows = {t.ncols, t.nrows, t.col_names, t.col_numeric, t.cells};
    cli_rows_print(ctx->out, &rows, fmt);
    if (fmt == CLI_FMT_TABLE)
        fprintf(ctx->out, "(%zu row%s)\n", t.nrows, t.nrows == 1 ? "" : "s");
    quant_table_release(&t);
    return CLI_EXIT_OK;
}

const struct cli_command cmd_sql = {
    .name = "sql",
    .summary = "run a read-only SQL query on the time-series store",
    .usage =
        "usage: quant sql \"SELECT ...\" [--csv | --json]\n"
        "\n"
        "Runs one statement on the DuckDB store, opened read-only (writes are\n"
        "refused), and prints an aligned table (default), CSV or JSON.\n"
        "Tables: ohlcv(symbol, date, open, high, low, close, adj_close, volume,\n"
        "dividend, split_coefficient, source, ingested_at).\n"
        "\n"
        "Example: quant sql \"SELECT symbol, count(*) FROM ohlcv GROUP BY symbol\"\n",
    .run = run,
};
