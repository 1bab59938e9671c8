/*
 * symbol_info.h: what quant knows about a symbol besides its prices.
 *
 * Filled by `quant symbols add`, by SYMBOL_SEARCH matches and by OVERVIEW
 * (enrichment); stored in the SQLite `symbols` table.  Fields are plain
 * fixed-size strings ("" = unknown) so the struct can be copied freely.
 */
#ifndef QUANT_SYMBOL_H
#define QUANT_SYMBOL_H

#include "quant/bars.h"

struct quant_symbol_info {
    char symbol[QUANT_SYMBOL_MAX + 1]; /* normalised (upper-case) */
    char name[256];                    /* company or fund name */
    char type[64];                     /* "Equity", "ETF", "Common Stock", ... */
    char region[64];                   /* "United States" */
    char exchange[64];                 /* "NYSE" */
    char currency[16];                 /* "USD" */
    char sector[128];
    char industry[128];
    double match_score;                /* SYMBOL_SEARCH relevance 0..1; 0 otherwise */
};

#endif
