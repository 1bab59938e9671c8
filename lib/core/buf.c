/* buf.c: capped growable buffer. */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

void quant_buf_init(struct quant_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void quant_buf_release(struct quant_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void quant_buf_reset(struct quant_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static enum quant_code grow(struct quant_buf *b, size_t need)
{
    if (b->max && need > b->max)
        return QUANT_ETOOBIG;
    if (need + 1 <= b->cap)
        return QUANT_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return QUANT_ENOMEM;
    b->data = p;
    b->cap = cap;
    return QUANT_OK;
}

enum quant_code quant_buf_reserve(struct quant_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return QUANT_ETOOBIG;
    return grow(b, b->len + n);
}

enum quant_code quant_buf_append(struct quant_buf *b, const void *p, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return QUANT_ETOOBIG;
    enum quant_code rc = grow(b, b->len + n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return QUANT_OK;
}

enum quant_code quant_buf_printf(struct quant_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return QUANT_EINVAL;
    enum quant_code rc = grow(b, b->len + (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return QUANT_OK;
}

enum quant_code quant_buf_read_file(struct quant_buf *b, const char *path,
                                    struct quant_err *err)
{
    quant_buf_reset(b);
    FILE *f = fopen(path, "rb");
    if (!f)
        return quant_err_set(err, QUANT_EIO, "cannot open %s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    enum quant_code rc = QUANT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = quant_buf_append(b, chunk, n);
        if (rc)
            break;
    }
    if (!rc && ferror(f))
        rc = quant_err_set(err, QUANT_EIO, "cannot read %s: %s", path, strerror(errno));
    else if (rc == QUANT_ETOOBIG)
        quant_err_set(err, rc, "%s is larger than the %zu-byte limit", path, b->max);
    else if (rc)
        quant_err_set(err, rc, "out of memory reading %s", path);
    fclose(f);
    if (!rc && !b->data) /* empty file: still hand back a valid empty string */
        rc = quant_buf_append(b, "", 0);
    return rc;
}
