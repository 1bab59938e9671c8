/*
 * csv_core.c: the out-of-line half of csv_core.h: the exact number parser
 * (fast path in the header, strtod for the rest), the record splitter and the
 * line iterator that the Alpha Vantage CSV parsers read answers with, and
 * quant_csv_parse_number, the public face of the number rules.  Pure: no I/O,
 * no allocation.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/csv_provider_internal.h"

#include "csv_core.h"

#include "core/banned.h"

/* ---- numbers ------------------------------------------------------------ */

int csv_number(const char *s, size_t n, double *out)
{
    if (n == 0) /* strtod("") consumes nothing and would "succeed" with 0 */
        return -1;
    const char *e = s + n;
    if (fast_number(s, e, out) == e)
        return 0;
    /* Slow path: exponents and long mantissas.  Only plain decimal characters
     * reach strtod, so "inf", "nan" and hex floats are refused. */
    char buf[CSV_NUMBER_MAX];
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(is_digit(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '+' || s[i] == 'e' ||
              s[i] == 'E'))
            return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *endp;
    errno = 0;
    double v = strtod(buf, &endp);
    if (endp != buf + n || !isfinite(v) || (errno == ERANGE && v != 0.0))
        return -1;
    *out = v;
    return 0;
}

static int is_null_word(const char *s, size_t n)
{
    return n == 4 && (s[0] | 32) == 'n' && (s[1] | 32) == 'u' && (s[2] | 32) == 'l' &&
           (s[3] | 32) == 'l';
}

int quant_csv_parse_number(const char *s, size_t len, double *out)
{
    const char *e = s + len;
    trim(&s, &e);
    size_t n = (size_t)(e - s);
    if (n == 0 || is_null_word(s, n))
        return 1;
    return csv_number(s, n, out);
}

/* ---- records and lines -------------------------------------------------- */

void csv_record_split(const char *p, size_t len, struct csv_record *out)
{
    if (len && p[len - 1] == '\r')
        len--;
    const char *end = p + len;
    out->n = 0;
    for (;;) {
        if (out->n == CSV_RECORD_MAX_FIELDS) {
            out->n = -1;
            return;
        }
        const char *start = p, *stop;
        if (p < end && *p == '"') { /* the value is what the quotes hold */
            start = p + 1;
            stop = p = csv_closing_quote(start, end);
            while (p < end && *p != ',')
                p++;
        } else {
            while (p < end && *p != ',')
                p++;
            stop = p;
        }
        out->f[out->n] = start;
        out->len[out->n] = (size_t)(stop - start);
        out->n++;
        if (p >= end)
            return;
        p++; /* the comma */
    }
}

int csv_record_field_is(const struct csv_record *r, int i, const char *name)
{
    return i >= 0 && i < r->n && strlen(name) == r->len[i] &&
           strncasecmp(r->f[i], name, r->len[i]) == 0;
}

int csv_record_column(const struct csv_record *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (csv_record_field_is(r, i, name))
            return i;
    return -1;
}

int csv_next_line(const char **pos, const char *end, const char **line, size_t *len)
{
    if (*pos >= end)
        return 0;
    const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));
    *line = *pos;
    *len = nl ? (size_t)(nl - *pos) : (size_t)(end - *pos);
    *pos = nl ? nl + 1 : end;
    return 1;
}
