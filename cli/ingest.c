/* ingest.c: `quant ingest`: fetch daily bars and store them. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/ingest.h"
#include "core/banned.h"

struct ingest_view {
    struct cli_ctx *ctx;
    size_t registered;               /* symbols this run added to the registry */
    char registered_names[256];      /* the first few of them */
    enum quant_code first_failure;   /* to pick the exit code */
    int mixed_failures;
};

static void on_start(void *p, const char *symbol, size_t done, size_t total)
{
    struct ingest_view *v = p;
    cli_progress(v->ctx, symbol, done, total);
}

/* A split ratio as people write it: 2 -> "2-for-1", 0.1 -> "1-for-10", 1.5 -> "3-for-2". */
static void split_words(double k, char *out, size_t n)
{
    if (k >= 1)
        snprintf(out, n, k == 1.5 ? "3-for-2" : "%g-for-1", k);
    else
        snprintf(out, n, k > 0.6 ? "2-for-3" : "1-for-%g", 1 / k);
}

/* What quant repaired, carried, replaced or will not span, for one symbol. */
static void print_quality(struct cli_ctx *ctx, const struct quant_ingest_result *r)
{
    char n[32], d[11];
    if (r->replaced && r->replaced_sources[0])
        fprintf(ctx->err, "note: %s: replaced its history from %s (its predictions and any "
                          "stored features and labels were deleted; features computed on read "
                          "follow the new bars)\n",
                r->symbol, r->replaced_sources);
    if (r->repaired) {
        cli_fmt_count((long)r->repaired, n, sizeof n);
        quant_date_format(r->first_repaired, d);
        fprintf(ctx->err, "note: %s: repaired %s bar%s with a zero, missing or inconsistent "
                          "open/high/low (first %s): open = previous close within [low, high], "
                          "marked in ohlcv.quality\n",
                r->symbol, n, r->repaired == 1 ? "" : "s", d);
    }
    if (r->gaps)
        fprintf(ctx->err, "note: %s: the skipped bars leave %zu gap%s; no return, feature or "
                          "label spans %s\n",
                r->symbol, r->gaps, r->gaps == 1 ? "" : "s", r->gaps == 1 ? "it" : "them");
    if (r->adj_carried) {
        cli_fmt_count(r->adj_carried, n, sizeof n);
        fprintf(ctx->err, "note: %s: %s bar%s came without an adjusted close; the stored "
                          "adjustment was carried onto them\n",
                r->symbol, n, r->adj_carried == 1 ? "" : "s");
    }
    if (r->jumps) {
        char k[32];
        split_words(r->first_jump_ratio, k, sizeof k);
        quant_date_format(r->first_jump, d);
        fprintf(ctx->err, "warning: %s: %ld overnight move%s look%s like a split no source "
                          "explained (first %s, like a %s); nothing derived spans %s. To adjust "
                          "for it, ingest adjusted bars over it: `--adjusted` (premium key), or "
                          "a CSV with Adj Close and `--replace`\n",
                r->symbol, r->jumps, r->jumps == 1 ? "" : "s", r->jumps == 1 ? "s" : "",
                d, k, r->jumps == 1 ? "it" : "them");
    }
}

void cli_print_ingest_result(struct cli_ctx *ctx, const struct quant_ingest_result *r)
{
    cli_progress_clear(ctx);
    if (r->warning[0])
        fprintf(ctx->err, "warning: %s: %s\n", r->symbol, r->warning);
    if (r->bad_rows)
        fprintf(ctx->err, "warning: %s: skipped %zu invalid bar%s (first: %s)\n", r->symbol,
                r->bad_rows, r->bad_rows == 1 ? "" : "s", r->bad_example);
    if (r->code) {
        fprintf(ctx->err, "Failed %s: %s\n", r->symbol, r->error);
        return;
    }
    char rows[32], ins[32], upd[32], same[32];
    cli_fmt_count(r->rows, rows, sizeof rows);
    cli_fmt_count(r->inserted, ins, sizeof ins);
    cli_fmt_count(r->updated, upd, sizeof upd);
    cli_fmt_count(r->unchanged, same, sizeof same);
    print_quality(ctx, r);
    fprintf(ctx->out, "Ingested %s row%s for %s (%s new, %s updated, %s unchanged; %s)\n",
            rows, r->rows == 1 ? "" : "s", r->symbol, ins, upd, same, r->mode);
}

