/*
 * csv.c: daily bars from CSV files (Yahoo, yfinance, Stooq, Alpha Vantage,
 * pandas, and "long" files with a symbol column), and the "csv" provider over
 * a file or a directory of them.  It sits on the ingest hot path, so rows are
 * parsed in place from the file buffer in one pass: no per-field allocation,
 * numbers through an exact integer-mantissa fast path, strtod only for the
 * odd field.  It only parses: storage and validation of prices live elsewhere.
 */
#include "quant/csv_provider.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "quant/buf.h"

#include "core/banned.h"

#define CSV_MAX_COLUMNS 256
#define CSV_FILE_MAX ((size_t)2 << 30) /* 2 GiB: a price file bigger than this is a mistake */

/* ---- column roles ----------------------------------------------------------
 * The numeric roles come first so a row's values can live in one array.  */
enum role {
    R_OPEN, R_HIGH, R_LOW, R_CLOSE, R_VOLUME, R_ADJ, R_DIV, R_SPLIT, /* numeric */
    R_DATE, R_SYMBOL, R_INDEX, R_PERIOD, R_IGNORE,
};
#define N_NUMERIC 8
#define N_REQUIRED 5 /* open..volume must be present in every row */

static const char *const k_role_names[] = {
    "open", "high", "low", "close", "volume", "adjusted close", "dividend", "split",
    "date", "symbol", "index", "period", "ignored",
};

const char *quant_csv_format_name(enum quant_csv_format f)
{
    switch (f) {
    case QUANT_CSV_YAHOO: return "yahoo";
    case QUANT_CSV_YFINANCE: return "yfinance";
    case QUANT_CSV_STOOQ: return "stooq";
    case QUANT_CSV_ALPHAVANTAGE: return "alphavantage";
    case QUANT_CSV_AV_ADJUSTED: return "av-adjusted";
    case QUANT_CSV_PANDAS: return "pandas";
    case QUANT_CSV_UNKNOWN: break;
    }
    return "unknown";
}

/* ---- numbers ------------------------------------------------------------ */

static const double k_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* ---- SWAR digits: eight characters at a time -------------------------- */

#define ONES 0x0101010101010101ULL

/* How many of the 8 bytes at p (little-endian load) are leading ASCII digits. */
static int leading_digits8(uint64_t x)
{
    /* A byte is a digit when its high nibble is 3 and adding 6 keeps it 3.  A
     * carry out of a non-digit byte can only spoil bytes after it, which are
     * not counted. */
    uint64_t bad = ((x & (0xF0 * ONES)) ^ (0x30 * ONES)) |
                   (((x + 0x06 * ONES) & (0xF0 * ONES)) ^ (0x30 * ONES));
    return bad ? __builtin_ctzll(bad) / 8 : 8;
}

/* Value of the first n (1..8) digit bytes of x. */
static uint64_t digits8_value(uint64_t x, int n)
{
    uint64_t v = (x - 0x30 * ONES) << (8 * (8 - n)); /* shifted-in zeros act as leading zeros */
    v = v * 10 + (v >> 8);
    v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    return v;
}

static const uint64_t k_ipow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

/* Append the digit run at *pp to *m; returns how many digits, or -1 past
 * budget.  Forced inline: it runs twice per number and the call cost ~10%. */
static inline __attribute__((always_inline)) int digit_run(const char **pp, const char *end,
                                                           uint64_t *m, int budget)
{
    const char *p = *pp;
    int count = 0;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        int n = leading_digits8(x);
        if (n == 0)
            break;
        if ((count += n) > budget)
            return -1;
        *m = *m * k_ipow10[n] + digits8_value(x, n);
        p += n;
        if (n < 8)
            break;
    }
    if (end - p < 8) { /* the last few bytes of the buffer */
        while (p < end && is_digit(*p)) {
            if (++count > budget)
                return -1;
            *m = *m * 10 + (uint64_t)(*p++ - '0');
        }
    }
    *pp = p;
    return count;
}

/*
 * The fast path: [+-]digits[.digits] whose digits, as an integer m, fit in
 * 53 bits, with at most 22 fraction digits.  Then m and 10^frac are both exact
 * doubles and one IEEE division rounds the true quotient correctly, which is
 * exactly what strtod returns.  Returns the end of the number, or NULL when
 * the text is not in that shape (the caller then takes the slow path).
 */
