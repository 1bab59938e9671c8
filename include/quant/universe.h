/*
 * universe.h: point-in-time universes (../shared/spec/EVALUATION.md,
 * "Universes"): a named list of membership intervals (symbol, first day,
 * last day, both included), read from a Qlib instruments file and kept in
 * the metadata store.  With a universe, a symbol takes part in walk-forward
 * training, signal analysis and the backtest on date t only when t lies in
 * one of its intervals.
 *
 * The service needs only the metadata store: `add` and `remove` work in a
 * QUANT_WS_META workspace, `list` and `load` in QUANT_WS_READ (workspace.h),
 * so none waits for an ingest.
 *
 * The members file (Qlib's instruments format):
 *
 *   # S&P demo, 2020 onwards            '#' starts a comment line
 *   AAPL<TAB>2020-01-02<TAB>2024-12-31   SYMBOL START END, days YYYY-MM-DD
 *   XYZ<TAB>2020-01-02<TAB>2021-06-30    a symbol may have several lines
 *   XYZ<TAB>2022-01-03<TAB>2024-12-31
 *
 * Fields are separated by tabs as Qlib writes them, or by spaces (no field
 * can hold a blank, so the reading is the same); commas are refused, since a
 * comma file is a CSV of some other layout.  Blank lines, CRLF line ends, a
 * UTF-8 byte order mark and a missing last newline are fine.  Symbols are
 * normalised as everywhere in quant (quant_symbol_normalize).  A symbol's
 * intervals that overlap or touch (one ends the day before the next starts)
 * are merged into one: membership is the union of the lines, which is how
 * Qlib reads them too, so refusing would only reject files Qlib accepts; the
 * count merged is reported, so a file that repeats itself is noticed.
 *
 * Ownership: quant_universe_load allocates a struct quant_universe, freed by
 * quant_universe_free; list and read functions return malloc'd arrays freed
 * with free().  A loaded universe is never changed after load: any number of
 * threads may query it at once.
 */
#ifndef QUANT_UNIVERSE_H
#define QUANT_UNIVERSE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/meta_store.h"
#include "quant/workspace.h"

/*
 * A universe's name: 1 to QUANT_UNIVERSE_NAME_MAX letters, digits, '-', '_'
 * or '.', starting with a letter or a digit (so it never reads as an
 * option).  QUANT_EINVAL saying the rule otherwise.
 */
enum quant_code quant_universe_check_name(const char *name, struct quant_err *err);

/* What reading a members file found besides its intervals. */
struct quant_universe_file_info {
    long lines;              /* interval lines read (before merging) */
    long merged;             /* lines merged into another interval of their symbol */
    char first_merged[64];   /* "XYZ (line 7)": the first such line; "" when none */
};

/*
 * Read and validate a members file: *out gets the intervals, normalised,
 * sorted by symbol then start, overlapping or touching ones merged
 * (*out malloc'd; the caller frees it); info (may be NULL) what was merged.
 * QUANT_EPARSE naming the file, the line and what to fix (a bad symbol, a
 * bad date, an end before its start, a wrong number of fields); QUANT_EIO
 * when the file cannot be read; QUANT_ETOOBIG over 64 MiB.  Never writes.
 */
enum quant_code quant_universe_read_file(const char *path, struct quant_universe_interval **out,
                                         size_t *out_n, struct quant_universe_file_info *info,
                                         struct quant_err *err);

/* What quant_universe_add stored, and what a user should look at. */
struct quant_universe_added {
    struct quant_universe_record rec;     /* as stored */
    int replaced;                         /* it replaced a universe of that name */
    struct quant_universe_file_info file; /* what the file held (merges) */
    size_t n_without_bars;                /* symbols no ingest has stored bars for */
    char without_bars[256];               /* the first of them, "ABC, XYZ, ..." */
};

/*
 * Read the members file at path (as quant_universe_read_file) and store it
 * as universe `name`, in one transaction.  Everything is validated before
 * anything is written: on any error the store is as it was, an older
 * universe of that name included.  A name already stored is refused with
 * QUANT_EINVAL unless replace is set; then its intervals are swapped whole.
 * out (may be NULL) gets the stored record and the warnings' facts.
 */
enum quant_code quant_universe_add(struct quant_workspace *ws, const char *name,
                                   const char *path, int replace,
                                   struct quant_universe_added *out, struct quant_err *err);

/* Every stored universe, by name (none when there is no metadata store
 * yet).  *out malloc'd; the caller frees it. */
enum quant_code quant_universe_list(struct quant_workspace *ws,
                                    struct quant_universe_record **out, size_t *out_n,
                                    struct quant_err *err);

/* Forget a universe (bars, models and predictions are not touched); out (may
 * be NULL) gets what it was.  QUANT_ENOTFOUND when there is none. */
enum quant_code quant_universe_remove(struct quant_workspace *ws, const char *name,
                                      struct quant_universe_record *out,
                                      struct quant_err *err);

/* ---- a loaded universe: membership queries ------------------------------ */

struct quant_universe;

/*
 * Load universe `name` into memory for membership queries.  QUANT_ENOTFOUND
 * (saying how to list them) when there is none.  Free with
 * quant_universe_free.
 */
enum quant_code quant_universe_load(struct quant_workspace *ws, const char *name,
                                    struct quant_universe **out, struct quant_err *err);
void quant_universe_free(struct quant_universe *u);

/* Its name, source file, counts, first and last day. */
const struct quant_universe_record *quant_universe_info(const struct quant_universe *u);

/*
 * Is symbol (normalised, as stored) a member on date (days since
 * 1970-01-01)?  1 or 0; an unknown symbol is never a member.  O(log S + log
 * k) for S symbols and k intervals of this symbol: a binary search over the
 * sorted symbols, then over the symbol's sorted, disjoint intervals; no
 * allocation.  Per (symbol, date) over millions of rows, resolve the symbol
 * once with quant_universe_symbol_index and query by index instead.
 */
int quant_universe_member(const struct quant_universe *u, const char *symbol, int32_t date);

/* The distinct symbols, sorted (strcmp): index 0 .. count-1. */
size_t quant_universe_symbol_count(const struct quant_universe *u);
const char *quant_universe_symbol(const struct quant_universe *u, size_t i);

/* The index of symbol among them, or -1 when it is not in the universe
 * (O(log S)). */
long quant_universe_symbol_index(const struct quant_universe *u, const char *symbol);

/* Membership of the symbol at index i on date: O(log k). */
int quant_universe_member_at(const struct quant_universe *u, size_t i, int32_t date);

/*
 * The intervals of the symbol at index i, by start, disjoint and never
 * touching: *start and *end point at arrays of the returned length, owned by
 * u (days, both ends included).
 */
size_t quant_universe_intervals(const struct quant_universe *u, size_t i,
                                const int32_t **start, const int32_t **end);

#endif
