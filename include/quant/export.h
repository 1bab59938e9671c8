/*
 * export.h: `quant export`: a table of the store, or one query's result,
 * written to a CSV or Parquet file the user named, for pandas / Polars /
 * Arrow users.  That one file is the only thing written:
 *
 *   - the query passes the same one-statement, query-only check as
 *     `quant sql` (sql_query.h), on a store with file access off;
 *   - DuckDB's COPY then runs on a store whose only writable path is a
 *     temporary file beside the target (.NAME.quant-export-PID.tmp), which
 *     is renamed onto the target once complete: a failed or interrupted
 *     export never leaves a half-written file under the name asked for;
 *   - an existing file is replaced only with force; a target that is, or is
 *     inside, QUANT_HOME, the models folder, or one of the stores (or their
 *     journals), or quant.conf, is refused.
 *
 * Errors: QUANT_EINVAL for a bad request (both or neither of table/query,
 * unknown format, missing folder, an existing file without force, a
 * protected path, a wrong query), QUANT_EREADONLY for a refused statement,
 * QUANT_EIO when the folder cannot be written, store errors as usual.
 */
#ifndef QUANT_EXPORT_H
#define QUANT_EXPORT_H

#include <limits.h>

#include "quant/config.h"
#include "quant/error.h"
#include "quant/workspace.h"

enum quant_export_format {
    QUANT_EXPORT_AUTO = 0,   /* from the output's extension: .csv, .parquet or .pq */
    QUANT_EXPORT_CSV,        /* a header row, then one line per row */
    QUANT_EXPORT_PARQUET,    /* zstd-compressed, the store's column types kept */
};

struct quant_export_request {
    const char *table;                /* a table or view of the store, or NULL */
    const char *query;                /* or one query (NULL when table is set) */
    const char *output;               /* the file to write */
    enum quant_export_format format;
    int force;                        /* replace an existing file */
};

struct quant_export_result {
    long rows;                        /* rows written */
    enum quant_export_format format;  /* as resolved */
    char path[PATH_MAX];              /* the file written, absolute */
};

/* Run the export in a QUANT_WS_READ workspace (it reads through a sandboxed
 * connection and never waits for a writer); out is filled on success. */
enum quant_code quant_export(struct quant_workspace *ws,
                             const struct quant_export_request *req,
                             struct quant_export_result *out, struct quant_err *err);

/*
 * The lake export (`quant export --parquet DIR`): tables of the store as
 * Hive-partitioned Parquet datasets under DIR, readable as they are by
 * DuckDB, Polars, PyArrow and Spark:
 *
 *   DIR/ohlcv/symbol=AAPL/data_0.parquet            every bar
 *   DIR/features_tech_v1/symbol=AAPL/...            each feature set, wide,
 *   DIR/features_alpha158/symbol=AAPL/...           computed as it is read
 *   DIR/labels/horizon=5/symbol=AAPL/...            the labels view's horizons
 *   DIR/predictions/model_id=.../data_0.parquet     every stored score
 *   DIR/_quant_export.json                          what was written, and how
 *                                                   to read it back
 * Partition values are URL-encoded by DuckDB (GC=F is symbol=GC%3DF) and
 * decoded by every Hive reader.  A table with no rows gets no folder (the
 * manifest says 0).  Files beginning with '_' are skipped by Spark and
 * PyArrow's dataset readers, so the manifest does not get in their way.
 *
 * As with one file, nothing half-written is ever left under DIR's name: the
 * datasets go to a hidden folder beside it (.NAME.quant-export-PID.tmp),
 * renamed to DIR when complete.  An existing empty DIR is filled as if new;
 * an earlier lake export (it holds _quant_export.json) is replaced only with
 * force; any other folder never: quant deletes no folder it did not write.
 * Inside QUANT_HOME or the models folder, or a DIR holding them, is refused.
 * The store is read through a sandboxed connection that may write only under
 * the hidden folder.
 */
#define QUANT_LAKE_MANIFEST "_quant_export.json"
#define QUANT_LAKE_TABLES_MAX 8

struct quant_lake_request {
    const char *dir;                  /* the folder to create (or replace with force) */
    const char *const *tables;        /* names: ohlcv, features (= every set),
                                         features_tech_v1, features_alpha158, labels,
                                         predictions; NULL/0 = ohlcv, features, labels,
                                         predictions */
    size_t n_tables;
    int force;
};

struct quant_lake_table {
    char name[64];                    /* the dataset folder's name: "features_tech_v1" */
    char partition_by[32];            /* "symbol", "horizon, symbol", "model_id" */
    long rows;                        /* rows written (0: no folder) */
};

struct quant_lake_result {
    char path[PATH_MAX];              /* DIR, absolute */
    struct quant_lake_table tables[QUANT_LAKE_TABLES_MAX];
    size_t n_tables;
    double seconds;
};

/* In a QUANT_WS_READ workspace, as quant_export. */
enum quant_code quant_export_lake(struct quant_workspace *ws, const struct quant_lake_request *req,
                                  struct quant_lake_result *out, struct quant_err *err);

/* "csv", "parquet" (or "auto"); never NULL. */
const char *quant_export_format_name(enum quant_export_format f);

#endif