static const char *fast_number(const char *p, const char *end, double *out)
{
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int int_digits = digit_run(&p, end, &m, 19); /* 19 digits cannot overflow */
    if (int_digits < 0)
        return NULL;
    int frac = 0;
    if (p < end && *p == '.') {
        p++;
        frac = digit_run(&p, end, &m, 19 - int_digits);
        if (frac < 0)
            return NULL;
    }
    if (int_digits == 0 && frac == 0)
        return NULL;
    if (frac > 22 || m > (1ULL << 53))
        return NULL;
    double v = (double)m;
    if (frac)
        v /= k_pow10[frac];
    *out = neg ? -v : v;
    return p;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
    if (*e - *s >= 2 && **s == '"' && (*e)[-1] == '"') {
        (*s)++;
        (*e)--;
    }
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
    const char *q = fast_number(s, e, out);
    if (q == e)
        return 0;
    /* Slow path: exponents and long mantissas.  Only plain decimal characters
     * reach strtod, so "inf", "nan" and hex floats are refused. */
    char buf[64];
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

/* ---- symbol table: symbol -> series index (open addressing) ------------- */

struct symtab {
    struct { char sym[QUANT_SYMBOL_MAX + 1]; size_t idx; int used; } *slot;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void symtab_release(struct symtab *t)
{
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* Find sym; returns its index or SIZE_MAX. */
static size_t symtab_get(const struct symtab *t, const char *sym)
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

static enum quant_code symtab_put(struct symtab *t, const char *sym, size_t idx)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct symtab bigger = {.cap = t->cap ? t->cap * 2 : 64};
        bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
        if (!bigger.slot)
            return QUANT_ENOMEM;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i].used)
                symtab_put(&bigger, t->slot[i].sym, t->slot[i].idx);
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

/* ---- header ------------------------------------------------------------- */

struct layout {
    enum role role[CSV_MAX_COLUMNS];
    char name[CSV_MAX_COLUMNS][24];   /* the header's own spelling, for messages */
    int ncols;
    int has[R_IGNORE + 1];            /* column count per role */
    int date_is_timestamp;            /* "timestamp"/"time": Alpha Vantage */
    enum quant_csv_format format;
};

/* Lower-case the name and drop spaces, '_', '<', '>' so "Adj Close",
 * "adj_close" and "<VOL>" compare as "adjclose" and "vol". */
static void column_key(const char *s, const char *e, char *out, size_t cap)
{
    size_t n = 0;
    for (; s < e && n + 1 < cap; s++) {
        char c = *s;
        if (c == ' ' || c == '_' || c == '<' || c == '>' || c == '"' || c == '\t')
            continue;
        out[n++] = (char)tolower((unsigned char)c);
    }
    out[n] = '\0';
}

static enum role role_of(const char *key, int col)
{
    static const struct { const char *key; enum role role; } k_names[] = {
        {"date", R_DATE}, {"timestamp", R_DATE}, {"time", R_DATE},
        {"open", R_OPEN}, {"high", R_HIGH}, {"low", R_LOW}, {"close", R_CLOSE},
        {"adjclose", R_ADJ}, {"adjustedclose", R_ADJ},
        {"volume", R_VOLUME}, {"vol", R_VOLUME},
        {"dividends", R_DIV}, {"dividend", R_DIV}, {"dividendamount", R_DIV},
        {"stocksplits", R_SPLIT}, {"splitcoefficient", R_SPLIT}, {"split", R_SPLIT},
        {"symbol", R_SYMBOL}, {"ticker", R_SYMBOL},
        {"per", R_PERIOD}, /* Stooq bulk files: <TICKER>,<PER>,<DATE>,<TIME>,... */
    };
    if (key[0] == '\0' && col == 0)
        return R_INDEX;
    for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++) {
        if (strcmp(key, k_names[i].key) == 0)
            return k_names[i].role;
    }
    return R_IGNORE; /* OpenInt, Capital Gains and anything unknown */
}

