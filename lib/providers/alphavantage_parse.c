/*
 * alphavantage_parse.c: the pure parsers of Alpha Vantage answers: body
 * classification, the daily series (JSON and CSV), symbol search (JSON and
 * CSV) and company overview.
 *
 * Alpha Vantage answers errors with HTTP 200 and a JSON body, so every body
 * is classified before it is parsed, and a body that is not what was asked
 * for (HTML from a proxy, an intraday or weekly series) is rejected with a
 * message naming what it was, never half-parsed.  CSV lines, fields and
 * numbers are read by csv_core.h, the reader the CSV provider uses; what is
 * here is what the columns mean and what to say when they are wrong.  No I/O:
 * alphavantage.c fetches the bodies.  Messages quote API sentences through
 * quote_api, which masks a key an API notice repeats.
 */
#include "providers/alphavantage_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "csv_core.h"

#include "core/banned.h"

#define AV_MAX_DEPTH 32        /* real payloads nest 3 deep */
#define AV_QUOTE_MAX 240       /* longest API sentence quoted in a message */

static const char DAILY_KEY[] = "Time Series (Daily)";

/* ---- small helpers ------------------------------------------------------ */

/* Copy src into dst; Alpha Vantage's "None" (and NULL) become "". */
static void copy_field(char *dst, size_t n, const char *src)
{
    if (!src || strcmp(src, "None") == 0)
        src = "";
    snprintf(dst, n, "%s", src);
}

/* Shell-safe excerpt of text for a message: printable, truncated with "...". */
static void excerpt(const char *s, size_t len, size_t max, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < max && o + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    if (len > max)
        for (int k = 0; k < 3 && o + 1 < n; k++)
            out[o++] = '.';
    out[o] = '\0';
}

/*
 * Quote an API sentence for a message.  Daily-limit notices have said "We have
 * detected your API key as XXXX", so the word after every "API key as " is
 * masked (not just the first: a notice may repeat itself).  A quote too long
 * for out ends before a marker it has no room left to mask.
 */
static void quote_api(const char *text, char *out, size_t n)
{
    static const char marker[] = "API key as ";
    char tmp[AV_QUOTE_MAX + 8];
    excerpt(text, strlen(text), AV_QUOTE_MAX, tmp, sizeof tmp);
    const char *p = tmp, *m;
    size_t o = 0;
    out[0] = '\0';
    while ((m = strstr(p, marker)) != NULL) {
        size_t keep = (size_t)(m - p) + strlen(marker);
        if (o + keep + 3 >= n) {
            snprintf(out + o, n - o, "%.*s", (int)(m - p), p);
            return;
        }
        memcpy(out + o, p, keep);
        memcpy(out + o + keep, "***", 4);
        o += keep + 3;
        for (p = m + strlen(marker); *p && *p != ' '; p++)
            ;
    }
    snprintf(out + o, n - o, "%s", p);
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, nl) == 0)
            return 1;
    return 0;
}

