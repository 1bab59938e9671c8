/*
 * test_server.c: the real dashboard server over loopback with libcurl:
 * pages and API answered with the security headers, HEAD without a body,
 * POST refused with 405, traversal refused even when sent verbatim, and a
 * second server on a taken port failing with a clear error.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "quant/config.h"
#include "web/web_internal.h"

static char home[PATH_MAX];
static struct quant_config cfg;
static struct quant_web_server *srv;

struct reply {
    long status;
    char body[1 << 16];
    size_t len;
    char headers[8192];
    size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n;
    size_t room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t k = sz * n;
    size_t room = sizeof r->headers - 1 - r->hlen;
    memcpy(r->headers + r->hlen, p, k < room ? k : room);
    r->hlen += k < room ? k : room;
    r->headers[r->hlen] = '\0';
    return k;
}

/* method NULL = GET; "HEAD" uses NOBODY; path sent verbatim. */
static void request(const char *method, const char *path, struct reply *r)
{
    memset(r, 0, sizeof *r);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", quant_web_server_port(srv), path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (method && strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    else if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method ? method : "GET", path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
}

static int has_header(const struct reply *r, const char *line)
{
    return strcasestr(r->headers, line) != NULL;
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    char env_home[PATH_MAX + 16];
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    struct tu_result res;
    tu_run_quant((const char *const[]){"init-db", NULL}, (const char *const[]){env_home, NULL},
                 &res);
    assert_int_equal(res.status, 0);
    tu_result_release(&res);
    setenv("QUANT_HOME", home, 1);
    struct quant_err err;
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (quant_web_server_start(&cfg, "127.0.0.1", 0, &srv, &err) != QUANT_OK)
        fail_msg("start: %s", err.msg);
    assert_true(quant_web_server_port(srv) > 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    quant_web_server_stop(srv);
    curl_global_cleanup();
    quant_config_release(&cfg);
    tu_rmrf(home);
    return 0;
}

static void test_index_and_headers(void **state)
{
    (void)state;
    struct reply r;
    request(NULL, "/", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: text/html; charset=utf-8"));
    assert_true(has_header(&r, "Cache-Control: no-store"));
    assert_true(has_header(&r, "X-Content-Type-Options: nosniff"));
    assert_true(has_header(&r, "Content-Security-Policy: default-src 'self'"));
    assert_non_null(strcasestr(r.body, "<html") ? r.body : strcasestr(r.body, "<!doctype"));
    size_t got = r.len;
    request("HEAD", "/", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu", got);
    assert_true(has_header(&r, cl));
    request(NULL, "/app.js", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: text/javascript"));
    assert_false(has_header(&r, "Content-Security-Policy"));
    /* what a browser asks for on its own: no 404 logged on every page */
    request(NULL, "/favicon.ico", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: image/svg+xml"));
    assert_non_null(strstr(r.body, "<svg"));
}

static void test_api_over_http(void **state)
{
    (void)state;
    struct reply r;
    request(NULL, "/api/status", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: application/json"));
    assert_true(has_header(&r, "Cache-Control: no-store"));
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "symbols")), 0);
    cJSON_Delete(j);
    request("HEAD", "/api/status", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    request(NULL, "/api/nope", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"error\""));
}

/* Sorting queries (bars, predictions) need deep stacks inside DuckDB; the
 * server once crashed on them from civetweb's small worker stacks. */
static void test_sorting_queries_over_http(void **state)
{
    (void)state;
    char env_home[PATH_MAX + 16];
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    struct tu_result res;
    tu_run_quant((const char *const[]){"ingest", "--provider", "synthetic", "--days", "300",
                                       "--symbols", "AAA", NULL},
                 (const char *const[]){env_home, NULL}, &res);
    assert_int_equal(res.status, 0);
    tu_result_release(&res);
    for (int i = 0; i < 5; i++) {
        struct reply r;
        request(NULL, "/api/symbols/AAA/bars", &r);
        assert_int_equal(r.status, 200);
        cJSON *j = cJSON_Parse(r.body);
        assert_non_null(j);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "bars")), 300);
        cJSON_Delete(j);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    struct reply r;
    request("POST", "/api/status", &r);
    assert_int_equal(r.status, 405);
    assert_true(has_header(&r, "Allow: GET, HEAD"));
    assert_non_null(strstr(r.body, "\"error\""));
    request("DELETE", "/", &r);
    assert_int_equal(r.status, 405);
    const char *bad[] = {"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                         "/..%2f..%2fetc/passwd", "/static/../../x", "/nope"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        request(NULL, bad[i], &r);
        if (r.status != 400 && r.status != 404)
            fail_msg("%s: status %ld", bad[i], r.status);
        assert_null(strstr(r.body, "root:"));
        assert_non_null(strstr(r.body, "\"error\""));
    }
}

static void test_port_in_use(void **state)
{
    (void)state;
    struct quant_web_server *other = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_web_server_start(&cfg, "127.0.0.1", quant_web_server_port(srv),
                                                &other, &err);
    assert_int_equal(rc, QUANT_EIO);
    assert_null(other);
    assert_non_null(strstr(err.msg, "cannot listen"));
    assert_int_equal(quant_web_server_start(&cfg, "127.0.0.1", 70000, &other, &err),
                     QUANT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_and_headers),
        cmocka_unit_test(test_api_over_http),
        cmocka_unit_test(test_sorting_queries_over_http),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_port_in_use),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
