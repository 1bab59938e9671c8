/*
 * csv_header.c: recognising a CSV header line: which column holds the date,
 * the prices, the volume, a symbol, and so which format (Yahoo, yfinance,
 * Stooq, Alpha Vantage, pandas) the file is.  Columns are found by name, so
 * their order and unknown extra columns do not matter.  It only reads the
 * header; rows are csv_parse.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "csv_internal.h"

#include "core/banned.h"

const char *const csv_role_names[] = {
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

const char csv_expected_headers[] =
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
                         n > 200 ? 200 : n, s, n > 200 ? "..." : "", why, csv_expected_headers);
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

enum quant_code csv_parse_header(const char *s, const char *e, struct layout *lo,
                                    struct quant_err *err)
{
    memset(lo, 0, sizeof *lo);
    int time_col = -1;
    const char *p = s;
    for (;;) {
        /* Quoted names split as row fields do (csv_core.h), so a header and
         * its rows agree on where the columns are; a lone '\r' inside the
         * line stays in its field, as it always has. */
        const char *f = p;
        p = csv_field_end(p, e);
        while (p < e && *p != ',')
            p = csv_field_end(p + 1, e);
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
            snprintf(why, sizeof why, "no %s column", csv_role_names[need[i]]);
            return header_error(err, s, e, why);
        }
    }
    lo->format = format_of(lo);
    return QUANT_OK;
}
