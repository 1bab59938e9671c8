/* status.c: `quant status`: per symbol, what is stored and how the last ingest went. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "table.h"
#include "quant/inspect.h"
#include "core/banned.h"

static void fmt_time(int64_t t, char *out, size_t n)
{
    if (t <= 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    enum cli_format fmt = CLI_FMT_TABLE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            fmt = CLI_FMT_JSON;
        else
            return cli_usage_error(ctx, &cmd_status, "unexpected argument '%s'", argv[i]);
    }
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_symbol_status *st = NULL;
    size_t n = 0;
    if (quant_inspect_status(&ctx->cfg, &st, &n, &err))
        return cli_fail(ctx, "status", &err);

    const char *names[] = {"symbol", "name", "bars", "first", "last",
                           "last ingest", "status", "rows", "error"};
    const int numeric[] = {0, 0, 1, 0, 0, 0, 0, 1, 0};
    struct cli_table t;
    int oom = cli_table_init(&t, 9, names, numeric);
    long total = 0;
    for (size_t i = 0; i < n && !oom; i++) {
        char bars[32], first[11] = "-", last[11] = "-", when[32] = "-", rows[32] = "-";
        snprintf(bars, sizeof bars, "%ld", st[i].series.bars);
        total += st[i].series.bars;
        if (st[i].series.bars > 0) {
            quant_date_format(st[i].series.first_date, first);
            quant_date_format(st[i].series.last_date, last);
        }
        const char *status = "never", *error = "";
        if (st[i].has_run) {
            fmt_time(st[i].last_run.finished_at ? st[i].last_run.finished_at
                                                : st[i].last_run.started_at,
                     when, sizeof when);
            snprintf(rows, sizeof rows, "%ld", st[i].last_run.rows);
            status = st[i].last_run.status;
            error = st[i].last_run.error;
        }
        char name[80];
        snprintf(name, sizeof name, "%s%s", st[i].info.name,
                 st[i].registered ? (st[i].active ? "" : " (inactive)") : " (unregistered)");
        const char *row[] = {st[i].info.symbol, name, bars, first, last,
                             when, status, rows, error};
        oom = cli_table_add(&t, row);
    }
    if (oom) {
        fprintf(ctx->err, "quant status: out of memory\n");
        cli_table_release(&t);
        free(st);
        return CLI_EXIT_FAILED;
    }
    if (n == 0 && fmt == CLI_FMT_TABLE) {
        fprintf(ctx->out, "No symbols yet: add some with `quant symbols add AAPL`, then "
                          "`quant ingest`.\n");
    } else {
        struct cli_rows rows = cli_table_rows(&t);
        cli_rows_print(ctx->out, &rows, fmt);
        if (fmt == CLI_FMT_TABLE) {
            char c[32];
            cli_fmt_count(total, c, sizeof c);
            fprintf(ctx->out, "\n%zu symbol%s, %s bars\n", n, n == 1 ? "" : "s", c);
        }
    }
    cli_table_release(&t);
    free(st);
    return CLI_EXIT_OK;
}

const struct cli_command cmd_status = {
    .name = "status",
    .summary = "show per symbol the bars stored and the last ingest run",
    .usage =
        "usage: quant status [--json]\n"
        "\n"
        "One row per registered symbol (or symbol with stored bars): bars stored,\n"
        "first and last date, and the last ingest run's time, status, rows and error.\n",
    .run = run,
};
