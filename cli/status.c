/* status.c: `quant status`: per symbol, what is stored and how the last ingest went. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "opts.h"
#include "table.h"
#include "quant/feature_sets.h"
#include "quant/status.h"
#include "quant/clock.h"
#include "core/banned.h"

static void fmt_time(int64_t t, char *out, size_t n)
{
    if (t <= 0) {
        snprintf(out, n, "-");
        return;
    }
    quant_utc_format(t, QUANT_UTC_HUMAN, out, n);
}

/* "2,398 repaired, 1 gap, 100 carried" from the quality bits of a symbol's bars; "-" if none. */
static void fmt_quality(const struct quant_series_summary *s, char *out, size_t n)
{
    const long counts[4] = {s->repaired, s->gaps, s->jumps, s->carried};
    const char *words[4][2] = {{"repaired", "repaired"}, {"gap", "gaps"}, {"jump", "jumps"},
                               {"carried", "carried"}};
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < 4; k++) {
        if (!counts[k])
            continue;
        char c[32];
        cli_fmt_count(counts[k], c, sizeof c);
        int w = snprintf(out + used, n - used, "%s%s %s", used ? ", " : "", c,
                         words[k][counts[k] != 1]);
        if (w > 0 && (size_t)w < n - used)
            used += (size_t)w;
    }
    if (!used)
        snprintf(out, n, "-");
}

