/*
 * sql_query.c: user-written SQL on a sandboxed, read-only series store
 * (sql_internal.h): the one-statement, query-only check, a streaming cursor
 * that turns each DuckDB chunk into text, and COPY to the one file an
 * export may write.  It must not print, and must never run a statement that
 * has not passed check_text().
 */
#include "store/sql_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <duckdb.h>

#include "core/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

#define WHAT_IS_ALLOWED                                                                       \
    "only a query can run here: one SELECT (or WITH ... SELECT, FROM ..., VALUES, SHOW, "     \
    "DESCRIBE, SUMMARIZE, a reading PRAGMA such as PRAGMA table_info('ohlcv')), or EXPLAIN "  \
    "of one"

struct quant_sql_cursor {
    size_t ncols;
    char **names;                /* owned */
    int *numeric;
    duckdb_logical_type *types;  /* owned */
    duckdb_prepared_statement stmt;
    duckdb_result res;
    int has_res;
    const char **cells;          /* the current batch: pointers into text */
    size_t *offsets;             /* per cell: offset in text, SIZE_MAX for NULL */
    size_t cap_rows;
    struct quant_buf text;       /* the current batch's strings, NUL-separated */
};

static const char *statement_name(duckdb_statement_type t)
{
    static const char *const names[] = {
        [DUCKDB_STATEMENT_TYPE_INSERT] = "an INSERT",
        [DUCKDB_STATEMENT_TYPE_UPDATE] = "an UPDATE",
        [DUCKDB_STATEMENT_TYPE_DELETE] = "a DELETE",
        [DUCKDB_STATEMENT_TYPE_PREPARE] = "a PREPARE",
        [DUCKDB_STATEMENT_TYPE_CREATE] = "a CREATE",
        [DUCKDB_STATEMENT_TYPE_EXECUTE] = "an EXECUTE",
        [DUCKDB_STATEMENT_TYPE_ALTER] = "an ALTER",
        [DUCKDB_STATEMENT_TYPE_TRANSACTION] = "a transaction",
        [DUCKDB_STATEMENT_TYPE_COPY] = "a COPY",
        [DUCKDB_STATEMENT_TYPE_ANALYZE] = "an ANALYZE",
        [DUCKDB_STATEMENT_TYPE_VARIABLE_SET] = "a SET VARIABLE",
        [DUCKDB_STATEMENT_TYPE_CREATE_FUNC] = "a CREATE FUNCTION",
        [DUCKDB_STATEMENT_TYPE_DROP] = "a DROP",
        [DUCKDB_STATEMENT_TYPE_EXPORT] = "an EXPORT",
        [DUCKDB_STATEMENT_TYPE_PRAGMA] = "a PRAGMA that is not a query",
        [DUCKDB_STATEMENT_TYPE_VACUUM] = "a VACUUM",
        [DUCKDB_STATEMENT_TYPE_CALL] = "a CALL (or CHECKPOINT)",
        [DUCKDB_STATEMENT_TYPE_SET] = "a SET (or USE, or a PRAGMA setting)",
        [DUCKDB_STATEMENT_TYPE_LOAD] = "a LOAD or INSTALL",
        [DUCKDB_STATEMENT_TYPE_EXTENSION] = "an extension",
        [DUCKDB_STATEMENT_TYPE_ATTACH] = "an ATTACH",
        [DUCKDB_STATEMENT_TYPE_DETACH] = "a DETACH",
    };
    if ((size_t)t < sizeof names / sizeof *names && names[t])
        return names[t];
    return "a statement that is not a query";
}

/*
 * DuckDB's message on one line, without its "LINE 1: ... ^" picture (two
 * lines that only line up on a terminal).
 */
static void one_line(const char *msg, char *out, size_t cap)
{
    snprintf(out, cap, "%s", msg ? msg : "unknown DuckDB error");
    char *pic = strstr(out, "\n\nLINE ");
    if (pic)
        *pic = '\0';
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
    size_t n = strlen(out);
    while (n && out[n - 1] == ' ')
        out[--n] = '\0';
}

