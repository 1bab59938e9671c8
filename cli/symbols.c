/* symbols.c: `quant symbols add|list|remove|search|enrich`: the symbol registry. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "opts.h"
#include "table.h"
#include "quant/symbols.h"
#include "core/banned.h"

/* The subcommands and what each opens: only `list` is a pure read; the
 * others write the registry (search counts its requests in the ledger) but
 * never the series store, so none waits for an ingest. */
struct sub {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    enum cli_open open;
};
static const struct sub *sub_for(const char *name);

static int open_ws(struct cli_ctx *ctx, const char *sub, struct quant_workspace **ws)
{
    char what[32];
    snprintf(what, sizeof what, "symbols %s", sub);
    return cli_open_workspace(ctx, what, sub_for(sub)->open, ws);
}

/* The subcommand's options and its symbols: bare words, "A,B" split as
 * --symbols splits them. */
static int parse_symbols(struct cli_ctx *ctx, int argc, char **argv, const struct cli_opt *opts,
                         size_t n_opts, struct cli_list *syms)
{
    struct cli_list words = {0};
    int rc = cli_parse_words(ctx, &cmd_symbols, argc, argv, 2, opts, n_opts, &words);
    for (size_t i = 0; i < words.n && !rc; i++)
        if (cli_list_add(syms, words.v[i]))
            rc = CLI_EXIT_FAILED;
    cli_list_release(&words);
    return rc;
}

/* The details `add` takes, each filling one field of quant_symbol_info. */
struct detail {
    const char *opt;
    size_t offset, size;
};
#define DETAIL(o, f) {o, offsetof(struct quant_symbol_info, f), \
                      sizeof((struct quant_symbol_info *)0)->f}
static const struct detail details[] = {
    DETAIL("--name", name),         DETAIL("--type", type),
    DETAIL("--region", region),     DETAIL("--exchange", exchange),
    DETAIL("--currency", currency), DETAIL("--sector", sector),
    DETAIL("--industry", industry),
};
#undef DETAIL
#define N_DETAILS (sizeof details / sizeof *details)

static int cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
    struct quant_symbol_info info;
    memset(&info, 0, sizeof info);
    const char *given[N_DETAILS] = {0};
    struct cli_opt opts[N_DETAILS];
    for (size_t i = 0; i < N_DETAILS; i++)
        opts[i] = (struct cli_opt){details[i].opt, NULL, CLI_OPT_STRING, &given[i], 0, 0,
                                   "text"};
    struct cli_list syms = {0};
    int rc = parse_symbols(ctx, argc, argv, opts, N_DETAILS, &syms);
    int has_fields = 0;
    for (size_t i = 0; i < N_DETAILS && !rc; i++) {
        if (!given[i])
            continue;
        has_fields = 1;
        /* A truncated name would be stored as if it were the real one. */
        if (strlen(given[i]) >= details[i].size)
            rc = cli_usage_error(ctx, &cmd_symbols, "%s takes at most %zu characters",
                                 details[i].opt, details[i].size - 1);
        else
            memcpy((char *)&info + details[i].offset, given[i], strlen(given[i]) + 1);
    }
    if (!rc && syms.n == 0)
        rc = cli_usage_error(ctx, &cmd_symbols, "symbols add needs at least one symbol");
    if (!rc && has_fields && syms.n > 1)
        rc = cli_usage_error(ctx, &cmd_symbols,
                             "--name and the other details describe one symbol; add one "
                             "symbol at a time when giving them");
    struct quant_workspace *ws = NULL;
    if (!rc)
        rc = open_ws(ctx, argv[1], &ws);
    for (size_t i = 0; i < syms.n && !rc; i++) {
        struct quant_err err;
        quant_err_clear(&err);
        if (strlen(syms.v[i]) > QUANT_SYMBOL_MAX) {
            quant_err_set(&err, QUANT_EINVAL, "symbol '%.40s...' is longer than %d characters",
                          syms.v[i], QUANT_SYMBOL_MAX);
            rc = cli_fail(ctx, "symbols add", &err);
            break;
        }
        snprintf(info.symbol, sizeof info.symbol, "%s", syms.v[i]);
        int created = 0;
        if (quant_symbols_add(ws, &info, &created, &err)) {
            rc = cli_fail(ctx, "symbols add", &err);
            break;
        }
        char sym[QUANT_SYMBOL_MAX + 1];
        snprintf(sym, sizeof sym, "%s", info.symbol);
        quant_symbol_normalize(sym, &err);
        fprintf(ctx->out, "%s %s%s%s%s\n", created ? "Added" : "Updated", sym,
                info.name[0] ? " (" : "", info.name, info.name[0] ? ")" : "");
    }
    quant_workspace_close(ws);
    cli_list_release(&syms);
    return rc;
}

/* Why each inactive symbol is inactive (its last failed run says), or, when
 * they are hidden, that there are some. */