static void on_result(void *p, const struct quant_ingest_result *r)
{
    struct ingest_view *v = p;
    cli_print_ingest_result(v->ctx, r);
    if (r->registered_now) {
        /* one note for the run, not a line per symbol of a 500-file folder */
        size_t used = strlen(v->registered_names);
        if (v->registered < 8)
            snprintf(v->registered_names + used, sizeof v->registered_names - used, " %s",
                     r->symbol);
        v->registered++;
    }
    if (r->code) {
        if (!v->first_failure)
            v->first_failure = r->code;
        else if (v->first_failure != r->code)
            v->mixed_failures = 1;
    }
}

static void on_note(void *p, const char *text)
{
    struct ingest_view *v = p;
    cli_progress_clear(v->ctx);
    fprintf(v->ctx->err, "warning: %s\n", text);
}

/* The command that picks up where a stopped run left off.  Symbols named on
 * the command line are named again (they are registered, so a bare
 * `quant ingest` would reach them too, but only after every other active
 * symbol); without them, the stalest go first, which is where it stopped. */
static void print_resume(struct cli_ctx *ctx, const struct quant_ingest_request *req,
                         const struct quant_ingest_summary *s)
{
    fprintf(ctx->err, "To finish, run after midnight UTC:\n  %s ingest", ctx->argv0);
    if (req->mode == QUANT_INGEST_FULL)
        fprintf(ctx->err, " --full");
    else if (req->mode == QUANT_INGEST_COMPACT)
        fprintf(ctx->err, " --compact");
    if (req->n_symbols) {
        fprintf(ctx->err, " --symbols");
        for (size_t i = 0; i < s->n_left; i++)
            fprintf(ctx->err, " %s", s->left[i]);
    }
    fprintf(ctx->err, "\n");
}

