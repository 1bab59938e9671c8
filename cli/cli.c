/* cli.c: helpers every command uses: exit codes, errors, options, the symbols a
 * command works on (--symbols, @FILE, --all), progress. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "quant/bars.h"
#include "quant/symbols.h"
#include "quant/workspace.h"

#include "core/banned.h"

int cli_exit_for(enum quant_code code)
{
    switch (code) {
    case QUANT_OK:
        return CLI_EXIT_OK;
    case QUANT_EINVAL:
        return CLI_EXIT_USAGE;
    case QUANT_ECONFIG:
    case QUANT_ENOKEY:
        return CLI_EXIT_CONFIG;
    case QUANT_ESTORE:
    case QUANT_ELOCKED:
    case QUANT_ESCHEMA:
    case QUANT_EREADONLY:
    case QUANT_ECONFLICT:
        return CLI_EXIT_STORE;
    case QUANT_ENET:
    case QUANT_ETIMEOUT:
    case QUANT_EHTTP:
    case QUANT_ETOOBIG:
    case QUANT_EAPI:
    case QUANT_ERATELIMIT:
    case QUANT_EPREMIUM:
    case QUANT_EPARSE:
        return CLI_EXIT_SOURCE;
    case QUANT_EDAILYLIMIT:
    case QUANT_EBUDGET:
        return CLI_EXIT_BUDGET;
    default:
        return CLI_EXIT_FAILED;
    }
}

enum quant_code cli_workspace(struct cli_ctx *ctx, enum cli_open open,
                              struct quant_workspace **out, struct quant_err *err)
{
    enum quant_ws_mode mode = open == CLI_OPEN_WRITE ? QUANT_WS_WRITE
                              : open == CLI_OPEN_META ? QUANT_WS_META
                                                      : QUANT_WS_READ;
    enum quant_code rc = quant_workspace_open(&ctx->cfg, mode, out, err);
    if (!rc)
        quant_workspace_set_scope(*out, &ctx->shard);
    return rc;
}

int cli_close_workspace(struct cli_ctx *ctx, const char *what, struct quant_workspace *ws,
                        int rc)
{
    if (!ws)
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_lake_stats st;
    if (quant_workspace_commit(ws, &st, &err)) {
        int why = cli_fail(ctx, what, &err);
        rc = rc ? rc : why;
    } else if (st.partitions) {
        fprintf(ctx->err,
                "quant %s: lake %s: %ld partition(s) published (%ld file(s), %ld rows), "
                "%ld older file(s) removed\n",
                what, quant_workspace_lake(ws), st.partitions, st.files_written,
                st.rows_written, st.files_replaced);
    }
    quant_workspace_close(ws);
    return rc;
}

int cli_open_workspace(struct cli_ctx *ctx, const char *what, enum cli_open open,
                       struct quant_workspace **out)
{
    struct quant_err err;
    quant_err_clear(&err);
    if (cli_workspace(ctx, open, out, &err))
        return cli_fail(ctx, what, &err);
    return CLI_EXIT_OK;
}

int cli_fail(struct cli_ctx *ctx, const char *cmd, const struct quant_err *err)
{
    cli_progress_clear(ctx);
    fprintf(ctx->err, "quant %s: %s\n", cmd,
            err->msg[0] ? err->msg : quant_code_str(err->code));
    return cli_exit_for(err->code);
}

int cli_usage_error(struct cli_ctx *ctx, const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(ctx->err, "quant %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(ctx->err, fmt, ap);
    va_end(ap);
    fprintf(ctx->err, "\nRun `quant %s --help` for usage.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t nl = strlen(name);
    if (strncmp(a, name, nl) != 0)
        return 0;
    if (a[nl] == '=') {
        *out = a + nl + 1;
        return 1;
    }
    if (a[nl] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

int cli_list_add_word(struct cli_list *list, char *word)
{
    char **v = realloc(list->v, (list->n + 1) * sizeof *v);
    if (!v)
        return -1;
    list->v = v;
    list->v[list->n++] = word;
    return 0;
}

int cli_list_add(struct cli_list *list, char *word)
{
    /* Split "A,B" into pieces we own; plain words point into argv. */
    char *comma = strchr(word, ',');
    if (!comma)
        return *word ? cli_list_add_word(list, word) : 0;
    char *copy = strdup(word);
    char **owned = realloc(list->owned, (list->n_owned + 1) * sizeof *owned);
    if (!copy || !owned) {
        free(copy);
        if (owned)
            list->owned = owned;
        return -1;
    }
    list->owned = owned;
    list->owned[list->n_owned++] = copy;
    char *p = copy;
    while (p) {
        char *next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (cli_list_add(list, p))
            return -1;
        p = next;
    }
    return 0;
}

