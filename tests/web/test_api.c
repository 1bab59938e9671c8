/*
 * test_api.c: the dashboard's request handler without a socket.  A store is
 * built with the real CLI (`quant demo --offline` plus a symbol with a hostile
 * name), then quant_api_handle is called directly: /api/status totals match
 * `quant sql` counts, bars / predictions / models bodies, 400/404/405 answers,
 * path traversal refused, stored HTML escaped as JSON, the API key never in a
 * body, every file a page loads served, the favicon, the evaluation list (an
 * empty list without a registry, over homes of their own), and 503 "store
 * busy" while another process holds DuckDB's write lock (this binary
 * re-executed with --hold-lock).
 */
#define _GNU_SOURCE
#include "test_util.h"
#include "lock_holder.h"

#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "quant/config.h"
#include "quant/series_store.h"
#include "web/web_internal.h"

#define KEY "SECRET123456789"
#define XSS_NAME "<img src=x onerror=alert(1)>\"'&"

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];
static struct quant_config cfg;

static int group_setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    const char *const env[] = {env_home, NULL};
    struct tu_result r;
    tu_run_quant((const char *const[]){"demo", "--offline", NULL}, env, &r);
    if (r.status != 0)
        fprintf(stderr, "demo failed: %s\n", r.err);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"symbols", "add", "XSS", "--name", XSS_NAME, NULL}, env,
                 &r);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    /* The handler's process has a key in its environment: it must never leak. */
    setenv("ALPHAVANTAGE_API_KEY", KEY, 1);
    setenv("QUANT_HOME", home, 1);
    struct quant_err err;
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_API_KEY), KEY);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    quant_config_release(&cfg);
    tu_rmrf(home);
    return 0;
}

/* Call the handler over home c; check the status and that no body ever holds
 * the key. */
static cJSON *call_in(const struct quant_config *c, const char *method, const char *path,
                      int want_status, struct quant_api_response *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_api_handle(c, method, path, r, &err), QUANT_OK);
    if (r->status != want_status)
        fail_msg("%s %s: status %d, want %d: %.*s", method, path, r->status, want_status,
                 (int)(r->body_len > 300 ? 300 : r->body_len), r->body);
    assert_non_null(r->body);
    assert_non_null(r->content_type);
    assert_null(memmem(r->body, r->body_len, KEY, strlen(KEY)));
    assert_null(memmem(r->body, r->body_len, "SECRET", 6));
    if (strncmp(r->content_type, "application/json", 16) != 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    if (!j)
        fail_msg("%s %s: body is not JSON: %.200s", method, path, r->body);
    return j;
}

/* ... over the demo's home. */
static cJSON *call(const char *method, const char *path, int want_status,
                   struct quant_api_response *r)
{
    return call_in(&cfg, method, path, want_status, r);
}

static cJSON *get_json(const char *path, int want_status)
{
    struct quant_api_response r;
    cJSON *j = call("GET", path, want_status, &r);
    quant_api_response_release(&r);
    assert_non_null(j);
    return j;
}

/* The single value of `quant sql SQL --csv` as text (first line of data). */
static void sql_text(const char *sql, char *out, size_t cap)
{
    struct tu_result r;
    tu_run_quant((const char *const[]){"sql", sql, "--csv", NULL},
                 (const char *const[]){env_home, NULL}, &r);
    assert_int_equal(r.status, 0);
    const char *nl = strchr(r.out, '\n');
    assert_non_null(nl);
    size_t len = strcspn(nl + 1, "\r\n");
    assert_true(len > 0 && len < cap);
    memcpy(out, nl + 1, len);
    out[len] = '\0';
    tu_result_release(&r);
}

/* ... as a number. */
static double sql_value(const char *sql)
{
    char text[64];
    sql_text(sql, text, sizeof text);
    return strtod(text, NULL);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x))
        fail_msg("%s is not a number", key);
    return x->valuedouble;
}

static const cJSON *find_symbol(const cJSON *status, const char *sym)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(status, "symbols")) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "symbol");
        if (cJSON_IsString(v) && strcmp(v->valuestring, sym) == 0)
            return s;
    }
    fail_msg("symbol %s missing from /api/status", sym);
    return NULL;
}

