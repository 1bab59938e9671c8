/*
 * meta_symbols.c: the symbol registry in the metadata store (meta_store.h):
 * upsert, activation, lookups and the local search.
 */
#define _GNU_SOURCE
#include "store/meta_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

/* ---- symbols ------------------------------------------------------------- */

static enum quant_code check_symbol(const char *in, char out[QUANT_SYMBOL_MAX + 1],
                                    struct quant_err *err)
{
    if (!in || !*in || strlen(in) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "symbol '%.40s' is empty or longer than %d characters",
                             in ? in : "", QUANT_SYMBOL_MAX);
    snprintf(out, QUANT_SYMBOL_MAX + 1, "%s", in);
    return quant_symbol_normalize(out, err);
}

enum quant_code quant_meta_symbol_upsert(struct quant_meta_store *s,
                                         const struct quant_symbol_info *info,
                                         int *out_created, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(info->symbol, sym, err);
    if (rc)
        return rc;
    char now[32];
    quant_meta_iso_time_((int64_t)time(NULL), now);
    /* NULLIF turns "" into NULL so COALESCE keeps the stored value: an empty
     * field means "unknown", never "erase".  The stored row is named by its
     * table (symbols.name): PostgreSQL refuses a bare name as ambiguous. */
    static const char sql[] =
        "INSERT INTO symbols (symbol, name, type, region, exchange, currency, sector, industry,"
        " active, added_at, updated_at)"
        " VALUES (?1, NULLIF(?2,''), NULLIF(?3,''), NULLIF(?4,''), NULLIF(?5,''),"
        " NULLIF(?6,''), NULLIF(?7,''), NULLIF(?8,''), 1, ?9, ?9)"
        " ON CONFLICT (symbol) DO UPDATE SET"
        " name = COALESCE(excluded.name, symbols.name), type = COALESCE(excluded.type, symbols.type),"
        " region = COALESCE(excluded.region, symbols.region),"
        " exchange = COALESCE(excluded.exchange, symbols.exchange),"
        " currency = COALESCE(excluded.currency, symbols.currency),"
        " sector = COALESCE(excluded.sector, symbols.sector),"
        " industry = COALESCE(excluded.industry, symbols.industry),"
        " active = 1, updated_at = excluded.updated_at";
    /* IMMEDIATE: the existence check and the write see the same state, so
     * out_created is right even with another writer. */
    if ((rc = quant_meta_begin_(s, META_TX_WRITE, "saving a symbol", err)))
        return rc;
    struct meta_stmt *chk, *st;
    int exists = 0;
    if (!(rc = quant_meta_prep_(s, "SELECT 1 FROM symbols WHERE symbol = ?1", &chk, err))) {
        quant_meta_bind_text_(chk, 1, sym);
        int step = meta_step(chk);
        exists = step == META_ROW;
        meta_finalize(chk);
        if (step == META_FAIL)
            rc = quant_meta_db_error_(s, "saving a symbol", err);
    }
    if (!rc && !(rc = quant_meta_prep_(s, sql, &st, err))) {
        const char *vals[] = {sym, info->name, info->type, info->region, info->exchange,
                              info->currency, info->sector, info->industry, now};
        for (int i = 0; i < 9; i++)
            quant_meta_bind_text_(st, i + 1, vals[i]);
        rc = quant_meta_step_done_(s, st, "saving the symbol", NULL, err);
    }
    if (!rc)
        rc = quant_meta_commit_(s, "saving a symbol", err);
    if (rc) {
        quant_meta_rollback_(s);
        return quant_err_prefix(err, "symbol %s: ", sym);
    }
    if (out_created)
        *out_created = !exists;
    return QUANT_OK;
}

/* An inactive symbol's reason is the error of its last failed run: the run
 * that made it inactive, unless it was asked for by name again since. */
#define SYMBOL_COLS                                                                       \
    "symbol, coalesce(name,''), coalesce(type,''), coalesce(region,''),"                  \
    " coalesce(exchange,''), coalesce(currency,''), coalesce(sector,''),"                 \
    " coalesce(industry,''), active, added_at, updated_at,"                               \
    " CASE WHEN active = 0 THEN (SELECT error FROM ingest_runs r"                          \
    "  WHERE r.symbol = symbols.symbol AND r.status = 'failed' ORDER BY r.id DESC LIMIT 1)" \
    " END"

static void read_symbol(struct meta_stmt *st, struct quant_symbol_record *r)
{
    memset(r, 0, sizeof *r);
    quant_meta_col_text_(st, 0, r->info.symbol, sizeof r->info.symbol);
    quant_meta_col_text_(st, 1, r->info.name, sizeof r->info.name);
    quant_meta_col_text_(st, 2, r->info.type, sizeof r->info.type);
    quant_meta_col_text_(st, 3, r->info.region, sizeof r->info.region);
    quant_meta_col_text_(st, 4, r->info.exchange, sizeof r->info.exchange);
    quant_meta_col_text_(st, 5, r->info.currency, sizeof r->info.currency);
    quant_meta_col_text_(st, 6, r->info.sector, sizeof r->info.sector);
    quant_meta_col_text_(st, 7, r->info.industry, sizeof r->info.industry);
    r->active = (int)meta_column_int64(st, 8);
    r->added_at = quant_meta_parse_iso_(meta_column_text(st, 9));
    r->updated_at = quant_meta_parse_iso_(meta_column_text(st, 10));
    quant_meta_col_text_(st, 11, r->inactive_reason, sizeof r->inactive_reason);
}

