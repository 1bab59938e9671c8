/*
 * buf.h: a growable byte buffer with a hard size cap (after curl's dynbuf).
 *
 * Network and file input is read into a quant_buf so that no response or file
 * can grow without bound: appending past `max` fails with QUANT_ETOOBIG and
 * leaves the buffer as it was.  The data is always NUL-terminated (the NUL is
 * not counted in len), so parsers may treat it as a C string.
 *
 * Ownership: the buffer owns `data`; quant_buf_release() frees it.
 */
#ifndef QUANT_BUF_H
#define QUANT_BUF_H

#include <stddef.h>

#include "quant/error.h"

struct quant_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* hard cap on len; 0 means no cap */
};

void quant_buf_init(struct quant_buf *b, size_t max);
void quant_buf_release(struct quant_buf *b);
/* Drop contents, keep the allocation. */
void quant_buf_reset(struct quant_buf *b);
/* Append n bytes.  QUANT_ETOOBIG past max, QUANT_ENOMEM on allocation failure. */
enum quant_code quant_buf_append(struct quant_buf *b, const void *p, size_t n);
/* Make room for n more bytes (and the NUL) so that data + len can be written
 * to directly (then add to len and NUL-terminate).  Errors as append. */
enum quant_code quant_buf_reserve(struct quant_buf *b, size_t n);
/* Append formatted text (same errors as quant_buf_append). */
enum quant_code quant_buf_printf(struct quant_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Read a whole file into b (replacing its contents).  QUANT_EIO with a message
 * naming the path on failure, QUANT_ETOOBIG over b->max.
 */
enum quant_code quant_buf_read_file(struct quant_buf *b, const char *path,
                                    struct quant_err *err);

#endif
