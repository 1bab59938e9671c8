/*
 * schema.c: quant's tables in a new store file, the schema version in
 * quant_meta, and the migrations that bring an older file up to date on its
 * first read-write open (one transaction: a failed or killed migration leaves
 * the file as it was).  A read-only open migrates nothing and reads the old
 * layout as it is.  The derived tables (features, labels, predictions) are
 * created by feature_store.c; a migration may still rebuild them here, since
 * the version is one number for the whole file.
 *
 * Versions:
 *   1  ohlcv without quality
 *   2  ohlcv.quality (QUANT_Q_* bits of bars.h), 0 on the rows stored before
 *   3  no PRIMARY KEY on ohlcv (symbol, date) nor on predictions
 *      (symbol, date, model_id): see ohlcv_ddl below for why
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "core/banned.h"

/*
 * ohlcv as a new file gets it, and as version 3 rebuilds it.
 *
 * No PRIMARY KEY.  (symbol, date) is unique all the same: DuckDB admits one
 * writer process per file, quant is that writer, and ohlcv_write.c never
 * appends a date a symbol already has (it diffs the incoming bars against the
 * stored ones in C and updates changed rows in place).  What the key cost:
 * its ART index took about half of a bulk load's time (DuckDB's own
 * read_csv into the table: 0.93M rows/s with the key against 1.8-1.96M
 * without, 500 x 6,500 bars), and every row it held was pinned in memory.
 * Readers lose nothing: an equality on symbol is answered from the zone maps
 * of the symbol column, since rows are stored in (symbol, date) order.
 * NOT NULL and the volume CHECK stay: they are the last line of defence
 * against a provider bug (such a row fails the whole call, which rolls back).
 */
#define OHLCV_COLUMNS                                                                        \
    " symbol VARCHAR NOT NULL, date DATE NOT NULL,"                                         \
    " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL," \
    " adj_close DOUBLE, volume DOUBLE NOT NULL CHECK (volume >= 0),"                         \
    " dividend DOUBLE, split_coefficient DOUBLE,"                                           \
    " source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL,"                             \
    " quality UTINYINT DEFAULT 0"

/* The same layout as feature_store.c's predictions (segment added later by
 * ALTER there, so it is last). */
#define PREDICTIONS_COLUMNS                                                                  \
    " symbol VARCHAR NOT NULL, date DATE NOT NULL, model_id VARCHAR NOT NULL,"              \
    " score DOUBLE NOT NULL, segment VARCHAR"

static const char *const schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS ohlcv (" OHLCV_COLUMNS ")",
    "CREATE TABLE IF NOT EXISTS quant_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "INSERT INTO quant_meta VALUES ('schema_version', '3') ON CONFLICT DO NOTHING",
};

/* 1 -> 2: ohlcv.quality (0 for the rows stored before: stored as published). */
static const char *const migrate_v2_sql[] = {
    "ALTER TABLE ohlcv ADD COLUMN quality UTINYINT DEFAULT 0",
};

/*
 * 2 -> 3: DuckDB cannot drop a constraint, so the two keyed tables are
 * rebuilt: copied in key order into a new table, the old one dropped, the
 * new one renamed.  Rows keep their (symbol, date) order, which is what makes
 * the zone maps answer a symbol's rows without the index.
 */
static const char *const migrate_v3_ohlcv_sql[] = {
    "CREATE TABLE quant_ohlcv_v3 (" OHLCV_COLUMNS ")",
    ("INSERT INTO quant_ohlcv_v3 SELECT symbol, date, open, high, low, close, adj_close,"
     " volume, dividend, split_coefficient, source, ingested_at, quality"
     " FROM ohlcv ORDER BY symbol, date"),
    "DROP TABLE ohlcv",
    "ALTER TABLE quant_ohlcv_v3 RENAME TO ohlcv",
};

static const char *const migrate_v3_predictions_sql[] = {
    "ALTER TABLE predictions ADD COLUMN IF NOT EXISTS segment VARCHAR",
    "CREATE TABLE quant_predictions_v3 (" PREDICTIONS_COLUMNS ")",
    /* parenthesised: one statement in two literals, not a missing comma */
    ("INSERT INTO quant_predictions_v3 SELECT symbol, date, model_id, score, segment"
     " FROM predictions ORDER BY model_id, symbol, date"),
    "DROP TABLE predictions",
    "ALTER TABLE quant_predictions_v3 RENAME TO predictions",
};

