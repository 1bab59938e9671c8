/* table.c: aligned / CSV / JSON output of text rows. */
#define _GNU_SOURCE /* open_memstream */
#include "table.h"

#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* Display width of UTF-8 text: one column per code point (good enough for
 * names; we do not try to measure East Asian wide characters). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

/* Copy a finished table from a memory stream to f, dropping the blanks that
 * padding leaves at line ends (an empty last column would otherwise leave some). */
static void flush_trimmed(FILE *f, const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        size_t keep = len;
        while (keep > 0 && text[keep - 1] == ' ')
            keep--;
        fwrite(text, 1, keep, f);
        if (nl)
            fputc('\n', f);
        text += len + (nl ? 1 : 0);
    }
}

/* Control characters would break the layout (and could drive the terminal):
 * print them as '?' in table mode. */
static void put_safe(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, f);
}

static void print_table(FILE *out, const struct cli_rows *r)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *f = open_memstream(&text, &text_len);
    size_t *w = calloc(r->ncols ? r->ncols : 1, sizeof *w);
    if (!w || !f) {
        free(w);
        if (f)
            fclose(f);
        free(text);
        return;
    }
    for (size_t c = 0; c < r->ncols; c++)
        w[c] = text_width(r->names[c]);
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t c = 0; c < r->ncols; c++) {
            const char *v = r->cells[i * r->ncols + c];
            size_t tw = text_width(v ? v : "NULL");
            if (tw > w[c])
                w[c] = tw;
        }
    for (size_t c = 0; c < r->ncols; c++) {
        size_t tw = text_width(r->names[c]);
        if (r->numeric && r->numeric[c]) {
            pad(f, w[c] - tw);
            put_safe(f, r->names[c]);
        } else {
            put_safe(f, r->names[c]);
            if (c + 1 < r->ncols)
                pad(f, w[c] - tw);
        }
        fputs(c + 1 < r->ncols ? "  " : "\n", f);
    }
    for (size_t c = 0; c < r->ncols; c++) {
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', f);
        fputs(c + 1 < r->ncols ? "  " : "\n", f);
    }
    for (size_t i = 0; i < r->nrows; i++) {
        for (size_t c = 0; c < r->ncols; c++) {
            const char *v = r->cells[i * r->ncols + c];
            if (!v)
                v = "NULL";
            size_t tw = text_width(v);
            if (r->numeric && r->numeric[c]) {
                pad(f, w[c] - tw);
                put_safe(f, v);
            } else {
                put_safe(f, v);
                if (c + 1 < r->ncols)
                    pad(f, w[c] - tw);
            }
            fputs(c + 1 < r->ncols ? "  " : "\n", f);
        }
    }
    free(w);
    fclose(f);
    flush_trimmed(out, text);
    free(text);
}

static void csv_field(FILE *f, const char *v)
{
    if (!v)
        return; /* NULL is an empty field */
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, size_t ncols, const char *const *cells)
{
    for (size_t c = 0; c < ncols; c++) {
        csv_field(f, cells[c]);
        fputs(c + 1 < ncols ? "," : "\n", f);
    }
}

static void print_csv(FILE *f, const struct cli_rows *r)
{
    csv_row(f, r->ncols, (const char *const *)r->names);
    for (size_t i = 0; i < r->nrows; i++)
        csv_row(f, r->ncols, (const char *const *)r->cells + i * r->ncols);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* A numeric column's text is emitted bare only when it is a JSON number. */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return 0;
    char *end;
    strtod(s, &end);
    return *end == '\0' && !strpbrk(s, "xXnN"); /* no hex, inf or nan */
}

/* One row of the JSON array; first: no comma before it. */
static void json_row(FILE *f, size_t ncols, const char *const *names, const int *numeric,
                     const char *const *cells, int first)
{
    fputs(first ? "\n {" : ",\n {", f);
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            fputs(", ", f);
        json_string(f, names[c]);
        fputs(": ", f);
        const char *v = cells[c];
        if (!v)
            fputs("null", f);
        else if (numeric && numeric[c] && is_json_number(v))
            fputs(v, f);
        else
            json_string(f, v);
    }
    fputs("}", f);
}

static void print_json(FILE *f, const struct cli_rows *r)
{
    fputs("[", f);
    for (size_t i = 0; i < r->nrows; i++)
        json_row(f, r->ncols, (const char *const *)r->names, r->numeric,
                 (const char *const *)r->cells + i * r->ncols, i == 0);
    fputs(r->nrows ? "\n]\n" : "]\n", f);
}

