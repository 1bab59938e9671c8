/* opts.c: the option table parser every command uses (opts.h). */
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The option argv[*i] names (by name or alias, "--x" or "--x=v"), or NULL. */
static const struct cli_opt *find(const struct cli_opt *opts, size_t n, const char *arg)
{
    for (size_t k = 0; k < n; k++) {
        const char *names[2] = {opts[k].name, opts[k].alias};
        for (int j = 0; j < 2; j++) {
            size_t len = names[j] ? strlen(names[j]) : 0;
            if (len && strncmp(arg, names[j], len) == 0 &&
                (arg[len] == '\0' || (arg[len] == '=' && opts[k].kind != CLI_OPT_FLAG)))
                return &opts[k];
        }
    }
    return NULL;
}

static int bad_value(struct cli_ctx *ctx, const struct cli_command *cmd,
                     const struct cli_opt *o, const char *as_typed)
{
    if (o->takes)
        return cli_usage_error(ctx, cmd, "%s takes %s", as_typed, o->takes);
    if (o->kind == CLI_OPT_INT)
        return cli_usage_error(ctx, cmd, "%s takes %ld to %ld", as_typed, o->min, o->max);
    return cli_usage_error(ctx, cmd, "%s needs a value", as_typed);
}

static int take(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_opt *o,
                int argc, char **argv, int *i)
{
    if (o->kind == CLI_OPT_FLAG) {
        *(int *)o->dest = 1;
        return 0;
    }
    char *arg = argv[*i], *eq = strchr(arg, '=');
    char typed[64];
    snprintf(typed, sizeof typed, "%.*s", (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
    const char *val = eq ? eq + 1 : *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!val || (!eq && strncmp(val, "--", 2) == 0 && val[2])) {
        char range[64];
        snprintf(range, sizeof range, "%ld to %ld", o->min, o->max);
        return cli_usage_error(ctx, cmd, "%s needs a value (%s)", typed,
                               o->takes                 ? o->takes
                               : o->kind == CLI_OPT_INT ? range
                                                        : "see --help");
    }
    if (!eq)
        ++*i;
    long n;
    switch (o->kind) {
    case CLI_OPT_INT:
        if (cli_parse_long(val, o->min, o->max, &n))
            return bad_value(ctx, cmd, o, typed);
        *(int *)o->dest = (int)n;
        return 0;
    case CLI_OPT_STRING:
        if (!*val)
            return bad_value(ctx, cmd, o, typed);
        *(const char **)o->dest = val;
        return 0;
    case CLI_OPT_LIST:
        return cli_list_add(o->dest, (char *)val) ? CLI_EXIT_FAILED : 0;
    case CLI_OPT_FLAG:
        break;
    }
    return 0;
}

static int parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                 int first, const struct cli_opt *opts, size_t n_opts,
                 struct cli_symbols *symbols, struct cli_list *words)
{
    int rc = 0, only_words = 0;
    for (int i = first; i < argc && !rc; i++) {
        if (only_words) {
            rc = cli_list_add_word(words, argv[i]) ? CLI_EXIT_FAILED : 0;
            continue;
        }
        if (symbols && cli_symbols_opt(ctx, cmd, argc, argv, &i, symbols, &rc))
            continue;
        const struct cli_opt *o = find(opts, n_opts, argv[i]);
        if (o)
            rc = take(ctx, cmd, o, argc, argv, &i);
        else if (words && strcmp(argv[i], "--") == 0)
            only_words = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            rc = cli_usage_error(ctx, cmd, "unknown option '%s'", argv[i]);
        else if (words)
            rc = cli_list_add_word(words, argv[i]) ? CLI_EXIT_FAILED : 0;
        else
            rc = cli_usage_error(ctx, cmd, "unexpected argument '%s'", argv[i]);
    }
    return rc;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
              const struct cli_opt *opts, size_t n_opts, struct cli_symbols *symbols)
{
    return parse(ctx, cmd, argc, argv, 1, opts, n_opts, symbols, NULL);
}

int cli_parse_words(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                    int first, const struct cli_opt *opts, size_t n_opts,
                    struct cli_list *words)
{
    return parse(ctx, cmd, argc, argv, first, opts, n_opts, NULL, words);
}

void cli_model_opts_init(struct cli_model_opts *m)
{
    memset(m, 0, sizeof *m);
    m->early = -1; /* not given: the library default */
    snprintf(m->rounds_takes, sizeof m->rounds_takes, "1 to %d", QUANT_TRAIN_ROUNDS_MAX);
    snprintf(m->early_takes, sizeof m->early_takes,
             "0 (off) to %d rounds without a better valid logloss", QUANT_TRAIN_ROUNDS_MAX);
}

int cli_model_opts_finish(struct cli_ctx *ctx, const struct cli_command *cmd,
                          struct cli_model_opts *m)
{
    if (m->set_name && !(m->set = quant_feature_set_find(m->set_name)))
        return cli_usage_error(ctx, cmd, "--features takes tech-v1 or alpha158");
    if (m->algo && !quant_model_algo_find(m->algo))
        return cli_usage_error(ctx, cmd, "--algo takes lightgbm or xgboost");
    for (size_t k = 0; k < m->params.n; k++)
        if (!strchr(m->params.v[k], '='))
            return cli_usage_error(ctx, cmd, "--param takes key=value");
    /* The request's convention: 0 = the default, N, or OFF for "0". */
    m->early_stopping = m->early < 0 ? 0 : m->early ? m->early : QUANT_TRAIN_EARLY_STOP_OFF;
    if (m->threads)
        return 0;
    /* Without --threads, the `threads` setting (QUANT_THREADS, quant.conf). */
    long conf = QUANT_TRAIN_THREADS_DEFAULT;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_config_get_long(&ctx->cfg, QUANT_SET_THREADS, 1, QUANT_THREADS_MAX, &conf, &err))
        return cli_fail(ctx, cmd->name, &err);
    m->threads = (int)conf;
    return 0;
}

void cli_model_opts_release(struct cli_model_opts *m)
{
    cli_list_release(&m->params);
}
