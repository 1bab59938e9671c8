/* models.c: `quant models list|show`: the model registry. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "table.h"
#include "quant/market_data.h"
#include "quant/meta_store.h"
#include "core/banned.h"

static double metric(const char *json, const char *key)
{
    cJSON *j = cJSON_Parse(json);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.0 / 0.0;
    cJSON_Delete(j);
    return d;
}

static void fmt_created(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int cmd_list(struct cli_ctx *ctx, struct quant_md *md, int argc, char **argv)
{
    const char *symbol = NULL;
    enum cli_format fmt = CLI_FMT_TABLE;
    for (int i = 2; i < argc; i++) {
        int r = cli_opt_value(argc, argv, &i, "--symbol", &symbol);
        if (r < 0)
            return cli_usage_error(ctx, &cmd_models, "--symbol needs a symbol");
        if (r == 0 && strcmp(argv[i], "--json") == 0)
            fmt = CLI_FMT_JSON;
        else if (r == 0)
            return cli_usage_error(ctx, &cmd_models, "unexpected argument '%s'", argv[i]);
    }
    char sym[QUANT_SYMBOL_MAX + 1];
    struct quant_err err;
    quant_err_clear(&err);
    if (symbol) {
        snprintf(sym, sizeof sym, "%s", symbol);
        if (strlen(symbol) > QUANT_SYMBOL_MAX || quant_symbol_normalize(sym, &err))
            return cli_usage_error(ctx, &cmd_models, "'%s' is not a valid symbol", symbol);
    }
    struct quant_model_record *v = NULL;
    size_t n = 0;
    if (quant_meta_model_list(quant_md_meta(md), symbol ? sym : NULL, &v, &n, &err))
        return cli_fail(ctx, "models list", &err);
    const char *names[] = {"id", "algorithm", "features", "horizon", "symbols", "auc",
                           "accuracy", "baseline", "created"};
    const int numeric[] = {0, 0, 0, 1, 0, 1, 1, 1, 0};
    struct cli_table t;
    int oom = cli_table_init(&t, 9, names, numeric);
    for (size_t i = 0; i < n && !oom; i++) {
        char h[16], auc[16], acc[16], base[16], created[32];
        snprintf(h, sizeof h, "%d", v[i].horizon);
        snprintf(auc, sizeof auc, "%.4f", metric(v[i].metrics_json, "auc"));
        snprintf(acc, sizeof acc, "%.4f", metric(v[i].metrics_json, "accuracy"));
        snprintf(base, sizeof base, "%.4f", metric(v[i].metrics_json, "baseline_accuracy"));
        fmt_created(v[i].created_at, created, sizeof created);
        const char *row[] = {v[i].id, v[i].algorithm, v[i].feature_set, h, v[i].symbols_json,
                             auc, acc, base, created};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        if (n == 0 && fmt == CLI_FMT_TABLE) {
            fprintf(ctx->out, "No models registered yet: `quant train --symbols AAPL` makes one.\n");
        } else {
            struct cli_rows rows = cli_table_rows(&t);
            cli_rows_print(ctx->out, &rows, fmt);
        }
    }
    cli_table_release(&t);
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&v[i]);
    free(v);
    return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

static void print_json_block(FILE *f, const char *title, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    char *pretty = j ? cJSON_Print(j) : NULL;
    fprintf(f, "%s: %s\n", title, pretty ? pretty : json);
    free(pretty);
    cJSON_Delete(j);
}

static int cmd_show(struct cli_ctx *ctx, struct quant_md *md, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error(ctx, &cmd_models, "models show takes one model id");
    struct quant_model_record r;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_meta_model_get(quant_md_meta(md), argv[2], &r, &err))
        return cli_fail(ctx, "models show", &err);
    char created[32];
    fmt_created(r.created_at, created, sizeof created);
    fprintf(ctx->out, "id:          %s\nalgorithm:   %s\nfeatures:    %s\nhorizon:     %d\n"
                      "symbols:     %s\ncreated:     %s\npath:        %s\n"
                      "fingerprint: %s\n",
            r.id, r.algorithm, r.feature_set, r.horizon, r.symbols_json, created, r.path,
            r.fingerprint);
    print_json_block(ctx->out, "params", r.params_json);
    print_json_block(ctx->out, "metrics (test segment)", r.metrics_json);
    print_json_block(ctx->out, "segments", r.segments_json);
    print_json_block(ctx->out, "feature names", r.feature_names_json);
    quant_model_record_release(&r);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(ctx, &cmd_models, "missing subcommand (list or show)");
    int is_list = strcmp(argv[1], "list") == 0, is_show = strcmp(argv[1], "show") == 0;
    if (!is_list && !is_show)
        return cli_usage_error(ctx, &cmd_models, "unknown subcommand '%s'", argv[1]);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_md *md = NULL;
    if (quant_md_open(&ctx->cfg, &md, &err))
        return cli_fail(ctx, "models", &err);
    int rc = is_list ? cmd_list(ctx, md, argc, argv) : cmd_show(ctx, md, argc, argv);
    quant_md_close(md);
    return rc;
}

const struct cli_command cmd_models = {
    .name = "models",
    .summary = "list and show registered models",
    .usage =
        "usage: quant models list [--symbol S] [--json]\n"
        "       quant models show ID\n"
        "\n"
        "list: newest first, with the test AUC and accuracy beside the baseline.\n"
        "show: params, every metric (test segment), the train/valid/test segments of\n"
        "each symbol, the feature names in model order, the file path.\n",
    .run = run,
};
