/*
 * validate.h: the rules a bar must pass before it is stored, and the one
 * repair quant makes.
 *
 *   prices (open, high, low, close) finite and > 0; adj_close, when present,
 *   finite and > 0; volume finite and >= 0; high >= max(open, close);
 *   low <= min(open, close); no second bar for a date already seen.
 *
 * Repair (the policy, for every source): a bar whose close is a real price
 * and whose high/low agree with it (low <= close <= high), but whose open is
 * 0, missing or outside [low, high], is kept with
 *     open := the previous bar's close clamped into [low, high]
 *             (the close itself when there is no previous bar, or the
 *             previous source bar was dropped)
 * and marked QUANT_Q_OPEN_FIXED.  A high or low that is 0 or missing (with a
 * real close) is rebuilt as max/min(open, close) and marked
 * QUANT_Q_HIGH_FIXED / QUANT_Q_LOW_FIXED (an empty open is then the previous
 * close within whichever bound is known).  Why: old Yahoo histories publish
 * tens of thousands of bars with Open = 0 and a real close (7% of a real
 * universe); dropping them punches holes that every return and window would
 * silently span, while the open is the one field no close-based feature
 * needs.  Everything else that breaks a rule is dropped, and the next kept
 * bar is marked QUANT_Q_GAP_BEFORE so that nothing derived spans the hole.
 *
 * Bad bars are removed from the series in place (the good ones keep their
 * order) and described in a report, so an ingest stores what is sound and
 * tells the user exactly what it skipped and what it repaired.
 */
#ifndef QUANT_VALIDATE_H
#define QUANT_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/bars.h"

struct quant_bad_bar {
    int32_t date;
    char reason[96];   /* "high 10.5 < close 11" */
};

/* Collected problems.  Owns `items`; release with quant_validation_release. */
struct quant_validation {
    struct quant_bad_bar *items;  /* at most QUANT_VALIDATION_KEEP kept */
    size_t n_kept;
    size_t n_bad;                 /* all bad bars, kept or not */
    size_t n_repaired;            /* bars kept after a repair (QUANT_Q_REPAIRED) */
    size_t n_gaps;                /* kept bars marked QUANT_Q_GAP_BEFORE */
    int32_t first_repaired;       /* date of the first repaired bar (when n_repaired) */
};

#define QUANT_VALIDATION_KEEP 100  /* keep the first 100 reasons; count the rest */

void quant_validation_init(struct quant_validation *v);
void quant_validation_release(struct quant_validation *v);

/*
 * Check bars (sorted ascending by date, as providers return them), repair
 * what the policy above allows, drop the rest in place and record why.
 * Every kept bar's quality is set here (providers leave it unset).  Returns
 * the number dropped.
 */
size_t quant_validate_bars(struct quant_bars *bars, struct quant_validation *report);

#endif
