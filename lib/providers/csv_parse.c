/*
 * csv_parse.c: the pure CSV parser behind quant_csv_parse: rows of daily bars
 * from CSV text already in memory, in one pass, parsed in place (no per-field
 * allocation; fields and numbers through csv_core.h).  It sits on
 * the ingest hot path.  It does no I/O and never touches a store; reading
 * files and folders is csv.c's.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_internal.h"

#include "core/banned.h"

/* ---- symbol table: symbol -> series index (open addressing) ------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

void csv_symtab_release(struct symtab *t)
{
    free(t->slot);
    memset(t, 0, sizeof *t);
}

size_t csv_symtab_get(const struct symtab *t, const char *sym)
{
    if (!t->cap)
        return SIZE_MAX;
    for (size_t i = hash_str(sym) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slot[i].used)
            return SIZE_MAX;
        if (strcmp(t->slot[i].sym, sym) == 0)
            return t->slot[i].idx;
    }
}

enum quant_code csv_symtab_put(struct symtab *t, const char *sym, size_t idx)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct symtab bigger = {.cap = t->cap ? t->cap * 2 : 64};
        bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
        if (!bigger.slot)
            return QUANT_ENOMEM;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i].used)
                csv_symtab_put(&bigger, t->slot[i].sym, t->slot[i].idx);
        free(t->slot);
        *t = bigger;
    }
    size_t i = hash_str(sym) & (t->cap - 1);
    while (t->slot[i].used)
        i = (i + 1) & (t->cap - 1);
    t->slot[i].used = 1;
    snprintf(t->slot[i].sym, sizeof t->slot[i].sym, "%s", sym);
    t->slot[i].idx = idx;
    t->n++;
    return QUANT_OK;
}

/* ---- rows --------------------------------------------------------------- */

enum value_state { V_OK = 0, V_MISSING = 1, V_BAD = -1 };

struct parser {
    const struct layout *lo;
    struct quant_csv_file *out;
    struct symtab syms;
    char default_symbol[QUANT_SYMBOL_MAX + 1];
    const char *last_raw;              /* last symbol field as written, for the fast match */
    size_t last_raw_len;
    size_t last_idx;
    long line;
    long rows_ok;
    /* The month of the last date parsed: consecutive rows share it, so most
     * dates are a compare and an add. */
    char month_key[8];                 /* "YYYY-MM-" */
    int32_t month_first;               /* days since epoch of its 1st */
    int month_len;
    /* the current row's first problem */
    char reason[128];
    int fatal;                         /* the row makes the whole file unacceptable */
};

static void row_problem(struct parser *ps, const char *fmt, const char *col, const char *s,
                        const char *e)
{
    if (ps->reason[0])
        return; /* keep the first */
    int n = (int)(e - s);
    snprintf(ps->reason, sizeof ps->reason, fmt, col, n > 40 ? 40 : n, s);
}

/* A midnight time ("00:00:00", "00:00:00.000Z", "T00:00") is still a daily date. */
static int is_midnight(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s != '0' && *s != ':' && *s != '.' && *s != 'Z')
            return 0;
    return 1;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* A YYYY-MM-DD date: from the cached month when it matches, else parsed and cached. */
static int plain_date(struct parser *ps, const char *s, int32_t *out)
{
    if (memcmp(s, ps->month_key, 8) == 0 && is_digit(s[8]) && is_digit(s[9])) {
        int d = two_digits(s + 8);
        if (d >= 1 && d <= ps->month_len) {
            *out = ps->month_first + d - 1;
            return 0;
        }
        return -1;
    }
    if (quant_date_parse(s, 10, out) != 0)
        return -1;
    int y = two_digits(s) * 100 + two_digits(s + 2), m = two_digits(s + 5);
    memcpy(ps->month_key, s, 8);
    ps->month_first = *out - (two_digits(s + 8) - 1);
    int32_t next = m == 12 ? quant_days_from_civil(y + 1, 1, 1)
                           : quant_days_from_civil(y, (unsigned)m + 1, 1);
    ps->month_len = (int)(next - ps->month_first);
    return 0;
}

static int compact_date(const char *s, int32_t *out)
{
    char iso[10];
    for (int i = 0; i < 8; i++)
        if (!is_digit(s[i]))
            return -1;
    memcpy(iso, s, 4);
    iso[4] = '-';
    memcpy(iso + 5, s + 4, 2);
    iso[7] = '-';
    memcpy(iso + 8, s + 6, 2);
    return quant_date_parse(iso, 10, out);
}

