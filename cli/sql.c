/*
 * sql.c: `quant sql`: one read-only query on the DuckDB store, its rows
 * printed as they stream out (what may run: include/quant/sql.h).
 */
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "table.h"
#include "quant/sql.h"
#include "core/banned.h"

/* Rows an aligned table holds to measure its columns (CSV and JSON hold none). */
#define TABLE_MAX_ROWS 10000

/*
 * The exit code follows the library's code (cli_exit_for): QUANT_EREADONLY
 * (refused) exits 4, QUANT_EINVAL (a wrong query) 2, as the usage says.
 */
static int query_fail(struct cli_ctx *ctx, const struct quant_err *err)
{
    return cli_fail(ctx, "sql", err);
}

static int stream(struct cli_ctx *ctx, struct quant_sql_cursor *c, enum cli_format fmt)
{
    size_t ncols = quant_sql_cursor_ncols(c);
    const char *names[ncols ? ncols : 1];
    int numeric[ncols ? ncols : 1];
    for (size_t i = 0; i < ncols; i++) {
        names[i] = quant_sql_cursor_name(c, i);
        numeric[i] = quant_sql_cursor_numeric(c, i);
    }
    struct cli_stream out;
    struct quant_err err;
    quant_err_clear(&err);
    if (cli_stream_begin(&out, ctx->out, fmt, ncols, names, numeric, TABLE_MAX_ROWS)) {
        quant_err_set(&err, QUANT_ENOMEM, "out of memory");
        return query_fail(ctx, &err);
    }
    int rc = 0;
    for (;;) {
        size_t n = 0;
        const char *const *cells = NULL;
        if (quant_sql_cursor_next(c, &n, &cells, &err)) {
            rc = 1;
            break;
        }
        if (n == 0 || (rc = cli_stream_rows(&out, cells, n)) != 0)
            break;
    }
    cli_stream_end(&out);
    if (fflush(ctx->out) != 0 || ferror(ctx->out))
        quant_err_set(&err, QUANT_EIO, "could not write the result (disk full, or the reader "
                                       "went away)");
    else if (rc < 0 && !err.code)
        quant_err_set(&err, QUANT_ENOMEM, "out of memory holding the table; use --csv");
    return err.code ? query_fail(ctx, &err) : CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    int csv = 0, json = 0;
    const struct cli_opt opts[] = {
        {"--csv", NULL, CLI_OPT_FLAG, &csv, 0, 0, NULL},
        {"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL},
    };
    struct cli_list words = {0};
    int rc = cli_parse_words(ctx, &cmd_sql, argc, argv, 1, opts, CLI_NOPTS(opts), &words);
    const char *sql = words.n ? words.v[0] : NULL;
    if (!rc && words.n > 1)
        rc = cli_usage_error(ctx, &cmd_sql, "give the query as one argument (quote it)");
    else if (!rc && (!sql || !*sql))
        rc = cli_usage_error(ctx, &cmd_sql, "missing the SQL query");
    else if (!rc && csv && json)
        rc = cli_usage_error(ctx, &cmd_sql, "give --csv or --json, not both");
    cli_list_release(&words); /* sql points into argv */
    if (rc)
        return rc;
    enum cli_format fmt = csv ? CLI_FMT_CSV : json ? CLI_FMT_JSON : CLI_FMT_TABLE;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    struct quant_sql_session *q = NULL;
    if (cli_workspace(ctx, cmd_sql.open, &ws, &err) ||
        quant_sql_session_open(ws, sql, &q, &err)) {
        quant_workspace_close(ws);
        return query_fail(ctx, &err);
    }
    rc = stream(ctx, quant_sql_session_cursor(q), fmt);
    quant_sql_session_close(q);
    quant_workspace_close(ws);
    return rc;
}

/* "a T, b T, ..." in full, or its start and a count for a wide feature table. */
static void print_columns(FILE *f, const char *table, const char *cols)
{
    enum { SHOWN = 8 };
    size_t n = 1, cut = 0;
    for (const char *p = cols; (p = strstr(p, ", ")) != NULL; p += 2)
        if (n++ == SHOWN)
            cut = (size_t)(p - cols);
    if (n <= SHOWN + 8) { /* ohlcv (13 columns) in full; the feature tables (19+) cut */
        fprintf(f, "%s\n", cols);
        return;
    }
    fprintf(f, "%.*s, ... (%zu columns; `quant sql \"DESCRIBE %s\"` lists them)\n", (int)cut,
            cols, n, table);
}

/* After the usage: the tables this store really has, with their columns. */
static void help_tables(struct cli_ctx *ctx)
{
    struct quant_table t;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    enum quant_code rc = cli_workspace(ctx, cmd_sql.open, &ws, &err);
    if (!rc)
        rc = quant_sql_tables(ws, &t, &err);
    quant_workspace_close(ws);
    if (rc) {
        fprintf(ctx->out, "\n(Cannot list the tables of this store now: %s)\n", err.msg);
        return;
    }
    fprintf(ctx->out, "\nTables in %s:\n", quant_config_get(&ctx->cfg, QUANT_SET_DUCKDB_PATH));
    for (size_t r = 0; r < t.nrows; r++) {
        const char *name = t.cells[r * 3], *kind = t.cells[r * 3 + 1];
        const char *cols = t.cells[r * 3 + 2];
        if (!name || !cols)
            continue;
        const char *tag = !kind                          ? ""
                          : strcmp(kind, "view") == 0    ? " (view)"
                          : strcmp(kind, "on read") == 0 ? " (computed from ohlcv on read)"
                                                         : "";
        fprintf(ctx->out, "  %s%s: ", name, tag);
        print_columns(ctx->out, name, cols);
    }
    if (t.nrows == 0)
        fprintf(ctx->out, "  (none yet: run `quant init-db`)\n");
    quant_table_release(&t);
}

const struct cli_command cmd_sql = {
    .name = "sql",
    .summary = "run one read-only SQL query on the time-series store",
    .usage =
        "usage: quant sql \"SELECT ...\" [--csv | --json]\n"
        "\n"
        "Runs one query on the DuckDB store and prints an aligned table (default),\n"
        "CSV or JSON. Rows are printed as they are read, so --csv and --json handle\n"
        "results of any size in little memory; the aligned table shows at most the\n"
        "first 10,000 rows (it needs them all to size its columns) and says when\n"
        "there were more. For pandas or Polars: `quant sql --csv ... > file.csv`,\n"
        "or `quant export` (CSV or Parquet).\n"
        "\n"
        "What may run: exactly one query: SELECT, WITH ... SELECT, FROM ..., VALUES,\n"
        "SHOW, DESCRIBE t, SUMMARIZE t, a reading PRAGMA (PRAGMA table_info('t'),\n"
        "show_tables, database_size, version), or EXPLAIN of one. The store is\n"
        "opened read-only with DuckDB's file and network access off, so a query\n"
        "reads the store's tables and nothing else: no read_csv/read_text/glob of\n"
        "files, no COPY, EXPORT, ATTACH, INSTALL/LOAD, SET, CALL or CREATE.\n"
        "\n"
        "Exit codes: 0 done; 2 the query is wrong (syntax, unknown table or column;\n"
        "DuckDB's message is quoted); 4 the statement was refused (not one query,\n"
        "or it reaches outside the store), or the store could not be opened.\n"
        "\n"
        "Tables quant creates (the list below the usage shows this store's own):\n"
        "  ohlcv             symbol, date, open, high, low, close, adj_close, volume,\n"
        "                    dividend, split_coefficient, source, ingested_at, quality\n"
        "                    (bits: 1/2/4 open/high/low repaired, 8 gap before,\n"
        "                    16 adjustment carried, 32 split-like jump before)\n"
        "  features_tech_v1, features_alpha158\n"
        "                    symbol, date, then one DOUBLE column per feature\n"
        "  features_daily    (view) symbol, date, feature, value, version: every\n"
        "                    feature value as one row\n"
        "  labels            symbol, date, horizon, fwd_return, label\n"
        "  predictions       symbol, date, model_id, score, segment (train, embargo,\n"
        "                    valid, test, unlabelled or unseen for that model)\n"
        "  derived_state     symbol, kind, input_fingerprint, rows, n_values,\n"
        "                    first_date, last_date, computed_at\n"
        "  quant_meta        key, value\n"
        "Symbols and models live in the metadata store: see `quant symbols list`\n"
        "and `quant models list`.\n"
        "\n"
        "Examples:\n"
        "  quant sql \"SELECT symbol, count(*) FROM ohlcv GROUP BY symbol\"\n"
        "  quant sql \"DESCRIBE features_tech_v1\"\n"
        "  quant sql --csv \"SELECT * FROM features_tech_v1\" > features.csv\n",
    .run = run,
    .open = CLI_OPEN_READ,
    .help_more = help_tables,
};
