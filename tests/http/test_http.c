/*
 * test_http.c: quant_http against the loopback server: success, retries on
 * 5xx/429 (with Retry-After), giving up, timeouts, cut-short bodies, refused
 * connections, the body cap, the rate limiter, and URL redaction.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback_server.h"
#include "http/http_internal.h"

#define KEY "SECRETKEY123"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Fast options: tiny backoff so retry tests take milliseconds. */
static void fast_opts(struct quant_http_options *o)
{
    quant_http_options_default(o);
    o->connect_timeout_ms = 2000;
    o->timeout_ms = 3000;
    o->max_retries = 3;
    o->backoff_initial_ms = 5;
    o->backoff_max_ms = 40;
}

struct fixture {
    struct lb_server *lb;
    struct quant_http *http;
    struct quant_buf body;
    struct quant_err err;
    char url[256];      /* base URL + "?function=T&apikey=KEY" */
};

static void fx_open(struct fixture *fx, const struct quant_http_options *o, const char *fn)
{
    memset(fx, 0, sizeof *fx);
    fx->lb = lb_start();
    assert_non_null(fx->lb);
    quant_err_clear(&fx->err);
    fx->http = quant_http_new(o, &fx->err);
    assert_non_null(fx->http);
    quant_buf_init(&fx->body, 0);
    char base[128];
    lb_url(fx->lb, base, sizeof base);
    snprintf(fx->url, sizeof fx->url, "%s?function=%s&apikey=" KEY, base, fn);
}

static void fx_close(struct fixture *fx)
{
    quant_buf_release(&fx->body);
    quant_http_free(fx->http);
    lb_stop(fx->lb);
}

static long requests_made(struct fixture *fx)
{
    struct quant_http_stats st;
    quant_http_get_stats(fx->http, &st);
    return st.requests;
}

static void assert_no_key(const struct quant_err *err)
{
    assert_null(strstr(err->msg, KEY));
    assert_true(strlen(err->msg) > 0);
}

static void test_success(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "PING");
    lb_add(fx.lb, "function=PING", 200, "{\"ok\": 1}", LB_NORMAL, 0);
    long status = 0;
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, &status, &fx.err), QUANT_OK);
    assert_int_equal(status, 200);
    assert_string_equal(fx.body.data, "{\"ok\": 1}");
    assert_int_equal(fx.body.len, 9);
    assert_int_equal(lb_request_count(fx.lb, "function=PING"), 1);
    /* The key went out on the wire. */
    assert_int_equal(lb_request_count(fx.lb, "apikey=" KEY), 1);
    char target[256];
    assert_int_equal(lb_request_target(fx.lb, 0, target, sizeof target), 0);
    assert_string_equal(target, "/query?function=PING&apikey=" KEY);
    assert_int_equal(requests_made(&fx), 1);
    fx_close(&fx);
}

static void test_500_then_success(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "R");
    lb_add(fx.lb, "function=R", 500, "oops", LB_NORMAL, 0);
    lb_add(fx.lb, "function=R", 200, "fine", LB_NORMAL, 0);
    long status = 0;
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, &status, &fx.err), QUANT_OK);
    assert_int_equal(status, 200);
    assert_string_equal(fx.body.data, "fine");
    assert_int_equal(lb_request_count(fx.lb, "function=R"), 2);
    struct quant_http_stats st;
    quant_http_get_stats(fx.http, &st);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.sent, 2);       /* both reached the server */
    fx_close(&fx);
}

static void test_429_then_success(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "T");
    lb_add(fx.lb, "function=T", 429, "{\"slow\": \"down\"}", LB_NORMAL, 0);
    lb_add(fx.lb, "function=T", 200, "ok", LB_NORMAL, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    assert_string_equal(fx.body.data, "ok");
    assert_int_equal(lb_request_count(fx.lb, "function=T"), 2);
    fx_close(&fx);
}

static void test_429_retry_after(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.backoff_max_ms = 600;   /* Retry-After: 1 is capped to 0.6 s */
    struct fixture fx;
    fx_open(&fx, &o, "RA");
    struct lb_response r = {.status = 429, .body = "{}", .extra_headers = "Retry-After: 1\r\n"};
    assert_int_equal(lb_add_response(fx.lb, "function=RA", &r), 0);
    lb_add(fx.lb, "function=RA", 200, "ok", LB_NORMAL, 0);
    double t0 = now_ms();
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    double dt = now_ms() - t0;
    /* Slept the Retry-After (capped), not the 5 ms backoff. */
    assert_true(dt >= 550);
    assert_true(dt < 2500);
    assert_int_equal(lb_request_count(fx.lb, "function=RA"), 2);
    fx_close(&fx);
}