/* Parse the date field [s, e); returns 0 or -1 with the reason recorded. */
static int parse_date_field(struct parser *ps, const char *s, const char *e, int32_t *out)
{
    if (e - s == 10 && plain_date(ps, s, out) == 0)
        return 0;
    const char *ts = s, *te = e;
    trim(&ts, &te);
    if (te - ts == 8 && compact_date(ts, out) == 0) /* Stooq bulk: YYYYMMDD */
        return 0;
    if (te - ts < 10 || quant_date_parse(ts, 10, out) != 0 ||
        (te - ts > 10 && ts[10] != ' ' && ts[10] != 'T')) {
        row_problem(ps, "%s '%.*s' is not a YYYY-MM-DD date", "date", s, e);
        return -1;
    }
    if (te - ts > 10 && !is_midnight(ts + 11, te)) {
        if (ps->rows_ok == 0)
            ps->fatal = 1;
        row_problem(ps, "%s '%.*s' has a time of day: intraday data, quant stores daily bars",
                    "date", s, e);
        return -1;
    }
    return 0;
}

static enum quant_code add_series(struct parser *ps, const char *sym, size_t *out_idx)
{
    struct quant_csv_file *f = ps->out;
    size_t idx = csv_symtab_get(&ps->syms, sym);
    if (idx != SIZE_MAX) {
        *out_idx = idx;
        return QUANT_OK;
    }
    struct quant_bars *v = realloc(f->series, (f->n_series + 1) * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    f->series = v;
    quant_bars_init(&v[f->n_series]);
    snprintf(v[f->n_series].symbol, sizeof v->symbol, "%s", sym);
    if (csv_symtab_put(&ps->syms, sym, f->n_series))
        return QUANT_ENOMEM;
    *out_idx = f->n_series++;
    return QUANT_OK;
}

/* The symbol field [s, e): find its series (fast when it repeats).  *sym points
 * at the series' own name afterwards, so nothing is copied per row. */
static enum quant_code symbol_field(struct parser *ps, const char *s, const char *e,
                                    size_t *idx, const char **sym)
{
    size_t n = (size_t)(e - s);
    if (ps->last_raw && n == ps->last_raw_len && memcmp(s, ps->last_raw, n) == 0) {
        *idx = ps->last_idx;
        *sym = ps->out->series[*idx].symbol;
        return QUANT_OK;
    }
    *sym = "";
    const char *ts = s, *te = e;
    trim(&ts, &te);
    struct quant_err serr;
    if (te - ts > QUANT_SYMBOL_MAX || te == ts) {
        row_problem(ps, "%s '%.*s' is empty or too long", "symbol", s, e);
        return QUANT_EINVAL;
    }
    char buf[QUANT_SYMBOL_MAX + 1];
    snprintf(buf, sizeof buf, "%.*s", (int)(te - ts), ts);
    if (quant_symbol_normalize(buf, &serr) != QUANT_OK) {
        row_problem(ps, "%s '%.*s' has characters not allowed in a symbol", "symbol", s, e);
        return QUANT_EINVAL;
    }
    enum quant_code rc = add_series(ps, buf, idx);
    if (rc)
        return rc;
    *sym = ps->out->series[*idx].symbol;
    ps->last_raw = s;
    ps->last_raw_len = n;
    ps->last_idx = *idx;
    return QUANT_OK;
}

static enum quant_code record_bad(struct parser *ps, const char *sym)
{
    struct quant_csv_file *f = ps->out;
    f->n_bad_total++;
    if (f->n_bad >= QUANT_CSV_BAD_KEEP)
        return QUANT_OK;
    struct quant_csv_bad_row *v = realloc(f->bad, (f->n_bad + 1) * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    f->bad = v;
    v[f->n_bad].line = ps->line;
    snprintf(v[f->n_bad].reason, sizeof v->reason, "%s", ps->reason);
    snprintf(v[f->n_bad].symbol, sizeof v->symbol, "%s", sym);
    f->n_bad++;
    return QUANT_OK;
}

/* Values of one row, before they become a bar. */
struct row {
    double num[N_NUMERIC];
    signed char state[N_NUMERIC];   /* enum value_state per numeric role */
    int32_t date;
    int date_ok;
    size_t series;
    int symbol_ok;
    const char *sym;                /* the series' symbol; "" when unknown */
    int nfields;
};

/* Parse one numeric field starting at p; returns the field's end. */
static const char *numeric_field(struct parser *ps, const char *p, const char *end, int col,
                                 struct row *r)
{
    enum role role = ps->lo->role[col];
    const char *q = fast_number(p, end, &r->num[role]);
    if (q && csv_at_field_end(q, end)) {
        r->state[role] = V_OK;
        return q;
    }
    q = csv_field_end(p, end);
    int st = quant_csv_parse_number(p, (size_t)(q - p), &r->num[role]);
    r->state[role] = (signed char)st;
    if (st == V_BAD)
        row_problem(ps, "column '%s' is not a number: '%.*s'", ps->lo->name[col], p, q);
    return q;
}

/* Stooq's <PER>: "D" for daily; anything else (5, 60, W, M) is not daily data. */
static void period_field(struct parser *ps, const char *s, const char *e)
{
    const char *ts = s, *te = e;
    trim(&ts, &te);
    if (te - ts == 1 && (*ts | 32) == 'd')
        return;
    if (ps->rows_ok == 0)
        ps->fatal = 1;
    row_problem(ps, "%s '%.*s' is not D (daily); quant stores daily bars", "period", s, e);
}

/* Scan one line starting at p (not blank); fills r; returns the line end. */
static const char *scan_row(struct parser *ps, const char *p, const char *end, struct row *r)
{
    const struct layout *lo = ps->lo;
    for (int col = 0;; col++) {
        enum role role = col < lo->ncols ? lo->role[col] : R_IGNORE;
        const char *q;
        if (role < N_NUMERIC) {
            q = numeric_field(ps, p, end, col, r);
        } else if (role == R_DATE) {
            q = csv_field_end(p, end);
            r->date_ok = parse_date_field(ps, p, q, &r->date) == 0;
        } else if (role == R_PERIOD) {
            q = csv_field_end(p, end);
            period_field(ps, p, q);
        } else if (role == R_SYMBOL) {
            q = csv_field_end(p, end);
            r->symbol_ok = symbol_field(ps, p, q, &r->series, &r->sym) == QUANT_OK;
        } else {
            q = csv_field_end(p, end);
        }
        p = q;
        r->nfields = col + 1;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p;
    }
}

/* Every numeric column of the row is empty or "null": not a row at all. */
static int row_is_empty(const struct parser *ps, const struct row *r)
{
    int numeric_cols = 0;
    for (int i = 0; i < N_NUMERIC; i++) {
        if (!ps->lo->has[i])
            continue;
        numeric_cols++;
        if (r->state[i] != V_MISSING)
            return 0;
    }
    return numeric_cols > 0;
}

static int row_complete(struct parser *ps, const struct row *r)
{
    if (r->nfields != ps->lo->ncols) {
        if (!ps->reason[0])
            snprintf(ps->reason, sizeof ps->reason, "has %d fields, the header has %d",
                     r->nfields, ps->lo->ncols);
        return 0;
    }
    for (int i = 0; i < N_REQUIRED; i++) {
        if (r->state[i] == V_MISSING) {
            if (!ps->reason[0])
                snprintf(ps->reason, sizeof ps->reason, "the %s value is empty or null",
                         csv_role_names[i]);
            return 0;
        }
    }
    if (r->state[R_SPLIT] == V_OK && r->num[R_SPLIT] < 0) {
        if (!ps->reason[0])
            snprintf(ps->reason, sizeof ps->reason, "negative split coefficient");
        return 0;
    }
    return !ps->reason[0] && r->date_ok && r->symbol_ok;
}

static void row_to_bar(const struct row *r, struct quant_bar *b)
{
    b->date = r->date;
    b->open = r->num[R_OPEN];
    b->high = r->num[R_HIGH];
    b->low = r->num[R_LOW];
    b->close = r->num[R_CLOSE];
    b->volume = r->num[R_VOLUME];
    b->adj_close = r->state[R_ADJ] == V_OK ? r->num[R_ADJ] : NAN;
    b->dividend = r->state[R_DIV] == V_OK ? r->num[R_DIV] : NAN;
    /* A split coefficient of 0 (yfinance "Stock Splits" 0.0) means no split. */
    if (r->state[R_SPLIT] == V_OK)
        b->split = r->num[R_SPLIT] > 0 ? r->num[R_SPLIT] : 1.0;
    else
        b->split = NAN;
}

/* Append a complete row to its series. */
static enum quant_code keep_row(struct parser *ps, const struct row *r)
{
    struct quant_bars *series = &ps->out->series[r->series];
    if (series->n < series->cap) { /* the common case, without a call */
        row_to_bar(r, &series->v[series->n++]);
    } else {
        struct quant_bar bar;
        row_to_bar(r, &bar);
        if (quant_bars_push(series, &bar))
            return QUANT_ENOMEM;
    }
    ps->rows_ok++;
    return QUANT_OK;
}

static void start_row(struct parser *ps, struct row *r)
{
    memset(r->state, V_MISSING, sizeof r->state);
    r->date_ok = 0;
    r->symbol_ok = !ps->lo->has[R_SYMBOL];
    r->series = 0;
    r->sym = ps->default_symbol;
    ps->reason[0] = '\0';
    ps->fatal = 0;
}

/* Handle one data line at p; returns where the next line starts, or NULL on a
 * file-level error (err set). */
static const char *parse_line(struct parser *ps, const char *p, const char *end,
                              struct quant_err *err)
{
    struct row r;
    start_row(ps, &r);
    const char *q = scan_row(ps, p, end, &r);
    if (q - p > QUANT_CSV_MAX_LINE) {
        quant_err_set(err, QUANT_EPARSE, "line %ld is longer than %d bytes; this is not a "
                      "daily price CSV", ps->line, QUANT_CSV_MAX_LINE);
        return NULL;
    }
    if (q < end && *q == '\r')
        q++;
    if (q < end && *q == '\n')
        q++;
    ps->out->rows_read++;
    if (r.nfields == ps->lo->ncols && row_is_empty(ps, &r))
        return q; /* "not a row": skipped silently */
    enum quant_code rc;
    if (row_complete(ps, &r)) {
        rc = keep_row(ps, &r);
    } else if (ps->fatal) {
        quant_err_set(err, QUANT_EPARSE, "line %ld: %s", ps->line, ps->reason);
        return NULL;
    } else {
        if (!ps->reason[0])
            snprintf(ps->reason, sizeof ps->reason, "unreadable row");
        rc = record_bad(ps, r.symbol_ok ? r.sym : "");
    }
    if (rc) {
        quant_err_set(err, rc, "out of memory at line %ld", ps->line);
        return NULL;
    }
    return q;
}

/* Within a series, equal dates keep the later row (the sort is stable). */
void csv_dedupe_keep_last(struct quant_bars *b)
{
    if (b->n < 2)
        return;
    size_t w = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (i + 1 < b->n && b->v[i + 1].date == b->v[i].date)
            continue;
        b->v[w++] = b->v[i];
    }
    b->n = w;
}

/* Two rows of one date that say different things about it. */
static int rows_disagree(const struct quant_bar *a, const struct quant_bar *b)
{
    return csv_prices_differ(a->open, b->open) || csv_prices_differ(a->high, b->high) ||
           csv_prices_differ(a->low, b->low) || csv_prices_differ(a->close, b->close) ||
           csv_prices_differ(a->volume, b->volume);
}

/*
 * In a sorted series, the dates whose rows disagree.  A repeated identical
 * row is harmless (a file concatenated twice), but two different rows for
 * one date mean the file mixes two series, and keeping either would be a
 * guess: record the first such date, and how many there are, for the caller
 * to refuse the symbol.  Returns QUANT_ENOMEM only.
 */
static enum quant_code find_conflicts(struct quant_csv_file *f, const struct quant_bars *b)
{
    struct quant_csv_conflict c = {.n_dates = 0};
    for (size_t i = 1; i < b->n; i++) {
        if (b->v[i].date != b->v[i - 1].date)
            continue;
        size_t first = i - 1; /* the group's first row: compare every later one with it */
        while (first > 0 && b->v[first - 1].date == b->v[i].date)
            first--;
        if (!rows_disagree(&b->v[first], &b->v[i]))
            continue;
        if (c.n_dates == 0 || c.date != b->v[i].date) {
            if (c.n_dates == 0) {
                c.date = b->v[i].date;
                c.close_a = b->v[first].close;
                c.close_b = b->v[i].close;
            }
            c.n_dates++;
        }
        /* later rows of the same group count once: skip to its end */
        while (i + 1 < b->n && b->v[i + 1].date == b->v[i].date)
            i++;
    }
    if (c.n_dates == 0)
        return QUANT_OK;
    struct quant_csv_conflict *v = realloc(f->conflicts, (f->n_conflicts + 1) * sizeof *v);
    if (!v)
        return QUANT_ENOMEM;
    snprintf(c.symbol, sizeof c.symbol, "%s", b->symbol);
    v[f->n_conflicts++] = c;
    f->conflicts = v;
    return QUANT_OK;
}

static enum quant_code finish_series(struct quant_csv_file *f)
{
    size_t w = 0;
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < f->n_series; i++) {
        if (f->series[i].n == 0) {
            quant_bars_release(&f->series[i]);
            continue;
        }
        quant_bars_sort(&f->series[i]);
        if (!rc)
            rc = find_conflicts(f, &f->series[i]);
        csv_dedupe_keep_last(&f->series[i]);
        f->series[w++] = f->series[i];
    }
    f->n_series = w;
    return rc;
}