void cli_list_release(struct cli_list *list)
{
    for (size_t i = 0; i < list->n_owned; i++)
        free(list->owned[i]);
    free(list->owned);
    free(list->v);
    memset(list, 0, sizeof *list);
}

/* ---- symbols: --symbols, @FILE, --all ------------------------------------------ */

/* Add a copy of s[0..n) to the list (the list owns it). */
static int list_add_copy(struct cli_list *list, const char *s, size_t n)
{
    char *copy = strndup(s, n);
    char **owned = copy ? realloc(list->owned, (list->n_owned + 1) * sizeof *owned) : NULL;
    char **v = owned ? realloc(list->v, (list->n + 1) * sizeof *v) : NULL;
    if (owned)
        list->owned = owned;
    if (!v) {
        free(copy);
        return -1;
    }
    list->owned[list->n_owned++] = copy;
    list->v = v;
    list->v[list->n++] = copy;
    return 0;
}

/* Add the symbols listed in file (the word after '@'). */
static int add_symbol_file(struct cli_ctx *ctx, const struct cli_command *cmd,
                           const char *file, struct cli_list *list)
{
    if (!*file)
        return cli_usage_error(ctx, cmd, "'@' needs a file name: --symbols @symbols.txt");
    char **v = NULL;
    size_t n = 0;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_symbols_read_file(file, &v, &n, &err))
        return err.code == QUANT_ENOMEM ? cli_fail(ctx, cmd->name, &err)
                                        : cli_usage_error(ctx, cmd, "%s", err.msg);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = list_add_copy(list, v[i], strlen(v[i])) ? CLI_EXIT_FAILED : 0;
    quant_strings_free(v, n);
    return rc;
}

/* A word naming symbols: "@FILE" or "A" or "A,B". */
static int add_symbol_word(struct cli_ctx *ctx, const struct cli_command *cmd, char *word,
                           struct cli_list *list)
{
    if (word[0] == '@')
        return add_symbol_file(ctx, cmd, word + 1, list);
    return cli_list_add(list, word) ? CLI_EXIT_FAILED : 0;
}

int cli_symbols_opt(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                    int *i, struct cli_symbols *syms, int *rc)
{
    const char *a = argv[*i];
    *rc = 0;
    if (strcmp(a, "--all") == 0) {
        syms->all = 1;
        return 1;
    }
    if (strncmp(a, "--", 2) != 0) { /* bare words are symbols too: `quant ingest AAPL NVDA` */
        *rc = add_symbol_word(ctx, cmd, argv[*i], &syms->list);
        return 1;
    }
    if (syms->shardable) {
        const char *v = NULL;
        int got = cli_opt_value(argc, argv, i, "--shard", &v);
        const char **dest = &syms->shard_text;
        if (!got) {
            got = cli_opt_value(argc, argv, i, "--shard-count", &v);
            dest = &syms->shard_count;
        }
        if (got < 0)
            *rc = cli_usage_error(ctx, cmd, "%s needs a value", a);
        else if (got)
            *dest = v;
        if (got)
            return 1;
    }
    if (strncmp(a, "--symbols", 9) != 0 || (a[9] != '\0' && a[9] != '='))
        return 0;
    size_t before = syms->list.n;
    if (a[9] == '=')
        *rc = add_symbol_word(ctx, cmd, argv[*i] + 10, &syms->list);
    while (!*rc && *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
        *rc = add_symbol_word(ctx, cmd, argv[++*i], &syms->list);
    if (!*rc && syms->list.n == before)
        *rc = cli_usage_error(ctx, cmd, "--symbols needs at least one symbol (or @FILE)");
    return 1;
}

/* Every active registered symbol (the registry, read-only). */
static int add_registered(struct cli_ctx *ctx, const struct cli_command *cmd,
                          struct cli_list *list)
{
    struct quant_workspace *ws = NULL;
    int rc = cli_open_workspace(ctx, cmd->name, CLI_OPEN_READ, &ws);
    if (rc)
        return rc;
    struct quant_symbol_record *recs = NULL;
    size_t n = 0;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_symbols_list(ws, 1, &recs, &n, NULL, &err))
        rc = cli_fail(ctx, cmd->name, &err);
    quant_workspace_close(ws);
    for (size_t k = 0; k < n && !rc; k++)
        rc = list_add_copy(list, recs[k].info.symbol, strlen(recs[k].info.symbol))
                 ? CLI_EXIT_FAILED : 0;
    free(recs);
    if (!rc && n == 0)
        rc = cli_usage_error(ctx, cmd, "--all: no active symbols are registered; add some "
                             "with `quant symbols add AAPL` (or ingest them)");
    return rc;
}

