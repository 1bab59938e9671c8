/*
 * lake_io.c: a series store's tables to and from Hive-partitioned Parquet
 * (lake_io.h).  DuckDB does the Parquet work: COPY ... PARTITION_BY to write,
 * read_parquet(..., hive_partitioning = true) to read.
 */
#include "store/lake_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

/* Series tables first: they are what every command reads. */
static const struct quant_lake_table tables[] = {
    {"ohlcv", "symbol", 1},
    {"features_tech_v1", "symbol", 1},
    {"features_alpha158", "symbol", 1},
    {"labels", "symbol", 1},
    {"predictions", "symbol", 1},
    {"derived_state", "symbol", 1},
    {"walkforward_runs", "run_id", 0},
    {"walkforward_blocks", "run_id", 0},
    {"evaluation_daily", "eval_id", 0},
};

const struct quant_lake_table *quant_lake_tables(size_t *n)
{
    *n = sizeof tables / sizeof *tables;
    return tables;
}

/* Append 'a', 'b', ... (quoted SQL literals) to b. */
static enum quant_code literal_list(struct quant_buf *b, const char *const *v, size_t n)
{
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = quant_buf_append(b, ", ", 2);
        if (!rc)
            rc = quant_duck_quote_(b, v[i]);
    }
    return rc;
}

enum quant_code quant_lake_load(struct quant_series_store *s, const struct quant_lake_table *t,
                                const char *const *paths, size_t n, struct quant_err *err)
{
    if (n == 0)
        return QUANT_OK;
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    /* BY NAME: a file written before a column was added (predictions'
     * segment) loads with NULL there; union_by_name lets such files mix. */
    enum quant_code rc = quant_buf_printf(&sql, "INSERT INTO %s BY NAME SELECT * FROM read_parquet([",
                                          t->name);
    if (!rc)
        rc = literal_list(&sql, paths, n);
    if (!rc)
        rc = quant_buf_printf(&sql, "], hive_partitioning = true, union_by_name = true,"
                                    " hive_types = {'%s': VARCHAR})", t->key);
    /* No ORDER BY: each file holds one symbol in date order, and a file is
     * read whole into consecutive rows, so the rows stay grouped by symbol;
     * sorting 3.25M bars again cost a third of the load (500 x 6,500). */
    if (rc) {
        quant_buf_release(&sql);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory reading the lake");
    }
    char what[128];
    snprintf(what, sizeof what, "reading %s from the lake", t->name);
    rc = quant_series_store_exec_(s, sql.data, what, err);
    quant_buf_release(&sql);
    /* ohlcv_write.c's set of stored symbols was read before these rows came. */
    quant_ohlcv_known_reset_(s);
    return rc;
}

enum quant_code quant_lake_prints(struct quant_series_store *s, const struct quant_lake_table *t,
                                  struct quant_lake_print **out, size_t *out_n,
                                  struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    char sql[512];
    /* The row as a struct, hashed: a change to any value of any row changes
     * the sum (up to a 64-bit collision), and the sum does not depend on
     * the order rows are stored in. */
    snprintf(sql, sizeof sql,
             "SELECT CAST(%s AS VARCHAR), count(*)::BIGINT, CAST(sum(hash(quant_row)) AS VARCHAR)"
             " FROM %s AS quant_row GROUP BY 1 ORDER BY 1",
             t->key, t->name);
    duckdb_result res;
    if (duckdb_query(quant_series_store_con_(s), sql, &res) == DuckDBError) {
        enum quant_code rc = quant_series_store_fail_(s, "reading what changed",
                                                      duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    struct quant_lake_print *v = NULL;
    size_t n = 0, cap = 0;
    enum quant_code rc = QUANT_OK;
    duckdb_data_chunk c;
    while (!rc && (c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t m = duckdb_data_chunk_get_size(c);
        duckdb_vector vp = duckdb_data_chunk_get_vector(c, 0);
        duckdb_vector vn = duckdb_data_chunk_get_vector(c, 1);
        duckdb_vector vh = duckdb_data_chunk_get_vector(c, 2);
        const int64_t *rows = (const int64_t *)duckdb_vector_get_data(vn);
        for (idx_t r = 0; r < m && !rc; r++) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                struct quant_lake_print *g = realloc(v, nc * sizeof *g);
                if (!g) {
                    rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading the store");
                    break;
                }
                v = g;
                cap = nc;
            }
            quant_duck_vec_string_(vp, r, v[n].part, sizeof v[n].part);
            quant_duck_vec_string_(vh, r, v[n].hash, sizeof v[n].hash);
            v[n].rows = rows[r];
            n++;
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

enum quant_code quant_lake_write(struct quant_series_store *s, const struct quant_lake_table *t,
                                 const char *const *parts, size_t n, const char *dir,
                                 struct quant_err *err)
{
    if (n == 0)
        return QUANT_OK;
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    enum quant_code rc = quant_buf_printf(&sql, "COPY (SELECT * FROM %s WHERE %s IN (", t->name,
                                          t->key);
    if (!rc)
        rc = literal_list(&sql, parts, n);
    /* Rows in date order inside each file, so a reader's zone maps work. */
    if (!rc)
        rc = quant_buf_printf(&sql, ")%s) TO ", strcmp(t->key, "symbol") == 0 &&
                                                        strcmp(t->name, "derived_state") != 0
                                                    ? " ORDER BY symbol, date"
                                                    : "");
    if (!rc)
        rc = quant_duck_quote_(&sql, dir);
    if (!rc)
        rc = quant_buf_printf(&sql, " (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (%s),"
                                    " FILENAME_PATTERN '{uuid}')", t->key);
    if (rc) {
        quant_buf_release(&sql);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory writing the lake");
    }
    char what[128];
    snprintf(what, sizeof what, "writing %s to the lake", t->name);
    rc = quant_series_store_exec_(s, sql.data, what, err);
    quant_buf_release(&sql);
    return rc;
}