void cli_rows_print(FILE *f, const struct cli_rows *rows, enum cli_format fmt)
{
    switch (fmt) {
    case CLI_FMT_TABLE: print_table(f, rows); break;
    case CLI_FMT_CSV: print_csv(f, rows); break;
    case CLI_FMT_JSON: print_json(f, rows); break;
    }
}

int cli_table_init(struct cli_table *t, size_t ncols, const char *const *names,
                   const int *numeric)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->names = calloc(ncols ? ncols : 1, sizeof *t->names);
    t->numeric = calloc(ncols ? ncols : 1, sizeof *t->numeric);
    if (!t->names || !t->numeric)
        return -1;
    for (size_t c = 0; c < ncols; c++) {
        t->names[c] = strdup(names[c]);
        if (!t->names[c])
            return -1;
        t->numeric[c] = numeric ? numeric[c] : 0;
    }
    return 0;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **v = realloc(t->cells, nc * t->ncols * sizeof *v);
        if (!v)
            return -1;
        t->cells = v;
        t->cap = nc;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = cells[c] ? strdup(cells[c]) : NULL;
        if (cells[c] && !row[c]) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

void cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (size_t c = 0; c < t->ncols && t->names; c++)
        free(t->names[c]);
    free(t->cells);
    free(t->names);
    free(t->numeric);
    memset(t, 0, sizeof *t);
}

struct cli_rows cli_table_rows(const struct cli_table *t)
{
    struct cli_rows r = {t->ncols, t->nrows, t->names, t->numeric, t->cells};
    return r;
}

/* ---- streaming ------------------------------------------------------------ */

/* Copy what the memory stream holds to the real output, then empty it. */
static int flush_batch(struct cli_stream *s)
{
    if (!s->mem)
        return 0;
    if (fflush(s->mem) != 0)
        return -1;
    if (s->mem_len && fwrite(s->mem_buf, 1, s->mem_len, s->out) != s->mem_len)
        return -1;
    rewind(s->mem); /* the next fflush counts from here */
    return ferror(s->out) ? -1 : 0;
}

int cli_stream_begin(struct cli_stream *s, FILE *f, enum cli_format fmt, size_t ncols,
                     const char *const *names, const int *numeric, size_t table_max)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->out = f;
    s->fmt = fmt;
    s->ncols = ncols;
    s->names = names;
    s->numeric = numeric;
    s->table_max = table_max;
    if (fmt == CLI_FMT_TABLE) {
        if (cli_table_init(&s->table, ncols, names, numeric) == 0)
            return 0;
        cli_table_release(&s->table);
        return -1;
    }
    /* Rows go to memory and out once per batch: stdout is line-buffered (a
     * reader sees whole lines), which would cost one write(2) per row. */
    s->mem = open_memstream(&s->mem_buf, &s->mem_len);
    if (!s->mem)
        return -1;
    s->f = s->mem;
    if (fmt == CLI_FMT_CSV)
        csv_row(f, ncols, names);
    else
        fputs("[", f);
    return 0;
}

int cli_stream_rows(struct cli_stream *s, const char *const *cells, size_t nrows)
{
    for (size_t i = 0; i < nrows; i++) {
        const char *const *row = cells + i * s->ncols;
        if (s->fmt == CLI_FMT_CSV) {
            csv_row(s->f, s->ncols, row);
        } else if (s->fmt == CLI_FMT_JSON) {
            json_row(s->f, s->ncols, s->names, s->numeric, row, s->rows == 0);
        } else if (s->table.nrows >= s->table_max) {
            s->truncated = 1;
            return 1;
        } else if (cli_table_add(&s->table, row)) {
            return -1;
        }
        s->rows++;
    }
    return flush_batch(s);
}

void cli_stream_end(struct cli_stream *s)
{
    if (s->fmt == CLI_FMT_JSON)
        fputs(s->rows ? "\n]\n" : "]\n", s->f);
    if (s->mem) {
        flush_batch(s);
        fclose(s->mem);
        free(s->mem_buf);
        s->mem = NULL;
    } else if (s->fmt == CLI_FMT_TABLE) {
        struct cli_rows r = cli_table_rows(&s->table);
        cli_rows_print(s->f, &r, CLI_FMT_TABLE);
        char n[32];
        cli_fmt_count((long)s->rows, n, sizeof n);
        if (s->truncated)
            fprintf(s->f, "(the first %s rows; the query has more: add a LIMIT, or use --csv "
                          "or --json, which print every row)\n", n);
        else
            fprintf(s->f, "(%s row%s)\n", n, s->rows == 1 ? "" : "s");
    }
    cli_table_release(&s->table);
}
