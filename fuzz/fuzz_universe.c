/*
 * fuzz_universe.c: libFuzzer harness for the universe members file reader
 * (quant_universe_read_file: Qlib instruments lines SYMBOL<TAB>START<TAB>END,
 * comments, blank lines, CRLF, a byte-order mark).  The input is written to an
 * anonymous in-memory file and read back through its /proc path, since the
 * reader takes a path.
 *
 * Checked beyond "no crash":
 *  - on success: every interval has start <= end and a normalised symbol
 *    (normalising it again changes nothing); intervals come sorted by symbol
 *    then start, and two of one symbol neither overlap nor touch (they were
 *    merged); lines read >= intervals + lines merged;
 *  - on failure: nothing is returned and the message is not empty.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "quant/universe.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("members", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct quant_universe_interval *v = NULL;
    size_t n = 0;
    struct quant_universe_file_info info;
    memset(&info, 0, sizeof info);
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_universe_read_file(path, &v, &n, &info, &err);
    if (rc) {
        FUZZ_CHECK(v == NULL && n == 0);
        FUZZ_CHECK(err.msg[0] != '\0');
    } else {
        FUZZ_CHECK(info.lines >= (long)n + info.merged);
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(v[i].start <= v[i].end);
            char again[QUANT_SYMBOL_MAX + 1];
            memcpy(again, v[i].symbol, sizeof again);
            struct quant_err e2;
            FUZZ_CHECK(quant_symbol_normalize(again, &e2) == QUANT_OK);
            FUZZ_CHECK(strcmp(again, v[i].symbol) == 0);
            if (i > 0) {
                int c = strcmp(v[i - 1].symbol, v[i].symbol);
                FUZZ_CHECK(c <= 0);
                /* merged: one symbol's intervals neither overlap nor touch */
                FUZZ_CHECK(c < 0 || (int64_t)v[i - 1].end + 1 < (int64_t)v[i].start);
            }
        }
    }
    free(v);
    close(fd);
    return 0;
}
