/*
 * naive_features.h: a reference implementation of FEATURES.md and ALPHA158.md
 * written straight from the spec text: plain loops over every window, O(n d),
 * no running state, no shared code with lib/features.  The fast kernels are
 * tested against it.  Not compiled on its own: a test includes
 * naive_features.c (files here not named test_*.c are not built).
 *
 * Outputs are feature-major like struct quant_feature_matrix:
 * values[f * n + t], NAN meaning "no row".
 */
#ifndef QUANT_TEST_NAIVE_FEATURES_H
#define QUANT_TEST_NAIVE_FEATURES_H

#include <stddef.h>

#include "quant/bars.h"

struct naive_series {
    size_t n;
    double *o, *h, *l, *c, *v;   /* adjusted, malloc'd */
};

/* Adjusted series of FEATURES.md (f = adj_close / close, 1 when NAN). */
void naive_adjust(const struct quant_bars *bars, struct naive_series *out);
void naive_series_free(struct naive_series *s);

#define NAIVE_TECH_V1_COUNT 17
#define NAIVE_ALPHA158_COUNT 158
extern const char *const naive_tech_v1_names[NAIVE_TECH_V1_COUNT];
/* Filled by naive_alpha158_names_init() from the spec's family list. */
extern char naive_alpha158_names[NAIVE_ALPHA158_COUNT][16];
void naive_alpha158_names_init(void);

/* values: NAIVE_TECH_V1_COUNT * n (resp. NAIVE_ALPHA158_COUNT * n) doubles. */
void naive_tech_v1(const struct naive_series *s, double *values);
void naive_alpha158(const struct naive_series *s, double *values);

/* fwd and label: n doubles each; NAN for no row. */
void naive_labels(const struct naive_series *s, int h, double *fwd, double *label);

#endif