static const char *skip_space(const char *p, const char *end)
{
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)   /* UTF-8 BOM */
        p += 3;
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Nesting depth of JSON text (brackets outside strings); stops early past max. */
static int json_depth_ok(const char *s, size_t len, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

/* ---- classification ----------------------------------------------------- */

static enum quant_code classify_information(const char *text, struct quant_err *err)
{
    char q[AV_QUOTE_MAX + 16];
    quote_api(text, q, sizeof q);
    /* Order matters: the daily-limit and burst notices also advertise premium
     * plans ("unlock all premium endpoints"), and the burst notice also
     * mentions the daily limit, so premium first means "is a premium ...". */
    if (contains_ci(text, "is a premium") || contains_ci(text, "is premium"))
        goto premium;
    if (contains_ci(text, "spreading out") || contains_ci(text, "per second") ||
        contains_ci(text, "per minute") || contains_ci(text, "frequency") ||
        contains_ci(text, "burst"))
        return quant_err_set(err, QUANT_ERATELIMIT,
                             "Alpha Vantage rate limit (requests too close together): \"%s\"; "
                             "wait a minute and run again, or lower requests_per_minute", q);
    if (contains_ci(text, "per day") || contains_ci(text, "daily"))
        return quant_err_set(err, QUANT_EDAILYLIMIT,
                             "Alpha Vantage daily limit reached: \"%s\"; run again after "
                             "midnight UTC (a free key allows 25 requests per day); if your "
                             "plan allows more, set daily_budget (quant.conf or "
                             "QUANT_DAILY_BUDGET) to match it", q);
    if (contains_ci(text, "premium"))
        goto premium;
    return quant_err_set(err, QUANT_EAPI,
                         "Alpha Vantage answered with a notice instead of data: \"%s\"; "
                         "check the API key and the request", q);
premium:
    return quant_err_set(err, QUANT_EPREMIUM,
                         "Alpha Vantage says this needs a premium key: \"%s\"; use --compact "
                         "(the last 100 days are free) or backfill history from CSV with "
                         "`quant ingest --provider csv --csv FILE`", q);
}

/* Classify a parsed top-level object; QUANT_OK when it is not an error payload. */
static enum quant_code classify_obj(const cJSON *root, struct quant_err *err)
{
    char q[AV_QUOTE_MAX + 16];
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "Error Message");
    if (cJSON_IsString(e)) {
        quote_api(e->valuestring, q, sizeof q);
        /* What Alpha Vantage answers for a well-formed call naming a symbol it
         * does not list (a bad key has its own sentence). */
        if (contains_ci(e->valuestring, "Invalid API call"))
            return quant_err_set(err, QUANT_ENOTFOUND,
                                 "Alpha Vantage does not know this symbol: \"%s\"; check the "
                                 "spelling, or find the listed one with `quant symbols search`",
                                 q);
        return quant_err_set(err, QUANT_EAPI,
                             "Alpha Vantage rejected the call: \"%s\"; check the symbol "
                             "(Alpha Vantage may not list it; try `quant symbols search`) "
                             "and the API key", q);
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(root, "Note");
    if (cJSON_IsString(note)) {
        quote_api(note->valuestring, q, sizeof q);
        return quant_err_set(err, QUANT_ERATELIMIT,
                             "Alpha Vantage rate limit: \"%s\"; wait a minute and run again, "
                             "or lower requests_per_minute", q);
    }
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "Information");
    if (cJSON_IsString(info))
        return classify_information(info->valuestring, err);
    /* Premium endpoints called with a free key answer with sample data. */
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (cJSON_IsString(msg) && contains_ci(msg->valuestring, "premium endpoint")) {
        quote_api(msg->valuestring, q, sizeof q);
        return quant_err_set(err, QUANT_EPREMIUM,
                             "Alpha Vantage says this is a premium endpoint (its sample data "
                             "is artificial and was ignored): \"%s\"; use --compact or backfill "
                             "history from CSV with `quant ingest --provider csv --csv FILE`", q);
    }
    return QUANT_OK;
}

/* The body [p, end) is empty or starts like no `what` (JSON, CSV): HTML from
 * a proxy or an outage page, usually.  Says what it starts with. */
static enum quant_code wrong_body(const char *p, const char *end, const char *what,
                                  struct quant_err *err)
{
    if (p == end)
        return quant_err_set(err, QUANT_EPARSE,
                             "Alpha Vantage answered with an empty body; try again later");
    char ex[32];
    excerpt(p, (size_t)(end - p), 12, ex, sizeof ex);
    return quant_err_set(err, QUANT_EPARSE,
                         "Alpha Vantage answered with something that is not %s (starts "
                         "with '%s'); the service or a proxy in between may be failing: "
                         "try again later and check the alphavantage_url setting "
                         "(quant.conf, QUANT_ALPHAVANTAGE_URL or --alphavantage-url)", what, ex);
}