static int starts(const char *msg, const char *prefix)
{
    return strncmp(msg, prefix, strlen(prefix)) == 0;
}

/*
 * Translate a DuckDB failure of the user's text.  DuckDB names the kind of
 * error first ("Catalog Error: ..."), which is all extract and prepare give.
 */
static enum quant_code sql_fail(const char *msg, struct quant_err *err)
{
    char m[768];
    one_line(msg, m, sizeof m);
    if (starts(m, "Permission Error"))
        return quant_err_set(err, QUANT_EREADONLY,
                             "refused: the statement reaches outside the store (%s); %s, "
                             "reading only the store's tables (files, other databases, "
                             "extensions and settings are off); nothing was run",
                             m, WHAT_IS_ALLOWED);
    if (starts(m, "Out of Memory Error"))
        return quant_err_set(err, QUANT_ENOMEM,
                             "the query ran out of memory (%s): narrow it, or raise memory_limit "
                             "in quant.conf",
                             m);
    if (starts(m, "IO Error") || starts(m, "INTERNAL Error") || starts(m, "FATAL Error") ||
        starts(m, "Interrupt"))
        return quant_err_set(err, QUANT_ESTORE, "the store failed the query: %s", m);
    return quant_err_set(err, QUANT_EINVAL,
                         "the query is wrong: %s; run `quant sql --help` for the tables and "
                         "their columns",
                         m);
}

static const char *skip_blank(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end)
                return p + strlen(p);
            p = end + 2;
        } else {
            return p;
        }
    }
}

/* If p starts with the keyword (any case, then a non-word byte), the text after it. */
static const char *after_word(const char *p, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(p, word, n) != 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
        return NULL;
    return skip_blank(p + n);
}

/* The statement EXPLAIN [ANALYZE] [(options)] wraps, or NULL when the text is odd. */
static const char *explained(const char *sql)
{
    const char *p = after_word(skip_blank(sql), "EXPLAIN");
    if (!p)
        return NULL;
    const char *q = after_word(p, "ANALYZE");
    if (!q)
        q = after_word(p, "ANALYSE");
    p = q ? q : p;
    if (*p == '(') {
        const char *close = strchr(p, ')');
        p = close ? skip_blank(close + 1) : NULL;
    }
    return p;
}

/*
 * The check of sql_internal.h.  On success *out (when not NULL) is the prepared
 * statement, ready to run; the caller destroys it.
 */
static enum quant_code check_text(duckdb_connection con, const char *sql, int depth,
                                  duckdb_prepared_statement *out, struct quant_err *err)
{
    if (out)
        *out = NULL;
    duckdb_extracted_statements ex = NULL;
    idx_t n = duckdb_extract_statements(con, sql, &ex);
    enum quant_code rc = QUANT_OK;
    if (n == 0) {
        const char *msg = duckdb_extract_statements_error(ex);
        rc = msg && *msg ? sql_fail(msg, err)
                         : quant_err_set(err, QUANT_EINVAL, "no SQL statement in the text");
        duckdb_destroy_extracted(&ex);
        return rc;
    }
    if (n > 1) {
        duckdb_destroy_extracted(&ex);
        return quant_err_set(err, QUANT_EREADONLY,
                             "refused: the text holds %llu statements and %s; nothing was run "
                             "(run them one at a time)",
                             (unsigned long long)n, WHAT_IS_ALLOWED);
    }
    duckdb_prepared_statement st = NULL;
    if (duckdb_prepare_extracted_statement(con, ex, 0, &st) == DuckDBError) {
        rc = sql_fail(duckdb_prepare_error(st), err);
        duckdb_destroy_prepare(&st);
        duckdb_destroy_extracted(&ex);
        return rc;
    }
    duckdb_destroy_extracted(&ex);
    duckdb_statement_type type = duckdb_prepared_statement_type(st);
    if (type == DUCKDB_STATEMENT_TYPE_EXPLAIN && depth == 0) {
        /* EXPLAIN ANALYZE runs what it explains: that must pass on its own. */
        const char *inner = explained(sql);
        rc = inner && *inner ? check_text(con, inner, 1, NULL, err)
                             : quant_err_set(err, QUANT_EREADONLY,
                                             "refused: cannot tell what this EXPLAIN explains; "
                                             "%s; nothing was run",
                                             WHAT_IS_ALLOWED);
    } else if (type != DUCKDB_STATEMENT_TYPE_SELECT) {
        rc = quant_err_set(err, QUANT_EREADONLY,
                           "refused: this is %s statement, and %s; nothing was run. To save "
                           "results in a file use `quant export` or `quant sql --csv > FILE`",
                           statement_name(type), WHAT_IS_ALLOWED);
    }
    if (rc || !out)
        duckdb_destroy_prepare(&st);
    else
        *out = st;
    return rc;
}

