/*
 * bulk_insert.c: rows held in C memory written into a table as one
 * `INSERT INTO t SELECT * FROM quant_bulk_rows()`, the table function
 * reading them in place on DuckDB's threads (ohlcv_insert.c for new bars,
 * predictions.c for scores).
 *
 * Why not the Appender: an Appender buffers its chunks and flushes them as
 * an INSERT with a single-threaded source, so all of DuckDB's work on the
 * rows (statistics, compression, writing full row groups) ran on one core.
 * A table function hands runs of rows to several threads, and DuckDB's
 * insert then compresses and writes row groups in parallel, as its own
 * read_csv load does.  Order is not kept across threads (readers sort or ask
 * for ORDER BY), but a caller that makes each run one row group's worth of
 * consecutive rows keeps every row group's min/max tight, so scans of one
 * symbol still prune.
 *
 * Ownership: the store holds the registered function, whose extra info is
 * the store itself; s->bulk points at the caller's rows only while the
 * INSERT runs.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "core/banned.h"

#define FN_NAME "quant_bulk_rows"

struct global_state {
    const struct quant_bulk_rows *rows;
    atomic_size_t next_run;
};

struct local_state {
    size_t run, pos;
    int active;        /* a run is claimed and not yet exhausted */
};

static void fn_bind(duckdb_bind_info info)
{
    struct quant_series_store *s = duckdb_bind_get_extra_info(info);
    if (!s->bulk) {
        duckdb_bind_set_error(info, FN_NAME " is internal to quant's writes");
        return;
    }
    for (size_t i = 0; i < s->bulk->ncols; i++)
        duckdb_bind_add_result_column(info, s->bulk->names[i], s->bulk->types[i]);
}

static void fn_init(duckdb_init_info info)
{
    struct quant_series_store *s = duckdb_init_get_extra_info(info);
    struct global_state *g = malloc(sizeof *g);
    if (!g) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    g->rows = s->bulk;
    atomic_init(&g->next_run, 0);
    duckdb_init_set_init_data(info, g, free);
    size_t runs = g->rows ? g->rows->runs : 0;
    duckdb_init_set_max_threads(info, runs > 1 ? runs : 1);
}

static void fn_local_init(duckdb_init_info info)
{
    struct local_state *l = calloc(1, sizeof *l);
    if (!l) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    duckdb_init_set_init_data(info, l, free);
}

static void fn_scan(duckdb_function_info info, duckdb_data_chunk out)
{
    struct global_state *g = duckdb_function_get_init_data(info);
    struct local_state *l = duckdb_function_get_local_init_data(info);
    const struct quant_bulk_rows *r = g->rows;
    for (;;) {
        if (!l->active) {
            size_t run = r ? atomic_fetch_add(&g->next_run, 1) : 0;
            if (!r || run >= r->runs) {
                duckdb_data_chunk_set_size(out, 0);
                return;
            }
            l->run = run;
            l->pos = 0;
            l->active = 1;
        }
        size_t m = r->fill(r->ctx, l->run, &l->pos, out);
        if (m) {
            duckdb_data_chunk_set_size(out, m);
            return;
        }
        l->active = 0; /* this run is done: claim the next */
    }
}

enum quant_code quant_bulk_ready_(struct quant_series_store *s, struct quant_err *err)
{
    if (s->bulk_registered)
        return QUANT_OK;
    duckdb_table_function tf = duckdb_create_table_function();
    if (!tf)
        return quant_err_set(err, QUANT_ENOMEM, "store %s: out of memory", s->path);
    duckdb_table_function_set_name(tf, FN_NAME);
    duckdb_table_function_set_extra_info(tf, s, NULL);
    duckdb_table_function_set_bind(tf, fn_bind);
    duckdb_table_function_set_init(tf, fn_init);
    duckdb_table_function_set_local_init(tf, fn_local_init);
    duckdb_table_function_set_function(tf, fn_scan);
    duckdb_state st = duckdb_register_table_function(s->con, tf);
    duckdb_destroy_table_function(&tf);
    if (st == DuckDBError)
        return quant_err_set(err, QUANT_ESTORE, "store %s: cannot register the bulk insert "
                             "function", s->path);
    s->bulk_registered = 1;
    return QUANT_OK;
}

void quant_bulk_failed_(struct quant_series_store *s)
{
    duckdb_result res;
    (void)duckdb_query(s->con, "SET preserve_insertion_order = true", &res);
    duckdb_destroy_result(&res);
}

/* Run sql; a failed constraint is named as bad input, as the Appender's is. */
static enum quant_code run(struct quant_series_store *s, const char *sql, const char *what,
                           const char *bad_row, struct quant_err *err)
{
    duckdb_result res;
    enum quant_code rc = QUANT_OK;
    if (duckdb_query(s->con, sql, &res) == DuckDBError) {
        const char *m = duckdb_result_error(&res);
        if (bad_row && m && strstr(m, "constraint failed"))
            rc = quant_err_set(err, QUANT_ESTORE, "store %s: %s (%s)", s->path, m, bad_row);
        else
            rc = quant_series_store_fail_(s, what, m, err);
    }
    duckdb_destroy_result(&res);
    return rc;
}

enum quant_code quant_bulk_insert_(struct quant_series_store *s, const char *table,
                                   const struct quant_bulk_rows *rows, const char *what,
                                   const char *bad_row, struct quant_err *err)
{
    if (rows->runs == 0)
        return QUANT_OK;
    if (!s->bulk_registered)
        return quant_err_set(err, QUANT_EINTERNAL, "store %s: the bulk insert function was "
                             "not registered before the transaction", s->path);
    /* Without order preservation DuckDB's insert runs on every thread. */
    int parallel = rows->runs > 1;
    enum quant_code rc = parallel ? run(s, "SET preserve_insertion_order = false",
                                        "allowing a parallel insert", NULL, err)
                                  : QUANT_OK;
    if (!rc) {
        char sql[160];
        snprintf(sql, sizeof sql, "INSERT INTO %s SELECT * FROM " FN_NAME "()", table);
        s->bulk = rows;
        rc = run(s, sql, what, bad_row, err);
        s->bulk = NULL;
    }
    if (parallel) {
        /* Put back even after a failure, so other statements keep their
         * order (in an aborted transaction this SET may be refused too: the
         * writer repeats it after its ROLLBACK, quant_bulk_failed_). */
        struct quant_err e2;
        enum quant_code r2 = run(s, "SET preserve_insertion_order = true",
                                 "restoring insertion order", NULL, &e2);
        if (!rc && r2)
            rc = quant_err_set(err, r2, "%s", e2.msg);
    }
    return rc;
}
