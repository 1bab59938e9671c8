/*
 * symbols.h: the service behind `quant symbols`: the registry of symbols
 * (add, list, remove), hybrid search and enrichment from OVERVIEW.  It uses
 * the metadata store only: `list` works in a QUANT_WS_READ workspace, the
 * others in QUANT_WS_META (workspace.h), so none waits for an ingest.
 *
 * Ownership: output arrays are malloc'd; the caller frees them with free().
 */
#ifndef QUANT_SYMBOLS_H
#define QUANT_SYMBOLS_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/ingest.h"
#include "quant/meta_store.h"
#include "quant/symbol_info.h"
#include "quant/workspace.h"

/*
 * The registry by symbol: the active symbols (active_only) or all of them;
 * *out_inactive (may be NULL) counts the inactive ones left out.  A
 * workspace with no metadata store yet answers with an empty list.
 */
enum quant_code quant_symbols_list(struct quant_workspace *ws, int active_only,
                                   struct quant_symbol_record **out, size_t *out_n,
                                   size_t *out_inactive, struct quant_err *err);

/* Normalise symbol into out_symbol and delete it from the registry (its
 * stored bars stay).  QUANT_ENOTFOUND when it is not registered. */
enum quant_code quant_symbols_remove(struct quant_workspace *ws, const char *symbol,
                                     char out_symbol[QUANT_SYMBOL_MAX + 1],
                                     struct quant_err *err);

/*
 * A symbol list file (`--symbols @FILE`): symbols separated by newlines,
 * commas or blanks, '#' starting a comment; each normalised, in file order
 * (1 MiB at most).  QUANT_EINVAL naming the file and line of a bad symbol, or
 * saying the file holds none; QUANT_EIO when it cannot be read.  *out is
 * malloc'd, as is each name: free with quant_strings_free.
 */
enum quant_code quant_symbols_read_file(const char *path, char ***out, size_t *out_n,
                                        struct quant_err *err);

/* Validate, normalise and register (or update) a symbol. */
enum quant_code quant_symbols_add(struct quant_workspace *ws, const struct quant_symbol_info *info,
                                    int *out_created, struct quant_err *err);

struct quant_search_hit {
    struct quant_symbol_info info;
    int local;        /* found in the local registry */
    int remote;       /* found by SYMBOL_SEARCH */
    double rank;      /* higher first */
};

/*
 * Hybrid search: the local registry (prefix and substring on symbol and name)
 * merged with Alpha Vantage SYMBOL_SEARCH, de-duplicated by symbol and ranked.
 * When the remote part cannot be reached (no key, offline, rate limited) the
 * local answer is still returned and *remote_note says why ("" when fine).
 * *out malloc'd; caller frees.
 */
enum quant_code quant_symbols_search(struct quant_workspace *ws, const char *query,
                                       struct quant_search_hit **out, size_t *out_n,
                                       char *remote_note, size_t note_len,
                                       struct quant_err *err);

/*
 * Fill name/type/exchange/currency/sector/industry of registered symbols from
 * OVERVIEW (one request each, counted in the ledger).  symbols NULL/0 = all
 * active.  The observer's on_result reports each (rows = 0).
 */
enum quant_code quant_symbols_enrich(struct quant_workspace *ws, const char *const *symbols,
                                        size_t n_symbols,
                                        const struct quant_ingest_observer *obs,
                                        struct quant_ingest_summary *summary,
                                        struct quant_err *err);

#endif
