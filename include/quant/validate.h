/*
 * validate.h: the rules a bar must pass before it is stored.
 *
 *   prices (open, high, low, close) finite and > 0; adj_close, when present,
 *   finite and > 0; volume finite and >= 0; high >= max(open, close);
 *   low <= min(open, close); no second bar for a date already seen.
 *
 * Bad bars are removed from the series in place (the good ones keep their
 * order) and described in a report, so an ingest stores what is sound and
 * tells the user exactly what it skipped.
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
};

#define QUANT_VALIDATION_KEEP 100  /* keep the first 100 reasons; count the rest */

void quant_validation_init(struct quant_validation *v);
void quant_validation_release(struct quant_validation *v);

/*
 * Check bars (sorted ascending by date, as providers return them), drop bad
 * ones in place and record why.  Returns the number dropped.
 */
size_t quant_validate_bars(struct quant_bars *bars, struct quant_validation *report);

#endif
