/*
 * fuzz_check.h: the one assertion the harnesses use.  libFuzzer treats an
 * abort() as a crash and saves the input, so a broken invariant is reported
 * exactly like a memory error, with the condition that failed on stderr.
 * (assert() would vanish under NDEBUG; this never does.)
 */
#ifndef QUANT_FUZZ_CHECK_H
#define QUANT_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,   \
                    __LINE__);                                                        \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#endif
