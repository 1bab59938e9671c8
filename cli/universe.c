/* universe.c: `quant universe add|list|show|remove`: point-in-time universes (universe.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "table.h"
#include "quant/clock.h"
#include "quant/universe.h"
#include "core/banned.h"

/* The subcommands and what each opens: add and remove write the registry
 * only, so they never wait for an ingest; list and show only read. */
struct sub {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    enum cli_open open;
};
static const struct sub *sub_for(const char *name);

static int open_ws(struct cli_ctx *ctx, const char *sub, struct quant_workspace **ws)
{
    char what[32];
    snprintf(what, sizeof what, "universe %s", sub);
    return cli_open_workspace(ctx, what, sub_for(sub)->open, ws);
}

static int fail(struct cli_ctx *ctx, const char *sub, const struct quant_err *err)
{
    char what[32];
    snprintf(what, sizeof what, "universe %s", sub);
    return cli_fail(ctx, what, err);
}

/* The subcommand's options and its one NAME, checked before any store opens. */
static int parse_name(struct cli_ctx *ctx, int argc, char **argv, const struct cli_opt *opts,
                      size_t n_opts, const char **name)
{
    struct cli_list words = {0};
    int rc = cli_parse_words(ctx, &cmd_universe, argc, argv, 2, opts, n_opts, &words);
    *name = words.n == 1 ? words.v[0] : NULL;
    size_t n = words.n;
    cli_list_release(&words); /* the name points into argv */
    if (rc)
        return rc;
    if (n != 1)
        return cli_usage_error(ctx, &cmd_universe, "universe %s takes one universe name%s",
                               argv[1], n ? "" : " (`quant universe list` shows them)");
    struct quant_err err;
    if (quant_universe_check_name(*name, &err))
        return cli_usage_error(ctx, &cmd_universe, "%s", err.msg);
    return 0;
}

/* "1 symbol" / "1,234 symbols". */
static void counted(long n, const char *word, char *out, size_t cap)
{
    char c[32];
    cli_fmt_count(n, c, sizeof c);
    snprintf(out, cap, "%s %s%s", c, word, n == 1 ? "" : "s");
}

/* "sp-demo: 120 symbols, 143 intervals, 1990-01-02 .. 2024-12-31" */
static void summary(const struct quant_universe_record *r, char *out, size_t cap)
{
    char syms[48], ivs[48], first[11], last[11];
    counted(r->n_symbols, "symbol", syms, sizeof syms);
    counted(r->n_intervals, "interval", ivs, sizeof ivs);
    quant_date_format(r->first, first);
    quant_date_format(r->last, last);
    snprintf(out, cap, "%s: %s, %s, %s .. %s", r->name, syms, ivs, first, last);
}

