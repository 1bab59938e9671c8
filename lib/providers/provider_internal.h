/*
 * provider_internal.h: the interface every market-data source implements.
 *
 * A provider only fetches and parses: it turns a symbol into a quant_bars
 * series and knows nothing of storage.  Each source is one file with one
 * constructor returning a struct quant_provider (an ops table plus state), so
 * adding a vendor is one new file.
 *
 * Ownership: the constructor allocates the state; quant_provider_close() frees
 * it.  fetch_daily() fills a caller-initialised quant_bars (the caller releases
 * it) sorted ascending by date.
 */
#ifndef QUANT_PROVIDER_INTERNAL_H
#define QUANT_PROVIDER_INTERNAL_H

#include <stddef.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "quant/symbol_info.h"

enum quant_fetch_mode {
    QUANT_FETCH_COMPACT,   /* recent history only (Alpha Vantage: last 100 days) */
    QUANT_FETCH_FULL,      /* all history the source has */
};

/* What a fetch did besides returning bars, for the service to record and report. */
struct quant_fetch_info {
    long requests;            /* API requests this fetch sent to the server (retries
                                 included; a connection that failed sent none) */
    int fell_back_to_compact; /* full was asked, the source only allowed compact */
    char warning[512];        /* a warning for the user ("" = none) */
};

/*
 * What a source is, for the services that drive it (bits of
 * quant_provider_ops.caps), so they test the ops and never which vendor it is.
 */
enum quant_provider_cap {
    /* Every request spends a daily request budget and one request fetches one
     * symbol: ingest keeps the budget ledger, fetches the stalest symbols
     * first and stores each symbol as soon as it arrives. */
    QUANT_PROVIDER_METERED = 1u << 0,
};

struct quant_provider_ops {
    const char *name;   /* stored in ohlcv.source: "alphavantage", "csv", "synthetic" */
    unsigned caps;      /* enum quant_provider_cap bits; 0: a local, unmetered source */

    /* Fetch one symbol's daily bars into out (ascending by date). */
    enum quant_code (*fetch_daily)(void *state, const char *symbol,
                                   enum quant_fetch_mode mode, struct quant_bars *out,
                                   struct quant_fetch_info *info, struct quant_err *err);

    /*
     * Optional (NULL when the source has no fixed universe): the symbols this
     * provider can answer for, as a malloc'd array of malloc'd strings that
     * the caller frees with quant_strings_free() (bars.h).
     */
    enum quant_code (*list_symbols)(void *state, char ***out, size_t *out_n,
                                    struct quant_err *err);

    /* Optional: search the source's symbol directory.  *out is malloc'd. */
    enum quant_code (*search)(void *state, const char *query,
                              struct quant_symbol_info **out, size_t *out_n,
                              struct quant_err *err);

    /* Optional: company details for one symbol. */
    enum quant_code (*overview)(void *state, const char *symbol,
                                struct quant_symbol_info *out, struct quant_err *err);

    /* Optional: requests sent to the server so far (for the daily ledger:
     * search and overview have no fetch info to say it). */
    long (*requests_sent)(void *state);

    /*
     * Optional: what opening the source skipped that belongs to no one symbol
     * (a FIFO in a CSV folder), as one line for the user; "" or NULL when
     * nothing.  The text is owned by the provider.
     */
    const char *(*warnings)(void *state);

    void (*close)(void *state);
};

struct quant_provider {
    const struct quant_provider_ops *ops;
    void *state;
};

/* Free the provider's state (safe on a zeroed struct). */
void quant_provider_close(struct quant_provider *p);

/* quant_strings_free (bars.h) frees the arrays list_symbols hands out. */

#endif