static void test_status_matches_sql(void **state)
{
    (void)state;
    cJSON *j = get_json("/api/status", 200);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "totals");
    assert_non_null(t);
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "generated_at")));
    /* SYN-A SYN-B SYN-C, the 60 SYN-U of the demo's walk-forward, and XSS */
    assert_int_equal((long)num(t, "symbols"), 64);
    assert_int_equal((long)num(t, "bars"), (long)sql_value("SELECT count(*) FROM ohlcv"));
    assert_int_equal((long)num(t, "predictions"),
                     (long)sql_value("SELECT count(*) FROM predictions"));
    /* labels counted by `quant labels` (the walk-forward's symbols never were;
     * the labels view computes them for every symbol) */
    assert_int_equal((long)num(t, "label_rows"),
                     (long)sql_value("SELECT count(*) FROM labels WHERE symbol IN"
                                     " (SELECT symbol FROM derived_state"
                                     " WHERE kind LIKE 'labels:%')"));
    assert_int_equal((long)num(t, "feature_values"),
                     (long)sql_value("SELECT sum(n_values) FROM derived_state"
                                     " WHERE kind NOT LIKE 'labels:%'"));
    /* three per-symbol models and one per walk-forward block (their number
     * follows the calendar: the synthetic market ends today) */
    long blocks = (long)sql_value("SELECT count(*) FROM walkforward_blocks");
    assert_true(blocks >= 3);
    assert_int_equal((long)num(t, "models"), 3 + blocks);
    assert_true(num(t, "bars") > 0);

    const cJSON *a = find_symbol(j, "SYN-A");
    /* The synthetic market ends on today's date, so its first date moves with
     * the calendar: the expectation comes from the store, never a constant. */
    char first[16];
    sql_text("SELECT min(date) FROM ohlcv WHERE symbol = 'SYN-A'", first, sizeof first);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(a, "first")->valuestring, first);
    const cJSON *ing = cJSON_GetObjectItemCaseSensitive(a, "last_ingest");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ing, "status")->valuestring, "ok");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "features");
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f, "tech-v1")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f, "alpha158")));
    assert_int_equal((long)num(cJSON_GetObjectItemCaseSensitive(a, "labels"), "horizon"), 5);
    assert_true(num(cJSON_GetObjectItemCaseSensitive(a, "predictions"), "rows") > 0);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "model");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(m, "id")->valuestring, "SYN-A"));
    assert_true(num(m, "auc") > 0 && num(m, "auc") < 1);
    /* accuracy comes with its own baseline, AUC stands against 0.5 */
    assert_true(num(m, "accuracy") > 0 && num(m, "baseline_accuracy") > 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(m, "warning"));
    /* the demo's synthetic symbols never pass for real companies */
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, "Synthetic"));

    /* The hostile name round-trips exactly as a JSON string. */
    const cJSON *x = find_symbol(j, "XSS");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(x, "name")->valuestring, XSS_NAME);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x, "last_ingest")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x, "model")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x, "first")));
    cJSON_Delete(j);
}

static void test_bars(void **state)
{
    (void)state;
    cJSON *j = get_json("/api/symbols/syn-a/bars", 200);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "symbol")->valuestring, "SYN-A");
    const cJSON *bars = cJSON_GetObjectItemCaseSensitive(j, "bars");
    assert_int_equal(cJSON_GetArraySize(bars),
                     (long)sql_value("SELECT count(*) FROM ohlcv WHERE symbol = 'SYN-A'"));
    const cJSON *b0 = cJSON_GetArrayItem(bars, 0), *b1 = cJSON_GetArrayItem(bars, 1);
    char first[16];
    sql_text("SELECT min(date) FROM ohlcv WHERE symbol = 'SYN-A'", first, sizeof first);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b0, "date")->valuestring, first);
    assert_true(strcmp(cJSON_GetObjectItemCaseSensitive(b0, "date")->valuestring,
                       cJSON_GetObjectItemCaseSensitive(b1, "date")->valuestring) < 0);
    const char *keys[] = {"open", "high", "low", "close", "volume"};
    for (size_t i = 0; i < 5; i++)
        assert_true(num(b0, keys[i]) > 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(b0, "adj_close"));
    cJSON_Delete(j);
}

