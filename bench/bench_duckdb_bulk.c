/*
 * bench_duckdb_bulk.c: DuckDB's own bulk path on a long price CSV, the floor
 * bench/pipeline.py holds `quant ingest` against.  One load per process, so
 * the driver measures each load's wall time and peak RSS on its own and can
 * interleave it with the quant and peer runs.
 *
 *   bench_duckdb_bulk MODE LONG.csv OUT.duckdb QUANT.duckdb
 *
 *   MODE   ctas   CREATE TABLE ohlcv AS SELECT * FROM read_csv(LONG.csv)
 *          pk     INSERT INTO quant's ohlcv table, PRIMARY KEY (symbol, date)
 *                 added if quant's schema has none
 *          nopk   the same table without its PRIMARY KEY (symbol and date
 *                 then lose the NOT NULL the key implied; nothing else changes)
 *
 * The ohlcv DDL is read from QUANT.duckdb (a store `quant init-db` made), so
 * the baseline follows quant's schema as it changes instead of a copy of it
 * going stale here.  LONG.csv is symbol,date,open,high,low,close,adj_close,
 * volume; Yahoo's `null` rows are read as NULL and left out of the inserts,
 * since the table's NOT NULL columns refuse them (quant drops them too).
 * OUT.duckdb must not exist.  Prints one line:
 *
 *   mode M rows N quant_pk 0|1 open_s A load_s B close_s C total_s D
 *
 * total_s runs from duckdb_open to the end of duckdb_close (the checkpoint
 * that makes the table durable).  Exit 1 with the reason on any failure.
 */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/banned.h"

#define DDL_MAX 8192
#define SQL_MAX (DDL_MAX + 4096)

/* Yahoo writes `null` for a missing value; an empty field is missing too. */
#define READ_CSV "read_csv('%s', header = true, nullstr = ['', 'null'])"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_duckdb_bulk: %s: %s\n", what, why ? why : "(no message)");
    exit(1);
}

static void run(duckdb_connection con, const char *sql, duckdb_result *res)
{
    if (duckdb_query(con, sql, res) != DuckDBSuccess) {
        char what[256];
        snprintf(what, sizeof what, "%.200s", sql);
        die(what, duckdb_result_error(res));
    }
}

/* quant's ohlcv DDL, as DuckDB prints it back, from a store quant made. */
static void read_quant_ddl(const char *quant_db, char *ddl, size_t n)
{
    duckdb_config cfg;
    duckdb_database db;
    duckdb_connection con;
    char *msg = NULL;
    if (duckdb_create_config(&cfg) != DuckDBSuccess ||
        duckdb_set_config(cfg, "access_mode", "READ_ONLY") != DuckDBSuccess)
        die("duckdb config", "cannot create");
    if (duckdb_open_ext(quant_db, &db, cfg, &msg) != DuckDBSuccess)
        die(quant_db, msg);
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(db, &con) != DuckDBSuccess)
        die(quant_db, "cannot connect");
    duckdb_result res;
    run(con, "SELECT sql FROM duckdb_tables() WHERE table_name = 'ohlcv'", &res);
    char *sql = duckdb_row_count(&res) ? duckdb_value_varchar(&res, 0, 0) : NULL;
    if (!sql)
        die(quant_db, "has no ohlcv table: is it a store `quant init-db` made?");
    if (strlen(sql) >= n)
        die(quant_db, "the ohlcv DDL is longer than this bench's buffer");
    snprintf(ddl, n, "%s", sql);
    duckdb_free(sql);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/*
 * Cut the table-level ", PRIMARY KEY(...)" out of ddl; returns 1 if there was
 * one.  DuckDB prints the key last, as one clause, with balanced brackets.
 */
