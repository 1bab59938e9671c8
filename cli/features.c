/* features.c: `quant features`: compute versioned feature sets from stored bars. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/features.h"
#include "core/banned.h"

struct view {
    struct cli_ctx *ctx;
    enum quant_code first_failure;
    const char *verb;           /* "Stored" with --materialize, else "Computed" */
};

static void on_result(void *p, const struct quant_derive_result *r)
{
    struct view *v = p;
    char vals[32], rows[32];
    cli_fmt_count(r->values, vals, sizeof vals);
    cli_fmt_count(r->rows, rows, sizeof rows);
    if (r->code) {
        fprintf(v->ctx->err, "Failed %s (%s): %s\n", r->symbol, r->kind, r->error);
        if (!v->first_failure)
            v->first_failure = r->code;
    } else if (r->up_to_date) {
        fprintf(v->ctx->out, "%s is up to date for %s (%s values; nothing changed in its "
                             "bars since the last run)\n", r->symbol, r->kind, vals);
    } else if (strcmp(r->kind, "labels") == 0) {
        fprintf(v->ctx->out, "%s %s label rows for %s\n", v->verb, rows, r->symbol);
    } else {
        fprintf(v->ctx->out, "%s %s %s values for %s (%s dates)\n", v->verb, vals, r->kind,
                r->symbol, rows);
    }
}

int cli_derive_run(struct cli_ctx *ctx, const char *cmd, struct quant_derive_request *req,
                   int labels)
{
    struct quant_err err;
    quant_err_clear(&err);
    long threads = 2;
    if (!req->threads) {
        if (quant_config_get_long(&ctx->cfg, QUANT_SET_THREADS, 1, QUANT_THREADS_MAX, &threads,
                                  &err))
            return cli_fail(ctx, cmd, &err);
        req->threads = (int)threads;
    }
    struct quant_workspace *ws = NULL;
    if (cli_workspace(ctx, CLI_OPEN_WRITE, &ws, &err))
        return cli_fail(ctx, cmd, &err);
    struct view v = {ctx, QUANT_OK, req->materialize ? "Stored" : "Computed"};
    struct quant_derive_observer obs = {on_result, &v};
    struct quant_derive_summary s;
    enum quant_code code = labels ? quant_derive_labels(ws, req, &obs, &s, &err)
                                  : quant_derive_features(ws, req, &obs, &s, &err);
    int crc = cli_close_workspace(ctx, cmd, ws, 0);
    if (code)
        return cli_fail(ctx, cmd, &err);
    if (crc)
        return crc;
    char vals[32];
    cli_fmt_count(labels ? s.rows : s.values, vals, sizeof vals);
    fprintf(ctx->out, "Done: %zu %s, %zu up to date, %zu failed; %s %s in %.2f s "
                      "(read %.2f s, compute %.2f CPU-s on %d threads",
            s.n_written, req->materialize ? "stored" : "computed", s.n_up_to_date, s.n_failed,
            vals, labels ? "label rows" : "values", s.seconds, s.seconds_read,
            s.seconds_compute, req->threads);
    if (req->materialize)
        fprintf(ctx->out, ", store %.2f s)\n", s.seconds_store);
    else
        fprintf(ctx->out, ")\n%s", s.n_written ? CLI_ON_READ_NOTE : "");
    if (s.n_failed)
        return s.n_written || s.n_up_to_date ? CLI_EXIT_FAILED : cli_exit_for(v.first_failure);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_derive_request req;
    memset(&req, 0, sizeof req);
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    symbols.shardable = 1;
    const char *set_name = "tech-v1";
    const struct cli_opt opts[] = {
        {"--features", "--set", CLI_OPT_STRING, &set_name, 0, 0, "tech-v1, alpha158 or all"},
        CLI_DERIVE_OPTS(req),
    };
    int rc = cli_parse(ctx, &cmd_features, argc, argv, opts, CLI_NOPTS(opts), &symbols);
    const struct quant_feature_set *sets[8];
    size_t nsets = 0;
    if (!rc && strcmp(set_name, "all") == 0) {
        for (size_t i = 0; i < quant_feature_set_count() && i < 8; i++)
            sets[nsets++] = quant_feature_set_at(i);
    } else if (!rc) {
        sets[0] = quant_feature_set_find(set_name);
        nsets = sets[0] ? 1 : 0;
        if (!nsets)
            rc = cli_usage_error(ctx, &cmd_features,
                                 "unknown feature set '%s': use tech-v1, alpha158 or all",
                                 set_name);
    }
    if (!rc)
        rc = cli_symbols_finish(ctx, &cmd_features, &symbols);
    req.symbols = (const char *const *)symbols.list.v;
    req.n_symbols = symbols.list.n;
    req.shard = symbols.shard;
    for (size_t i = 0; i < nsets && !rc && !symbols.shard_empty; i++) {
        req.set = sets[i];
        rc = cli_derive_run(ctx, "features", &req, 0);
    }
    cli_symbols_release(&symbols);
    return rc;
}

const struct cli_command cmd_features = {
    .name = "features",
    .summary = "compute feature sets (tech-v1, alpha158) from stored bars",
    .usage =
        "usage: quant features [--symbols S ... | --all]\n"
        "                      [--features tech-v1|alpha158|all] [--materialize]\n"
        "                      [--force] [--threads N] [--shard i/n]\n"
        "\n"
        "Computes a versioned feature set (default tech-v1) for each symbol with bars\n"
        "(or those given: --symbols A B, A,B or @FILE with one per line; --all: every\n"
        "active registered symbol), exactly as shared/spec defines it, and records\n"
        "what it found per symbol (values, dates; see `quant status`). Features are\n"
        "computed from the bars whenever they are read, so they are never stale:\n"
        "train and score compute them as they go, and `quant sql` and `quant export`\n"
        "see the wide tables features_tech_v1, features_alpha158 and the long view\n"
        "features_daily(symbol, date, feature, value, version), one row per finite\n"
        "value. --materialize also stores the values in those tables of the DuckDB\n"
        "file, for other DuckDB clients (each symbol's set replaced atomically; a run\n"
        "without it drops them again). A symbol whose bars did not change since its\n"
        "last run is skipped (--force recomputes). --set is an older name for\n"
        "--features (train takes the same words).\n"
        "\n"
        "Example: quant sql \"SELECT * FROM features_daily WHERE symbol='AAPL' AND\n"
        "         version='tech-v1' LIMIT 20\"\n"
        CLI_SHARD_USAGE,
    .run = run,
    .open = CLI_OPEN_WRITE,
};
