/*
 * csv_provider.h: daily bars from CSV files.
 *
 * Recognised by their header line (case-insensitive, surrounding spaces and a
 * UTF-8 BOM ignored):
 *   yahoo        Date,Open,High,Low,Close,Adj Close,Volume
 *   yfinance     Date,Open,High,Low,Close,Volume[,Dividends,Stock Splits[,Capital Gains]]
 *                (prices already adjusted; no adjusted close column)
 *   stooq        Date,Open,High,Low,Close,Volume[,OpenInt]   (often CRLF)
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
 */
#ifndef QUANT_CSV_PROVIDER_H
#define QUANT_CSV_PROVIDER_H

#include <stddef.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "quant/provider.h"

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
};

/* The result of parsing one file. */
struct quant_csv_file {
    enum quant_csv_format format;
    int has_symbol_column;
    struct quant_bars *series;   /* owned array, n_series entries, each sorted */
    size_t n_series;
    struct quant_csv_bad_row *bad;  /* owned array of skipped rows */
    size_t n_bad;
    long rows_read;              /* data rows seen, including skipped ones */
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
 * The symbol a file name implies: its leading token of symbol characters,
 * upper-cased ("AAPL_yahoo_daily.csv" -> "AAPL", "spy.us.txt" -> "SPY.US").
 * Writes "" when there is none.
 */
void quant_csv_symbol_from_filename(const char *path, char out[QUANT_SYMBOL_MAX + 1]);

/*
 * A provider over a file or a directory of CSV files (*.csv, *.txt).  All
 * files are parsed at open; `symbols` (may be NULL/0) names the symbol for a
 * single file without a symbol column, else the file name decides.  Files that
 * fail to parse make open fail, naming the file.  Bad rows are kept in the
 * provider and passed on as a warning by fetch_daily.  list_symbols gives
 * every symbol found.
 */
enum quant_code quant_csv_open(const char *path, const char *const *symbols, size_t n_symbols,
                               struct quant_provider *out, struct quant_err *err);

#endif
