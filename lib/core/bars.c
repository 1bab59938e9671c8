/* bars.c: the bar series container, calendar arithmetic and symbol rules. */
#include "quant/bars.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

void quant_bars_init(struct quant_bars *bars)
{
    memset(bars, 0, sizeof *bars);
}

void quant_bars_release(struct quant_bars *bars)
{
    free(bars->v);
    bars->v = NULL;
    bars->n = bars->cap = 0;
}

enum quant_code quant_bars_reserve(struct quant_bars *bars, size_t cap)
{
    if (cap <= bars->cap)
        return QUANT_OK;
    struct quant_bar *v = realloc(bars->v, cap * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    bars->v = v;
    bars->cap = cap;
    return QUANT_OK;
}

enum quant_code quant_bars_push(struct quant_bars *bars, const struct quant_bar *bar)
{
    if (bars->n == bars->cap) {
        enum quant_code rc = quant_bars_reserve(bars, bars->cap ? bars->cap * 2 : 256);
        if (rc)
            return rc;
    }
    bars->v[bars->n++] = *bar;
    return QUANT_OK;
}

/* Merge sort by date: stable, and series are usually already sorted one way or
 * the other (Alpha Vantage is newest-first), so check those cases first. */
static void merge_sort(struct quant_bar *v, struct quant_bar *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(v, tmp, h);
    merge_sort(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = (v[j].date < v[i].date) ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

void quant_bars_sort(struct quant_bars *bars)
{
    size_t n = bars->n;
    int asc = 1, desc = 1;
    for (size_t i = 1; i < n; i++) {
        if (bars->v[i].date < bars->v[i - 1].date) asc = 0;
        if (bars->v[i].date >= bars->v[i - 1].date) desc = 0;
    }
    if (asc)
        return;
    if (desc) { /* strictly descending: reverse in place */
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {
            struct quant_bar t = bars->v[i];
            bars->v[i] = bars->v[j];
            bars->v[j] = t;
        }
        return;
    }
    struct quant_bar *tmp = malloc(n * sizeof *tmp);
    if (!tmp) { /* fall back to insertion sort: slow but correct and allocation-free */
        for (size_t i = 1; i < n; i++) {
            struct quant_bar x = bars->v[i];
            size_t j = i;
            while (j > 0 && bars->v[j - 1].date > x.date) {
                bars->v[j] = bars->v[j - 1];
                j--;
            }
            bars->v[j] = x;
        }
        return;
    }
    merge_sort(bars->v, tmp, n);
    free(tmp);
}

/* Howard Hinnant's days_from_civil algorithm (public-domain arithmetic). */
int32_t quant_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void quant_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int quant_weekday(int32_t days)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int w = (int)((days % 7 + 7) % 7);
    return (w + 3) % 7;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int quant_date_parse(const char *s, size_t len, int32_t *out_days)
{
    if (len < 10)
        return -1;
    if (len > 10 && s[10] != ' ' && s[10] != 'T')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return -1;
        } else if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return -1;
    unsigned maxd = mdays[m - 1] + (m == 2 && is_leap(y));
    if (d > maxd)
        return -1;
    *out_days = quant_days_from_civil(y, m, d);
    return 0;
}

void quant_date_format(int32_t days, char out[11])
{
    int y;
    unsigned m, d;
    quant_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00", 11); /* out of range: never a valid date */
        return;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

int32_t quant_today_utc(void)
{
    return (int32_t)(time(NULL) / 86400);
}

enum quant_code quant_symbol_normalize(char *sym, struct quant_err *err)
{
    size_t n = strlen(sym);
    if (n == 0 || n > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "symbol '%.40s%s' must be 1 to %d characters long",
                             sym, n > 40 ? "..." : "", QUANT_SYMBOL_MAX);
    /* Check everything before changing anything, so the message shows the
     * symbol as it was typed ('a/b', not 'A/b'). */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)toupper((unsigned char)sym[i]);
        if (isupper(c) || isdigit(c) || c == '.' || c == '^' || c == '=' || c == '-')
            continue;
        unsigned char raw = (unsigned char)sym[i];
        char shown[16];
        if (isprint(raw))
            snprintf(shown, sizeof shown, "'%c'", raw);
        else
            snprintf(shown, sizeof shown, "byte 0x%02X", raw);
        return quant_err_set(err, QUANT_EINVAL,
                             "symbol '%.40s' has a character that is not allowed (%s; use "
                             "letters, digits and . ^ = - only)", sym, shown);
    }
    for (size_t i = 0; i < n; i++)
        sym[i] = (char)toupper((unsigned char)sym[i]);
    return QUANT_OK;
}

enum quant_code quant_symbols_normalize_all(const char *const *in, size_t n, char ***out,
                                            size_t *out_n, struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    size_t k = 0;
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char s[QUANT_SYMBOL_MAX + 1];
        if (strlen(in[i]) > QUANT_SYMBOL_MAX) {
            rc = quant_err_set(err, QUANT_EINVAL, "symbol '%.40s...' is longer than %d "
                               "characters", in[i], QUANT_SYMBOL_MAX);
            break;
        }
        snprintf(s, sizeof s, "%s", in[i]);
        if ((rc = quant_symbol_normalize(s, err)))
            break;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) /* lists people type are short */
            dup = strcmp(v[j], s) == 0;
        if (!dup && !(v[k++] = strdup(s)))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    if (rc) {
        for (size_t j = 0; j < k; j++)
            free(v[j]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = k;
    return QUANT_OK;
}
