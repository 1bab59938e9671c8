/*
 * market_fixture.h: a scratch QUANT_HOME holding a small synthetic market,
 * opened as a WRITE workspace, for tests that call the services directly
 * (walk-forward, evaluate) rather than through the binary.
 *
 * The bars come from the synthetic provider's generator with a pinned end
 * date, so nothing depends on today's date, and go straight into the series
 * store (no ingest run, no registry rows).  Symbols are SYN0000, SYN0001, ...
 * sharing one weekday calendar, so "the store's distinct dates" is the
 * calendar every symbol has.
 *
 * Ownership: the fixture owns its config and workspace; tu_market_close()
 * closes both (the scratch folder is tu_scratch_teardown's).
 */
#ifndef QUANT_TEST_MARKET_FIXTURE_H
#define QUANT_TEST_MARKET_FIXTURE_H

#include "test_util.h"

#include "quant/config.h"
#include "quant/workspace.h"

struct tu_market {
    struct quant_config cfg;
    struct quant_workspace *ws;     /* QUANT_WS_WRITE on tu_scratch_dir/home */
};

/* Call after tu_scratch_setup: n_symbols symbols of n_days bars each, the
 * last on end_date ("YYYY-MM-DD"), from the generator's seed. */
void tu_market_open(struct tu_market *m, int n_symbols, int n_days, const char *end_date,
                    uint64_t seed);
/* Add one more synthetic symbol (any name) with n_days bars ending end_date. */
void tu_market_add(struct tu_market *m, const char *symbol, int n_days, const char *end_date,
                   uint64_t seed);
void tu_market_close(struct tu_market *m);

/* A date as days since the epoch (fails the test on a bad literal). */
int32_t tu_day(const char *yyyy_mm_dd);

/* The one number a query on the workspace's DuckDB returns (fails the test
 * when the query fails or returns anything else). */
long tu_ws_long(struct quant_workspace *ws, const char *sql);

#endif
