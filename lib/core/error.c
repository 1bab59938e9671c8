/* error.c: the code table's strings and the message-buffer helpers. */
#include "quant/error.h"

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

enum quant_code quant_err_set(struct quant_err *err, enum quant_code code,
                              const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    neutralise_controls(err->msg);
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
    char old[QUANT_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s%s", prefix, old);
    neutralise_controls(err->msg);
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