static enum quant_code start_single_series(struct parser *ps, const char *default_symbol,
                                           size_t len, struct quant_err *err)
{
    if (!default_symbol || !default_symbol[0])
        return quant_err_set(err, QUANT_EPARSE,
                             "line 1: the file has no symbol or ticker column and no symbol "
                             "was given; name the file after the symbol (AAPL.csv) or add a "
                             "symbol column");
    snprintf(ps->default_symbol, sizeof ps->default_symbol, "%s", default_symbol);
    if (strlen(default_symbol) > QUANT_SYMBOL_MAX ||
        quant_symbol_normalize(ps->default_symbol, err) != QUANT_OK)
        return quant_err_set(err, QUANT_EPARSE, "'%.40s' is not a valid symbol for this file",
                             default_symbol);
    size_t idx;
    if (add_series(ps, ps->default_symbol, &idx))
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    /* Rows are ~40-70 bytes: reserving len/32 avoids regrowing on the hot path. */
    if (quant_bars_reserve(&ps->out->series[0], len / 32 + 16))
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    return QUANT_OK;
}

static enum quant_code parse_body(struct parser *ps, const char *p, const char *end,
                                  struct quant_err *err)
{
    while (p < end) {
        ps->line++;
        if (*p == '\n') {
            p++;
            continue;
        }
        if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
            p += (p + 1 < end) ? 2 : 1;
            continue;
        }
        p = parse_line(ps, p, end, err);
        if (!p)
            return err ? err->code : QUANT_EPARSE;
    }
    return QUANT_OK;
}

