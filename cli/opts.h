/*
 * opts.h: a command's options as a table, parsed one way for every command:
 * the same spellings (--name VALUE, --name=VALUE), the same refusals
 * ("unknown option", "--x takes ...") and the same exit code (2).  Each
 * command lists its options; what a value means beyond its type (a feature
 * set's name, an algorithm) the command checks after parsing.
 *
 *     int horizon = 5;
 *     const struct cli_opt opts[] = {
 *         {"--horizon", NULL, CLI_OPT_INT, &horizon, 1, 250, "1 to 250 trading days"},
 *     };
 *     int rc = cli_parse(ctx, &cmd_labels, argc, argv, opts, CLI_NOPTS(opts), &symbols);
 */
#ifndef QUANT_CLI_OPTS_H
#define QUANT_CLI_OPTS_H

#include <stddef.h>

#include "cli.h"
#include "quant/feature_sets.h"
#include "quant/model.h"

enum cli_opt_kind {
    CLI_OPT_FLAG,     /* int *: set to 1 */
    CLI_OPT_INT,      /* int *: a whole number in min..max */
    CLI_OPT_STRING,   /* const char **: the value (points into argv) */
    CLI_OPT_LIST,     /* struct cli_list *: every value, commas split */
};

struct cli_opt {
    const char *name;       /* "--horizon" */
    const char *alias;      /* another spelling kept working ("--set"), or NULL */
    enum cli_opt_kind kind;
    void *dest;             /* see the kinds */
    long min, max;          /* CLI_OPT_INT */
    const char *takes;      /* the value in words, for "--x takes ..." ("1 to 250");
                               NULL: "MIN to MAX" for numbers, "a value" otherwise */
};

#define CLI_NOPTS(a) (sizeof(a) / sizeof *(a))

/* The options features and labels share, filling a quant_derive_request. */
#define CLI_DERIVE_OPTS(req)                                                     \
    {"--force", NULL, CLI_OPT_FLAG, &(req).force, 0, 0, NULL},                   \
    {"--materialize", NULL, CLI_OPT_FLAG, &(req).materialize, 0, 0, NULL},       \
    {"--threads", NULL, CLI_OPT_INT, &(req).threads, 1, QUANT_THREADS_MAX, NULL}

/*
 * The options every command that fits models shares (train, walkforward):
 * the feature set, horizon, library and its knobs.  Fill the table with
 * CLI_MODEL_OPTS(m) after cli_model_opts_init(&m); after cli_parse,
 * cli_model_opts_finish checks the names and key=value pairs, turns
 * --early-stopping into the request's convention and, without --threads,
 * reads the threads setting.  m owns params: cli_model_opts_release.
 */
struct cli_model_opts {
    const char *set_name, *algo;
    const struct quant_feature_set *set;   /* from set_name by finish; NULL: default */
    int horizon, rounds, early, seed, threads;
    int early_stopping;                    /* by finish: 0 default, N, or ..._OFF */
    struct cli_list params;
    char rounds_takes[48], early_takes[96];
};
void cli_model_opts_init(struct cli_model_opts *m);
int cli_model_opts_finish(struct cli_ctx *ctx, const struct cli_command *cmd,
                          struct cli_model_opts *m);
void cli_model_opts_release(struct cli_model_opts *m);
/* Copy the checked options into a request (train's and walkforward's share the names). */
#define CLI_MODEL_OPTS_APPLY(req, m)                                  \
    do {                                                              \
        (req).set = (m).set;                                          \
        (req).algo = (m).algo;                                        \
        (req).horizon = (m).horizon;                                  \
        (req).rounds = (m).rounds;                                    \
        (req).early_stopping = (m).early_stopping;                    \
        (req).seed = (uint64_t)(m).seed;                              \
        (req).threads = (m).threads;                                  \
        (req).params = (const char *const *)(m).params.v;             \
        (req).n_params = (m).params.n;                                \
    } while (0)

#define CLI_MODEL_OPTS(m)                                                              \
    {"--features", "--set", CLI_OPT_STRING, &(m).set_name, 0, 0, "tech-v1 or alpha158"}, \
    {"--horizon", NULL, CLI_OPT_INT, &(m).horizon, QUANT_LABEL_HORIZON_MIN,            \
     QUANT_LABEL_HORIZON_MAX, NULL},                                                   \
    {"--algo", NULL, CLI_OPT_STRING, &(m).algo, 0, 0, "lightgbm or xgboost"},          \
    {"--param", NULL, CLI_OPT_LIST, &(m).params, 0, 0, "key=value"},                   \
    {"--rounds", NULL, CLI_OPT_INT, &(m).rounds, 1, QUANT_TRAIN_ROUNDS_MAX,            \
     (m).rounds_takes},                                                                \
    {"--early-stopping", NULL, CLI_OPT_INT, &(m).early, 0, QUANT_TRAIN_ROUNDS_MAX,     \
     (m).early_takes},                                                                 \
    {"--seed", NULL, CLI_OPT_INT, &(m).seed, 1, 2147483647L, "a positive integer"},    \
    {"--threads", NULL, CLI_OPT_INT, &(m).threads, 1, QUANT_THREADS_MAX, NULL}

/*
 * Parse argv[1..argc) against opts.  With symbols non-NULL, --symbols, @FILE,
 * --all and bare words name symbols (cli_symbols_opt; finish them with
 * cli_symbols_finish).  Anything else is a usage error.  Returns 0, or the
 * exit code after printing the error.
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
              const struct cli_opt *opts, size_t n_opts, struct cli_symbols *symbols);

/*
 * The same from argv[first] (2 after a subcommand), with the bare words
 * (and anything after "--") going to words (NULL: none allowed); a bare word
 * may start with '-' only after "--".
 */
int cli_parse_words(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                    int first, const struct cli_opt *opts, size_t n_opts,
                    struct cli_list *words);

/* A whole number in lo..hi from text: 0, or -1 when it is not one. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

#endif