static const char k_expected[] =
    "expected one of: Date,Open,High,Low,Close,Adj Close,Volume (Yahoo) | "
    "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits[,Capital Gains] (yfinance) | "
    "Date,Open,High,Low,Close,Volume[,OpenInt] (Stooq) | "
    "timestamp,open,high,low,close,volume (Alpha Vantage) | "
    "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient "
    "(Alpha Vantage adjusted) | ,date,open,high,low,close,volume (pandas); "
    "any of them may add a symbol or ticker column";

static enum quant_code header_error(struct quant_err *err, const char *s, const char *e,
                                    const char *why)
{
    int n = (int)(e - s);
    return quant_err_set(err, QUANT_EPARSE, "line 1: unrecognised CSV header '%.*s%s' (%s); %s",
                         n > 200 ? 200 : n, s, n > 200 ? "..." : "", why, k_expected);
}

static enum quant_csv_format format_of(const struct layout *lo)
{
    if (lo->date_is_timestamp)
        return lo->has[R_ADJ] ? QUANT_CSV_AV_ADJUSTED : QUANT_CSV_ALPHAVANTAGE;
    if (lo->has[R_INDEX])
        return QUANT_CSV_PANDAS;
    if (lo->has[R_ADJ])
        return QUANT_CSV_YAHOO;
    if (lo->has[R_DIV] || lo->has[R_SPLIT])
        return QUANT_CSV_YFINANCE;
    return QUANT_CSV_STOOQ;
}

/* "time" is the date column of Alpha Vantage's retired intraday-extended
 * CSV, but beside a "date" column (Stooq bulk files) it is a time of day that
 * daily data leaves at 000000: ignore it then. */
static enum role date_or_time(struct layout *lo, const char *key, enum role r, int *time_col)
{
    if (r != R_DATE)
        return r;
    int is_time = strcmp(key, "time") == 0;
    if (!lo->has[R_DATE]) {
        lo->date_is_timestamp = key[0] == 't'; /* Alpha Vantage's names */
        if (is_time)
            *time_col = lo->ncols;
        return r;
    }
    if (is_time)
        return R_IGNORE;
    if (*time_col >= 0) { /* "time" came first: demote it */
        lo->role[*time_col] = R_IGNORE;
        lo->has[R_DATE]--;
        lo->has[R_IGNORE]++;
        lo->date_is_timestamp = strcmp(key, "timestamp") == 0;
        *time_col = -1;
    }
    return r;
}

/* Read the header line [s, e) into lo. */
static enum quant_code parse_header(const char *s, const char *e, struct layout *lo,
                                    struct quant_err *err)
{
    memset(lo, 0, sizeof *lo);
    int time_col = -1;
    const char *p = s;
    for (;;) {
        const char *f = p;
        while (p < e && *p != ',')
            p++;
        if (lo->ncols == CSV_MAX_COLUMNS)
            return header_error(err, s, e, "more than 256 columns");
        const char *fs = f, *fe = p;
        trim(&fs, &fe);
        char key[64];
        column_key(fs, fe, key, sizeof key);
        enum role r = role_of(key, lo->ncols);
        r = date_or_time(lo, key, r, &time_col);
        if (r != R_IGNORE && r != R_INDEX && lo->has[r])
            return header_error(err, s, e, "a column appears twice");
        lo->has[r]++;
        lo->role[lo->ncols] = r;
        snprintf(lo->name[lo->ncols], sizeof lo->name[0], "%.*s", (int)(fe - fs), fs);
        lo->ncols++;
        if (p >= e)
            break;
        p++;
    }
    static const enum role need[] = {R_DATE, R_OPEN, R_HIGH, R_LOW, R_CLOSE, R_VOLUME};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        if (!lo->has[need[i]]) {
            char why[64];
            snprintf(why, sizeof why, "no %s column", k_role_names[need[i]]);
            return header_error(err, s, e, why);
        }
    }
    lo->format = format_of(lo);
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

