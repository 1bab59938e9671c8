/*
 * fuzz_alphavantage.c: libFuzzer harness for the Alpha Vantage body parsers
 * (lib/providers/alphavantage_internal.h).  A body from the network can be anything,
 * and Alpha Vantage answers errors as JSON even when CSV was asked for, so
 * every input goes through the classifier and all five parsers.  The CSV
 * lines, fields and numbers under the CSV parsers are the providers' shared
 * reader (csv_core.h), which fuzz_csv.c checks on its own; here it is what
 * Alpha Vantage's columns and payloads make of it.
 *
 * Checked beyond "no crash":
 *  - an error payload (classify != OK) gives that same code from every parser;
 *  - a quoted API sentence never shows the word after "API key as ";
 *  - a failed daily parse leaves no bars behind (all or nothing);
 *  - parsed bars have real dates in ascending order and finite values, and
 *    validation leaves only storable bars;
 *  - search/overview results carry normalised symbols and no "None" text.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/alphavantage_internal.h"

#include "fuzz_bars.h"
#include "fuzz_check.h"

/* Every "API key as " in a message must be followed by the mask. */
static void check_key_masked(const char *msg)
{
    static const char marker[] = "API key as ";
    for (const char *p = strstr(msg, marker); p; p = strstr(p + 1, marker))
        FUZZ_CHECK(strncmp(p + strlen(marker), "***", 3) == 0);
}

static void check_failure(enum quant_code rc, const struct quant_err *err,
                          enum quant_code classified)
{
    FUZZ_CHECK(err->code == rc && err->msg[0] != '\0');
    if (classified != QUANT_OK)
        FUZZ_CHECK(rc == classified);
}

static void fuzz_daily(const char *body, size_t len, enum quant_code classified,
                       enum quant_code (*parse)(const char *, size_t, struct quant_bars *,
                                                struct quant_err *))
{
    struct quant_bars bars;
    struct quant_err err;
    quant_bars_init(&bars);
    quant_err_clear(&err);
    enum quant_code rc = parse(body, len, &bars, &err);
    if (rc != QUANT_OK) {
        check_failure(rc, &err, classified);
        FUZZ_CHECK(bars.n == 0);
    } else {
        FUZZ_CHECK(classified == QUANT_OK);
        fuzz_check_series(&bars, 0); /* duplicate dates are validation's to drop */
        fuzz_validate_series(&bars);
    }
    quant_bars_release(&bars);
}

static void check_info_text(const struct quant_symbol_info *s)
{
    fuzz_check_symbol(s->symbol, sizeof s->symbol);
    const char *fields[] = {s->name, s->type, s->region, s->exchange, s->currency, s->sector,
                            s->industry};
    const size_t caps[] = {sizeof s->name, sizeof s->type, sizeof s->region,
                           sizeof s->exchange, sizeof s->currency, sizeof s->sector,
                           sizeof s->industry};
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        FUZZ_CHECK(strnlen(fields[i], caps[i]) < caps[i]);
        FUZZ_CHECK(strcmp(fields[i], "None") != 0);
    }
}

static void fuzz_search(const char *body, size_t len, enum quant_code classified,
                        enum quant_code (*parse)(const char *, size_t,
                                                 struct quant_symbol_info **, size_t *,
                                                 struct quant_err *))
{
    static struct quant_symbol_info stale; /* the parser must overwrite *out on every path */
    struct quant_symbol_info *v = &stale;
    size_t n = 99;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = parse(body, len, &v, &n, &err);
    FUZZ_CHECK(v != &stale && (v == NULL) == (n == 0));
    if (rc != QUANT_OK) {
        check_failure(rc, &err, classified);
        FUZZ_CHECK(n == 0);
    } else {
        FUZZ_CHECK(classified == QUANT_OK);
    }
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i].symbol[0] != '\0');
        check_info_text(&v[i]);
        FUZZ_CHECK(isfinite(v[i].match_score));
    }
    free(v);
}

static void fuzz_overview(const char *body, size_t len, enum quant_code classified)
{
    struct quant_symbol_info info;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_av_parse_overview_json(body, len, &info, &err);
    if (rc != QUANT_OK) {
        check_failure(rc, &err, classified);
        return;
    }
    FUZZ_CHECK(classified == QUANT_OK);
    FUZZ_CHECK(info.symbol[0] != '\0');
    check_info_text(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data; /* not NUL-terminated, as from the network */
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code classified = quant_av_classify(body, size, &err);
    if (classified != QUANT_OK) {
        FUZZ_CHECK(err.code == classified && err.msg[0] != '\0');
        check_key_masked(err.msg);
    }
    fuzz_daily(body, size, classified, quant_av_parse_daily_json);
    fuzz_daily(body, size, classified, quant_av_parse_daily_csv);
    fuzz_search(body, size, classified, quant_av_parse_search_json);
    fuzz_search(body, size, classified, quant_av_parse_search_csv);
    fuzz_overview(body, size, classified);
    return 0;
}
