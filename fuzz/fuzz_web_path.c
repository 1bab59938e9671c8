/*
 * fuzz_web_path.c: libFuzzer harness for the dashboard's request path
 * handling: quant_web_path_decode (percent-decoding and the traversal guard)
 * and quant_api_handle (routing, symbol-from-path, query strings, assets).
 * The input is the request target as sent (NUL ends it, as in civetweb).
 * quant_api_handle runs against a configuration whose stores do not exist, so
 * it never opens DuckDB or SQLite: every API route but the evaluation list ends
 * in a 4xx JSON answer.
 *
 * Checked beyond "no crash":
 *  - a decoded path starts with '/', is no longer than the raw path before
 *    '?'/'#', holds no control byte, backslash, "." or ".." segment; decoding
 *    it again (when it has no '%', '?', '#') changes nothing;
 *  - the capacity contract: exactly strlen+1 bytes suffice, one fewer is
 *    QUANT_ETOOBIG;
 *  - quant_api_handle always answers, with 200 only for an embedded asset at
 *    the decoded path or an empty list at /api/evaluations (no store: no
 *    evaluation), 400/414 for a path decode refuses, and otherwise a JSON
 *    object body with an "error" string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "quant/config.h"
#include "web/web_internal.h"

#include "fuzz_check.h"

#define DECODE_CAP 512 /* api.c's PATH_CAP */

static struct quant_config g_cfg;

static void release_cfg(void)
{
    quant_config_release(&g_cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < QUANT_SETTING_COUNT; i++)
        unsetenv(quant_setting_env((enum quant_setting)i));
    quant_config_init(&g_cfg);
    /* A home that cannot exist: no quant.conf, no stores, nothing created. */
    struct quant_err err;
    FUZZ_CHECK(quant_config_set_flag(&g_cfg, QUANT_SET_HOME,
                                     "/nonexistent/quant-fuzz-web/home") == QUANT_OK);
    FUZZ_CHECK(quant_config_resolve(&g_cfg, &err) == QUANT_OK);
    atexit(release_cfg);
    return 0;
}

static int is_dot_segment(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

static void check_decoded(const char *raw, const char *out)
{
    size_t n = strlen(out);
    FUZZ_CHECK(out[0] == '/');
    FUZZ_CHECK(n <= strcspn(raw, "?#"));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '\\');
    }
    for (const char *seg = out + 1;;) {
        size_t len = strcspn(seg, "/");
        FUZZ_CHECK(!is_dot_segment(seg, len));
        if (!seg[len])
            break;
        seg += len + 1;
    }

    char again[DECODE_CAP];
    if (!strpbrk(out, "%?#")) {
        FUZZ_CHECK(quant_web_path_decode(out, again, sizeof again) == QUANT_OK);
        FUZZ_CHECK(strcmp(again, out) == 0);
    }
    FUZZ_CHECK(quant_web_path_decode(raw, again, n + 1) == QUANT_OK);
    FUZZ_CHECK(strcmp(again, out) == 0);
    FUZZ_CHECK(quant_web_path_decode(raw, again, n) == QUANT_ETOOBIG);
}

static void check_response(const struct quant_api_response *r, enum quant_code decoded,
                           const char *path)
{
    FUZZ_CHECK(r->body != NULL && r->body_len > 0 && r->content_type != NULL);
    if (decoded == QUANT_ETOOBIG)
        FUZZ_CHECK(r->status == 414);
    else if (decoded != QUANT_OK)
        FUZZ_CHECK(r->status == 400);
    if (r->status == 200 && decoded == QUANT_OK && strcmp(path, "/api/evaluations") == 0) {
        /* The one API route with an answer without a store: an empty list. */
        FUZZ_CHECK(r->owned_ != NULL);
        cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
        const cJSON *evs = cJSON_GetObjectItemCaseSensitive(j, "evaluations");
        FUZZ_CHECK(cJSON_IsArray(evs) && cJSON_GetArraySize(evs) == 0);
        cJSON_Delete(j);
        return;
    }
    if (r->status == 200) {
        const struct quant_web_asset *a = quant_web_asset_find(path);
        FUZZ_CHECK(decoded == QUANT_OK && a != NULL && r->owned_ == NULL);
        FUZZ_CHECK((const unsigned char *)r->body == a->data && r->body_len == a->len);
        return;
    }
    /* No stores exist, so nothing may reach a 5xx or a 2xx API answer. */
    FUZZ_CHECK(r->status == 400 || r->status == 404 || r->status == 414);
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    FUZZ_CHECK(cJSON_IsObject(j) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")));
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = malloc(size + 1);
    FUZZ_CHECK(raw != NULL);
    memcpy(raw, data, size);
    raw[size] = '\0';

    char out[DECODE_CAP];
    enum quant_code rc = quant_web_path_decode(raw, out, sizeof out);
    FUZZ_CHECK(rc == QUANT_OK || rc == QUANT_EINVAL || rc == QUANT_ETOOBIG);
    if (raw[0] != '/')
        FUZZ_CHECK(rc == QUANT_EINVAL);
    if (rc == QUANT_OK)
        check_decoded(raw, out);

    struct quant_api_response r;
    struct quant_err err;
    quant_err_clear(&err);
    FUZZ_CHECK(quant_api_handle(&g_cfg, "GET", raw, &r, &err) == QUANT_OK);
    check_response(&r, rc, out);
    quant_api_response_release(&r);
    free(raw);
    return 0;
}
