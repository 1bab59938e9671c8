/*
 * table.h: printing rows of text as an aligned table, CSV or JSON, and a small
 * builder for commands that assemble their own rows (status, symbols list).
 */
#ifndef QUANT_CLI_TABLE_H
#define QUANT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* A view of rows: cells is row-major nrows * ncols, NULL meaning SQL NULL. */
struct cli_rows {
    size_t ncols;
    size_t nrows;
    char *const *names;
    const int *numeric;     /* right-align; unquoted in JSON */
    char *const *cells;
};

enum cli_format { CLI_FMT_TABLE, CLI_FMT_CSV, CLI_FMT_JSON };

void cli_rows_print(FILE *f, const struct cli_rows *rows, enum cli_format fmt);

/* A growable table that owns its strings. */
struct cli_table {
    size_t ncols, nrows, cap;
    char **names;
    int *numeric;
    char **cells;
};

/* names: ncols column titles; numeric: ncols flags (may be NULL). 0 ok, -1 oom. */
int cli_table_init(struct cli_table *t, size_t ncols, const char *const *names,
                   const int *numeric);
/* Append a row of ncols strings (NULL allowed); copied.  0 ok, -1 oom. */
int cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_release(struct cli_table *t);
struct cli_rows cli_table_rows(const struct cli_table *t);

/*
 * Rows printed as they arrive, for results too big to hold.  CSV and JSON
 * rows are written at once; the aligned table needs every width first, so it
 * keeps at most table_max rows and then says that more were left out.
 * begin: 0 ok, -1 oom (nothing to end).  rows: 0 go on, 1 the table is full (stop fetching),
 * -1 out of memory or a write error.  end: finishes the output and frees.
 * names and numeric must outlive the stream.
 */
struct cli_stream {
    FILE *out;            /* the real output */
    FILE *f;              /* where rows are written: out, or mem for CSV/JSON */
    FILE *mem;            /* one batch of CSV/JSON text */
    char *mem_buf;
    size_t mem_len;
    enum cli_format fmt;
    size_t ncols;
    const char *const *names;
    const int *numeric;
    size_t rows;          /* rows printed (or kept, for a table) */
    size_t table_max;
    int truncated;        /* the table left rows out */
    struct cli_table table;
};
int cli_stream_begin(struct cli_stream *s, FILE *f, enum cli_format fmt, size_t ncols,
                     const char *const *names, const int *numeric, size_t table_max);
int cli_stream_rows(struct cli_stream *s, const char *const *cells, size_t nrows);
void cli_stream_end(struct cli_stream *s);

#endif