static int parse(struct cli_ctx *ctx, int argc, char **argv, struct quant_ingest_request *req,
                 struct cli_symbols *symbols)
{
    const char *provider = NULL;
    int days = 0, seed = 0, full = 0, compact = 0;
    const struct cli_opt opts[] = {
        {"--provider", NULL, CLI_OPT_STRING, &provider, 0, 0, "alphavantage, csv or synthetic"},
        {"--csv", NULL, CLI_OPT_STRING, &req->csv_path, 0, 0, "a file or folder"},
        {"--days", NULL, CLI_OPT_INT, &days, 1, 100000, NULL},
        {"--seed", NULL, CLI_OPT_INT, &seed, 1, 2147483647L, "a positive integer"},
        {"--full", NULL, CLI_OPT_FLAG, &full, 0, 0, NULL},
        {"--compact", NULL, CLI_OPT_FLAG, &compact, 0, 0, NULL},
        {"--replace", NULL, CLI_OPT_FLAG, &req->replace, 0, 0, NULL},
        {"--adjusted", NULL, CLI_OPT_FLAG, &req->adjusted, 0, 0, NULL},
    };
    int rc = cli_parse(ctx, &cmd_ingest, argc, argv, opts, CLI_NOPTS(opts), symbols);
    if (rc)
        return rc;
    int provider_set = provider != NULL;
    if (provider) {
        int p = quant_ingest_provider_parse(provider);
        if (p < 0)
            return cli_usage_error(ctx, &cmd_ingest,
                                   "--provider takes alphavantage, csv or synthetic");
        req->provider = p;
    }
    if (full && compact)
        return cli_usage_error(ctx, &cmd_ingest, "give --full or --compact, not both");
    req->mode = full ? QUANT_INGEST_FULL : compact ? QUANT_INGEST_COMPACT : req->mode;
    req->synthetic_days = days;
    req->synthetic_seed = (uint64_t)seed;
    rc = cli_symbols_finish(ctx, &cmd_ingest, symbols);
    if (rc)
        return rc;
    if (!provider_set && req->csv_path)
        req->provider = QUANT_INGEST_CSV;
    if (req->adjusted && req->provider != QUANT_INGEST_ALPHAVANTAGE)
        return cli_usage_error(ctx, &cmd_ingest, "--adjusted goes with --provider alphavantage");
    if (req->csv_path && req->provider != QUANT_INGEST_CSV)
        return cli_usage_error(ctx, &cmd_ingest, "--csv goes with --provider csv");
    if (req->provider == QUANT_INGEST_CSV && !req->csv_path)
        return cli_usage_error(ctx, &cmd_ingest, "--provider csv needs --csv FILE_OR_FOLDER");
    if (req->provider == QUANT_INGEST_ALPHAVANTAGE &&
        !*quant_config_get(&ctx->cfg, QUANT_SET_API_KEY)) {
        fprintf(ctx->err,
                "quant ingest: no Alpha Vantage API key: set ALPHAVANTAGE_API_KEY (or "
                "alphavantage_api_key in %s),\nor ingest offline with `--provider csv --csv "
                "FILE` or `--provider synthetic`.\n",
                ctx->cfg.conf_path);
        return CLI_EXIT_CONFIG;
    }
    req->symbols = (const char *const *)symbols->list.v;
    req->n_symbols = symbols->list.n;
    return CLI_EXIT_OK;
}

static int report(struct cli_ctx *ctx, const struct quant_ingest_request *req,
                  const struct quant_ingest_summary *s, const struct ingest_view *v)
{
    char rows[32], ins[32], upd[32];
    cli_fmt_count(s->rows, rows, sizeof rows);
    cli_fmt_count(s->inserted, ins, sizeof ins);
    cli_fmt_count(s->updated, upd, sizeof upd);
    fprintf(ctx->out, "Done: %zu of %zu symbol%s ingested, %zu failed; %s row%s (%s new, "
                      "%s updated) in %.2f s",
            s->n_ok, s->n_symbols, s->n_symbols == 1 ? "" : "s", s->n_failed, rows,
            s->rows == 1 ? "" : "s", ins, upd, s->seconds);
    if (s->requests)
        fprintf(ctx->out, "; %ld API request%s", s->requests, s->requests == 1 ? "" : "s");
    fprintf(ctx->out, "\n");
    if (s->n_left) {
        fprintf(ctx->err, "Stopped: the daily request budget is spent. Not ingested:");
        for (size_t i = 0; i < s->n_left; i++)
            fprintf(ctx->err, " %s", s->left[i]);
        fprintf(ctx->err, "\nThey are registered; nothing was lost. Raise daily_budget in "
                          "quant.conf (or QUANT_DAILY_BUDGET) if your plan allows more.\n");
        print_resume(ctx, req, s);
        return CLI_EXIT_BUDGET;
    }
    if (s->n_failed == 0)
        return CLI_EXIT_OK;
    if (s->n_ok == 0 && !v->mixed_failures)
        return cli_exit_for(v->first_failure);
    return CLI_EXIT_FAILED;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_ingest_request req;
    memset(&req, 0, sizeof req);
    req.provider = QUANT_INGEST_ALPHAVANTAGE;
    req.mode = QUANT_INGEST_AUTO;
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    symbols.shardable = 1;
    int rc = parse(ctx, argc, argv, &req, &symbols);
    if (rc || symbols.shard_empty) {
        cli_symbols_release(&symbols);
        return rc;
    }
    req.shard = symbols.shard;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    if (cli_workspace(ctx, cmd_ingest.open, &ws, &err)) {
        cli_symbols_release(&symbols);
        return cli_fail(ctx, "ingest", &err);
    }
    struct ingest_view view;
    memset(&view, 0, sizeof view);
    view.ctx = ctx;
    struct quant_ingest_observer obs = {on_start, on_result, &view, on_note};
    struct quant_ingest_summary summary;
    enum quant_code code = quant_ingest(ws, &req, &obs, &summary, &err);
    cli_progress_clear(ctx);
    if (view.registered)
        fprintf(ctx->err, "note: registered %zu new symbol%s:%s%s\n", view.registered,
                view.registered == 1 ? "" : "s", view.registered_names,
                view.registered > 8 ? " ..." : "");
    if (code)
        rc = cli_fail(ctx, "ingest", &err);
    else
        rc = report(ctx, &req, &summary, &view);
    quant_ingest_summary_release(&summary);
    rc = cli_close_workspace(ctx, "ingest", ws, rc);
    cli_symbols_release(&symbols);
    return rc;
}

