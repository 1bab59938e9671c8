/*
 * csv_provider_internal.h: daily bars from CSV files.
 *
 * Recognised by their header line (case-insensitive, surrounding spaces and a
 * UTF-8 BOM ignored):
 *   yahoo        Date,Open,High,Low,Close,Adj Close,Volume
 *   yfinance     Date,Open,High,Low,Close,Volume[,Dividends,Stock Splits[,Capital Gains]]
 *                (prices already adjusted; no adjusted close column)
 *   stooq        Date,Open,High,Low,Close,Volume[,OpenInt]   (often CRLF); also
 *                Stooq's bulk <TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,...,<VOL>,
 *                <OPENINT> (dates YYYYMMDD, <TIME> ignored, <PER> must be D)
 *   alphavantage timestamp,open,high,low,close,volume
 *   av-adjusted  timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient
 *   pandas       ,date,open,high,low,close,volume   (a pandas index column first)
 *   long         any of the above with an extra `symbol` (or `ticker`) column:
 *                many symbols in one file
 * Any other header is rejected with the line number and what was expected.
 *
 * Rows: a row whose fields are all empty or "null" is not a row (skipped
 * silently, as the spec says).  A row with a bad date or a non-numeric value
 * is reported (line, reason) and skipped; the rest of the file still loads.
 * Rows may come in any date order; each series is returned sorted ascending.
 * Two rows for the same symbol and date: identical ones (within rounding)
 * are one bar; rows that disagree are listed in `conflicts` (the series
 * keeps the later row, but the provider refuses such a symbol).
 *
 * Details a user may need:
 *  - A header of exactly Date,Open,High,Low,Close,Volume is read as stooq (it
 *    could also be a yfinance export without its extra columns: the bars are
 *    the same, adj_close/dividend/split NAN).
 *  - Columns are found by name; unknown extra columns are ignored, OpenInt and
 *    Capital Gains are ignored.  "time" is accepted like "timestamp".
 *  - Dates are YYYY-MM-DD, optionally followed by a midnight time
 *    ("2024-01-02 00:00:00").  A time of day other than midnight means
 *    intraday data, which quant does not store: when the FIRST data row has
 *    one the whole file is rejected (QUANT_EPARSE, "intraday data"); later
 *    such rows are bad rows.  So Alpha Vantage intraday CSVs (timestamp or
 *    the retired time,open,... header) are refused, not half-loaded.
 *  - yfinance "Stock Splits" (and any split column) 0 means "no split" and is
 *    stored as 1.0; dividends are stored as given.
 *  - Optional columns (adjusted close, dividend, split) may be empty/"null"
 *    (stored as NAN); an empty or "null" open/high/low/close/volume makes the
 *    row bad unless every value in the row is empty/"null" (then it is
 *    skipped silently).
 *  - Numbers: up to 15-16 significant digits are converted by a fast exact
 *    path; longer ones and exponents go through strtod; inf/nan/hex are bad.
 */
#ifndef QUANT_CSV_PROVIDER_INTERNAL_H
#define QUANT_CSV_PROVIDER_INTERNAL_H

#include <stddef.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "providers/provider_internal.h"

#define QUANT_CSV_MAX_LINE 65536   /* a longer line is an error, not a truncation */

enum quant_csv_format {
    QUANT_CSV_UNKNOWN = 0,
    QUANT_CSV_YAHOO,
    QUANT_CSV_YFINANCE,
    QUANT_CSV_STOOQ,
    QUANT_CSV_ALPHAVANTAGE,
    QUANT_CSV_AV_ADJUSTED,
    QUANT_CSV_PANDAS,
};

/* One skipped row. */
struct quant_csv_bad_row {
    long line;           /* 1-based line number in the file */
    char reason[128];    /* "column 'close' is not a number: 'abc'" */
    char symbol[QUANT_SYMBOL_MAX + 1]; /* the row's symbol; "" when unknown/invalid */
};

/* At most this many bad rows are kept in quant_csv_file.bad (all are counted). */
#define QUANT_CSV_BAD_KEEP 1000

/* A symbol whose file holds disagreeing rows for one date. */
struct quant_csv_conflict {
    char symbol[QUANT_SYMBOL_MAX + 1];
    int32_t date;            /* the first date with disagreeing rows */
    double close_a, close_b; /* the close of its first row and of a disagreeing one */
    long n_dates;            /* how many of the symbol's dates have disagreeing rows */
};