/* End of the field starting at p: the next ',' '\n' '\r' outside quotes. */
static const char *field_end(const char *p, const char *end)
{
    if (p < end && *p == '"') {
        p++;
        while (p < end && *p != '"')
            p++;
        if (p < end)
            p++;
    }
    while (p < end && *p != ',' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

static int at_field_end(const char *p, const char *end)
{
    return p == end || *p == ',' || *p == '\n' || *p == '\r';
}

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
    size_t idx = symtab_get(&ps->syms, sym);
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
    if (symtab_put(&ps->syms, sym, f->n_series))
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
    if (q && at_field_end(q, end)) {
        r->state[role] = V_OK;
        return q;
    }
    q = field_end(p, end);
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
            q = field_end(p, end);
            r->date_ok = parse_date_field(ps, p, q, &r->date) == 0;
        } else if (role == R_PERIOD) {
            q = field_end(p, end);
            period_field(ps, p, q);
        } else if (role == R_SYMBOL) {
            q = field_end(p, end);
            r->symbol_ok = symbol_field(ps, p, q, &r->series, &r->sym) == QUANT_OK;
        } else {
            q = field_end(p, end);
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
                         k_role_names[i]);
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
static void dedupe_keep_last(struct quant_bars *b)
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

static void drop_empty_series(struct quant_csv_file *f)
{
    size_t w = 0;
    for (size_t i = 0; i < f->n_series; i++) {
        if (f->series[i].n == 0) {
            quant_bars_release(&f->series[i]);
            continue;
        }
        quant_bars_sort(&f->series[i]);
        dedupe_keep_last(&f->series[i]);
        f->series[w++] = f->series[i];
    }
    f->n_series = w;
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
        return quant_err_set(err, QUANT_EPARSE, "line 1: empty file or header; %s", k_expected);
    struct layout *lo = malloc(sizeof *lo);
    if (!lo)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct parser ps = {.lo = lo, .out = out, .line = 1};
    enum quant_code rc = parse_header(hs, hte, lo, err);
    if (!rc) {
        out->format = lo->format;
        out->has_symbol_column = lo->has[R_SYMBOL] > 0;
        if (!out->has_symbol_column)
            rc = start_single_series(&ps, default_symbol, len, err);
    }
    if (!rc)
        rc = parse_body(&ps, he < end ? he + 1 : end, end, err);
    symtab_release(&ps.syms);
    free(lo);
    if (rc) {
        quant_csv_file_release(out);
        return rc;
    }
    drop_empty_series(out);
    return QUANT_OK;
}

void quant_csv_file_release(struct quant_csv_file *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        quant_bars_release(&f->series[i]);
    free(f->series);
    free(f->bad);
    memset(f, 0, sizeof *f);
}

/* ---- file names --------------------------------------------------------- */

static int is_symbol_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '^' || c == '=' || c == '-';
}