static enum quant_code need_sandbox(struct quant_series_store *s, const char *sql,
                                    struct quant_err *err)
{
    if (!quant_series_store_sandboxed_(s) || !quant_series_store_read_only_(s))
        return quant_err_set(err, QUANT_EINTERNAL,
                             "internal error: user SQL needs a read-only sandboxed store");
    if (!sql || !*skip_blank(sql))
        return quant_err_set(err, QUANT_EINVAL, "no SQL statement in the text");
    return QUANT_OK;
}

enum quant_code quant_sql_check(struct quant_series_store *s, const char *sql,
                                struct quant_err *err)
{
    enum quant_code rc = need_sandbox(s, sql, err);
    return rc ? rc : check_text(quant_series_store_con_(s), sql, 0, NULL, err);
}

/* ---- the streaming cursor ------------------------------------------------- */

static enum quant_code describe_columns(struct quant_sql_cursor *c, struct quant_err *err)
{
    c->ncols = duckdb_prepared_statement_column_count(c->stmt);
    size_t n = c->ncols ? c->ncols : 1;
    c->names = calloc(n, sizeof *c->names);
    c->numeric = calloc(n, sizeof *c->numeric);
    c->types = calloc(n, sizeof *c->types);
    if (!c->names || !c->numeric || !c->types)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory starting the query");
    for (size_t i = 0; i < c->ncols; i++) {
        /* DuckDB's copy is freed with duckdb_free; ours with free() */
        char *name = (char *)duckdb_prepared_statement_column_name(c->stmt, i);
        c->names[i] = strdup(name ? name : "");
        duckdb_free(name);
        c->types[i] = duckdb_prepared_statement_column_logical_type(c->stmt, i);
        if (!c->names[i] || !c->types[i])
            return quant_err_set(err, QUANT_ENOMEM, "out of memory starting the query");
        c->numeric[i] = quant_sql_type_numeric_(c->types[i]);
        if (!quant_sql_type_printable_(c->types[i])) {
            char *tn = duckdb_logical_type_get_alias(c->types[i]);
            quant_err_set(err, QUANT_EINVAL,
                          "column '%s' has a type quant cannot print%s%s; cast it in the "
                          "query: %s::VARCHAR",
                          c->names[i], tn ? " " : "", tn ? tn : "", c->names[i]);
            duckdb_free(tn);
            return QUANT_EINVAL;
        }
    }
    return QUANT_OK;
}

enum quant_code quant_sql_cursor_open(struct quant_series_store *s, const char *sql,
                                      struct quant_sql_cursor **out, struct quant_err *err)
{
    *out = NULL;
    enum quant_code rc = need_sandbox(s, sql, err);
    if (rc)
        return rc;
    struct quant_sql_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory starting the query");
    quant_buf_init(&c->text, 0);
    rc = check_text(quant_series_store_con_(s), sql, 0, &c->stmt, err);
    if (!rc)
        rc = describe_columns(c, err);
    if (!rc) {
        c->has_res = 1;
        if (duckdb_execute_prepared_streaming(c->stmt, &c->res) == DuckDBError)
            rc = sql_fail(duckdb_result_error(&c->res), err);
    }
    if (rc) {
        quant_sql_cursor_close(c);
        return rc;
    }
    *out = c;
    return QUANT_OK;
}

