/*
 * fuzz_config.c: libFuzzer harness for the quant.conf parser.  The parser is
 * only reachable through quant_config_resolve, which reads
 * $QUANT_HOME/quant.conf, so each input is written over one quant.conf in a
 * private temporary home (made once per process, removed at a normal exit) and the
 * config resolved with --home pointing there.  The environment's QUANT_*
 * variables are cleared first so only the file and the defaults decide.
 *
 * Checked beyond "no crash":
 *  - the only failure is QUANT_ECONFIG, with a message naming the file;
 *  - on success every setting has a value; a value taken from the file is a
 *    single line of the input; home stays the flag's; store paths not set by
 *    the file follow the home folder;
 *  - the API key is displayed masked ("****" + at most its last 2 characters)
 *    and its fingerprint is 16 hex digits (or "none" without a key);
 *  - numeric getters either fail or return a value within their bounds.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/config.h"

#include "fuzz_check.h"

static char g_home[64];
static char g_conf[PATH_MAX];

static void remove_home(void)
{
    unlink(g_conf);
    rmdir(g_home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < QUANT_SETTING_COUNT; i++)
        unsetenv(quant_setting_env((enum quant_setting)i));
    /* tmpfs when there is one: the file is rewritten on every execution. */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_home, sizeof g_home, "%s/quant-fuzz-config-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(g_home) != NULL);
    snprintf(g_conf, sizeof g_conf, "%s/quant.conf", g_home);
    atexit(remove_home);
    return 0;
}

static void write_conf(const uint8_t *data, size_t size)
{
    int fd = open(g_conf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0);
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        FUZZ_CHECK(w > 0);
        off += (size_t)w;
    }
    close(fd);
}

static void check_path_default(const struct quant_config *cfg, enum quant_setting id,
                               const char *file)
{
    if (cfg->source[id] != QUANT_SRC_DEFAULT)
        return;
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/%s", g_home, file);
    FUZZ_CHECK(strcmp(quant_config_get(cfg, id), want) == 0);
}

static void check_secret(const struct quant_config *cfg)
{
    const char *key = quant_config_get(cfg, QUANT_SET_API_KEY);
    size_t n = strlen(key);
    char shown[64], want[16];
    quant_config_display(cfg, QUANT_SET_API_KEY, shown, sizeof shown);
    if (n == 0)
        snprintf(want, sizeof want, "(not set)");
    else if (n < 12)
        snprintf(want, sizeof want, "****");
    else
        snprintf(want, sizeof want, "****%s", key + n - 2);
    FUZZ_CHECK(strcmp(shown, want) == 0);

    char fp[17];
    quant_config_key_fingerprint(cfg, fp);
    if (n == 0)
        FUZZ_CHECK(strcmp(fp, "none") == 0);
    else
        FUZZ_CHECK(strlen(fp) == 16 && strspn(fp, "0123456789abcdef") == 16);
}

/* meta_url defaults to sqlite_path's file; shown, it never carries the
 * password a URL holds (what url_password finds is replaced by ****). */
static void check_meta_url(const struct quant_config *cfg)
{
    const char *url = quant_config_get(cfg, QUANT_SET_META_URL);
    if (cfg->source[QUANT_SET_META_URL] == QUANT_SRC_DEFAULT) {
        const char *path = quant_meta_url_sqlite_path(url);
        FUZZ_CHECK(path && strcmp(path, quant_config_get(cfg, QUANT_SET_SQLITE_PATH)) == 0);
    }
    char shown[8192];
    quant_config_display(cfg, QUANT_SET_META_URL, shown, sizeof shown);
    const char *at = strstr(url, "://");
    const char *amp = at ? strchr(at + 3, '@') : NULL;
    const char *colon = at ? strchr(at + 3, ':') : NULL;
    if (strlen(url) < 4000 && amp && colon && colon + 1 < amp && !memchr(at + 3, '/', (size_t)(amp - at - 3)) &&
        !memchr(at + 3, '?', (size_t)(amp - at - 3)) &&
        !memchr(at + 3, '#', (size_t)(amp - at - 3)))
        FUZZ_CHECK(strstr(shown, ":****@") != NULL);
}

static void check_numbers(const struct quant_config *cfg)
{
    static const enum quant_setting ids[] = {
        QUANT_SET_RPM, QUANT_SET_DAILY_BUDGET, QUANT_SET_HTTP_TIMEOUT_MS,
        QUANT_SET_HTTP_RETRIES, QUANT_SET_HTTP_BACKOFF_MS, QUANT_SET_LOCK_TIMEOUT_MS,
        QUANT_SET_COMPACT_DAYS, QUANT_SET_THREADS,
    };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        long v = -12345;
        struct quant_err err;
        quant_err_clear(&err);
        if (quant_config_get_long(cfg, ids[i], 0, 1000000, &v, &err) == QUANT_OK)
            FUZZ_CHECK(v >= 0 && v <= 1000000);
        else
            FUZZ_CHECK(err.code == QUANT_ECONFIG && v == -12345);
    }
}

static void check_resolved(const struct quant_config *cfg, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(cfg->conf_found == 1);
    FUZZ_CHECK(cfg->source[QUANT_SET_HOME] == QUANT_SRC_FLAG);
    FUZZ_CHECK(strcmp(quant_config_get(cfg, QUANT_SET_HOME), g_home) == 0);
    for (int i = 0; i < QUANT_SETTING_COUNT; i++) {
        const char *v = cfg->value[i];
        FUZZ_CHECK(v != NULL);
        if (cfg->source[i] != QUANT_SRC_FILE)
            continue;
        FUZZ_CHECK(strchr(v, '\n') == NULL);
        FUZZ_CHECK(memmem(data, size, v, strlen(v)) != NULL);
    }
    check_path_default(cfg, QUANT_SET_DUCKDB_PATH, "quant.duckdb");
    check_path_default(cfg, QUANT_SET_SQLITE_PATH, "meta.sqlite");
    /* in lake mode the models go with the lake, for every task to find */
    const char *lake = quant_config_get(cfg, QUANT_SET_LAKE);
    if (*lake && cfg->source[QUANT_SET_MODELS_DIR] == QUANT_SRC_DEFAULT) {
        char want[PATH_MAX]; /* config.c's buffer: the same truncation */
        snprintf(want, sizeof want, "%s/models", lake);
        FUZZ_CHECK(strcmp(quant_config_get(cfg, QUANT_SET_MODELS_DIR), want) == 0);
    } else {
        check_path_default(cfg, QUANT_SET_MODELS_DIR, "models");
    }
    check_meta_url(cfg);
    check_secret(cfg);
    check_numbers(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_conf(data, size);
    struct quant_config cfg;
    struct quant_err err;
    quant_config_init(&cfg);
    quant_err_clear(&err);
    FUZZ_CHECK(quant_config_set_flag(&cfg, QUANT_SET_HOME, g_home) == QUANT_OK);
    enum quant_code rc = quant_config_resolve(&cfg, &err);
    if (rc == QUANT_OK) {
        check_resolved(&cfg, data, size);
    } else {
        FUZZ_CHECK(rc == QUANT_ECONFIG && err.code == rc);
        FUZZ_CHECK(strncmp(err.msg, g_conf, strlen(g_conf)) == 0);
    }
    quant_config_release(&cfg);
    /* Secrets registered by this input (a key, a URL password) must not mask
     * the next input's messages. */
    quant_secret_clear();
    return 0;
}
