/*
 * adjust.h: one continuous adjusted series per symbol, built when bars are
 * stored.  Pure functions over bars; the series store calls them inside its
 * upsert, with the symbol's stored bars and the incoming ones.
 *
 * The adjusted close of a bar is close x f, f its adjustment factor.  Only
 * ratios of adjusted prices matter (every return, feature and label is one),
 * so quant keeps f continuous rather than normalised to any date:
 *
 *   source publishes adj_close (Yahoo CSV, Alpha Vantage DAILY_ADJUSTED)
 *       f = adj_close / close as published, times one scale q for the whole
 *       incoming series that puts it on the stored history's footing: sources
 *       normalise to the day they were fetched, so two downloads differ by a
 *       constant after any dividend or split in between.  q is anchored at
 *       the first overlapping date (stored f / published f), else at the bar
 *       right after the stored ones (continuing the stored f, moved by the
 *       split and dividend the source lists there); bars rescaled (q != 1)
 *       are marked QUANT_Q_ADJ_CARRIED.  Nothing stored: q = 1.
 *   source publishes none (Alpha Vantage TIME_SERIES_DAILY, a plain CSV)
 *       f = the factor already stored for that date, when there is one;
 *       else the previous bar's f, times k on a listed split of k that the
 *       prices show (close fell by k); marked QUANT_Q_ADJ_CARRIED.  Listed
 *       dividends are not applied: a source that adjusts for them publishes
 *       the adjusted close, and yfinance exports list events already applied
 *       to every price.  With no factor before, adj_close stays NULL (f = 1).
 *
 * So a Yahoo backfill topped up with Alpha Vantage bars, adjusted or not,
 * continues at the Yahoo factor instead of jumping at the seam.
 *
 * Unexplained jumps: where the factor was not published (or at the seam, the
 * first incoming bar after stored ones), an overnight move of the adjusted
 * close that looks like a split (see quant_adjust_split_ratio) is not trusted:
 * the bar is marked QUANT_Q_JUMP_BEFORE, which derivation treats like a gap
 * (no return, window or label spans it), and the ingest warns.  quant does not
 * guess the factor: a premium key's DAILY_ADJUSTED series (or a CSV with
 * Adj Close) fixes the history for good.
 */
#ifndef QUANT_ADJUST_H
#define QUANT_ADJUST_H

#include <stdint.h>

#include "quant/bars.h"

struct quant_adjust_report {
    long carried;            /* incoming bars whose adj_close quant carried */
    long jumps;              /* incoming bars marked QUANT_Q_JUMP_BEFORE */
    int32_t first_jump;      /* date of the first of them (0 when none) */
    double first_jump_ratio; /* its split-like ratio: 2 = looks like 2-for-1, 0.1 = 1-for-10 */
};

/*
 * Complete `in` (one symbol's incoming bars: ascending, unique dates, quality
 * set by validation) against `old` (the same symbol's stored bars, ascending;
 * may be empty): fill adj_close where the source left it out, and set or
 * clear QUANT_Q_ADJ_CARRIED and QUANT_Q_JUMP_BEFORE on every incoming bar.
 * `old` is not changed.  rep (may be NULL) is filled.  Returns 0, or -1 when
 * out of memory (in is then unchanged).
 */
int quant_adjust_merge(const struct quant_bars *old, struct quant_bars *in,
                       struct quant_adjust_report *rep);

/*
 * The split ratio k that the move from prev_close to close looks like
 * (prev_close / close near k: 2 for a 2-for-1 split, 0.1 for a 1-for-10
 * reverse split), or 0 when it does not look like one.  Matches are within 4%
 * of 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100 or their
 * inverses; 3-for-2 (1.5) and 2-for-3 only when volume_ratio (median volume
 * after / before; NAN when unknown) moved the same way by at least 20%,
 * since a 33% day is a real move far more often than a 3-for-2 split.
 */
double quant_adjust_split_ratio(double prev_close, double close, double volume_ratio);

#endif