static void test_predictions(void **state)
{
    (void)state;
    cJSON *j = get_json("/api/symbols/SYN-B/predictions", 200);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    assert_true(cJSON_IsObject(m));
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(m, "id")->valuestring, "SYN-B"));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "algorithm")));
    assert_true(num(m, "horizon") >= 1);
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(m, "segments");
    const cJSON *train = cJSON_GetObjectItemCaseSensitive(seg, "train");
    assert_int_equal(cJSON_GetArraySize(train), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(seg, "test")), 2);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "predictions");
    assert_true(cJSON_GetArraySize(p) > 100);
    double s = num(cJSON_GetArrayItem(p, 0), "score");
    assert_true(s >= 0 && s <= 1);
    cJSON_Delete(j);

    /* Registered, no bars, no model: 404. */
    cJSON_Delete(get_json("/api/symbols/XSS/predictions", 404));
}

static void test_models(void **state)
{
    (void)state;
    cJSON *j = get_json("/api/models", 200);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "models");
    assert_int_equal(cJSON_GetArraySize(ms),
                     3 + (long)sql_value("SELECT count(*) FROM walkforward_blocks"));
    const cJSON *m;
    cJSON_ArrayForEach(m, ms) {
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "id")));
        assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "symbols")));
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "metrics")));
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "params")));
        const char *at = cJSON_GetObjectItemCaseSensitive(m, "created_at")->valuestring;
        assert_int_equal(strlen(at), 20);
        assert_int_equal(at[19], 'Z');
    }
    cJSON_Delete(j);
}

static void test_errors(void **state)
{
    (void)state;
    cJSON_Delete(get_json("/api/symbols/A;B/bars", 400));
    cJSON_Delete(get_json("/api/symbols/A%3BB/bars", 400));
    cJSON_Delete(get_json("/api/symbols/ZZZZ/bars", 404));
    cJSON_Delete(get_json("/api/symbols/XSS/bars", 404));
    cJSON_Delete(get_json("/api/symbols/SYN-A/nope", 404));
    cJSON_Delete(get_json("/api/nope", 404));
    cJSON_Delete(get_json("/api", 404));
    cJSON_Delete(get_json("/nope.html", 404));
    struct quant_api_response r;
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "get"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        cJSON_Delete(call(methods[i], "/api/status", 405, &r));
        quant_api_response_release(&r);
    }
    cJSON_Delete(call("HEAD", "/api/status", 200, &r));
    quant_api_response_release(&r);
}

static void test_traversal_refused(void **state)
{
    (void)state;
    const char *bad[] = {"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
                         "/static/../../x", "/%2E%2E/x", "/.%2e/x", "/./index.html",
                         "/..", "/app.js/..", "/%00", "/a%zz", "/a%2", "/..\\..\\x",
                         "/%5c..%5cx", "etc/passwd", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct quant_api_response r;
        struct quant_err err;
        quant_api_handle(&cfg, "GET", bad[i], &r, &err);
        if (r.status != 400 && r.status != 404)
            fail_msg("%s: status %d", bad[i], r.status);
        assert_string_equal(r.content_type, "application/json; charset=utf-8");
        assert_null(memmem(r.body, r.body_len, "root:", 5));
        cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "error"));
        cJSON_Delete(j);
        quant_api_response_release(&r);
    }
    char out[64];
    assert_int_equal(quant_web_path_decode("/a%20b?x=../..", out, sizeof out), QUANT_OK);
    assert_string_equal(out, "/a b");
    assert_int_equal(quant_web_path_decode("/..%2fx", out, sizeof out), QUANT_EINVAL);
    assert_int_equal(quant_web_path_decode("/abc", out, 3), QUANT_ETOOBIG);
}

