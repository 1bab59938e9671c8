/*
 * sources.h: the data vendors as the configuration sets them up, and the
 * daily request budget a metered vendor spends; shared by the ingest and
 * symbols services (ingest.c, symbols.c).  Internal to the library.
 */
#ifndef QUANT_SOURCES_H
#define QUANT_SOURCES_H

#include "quant/config.h"
#include "quant/error.h"
#include "providers/provider_internal.h"
#include "quant/workspace.h"

/* Alpha Vantage with the key, URL and HTTP settings of cfg; adjusted forces
 * DAILY_ADJUSTED whatever the config says.  Close with quant_provider_close. */
enum quant_code quant_av_from_config_(const struct quant_config *cfg, int adjusted,
                                      struct quant_provider *p, struct quant_err *err);

/* Requests left today under the configured daily budget for the key in use
 * (the ledger in the metadata store counts them per key fingerprint). */
enum quant_code quant_budget_left_(struct quant_workspace *ws, long *out_left,
                                   struct quant_err *err);

/* Count n more requests made today against the key in use. */
enum quant_code quant_budget_record_(struct quant_workspace *ws, long n, struct quant_err *err);

#endif
