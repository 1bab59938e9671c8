/*
 * fuzz_csv.c: libFuzzer harness for the CSV reader the providers share
 * (lib/providers/csv_core.h: fields, records, lines, numbers), the CSV
 * parser on top of it (quant_csv_parse, the buffer API under the csv
 * provider) and its public number parser.  The Alpha Vantage CSV parsers read
 * through the same core; fuzz_alphavantage.c covers what they make of it.
 *
 * Checked beyond "no crash":
 *  - on success: a known format; every series non-empty, strictly ascending
 *    (duplicates resolved), symbols normalised and distinct, values finite,
 *    split coefficients positive, dates written in the input; bad-row
 *    bookkeeping consistent; validation leaves only storable bars;
 *  - on failure: the result is empty (released);
 *  - the default symbol only matters without a symbol column: with one, the
 *    parse without a default gives the same series; without one, it fails;
 *  - quant_csv_parse_number, on every field of the input, equals strtod bit
 *    for bit whenever it accepts (its header's promise; the fast path is
 *    hand-written SWAR code), and agrees with csv_number on the trimmed text;
 *    csv_number accepts only text strtod reads whole, to the same bits;
 *  - csv_next_line gives back every byte of the input, line by line, and
 *    csv_record_split keeps its fields inside their line, in order, with at
 *    most CSV_RECORD_MAX_FIELDS of them; a line without quotes is exactly its
 *    fields joined by commas; csv_field_end never leaves the text and stops
 *    only at a field end.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/csv_core.h"
#include "providers/csv_provider_internal.h"

#include "fuzz_bars.h"
#include "fuzz_check.h"

#define DEFAULT_SYMBOL "FUZZ"

/*
 * The parser caches the month of the last date it read; a stale cache would
 * give a date no row has.  So each bar's date must be written in the input,
 * as YYYY-MM-DD or Stooq's YYYYMMDD (a sample of the bars in a long series,
 * to keep executions fast).
 */
static void check_dates_in_input(const struct quant_bars *b, const char *text, size_t len)
{
    size_t step = b->n > 64 ? b->n / 64 : 1;
    for (size_t i = 0; i < b->n; i += step) {
        char iso[11], compact[9];
        quant_date_format(b->v[i].date, iso);
        snprintf(compact, sizeof compact, "%.4s%.2s%.2s", iso, iso + 5, iso + 8);
        FUZZ_CHECK(memmem(text, len, iso, 10) != NULL || memmem(text, len, compact, 8) != NULL);
    }
}

static void check_file(const struct quant_csv_file *f, const char *text, size_t len)
{
    FUZZ_CHECK(f->format != QUANT_CSV_UNKNOWN);
    FUZZ_CHECK(f->has_symbol_column || f->n_series <= 1);
    long bars = 0;
    for (size_t i = 0; i < f->n_series; i++) {
        const struct quant_bars *b = &f->series[i];
        FUZZ_CHECK(b->n > 0);
        fuzz_check_series(b, 1);
        check_dates_in_input(b, text, len);
        FUZZ_CHECK(b->symbol[0] != '\0');
        if (!f->has_symbol_column)
            FUZZ_CHECK(strcmp(b->symbol, DEFAULT_SYMBOL) == 0);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(f->series[j].symbol, b->symbol) != 0);
        for (size_t k = 0; k < b->n; k++)
            FUZZ_CHECK(isnan(b->v[k].split) || b->v[k].split > 0);
        bars += (long)b->n;
    }
    FUZZ_CHECK(f->n_bad <= QUANT_CSV_BAD_KEEP && (long)f->n_bad <= f->n_bad_total);
    FUZZ_CHECK(bars + f->n_bad_total <= f->rows_read);
    for (size_t i = 0; i < f->n_bad; i++) {
        FUZZ_CHECK(f->bad[i].line >= 2 && f->bad[i].reason[0] != '\0');
        if (i > 0)
            FUZZ_CHECK(f->bad[i - 1].line < f->bad[i].line);
        fuzz_check_symbol(f->bad[i].symbol, sizeof f->bad[i].symbol);
    }
}

/* Field by field: struct quant_bar has padding after `date`, which memcmp
 * would compare too; the doubles bit for bit, so NAN equals NAN. */
static int same_bar(const struct quant_bar *x, const struct quant_bar *y)
{
    const double xv[] = {x->open, x->high, x->low, x->close, x->adj_close, x->volume,
                         x->dividend, x->split};
    const double yv[] = {y->open, y->high, y->low, y->close, y->adj_close, y->volume,
                         y->dividend, y->split};
    return x->date == y->date && memcmp(xv, yv, sizeof xv) == 0;
}