static void test_500_forever(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.max_retries = 2;
    struct fixture fx;
    fx_open(&fx, &o, "F");
    lb_add(fx.lb, "function=F", 503, "down", LB_NORMAL, 0);
    long status = 0;
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, &status, &fx.err), QUANT_EHTTP);
    assert_int_equal(fx.err.code, QUANT_EHTTP);
    assert_int_equal(status, 503);
    assert_int_equal(lb_request_count(fx.lb, "function=F"), 3);
    assert_int_equal(requests_made(&fx), 3);
    assert_non_null(strstr(fx.err.msg, "HTTP 503"));
    assert_non_null(strstr(fx.err.msg, "3 attempts"));
    assert_non_null(strstr(fx.err.msg, "apikey=***"));
    assert_no_key(&fx.err);
    fx_close(&fx);
}

static void test_404_not_retried(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "NOROUTE");
    long status = 0;
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, &status, &fx.err), QUANT_EHTTP);
    assert_int_equal(status, 404);
    assert_int_equal(lb_request_count(fx.lb, NULL), 1);
    assert_no_key(&fx.err);
    fx_close(&fx);
}

static void test_timeout(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.timeout_ms = 300;
    o.max_retries = 1;
    struct fixture fx;
    fx_open(&fx, &o, "S");
    lb_add(fx.lb, "function=S", 200, "late", LB_STALL, -1);
    double t0 = now_ms();
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_ETIMEOUT);
    double dt = now_ms() - t0;
    assert_true(dt >= 550);    /* two attempts of 300 ms */
    assert_true(dt < 3000);
    assert_int_equal(lb_request_count(fx.lb, "function=S"), 2);
    assert_non_null(strstr(fx.err.msg, "timed out"));
    assert_no_key(&fx.err);
    fx_close(&fx);
}

static void test_stall_then_answer(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "SL");
    lb_add(fx.lb, "function=SL", 200, "slow but fine", LB_STALL, 200);
    double t0 = now_ms();
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    assert_true(now_ms() - t0 >= 190);
    assert_string_equal(fx.body.data, "slow but fine");
    fx_close(&fx);
}

static void test_truncated(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.max_retries = 1;
    struct fixture fx;
    fx_open(&fx, &o, "CUT");
    lb_add(fx.lb, "function=CUT", 200, "{\"half\": ", LB_TRUNCATE, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_ENET);
    assert_non_null(strstr(fx.err.msg, "cut short"));
    assert_int_equal(lb_request_count(fx.lb, "function=CUT"), 2);   /* retried once */
    assert_int_equal(fx.body.len, 0);   /* no partial body handed back */
    assert_no_key(&fx.err);
    fx_close(&fx);
}

static void test_truncated_then_ok(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "CUT2");
    lb_add(fx.lb, "function=CUT2", 200, "partial", LB_TRUNCATE, 0);
    lb_add(fx.lb, "function=CUT2", 200, "whole", LB_NORMAL, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    assert_string_equal(fx.body.data, "whole");
    fx_close(&fx);
}

static void test_drop(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.max_retries = 2;
    struct fixture fx;
    fx_open(&fx, &o, "DROP");
    lb_add(fx.lb, "function=DROP", 200, "", LB_DROP, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_ENET);
    assert_int_equal(lb_request_count(fx.lb, "function=DROP"), 3);
    assert_no_key(&fx.err);
    fx_close(&fx);
}

static void test_connection_refused(void **state)
{
    (void)state;
    /* A bound but not listening socket: connecting to it is refused, and
     * holding it keeps anyone else from taking the port meanwhile. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);

    struct quant_http_options o;
    fast_opts(&o);
    o.max_retries = 2;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_http *h = quant_http_new(&o, &err);
    assert_non_null(h);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/query?function=X&apikey=" KEY,
             ntohs(a.sin_port));
    struct quant_buf body;
    quant_buf_init(&body, 0);
    assert_int_equal(quant_http_get(h, url, &body, NULL, &err), QUANT_ENET);
    struct quant_http_stats st;
    quant_http_get_stats(h, &st);
    assert_int_equal(st.requests, 3);   /* refused is transient: retried */
    assert_int_equal(st.sent, 0);       /* ...but nothing reached a server to count */
    assert_no_key(&err);
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    quant_buf_release(&body);
    quant_http_free(h);
    close(s);
}

