/* train.c: `quant train`: train, evaluate and register models. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "quant/train.h"
#include "quant/clock.h"
#include "quant/machines.h"
#include "core/banned.h"

struct view {
    struct cli_ctx *ctx;
    char started[16];
};

/* The model's own start time: several train at once, so the last start
 * reported is not necessarily this model's. */
static void set_started(struct view *v, const struct quant_train_result *r)
{
    quant_utc_format((int64_t)r->started, QUANT_UTC_TIME, v->started, sizeof v->started);
}

static void print_exclusions(struct view *v, const struct quant_train_result *r)
{
    for (size_t i = 0; i < r->n_excluded; i++)
        fprintf(v->ctx->out, "  left out %s: %s\n", r->excluded[i].symbol, r->excluded[i].reason);
}

static void on_trained(void *p, const struct quant_train_result *r)
{
    struct view *v = p;
    set_started(v, r);
    if (r->skipped) {
        fprintf(v->ctx->err, "[%s] SKIP %s: %s\n", v->started, r->label, r->error);
        return;
    }
    if (r->code) {
        print_exclusions(v, r);
        fprintf(v->ctx->err, "[%s] ERROR Training %s for %s failed: %s\n", v->started,
                r->algo_name, r->label, r->error);
        return;
    }
    /* Only rank 0 gathers every rank's test rows: the others have no metrics. */
    if (r->n_ranks && r->rank != 0) {
        fprintf(v->ctx->out, "[%s] INFO Trained %s for %s with the other ranks: rank %d of "
                "%d (model %s); rank 0 saves and registers it.\n", v->started, r->algo_name,
                r->label, r->rank, r->n_ranks, r->model_fingerprint);
        print_exclusions(v, r);
        return;
    }
    const struct quant_metrics *m = &r->metrics;
    /* Each number beside the one it must beat: accuracy beside always
     * predicting train's majority class, AUC beside chance. */
    fprintf(v->ctx->out,
            "[%s] INFO Training %s for %s... (Acc: %.4f vs baseline %.4f, AUC: %.4f vs 0.5, "
            "Prec: %.4f; test rows: %zu)\n",
            v->started, r->algo_name, r->label, m->accuracy, m->baseline_accuracy, m->auc,
            m->precision, m->n_test);
    print_exclusions(v, r);
    char warn[512];
    if (quant_metrics_warning(m, warn, sizeof warn))
        fprintf(v->ctx->err, "warning: %s: %s\n", r->model_id, warn);
    if (r->n_ranks)
        fprintf(v->ctx->out, "Rank 0 of %d: trained with the other ranks (model %s).\n",
                r->n_ranks, r->model_fingerprint);
    fprintf(v->ctx->out, "Model %s saved and registered.\n", r->model_id);
}

static void print_summary(struct cli_ctx *ctx, const struct quant_train_request *req,
                          const struct quant_train_summary *s)
{
    char scored[160] = "";
    if (req->score) {
        char n[32], oos[32];
        cli_fmt_count(s->predictions, n, sizeof n);
        cli_fmt_count(s->out_of_sample, oos, sizeof oos);
        snprintf(scored, sizeof scored, "; %s predictions stored, %s of them out of sample "
                 "(test or unseen: see predictions.segment)", n, oos);
    }
    if (req->machines && req->rank != 0) {
        fprintf(ctx->out, "Done: rank %d of %zu %s its share in %.1f s\n", req->rank,
                req->machines->n, s->trained ? "trained" : "did not train", s->seconds);
        return;
    }
    if (req->pooled) {
        fprintf(ctx->out, "Done: pooled model %s on %zu of %zu symbols (%zu left out) in "
                "%.1f s%s\n", s->trained ? "trained" : "not trained",
                req->n_symbols - s->excluded, req->n_symbols, s->excluded, s->seconds, scored);
        return;
    }
    fprintf(ctx->out, "Done: %zu trained, %zu skipped (too little data), %zu failed in %.1f s%s\n",
            s->trained, s->skipped, s->failed, s->seconds, scored);
    if (s->trained == 0 && s->skipped)
        fprintf(ctx->err, "quant train: no symbol had enough data to train on (see SKIP "
                          "above): ingest longer histories\n");
}

/*
 * --machines host:port,... or @FILE (one host:port a line) into *m, and the
 * refusals that need no data: each a usage error saying what to do.
 */
