/*
 * path.c: URL path decoding for the dashboard, the one place that decides
 * whether a request path is acceptable.  It is pure (no I/O): it decodes
 * percent escapes, drops the query string, and refuses anything that could
 * name something outside the served set ("." and ".." segments, encoded or
 * not, backslashes, NUL and control bytes).  It must never touch the disk.
 */
#include "web/web_internal.h"

#include <string.h>

#include "core/banned.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A segment [s, s+len) that is "." or ".." (after decoding). */
static int dot_segment(const char *s, size_t len)
{
    return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

enum quant_code quant_web_path_decode(const char *raw, char *out, size_t cap)
{
    if (!raw || raw[0] != '/' || cap == 0)
        return QUANT_EINVAL;
    size_t n = 0;
    for (const char *p = raw; *p && *p != '?' && *p != '#'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0)
                return QUANT_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return QUANT_EINVAL;
        if (n + 1 >= cap)
            return QUANT_ETOOBIG;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    /* Check every segment of the decoded path, so "%2e%2e" and "..%2f" count. */
    const char *seg = out + 1;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (dot_segment(seg, len))
            return QUANT_EINVAL;
        if (!slash)
            break;
        seg = slash + 1;
    }
    return QUANT_OK;
}
