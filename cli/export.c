/* export.c: `quant export`: a table or one query's rows into a CSV or Parquet file. */
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/export.h"
#include "core/banned.h"

static int parse_format(const char *v, enum quant_export_format *out)
{
    if (strcmp(v, "csv") == 0)
        *out = QUANT_EXPORT_CSV;
    else if (strcmp(v, "parquet") == 0)
        *out = QUANT_EXPORT_PARQUET;
    else
        return -1;
    return 0;
}

/* `--parquet DIR`: every table as a Hive-partitioned dataset under DIR. */
static int run_lake(struct cli_ctx *ctx, struct quant_lake_request *req)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_lake_result res;
    struct quant_workspace *ws = NULL;
    enum quant_code code = cli_workspace(ctx, cmd_export.open, &ws, &err);
    if (!code)
        code = quant_export_lake(ws, req, &res, &err);
    quant_workspace_close(ws);
    if (code)
        return cli_fail(ctx, "export", &err);
    long total = 0;
    for (size_t i = 0; i < res.n_tables; i++) {
        char n[32];
        cli_fmt_count(res.tables[i].rows, n, sizeof n);
        fprintf(ctx->out, "  %-18s %12s rows%s%s\n", res.tables[i].name, n,
                res.tables[i].rows ? ", by " : " (nothing to write)",
                res.tables[i].rows ? res.tables[i].partition_by : "");
        total += res.tables[i].rows;
    }
    char n[32];
    cli_fmt_count(total, n, sizeof n);
    fprintf(ctx->out,
            "Exported %s rows as Parquet datasets to %s in %.1f s\n"
            "Read one back with DuckDB, Polars, PyArrow or Spark, e.g.\n"
            "  SELECT * FROM read_parquet('%s/ohlcv/**/*.parquet', hive_partitioning = true)\n",
            n, res.path, res.seconds, res.path);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_export_request req = {0};
    struct quant_lake_request lake = {0};
    struct cli_list tables;
    memset(&tables, 0, sizeof tables);
    const char *fmt = NULL;
    const struct cli_opt opts[] = {
        {"--table", NULL, CLI_OPT_STRING, &req.table, 0, 0, "a table name"},
        {"--query", NULL, CLI_OPT_STRING, &req.query, 0, 0, "one SELECT"},
        {"--output", "-o", CLI_OPT_STRING, &req.output, 0, 0, "a file"},
        {"--format", NULL, CLI_OPT_STRING, &fmt, 0, 0, "csv or parquet"},
        {"--force", NULL, CLI_OPT_FLAG, &req.force, 0, 0, NULL},
        {"--parquet", NULL, CLI_OPT_STRING, &lake.dir, 0, 0, "a folder"},
        {"--tables", NULL, CLI_OPT_LIST, &tables, 0, 0, "table names"},
    };
    int prc = cli_parse(ctx, &cmd_export, argc, argv, opts, CLI_NOPTS(opts), NULL);
    if (prc) {
        cli_list_release(&tables);
        return prc;
    }
    if (lake.dir) {
        if (req.table || req.query || req.output || fmt) {
            cli_list_release(&tables);
            return cli_usage_error(ctx, &cmd_export, "--parquet DIR writes whole tables: "
                                   "leave out --table, --query, --output and --format");
        }
        lake.tables = (const char *const *)tables.v;
        lake.n_tables = tables.n;
        lake.force = req.force;
        int rc = run_lake(ctx, &lake);
        cli_list_release(&tables);
        return rc;
    }
    if (tables.n) {
        cli_list_release(&tables);
        return cli_usage_error(ctx, &cmd_export, "--tables goes with --parquet DIR");
    }
    if (!req.table == !req.query)
        return cli_usage_error(ctx, &cmd_export, "give either --table NAME or --query SQL");
    if (!req.output)
        return cli_usage_error(ctx, &cmd_export, "give the file to write: --output FILE");
    if (fmt && parse_format(fmt, &req.format))
        return cli_usage_error(ctx, &cmd_export, "--format is csv or parquet, not '%s'", fmt);

    struct quant_err err;
    quant_err_clear(&err);
    struct quant_export_result res;
    struct quant_workspace *ws = NULL;
    enum quant_code code = cli_workspace(ctx, cmd_export.open, &ws, &err);
    if (!code)
        code = quant_export(ws, &req, &res, &err);
    quant_workspace_close(ws);
    if (code)
        return cli_fail(ctx, "export", &err);
    char n[32];
    cli_fmt_count(res.rows, n, sizeof n);
    fprintf(ctx->out, "Exported %s row%s to %s (%s)\n", n, res.rows == 1 ? "" : "s", res.path,
            quant_export_format_name(res.format));
    return CLI_EXIT_OK;
}

const struct cli_command cmd_export = {
    .name = "export",
    .summary = "write a table or query to CSV/Parquet, or the store as a lake",
    .usage =
        "usage: quant export (--table NAME | --query SQL) --output FILE\n"
        "                    [--format csv|parquet] [--force]\n"
        "       quant export --parquet DIR [--tables T,...] [--force]\n"
        "\n"
        "Writes every row of a table (or view) of the DuckDB store, or the rows of\n"
        "one query, to FILE, for pandas, Polars or anything that reads CSV or\n"
        "Parquet. The format comes from FILE's extension (.csv, .parquet, .pq)\n"
        "unless --format says. Parquet keeps the column types (DATE, DOUBLE, ...);\n"
        "CSV has a header row.\n"
        "\n"
        "The query follows the rules of `quant sql` (one query, reading only the\n"
        "store; see `quant sql --help` for them and for the tables). FILE is the\n"
        "only thing written: the rows go to a hidden temporary file beside it,\n"
        "which is renamed to FILE when complete, so a failed export leaves no\n"
        "partial file. An existing FILE is replaced only with --force. Writing\n"
        "inside QUANT_HOME, the models folder, or over a store is refused.\n"
        "\n"
        "--parquet DIR writes whole tables as Hive-partitioned Parquet datasets, a\n"
        "lake that DuckDB, Polars, PyArrow and Spark read as it is:\n"
        "  DIR/ohlcv/symbol=AAPL/*.parquet, DIR/features_tech_v1/symbol=...,\n"
        "  DIR/features_alpha158/symbol=..., DIR/labels/horizon=5/symbol=...,\n"
        "  DIR/predictions/model_id=.../*.parquet, and DIR/_quant_export.json (rows\n"
        "  per table and how to read each back).\n"
        "--tables picks some: ohlcv, features (every set), features_tech_v1,\n"
        "features_alpha158, labels, predictions (default: all). Features and labels\n"
        "are computed from the bars as they are written. DIR is written whole or\n"
        "not at all (a hidden folder beside it, renamed when complete); --force\n"
        "replaces an earlier export, never a folder quant did not write.\n"
        "\n"
        "Examples:\n"
        "  quant export --table features_tech_v1 --output features.parquet\n"
        "  quant export --query \"SELECT * FROM ohlcv WHERE symbol = 'AAPL'\" -o aapl.csv\n"
        "  python -c \"import pandas as pd; print(pd.read_parquet('features.parquet'))\"\n"
        "  quant export --parquet lake --tables ohlcv,predictions\n",
    .run = run,
    .open = CLI_OPEN_READ,
};