static void test_assets(void **state)
{
    (void)state;
    struct quant_api_response r;
    cJSON_Delete(call("GET", "/", 200, &r));
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_true(r.is_html);
    assert_true(r.body_len > 0);
    quant_api_response_release(&r);
    cJSON_Delete(call("GET", "/app.js?v=1", 200, &r));
    assert_string_equal(r.content_type, "text/javascript; charset=utf-8");
    assert_false(r.is_html);
    quant_api_response_release(&r);
    const char *paths[] = {"/symbol.html", "/models.html", "/evaluation.html", "/evaluation.js",
                           "/evaluation-kit.js", "/evaluation-detail.js",
                           "/style.css", "/vendor/lightweight-charts.standalone.production.js"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        cJSON_Delete(call("GET", paths[i], 200, &r));
        assert_true(r.body_len > 0);
        quant_api_response_release(&r);
    }
}

/* What a page asks for when it loads, so a file added to web/ but not to
 * the asset table (CMakeLists.txt) shows here, not as a blank page. */
static void test_pages_load_only_served_files(void **state)
{
    (void)state;
    const char *pages[] = {"/", "/symbol.html", "/models.html", "/evaluation.html"};
    int evaluation_scripts = 0;
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        struct quant_api_response page;
        cJSON_Delete(call("GET", pages[i], 200, &page));
        char *html = strndup(page.body, page.body_len);
        assert_non_null(html);
        quant_api_response_release(&page);
        int links = 0;
        /* every src="..." and href="..." naming a local file (no scheme) */
        const char *attrs[] = {" src=\"", " href=\""};
        for (size_t a = 0; a < 2; a++) {
            for (const char *p = strstr(html, attrs[a]); p; p = strstr(p, attrs[a])) {
                p += strlen(attrs[a]);
                size_t n = strcspn(p, "\"");
                char target[256];
                assert_true(n > 0 && n < sizeof target);
                snprintf(target, sizeof target, "%s%.*s", p[0] == '/' ? "" : "/", (int)n, p);
                if (strstr(target, "://") || strchr(target, '?'))
                    continue;   /* an outside link or a page with a query */
                struct quant_api_response r;
                cJSON_Delete(call("GET", target, 200, &r));
                assert_true(r.body_len > 0);
                quant_api_response_release(&r);
                if (strncmp(target, "/evaluation", 11) == 0 && strstr(target, ".js"))
                    evaluation_scripts++;
                links++;
            }
        }
        assert_true(links >= 3);   /* style.css, the icon, app.js at least */
        assert_non_null(strstr(html, "rel=\"icon\""));
        free(html);
    }
    assert_int_equal(evaluation_scripts, 3);   /* evaluation-kit, -detail and evaluation.js */
}

/* Browsers ask for /favicon.ico on their own; the pages link favicon.svg.
 * Both are the embedded SVG, so no page load logs a 404. */
static void test_favicon(void **state)
{
    (void)state;
    const char *paths[] = {"/favicon.ico", "/favicon.svg"};
    for (size_t i = 0; i < 2; i++) {
        struct quant_api_response r;
        cJSON_Delete(call("GET", paths[i], 200, &r));
        assert_string_equal(r.content_type, "image/svg+xml; charset=utf-8");
        assert_false(r.is_html);
        assert_true(r.body_len > 20 && r.body_len < 2048);
        assert_int_equal(memcmp(r.body, "<svg", 4), 0);
        assert_non_null(memmem(r.body, r.body_len, "</svg>", 6));
        quant_api_response_release(&r);
    }
}

/* ---- /api/evaluations without a registry --------------------------------- */

static void test_evaluations_listed(void **state)
{
    (void)state;
    /* the demo judges its walk-forward once */
    cJSON *j = get_json("/api/evaluations", 200);
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(j, "evaluations");
    assert_true(cJSON_GetArraySize(evs) >= 1);
    const cJSON *first = cJSON_GetArrayItem(evs, 0);
    const char *id = cJSON_GetObjectItemCaseSensitive(first, "id")->valuestring;
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(first, "metrics")));
    char path[128];
    snprintf(path, sizeof path, "/api/evaluations/%s", id);
    cJSON *d = get_json(path, 200);
    const cJSON *daily = cJSON_GetObjectItemCaseSensitive(d, "daily");
    int days = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(daily, "date"));
    assert_true(days > 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(daily, "equity")), days);
    cJSON_Delete(d);
    cJSON_Delete(j);
}