const struct cli_command cmd_ingest = {
    .name = "ingest",
    .summary = "fetch daily bars (Alpha Vantage, CSV or synthetic) into the store",
    .usage =
        "usage: quant ingest [--symbols S ... | --all] [--provider alphavantage|csv|synthetic]\n"
        "                    [--full | --compact] [--csv PATH] [--days N] [--seed N]\n"
        "                    [--replace] [--adjusted] [--shard i/n]\n"
        "\n"
        "Fetches daily OHLCV and upserts it into the DuckDB store (re-running changes\n"
        "nothing; changed values are updated in place). Each symbol is stored in one\n"
        "transaction, so a failure or interruption never leaves a half-written symbol;\n"
        "one symbol failing does not stop the others.\n"
        "\n"
        "  --symbols S ...   symbols to ingest (also A,B,C, or @FILE: one per line,\n"
        "                    '#' comments); default: every active registered symbol\n"
        "                    (csv: every symbol in the files). Every symbol asked for\n"
        "                    is registered before the first fetch.\n"
        "  --all             every active registered symbol (a symbol Alpha Vantage\n"
        "                    does not know is made inactive; `symbols add` revives it)\n"
        "  --provider P      alphavantage (default; needs ALPHAVANTAGE_API_KEY), csv, or\n"
        "                    synthetic (a seeded offline market)\n"
        "  --full            all history; --compact: the last 100 days. Default: compact\n"
        "                    when the newest stored bar is recent (compact_window_days),\n"
        "                    else full. A free key only gets compact: full falls back\n"
        "                    to compact with a warning.\n"
        "  --csv PATH        a CSV file or a folder of them (Yahoo, yfinance, Stooq,\n"
        "                    Alpha Vantage, or a long file with a symbol column);\n"
        "                    implies --provider csv. Without a symbol column the\n"
        "                    symbol comes from --symbols, else the file name.\n"
        "  --days N, --seed N  synthetic history length (default 6500) and seed (42)\n"
        "  --replace         replace each symbol's stored history (and its features,\n"
        "                    labels, predictions) with this source's bars, fetched in\n"
        "                    full unless --compact is given. Without it,\n"
        "                    bars from another source are refused: one lineage per\n"
        "                    symbol (a CSV history topped up by alphavantage is one).\n"
        "  --adjusted        alphavantage: TIME_SERIES_DAILY_ADJUSTED (premium keys;\n"
        "                    also `adjusted = true` in quant.conf): adjusted closes,\n"
        "                    dividends and splits as published\n"
        "\n"
        "Alpha Vantage requests are counted per UTC day; when daily_budget (default 25)\n"
        "is spent the run stops cleanly, stalest symbols having gone first, and names\n"
        "the symbols left (exit code 6).\n"
        CLI_SHARD_USAGE,
    .run = run,
    .open = CLI_OPEN_WRITE,
};