static int machines_finish(struct cli_ctx *ctx, const char *spec, int rank, int pooled,
                           const struct cli_model_opts *mo, int score,
                           struct quant_machines *m)
{
    if (!spec) {
        if (rank >= 0)
            return cli_usage_error(ctx, &cmd_train, "--rank is this process's place in "
                                   "--machines: give --machines too");
        for (size_t i = 0; i < mo->params.n; i++)
            if (strncmp(mo->params.v[i], "tree_learner=", 13) == 0)
                return cli_usage_error(ctx, &cmd_train, "--param tree_learner is for "
                                       "training across machines: add --pooled --machines "
                                       "and --rank");
        return 0;
    }
    if (!pooled)
        return cli_usage_error(ctx, &cmd_train, "--machines trains one pooled model across "
                               "machines: add --pooled");
    if (mo->algo && strcmp(mo->algo, "lightgbm") != 0)
        return cli_usage_error(ctx, &cmd_train, "--machines is LightGBM's data-parallel "
                               "training: use --algo lightgbm (or leave --algo out)");
    if (score)
        return cli_usage_error(ctx, &cmd_train, "--score is not for training across machines: "
                               "score afterwards with `quant score --model ID`");
    char text[65536];
    if (spec[0] == '@') {
        FILE *f = fopen(spec + 1, "rb");
        if (!f)
            return cli_usage_error(ctx, &cmd_train, "cannot read the machine list %s: %s",
                                   spec + 1, strerror(errno));
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[got] = '\0';
    } else {
        snprintf(text, sizeof text, "%s", spec);
    }
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_machines_parse(text, m, &err) != QUANT_OK)
        return cli_usage_error(ctx, &cmd_train, "%s", err.msg);
    if (rank < 0)
        return cli_usage_error(ctx, &cmd_train, "give this process's --rank: 0 to %zu, its "
                               "place in --machines (rank 0 registers the model)", m->n - 1);
    if ((size_t)rank >= m->n)
        return cli_usage_error(ctx, &cmd_train, "--rank %d is not one of the %zu machines "
                               "listed: use 0 to %zu", rank, m->n, m->n - 1);
    return 0;
}

/* Another rank died while LightGBM trains: this process is blocked inside
 * LightGBM, which no call can interrupt, so say why and end it (a stdio-free
 * write: this runs on the watch thread while the main thread may hold
 * stdio's locks). */
static void rank_lost(void *c, const char *why)
{
    (void)c;
    char msg[512];
    int n = snprintf(msg, sizeof msg, "quant train: %s\n", why);
    if (n > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        (void)w;
    }
    _exit(CLI_EXIT_FAILED);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_train_request req;
    memset(&req, 0, sizeof req);
    struct cli_symbols symbols;
    memset(&symbols, 0, sizeof symbols);
    symbols.shardable = 1;
    struct cli_model_opts m;
    cli_model_opts_init(&m);
    const char *machines_spec = NULL;
    int rank = -1;
    struct quant_machines machines;
    const struct cli_opt opts[] = {
        CLI_MODEL_OPTS(m),
        {"--pooled", NULL, CLI_OPT_FLAG, &req.pooled, 0, 0, NULL},
        {"--score", NULL, CLI_OPT_FLAG, &req.score, 0, 0, NULL},
        {"--machines", NULL, CLI_OPT_STRING, &machines_spec, 0, 0,
         "host:port,host:port or @FILE"},
        {"--rank", NULL, CLI_OPT_INT, &rank, 0, QUANT_MACHINES_MAX - 1, NULL},
        {"--machines-timeout", NULL, CLI_OPT_INT, &req.machines_timeout, 1, 86400,
         "1 to 86400 seconds"},
    };
    int rc = cli_parse(ctx, &cmd_train, argc, argv, opts, CLI_NOPTS(opts), &symbols);
    if (!rc)
        rc = cli_model_opts_finish(ctx, &cmd_train, &m);
    if (!rc)
        rc = machines_finish(ctx, machines_spec, rank, req.pooled, &m, req.score, &machines);
    if (!rc && req.pooled && (symbols.shard_text || symbols.shard_count))
        rc = cli_usage_error(ctx, &cmd_train, "--pooled trains one model on every symbol: it "
                             "cannot be sharded (leave out --shard)");
    /* A pooled model ignores a scheduler's shard variables: its ranks (--machines)
     * may well be the tasks of one Slurm array. */
    if (req.pooled)
        symbols.shardable = 0;
    if (!rc)
        rc = cli_symbols_finish(ctx, &cmd_train, &symbols);
    if (!rc && symbols.list.n == 0 && !symbols.shard_empty)
        rc = cli_usage_error(ctx, &cmd_train, "give the symbols to train on (--symbols AAPL, "
                             "@FILE or --all)");
    if (rc || symbols.shard_empty) {
        cli_symbols_release(&symbols);
        cli_model_opts_release(&m);
        return rc;
    }
    CLI_MODEL_OPTS_APPLY(req, m);
    if (machines_spec) {
        req.machines = &machines;
        req.rank = rank;
        req.on_rank_lost = rank_lost;
        req.on_rank_lost_ctx = ctx;
    }
    req.symbols = (const char *const *)symbols.list.v;
    req.n_symbols = symbols.list.n;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_workspace *ws = NULL;
    struct view v = {ctx, ""};
    struct quant_ml_observer obs = {NULL, on_trained, NULL, &v};
    struct quant_train_summary sum;
    memset(&sum, 0, sizeof sum);
    if (cli_workspace(ctx, cmd_train.open, &ws, &err) || quant_train(ws, &req, &obs, &sum, &err)) {
        rc = cli_fail(ctx, "train", &err);
    } else {
        print_summary(ctx, &req, &sum);
        if (sum.failed)
            rc = sum.trained ? CLI_EXIT_FAILED : cli_exit_for(sum.first_failure);
        else if (sum.trained == 0)
            rc = CLI_EXIT_FAILED; /* every symbol skipped: nothing was trained */
    }
    rc = cli_close_workspace(ctx, "train", ws, rc);
    cli_symbols_release(&symbols);
    cli_model_opts_release(&m);
    return rc;
}