static int strip_primary_key(char *ddl)
{
    char *pk = strstr(ddl, ", PRIMARY KEY");
    if (!pk)
        return 0;
    char *open = strchr(pk, '(');
    char *close = open ? strchr(open, ')') : NULL;
    if (!close)
        die("quant's ohlcv DDL", "PRIMARY KEY clause without its column list");
    memmove(pk, close + 1, strlen(close + 1) + 1);
    return 1;
}

/* Append ", PRIMARY KEY(symbol, date)" before the DDL's last ')'. */
static void add_primary_key(char *ddl, size_t n)
{
    char *end = strrchr(ddl, ')');
    if (!end)
        die("quant's ohlcv DDL", "no closing bracket");
    char tail[64];
    snprintf(tail, sizeof tail, "%s", end);
    const char *key = ", PRIMARY KEY(symbol, date)";
    if (strlen(ddl) + strlen(key) + 1 > n)
        die("quant's ohlcv DDL", "too long to add a key");
    snprintf(end, n - (size_t)(end - ddl), "%s%s", key, tail);
}

/* The load statement(s) for mode into sql; NULL DDL for ctas. */
static void build_sql(const char *mode, const char *csv, char *ddl, int quant_pk, char *sql,
                      size_t n)
{
    if (strcmp(mode, "ctas") == 0) {
        ddl[0] = '\0';
        snprintf(sql, n, "CREATE TABLE ohlcv AS SELECT * FROM " READ_CSV, csv);
        return;
    }
    if (strcmp(mode, "pk") == 0) {
        if (!quant_pk)
            add_primary_key(ddl, DDL_MAX);
    } else if (strcmp(mode, "nopk") == 0) {
        strip_primary_key(ddl);
    } else {
        die(mode, "unknown mode (ctas, pk or nopk)");
    }
    /* The columns quant fills from a CSV; the rest keep their defaults. */
    snprintf(sql, n,
             "INSERT INTO ohlcv (symbol, date, open, high, low, close, adj_close, volume, "
             "source, ingested_at) SELECT symbol, date, open, high, low, close, adj_close, "
             "volume, 'csv', now() FROM " READ_CSV
             " WHERE open IS NOT NULL AND high IS NOT NULL AND low IS NOT NULL"
             " AND close IS NOT NULL AND volume IS NOT NULL",
             csv);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_duckdb_bulk ctas|pk|nopk LONG.csv OUT.duckdb QUANT.duckdb\n");
        return 2;
    }
    const char *mode = argv[1], *csv = argv[2], *out = argv[3];
    if (strchr(csv, '\''))
        die(csv, "a path with a quote cannot go into the SQL text");
    if (access(out, F_OK) == 0)
        die(out, "exists already: the load must go into a fresh database");
    static char ddl[DDL_MAX], sql[SQL_MAX];
    read_quant_ddl(argv[4], ddl, sizeof ddl);
    int quant_pk = strstr(ddl, "PRIMARY KEY") != NULL;
    build_sql(mode, csv, ddl, quant_pk, sql, sizeof sql);

    double t0 = bench_now();
    duckdb_database db;
    duckdb_connection con;
    char *msg = NULL;
    if (duckdb_open_ext(out, &db, NULL, &msg) != DuckDBSuccess)
        die(out, msg);
    if (duckdb_connect(db, &con) != DuckDBSuccess)
        die(out, "cannot connect");
    duckdb_result res;
    if (ddl[0]) {
        run(con, ddl, &res);
        duckdb_destroy_result(&res);
    }
    double t1 = bench_now();
    run(con, sql, &res);
    duckdb_destroy_result(&res);
    run(con, "SELECT count(*) FROM ohlcv", &res);
    long long rows = (long long)duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    double t2 = bench_now();
    duckdb_disconnect(&con);
    duckdb_close(&db);
    double t3 = bench_now();
    printf("mode %s rows %lld quant_pk %d open_s %.3f load_s %.3f close_s %.3f total_s %.3f\n",
           mode, rows, quant_pk, t1 - t0, t2 - t1, t3 - t2, t3 - t0);
    return 0;
}