/* GET /api/evaluations over c: its status, and for 200 the list's length. */
static int evaluations_in(const struct quant_config *c, int want_status)
{
    struct quant_api_response r;
    cJSON *j = call_in(c, "GET", "/api/evaluations", want_status, &r);
    quant_api_response_release(&r);
    assert_non_null(j);
    int n = -1;
    if (want_status == 200) {
        const cJSON *evs = cJSON_GetObjectItemCaseSensitive(j, "evaluations");
        assert_true(cJSON_IsArray(evs));
        n = cJSON_GetArraySize(evs);
    } else {
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")));
    }
    cJSON_Delete(j);
    return n;
}

static void set_meta_schema(const char *sqlite_path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(sqlite_path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* No store yet, an empty one, and one made before the registry (meta schema
 * v4) that the read-only dashboard may not migrate: an empty list each time,
 * which the page turns into "how to make one".  (It was a 404 without a
 * store and a 500 on the older schema.)  A store newer than this quant may
 * hold evaluations it cannot read: that stays an error. */
static void test_evaluations_without_registry(void **state)
{
    (void)state;
    char fresh[PATH_MAX];
    tu_mkdtemp(fresh);
    struct quant_config c;
    struct quant_err err;
    quant_config_init(&c);
    assert_int_equal(quant_config_set_flag(&c, QUANT_SET_HOME, fresh), QUANT_OK);
    assert_int_equal(quant_config_resolve(&c, &err), QUANT_OK);
    const char *sqlite_path = quant_config_get(&c, QUANT_SET_SQLITE_PATH);

    assert_int_equal(evaluations_in(&c, 200), 0);
    assert_int_equal(access(sqlite_path, F_OK), -1);   /* and nothing was created */
    /* the other registries keep their 404 "no store yet" */
    struct quant_api_response r;
    cJSON_Delete(call_in(&c, "GET", "/api/models", 404, &r));
    quant_api_response_release(&r);
    cJSON_Delete(call_in(&c, "GET", "/api/evaluations/ev_x", 404, &r));
    quant_api_response_release(&r);

    char env[PATH_MAX + 16];
    snprintf(env, sizeof env, "QUANT_HOME=%s", fresh);
    struct tu_result res;
    tu_run_quant((const char *const[]){"init-db", NULL}, (const char *const[]){env, NULL}, &res);
    assert_int_equal(res.status, 0);
    tu_result_release(&res);
    assert_int_equal(evaluations_in(&c, 200), 0);

    set_meta_schema(sqlite_path, "DROP TABLE evaluations; UPDATE schema_version SET version = 3");
    assert_int_equal(evaluations_in(&c, 200), 0);
    assert_int_equal(access(sqlite_path, F_OK), 0);
    set_meta_schema(sqlite_path, "UPDATE schema_version SET version = 99");
    evaluations_in(&c, 500);

    quant_config_release(&c);
    tu_rmrf(fresh);
}

/* ---- store busy -------------------------------------------------------- */

static void test_store_busy(void **state)
{
    (void)state;
    pid_t pid = tu_spawn_lock_holder(quant_config_get(&cfg, QUANT_SET_DUCKDB_PATH), 3000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *paths[] = {"/api/status", "/api/symbols/SYN-A/bars",
                           "/api/symbols/SYN-A/predictions"};
    for (size_t i = 0; i < 3; i++) {
        struct quant_api_response r;
        cJSON *j = call("GET", paths[i], 503, &r);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring,
                            "store busy");
        assert_int_equal((long)num(j, "retry_after_ms"), 1000);
        assert_int_equal(r.retry_after_s, 1);
        cJSON_Delete(j);
        quant_api_response_release(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Lock timeout 0: no waiting on the writer (the config says 10 s). */
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2500);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cJSON_Delete(get_json("/api/status", 200));   /* and back once it is gone */
}

int main(int argc, char **argv)
{
    int holder = tu_lock_holder_main(argc, argv);
    if (holder >= 0)
        return holder;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_matches_sql),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_predictions),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_traversal_refused),
        cmocka_unit_test(test_assets),
        cmocka_unit_test(test_pages_load_only_served_files),
        cmocka_unit_test(test_favicon),
        cmocka_unit_test(test_evaluations_listed),
        cmocka_unit_test(test_evaluations_without_registry),
        cmocka_unit_test(test_store_busy),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