/* One line each for walk-forward runs and evaluations, the newest named. */
static void print_research(struct cli_ctx *ctx, const struct quant_research_status *r)
{
    if (r->wf_runs > 0) {
        char p[32];
        cli_fmt_count(r->wf_predictions, p, sizeof p);
        fprintf(ctx->out, "\nWalk-forward runs: %ld; newest %s (%s: %ld blocks, %s scores)\n",
                r->wf_runs, r->wf_latest, r->wf_state, r->wf_blocks, p);
    }
    if (r->evaluations > 0)
        fprintf(ctx->out, "%sEvaluations: %ld; newest %s of %s: rank IC %.4f (NW t %.1f), "
                          "Sharpe %.2f net vs benchmark %.2f, excess %+.2f%% a year\n",
                r->wf_runs > 0 ? "" : "\n", r->evaluations, r->ev_latest, r->ev_target,
                r->ev_rank_ic, r->ev_rank_ic_tstat_nw, r->ev_sharpe, r->ev_bench_sharpe,
                100.0 * r->ev_excess);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    int json = 0;
    const struct cli_opt opts[] = {{"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL}};
    int rc = cli_parse(ctx, &cmd_status, argc, argv, opts, CLI_NOPTS(opts), NULL);
    if (rc)
        return rc;
    enum cli_format fmt = json ? CLI_FMT_JSON : CLI_FMT_TABLE;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_symbol_status *st = NULL;
    size_t n = 0;
    char busy[QUANT_ERR_MSG_MAX];
    struct quant_workspace *ws = NULL;
    if (cli_workspace(ctx, cmd_status.open, &ws, &err) ||
        quant_status(ws, &st, &n, busy, sizeof busy, &err)) {
        quant_workspace_close(ws);
        return cli_fail(ctx, "status", &err);
    }
    /* the evaluation half: shown when there is any, never an error of its own */
    struct quant_research_status rs;
    struct quant_err rerr;
    quant_err_clear(&rerr);
    int research = !json && quant_status_research(ws, &rs, &rerr) == QUANT_OK &&
                   (rs.wf_runs > 0 || rs.evaluations > 0);
    /* Where this came from: on a shared registry or lake that is not obvious. */
    char url[1024], stores[2600];
    quant_config_display(&ctx->cfg, QUANT_SET_META_URL, url, sizeof url);
    const char *lake = quant_workspace_lake(ws), *meta_file = quant_meta_url_sqlite_path(url);
    snprintf(stores, sizeof stores, "Stores: series in %s %s; registry in %s %s\n",
             lake ? "the Parquet lake" : "DuckDB",
             lake ? lake : quant_config_get(&ctx->cfg, QUANT_SET_DUCKDB_PATH),
             meta_file ? "SQLite" : "PostgreSQL", meta_file ? meta_file : url);
    quant_workspace_close(ws);
    if (busy[0])
        fprintf(ctx->err, "note: the series store is busy, so bars, derived data and "
                "predictions are not shown (the registry is): %s\n", busy);

    /* Columns: identity, bars, last ingest, then one per feature set and labels. */
    size_t nsets = quant_feature_set_count();
    if (nsets > QUANT_STATUS_MAX_SETS)
        nsets = QUANT_STATUS_MAX_SETS;
    const char *names[9 + QUANT_STATUS_MAX_SETS + 4];
    int numeric[9 + QUANT_STATUS_MAX_SETS + 4];
    size_t nc = 0;
    const char *fixed[] = {"symbol", "name", "bars", "first", "last", "quality", "last ingest",
                           "status"};
    const int fixed_num[] = {0, 0, 1, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < 8; i++) {
        numeric[nc] = fixed_num[i];
        names[nc++] = fixed[i];
    }
    for (size_t k = 0; k < nsets; k++) {
        numeric[nc] = 1;
        names[nc++] = quant_feature_set_name(quant_feature_set_at(k));
    }
    numeric[nc] = 1;
    names[nc++] = "labels";
    numeric[nc] = 1;
    names[nc++] = "predictions";
    numeric[nc] = 0;
    names[nc++] = "latest model: test AUC (chance 0.5), accuracy (baseline)";
    numeric[nc] = 0;
    names[nc++] = "error";
    struct cli_table t;
    int oom = cli_table_init(&t, nc, names, numeric);
    long total = 0;
    int any_stale = 0, any_warning = 0, any_quality = 0, any_on_read = 0;
    char cells[QUANT_STATUS_MAX_SETS + 1][48];
    for (size_t i = 0; i < n && !oom; i++) {
        char bars[32], first[11] = "-", last[11] = "-", when[32] = "-";
        cli_fmt_count(st[i].series.bars, bars, sizeof bars);
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
            status = st[i].last_run.status;
            error = st[i].last_run.error;
        }
        for (size_t k = 0; k <= nsets; k++) {
            const struct quant_derived_status *d = k < nsets ? &st[i].sets[k] : &st[i].labels;
            char count[32];
            cli_fmt_count(k < nsets ? d->values : d->rows, count, sizeof count);
            /* Never counted is not missing: train, score and sql compute it
             * from the bars whenever they read them. */
            if (!d->present)
                snprintf(cells[k], sizeof cells[k], "%s", st[i].series.bars ? "on read" : "-");
            else if (k == nsets)
                snprintf(cells[k], sizeof cells[k], "%s h%d%s", count, d->horizon,
                         d->stale ? " *" : "");
            else
                snprintf(cells[k], sizeof cells[k], "%s%s", count, d->stale ? " *" : "");
            any_stale |= d->present && d->stale;
            any_on_read |= !d->present && st[i].series.bars;
        }
        char name[80];
        snprintf(name, sizeof name, "%s%s", st[i].info.name,
                 st[i].registered ? (st[i].active ? "" : " (inactive)") : " (unregistered)");
        char preds[48] = "-", model[160] = "-";
        if (st[i].predictions) {
            char c[32], d[11];
            cli_fmt_count(st[i].predictions, c, sizeof c);
            quant_date_format(st[i].predictions_last, d);
            snprintf(preds, sizeof preds, "%s to %s", c, d);
        }
        if (st[i].model_id[0]) {
            snprintf(model, sizeof model, "%s AUC %.4f (0.5), acc %.4f (%.4f)%s",
                     st[i].model_id, st[i].model.auc, st[i].model.accuracy,
                     st[i].model.baseline_accuracy, st[i].model_warning[0] ? " !" : "");
            any_warning |= st[i].model_warning[0] != 0;
        }
        const char *row[9 + QUANT_STATUS_MAX_SETS + 4];
        char quality[96];
        fmt_quality(&st[i].series, quality, sizeof quality);
        any_quality |= quality[0] != '-';
        size_t c = 0;
        row[c++] = st[i].info.symbol;
        row[c++] = name;
        row[c++] = bars;
        row[c++] = first;
        row[c++] = last;
        row[c++] = quality;
        row[c++] = when;
        row[c++] = status;
        for (size_t k = 0; k <= nsets; k++)
            row[c++] = cells[k];
        row[c++] = preds;
        row[c++] = model;
        row[c++] = error;
        oom = cli_table_add(&t, row);
    }
    if (oom) {
        fprintf(ctx->err, "quant status: out of memory\n");
        cli_table_release(&t);
        free(st);
        return CLI_EXIT_FAILED;
    }
    if (n == 0 && fmt == CLI_FMT_TABLE && busy[0]) {
        fprintf(ctx->out, "No symbols registered yet; the process writing the store may be "
                          "adding some: run `quant status` again when it has finished.\n");
    } else if (n == 0 && fmt == CLI_FMT_TABLE) {
        fprintf(ctx->out, "No symbols yet: add some with `quant symbols add AAPL`, then "
                          "`quant ingest`.\n");
    } else {
        struct cli_rows rows = cli_table_rows(&t);
        cli_rows_print(ctx->out, &rows, fmt);
        if (fmt == CLI_FMT_TABLE) {
            char c[32];
            cli_fmt_count(total, c, sizeof c);
            fprintf(ctx->out, "\n%zu symbol%s, %s bars\n%s", n, n == 1 ? "" : "s", c, stores);
            if (any_on_read)
                fprintf(ctx->out, "on read: computed from the bars each time train, score, sql "
                                  "or export reads them;\n  `quant features` or `quant labels` "
                                  "counts them here (--materialize also stores them)\n");
            if (any_stale)
                fprintf(ctx->out, "* counted before its bars changed: `quant features` or `quant "
                                  "labels` recounts (train, score and sql always\n  compute "
                                  "from the current bars)\n");
            if (any_quality)
                fprintf(ctx->out, "quality: bars repaired (zero open/high/low), gaps left by "
                                  "dropped bars and unexplained\n  split-like jumps (nothing "
                                  "derived spans either), bars whose adjustment quant carried\n"
                                  "  from the stored history (the file had no adjusted close)\n");
            for (size_t i = 0; any_warning && i < n; i++)
                if (st[i].model_warning[0])
                    fprintf(ctx->out, "! %s: %s\n", st[i].model_id, st[i].model_warning);
            if (research)
                print_research(ctx, &rs);
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
        "first and last date, data quality (bars repaired, gaps, split-like jumps,\n"
        "adjustment carried; see README), the last ingest run's time, status and\n"
        "error, the values stored per feature set and the label rows of the horizon\n"
        "computed last, predictions and the latest model. A stage marked * is behind\n"
        "its input: its bars changed after it was computed.\n"
        "\n"
        "It never waits for a writer: while another process (an ingest, a training)\n"
        "holds the series store, it shows what the registry knows and says who\n"
        "holds the store.\n",
    .run = run,
    .open = CLI_OPEN_READ,
};
