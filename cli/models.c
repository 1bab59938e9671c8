/* models.c: `quant models list|show`: the model registry (models.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "table.h"
#include "quant/clock.h"
#include "quant/models.h"
#include "core/banned.h"

/* A stored JSON field as a JSON value of the output (null when unreadable). */
static void add_stored(cJSON *o, const char *key, const char *json, int array)
{
    cJSON *v = cJSON_Parse(json);
    cJSON_AddItemToObject(o, key, v ? v : array ? cJSON_CreateArray() : cJSON_CreateNull());
}

/* The registry as a JSON array, each stored JSON field parsed (symbols is an
 * array, metrics and params objects), so scripts need no second parse. */
static int print_json_list(struct cli_ctx *ctx, const struct quant_model_entry *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        const struct quant_model_record *r = &v[i].rec;
        cJSON *o = cJSON_CreateObject();
        char created[32];
        quant_utc_format(r->created_at, QUANT_UTC_HUMAN, created, sizeof created);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return 1;
        }
        cJSON_AddStringToObject(o, "id", r->id);
        cJSON_AddStringToObject(o, "algorithm", r->algorithm);
        cJSON_AddStringToObject(o, "feature_set", r->feature_set);
        cJSON_AddNumberToObject(o, "horizon", r->horizon);
        add_stored(o, "symbols", r->symbols_json, 1);
        add_stored(o, "metrics", r->metrics_json, 0);
        add_stored(o, "params", r->params_json, 0);
        if (v[i].warning[0])
            cJSON_AddStringToObject(o, "warning", v[i].warning);
        else
            cJSON_AddNullToObject(o, "warning");
        cJSON_AddStringToObject(o, "created_at", created);
        cJSON_AddStringToObject(o, "path", r->path);
    }
    char *text = arr ? cJSON_Print(arr) : NULL;
    cJSON_Delete(arr);
    if (!text)
        return 1;
    fprintf(ctx->out, "%s\n", text);
    free(text);
    return 0;
}

static int print_table(struct cli_ctx *ctx, const struct quant_model_entry *v, size_t n)
{
    if (n == 0) {
        fprintf(ctx->out, "No models registered yet: `quant train --symbols AAPL` makes one.\n");
        return 0;
    }
    /* Each metric beside what it must beat: AUC beside chance (0.5),
     * accuracy beside the baseline (always train's majority class). */
    const char *names[] = {"id", "algorithm", "features", "horizon", "symbols", "auc (0.5)",
                           "accuracy", "baseline", "created", "warning"};
    const int numeric[] = {0, 0, 0, 1, 0, 1, 1, 1, 0, 0};
    struct cli_table t;
    int oom = cli_table_init(&t, 10, names, numeric);
    for (size_t i = 0; i < n && !oom; i++) {
        const struct quant_model_record *r = &v[i].rec;
        char h[16], auc[16], acc[16], base[16], created[32];
        snprintf(h, sizeof h, "%d", r->horizon);
        snprintf(auc, sizeof auc, "%.4f", v[i].metrics.auc);
        snprintf(acc, sizeof acc, "%.4f", v[i].metrics.accuracy);
        snprintf(base, sizeof base, "%.4f", v[i].metrics.baseline_accuracy);
        quant_utc_format(r->created_at, QUANT_UTC_HUMAN, created, sizeof created);
        const char *row[] = {r->id, r->algorithm, r->feature_set, h, v[i].symbols,
                             auc, acc, base, created, v[i].warning};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        struct cli_rows rows = cli_table_rows(&t);
        cli_rows_print(ctx->out, &rows, CLI_FMT_TABLE);
    }
    cli_table_release(&t);
    return oom;
}

