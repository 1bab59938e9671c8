/*
 * main.c: quant's entry point: global options, the command table, dispatch.
 * Global options come before the command (`quant --home DIR status`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/banned.h"

static const struct cli_command *const commands[] = {
    &cmd_init_db, &cmd_symbols,  &cmd_universe, &cmd_ingest, &cmd_features, &cmd_labels,
    &cmd_train,   &cmd_score,    &cmd_walkforward, &cmd_evaluate, &cmd_models, &cmd_sql,
    &cmd_export,  &cmd_lake,     &cmd_status,
    &cmd_dashboard, &cmd_demo,  &cmd_config,
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static void print_help(FILE *f)
{
    fprintf(f,
            "usage: quant [--home DIR] [--duckdb PATH] [--sqlite PATH] [--meta-url URL]\n"
            "             [--lake DIR] [--alphavantage-url URL] COMMAND [ARGS]\n"
            "\n"
            "quant: quantitative research on daily market data.\n"
            "\n"
            "Commands:\n");
    size_t width = 0;
    for (size_t i = 0; i < N_COMMANDS; i++)
        width = strlen(commands[i]->name) > width ? strlen(commands[i]->name) : width;
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-*s %s\n", (int)width, commands[i]->name, commands[i]->summary);
    fprintf(f,
            "\n"
            "Run `quant COMMAND --help` for a command's options.\n"
            "\n"
            "Global options (each overrides its environment variable and quant.conf):\n"
            "  --home DIR               QUANT_HOME, default ./.quant\n"
            "  --duckdb PATH            QUANT_DUCKDB_PATH, default $QUANT_HOME/quant.duckdb\n"
            "  --sqlite PATH            QUANT_SQLITE_PATH, default $QUANT_HOME/meta.sqlite\n"
            "  --meta-url URL           QUANT_META_URL: sqlite:///PATH (default: --sqlite's)\n"
            "                           or postgresql://USER@HOST:PORT/DB\n"
            "  --lake DIR               QUANT_LAKE: keep the series as Parquet files in DIR\n"
            "                           (shared storage), listed by the metadata store\n"
            "  --alphavantage-url URL   QUANT_ALPHAVANTAGE_URL\n"
            "The API key is read from ALPHAVANTAGE_API_KEY or quant.conf only, never\n"
            "from the command line (where other users could see it).\n"
            "\n"
            "Exit codes:\n"
            "  0  success\n"
            "  1  some or all of the work failed (the messages say which)\n"
            "  2  bad command line\n"
            "  3  bad configuration, or no API key where one is needed\n"
            "  4  a store could not be opened or written (locked, corrupt, newer schema)\n"
            "  5  the data source failed (network, API error, unreadable file)\n"
            "  6  stopped early: the daily request budget is spent\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static const struct {
    const char *flag;
    enum quant_setting id;
} global_flags[] = {
    {"--home", QUANT_SET_HOME},
    {"--duckdb", QUANT_SET_DUCKDB_PATH},
    {"--sqlite", QUANT_SET_SQLITE_PATH},
    {"--meta-url", QUANT_SET_META_URL},
    {"--lake", QUANT_SET_LAKE},
    {"--alphavantage-url", QUANT_SET_AV_URL},
};

/* Consumes global options; returns the index of the command word, or -1 on error. */
static int parse_globals(struct cli_ctx *ctx, int argc, char **argv)
{
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (cli_is_help(argv[i]) || strcmp(argv[i], "--version") == 0)
            return i;
        int matched = 0;
        for (size_t k = 0; k < sizeof global_flags / sizeof *global_flags; k++) {
            const char *val;
            int r = cli_opt_value(argc, argv, &i, global_flags[k].flag, &val);
            if (r < 0) {
                fprintf(ctx->err, "quant: %s needs a value\n", global_flags[k].flag);
                return -1;
            }
            if (r > 0) {
                if (quant_config_set_flag(&ctx->cfg, global_flags[k].id, val)) {
                    fprintf(ctx->err, "quant: out of memory\n");
                    return -1;
                }
                matched = 1;
                break;
            }
        }
        if (!matched) {
            /* Never the value of --mistyped=VALUE: it may be a URL with a password. */
            fprintf(ctx->err, "quant: unknown option '%.*s'; run `quant --help`\n",
                    (int)strcspn(argv[i], "="), argv[i]);
            return -1;
        }
        i++;
    }
    return i;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.out = stdout;
    ctx.err = stderr;
    ctx.err_is_tty = isatty(fileno(stderr));
    ctx.argv0 = argc > 0 && strchr(argv[0], '/') ? argv[0] : "quant";
    /* Line-buffer results so a pipe reader (or a killed run) sees whole lines. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    quant_config_init(&ctx.cfg);

    int rc = CLI_EXIT_USAGE;
    int ci = parse_globals(&ctx, argc, argv);
    if (ci < 0)
        goto out;
    if (ci >= argc) {
        print_help(stderr);
        goto out;
    }
    if (cli_is_help(argv[ci]) || strcmp(argv[ci], "help") == 0) {
        print_help(stdout);
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (strcmp(argv[ci], "--version") == 0) {
        printf("quant %s\n", QUANT_VERSION);
        rc = CLI_EXIT_OK;
        goto out;
    }
    const struct cli_command *cmd = find_command(argv[ci]);
    if (!cmd) {
        fprintf(stderr, "quant: unknown command '%s'; run `quant --help` for the list\n",
                argv[ci]);
        goto out;
    }
    for (int i = ci + 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (cli_is_help(argv[i])) {
            fputs(cmd->usage, stdout);
            rc = CLI_EXIT_OK;
            struct quant_err herr;
            if (cmd->help_more && quant_config_resolve(&ctx.cfg, &herr) == QUANT_OK)
                cmd->help_more(&ctx);
            goto out;
        }
    }
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_config_resolve(&ctx.cfg, &err)) {
        rc = cli_fail(&ctx, cmd->name, &err);
        goto out;
    }
    rc = cmd->run(&ctx, argc - ci, argv + ci);
out:
    quant_config_release(&ctx.cfg);
    return rc;
}