static int cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *members = NULL, *name = NULL;
    int replace = 0;
    const struct cli_opt opts[] = {
        {"--members", NULL, CLI_OPT_STRING, &members, 0, 0,
         "a file of SYMBOL<TAB>START<TAB>END lines"},
        {"--replace", NULL, CLI_OPT_FLAG, &replace, 0, 0, NULL},
    };
    int rc = parse_name(ctx, argc, argv, opts, CLI_NOPTS(opts), &name);
    if (!rc && !members)
        rc = cli_usage_error(ctx, &cmd_universe, "universe add needs --members FILE (a Qlib "
                                                 "instruments file: SYMBOL<TAB>START<TAB>END)");
    struct quant_workspace *ws = NULL;
    if (rc || (rc = open_ws(ctx, argv[1], &ws)))
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_universe_added a;
    if (quant_universe_add(ws, name, members, replace, &a, &err)) {
        quant_workspace_close(ws);
        return fail(ctx, argv[1], &err);
    }
    quant_workspace_close(ws);
    char line[256];
    summary(&a.rec, line, sizeof line);
    fprintf(ctx->out, "Universe %s%s\n", line, a.replaced ? " (replaced the stored one)" : "");
    if (a.file.merged) {
        char lines[48];
        counted(a.file.merged, "line", lines, sizeof lines);
        fprintf(ctx->err, "note: %s merged into an overlapping or adjacent interval of the "
                          "same symbol (first: %s); membership is their union\n",
                lines, a.file.first_merged);
    }
    if (a.n_without_bars)
        fprintf(ctx->err, "warning: %zu of %ld symbols have no bars stored by any ingest yet: "
                          "%s (a typo? `quant ingest --symbols SYMBOL` fetches one)\n",
                a.n_without_bars, a.rec.n_symbols, a.without_bars);
    return CLI_EXIT_OK;
}

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
    int json = 0;
    const struct cli_opt opts[] = {{"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL}};
    int rc = cli_parse_words(ctx, &cmd_universe, argc, argv, 2, opts, CLI_NOPTS(opts), NULL);
    struct quant_workspace *ws = NULL;
    if (rc || (rc = open_ws(ctx, argv[1], &ws)))
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_universe_record *v = NULL;
    size_t n = 0;
    if (quant_universe_list(ws, &v, &n, &err)) {
        quant_workspace_close(ws);
        return fail(ctx, argv[1], &err);
    }
    quant_workspace_close(ws);
    if (n == 0 && !json) {
        fprintf(ctx->out, "No universes stored. Add one with `quant universe add NAME "
                          "--members FILE`.\n");
        free(v);
        return CLI_EXIT_OK;
    }
    const char *names[] = {"name", "symbols", "intervals", "first", "last", "created",
                           "source"};
    const int numeric[] = {0, 1, 1, 0, 0, 0, 0};
    struct cli_table t;
    int oom = cli_table_init(&t, 7, names, numeric);
    for (size_t i = 0; i < n && !oom; i++) {
        char syms[32], ivs[32], first[11], last[11], created[32];
        snprintf(syms, sizeof syms, "%ld", v[i].n_symbols);
        snprintf(ivs, sizeof ivs, "%ld", v[i].n_intervals);
        quant_date_format(v[i].first, first);
        quant_date_format(v[i].last, last);
        quant_utc_format(v[i].created_at, QUANT_UTC_HUMAN, created, sizeof created);
        const char *row[] = {v[i].name, syms, ivs, first, last, created, v[i].source};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        struct cli_rows rows = cli_table_rows(&t);
        cli_rows_print(ctx->out, &rows, json ? CLI_FMT_JSON : CLI_FMT_TABLE);
    }
    cli_table_release(&t);
    free(v);
    return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

/* The rows show prints: every interval, or with a date the one holding it. */
struct shown {
    size_t symbol;   /* index in the universe */
    int32_t start, end;
};

static size_t collect(const struct quant_universe *u, int has_date, int32_t date,
                      struct shown *out)
{
    size_t k = 0;
    for (size_t i = 0; i < quant_universe_symbol_count(u); i++) {
        const int32_t *s, *e;
        size_t n = quant_universe_intervals(u, i, &s, &e);
        for (size_t j = 0; j < n; j++)
            if (!has_date || (s[j] <= date && date <= e[j]))
                out[k++] = (struct shown){i, s[j], e[j]};
    }
    return k;
}

static int show_json(struct cli_ctx *ctx, const struct quant_universe *u, const char *date,
                     const struct shown *rows, size_t n)
{
    const struct quant_universe_record *r = quant_universe_info(u);
    char first[11], last[11], created[32], d[2][11];
    quant_date_format(r->first, first);
    quant_date_format(r->last, last);
    quant_utc_format(r->created_at, QUANT_UTC_HUMAN, created, sizeof created);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return 1;
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddNumberToObject(o, "symbols", (double)r->n_symbols);
    cJSON_AddNumberToObject(o, "intervals", (double)r->n_intervals);
    cJSON_AddStringToObject(o, "first", first);
    cJSON_AddStringToObject(o, "last", last);
    cJSON_AddStringToObject(o, "created", created);
    cJSON_AddStringToObject(o, "source", r->source);
    if (date)
        cJSON_AddStringToObject(o, "date", date);
    else
        cJSON_AddNullToObject(o, "date");
    cJSON *arr = cJSON_AddArrayToObject(o, "members");
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddItemToArray(arr, m)) {
            cJSON_Delete(m);
            cJSON_Delete(o);
            return 1;
        }
        quant_date_format(rows[i].start, d[0]);
        quant_date_format(rows[i].end, d[1]);
        cJSON_AddStringToObject(m, "symbol", quant_universe_symbol(u, rows[i].symbol));
        cJSON_AddStringToObject(m, "start", d[0]);
        cJSON_AddStringToObject(m, "end", d[1]);
    }
    char *text = arr ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return 1;
    fprintf(ctx->out, "%s\n", text);
    free(text);
    return 0;
}

static int show_table(struct cli_ctx *ctx, const struct quant_universe *u, const char *date,
                      const struct shown *rows, size_t n)
{
    const struct quant_universe_record *r = quant_universe_info(u);
    char line[256], created[32];
    summary(r, line, sizeof line);
    quant_utc_format(r->created_at, QUANT_UTC_HUMAN, created, sizeof created);
    fprintf(ctx->out, "Universe %s\nfrom %s, stored %s\n", line, r->source, created);
    if (date) {
        size_t members = 0;
        for (size_t i = 0; i < n; i++)
            members += i == 0 || rows[i].symbol != rows[i - 1].symbol;
        char of[48];
        counted(r->n_symbols, "symbol", of, sizeof of);
        fprintf(ctx->out, "On %s: %zu of %s %s\n", date, members, of,
                members == 1 ? "is a member" : "are members");
        if (n == 0)
            return 0;
    }
    const char *names[] = {"symbol", "start", "end"};
    struct cli_table t;
    int oom = cli_table_init(&t, 3, names, NULL);
    for (size_t i = 0; i < n && !oom; i++) {
        char s[11], e[11];
        quant_date_format(rows[i].start, s);
        quant_date_format(rows[i].end, e);
        const char *row[] = {quant_universe_symbol(u, rows[i].symbol), s, e};
        oom = cli_table_add(&t, row);
    }
    if (!oom) {
        struct cli_rows cr = cli_table_rows(&t);
        cli_rows_print(ctx->out, &cr, CLI_FMT_TABLE);
    }
    cli_table_release(&t);
    return oom;
}