/* The result of parsing one file. */
struct quant_csv_file {
    enum quant_csv_format format;
    int has_symbol_column;
    struct quant_bars *series;   /* owned array, n_series entries, each sorted */
    size_t n_series;
    struct quant_csv_bad_row *bad;  /* owned array of skipped rows (first QUANT_CSV_BAD_KEEP) */
    size_t n_bad;
    long n_bad_total;            /* all bad rows, including those not kept in `bad` */
    long rows_read;              /* data rows seen, including skipped ones */
    struct quant_csv_conflict *conflicts; /* owned; one per symbol that has any */
    size_t n_conflicts;
};

/* Human name of a format ("yahoo", "stooq", ...). */
const char *quant_csv_format_name(enum quant_csv_format f);

/*
 * Parse CSV text.  default_symbol is used when the file has no symbol column
 * (may be NULL or "" when it has one).  Symbols from a symbol column are
 * normalised; a row with an invalid symbol is a bad row.  Fills *out (caller
 * releases with quant_csv_file_release).  QUANT_EPARSE for an unrecognised
 * header or a missing symbol, with the line number.
 */
enum quant_code quant_csv_parse(const char *text, size_t len, const char *default_symbol,
                                struct quant_csv_file *out, struct quant_err *err);

void quant_csv_file_release(struct quant_csv_file *f);

/*
 * Parse one numeric CSV field s[0..len) the way quant_csv_parse does (spaces
 * and surrounding quotes trimmed).  Returns 0 and sets *out on success; 1 when
 * the field is empty or "null" (a missing value); -1 when it is not a finite
 * decimal number.  The result equals strtod's, bit for bit.
 */
int quant_csv_parse_number(const char *s, size_t len, double *out);

/*
 * The symbol a file name implies: its leading token of symbol characters,
 * upper-cased ("AAPL_yahoo_daily.csv" -> "AAPL", "spy.us.txt" -> "SPY.US").
 * The token must end at '_', ' ' or the extension: "A;B.csv" or "A'B_x.csv"
 * imply no symbol (not "A", which would file them under someone else).
 * Writes "" when there is none.
 */
void quant_csv_symbol_from_filename(const char *path, char out[QUANT_SYMBOL_MAX + 1]);

/*
 * A provider over a file or a directory of CSV files (*.csv, *.txt).  All
 * files are parsed at open; `symbols` (may be NULL/0) names the symbol for a
 * single file without a symbol column, else the file name decides.  Files that
 * fail to parse make open fail, naming the file, and so does a file that
 * holds no bar at all (a header only, or rows that are all bad: the message
 * gives the count and the first reason).  Bad rows are kept in the provider
 * and passed on as a warning by fetch_daily.  list_symbols gives every symbol
 * found, including refused ones and ones whose rows were all bad, so that a
 * run reports them.
 *
 *  - A single file with a symbol column ignores `symbols`; one without takes
 *    symbols[0] as its symbol, and more than one symbol is QUANT_EINVAL.
 *  - A directory is read non-recursively, files in byte order of their names;
 *    `symbols` is ignored for a directory (each file names its symbols).
 *    QUANT_ENOTFOUND when it holds no *.csv / *.txt file.  Entries that are
 *    not regular files (a FIFO, a device) are skipped without being opened
 *    for reading and named by the provider's warnings op.  A file that fails
 *    (including one with no bar) refuses only the symbol its name gives; one
 *    whose name gives none fails the whole folder.
 *  - The same symbol in several files is merged into one series; for equal
 *    dates with equal prices the file later in name order wins (so
 *    AAPL_2024.csv may repeat a day of AAPL_2023.csv).  Files, or rows of one
 *    file, that disagree on a date's prices refuse that symbol (fetch_daily
 *    fails with QUANT_EVALIDATION naming the file(s) and the date); the
 *    other symbols go on.
 *  - fetch_daily ignores the mode (a file holds what it holds), hands the
 *    series over into an empty out (appends a copy to a non-empty one; either
 *    way a symbol is fetched once: a second fetch fails with QUANT_EINVAL),
 *    and sets info->warning to
 *    "skipped 2 bad rows (first: FILE line 167: reason)" when rows of
 *    that symbol were skipped; QUANT_ENOTFOUND "no CSV data for SYM in PATH"
 *    otherwise.  Rows whose symbol itself is invalid belong to no series and
 *    appear in no warning.
 *  - Files are read whole (up to 2 GiB each), in chunks: reading stops at
 *    the first line longer than QUANT_CSV_MAX_LINE (QUANT_EPARSE naming the
 *    file, the line and the limit), so a file that is no CSV is not loaded
 *    into memory first.  State holds every series.
 */
enum quant_code quant_csv_open(const char *path, const char *const *symbols, size_t n_symbols,
                               struct quant_provider *out, struct quant_err *err);

#endif