static void print_inactive(struct cli_ctx *ctx, const struct quant_symbol_record *recs,
                           size_t n, size_t hidden, int all)
{
    if (!all) {
        if (hidden)
            fprintf(ctx->out, "(%zu inactive symbol%s not shown: `quant symbols list --all`)\n",
                    hidden, hidden == 1 ? "" : "s");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!recs[i].active)
            fprintf(ctx->out, "%s is inactive: %s\n", recs[i].info.symbol,
                    recs[i].inactive_reason[0] ? recs[i].inactive_reason
                                               : "`quant symbols add` makes it active again");
}

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
    int all = 0, json = 0;
    const struct cli_opt opts[] = {
        {"--all", NULL, CLI_OPT_FLAG, &all, 0, 0, NULL},
        {"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL},
    };
    int rc = cli_parse_words(ctx, &cmd_symbols, argc, argv, 2, opts, CLI_NOPTS(opts), NULL);
    if (rc)
        return rc;
    enum cli_format fmt = json ? CLI_FMT_JSON : CLI_FMT_TABLE;
    struct quant_workspace *ws = NULL;
    rc = open_ws(ctx, argv[1], &ws);
    if (rc)
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_symbol_record *recs = NULL;
    size_t n = 0, hidden = 0;
    if (quant_symbols_list(ws, !all, &recs, &n, &hidden, &err)) {
        quant_workspace_close(ws);
        return cli_fail(ctx, "symbols list", &err);
    }
    const char *names[] = {"symbol", "name", "type", "exchange", "currency", "sector",
                           "active", "added"};
    struct cli_table t;
    int oom = cli_table_init(&t, 8, names, NULL);
    for (size_t i = 0; i < n && !oom; i++) {
        char added[11];
        quant_date_format((int32_t)(recs[i].added_at / 86400), added);
        const struct quant_symbol_info *s = &recs[i].info;
        const char *row[] = {s->symbol, s->name, s->type, s->exchange, s->currency,
                             s->sector, recs[i].active ? "yes" : "no", added};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        if (n == 0 && fmt == CLI_FMT_TABLE) {
            fprintf(ctx->out, "No symbols registered. Add some with `quant symbols add AAPL`.\n");
        } else {
            struct cli_rows rows = cli_table_rows(&t);
            cli_rows_print(ctx->out, &rows, fmt);
        }
        if (fmt == CLI_FMT_TABLE)
            print_inactive(ctx, recs, n, hidden, all);
    }
    cli_table_release(&t);
    free(recs);
    quant_workspace_close(ws);
    return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

static int cmd_remove(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_list syms = {0};
    int rc = parse_symbols(ctx, argc, argv, NULL, 0, &syms);
    if (!rc && syms.n == 0)
        rc = cli_usage_error(ctx, &cmd_symbols, "symbols remove needs a symbol");
    struct quant_workspace *ws = NULL;
    if (!rc)
        rc = open_ws(ctx, argv[1], &ws);
    for (size_t i = 0; i < syms.n && !rc; i++) {
        struct quant_err err;
        quant_err_clear(&err);
        char sym[QUANT_SYMBOL_MAX + 1];
        if (quant_symbols_remove(ws, syms.v[i], sym, &err)) {
            rc = cli_fail(ctx, "symbols remove", &err);
            break;
        }
        fprintf(ctx->out, "Removed %s from the registry (its stored bars are kept)\n", sym);
    }
    quant_workspace_close(ws);
    cli_list_release(&syms);
    return rc;
}

static int cmd_search(struct cli_ctx *ctx, int argc, char **argv)
{
    int json = 0;
    const struct cli_opt opts[] = {{"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL}};
    struct cli_list words = {0};
    int rc = cli_parse_words(ctx, &cmd_symbols, argc, argv, 2, opts, CLI_NOPTS(opts), &words);
    const char *query = words.n ? words.v[0] : NULL;
    size_t nwords = words.n;
    cli_list_release(&words); /* query points into argv */
    if (!rc && nwords > 1)
        rc = cli_usage_error(ctx, &cmd_symbols, "give the search as one argument");
    else if (!rc && (!query || !*query))
        rc = cli_usage_error(ctx, &cmd_symbols, "symbols search needs a query");
    if (rc)
        return rc;
    enum cli_format fmt = json ? CLI_FMT_JSON : CLI_FMT_TABLE;
    struct quant_workspace *ws = NULL;
    rc = open_ws(ctx, argv[1], &ws);
    if (rc)
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_search_hit *hits = NULL;
    size_t n = 0;
    char note[QUANT_ERR_MSG_MAX + 64];
    if (quant_symbols_search(ws, query, &hits, &n, note, sizeof note, &err)) {
        quant_workspace_close(ws);
        return cli_fail(ctx, "symbols search", &err);
    }
    if (note[0])
        fprintf(ctx->err, "note: %s; showing local results only\n", note);
    const char *names[] = {"symbol", "name", "type", "region", "currency", "found", "score"};
    const int numeric[] = {0, 0, 0, 0, 0, 0, 1};
    struct cli_table t;
    int oom = cli_table_init(&t, 7, names, numeric);
    for (size_t i = 0; i < n && !oom; i++) {
        char score[16];
        snprintf(score, sizeof score, "%.1f", hits[i].rank);
        const char *found = hits[i].local && hits[i].remote ? "local+remote"
                            : hits[i].local                 ? "local"
                                                            : "remote";
        const struct quant_symbol_info *s = &hits[i].info;
        const char *row[] = {s->symbol, s->name, s->type, s->region, s->currency, found, score};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        if (n == 0 && fmt == CLI_FMT_TABLE) {
            fprintf(ctx->out, "No match for '%s'.\n", query);
        } else {
            struct cli_rows rows = cli_table_rows(&t);
            cli_rows_print(ctx->out, &rows, fmt);
        }
    }
    cli_table_release(&t);
    free(hits);
    quant_workspace_close(ws);
    return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

struct enrich_view {
    struct cli_ctx *ctx;
};

static void enrich_result(void *p, const struct quant_ingest_result *r)
{
    struct enrich_view *v = p;
    if (r->code)
        fprintf(v->ctx->err, "Failed %s: %s\n", r->symbol, r->error);
    else
        fprintf(v->ctx->out, "Enriched %s\n", r->symbol);
}

static int cmd_enrich(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_list syms = {0};
    int rc = parse_symbols(ctx, argc, argv, NULL, 0, &syms);
    if (rc)
        return rc;
    if (!*quant_config_get(&ctx->cfg, QUANT_SET_API_KEY)) {
        fprintf(ctx->err, "quant symbols enrich: needs an Alpha Vantage API key "
                          "(set ALPHAVANTAGE_API_KEY)\n");
        cli_list_release(&syms);
        return CLI_EXIT_CONFIG;
    }
    struct quant_workspace *ws = NULL;
    rc = open_ws(ctx, argv[1], &ws);
    if (rc) {
        cli_list_release(&syms);
        return rc;
    }
    struct enrich_view view = {ctx};
    struct quant_ingest_observer obs = {NULL, enrich_result, &view, NULL};
    struct quant_ingest_summary s;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_symbols_enrich(ws, (const char *const *)syms.v, syms.n, &obs,
                                &s, &err))
        rc = cli_fail(ctx, "symbols enrich", &err);
    else if (s.n_left)
        rc = CLI_EXIT_BUDGET;
    else if (s.n_failed)
        rc = CLI_EXIT_FAILED;
    if (s.n_left) {
        fprintf(ctx->err, "Stopped: the daily request budget is spent; %zu symbol%s left. "
                          "To finish after midnight UTC, run:\n  %s symbols enrich",
                s.n_left, s.n_left == 1 ? "" : "s", ctx->argv0);
        for (size_t i = 0; i < s.n_left; i++)
            fprintf(ctx->err, " %s", s.left[i]);
        fprintf(ctx->err, "\n");
    }
    quant_ingest_summary_release(&s);
    quant_workspace_close(ws);
    cli_list_release(&syms);
    return rc;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(ctx, &cmd_symbols, "missing subcommand (add, list, remove, "
                                                  "search or enrich)");
    const struct sub *sub = sub_for(argv[1]);
    if (!sub)
        return cli_usage_error(ctx, &cmd_symbols, "unknown subcommand '%s'", argv[1]);
    return sub->run(ctx, argc, argv);
}

static const struct sub subs[] = {
    {"add", cmd_add, CLI_OPEN_META},
    {"list", cmd_list, CLI_OPEN_READ},
    {"remove", cmd_remove, CLI_OPEN_META},
    {"search", cmd_search, CLI_OPEN_META},
    {"enrich", cmd_enrich, CLI_OPEN_META},
};

static const struct sub *sub_for(const char *name)
{
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(subs[i].name, name) == 0)
            return &subs[i];
    return NULL;
}

const struct cli_command cmd_symbols = {
    .name = "symbols",
    .summary = "manage the symbol registry: add, list, remove, search, enrich",
    .usage =
        "usage: quant symbols add SYMBOL... [--name N] [--type T] [--exchange E]\n"
        "                         [--currency C] [--region R] [--sector S] [--industry I]\n"
        "       quant symbols list [--all] [--json]\n"
        "       quant symbols remove SYMBOL...\n"
        "       quant symbols search QUERY [--json]\n"
        "       quant symbols enrich [SYMBOL...]\n"
        "\n"
        "Symbols are upper-cased and must match [A-Z0-9.^=-]{1,32}.\n"
        "  add      register symbols (or update details of a registered one)\n"
        "  list     registered symbols (--all includes inactive ones)\n"
        "  remove   unregister; stored bars are kept\n"
        "  search   the local registry merged with Alpha Vantage SYMBOL_SEARCH;\n"
        "           offline, the local answer alone\n"
        "  enrich   fill name, type, exchange, sector... from Alpha Vantage OVERVIEW\n"
        "           (one request per symbol; default: all active symbols)\n",
    .run = run,
};