static int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *date_text = NULL;
    int json = 0;
    const struct cli_opt opts[] = {
        {"--date", NULL, CLI_OPT_STRING, &date_text, 0, 0, "a day YYYY-MM-DD"},
        {"--json", NULL, CLI_OPT_FLAG, &json, 0, 0, NULL},
    };
    int rc = parse_name(ctx, argc, argv, opts, CLI_NOPTS(opts), &name);
    int32_t date = 0;
    if (!rc && date_text &&
        (strlen(date_text) != 10 || quant_date_parse(date_text, 10, &date) != 0))
        rc = cli_usage_error(ctx, &cmd_universe, "--date takes a calendar day YYYY-MM-DD, "
                                                 "not '%s'",
                             date_text);
    struct quant_workspace *ws = NULL;
    if (rc || (rc = open_ws(ctx, argv[1], &ws)))
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_universe *u = NULL;
    if (quant_universe_load(ws, name, &u, &err)) {
        quant_workspace_close(ws);
        return fail(ctx, argv[1], &err);
    }
    quant_workspace_close(ws);
    size_t total = (size_t)quant_universe_info(u)->n_intervals;
    struct shown *rows = malloc((total ? total : 1) * sizeof *rows);
    int oom = !rows;
    if (!oom) {
        size_t n = collect(u, date_text != NULL, date, rows);
        oom = json ? show_json(ctx, u, date_text, rows, n) : show_table(ctx, u, date_text, rows, n);
    }
    free(rows);
    quant_universe_free(u);
    return oom ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

static int cmd_remove(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL;
    int rc = parse_name(ctx, argc, argv, NULL, 0, &name);
    struct quant_workspace *ws = NULL;
    if (rc || (rc = open_ws(ctx, argv[1], &ws)))
        return rc;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_universe_record r;
    if (quant_universe_remove(ws, name, &r, &err)) {
        quant_workspace_close(ws);
        return fail(ctx, argv[1], &err);
    }
    quant_workspace_close(ws);
    char line[256];
    summary(&r, line, sizeof line);
    fprintf(ctx->out, "Removed universe %s (bars and models are kept)\n", line);
    return CLI_EXIT_OK;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(ctx, &cmd_universe, "missing subcommand (add, list, show or "
                                                   "remove)");
    const struct sub *sub = sub_for(argv[1]);
    if (!sub)
        return cli_usage_error(ctx, &cmd_universe, "unknown subcommand '%s'", argv[1]);
    return sub->run(ctx, argc, argv);
}

static const struct sub subs[] = {
    {"add", cmd_add, CLI_OPEN_META},
    {"list", cmd_list, CLI_OPEN_READ},
    {"show", cmd_show, CLI_OPEN_READ},
    {"remove", cmd_remove, CLI_OPEN_META},
};

static const struct sub *sub_for(const char *name)
{
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(subs[i].name, name) == 0)
            return &subs[i];
    return NULL;
}

const struct cli_command cmd_universe = {
    .name = "universe",
    .summary = "point-in-time universes: add, list, show, remove",
    .usage =
        "usage: quant universe add NAME --members FILE [--replace]\n"
        "       quant universe list [--json]\n"
        "       quant universe show NAME [--date YYYY-MM-DD] [--json]\n"
        "       quant universe remove NAME\n"
        "\n"
        "A universe is a named list of membership intervals: a symbol is a member\n"
        "from START to END, both days included, and may have several intervals.\n"
        "  add      store a Qlib instruments file: one SYMBOL<TAB>START<TAB>END line\n"
        "           per interval (days YYYY-MM-DD; spaces also separate; '#' starts\n"
        "           a comment). Checked whole before anything is stored; a symbol's\n"
        "           overlapping or adjacent intervals are merged. An existing name\n"
        "           needs --replace, which swaps all its intervals at once\n"
        "  list     every universe: symbols, intervals, first and last day, source\n"
        "  show     a universe's intervals by symbol; --date: the members that day\n"
        "  remove   forget a universe (bars, models and predictions are kept)\n"
        "\n"
        "Names: 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or\n"
        "digit; case does not tell two universes apart.\n",
    .run = run,
};