const struct cli_command cmd_train = {
    .name = "train",
    .summary = "train and register gradient-boosted models (LightGBM, XGBoost)",
    .usage =
        "usage: quant train --symbols S ... | --all [--features tech-v1|alpha158] [--horizon H]\n"
        "                   [--algo lightgbm|xgboost] [--param key=value ...]\n"
        "                   [--rounds N] [--early-stopping N] [--pooled] [--seed N]\n"
        "                   [--threads N] [--score] [--shard i/n]\n"
        "                   [--pooled --machines HOST:PORT,... | @FILE --rank I\n"
        "                    [--machines-timeout SECONDS]]\n"
        "\n"
        "Trains a binary classifier of the label (forward return > 0) on the stored\n"
        "features: one model per symbol, or with --pooled one across all of them. Each\n"
        "symbol's rows are split by time (train 70%, valid 10%, test 20%, with an\n"
        "embargo of H rows after train and after valid); early stopping uses valid;\n"
        "metrics are computed on test only, accuracy printed beside the baseline (the\n"
        "majority class of train) and AUC beside chance (0.5), with a warning when the\n"
        "model predicts one class only or beats neither. A symbol with too little data\n"
        "is skipped (per symbol) or left out of a pooled model, with the reason. The\n"
        "model is saved under QUANT_HOME/models in its library's own format and\n"
        "registered (see `quant models`).\n"
        "Defaults: tech-v1, H = 5, lightgbm, 500 rounds, seed 42.\n"
        "  --early-stopping N  stop when the valid logloss has not improved for N\n"
        "                      rounds and keep the trees up to the best round\n"
        "                      (default 50; 0 = off: every round is trained and kept).\n"
        "                      Recorded in the model's params (`quant models show`).\n"
        "  --threads N         worker threads (default: the threads setting, 2).\n"
        "  --score             also score every row of each new model's symbols and\n"
        "                      store the predictions, as `quant score` would right\n"
        "                      after, from the features this pass already computed.\n"
        "  --machines LIST     with --pooled: train the one model across machines with\n"
        "                      LightGBM's data-parallel learner (--param\n"
        "                      tree_learner=voting for its voting learner). LIST:\n"
        "                      IPv4 host:port of every rank, in rank order, or @FILE\n"
        "                      (one a line); every rank gets the same command except\n"
        "                      --rank. Symbol i of the sorted list goes to rank\n"
        "                      i mod n; rank 0 also listens on its port + 1 (quant's\n"
        "                      channel), registers the model and reports metrics over\n"
        "                      every rank's test rows; the other ranks only train.\n"
        "  --rank I            this process's place in --machines (0 = first).\n"
        "  --machines-timeout S  how long a rank waits for the others to join\n"
        "                      (default 300 s); then it fails saying which is missing.\n"
        "OpenMP: quant runs LightGBM and XGBoost with OMP_WAIT_POLICY=passive unless\n"
        "OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, so waiting threads sleep instead\n"
        "of spinning: two trainings on a busy machine share it instead of fighting.\n"
        "Features and labels are computed from the stored bars as they are read (no\n"
        "`quant features` run needed), in one pass over the bars of every symbol.\n"
        "Symbols: --symbols A B, A,B or @FILE (one per line); --all: every active\n"
        "registered symbol.\n"
        CLI_SHARD_USAGE,
    .run = run,
    .open = CLI_OPEN_WRITE,
};