static int cmd_list(struct cli_ctx *ctx, struct quant_workspace *ws, int argc, char **argv)
{
    const char *symbol = NULL;
    int json = 0;
    const struct cli_opt opts[] = {
        {"--symbol", NULL, CLI_OPT_STRING, &symbol, 0, 0, "a symbol"},
        {"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL},
    };
    int rc = cli_parse_words(ctx, &cmd_models, argc, argv, 2, opts, CLI_NOPTS(opts), NULL);
    if (rc)
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_model_entry *v = NULL;
    size_t n = 0;
    if (quant_models_list(ws, symbol, &v, &n, &err))
        return err.code == QUANT_EINVAL ? cli_usage_error(ctx, &cmd_models, "%s", err.msg)
                                        : cli_fail(ctx, "models list", &err);
    int oom = json ? print_json_list(ctx, v, n) : print_table(ctx, v, n);
    quant_models_free(v, n);
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

static int cmd_show(struct cli_ctx *ctx, struct quant_workspace *ws, int argc, char **argv)
{
    const char *symbol = NULL;
    const struct cli_opt opts[] = {
        {"--symbol", NULL, CLI_OPT_STRING, &symbol, 0, 0, "a symbol"},
    };
    struct cli_list words = {0};
    int rc = cli_parse_words(ctx, &cmd_models, argc, argv, 2, opts, CLI_NOPTS(opts), &words);
    const char *id = words.n == 1 ? words.v[0] : NULL;
    cli_list_release(&words); /* id points into argv */
    if (rc)
        return rc;
    if (!id)
        return cli_usage_error(ctx, &cmd_models, "models show takes one model id (or latest "
                                                 "[--symbol S])");
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_model_entry e;
    if (quant_models_get(ws, id, symbol, &e, &err))
        return err.code == QUANT_EINVAL ? cli_usage_error(ctx, &cmd_models, "%s", err.msg)
                                        : cli_fail(ctx, "models show", &err);
    const struct quant_model_record *r = &e.rec;
    char created[32];
    quant_utc_format(r->created_at, QUANT_UTC_HUMAN, created, sizeof created);
    fprintf(ctx->out, "id:          %s\nalgorithm:   %s\nfeatures:    %s\nhorizon:     %d\n"
                      "symbols:     %s\ncreated:     %s\npath:        %s\n"
                      "fingerprint: %s\n",
            r->id, r->algorithm, r->feature_set, r->horizon, r->symbols_json, created, r->path,
            r->fingerprint);
    print_json_block(ctx->out, "params", r->params_json);
    print_json_block(ctx->out, "metrics (test segment)", r->metrics_json);
    if (e.warning[0])
        fprintf(ctx->out, "warning:     %s\n", e.warning);
    print_json_block(ctx->out, "segments", r->segments_json);
    print_json_block(ctx->out, "feature names", r->feature_names_json);
    quant_model_entry_release(&e);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(ctx, &cmd_models, "missing subcommand (list or show)");
    int is_list = strcmp(argv[1], "list") == 0, is_show = strcmp(argv[1], "show") == 0;
    if (!is_list && !is_show)
        return cli_usage_error(ctx, &cmd_models, "unknown subcommand '%s'", argv[1]);
    struct quant_workspace *ws = NULL;
    int rc = cli_open_workspace(ctx, "models", cmd_models.open, &ws);
    if (rc)
        return rc;
    rc = is_list ? cmd_list(ctx, ws, argc, argv) : cmd_show(ctx, ws, argc, argv);
    quant_workspace_close(ws);
    return rc;
}

const struct cli_command cmd_models = {
    .name = "models",
    .summary = "list and show registered models",
    .usage =
        "usage: quant models list [--symbol S] [--json]\n"
        "       quant models show ID | latest [--symbol S]\n"
        "\n"
        "list: newest first, with the test AUC (beside chance, 0.5) and accuracy (beside\n"
        "the baseline: train's majority class), and a warning when the model predicts\n"
        "one class only or beats neither. --json prints an array of objects.\n"
        "show: params, every metric (test segment), the train/valid/test segments of\n"
        "each symbol, the feature names in model order, the file path.\n",
    .run = run,
    .open = CLI_OPEN_READ,
};