/*
 * Parse body as a JSON object (after size/depth checks) into *out, which the
 * caller frees with cJSON_Delete.  Non-JSON bodies get a message saying what
 * they start with.
 */
static enum quant_code parse_object(const char *body, size_t len, cJSON **out,
                                    struct quant_err *err)
{
    *out = NULL;
    const char *end = body + len;
    const char *p = skip_space(body, end);
    if (p == end || *p != '{')
        return wrong_body(p, end, "JSON", err);
    if (!json_depth_ok(p, (size_t)(end - p), AV_MAX_DEPTH))
        return quant_err_set(err, QUANT_EPARSE,
                             "Alpha Vantage answer nests deeper than %d levels; refusing to "
                             "parse it", AV_MAX_DEPTH);
    const char *err_at = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &err_at, 0);
    if (!root) {
        size_t off = err_at && err_at >= p && err_at <= end ? (size_t)(err_at - p) : 0;
        return quant_err_set(err, QUANT_EPARSE,
                             "Alpha Vantage answered with malformed JSON (error near byte "
                             "%zu of %zu); the body may be cut short, try again", off, len);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage answered with JSON that is "
                             "not an object");
    }
    *out = root;
    return QUANT_OK;
}

/* parse_object, then an error payload's code (classify_obj); *out only when
 * it is data (the caller frees it), else NULL. */
static enum quant_code payload_object(const char *body, size_t len, cJSON **out,
                                      struct quant_err *err)
{
    enum quant_code rc = parse_object(body, len, out, err);
    if (!rc && (rc = classify_obj(*out, err))) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

enum quant_code quant_av_classify(const char *body, size_t len, struct quant_err *err)
{
    const char *p = skip_space(body, body + len);
    if (p == body + len || *p != '{')
        return QUANT_OK;
    cJSON *root = NULL;
    struct quant_err scratch;
    if (parse_object(body, len, &root, &scratch))
        return QUANT_OK;   /* not a well-formed payload: the parser reports it */
    enum quant_code rc = classify_obj(root, err);
    cJSON_Delete(root);
    return rc;
}

/* ---- daily series: JSON ------------------------------------------------- */

/* Name a series key that is not the daily one, for the rejection message. */
static const char *other_series_key(const cJSON *root)
{
    for (const cJSON *it = root->child; it; it = it->next)
        if (it->string && (strstr(it->string, "Time Series") || strstr(it->string, "Time series")))
            return it->string;
    return NULL;
}

/* "\"a\", \"b\", ..." naming the first top-level keys, for messages. */
static const char *top_keys(const cJSON *root, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    int k = 0;
    for (const cJSON *it = root->child; it && o + 1 < n; it = it->next, k++) {
        char ex[48];
        excerpt(it->string ? it->string : "", it->string ? strlen(it->string) : 0, 32, ex,
                sizeof ex);
        int w = snprintf(out + o, n - o, "%s\"%s\"", k ? ", " : "", ex);
        if (w < 0 || (size_t)w >= n - o || k == 3) {
            snprintf(out + o, n - o, "%s...", k ? ", " : "");
            break;
        }
        o += (size_t)w;
    }
    return out[0] ? out : "none";
}

static enum quant_code row_field(const cJSON *row, const char *date, const char *field,
                                 double *out, struct quant_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
    if (!v)
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage daily series, %s: field \"%s\" "
                             "is missing", date, field);
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = v->valuedouble;
        return QUANT_OK;
    }
    if (cJSON_IsString(v) && csv_number(v->valuestring, strlen(v->valuestring), out) == 0)
        return QUANT_OK;
    char ex[48];
    const char *txt = cJSON_IsString(v) ? v->valuestring : "(not a string)";
    excerpt(txt, strlen(txt), 32, ex, sizeof ex);
    return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage daily series, %s: field \"%s\" "
                         "is not a number: '%s'", date, field, ex);
}

