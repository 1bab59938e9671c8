/* table.c: aligned / CSV / JSON output of text rows. */
#define _GNU_SOURCE /* open_memstream */
#include "table.h"

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

static void print_csv(FILE *f, const struct cli_rows *r)
{
    for (size_t c = 0; c < r->ncols; c++) {
        csv_field(f, r->names[c]);
        fputs(c + 1 < r->ncols ? "," : "\n", f);
    }
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t c = 0; c < r->ncols; c++) {
            csv_field(f, r->cells[i * r->ncols + c]);
            fputs(c + 1 < r->ncols ? "," : "\n", f);
        }
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

static void print_json(FILE *f, const struct cli_rows *r)
{
    fputs("[", f);
    for (size_t i = 0; i < r->nrows; i++) {
        fputs(i ? ",\n {" : "\n {", f);
        for (size_t c = 0; c < r->ncols; c++) {
            if (c)
                fputs(", ", f);
            json_string(f, r->names[c]);
            fputs(": ", f);
            const char *v = r->cells[i * r->ncols + c];
            if (!v)
                fputs("null", f);
            else if (r->numeric && r->numeric[c] && is_json_number(v))
                fputs(v, f);
            else
                json_string(f, v);
        }
        fputs("}", f);
    }
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
    t->names = calloc(ncols, sizeof *t->names);
    t->numeric = calloc(ncols, sizeof *t->numeric);
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
