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

/* "csv", "parquet" (or "auto"); never NULL. */
const char *quant_export_format_name(enum quant_export_format f);

#endif
