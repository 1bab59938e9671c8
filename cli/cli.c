/* cli.c: helpers every command uses: exit codes, errors, options, progress. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

int cli_list_add(struct cli_list *list, char *word)
{
    /* Split "A,B" into pieces we own; plain words point into argv. */
    char *comma = strchr(word, ',');
    if (!comma) {
        if (!*word)
            return 0;
        char **v = realloc(list->v, (list->n + 1) * sizeof *v);
        if (!v)
            return -1;
        list->v = v;
        list->v[list->n++] = word;
        return 0;
    }
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

int cli_opt_list(int argc, char **argv, int *i, const char *name, struct cli_list *list)
{
    const char *a = argv[*i];
    size_t nl = strlen(name);
    if (strncmp(a, name, nl) != 0 || (a[nl] != '\0' && a[nl] != '='))
        return 0;
    size_t before = list->n;
    if (a[nl] == '=') {
        if (cli_list_add(list, argv[*i] + nl + 1))
            return -1;
    }
    while (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
        if (cli_list_add(list, argv[++*i]))
            return -1;
    }
    return list->n > before ? 1 : -1;
}

void cli_list_release(struct cli_list *list)
{
    for (size_t i = 0; i < list->n_owned; i++)
        free(list->owned[i]);
    free(list->owned);
    free(list->v);
    memset(list, 0, sizeof *list);
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