static int has_suffix_ci(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

void quant_csv_symbol_from_filename(const char *path, char out[QUANT_SYMBOL_MAX + 1])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (has_suffix_ci(base, n, ".csv") || has_suffix_ci(base, n, ".txt"))
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

/* ---- the provider ------------------------------------------------------- */

/* One symbol's merged series and what was skipped for it. */
struct csv_entry {
    struct quant_bars bars;
    long n_bad;
    char first_bad[320];   /* "FILE line N: reason" */
    char first_file[128];  /* base name of the first file that held this symbol */
    /* Why the symbol is refused ("" = fine): two files disagree on a date, or
     * the symbol's own file in a folder could not be read.  Other symbols go on. */
    char conflict[QUANT_ERR_MSG_MAX];
    enum quant_code conflict_code;
};

struct csv_state {
    char path[PATH_MAX];
    struct csv_entry *v;   /* sorted by symbol after open */
    size_t n, cap;
    struct symtab syms;    /* only during open */
};

static void csv_state_free(struct csv_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        quant_bars_release(&st->v[i].bars);
    free(st->v);
    symtab_release(&st->syms);
    free(st);
}

static void csv_close(void *state)
{
    csv_state_free(state);
}

static struct csv_entry *entry_for(struct csv_state *st, const char *sym)
{
    size_t idx = symtab_get(&st->syms, sym);
    if (idx != SIZE_MAX)
        return &st->v[idx];
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct csv_entry *v = realloc(st->v, cap * sizeof *v);
        if (!v)
            return NULL;
        st->v = v;
        st->cap = cap;
    }
    struct csv_entry *e = &st->v[st->n];
    memset(e, 0, sizeof *e);
    snprintf(e->bars.symbol, sizeof e->bars.symbol, "%s", sym);
    if (symtab_put(&st->syms, sym, st->n))
        return NULL;
    st->n++;
    return e;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int prices_differ(double a, double b)
{
    /* Sources round differently (6 vs 4 decimals), so only a real difference
     * counts, not the last printed digit. */
    return fabs(a - b) > 1e-4 * fmax(fabs(a), fabs(b));
}

/*
 * Two files with bars for the same symbol: splitting a history across files
 * (by year, say) is fine, but files that disagree on a date's prices are two
 * different series (adjusted vs unadjusted, or two vendors), and picking one
 * silently would store a chimera.  Record the first disagreement instead.
 */
static void check_overlap(struct csv_entry *e, const struct quant_bars *b, const char *file)
{
    size_t i = 0, j = 0;
    while (i < e->bars.n && j < b->n && !e->conflict[0]) {
        const struct quant_bar *x = &e->bars.v[i], *y = &b->v[j];
        if (x->date < y->date) {
            i++;
        } else if (y->date < x->date) {
            j++;
        } else {
            if (prices_differ(x->close, y->close) || prices_differ(x->open, y->open)) {
                char d[11];
                quant_date_format(x->date, d);
                e->conflict_code = QUANT_EVALIDATION;
                snprintf(e->conflict, sizeof e->conflict,
                         "%s and %s both hold %s but disagree on %s (close %.6g vs %.6g): "
                         "they are different series (adjusted vs unadjusted, or two vendors); "
                         "ingest the one you trust with --csv FILE --symbols %s",
                         e->first_file, base_name(file), e->bars.symbol, d, x->close,
                         y->close, e->bars.symbol);
            }
            i++;
            j++;
        }
    }
}

/* Later files win for equal dates: append, stable sort, keep the last. */
static enum quant_code merge_series(struct csv_entry *e, struct quant_bars *b)
{
    if (e->bars.n == 0) {
        quant_bars_release(&e->bars);
        e->bars.v = b->v;
        e->bars.n = b->n;
        e->bars.cap = b->cap;
        b->v = NULL;
        b->n = b->cap = 0;
        return QUANT_OK;
    }
    if (quant_bars_reserve(&e->bars, e->bars.n + b->n))
        return QUANT_ENOMEM;
    memcpy(e->bars.v + e->bars.n, b->v, b->n * sizeof *b->v);
    e->bars.n += b->n;
    quant_bars_sort(&e->bars);
    dedupe_keep_last(&e->bars);
    return QUANT_OK;
}

static void note_bad(struct csv_entry *e, const char *file, const struct quant_csv_bad_row *b,
                     long count)
{
    if (e->n_bad == 0 && b) {
        const char *base = strrchr(file, '/');
        snprintf(e->first_bad, sizeof e->first_bad, "%s line %ld: %s", base ? base + 1 : file,
                 b->line, b->reason);
    }
    e->n_bad += count;
}

static enum quant_code add_file(struct csv_state *st, const char *file, struct quant_csv_file *f,
                                struct quant_err *err)
{
    /* A row whose symbol is not valid belongs to no series, so no symbol's
     * warning could report it: refuse the file rather than drop it silently. */
    for (size_t i = 0; i < f->n_bad; i++)
        if (!f->bad[i].symbol[0])
            return quant_err_set(err, QUANT_EPARSE,
                                 "%s line %ld: %s; every row of a file with a symbol column "
                                 "needs a valid symbol: fix or remove that row (nothing was "
                                 "ingested)", file, f->bad[i].line, f->bad[i].reason);
    for (size_t i = 0; i < f->n_series; i++) {
        struct csv_entry *e = entry_for(st, f->series[i].symbol);
        if (!e)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
        if (!e->first_file[0])
            snprintf(e->first_file, sizeof e->first_file, "%s", base_name(file));
        else
            check_overlap(e, &f->series[i], file);
        if (merge_series(e, &f->series[i]))
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
    }
    for (size_t i = 0; i < f->n_bad; i++) {
        struct csv_entry *e = entry_for(st, f->bad[i].symbol);
        if (!e)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
        /* Single-symbol files: the count also covers rows beyond BAD_KEEP. */
        long count = (!f->has_symbol_column && i == 0) ? f->n_bad_total - (long)f->n_bad + 1 : 1;
        note_bad(e, file, &f->bad[i], count);
    }
    return QUANT_OK;
}

/* Parse one file into the provider.  symbol names the series of a file
 * without a symbol column (NULL: the file name decides); n_wanted is how many
 * symbols the caller asked for, which such a file cannot satisfy beyond one. */
static enum quant_code load_file(struct csv_state *st, const char *file, const char *symbol,
                                 size_t n_wanted, struct quant_err *err)
{
    char inferred[QUANT_SYMBOL_MAX + 1];
    if (!symbol) {
        quant_csv_symbol_from_filename(file, inferred);
        symbol = inferred;
    }
    struct quant_buf buf;
    quant_buf_init(&buf, CSV_FILE_MAX);
    enum quant_code rc = quant_buf_read_file(&buf, file, err);
    if (rc) {
        quant_buf_release(&buf);
        return rc;
    }
    struct quant_csv_file f;
    rc = quant_csv_parse(buf.data, buf.len, symbol, &f, err);
    quant_buf_release(&buf);
    if (rc == QUANT_EPARSE && symbol == inferred && !inferred[0] &&
        strstr(err->msg, "no symbol or ticker column"))
        /* The parser cannot know the symbol was to come from the name. */
        return quant_err_set(err, QUANT_EPARSE,
                             "%s has no symbol column and its name does not start with a "
                             "symbol (1-%d letters, digits or . ^ = -, then '_' or the "
                             "extension); rename it after its symbol (AAPL.csv, "
                             "AAPL_daily.csv) or ingest it alone with --symbols SYMBOL",
                             file, QUANT_SYMBOL_MAX);
    if (rc)
        return quant_err_prefix(err, "%s ", file);
    if (n_wanted > 1 && !f.has_symbol_column)
        rc = quant_err_set(err, QUANT_EINVAL, "%s has no symbol or ticker column, so it holds "
                           "one symbol; ask for one symbol, not %zu (or use a directory of "
                           "files named after their symbols)", file, n_wanted);
    if (!rc)
        rc = add_file(st, file, &f, err);
    quant_csv_file_release(&f);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_csv_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && (has_suffix_ci(name, n, ".csv") || has_suffix_ci(name, n, ".txt"));
}

/* The *.csv / *.txt names in dir, sorted (malloc'd; free with quant_strings_free rules). */
static enum quant_code list_dir(const char *dir, char ***out, size_t *out_n,
                                struct quant_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return quant_err_set(err, QUANT_EIO, "cannot open directory %s: %s", dir,
                             strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    enum quant_code rc = QUANT_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_csv_name(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) { rc = QUANT_ENOMEM; break; }
            v = nv;
        }
        if (!(v[n] = strdup(de->d_name))) { rc = QUANT_ENOMEM; break; }
        n++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return quant_err_set(err, rc, "out of memory listing %s", dir);
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/*
 * One unreadable file in a folder should not stop the rest, just as one
 * failing symbol does not stop an ingest: when the file's name says whose it
 * is, that symbol is refused with the file's error and the others go on.  A
 * file named after no symbol cannot be pinned on one, so it still fails the
 * whole folder (with its name and line, so it can be fixed or moved).
 * Returns 1 when the error was taken over (err cleared), 0 otherwise.
 */
static int refuse_symbol_of_file(struct csv_state *st, const char *file, enum quant_code rc,
                                 struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    if (rc == QUANT_ENOMEM)
        return 0;
    quant_csv_symbol_from_filename(file, sym);
    struct csv_entry *e = sym[0] ? entry_for(st, sym) : NULL;
    if (!e)
        return 0;
    if (!e->conflict[0]) {
        e->conflict_code = rc;
        snprintf(e->conflict, sizeof e->conflict, "%s", err->msg);
    }
    quant_err_clear(err);
    return 1;
}

static enum quant_code load_dir(struct csv_state *st, const char *dir, struct quant_err *err)
{
    char **names = NULL;
    size_t n = 0;
    enum quant_code rc = list_dir(dir, &names, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no *.csv or *.txt files in %s", dir);
    for (size_t i = 0; i < n && !rc; i++) {
        char file[PATH_MAX];
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        rc = load_file(st, file, NULL, 0, err);
        if (rc && refuse_symbol_of_file(st, file, rc, err))
            rc = QUANT_OK;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct csv_entry *)a)->bars.symbol,
                  ((const struct csv_entry *)b)->bars.symbol);
}

static struct csv_entry *find_entry(struct csv_state *st, const char *sym)
{
    struct csv_entry key;
    snprintf(key.bars.symbol, sizeof key.bars.symbol, "%s", sym);
    return st->n ? bsearch(&key, st->v, st->n, sizeof *st->v, cmp_entry) : NULL;
}

static enum quant_code csv_fetch_daily(void *state, const char *symbol,
                                       enum quant_fetch_mode mode, struct quant_bars *out,
                                       struct quant_fetch_info *info, struct quant_err *err)
{
    (void)mode; /* a file holds what it holds */
    struct csv_state *st = state;
    char sym[QUANT_SYMBOL_MAX + 1];
    snprintf(sym, sizeof sym, "%s", symbol ? symbol : "");
    if (!symbol || strlen(symbol) > QUANT_SYMBOL_MAX || quant_symbol_normalize(sym, err))
        return quant_err_set(err, QUANT_EINVAL, "'%.40s' is not a valid symbol",
                             symbol ? symbol : "");
    struct csv_entry *e = find_entry(st, sym);
    if (e && e->conflict[0])
        return quant_err_set(err, e->conflict_code, "%s", e->conflict);
    if (!e || e->bars.n == 0) {
        if (e && e->n_bad)
            return quant_err_set(err, QUANT_ENOTFOUND, "no CSV data for %s in %s: all %ld "
                                 "rows were bad (first: %s)", sym, st->path, e->n_bad,
                                 e->first_bad);
        return quant_err_set(err, QUANT_ENOTFOUND, "no CSV data for %s in %s", sym, st->path);
    }
    if (quant_bars_reserve(out, out->n + e->bars.n))
        return quant_err_set(err, QUANT_ENOMEM, "out of memory copying %s", sym);
    memcpy(out->v + out->n, e->bars.v, e->bars.n * sizeof *out->v);
    out->n += e->bars.n;
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    if (info) {
        info->warning[0] = '\0';
        if (e->n_bad)
            snprintf(info->warning, sizeof info->warning, "%s: skipped %ld bad row%s (first: %s)",
                     sym, e->n_bad, e->n_bad == 1 ? "" : "s", e->first_bad);
    }
    return QUANT_OK;
}

static enum quant_code csv_list_symbols(void *state, char ***out, size_t *out_n,
                                        struct quant_err *err)
{
    struct csv_state *st = state;
    char **v = calloc(st->n ? st->n : 1, sizeof *v);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory listing symbols");
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].bars.n == 0 && !st->v[i].conflict[0])
            continue; /* a refused symbol is listed, so the run reports it */
        if (!(v[n] = strdup(st->v[i].bars.symbol))) {
            for (size_t j = 0; j < n; j++)
                free(v[j]);
            free(v);
            return quant_err_set(err, QUANT_ENOMEM, "out of memory listing symbols");
        }
        n++;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

static const struct quant_provider_ops k_csv_ops = {
    .name = "csv",
    .fetch_daily = csv_fetch_daily,
    .list_symbols = csv_list_symbols,
    .close = csv_close,
};

static enum quant_code load_path(struct csv_state *st, const char *path,
                                 const char *const *symbols, size_t n_symbols,
                                 struct quant_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return quant_err_set(err, QUANT_EIO, "cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return load_dir(st, path, err);
    return load_file(st, path, n_symbols == 1 ? symbols[0] : NULL, n_symbols, err);
}

enum quant_code quant_csv_open(const char *path, const char *const *symbols, size_t n_symbols,
                               struct quant_provider *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct csv_state *st = calloc(1, sizeof *st);
    if (!st)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    snprintf(st->path, sizeof st->path, "%s", path);
    enum quant_code rc = load_path(st, path, symbols, n_symbols, err);
    if (rc) {
        csv_state_free(st);
        return rc;
    }
    symtab_release(&st->syms); /* fetches use bsearch on the sorted entries */
    if (st->n)
        qsort(st->v, st->n, sizeof *st->v, cmp_entry);
    out->ops = &k_csv_ops;
    out->state = st;
    return QUANT_OK;
}