size_t quant_sql_cursor_ncols(const struct quant_sql_cursor *c)
{
    return c->ncols;
}

const char *quant_sql_cursor_name(const struct quant_sql_cursor *c, size_t col)
{
    return col < c->ncols ? c->names[col] : NULL;
}

int quant_sql_cursor_numeric(const struct quant_sql_cursor *c, size_t col)
{
    return col < c->ncols && c->numeric[col];
}

/* Turn one chunk into the cursor's text cells. */
static enum quant_code chunk_text(struct quant_sql_cursor *c, duckdb_data_chunk chunk,
                                  size_t nrows, struct quant_err *err)
{
    if (nrows > c->cap_rows) {
        size_t ncells = nrows * (c->ncols ? c->ncols : 1);
        const char **cells = realloc(c->cells, ncells * sizeof *cells);
        if (cells)
            c->cells = cells;
        size_t *offs = realloc(c->offsets, ncells * sizeof *offs);
        if (offs)
            c->offsets = offs;
        if (!cells || !offs)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory reading the result");
        c->cap_rows = nrows;
    }
    quant_buf_reset(&c->text);
    for (size_t col = 0; col < c->ncols; col++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, col);
        for (size_t r = 0; r < nrows; r++) {
            size_t at = c->text.len;
            int null = 0;
            enum quant_code rc = quant_sql_cell_text_(v, c->types[col], r, &c->text, &null);
            if (!rc && !null)
                rc = quant_buf_append(&c->text, "", 1); /* each string's NUL */
            if (rc)
                return quant_err_set(err, rc, "out of memory reading the result");
            c->offsets[r * c->ncols + col] = null ? SIZE_MAX : at;
        }
    }
    /* pointers only now: the buffer may have moved while it grew */
    for (size_t i = 0; i < nrows * c->ncols; i++)
        c->cells[i] = c->offsets[i] == SIZE_MAX ? NULL : c->text.data + c->offsets[i];
    return QUANT_OK;
}

enum quant_code quant_sql_cursor_next(struct quant_sql_cursor *c, size_t *out_nrows,
                                      const char *const **out_cells, struct quant_err *err)
{
    *out_nrows = 0;
    *out_cells = NULL;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(c->res);
        if (!chunk) {
            const char *msg = duckdb_result_error(&c->res);
            return msg ? sql_fail(msg, err) : QUANT_OK;
        }
        size_t n = duckdb_data_chunk_get_size(chunk);
        enum quant_code rc = n ? chunk_text(c, chunk, n, err) : QUANT_OK;
        duckdb_destroy_data_chunk(&chunk);
        if (rc)
            return rc;
        if (n) {
            *out_nrows = n;
            *out_cells = c->cells;
            return QUANT_OK;
        }
    }
}

void quant_sql_cursor_close(struct quant_sql_cursor *c)
{
    if (!c)
        return;
    if (c->has_res)
        duckdb_destroy_result(&c->res);
    if (c->stmt)
        duckdb_destroy_prepare(&c->stmt);
    for (size_t i = 0; i < c->ncols; i++) {
        if (c->names)
            free(c->names[i]);
        if (c->types && c->types[i])
            duckdb_destroy_logical_type(&c->types[i]);
    }
    free(c->names);
    free(c->numeric);
    free(c->types);
    free(c->cells);
    free(c->offsets);
    quant_buf_release(&c->text);
    free(c);
}

/* ---- COPY to the export file ------------------------------------------------ */

/*
 * COPY (\n<sql>\n) TO '<path>' (...): the newlines end a trailing -- comment.
 * USE_TMP_FILE false: DuckDB would write tmp_<name> beside the file first,
 * a path the sandbox does not allow; the caller's file is already temporary.
 */