/* --shard, or the scheduler's variables; then the listed symbols filtered. */
static int finish_shard(struct cli_ctx *ctx, const struct cli_command *cmd,
                        struct cli_symbols *syms)
{
    struct quant_err err;
    quant_err_clear(&err);
    char source[64] = "--shard";
    if (syms->shard_text && syms->shard_count)
        return cli_usage_error(ctx, cmd, "give --shard i/n or --shard-count N, not both");
    if (syms->shard_text ? quant_shard_parse(syms->shard_text, &syms->shard, &err)
                         : quant_shard_from_env(syms->shard_count ? syms->shard_count
                                                                  : getenv("QUANT_SHARD_COUNT"),
                                                &syms->shard, source, &err))
        return cli_usage_error(ctx, cmd, "%s", err.msg);
    if (syms->shard_count && !syms->shard.count)
        return cli_usage_error(ctx, cmd, "--shard-count goes with a scheduler's index "
                               "(SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX); or give --shard i/n");
    if (!syms->shard.count)
        return 0;
    ctx->shard = syms->shard;
    size_t kept = 0, n = syms->list.n;
    for (size_t k = 0; k < n; k++) {
        char s[QUANT_SYMBOL_MAX + 1];
        snprintf(s, sizeof s, "%s", syms->list.v[k]);
        /* a symbol that does not normalise stays: the service names the problem */
        if (quant_symbol_normalize(s, &err) || quant_shard_keeps(&syms->shard, s))
            syms->list.v[kept++] = syms->list.v[k];
    }
    syms->list.n = kept;
    syms->shard_empty = n > 0 && kept == 0;
    if (n)
        fprintf(ctx->err, "quant %s: shard %d/%d (%s): %zu of the %zu symbols\n", cmd->name,
                syms->shard.index, syms->shard.count, source, kept, n);
    else
        fprintf(ctx->err, "quant %s: shard %d/%d (%s)\n", cmd->name, syms->shard.index,
                syms->shard.count, source);
    if (syms->shard_empty)
        fprintf(ctx->out, "Nothing to do: shard %d/%d holds none of the %zu symbols.\n",
                syms->shard.index, syms->shard.count, n);
    return 0;
}

int cli_symbols_finish(struct cli_ctx *ctx, const struct cli_command *cmd,
                       struct cli_symbols *syms)
{
    int rc = 0;
    if (syms->all && syms->list.n)
        return cli_usage_error(ctx, cmd, "--all takes every active registered symbol: give "
                               "either --all or the symbols, not both");
    if (syms->all)
        rc = add_registered(ctx, cmd, &syms->list);
    if (!rc && syms->shardable)
        rc = finish_shard(ctx, cmd, syms);
    return rc;
}

void cli_symbols_release(struct cli_symbols *syms)
{
    cli_list_release(&syms->list);
    syms->all = 0;
}

void cli_fmt_count(long n, char *out, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%ld", n < 0 ? -n : n);
    size_t nd = strlen(digits), k = 0;
    char tmp[48];
    if (n < 0)
        tmp[k++] = '-';
    for (size_t i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = '\0';
    snprintf(out, len, "%s", tmp);
}

void cli_progress(struct cli_ctx *ctx, const char *label, size_t done, size_t total)
{
    if (!ctx->err_is_tty || total < 2)
        return;
    const int width = 30;
    int filled = (int)(total ? (done * (size_t)width) / total : 0);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(ctx->err, "\r\033[K[%s] %zu/%zu %s", bar, done, total, label);
    fflush(ctx->err);
}

void cli_progress_clear(struct cli_ctx *ctx)
{
    if (ctx->err_is_tty) {
        fprintf(ctx->err, "\r\033[K");
        fflush(ctx->err);
    }
}
