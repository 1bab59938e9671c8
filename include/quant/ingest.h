/*
 * ingest.h: the service behind `quant ingest`, the flow between the CLI and
 * the stores and providers:
 *
 *     provider.fetch_daily -> validate -> series store upsert -> ingest_runs row
 *
 * It never prints: it reports through an observer the caller supplies.  It
 * works in a workspace opened with QUANT_WS_WRITE (workspace.h).
 */
#ifndef QUANT_INGEST_H
#define QUANT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/shard.h"
#include "quant/symbol_info.h"
#include "quant/workspace.h"

enum quant_ingest_provider {
    QUANT_INGEST_ALPHAVANTAGE,
    QUANT_INGEST_CSV,
    QUANT_INGEST_SYNTHETIC,
};

/* Parse "alphavantage" | "csv" | "synthetic"; -1 when unknown. */
int quant_ingest_provider_parse(const char *name);
const char *quant_ingest_provider_name(enum quant_ingest_provider p);

enum quant_ingest_mode {
    QUANT_INGEST_AUTO,     /* compact when the stored history is recent, else full */
    QUANT_INGEST_FULL,
    QUANT_INGEST_COMPACT,
};

struct quant_ingest_request {
    const char *const *symbols;   /* NULL/0: all active symbols (csv: all in the files) */
    size_t n_symbols;
    enum quant_ingest_provider provider;
    enum quant_ingest_mode mode;
    const char *csv_path;         /* provider csv: a file or a folder */
    int synthetic_days;           /* provider synthetic: trading days (0 = 6500) */
    uint64_t synthetic_seed;      /* provider synthetic: seed (0 = 42) */
    int replace;                  /* replace each symbol's stored history (lineage) */
    int adjusted;                 /* alphavantage: DAILY_ADJUSTED even if the config says not */
    struct quant_shard shard;     /* only this shard's symbols, of the asked or found ones */
};

/*
 * What happened to one symbol.  Every symbol of a run is registered before
 * the first fetch.  A symbol a vendor says does not exist (Alpha Vantage's
 * "Invalid API call", QUANT_ENOTFOUND) is marked inactive, which the error
 * text says; `quant symbols add` makes it active again.
 */
struct quant_ingest_result {
    char symbol[QUANT_SYMBOL_MAX + 1];
    enum quant_code code;         /* QUANT_OK or why it failed */
    char error[QUANT_ERR_MSG_MAX];
    int registered_now;           /* the symbol was added to the registry by this ingest */
    long rows;                    /* valid rows received (= stored: new+updated+unchanged) */
    long inserted, updated, unchanged;
    size_t bad_rows;              /* rows dropped by validation or by the parser */
    char bad_example[160];        /* the first dropped row and why ("" when none) */
    char warning[512];            /* provider warning ("" when none) */
    const char *mode;             /* "full", "compact" or "file" */
    double seconds;
    /* data quality (validate.h, adjust.h), for rows stored */
    size_t repaired;              /* bars kept after the open/high/low repair */
    int32_t first_repaired;       /* date of the first (when repaired) */
    size_t gaps;                  /* holes left by dropped bars (nothing spans them) */
    long adj_carried;             /* bars whose adjustment quant carried from the stored one */
    long jumps;                   /* unexplained split-like jumps (nothing spans them) */
    int32_t first_jump;
    double first_jump_ratio;      /* 2 = looks like a 2-for-1 split, 0.1 = 1-for-10 */
    int replaced;                 /* the stored history was replaced (--replace) */
    char replaced_sources[48];    /* what it came from ("" when nothing was stored) */
};

struct quant_ingest_observer {
    /* Before each symbol (done symbols so far, total).  May be NULL. */
    void (*on_start)(void *ctx, const char *symbol, size_t done, size_t total);
    /* After each symbol. May be NULL. */
    void (*on_result)(void *ctx, const struct quant_ingest_result *r);
    void *ctx;
    /* A warning about the run that belongs to no one symbol (a file in a CSV
     * folder that was skipped), before the first symbol.  May be NULL. */
    void (*on_note)(void *ctx, const char *text);
};

struct quant_ingest_summary {
    size_t n_symbols;    /* asked for */
    size_t n_ok;
    size_t n_failed;
    size_t n_left;       /* not attempted: the daily budget ran out (they are registered,
                            so they can be resumed) */
    char **left;         /* malloc'd names of those left (n_left), freed by _release */
    long rows;           /* rows received across symbols */
    long inserted, updated;
    long requests;       /* API requests made */
    double seconds;
};

void quant_ingest_summary_release(struct quant_ingest_summary *s);

/*
 * Ingest as asked.  Per-symbol failures are reported through the observer
 * and counted in the summary, and do not stop the others; the return value is
 * QUANT_OK when the run itself worked (check summary->n_failed / n_left), or
 * an error that stopped everything (no symbols, missing API key, bad CSV
 * path, a store that cannot be written).
 */
enum quant_code quant_ingest(struct quant_workspace *ws, const struct quant_ingest_request *req,
                                const struct quant_ingest_observer *obs,
                                struct quant_ingest_summary *summary, struct quant_err *err);

#endif
