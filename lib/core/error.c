/* error.c: the code table's strings, the message-buffer helpers, and the
 * one place secrets are masked out of messages. */
#include "quant/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

void quant_err_clear(struct quant_err *err)
{
    if (!err)
        return;
    err->code = QUANT_OK;
    err->msg[0] = '\0';
}

/*
 * Messages quote what came from outside (a symbol, a file name, an API's
 * sentence, a CSV field), and they end up on a terminal or in a log: a
 * control character there could move the cursor, rewrite the screen or forge
 * a log line.  Every message is one line of text, so each control byte
 * becomes '?'.  Bytes >= 0x80 are kept (UTF-8 names stay readable).
 */
static void neutralise_controls(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* ---- secrets ---------------------------------------------------------------
 * A process holds one or two keys (the configured one, one given to
 * quant_av_open directly), so a small fixed table under a mutex is enough. */

#define SECRETS_MAX 4
#define SECRET_MIN 4
#define PARTIAL_MIN 8 /* a cut-off quote ending in this much of a key is masked too */

static pthread_mutex_t g_secret_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_secret[SECRETS_MAX][256];
static size_t g_secret_len[SECRETS_MAX];
static int g_n_secrets;

void quant_secret_add(const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < SECRET_MIN || n >= sizeof g_secret[0])
        return;
    pthread_mutex_lock(&g_secret_mu);
    int known = 0;
    for (int i = 0; i < g_n_secrets; i++)
        known |= strcmp(g_secret[i], secret) == 0;
    if (!known && g_n_secrets < SECRETS_MAX) {
        memcpy(g_secret[g_n_secrets], secret, n + 1);
        g_secret_len[g_n_secrets++] = n;
    }
    pthread_mutex_unlock(&g_secret_mu);
}

void quant_secret_clear(void)
{
    pthread_mutex_lock(&g_secret_mu);
    memset(g_secret, 0, sizeof g_secret);
    g_n_secrets = 0;
    pthread_mutex_unlock(&g_secret_mu);
}

/* How many bytes at p to mask for secret s: all of it, or a long-enough
 * start of it (a quote truncated inside the key); 0 when none. */
static size_t secret_match(const char *p, const char *s, size_t len)
{
    size_t k = 0;
    while (k < len && p[k] && p[k] == s[k])
        k++;
    return (k == len || k >= PARTIAL_MIN) ? k : 0;
}

void quant_mask_secrets(char *text)
{
    if (!text || !*text)
        return;
    pthread_mutex_lock(&g_secret_mu);
    if (g_n_secrets == 0) {
        pthread_mutex_unlock(&g_secret_mu);
        return;
    }
    /* "***" is never longer than what it replaces, so this works in place. */
    char *w = text;
    for (const char *p = text; *p;) {
        size_t hit = 0;
        for (int i = 0; i < g_n_secrets && !hit; i++)
            hit = secret_match(p, g_secret[i], g_secret_len[i]);
        if (hit) {
            memcpy(w, "***", 3);
            w += 3;
            p += hit;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    pthread_mutex_unlock(&g_secret_mu);
}

/* The one way text becomes err->msg: masked before it is cut to size (so a
 * key straddling the cut is still whole when masked), then one line. */
static void store_msg(struct quant_err *err, char *text)
{
    quant_mask_secrets(text);
    snprintf(err->msg, sizeof err->msg, "%s", text);
    neutralise_controls(err->msg);
}

enum quant_code quant_err_set(struct quant_err *err, enum quant_code code,
                              const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    char text[QUANT_ERR_MSG_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    store_msg(err, text);
    return code;
}

enum quant_code quant_err_prefix(struct quant_err *err, const char *fmt, ...)
{
    if (!err)
        return QUANT_EINTERNAL;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char text[QUANT_ERR_MSG_MAX + sizeof prefix];
    snprintf(text, sizeof text, "%s%s", prefix, err->msg);
    store_msg(err, text);
    return err->code;
}

const char *quant_code_str(enum quant_code code)
{
    switch (code) {
#define QUANT_X_STR(name, num, desc) case name: return desc;
    QUANT_ERROR_TABLE(QUANT_X_STR)
#undef QUANT_X_STR
    }
    return "unknown error";
}

const char *quant_code_name(enum quant_code code)
{
    switch (code) {
#define QUANT_X_NAME(name, num, desc) case name: return #name;
    QUANT_ERROR_TABLE(QUANT_X_NAME)
#undef QUANT_X_NAME
    }
    return "QUANT_E?";
}