enum quant_code quant_csv_parse(const char *text, size_t len, const char *default_symbol,
                                struct quant_csv_file *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    const char *he = p;
    while (he < end && *he != '\n')
        he++;
    if (he - p > QUANT_CSV_MAX_LINE)
        return quant_err_set(err, QUANT_EPARSE, "line 1 is longer than %d bytes; this is not "
                             "a daily price CSV", QUANT_CSV_MAX_LINE);
    const char *hs = p, *hte = he;
    trim(&hs, &hte);
    if (hs == hte)
        return quant_err_set(err, QUANT_EPARSE, "line 1: empty file or header; %s", csv_expected_headers);
    struct layout *lo = malloc(sizeof *lo);
    if (!lo)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct parser ps = {.lo = lo, .out = out, .line = 1};
    enum quant_code rc = csv_parse_header(hs, hte, lo, err);
    if (!rc) {
        out->format = lo->format;
        out->has_symbol_column = lo->has[R_SYMBOL] > 0;
        if (!out->has_symbol_column)
            rc = start_single_series(&ps, default_symbol, len, err);
    }
    if (!rc)
        rc = parse_body(&ps, he < end ? he + 1 : end, end, err);
    csv_symtab_release(&ps.syms);
    free(lo);
    if (rc) {
        quant_csv_file_release(out);
        return rc;
    }
    if (finish_series(out)) {
        quant_csv_file_release(out);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    return QUANT_OK;
}

void quant_csv_file_release(struct quant_csv_file *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        quant_bars_release(&f->series[i]);
    free(f->series);
    free(f->bad);
    free(f->conflicts);
    memset(f, 0, sizeof *f);
}

/* ---- file names --------------------------------------------------------- */

static int is_symbol_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '^' || c == '=' || c == '-';
}

int csv_has_suffix_ci(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

void quant_csv_symbol_from_filename(const char *path, char out[QUANT_SYMBOL_MAX + 1])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (csv_has_suffix_ci(base, n, ".csv") || csv_has_suffix_ci(base, n, ".txt"))
        n -= 4;
    size_t k = 0;
    while (k < n && is_symbol_char(base[k]))
        k++;
    int clean_end = k == n || base[k] == '_' || base[k] == ' ';
    while (k > 0 && base[k - 1] == '.') /* "AAPL..csv" */
        k--;
    if (k == 0 || k > QUANT_SYMBOL_MAX || !clean_end) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < k; i++)
        out[i] = (char)toupper((unsigned char)base[i]);
    out[k] = '\0';
}
