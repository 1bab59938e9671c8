/*
 * market_fixture.c: see market_fixture.h.
 */
#include "market_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "providers/synthetic_internal.h"
#include "quant/series_store.h"

int32_t tu_day(const char *s)
{
    int32_t d;
    if (quant_date_parse(s, strlen(s), &d))
        fail_msg("bad test date '%s'", s);
    return d;
}

static void put_symbol(struct quant_workspace *ws, const char *symbol, int n_days,
                       const char *end_date, uint64_t seed)
{
    struct quant_synth_options o;
    quant_synth_options_default(&o);
    o.seed = seed;
    o.n_days = n_days;
    o.end_date = tu_day(end_date);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store *s = quant_workspace_series(ws, &err);
    if (!s)
        fail_msg("series store: %s", err.msg);
    struct quant_bars bars;
    quant_bars_init(&bars);
    if (quant_synth_generate(&o, symbol, &bars, &err) ||
        quant_series_store_upsert_bars(s, &bars, "synthetic", NULL, &err))
        fail_msg("%s: %s", symbol, err.msg);
    quant_bars_release(&bars);
}

void tu_market_open(struct tu_market *m, int n_symbols, int n_days, const char *end_date,
                    uint64_t seed)
{
    memset(m, 0, sizeof *m);
    char home[PATH_MAX + 8];
    snprintf(home, sizeof home, "%s/home", tu_scratch_dir);
    quant_config_init(&m->cfg);
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_config_set_flag(&m->cfg, QUANT_SET_HOME, home) ||
        quant_config_resolve(&m->cfg, &err))
        fail_msg("config: %s", err.msg);
    if (quant_workspace_open(&m->cfg, QUANT_WS_WRITE, &m->ws, &err))
        fail_msg("workspace: %s", err.msg);
    for (int i = 0; i < n_symbols; i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        quant_synth_symbol_name(i, sym);
        put_symbol(m->ws, sym, n_days, end_date, seed);
    }
}

void tu_market_add(struct tu_market *m, const char *symbol, int n_days, const char *end_date,
                   uint64_t seed)
{
    put_symbol(m->ws, symbol, n_days, end_date, seed);
}

void tu_market_close(struct tu_market *m)
{
    quant_workspace_close(m->ws);
    quant_config_release(&m->cfg);
    memset(m, 0, sizeof *m);
}

long tu_ws_long(struct quant_workspace *ws, const char *sql)
{
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_series_store *s = quant_workspace_series(ws, &err);
    if (!s)
        fail_msg("series store: %s", err.msg);
    struct quant_table t;
    memset(&t, 0, sizeof t);
    if (quant_series_store_query(s, sql, 0, &t, &err))
        fail_msg("%s\n-> %s", sql, err.msg);
    if (t.nrows != 1 || t.ncols != 1 || !t.cells[0])
        fail_msg("%s\n-> %zu rows x %zu columns, not one number", sql, t.nrows, t.ncols);
    char *end = NULL;
    long v = strtol(t.cells[0], &end, 10);
    if (*end)
        fail_msg("%s\n-> '%s', not an integer", sql, t.cells[0]);
    quant_table_release(&t);
    return v;
}
