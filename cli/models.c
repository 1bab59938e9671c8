/* models.c: `quant models list|show`: the model registry. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "table.h"
#include "quant/market_data.h"
#include "quant/buf.h"
#include "quant/meta_store.h"
#include "quant/metrics.h"
#include "core/banned.h"

static void fmt_created(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* "AAPL, NVDA" from the registry's ["AAPL","NVDA"] (malloc'd; NULL if not a list). */
static char *symbols_text(const char *json)
{
    cJSON *a = cJSON_Parse(json);
    struct quant_buf b;
    quant_buf_init(&b, 0);
    const cJSON *x;
    int ok = cJSON_IsArray(a);
    cJSON_ArrayForEach(x, a) {
        if (ok && cJSON_IsString(x))
            ok = quant_buf_printf(&b, "%s%s", b.len ? ", " : "", x->valuestring) == QUANT_OK;
    }
    cJSON_Delete(a);
    if (!ok || !b.data) {
        quant_buf_release(&b);
        return NULL;
    }
    return b.data; /* the buffer's storage is the caller's now */
}

/* The registry as a JSON array, each stored JSON field parsed (symbols is an
 * array, metrics and params objects), so scripts need no second parse. */
static int print_json_list(struct cli_ctx *ctx, const struct quant_model_record *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        char created[32], warn[256] = "";
        struct quant_metrics m;
        struct quant_err err;
        if (quant_metrics_from_json(v[i].metrics_json, &m, &err) == QUANT_OK)
            quant_metrics_warning(&m, warn, sizeof warn);
        fmt_created(v[i].created_at, created, sizeof created);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return 1;
        }
        cJSON_AddStringToObject(o, "id", v[i].id);
        cJSON_AddStringToObject(o, "algorithm", v[i].algorithm);
        cJSON_AddStringToObject(o, "feature_set", v[i].feature_set);
        cJSON_AddNumberToObject(o, "horizon", v[i].horizon);
        cJSON *syms = cJSON_Parse(v[i].symbols_json);
        cJSON_AddItemToObject(o, "symbols", syms ? syms : cJSON_CreateArray());
        cJSON *met = cJSON_Parse(v[i].metrics_json);
        cJSON_AddItemToObject(o, "metrics", met ? met : cJSON_CreateNull());
        cJSON *par = cJSON_Parse(v[i].params_json);
        cJSON_AddItemToObject(o, "params", par ? par : cJSON_CreateNull());
        if (warn[0])
            cJSON_AddStringToObject(o, "warning", warn);
        else
            cJSON_AddNullToObject(o, "warning");
        cJSON_AddStringToObject(o, "created_at", created);
        cJSON_AddStringToObject(o, "path", v[i].path);
    }
    char *text = arr ? cJSON_Print(arr) : NULL;
    cJSON_Delete(arr);
    if (!text)
        return 1;
    fprintf(ctx->out, "%s\n", text);
    free(text);
    return 0;
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
    int oom = 0;
    if (fmt == CLI_FMT_JSON) {
        oom = print_json_list(ctx, v, n);
        for (size_t i = 0; i < n; i++)
            quant_model_record_release(&v[i]);
        free(v);
        return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    }
    /* Each metric beside what it must beat: AUC beside chance (0.5),
     * accuracy beside the baseline (always train's majority class). */
    const char *names[] = {"id", "algorithm", "features", "horizon", "symbols", "auc (0.5)",
                           "accuracy", "baseline", "created", "warning"};
    const int numeric[] = {0, 0, 0, 1, 0, 1, 1, 1, 0, 0};
    struct cli_table t;
    oom = cli_table_init(&t, 10, names, numeric);
    for (size_t i = 0; i < n && !oom; i++) {
        char h[16], auc[16], acc[16], base[16], created[32], warn[256] = "";
        struct quant_metrics m;
        if (quant_metrics_from_json(v[i].metrics_json, &m, &err) == QUANT_OK)
            quant_metrics_warning(&m, warn, sizeof warn);
        else
            m.auc = m.accuracy = m.baseline_accuracy = 0.0 / 0.0;
        snprintf(h, sizeof h, "%d", v[i].horizon);
        snprintf(auc, sizeof auc, "%.4f", m.auc);
        snprintf(acc, sizeof acc, "%.4f", m.accuracy);
        snprintf(base, sizeof base, "%.4f", m.baseline_accuracy);
        fmt_created(v[i].created_at, created, sizeof created);
        char *syms = symbols_text(v[i].symbols_json);
        const char *row[] = {v[i].id, v[i].algorithm, v[i].feature_set, h,
                             syms ? syms : v[i].symbols_json, auc, acc, base, created, warn};
        oom = cli_table_add(&t, row);
        free(syms);
    }
    if (!oom) {
        if (n == 0) {
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

/*
 * "latest" is the newest model, or with --symbol S the newest trained on S:
 * the same words `quant score --model latest` takes.
 */
static enum quant_code resolve_latest(struct quant_md *md, const char *symbol, char id[96],
                                      struct quant_err *err)
{
    struct quant_model_record *v = NULL;
    size_t n = 0;
    enum quant_code rc = quant_meta_model_list(quant_md_meta(md), symbol, &v, &n, err);
    if (!rc && n == 0)
        rc = symbol ? quant_err_set(err, QUANT_ENOTFOUND, "no model has been trained on %s: "
                                    "run `quant train --symbols %s`", symbol, symbol)
                    : quant_err_set(err, QUANT_ENOTFOUND, "no model is registered yet: run "
                                    "`quant train --symbols AAPL`");
    if (!rc)
        snprintf(id, 96, "%s", v[0].id);
    for (size_t i = 0; i < n; i++)
        quant_model_record_release(&v[i]);
    free(v);
    return rc;
}

static int cmd_show(struct cli_ctx *ctx, struct quant_md *md, int argc, char **argv)
{
    const char *id_arg = NULL, *symbol = NULL;
    for (int i = 2; i < argc; i++) {
        int r = cli_opt_value(argc, argv, &i, "--symbol", &symbol);
        if (r < 0)
            return cli_usage_error(ctx, &cmd_models, "--symbol needs a symbol");
        if (r == 0 && !id_arg && strncmp(argv[i], "--", 2) != 0)
            id_arg = argv[i];
        else if (r == 0)
            return cli_usage_error(ctx, &cmd_models, "models show takes one model id (or "
                                                     "latest [--symbol S])");
    }
    if (!id_arg)
        return cli_usage_error(ctx, &cmd_models, "models show takes one model id (or latest "
                                                 "[--symbol S])");
    struct quant_err err;
    quant_err_clear(&err);
    char sym[QUANT_SYMBOL_MAX + 1], id[96];
    if (symbol) {
        snprintf(sym, sizeof sym, "%s", symbol);
        if (strlen(symbol) > QUANT_SYMBOL_MAX || quant_symbol_normalize(sym, &err))
            return cli_usage_error(ctx, &cmd_models, "'%s' is not a valid symbol", symbol);
    }
    snprintf(id, sizeof id, "%s", id_arg);
    if (strcmp(id_arg, "latest") == 0 && resolve_latest(md, symbol ? sym : NULL, id, &err))
        return cli_fail(ctx, "models show", &err);
    struct quant_model_record r;
    if (quant_meta_model_get(quant_md_meta(md), id, &r, &err))
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
    struct quant_metrics m;
    char warn[256];
    if (quant_metrics_from_json(r.metrics_json, &m, &err) == QUANT_OK &&
        quant_metrics_warning(&m, warn, sizeof warn))
        fprintf(ctx->out, "warning:     %s\n", warn);
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
        "       quant models show ID | latest [--symbol S]\n"
        "\n"
        "list: newest first, with the test AUC (beside chance, 0.5) and accuracy (beside\n"
        "the baseline: train's majority class), and a warning when the model predicts\n"
        "one class only or beats neither. --json prints an array of objects.\n"
        "show: params, every metric (test segment), the train/valid/test segments of\n"
        "each symbol, the feature names in model order, the file path.\n",
    .run = run,
};