static void test_too_big(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.max_body = 1000;
    struct fixture fx;
    fx_open(&fx, &o, "BIG");
    char big[4001];
    memset(big, 'x', 4000);
    big[4000] = '\0';
    lb_add(fx.lb, "function=BIG", 200, big, LB_NORMAL, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_ETOOBIG);
    assert_int_equal(lb_request_count(fx.lb, "function=BIG"), 1);   /* not retried */
    assert_non_null(strstr(fx.err.msg, "1000"));
    assert_no_key(&fx.err);
    /* Exactly at the cap is fine. */
    lb_reset(fx.lb);
    big[1000] = '\0';
    lb_add(fx.lb, "function=BIG", 200, big, LB_NORMAL, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    assert_int_equal(fx.body.len, 1000);
    fx_close(&fx);
}

static void test_buf_cap(void **state)
{
    (void)state;
    /* The caller's quant_buf cap also holds, even when max_body is larger. */
    struct quant_http_options o;
    fast_opts(&o);
    struct fixture fx;
    fx_open(&fx, &o, "BUFCAP");
    fx.body.max = 10;
    lb_add(fx.lb, "function=BUFCAP", 200, "0123456789abcdef", LB_NORMAL, 0);
    assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_ETOOBIG);
    fx_close(&fx);
}

static void test_rate_limiter(void **state)
{
    (void)state;
    struct quant_http_options o;
    fast_opts(&o);
    o.requests_per_minute = 120;   /* one start every 500 ms */
    struct fixture fx;
    fx_open(&fx, &o, "RL");
    lb_add(fx.lb, "function=RL", 200, "ok", LB_NORMAL, 0);
    double t0 = now_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(quant_http_get(fx.http, fx.url, &fx.body, NULL, &fx.err), QUANT_OK);
    double dt = now_ms() - t0;
    assert_true(dt >= 990);
    assert_true(dt < 3000);
    assert_int_equal(lb_request_count(fx.lb, "function=RL"), 3);
    fx_close(&fx);
}

static void test_redact(void **state)
{
    (void)state;
    char out[256];
    quant_http_redact_url("https://x/query?function=A&apikey=ABC123&symbol=IBM", out,
                          sizeof out);
    assert_string_equal(out, "https://x/query?function=A&apikey=***&symbol=IBM");
    quant_http_redact_url("https://x/query?APIKEY=ABC123", out, sizeof out);
    assert_string_equal(out, "https://x/query?APIKEY=***");
    quant_http_redact_url("a?apikey=K1&b=2&apikey=K2#frag", out, sizeof out);
    assert_string_equal(out, "a?apikey=***&b=2&apikey=***#frag");
    quant_http_redact_url("no key here", out, sizeof out);
    assert_string_equal(out, "no key here");
    /* Truncation still NUL-terminates and never shows the key. */
    quant_http_redact_url("q?apikey=ABCDEFGHIJ", out, 12);
    assert_int_equal(strlen(out), 11);
    assert_null(strstr(out, "ABC"));
}

static void test_escape(void **state)
{
    (void)state;
    struct quant_buf b;
    quant_buf_init(&b, 0);
    assert_int_equal(quant_http_append_escaped(&b, "Tesco plc & co/^GSPC~a.b-c_d"), QUANT_OK);
    assert_string_equal(b.data, "Tesco%20plc%20%26%20co%2F%5EGSPC~a.b-c_d");
    quant_buf_release(&b);
}

static void test_bad_url(void **state)
{
    (void)state;
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_http *h = quant_http_new(NULL, &err);
    assert_non_null(h);
    struct quant_buf body;
    quant_buf_init(&body, 0);
    /* ftp is not an allowed protocol: refused locally, no network. */
    enum quant_code rc = quant_http_get(h, "ftp://127.0.0.1:1/x?apikey=" KEY, &body, NULL, &err);
    assert_int_equal(rc, QUANT_EINVAL);
    assert_no_key(&err);
    quant_buf_release(&body);
    quant_http_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_500_then_success),
        cmocka_unit_test(test_429_then_success),
        cmocka_unit_test(test_429_retry_after),
        cmocka_unit_test(test_500_forever),
        cmocka_unit_test(test_404_not_retried),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_stall_then_answer),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_truncated_then_ok),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_rate_limiter),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_bad_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