/* schema_version from quant_meta; 0 when the table is absent (a new file,
 * or a read-only store made by another tool: the binder then fails on the
 * table, which is not worth reporting). */
static long read_version(struct quant_series_store *s)
{
    long version = 0;
    duckdb_result res;
    if (duckdb_query(s->con, "SELECT value FROM quant_meta WHERE key = 'schema_version'",
                     &res) == DuckDBSuccess && duckdb_row_count(&res) > 0) {
        char *v = duckdb_value_varchar(&res, 0, 0);
        if (v)
            version = strtol(v, NULL, 10);
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    return version;
}

/* 1 when the main schema has table `name`, 0 when not, -1 on failure. */
static int has_table(struct quant_series_store *s, const char *name, struct quant_err *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'"
             " AND NOT temporary AND table_name = '%s'", name);
    duckdb_result res;
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        quant_series_store_fail_(s, "reading the catalog", duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return -1;
    }
    int n = (int)duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    return n > 0;
}

static enum quant_code run_all(struct quant_series_store *s, const char *const *sql, size_t n,
                               const char *what, struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; !rc && i < n; i++)
        rc = quant_series_store_exec_(s, sql[i], what, err);
    return rc;
}

#define RUN_ALL(s, v, what, err) run_all(s, v, sizeof v / sizeof *v, what, err)

/* The migrations from `version` up, inside the schema transaction.  Version
 * 0 is a new file: schema_sql just created everything at the latest version. */
static enum quant_code migrate(struct quant_series_store *s, long version,
                               struct quant_err *err)
{
    enum quant_code rc = QUANT_OK;
    if (version >= 1 && version < 2)
        rc = RUN_ALL(s, migrate_v2_sql, "migrating the store to schema version 2", err);
    if (!rc && version >= 1 && version < 3) {
        const char *what = "migrating the store to schema version 3 (rebuilding ohlcv)";
        rc = RUN_ALL(s, migrate_v3_ohlcv_sql, what, err);
        int pred = rc ? 0 : has_table(s, "predictions", err);
        if (pred < 0)
            rc = QUANT_ESTORE;
        else if (pred)
            rc = RUN_ALL(s, migrate_v3_predictions_sql,
                         "migrating the store to schema version 3 (rebuilding predictions)", err);
    }
    if (!rc && version >= 1 && version < SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE quant_meta SET value = '%d' WHERE key = "
                 "'schema_version'", SCHEMA_VERSION);
        rc = quant_series_store_exec_(s, sql, "recording the schema version", err);
    }
    return rc;
}

enum quant_code quant_schema_init_(struct quant_series_store *s, struct quant_err *err)
{
    long version = read_version(s);
    enum quant_code rc;
    if (version > SCHEMA_VERSION)
        return quant_err_set(err, QUANT_ESCHEMA,
                             "store %s has schema version %ld but this quant supports up to %d; "
                             "upgrade quant",
                             s->path, version, SCHEMA_VERSION);
    s->version = version;
    if (s->read_only)
        return QUANT_OK;
    if ((rc = quant_series_store_exec_(s, "BEGIN TRANSACTION", "starting the schema transaction",
                                       err)))
        return rc;
    rc = RUN_ALL(s, schema_sql, "creating the schema", err);
    if (!rc)
        rc = migrate(s, version, err);
    if (!rc)
        rc = quant_series_store_exec_(s, "COMMIT", "committing the schema", err);
    if (rc) {
        quant_duck_rollback_(s);
        return rc;
    }
    s->version = SCHEMA_VERSION;
    /* The staging table for changed rows, per connection.  Created here, not
     * on first use, because a CREATE inside an upsert that then fails would be
     * rolled back with it. */
    return quant_series_store_exec_(s, "CREATE TEMP TABLE quant_staging AS SELECT * FROM ohlcv"
                                       " LIMIT 0", "creating the staging table", err);
}