static enum quant_code parse_row(const cJSON *row, struct quant_bar *bar, struct quant_err *err)
{
    const char *date = row->string;
    if (!cJSON_IsObject(row))
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage daily series, %s: row is not "
                             "an object", date);
    if (strlen(date) != 10 || quant_date_parse(date, strlen(date), &bar->date) != 0) {
        char ex[48];
        excerpt(date, strlen(date), 32, ex, sizeof ex);
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage daily series: '%s' is not a "
                             "YYYY-MM-DD date", ex);
    }
    int adjusted = cJSON_GetObjectItemCaseSensitive(row, "5. adjusted close") != NULL;
    enum quant_code rc;
    if ((rc = row_field(row, date, "1. open", &bar->open, err)) ||
        (rc = row_field(row, date, "2. high", &bar->high, err)) ||
        (rc = row_field(row, date, "3. low", &bar->low, err)) ||
        (rc = row_field(row, date, "4. close", &bar->close, err)))
        return rc;
    if (!adjusted) {
        bar->adj_close = bar->dividend = bar->split = NAN;
        return row_field(row, date, "5. volume", &bar->volume, err);
    }
    if ((rc = row_field(row, date, "5. adjusted close", &bar->adj_close, err)) ||
        (rc = row_field(row, date, "6. volume", &bar->volume, err)) ||
        (rc = row_field(row, date, "7. dividend amount", &bar->dividend, err)) ||
        (rc = row_field(row, date, "8. split coefficient", &bar->split, err)))
        return rc;
    return QUANT_OK;
}

static void set_symbol_from_meta(const cJSON *root, struct quant_bars *out)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "Meta Data");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(meta, "2. Symbol");
    if (!cJSON_IsString(sym))
        return;
    char s[QUANT_SYMBOL_MAX + 1];
    if (strlen(sym->valuestring) > QUANT_SYMBOL_MAX)
        return;
    snprintf(s, sizeof s, "%s", sym->valuestring);
    struct quant_err ignored;
    if (quant_symbol_normalize(s, &ignored) == QUANT_OK)
        snprintf(out->symbol, sizeof out->symbol, "%s", s);
}

