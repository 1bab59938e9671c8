/*
 * split.c: the leakage-safe time split of FEATURES.md and the gathering of a
 * symbol's eligible rows into row-major float arrays for model.h.  Pure index
 * arithmetic: the only state is what the caller passes in, and nothing is
 * shuffled (a shuffled split would leak the future into training).
 */
#include "quant/ml_split.h"

#include <math.h>
#include <string.h>

#include "core/banned.h"

enum quant_code quant_split_compute(const char *symbol, size_t n, int horizon,
                                    struct quant_split *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    const char *sym = symbol && *symbol ? symbol : "(no symbol)";
    if (horizon < QUANT_LABEL_HORIZON_MIN || horizon > QUANT_LABEL_HORIZON_MAX)
        return quant_err_set(err, QUANT_EINVAL, "%s: horizon %d is out of range; use %d..%d",
                             sym, horizon, QUANT_LABEL_HORIZON_MIN, QUANT_LABEL_HORIZON_MAX);
    size_t h = (size_t)horizon;
    /* Integer division is the floor of 0.2 N and 0.1 N, with no rounding doubt. */
    size_t n_test = n / 5, n_valid = n / 10;
    out->n = n;
    out->test_end = n;
    out->test_begin = n - n_test;
    out->valid_begin = out->test_begin - n_valid;
    out->valid_end = out->test_begin > out->valid_begin + h ? out->test_begin - h
                                                           : out->valid_begin;
    out->train_begin = 0;
    out->train_end = out->valid_begin > h ? out->valid_begin - h : 0;
    out->n_train = out->train_end - out->train_begin;
    out->n_valid = out->valid_end - out->valid_begin;
    out->n_test = out->test_end - out->test_begin;
    if (out->n_train < QUANT_SPLIT_MIN_TRAIN)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s: only %zu train rows after the %d-day embargo (%zu usable "
                             "rows in all); at least %d are needed: ingest a longer history "
                             "or use a shorter horizon", sym, out->n_train, horizon, n,
                             QUANT_SPLIT_MIN_TRAIN);
    return QUANT_OK;
}

enum quant_code quant_split_rows(const struct quant_feature_matrix *features,
                                 const struct quant_feature_matrix *labels,
                                 size_t *out_rows, size_t *out_n, struct quant_err *err)
{
    *out_n = 0;
    if (labels->n_rows != features->n_rows || labels->n_features < 2)
        return quant_err_set(err, QUANT_EINVAL,
                             "split: the label matrix has %zu rows, the features %zu; compute "
                             "both from the same adjusted series", labels->n_rows,
                             features->n_rows);
    size_t n_rows = features->n_rows, nf = features->n_features, n = 0;
    const uint8_t *label_ok = labels->valid + n_rows;   /* feature 1: label_h */
    for (size_t t = 0; t < n_rows; t++) {
        int ok = label_ok[t];
        for (size_t f = 0; ok && f < nf; f++)
            ok = features->valid[f * n_rows + t];
        if (ok)
            out_rows[n++] = t;
    }
    *out_n = n;
    return QUANT_OK;
}

void quant_split_gather(const struct quant_feature_matrix *features,
                        const struct quant_feature_matrix *labels, const size_t *rows,
                        size_t begin, size_t end, float *out_x, float *out_y)
{
    size_t n_rows = features->n_rows, nf = features->n_features;
    for (size_t i = begin; i < end; i++) {
        size_t t = rows[i];
        float *x = out_x + (i - begin) * nf;
        for (size_t f = 0; f < nf; f++)
            x[f] = features->valid[f * n_rows + t] ? (float)features->values[f * n_rows + t]
                                                   : NAN;
        if (out_y && labels)
            out_y[i - begin] = labels->values[n_rows + t] > 0.5 ? 1.0f : 0.0f;
    }
}
