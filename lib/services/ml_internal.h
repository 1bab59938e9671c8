/*
 * ml_internal.h: what train (ml.c) and score (score.c) share inside the
 * library.  Not public: the CLI sees ml_service.h only.
 */
#ifndef QUANT_ML_INTERNAL_H
#define QUANT_ML_INTERNAL_H

#include <stddef.h>

#include "quant/error.h"

/* Seconds on the monotonic clock, for timings. */
double quant_ml_wall_(void);

/* Normalised malloc'd copies of the requested symbols in *out (caller frees
 * with quant_strings_free(*out, n)); QUANT_EINVAL naming a bad symbol. */
enum quant_code quant_ml_normalise_(const char *const *in, size_t n, char ***out,
                                    struct quant_err *err);

#endif