enum quant_code quant_av_parse_daily_json(const char *body, size_t len,
                                          struct quant_bars *out, struct quant_err *err)
{
    cJSON *root = NULL;
    enum quant_code rc = payload_object(body, len, &root, err);
    if (rc)
        return rc;
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(root, DAILY_KEY);
    if (!cJSON_IsObject(series)) {
        char keys[160];
        const char *other = other_series_key(root);
        if (other)
            rc = quant_err_set(err, QUANT_EPARSE, "Alpha Vantage answered with \"%s\", not a "
                               "daily series (\"%s\"); this body is not from "
                               "TIME_SERIES_DAILY", other, DAILY_KEY);
        else
            rc = quant_err_set(err, QUANT_EPARSE, "Alpha Vantage answer has no \"%s\" object "
                               "(its top-level keys: %s); the response format may have changed",
                               DAILY_KEY, top_keys(root, keys, sizeof keys));
        goto done;
    }
    size_t n0 = out->n;
    if ((rc = quant_bars_reserve(out, n0 + (size_t)cJSON_GetArraySize(series)))) {
        quant_err_set(err, rc, "out of memory parsing the Alpha Vantage daily series");
        goto done;
    }
    for (const cJSON *row = series->child; row; row = row->next) {
        struct quant_bar bar;
        if ((rc = parse_row(row, &bar, err)) || (rc = quant_bars_push(out, &bar))) {
            if (rc == QUANT_ENOMEM)
                quant_err_set(err, rc, "out of memory parsing the Alpha Vantage daily series");
            out->n = n0;   /* all or nothing */
            goto done;
        }
    }
    set_symbol_from_meta(root, out);
    quant_bars_sort(out);
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- CSV ------------------------------------------------------------------ */

/*
 * Before a CSV body is parsed: a JSON body is an error payload (or not CSV at
 * all), HTML is a proxy or outage page.  Returns QUANT_OK when it looks like
 * CSV, with its first line split into *hdr and *pos where the next begins.
 */
static enum quant_code csv_start(const char *body, size_t len, const char **pos,
                                 struct csv_record *hdr, struct quant_err *err)
{
    const char *end = body + len;
    const char *p = skip_space(body, end);
    const char *line = p;
    size_t ll = 0;
    *pos = p;
    if (p == end || *p == '<')
        return wrong_body(p, end, "CSV", err);
    if (*p == '{') {
        cJSON *root = NULL;
        enum quant_code rc = payload_object(body, len, &root, err);
        if (rc)
            return rc;
        cJSON_Delete(root);
        return quant_err_set(err, QUANT_EPARSE,
                             "Alpha Vantage answered with JSON where CSV was asked for "
                             "(datatype=csv); the response format may have changed");
    }
    csv_next_line(pos, end, &line, &ll);
    csv_record_split(line, ll, hdr);
    return QUANT_OK;
}

enum daily_col { C_TS, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOL, C_ADJ, C_DIV, C_SPLIT, C_N };

static const char *const daily_cols[C_N] = {
    "timestamp", "open", "high", "low", "close", "volume",
    "adjusted_close", "dividend_amount", "split_coefficient",
};

static enum quant_code csv_daily_header(const struct csv_record *hdr, int col[C_N],
                                        struct quant_err *err)
{
    char ex[128];
    if (hdr->n > 0 && csv_record_field_is(hdr, 0, "time"))
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV has a 'time' column: this "
                             "is an intraday series, not a daily one");
    for (int c = 0; c < C_N; c++)
        col[c] = hdr->n > 0 ? csv_record_column(hdr, daily_cols[c]) : -1;
    for (int c = C_TS; c <= C_VOL; c++) {
        if (col[c] < 0) {
            size_t hl = hdr->n > 0 ? (size_t)(hdr->f[hdr->n - 1] + hdr->len[hdr->n - 1] -
                                              hdr->f[0]) : 0;
            excerpt(hdr->n > 0 ? hdr->f[0] : "", hl, 100, ex, sizeof ex);
            return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV header '%s' has no "
                                 "'%s' column; expected timestamp,open,high,low,close,volume "
                                 "(or the adjusted header)", ex, daily_cols[c]);
        }
    }
    /* The adjusted layout is all three extra columns or none. */
    int extras = (col[C_ADJ] >= 0) + (col[C_DIV] >= 0) + (col[C_SPLIT] >= 0);
    if (extras != 0 && extras != 3)
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV header has only some of "
                             "adjusted_close,dividend_amount,split_coefficient");
    return QUANT_OK;
}

static enum quant_code csv_daily_row(const struct csv_record *l, const int col[C_N],
                                     long lineno, struct quant_bar *bar, struct quant_err *err)
{
    char ex[48];
    const char *ts = l->f[col[C_TS]];
    size_t tl = l->len[col[C_TS]];
    if (quant_date_parse(ts, tl, &bar->date) != 0) {
        excerpt(ts, tl, 32, ex, sizeof ex);
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV line %ld: '%s' is not a "
                             "YYYY-MM-DD date", lineno, ex);
    }
    if (tl != 10) {
        excerpt(ts, tl, 32, ex, sizeof ex);
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV line %ld: timestamp '%s' "
                             "has a time of day: this is an intraday series, not a daily one",
                             lineno, ex);
    }
    double *dst[C_N] = {NULL, &bar->open, &bar->high, &bar->low, &bar->close, &bar->volume,
                        &bar->adj_close, &bar->dividend, &bar->split};
    bar->adj_close = bar->dividend = bar->split = NAN;
    for (int c = C_OPEN; c < C_N; c++) {
        if (col[c] < 0)
            continue;
        if (csv_number(l->f[col[c]], l->len[col[c]], dst[c]) != 0) {
            char date[11];
            quant_date_format(bar->date, date);
            excerpt(l->f[col[c]], l->len[col[c]], 32, ex, sizeof ex);
            return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV line %ld (%s): column "
                                 "'%s' is not a number: '%s'", lineno, date, daily_cols[c], ex);
        }
    }
    return QUANT_OK;
}