static enum quant_code copy_sql(const char *sql, const char *path,
                                enum quant_sql_file_format format, const char *partition_by,
                                struct quant_buf *b)
{
    size_t len = strlen(sql);
    while (len && (isspace((unsigned char)sql[len - 1]) || sql[len - 1] == ';'))
        len--;
    enum quant_code rc = quant_buf_printf(b, "COPY (\n%.*s\n) TO '", (int)len, sql);
    for (const char *p = path; !rc && *p; p++)
        rc = quant_buf_append(b, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
    if (!rc && partition_by)
        /* a Hive folder per value (URL-encoded by DuckDB: GC=F -> symbol=GC%3DF) */
        rc = quant_buf_printf(b, "' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (%s))",
                              partition_by);
    else if (!rc)
        rc = quant_buf_printf(b, "' (%s)",
                              format == QUANT_SQL_PARQUET
                                  ? "FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false"
                                  : "FORMAT csv, HEADER true, USE_TMP_FILE false");
    return rc;
}

static enum quant_code run_copy(duckdb_connection con, const char *copy, long *out_rows,
                                struct quant_err *err)
{
    duckdb_extracted_statements ex = NULL;
    duckdb_prepared_statement st = NULL;
    enum quant_code rc = QUANT_OK;
    /* The query passed the check alone; wrapped, it must still be exactly one COPY. */
    if (duckdb_extract_statements(con, copy, &ex) != 1 ||
        duckdb_prepare_extracted_statement(con, ex, 0, &st) == DuckDBError ||
        duckdb_prepared_statement_type(st) != DUCKDB_STATEMENT_TYPE_COPY) {
        const char *msg = st ? duckdb_prepare_error(st) : duckdb_extract_statements_error(ex);
        rc = msg && *msg ? sql_fail(msg, err)
                         : quant_err_set(err, QUANT_EINVAL,
                                         "the query cannot be exported as it is written: end "
                                         "it without a trailing comment or semicolon");
    }
    duckdb_destroy_extracted(&ex);
    duckdb_result res;
    if (!rc) {
        if (duckdb_execute_prepared(st, &res) == DuckDBError) {
            rc = sql_fail(duckdb_result_error(&res), err);
        } else if (out_rows) {
            *out_rows = duckdb_row_count(&res) && duckdb_column_count(&res)
                            ? (long)duckdb_value_int64(&res, 0, 0)
                            : 0;
        }
        duckdb_destroy_result(&res);
    }
    duckdb_destroy_prepare(&st);
    return rc;
}

static enum quant_code sql_copy(struct quant_series_store *s, const char *sql, const char *path,
                                enum quant_sql_file_format format, const char *partition_by,
                                long *out_rows, struct quant_err *err)
{
    enum quant_code rc = need_sandbox(s, sql, err);
    duckdb_connection con = quant_series_store_con_(s);
    duckdb_prepared_statement st = NULL;
    if (!rc)
        rc = check_text(con, sql, 0, &st, err);
    if (!rc && duckdb_prepared_statement_type(st) != DUCKDB_STATEMENT_TYPE_SELECT)
        rc = quant_err_set(err, QUANT_EINVAL, "only a SELECT (or WITH ... SELECT, DESCRIBE, "
                                              "SUMMARIZE) can be exported, not an EXPLAIN");
    if (st)
        duckdb_destroy_prepare(&st);
    if (rc)
        return rc;
    struct quant_buf copy;
    quant_buf_init(&copy, 0);
    rc = copy_sql(sql, path, format, partition_by, &copy);
    if (rc)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory building the export");
    else
        rc = run_copy(con, copy.data, out_rows, err);
    quant_buf_release(&copy);
    return rc;
}

enum quant_code quant_sql_copy(struct quant_series_store *s, const char *sql, const char *path,
                               enum quant_sql_file_format format, long *out_rows,
                               struct quant_err *err)
{
    return sql_copy(s, sql, path, format, NULL, out_rows, err);
}

enum quant_code quant_sql_copy_partitioned(struct quant_series_store *s, const char *sql,
                                           const char *dir, const char *partition_by,
                                           long *out_rows, struct quant_err *err)
{
    return sql_copy(s, sql, dir, QUANT_SQL_PARQUET, partition_by, out_rows, err);
}