enum quant_code quant_meta_symbol_set_active(struct quant_meta_store *s, const char *symbol,
                                             int active, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1], now[32];
    enum quant_code rc = check_symbol(symbol, sym, err);
    struct meta_stmt *st;
    if (rc || (rc = quant_meta_prep_(s, "UPDATE symbols SET active = ?2, updated_at = ?3 WHERE symbol = ?1",
                         &st, err)))
        return rc;
    quant_meta_iso_time_((int64_t)time(NULL), now);
    quant_meta_bind_text_(st, 1, sym);
    meta_bind_int64(st, 2, active ? 1 : 0);
    quant_meta_bind_text_(st, 3, now);
    int64_t changed = 0;
    if ((rc = quant_meta_step_done_(s, st, "updating a symbol", &changed, err)))
        return rc;
    if (changed == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "symbol %s is not in the registry", sym);
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_get(struct quant_meta_store *s, const char *symbol,
                                      struct quant_symbol_record *out, struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(symbol, sym, err);
    struct meta_stmt *st;
    if (rc || (rc = quant_meta_prep_(s, "SELECT " SYMBOL_COLS " FROM symbols WHERE symbol = ?1", &st, err)))
        return rc;
    quant_meta_bind_text_(st, 1, sym);
    int step = meta_step(st);
    if (step == META_ROW)
        read_symbol(st, out);
    else if (step == META_DONE)
        rc = quant_err_set(err, QUANT_ENOTFOUND,
                           "symbol %s is not in the registry; add it with `quant symbols add %s`",
                           sym, sym);
    else
        rc = quant_meta_db_error_(s, "reading a symbol", err);
    meta_finalize(st);
    return rc;
}

/* Collect every row of a prepared symbol query (consumes st). */
static enum quant_code collect_symbols(struct quant_meta_store *s, struct meta_stmt *st,
                                       struct quant_symbol_record **out, size_t *out_n,
                                       struct quant_err *err)
{
    size_t n = 0, cap = 0;
    struct quant_symbol_record *v = NULL;
    enum quant_code rc = QUANT_OK;
    int step;
    while ((step = meta_step(st)) == META_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(v, cap * sizeof *v);
            if (!p) {
                rc = quant_err_set(err, QUANT_ENOMEM, "metadata store: out of memory");
                break;
            }
            v = p;
        }
        read_symbol(st, &v[n++]);
    }
    if (!rc && step != META_DONE)
        rc = quant_meta_db_error_(s, "listing symbols", err);
    meta_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_list(struct quant_meta_store *s, int active_only,
                                       struct quant_symbol_record **out, size_t *out_n,
                                       struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s,
                              "SELECT " SYMBOL_COLS " FROM symbols"
                              " WHERE ?1 = 0 OR active = 1 ORDER BY symbol",
                              &st, err);
    if (rc)
        return rc;
    meta_bind_int64(st, 1, active_only ? 1 : 0);
    return collect_symbols(s, st, out, out_n, err);
}

enum quant_code quant_meta_symbol_remove(struct quant_meta_store *s, const char *symbol,
                                         struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    enum quant_code rc = check_symbol(symbol, sym, err);
    struct meta_stmt *st;
    if (rc || (rc = quant_meta_prep_(s, "DELETE FROM symbols WHERE symbol = ?1", &st, err)))
        return rc;
    quant_meta_bind_text_(st, 1, sym);
    int64_t changed = 0;
    if ((rc = quant_meta_step_done_(s, st, "removing a symbol", &changed, err)))
        return rc;
    if (changed == 0)
        return quant_err_set(err, QUANT_ENOTFOUND, "symbol %s is not in the registry", sym);
    return QUANT_OK;
}

enum quant_code quant_meta_symbol_search(struct quant_meta_store *s, const char *query,
                                         size_t limit, struct quant_symbol_record **out,
                                         size_t *out_n, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    if (!query || !*query)
        return quant_err_set(err, QUANT_EINVAL, "symbol search: a search text is required");
    /* instr() rather than LIKE: the query is data, so '%' and '_' in it must
     * match themselves.  lower() folds ASCII only, like SQLite's LIKE. */
    static const char sql[] =
        "SELECT " SYMBOL_COLS ","
        " CASE WHEN lower(symbol) = lower(?1) THEN 0"
        "      WHEN instr(lower(symbol), lower(?1)) = 1 THEN 1"
        "      WHEN instr(lower(coalesce(name,'')), lower(?1)) = 1 THEN 2"
        "      ELSE 3 END AS rank"
        " FROM symbols"
        " WHERE instr(lower(symbol), lower(?1)) > 0"
        "    OR instr(lower(coalesce(name,'')), lower(?1)) > 0"
        " ORDER BY rank, symbol LIMIT ?2";
    struct meta_stmt *st;
    enum quant_code rc = quant_meta_prep_(s, sql, &st, err);
    if (rc)
        return rc;
    quant_meta_bind_text_(st, 1, query);
    meta_bind_int64(st, 2, limit ? (int64_t)limit : 50);
    return collect_symbols(s, st, out, out_n, err);
}

