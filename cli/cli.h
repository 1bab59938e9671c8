/*
 * cli.h: what every command file shares.  The CLI parses arguments, calls the
 * services, prints, and picks the exit code; it holds no business logic.
 *
 * A command is one file exporting one `const struct cli_command` (name,
 * summary, usage, run); adding a command is one file plus one line in the
 * table in main.c.
 */
#ifndef QUANT_CLI_H
#define QUANT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "quant/config.h"
#include "quant/error.h"
#include "quant/shard.h"

/* Exit codes (documented in `quant --help` and README.md). */
enum cli_exit {
    CLI_EXIT_OK = 0,       /* everything asked for was done */
    CLI_EXIT_FAILED = 1,   /* some or all of the work failed (see the messages) */
    CLI_EXIT_USAGE = 2,    /* bad command line */
    CLI_EXIT_CONFIG = 3,   /* bad configuration, or a missing API key */
    CLI_EXIT_STORE = 4,    /* a store could not be opened or written (locked, corrupt) */
    CLI_EXIT_SOURCE = 5,   /* the data source failed (network, API error, bad file) */
    CLI_EXIT_BUDGET = 6,   /* stopped early: the daily request budget is spent */
};

struct cli_ctx {
    struct quant_config cfg;   /* resolved before a command runs */
    FILE *out;                 /* results */
    FILE *err;                 /* messages, warnings, progress */
    int err_is_tty;            /* draw progress bars */
    const char *argv0;         /* how quant was invoked, for hints ("build/quant") */
    struct quant_shard shard;  /* the command's shard (count 0: none): lake mode loads only it */
};

/*
 * What a command opens (workspace.h), declared in its table entry the way
 * tmux marks commands CMD_READONLY: a read never takes DuckDB's writer lock
 * nor writes a byte, so it answers while an ingest runs.  Commands with
 * subcommands (symbols) declare it per subcommand.
 */
enum cli_open {
    CLI_OPEN_NONE = 0,   /* no store (config, --help) */
    CLI_OPEN_READ,       /* QUANT_WS_READ */
    CLI_OPEN_META,       /* QUANT_WS_META: the registry read-write, the series read-only */
    CLI_OPEN_WRITE,      /* QUANT_WS_WRITE */
};

struct cli_command {
    const char *name;
    const char *summary;   /* one line for `quant --help` */
    const char *usage;     /* full text for `quant CMD --help` */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv); /* argv[0] is the command */
    enum cli_open open;    /* what cli_open_workspace opens for it */
    /* Optional: more help printed after usage, once the configuration is
     * resolved (e.g. the tables `quant sql` can read in this store). */
    void (*help_more)(struct cli_ctx *ctx);
};

extern const struct cli_command cmd_config;
extern const struct cli_command cmd_init_db;
extern const struct cli_command cmd_symbols;
extern const struct cli_command cmd_universe;
extern const struct cli_command cmd_ingest;
extern const struct cli_command cmd_features;
extern const struct cli_command cmd_labels;
extern const struct cli_command cmd_train;
extern const struct cli_command cmd_walkforward;
extern const struct cli_command cmd_evaluate;
extern const struct cli_command cmd_score;
extern const struct cli_command cmd_models;
extern const struct cli_command cmd_dashboard;
extern const struct cli_command cmd_sql;
extern const struct cli_command cmd_export;
extern const struct cli_command cmd_lake;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_demo;

/*
 * Open the workspace in the mode `open` says; cli_workspace leaves the
 * error in err, cli_open_workspace prints it. (a command passes its table
 * entry's .open, or its subcommand's); on failure print "quant WHAT: why"
 * and return the exit code, else 0.  Close with quant_workspace_close.
 */
struct quant_workspace;
enum quant_code cli_workspace(struct cli_ctx *ctx, enum cli_open open,
                              struct quant_workspace **out, struct quant_err *err);
int cli_open_workspace(struct cli_ctx *ctx, const char *what, enum cli_open open,
                       struct quant_workspace **out);
/*
 * Close a write command's workspace: in lake mode first publish what it
 * changed (workspace.h, quant_workspace_commit), whatever rc, and say so on
 * stderr.  Returns rc, or the publish failure's exit code when rc is 0.
 */
int cli_close_workspace(struct cli_ctx *ctx, const char *what, struct quant_workspace *ws,
                        int rc);

/* Map a library code to the exit code a script should see. */
int cli_exit_for(enum quant_code code);