static int same_series(const struct quant_csv_file *a, const struct quant_csv_file *b)
{
    if (a->n_series != b->n_series)
        return 0;
    for (size_t i = 0; i < a->n_series; i++) {
        const struct quant_bars *x = &a->series[i], *y = &b->series[i];
        if (strcmp(x->symbol, y->symbol) != 0 || x->n != y->n)
            return 0;
        for (size_t k = 0; k < x->n; k++)
            if (!same_bar(&x->v[k], &y->v[k]))
                return 0;
    }
    return 1;
}

/* A bare field (no blanks, CR or quotes around it, which the parser strips
 * first) must parse to exactly what strtod makes of it, bit for bit. */
static int is_bare(const char *s, size_t len)
{
    static const char wrap[] = " \t\r\"";
    return len > 0 && !strchr(wrap, s[0]) && !strchr(wrap, s[len - 1]);
}

/* s[0..len), accepted as the number got, is what strtod makes of it whole. */
static void check_strtod(const char *s, size_t len, double got)
{
    char buf[128];
    FUZZ_CHECK(len < sizeof buf);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double want = strtod(buf, &end);
    FUZZ_CHECK(*end == '\0' && isfinite(got));
    FUZZ_CHECK(memcmp(&got, &want, sizeof got) == 0);
}

static void check_number(const char *s, size_t len)
{
    double got, strict;
    int rc = quant_csv_parse_number(s, len, &got);
    if (is_bare(s, len) && rc == 0)
        check_strtod(s, len, got);
    /* The public parser is the strict one after trimming. */
    const char *ts = s, *te = s + len;
    trim(&ts, &te);
    int src = csv_number(ts, (size_t)(te - ts), &strict);
    if (src == 0) {
        check_strtod(ts, (size_t)(te - ts), strict);
        FUZZ_CHECK(rc == 0 && memcmp(&got, &strict, sizeof got) == 0);
    } else {
        FUZZ_CHECK(rc != 0);
    }
}

/* One line (without its '\n') split into a record. */
static void check_record(const char *line, size_t len)
{
    struct csv_record r;
    csv_record_split(line, len, &r);
    FUZZ_CHECK(r.n == -1 || (r.n >= 1 && r.n <= CSV_RECORD_MAX_FIELDS));
    if (r.n < 0)
        return;
    const char *prev = line;
    for (int i = 0; i < r.n; i++) {
        FUZZ_CHECK(r.f[i] >= prev && r.f[i] + r.len[i] <= line + len);
        prev = r.f[i] + r.len[i];
    }
    if (memchr(line, '"', len))
        return;
    /* No quotes: the fields joined by commas are the line (less a final CR). */
    size_t body = len && line[len - 1] == '\r' ? len - 1 : len, at = 0;
    for (int i = 0; i < r.n; i++) {
        FUZZ_CHECK(r.f[i] == line + at && !memchr(r.f[i], ',', r.len[i]));
        at += r.len[i] + (i + 1 < r.n);
    }
    FUZZ_CHECK(at == body);
}

static void check_core(const char *text, size_t size)
{
    const char *pos = text, *end = text + size, *line;
    size_t len, seen = 0;
    while (csv_next_line(&pos, end, &line, &len)) {
        FUZZ_CHECK(line == text + seen && !memchr(line, '\n', len));
        seen += len + (line + len < end); /* its '\n', when it has one */
        check_record(line, len);
    }
    FUZZ_CHECK(seen == size);
    for (const char *p = text; p < end;) {
        const char *q = csv_field_end(p, end);
        FUZZ_CHECK(q >= p && q <= end && csv_at_field_end(q, end));
        p = q + 1;
    }
}

static void check_numbers(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != ',' && *q != '\n')
            q++;
        check_number(p, (size_t)(q - p));
        p = q + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data; /* not NUL-terminated, like a file buffer */
    struct quant_csv_file with, without;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_csv_parse(text, size, DEFAULT_SYMBOL, &with, &err);
    if (rc != QUANT_OK) {
        FUZZ_CHECK(err.code == rc && err.msg[0] != '\0');
        FUZZ_CHECK(with.series == NULL && with.n_series == 0 && with.bad == NULL);
    } else {
        check_file(&with, text, size);
    }

    quant_err_clear(&err);
    enum quant_code rc2 = quant_csv_parse(text, size, NULL, &without, &err);
    if (rc == QUANT_OK && with.has_symbol_column)
        FUZZ_CHECK(rc2 == QUANT_OK && same_series(&with, &without));
    if (rc == QUANT_OK && !with.has_symbol_column)
        FUZZ_CHECK(rc2 == QUANT_EPARSE);
    quant_csv_file_release(&without);

    for (size_t i = 0; rc == QUANT_OK && i < with.n_series; i++)
        fuzz_validate_series(&with.series[i]);
    quant_csv_file_release(&with);

    check_numbers(text, size);
    check_core(text, size);
    return 0;
}
