/*
 * sets_internal.h: what a feature set is inside libquant: a name, its ordered
 * feature names and one compute function, plus the sets that exist.  Adding
 * a set is one file defining a `const struct quant_feature_set` and one line
 * in features.c's table.
 */
#ifndef QUANT_FEATURES_FEATURE_SETS_H
#define QUANT_FEATURES_FEATURE_SETS_H

#include <stddef.h>

#include "quant/feature_sets.h"

/*
 * Writes every feature into out->values (already reserved to n_features x
 * adj->n, adj->n >= 1), NAN where the spec says there is no row.  The caller
 * derives `valid` from finiteness afterwards.
 */
typedef enum quant_code (*qf_compute_fn)(const struct quant_adjusted *adj,
                                         struct quant_feature_matrix *out,
                                         struct quant_err *err);

struct quant_feature_set {
    const char *name;           /* "tech-v1" */
    size_t n_features;
    const char *const *names;   /* n_features names, matrix order */
    qf_compute_fn compute;
};

extern const struct quant_feature_set qf_tech_v1;
extern const struct quant_feature_set qf_alpha158;

/* Row f of a feature-major matrix. */
static inline double *qf_row(struct quant_feature_matrix *m, size_t f)
{
    return m->values + f * m->n_rows;
}

#endif