/* Print "quant CMD: message" to ctx->err and return the exit code for it. */
int cli_fail(struct cli_ctx *ctx, const char *cmd, const struct quant_err *err);

/* Print a usage error and return CLI_EXIT_USAGE. */
int cli_usage_error(struct cli_ctx *ctx, const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when argv[i] is -h or --help. */
int cli_is_help(const char *arg);

/*
 * Option parsing helpers.  Each looks at argv[*i]; when it matches `name`
 * ("--csv"), it consumes the option (and its value) and returns 1; on a
 * missing value it returns -1.
 */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **out);
/*
 * A growing list of words (symbols, --param values).  It holds pointers into
 * argv plus malloc'd pieces (of comma lists, of @FILE symbol lists); free
 * with cli_list_release.
 */
struct cli_list {
    char **v;
    size_t n;
    char **owned;
    size_t n_owned;
};
int cli_list_add(struct cli_list *list, char *word);  /* splits commas; 0 ok, -1 oom */
int cli_list_add_word(struct cli_list *list, char *word);  /* as it is; 0 ok, -1 oom */
void cli_list_release(struct cli_list *list);

/*
 * The symbols a command works on, parsed the same way by every command that
 * takes them (ingest, features, labels, train, score):
 *   --symbols A B C | --symbols A,B,C | bare words A B C
 *   --symbols @FILE (or a bare @FILE): one symbol per line; '#' starts a
 *                   comment, blank lines are ignored, commas and spaces
 *                   also separate
 *   --all           every active registered symbol
 * cli_symbols_opt looks at argv[*i]: it returns 0 when that is none of these
 * (the caller goes on with its own options), else 1 with *rc = 0, or with
 * *rc = an exit code after printing the error (a bad @FILE names the file
 * and line).  cli_symbols_finish expands --all from the registry (read
 * only) and returns 0 or an exit code; then list.v / list.n are the symbols.
 * --all with other symbols is a usage error.
 */
struct cli_symbols {
    struct cli_list list;   /* the symbols, as given (file entries normalised) */
    int all;                /* --all was given */
    /*
     * Set shardable before parsing (ingest, features, labels, train, score):
     * then --shard i/n and --shard-count N are taken too, and without them a
     * scheduler's variables may pick the shard (shard.h).  cli_symbols_finish
     * keeps only the shard's symbols of a given or --all list, and says on
     * stderr which shard runs; with no list (the service decides) the
     * command passes `shard` on in its request.  shard_empty: the shard
     * holds none of the listed symbols (the command says so and exits 0).
     */
    int shardable;
    const char *shard_text, *shard_count;
    struct quant_shard shard;
    int shard_empty;
};
/* The usage paragraph of every shardable command (its last lines). */
#define CLI_SHARD_USAGE                                                                   \
    "Sharded runs: --shard i/n works on shard i (from 0) of n of the symbols, a\n"        \
    "stable split by symbol name that every release keeps; inside a Slurm array\n"        \
    "(SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with\n"      \
    "--shard-count N or QUANT_SHARD_COUNT) the scheduler's variables pick it.\n"
int cli_symbols_opt(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                    int *i, struct cli_symbols *syms, int *rc);
int cli_symbols_finish(struct cli_ctx *ctx, const struct cli_command *cmd,
                       struct cli_symbols *syms);
void cli_symbols_release(struct cli_symbols *syms);

/* Print one symbol's ingest outcome the way `quant ingest` does (ingest.c). */
struct quant_ingest_result;
void cli_print_ingest_result(struct cli_ctx *ctx, const struct quant_ingest_result *r);

/*
 * features.c's run, shared with labels.c: the derive service with the
 * progress lines both print (their options: opts.h, CLI_DERIVE_OPTS).
 */
struct quant_derive_request;
int cli_derive_run(struct cli_ctx *ctx, const char *cmd, struct quant_derive_request *req,
                   int labels);

/* Format a count with thousands separators. */
void cli_fmt_count(long n, char *out, size_t len);   /* 1234567 -> "1,234,567" */

/* A one-line progress bar on stderr (only when it is a terminal). */
void cli_progress(struct cli_ctx *ctx, const char *label, size_t done, size_t total);
void cli_progress_clear(struct cli_ctx *ctx);

/* features and labels: what a run without --materialize left behind. */
#define CLI_ON_READ_NOTE                                                                   \
    "Only the counts were recorded: train, score, sql and export compute these\n"       \
    "from the bars as they read them, so they are never stale (--materialize also\n"    \
    "stores the values, for other DuckDB clients).\n"

#endif