enum quant_code quant_av_parse_daily_csv(const char *body, size_t len,
                                         struct quant_bars *out, struct quant_err *err)
{
    const char *pos, *end = body + len, *line;
    size_t ll = 0;
    struct csv_record l;
    int col[C_N];
    enum quant_code rc = csv_start(body, len, &pos, &l, err);
    if (rc || (rc = csv_daily_header(&l, col, err)))
        return rc;
    int nfields = l.n;
    size_t n0 = out->n;
    long lineno = 1;
    while (csv_next_line(&pos, end, &line, &ll)) {
        lineno++;
        if (ll == 0 || (ll == 1 && line[0] == '\r'))
            continue;
        csv_record_split(line, ll, &l);
        if (l.n != nfields) {
            rc = quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV line %ld: %d fields, the "
                               "header has %d", lineno, l.n, nfields);
            break;
        }
        struct quant_bar bar;
        if ((rc = csv_daily_row(&l, col, lineno, &bar, err)))
            break;
        if ((rc = quant_bars_push(out, &bar))) {
            quant_err_set(err, rc, "out of memory parsing the Alpha Vantage CSV");
            break;
        }
    }
    if (rc) {
        out->n = n0;
        return rc;
    }
    if (out->n == n0)
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage CSV has a header but no rows");
    quant_bars_sort(out);
    return QUANT_OK;
}

/* ---- symbol search ------------------------------------------------------- */

/* Normalise a symbol into dst; -1 when it is not a symbol quant accepts. */
static int take_symbol(char dst[QUANT_SYMBOL_MAX + 1], const char *s, size_t len)
{
    if (len == 0 || len > QUANT_SYMBOL_MAX)
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    struct quant_err ignored;
    return quant_symbol_normalize(dst, &ignored) == QUANT_OK ? 0 : -1;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum quant_code quant_av_parse_search_json(const char *body, size_t len,
                                           struct quant_symbol_info **out, size_t *out_n,
                                           struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    cJSON *root = NULL;
    enum quant_code rc = payload_object(body, len, &root, err);
    if (rc)
        return rc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "bestMatches");
    if (!cJSON_IsArray(arr)) {
        rc = quant_err_set(err, QUANT_EPARSE, "Alpha Vantage search answer has no "
                           "\"bestMatches\" array; the response format may have changed");
        goto done;
    }
    int n = cJSON_GetArraySize(arr);
    struct quant_symbol_info *v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;
    if (n > 0 && !v) {
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory parsing search results");
        goto done;
    }
    size_t k = 0;
    for (const cJSON *m = arr->child; m; m = m->next) {
        const char *sym = json_str(m, "1. symbol");
        /* Matches quant cannot store as a symbol are left out, not fatal. */
        if (!sym || take_symbol(v[k].symbol, sym, strlen(sym)) != 0)
            continue;
        copy_field(v[k].name, sizeof v[k].name, json_str(m, "2. name"));
        copy_field(v[k].type, sizeof v[k].type, json_str(m, "3. type"));
        copy_field(v[k].region, sizeof v[k].region, json_str(m, "4. region"));
        copy_field(v[k].currency, sizeof v[k].currency, json_str(m, "8. currency"));
        const char *score = json_str(m, "9. matchScore");
        if (!score || csv_number(score, strlen(score), &v[k].match_score) != 0)
            v[k].match_score = 0;
        k++;
    }
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *out_n = k;
done:
    cJSON_Delete(root);
    return rc;
}

