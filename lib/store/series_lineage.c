/*
 * series_lineage.c: one lineage per symbol in the series store (see
 * series_store.h).  It decides whether a source may write over a symbol's
 * stored bars (their sources come from the write's one scan of the stored
 * rows, ohlcv_read.c), and replaces a symbol's history (bars and everything
 * derived from them) when asked.  Called inside ohlcv_write.c's upsert
 * transaction; it never begins or ends one itself.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"
#include "core/banned.h"

/*
 * What counts as one lineage.  A CSV history topped up by Alpha Vantage is
 * the workflow README documents (Alpha Vantage's free key gives 100 days):
 * the adjustment is carried across that seam.  The reverse would rewrite an
 * Alpha Vantage history with a file's bars, and synthetic bars are never
 * real: both are refused unless the user replaces the history.
 */
int quant_lineage_compatible(const char *stored, const char *incoming)
{
    if (strcmp(stored, incoming) == 0)
        return 1;
    return strcmp(stored, "csv") == 0 && strcmp(incoming, "alphavantage") == 0;
}

static void count_text(long n, char *out, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%ld", n);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < cap)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static enum quant_code refuse(const char *sym, const struct quant_stored_source *st,
                              const char *source, struct quant_err *err)
{
    char n[32], d0[11], d1[11];
    count_text(st->bars, n, sizeof n);
    quant_date_format(st->first, d0);
    quant_date_format(st->last, d1);
    const char *hint = strcmp(st->name, "alphavantage") == 0 && strcmp(source, "csv") == 0
                           ? " (a CSV backfill goes first, then Alpha Vantage tops it up)"
                           : "";
    return quant_err_set(err, QUANT_ELINEAGE,
                         "%s has %s bars from %s (%s to %s); quant does not mix %s bars into "
                         "them%s: ingest again with --replace to replace %s's history by the "
                         "%s bars (its features, labels and predictions are deleted too), or "
                         "use another QUANT_HOME; nothing of %s was written",
                         sym, n, st->name, d0, d1, source, hint, sym, source, sym);
}

enum quant_code quant_series_store_lineage_(const char *sym,
                                            const struct quant_stored_source *src, size_t n,
                                            const char *source, int replace, char *stored,
                                            size_t stored_cap, struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    size_t used = 0;
    stored[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(stored + used, stored_cap - used, "%s%s", used ? ", " : "",
                         src[i].name);
        if (w > 0 && (size_t)w < stored_cap - used)
            used += (size_t)w;
        if (!rc && !replace && !quant_lineage_compatible(src[i].name, source))
            rc = refuse(sym, &src[i], source, err);
    }
    return rc;
}

/* Delete sym's rows from `table` (a name from DuckDB's own catalog). */
static enum quant_code delete_rows(struct quant_series_store *s, const char *table,
                                   const char *sym, struct quant_err *err)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE symbol = $1", table);
    duckdb_prepared_statement st = NULL;
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    char what[96];
    snprintf(what, sizeof what, "replacing %s's history (%s)", sym, table);
    if (duckdb_prepare(quant_series_store_con_(s), sql, &st) == DuckDBError) {
        rc = quant_series_store_fail_(s, what, duckdb_prepare_error(st), err);
    } else if (duckdb_bind_varchar(st, 1, sym) == DuckDBError ||
               duckdb_execute_prepared(st, &res) == DuckDBError) {
        rc = quant_series_store_fail_(s, what, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
    } else {
        duckdb_destroy_result(&res);
    }
    duckdb_destroy_prepare(&st);
    return rc;
}

enum quant_code quant_series_store_forget_(struct quant_series_store *s, const char *sym,
                                           struct quant_err *err)
{
    /* Everything keyed by symbol that derives from the bars, whichever of
     * these tables this store has (feature tables are created on first use). */
    duckdb_result res;
    if (duckdb_query(quant_series_store_con_(s),
                     "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND"
                     " NOT temporary AND (table_name IN ('labels', 'derived_state',"
                     " 'predictions') OR starts_with(table_name, 'features_'))"
                     " ORDER BY table_name",
                     &res) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "listing derived tables",
                                                      duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    enum quant_code rc = delete_rows(s, "ohlcv", sym, err);
    for (idx_t r = 0; !rc && r < duckdb_row_count(&res); r++) {
        char *name = duckdb_value_varchar(&res, 0, r);
        if (name && strlen(name) < 64)
            rc = delete_rows(s, name, sym, err);
        duckdb_free(name);
    }
    duckdb_destroy_result(&res);
    return rc;
}
