/*
 * synthetic_internal.h: a seeded, deterministic synthetic market for demos, tests and
 * benchmarks (no network, no files).
 *
 * Each symbol's walk depends only on (seed, symbol) and starts on a fixed epoch
 * (1980-01-07, or earlier for a window reaching further back); n_days and
 * end_date only choose the window.  So a symbol's history is the same
 * whichever other symbols are generated, and a date's raw bar is the same
 * whatever the end date (adj_close alone changes when a later split enters
 * the window, as with any vendor's back-adjusted series).  The
 * process: log-price random walk with drift, GARCH(1,1)-style volatility
 * clustering, volume log-normal around a per-symbol level and correlated with
 * |return|, occasional overnight gaps, and rare splits (recorded in `split`,
 * with adj_close carrying the split-adjusted price so the adjusted series is
 * continuous).  Trading days are weekdays; bars always satisfy
 * low <= min(open, close) <= max(open, close) <= high, prices > 0.
 */
#ifndef QUANT_SYNTHETIC_INTERNAL_H
#define QUANT_SYNTHETIC_INTERNAL_H

#include <stdint.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "providers/provider_internal.h"

struct quant_synth_options {
    uint64_t seed;       /* default 42 */
    int n_days;          /* trading days per symbol, default 6500 */
    int32_t end_date;    /* last trading day (days since epoch); 0 = today UTC */
};

void quant_synth_options_default(struct quant_synth_options *opts);

/* Generate one symbol's series into out (appended; ascending dates). */
enum quant_code quant_synth_generate(const struct quant_synth_options *opts,
                                     const char *symbol, struct quant_bars *out,
                                     struct quant_err *err);

/* The i-th symbol name of a synthetic universe: "SYN0000", "SYN0001", ... */
void quant_synth_symbol_name(int i, char out[QUANT_SYMBOL_MAX + 1]);

/* A provider that answers any symbol; COMPACT returns the last 100 days. */
enum quant_code quant_synth_open(const struct quant_synth_options *opts,
                                 struct quant_provider *out, struct quant_err *err);

#endif
