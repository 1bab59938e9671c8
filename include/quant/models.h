/*
 * models.h: the service behind `quant models`: the model registry as people
 * and scripts read it, each row with its test metrics already parsed and
 * judged (metrics.h), so no caller parses the stored JSON again.  Read-only:
 * it works in a QUANT_WS_READ workspace and never waits for an ingest.
 *
 * Ownership: entries own their record; release them with
 * quant_model_entry_release, or a list with quant_models_free.
 */
#ifndef QUANT_MODELS_H
#define QUANT_MODELS_H

#include <stddef.h>

#include "quant/error.h"
#include "quant/meta_store.h"
#include "quant/metrics.h"
#include "quant/workspace.h"

struct quant_model_entry {
    struct quant_model_record rec;  /* as stored */
    struct quant_metrics metrics;   /* test segment; NAN where unknown or unreadable */
    char warning[256];              /* quant_metrics_warning's text, "" when none */
    char symbols[512];              /* "AAPL, NVDA" ("..." when longer) */
};

/*
 * Newest first; with symbol (as typed: normalised here, QUANT_EINVAL when
 * not a symbol) only the models trained on it.  A workspace with no
 * metadata store yet has no models: an empty list.
 */
enum quant_code quant_models_list(struct quant_workspace *ws, const char *symbol,
                                  struct quant_model_entry **out, size_t *out_n,
                                  struct quant_err *err);

/*
 * One model by id, or with id "latest" the newest one (with symbol: the
 * newest trained on it), the words `quant score --model` takes.
 * QUANT_ENOTFOUND with what to run when there is none.
 */
enum quant_code quant_models_get(struct quant_workspace *ws, const char *id, const char *symbol,
                                 struct quant_model_entry *out, struct quant_err *err);

void quant_model_entry_release(struct quant_model_entry *e);
void quant_models_free(struct quant_model_entry *v, size_t n);

#endif