static void copy_csv_field(char *dst, size_t n, const struct csv_record *l, int i)
{
    if (i < 0 || i >= l->n) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, n, "%.*s", (int)l->len[i], l->f[i]);
    if (strcmp(dst, "None") == 0)
        dst[0] = '\0';
}

enum quant_code quant_av_parse_search_csv(const char *body, size_t len,
                                          struct quant_symbol_info **out, size_t *out_n,
                                          struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    const char *pos, *end = body + len, *line;
    size_t ll = 0;
    struct csv_record hdr, l;
    enum quant_code rc = csv_start(body, len, &pos, &hdr, err);
    if (rc)
        return rc;
    int c_sym = csv_record_column(&hdr, "symbol");
    int c_name = csv_record_column(&hdr, "name");
    int c_type = csv_record_column(&hdr, "type");
    int c_region = csv_record_column(&hdr, "region");
    int c_cur = csv_record_column(&hdr, "currency");
    int c_score = csv_record_column(&hdr, "matchScore");
    if (c_sym < 0 || c_name < 0)
        return quant_err_set(err, QUANT_EPARSE, "Alpha Vantage search CSV header lacks "
                             "'symbol' or 'name'; expected symbol,name,type,region,"
                             "marketOpen,marketClose,timezone,currency,matchScore");
    size_t cap = 0, k = 0;
    struct quant_symbol_info *v = NULL;
    while (csv_next_line(&pos, end, &line, &ll)) {
        csv_record_split(line, ll, &l);
        if (l.n <= 0 || (l.n == 1 && l.len[0] == 0))
            continue;
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct quant_symbol_info *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return quant_err_set(err, QUANT_ENOMEM, "out of memory parsing search results");
            }
            v = nv;
            cap = nc;
        }
        memset(&v[k], 0, sizeof v[k]);
        if (c_sym >= l.n || take_symbol(v[k].symbol, l.f[c_sym], l.len[c_sym]) != 0)
            continue;
        copy_csv_field(v[k].name, sizeof v[k].name, &l, c_name);
        copy_csv_field(v[k].type, sizeof v[k].type, &l, c_type);
        copy_csv_field(v[k].region, sizeof v[k].region, &l, c_region);
        copy_csv_field(v[k].currency, sizeof v[k].currency, &l, c_cur);
        if (c_score < 0 || c_score >= l.n ||
            csv_number(l.f[c_score], l.len[c_score], &v[k].match_score) != 0)
            v[k].match_score = 0;
        k++;
    }
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *out_n = k;
    return QUANT_OK;
}

/* ---- overview ------------------------------------------------------------ */

enum quant_code quant_av_parse_overview_json(const char *body, size_t len,
                                             struct quant_symbol_info *out,
                                             struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = NULL;
    enum quant_code rc = payload_object(body, len, &root, err);
    if (rc)
        return rc;
    if (!root->child) {   /* Alpha Vantage answers {} for a symbol it has no overview of */
        rc = quant_err_set(err, QUANT_ENOTFOUND, "Alpha Vantage has no company overview for "
                           "this symbol (empty answer); ETFs and some listings have none");
        goto done;
    }
    const char *sym = json_str(root, "Symbol");
    if (!sym || take_symbol(out->symbol, sym, strlen(sym)) != 0) {
        rc = quant_err_set(err, QUANT_EPARSE, "Alpha Vantage overview has no valid \"Symbol\"");
        goto done;
    }
    copy_field(out->name, sizeof out->name, json_str(root, "Name"));
    copy_field(out->type, sizeof out->type, json_str(root, "AssetType"));
    copy_field(out->region, sizeof out->region, json_str(root, "Country"));
    copy_field(out->exchange, sizeof out->exchange, json_str(root, "Exchange"));
    copy_field(out->currency, sizeof out->currency, json_str(root, "Currency"));
    copy_field(out->sector, sizeof out->sector, json_str(root, "Sector"));
    copy_field(out->industry, sizeof out->industry, json_str(root, "Industry"));
done:
    cJSON_Delete(root);
    return rc;
}

