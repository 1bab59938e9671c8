/*
 * labels.c: the forward-return labels of FEATURES.md (fwd_ret_h and label_h).
 * Labels look h bars into the future by design; they are kept apart from the
 * feature sets so no feature can ever be computed from them.
 */
#include <math.h>
#include <stdio.h>

#include "features/sets_internal.h"

#include "core/banned.h"

void quant_label_names(int horizon, char fwd_ret_name[16], char label_name[16])
{
    snprintf(fwd_ret_name, 16, "fwd_ret_%d", horizon);
    snprintf(label_name, 16, "label_%d", horizon);
}

enum quant_code quant_labels_compute(const struct quant_adjusted *adj, int horizon,
                                     struct quant_feature_matrix *out,
                                     struct quant_err *err)
{
    if (horizon < QUANT_LABEL_HORIZON_MIN || horizon > QUANT_LABEL_HORIZON_MAX)
        return quant_err_set(err, QUANT_EINVAL,
                             "labels: horizon %d is out of range; use %d..%d trading days",
                             horizon, QUANT_LABEL_HORIZON_MIN, QUANT_LABEL_HORIZON_MAX);
    if (!adj || !out)
        return quant_err_set(err, QUANT_EINVAL, "labels: NULL series or matrix");
    enum quant_code rc = quant_feature_matrix_reserve(out, 2, adj->n, err);
    if (rc)
        return rc;
    size_t n = adj->n, h = (size_t)horizon;
    const double *c = adj->close;
    double *fwd = out->values, *lab = out->values + n;
    uint8_t *fwd_ok = out->valid, *lab_ok = out->valid + n;
    /* Backwards, so next_break is the first segment start after t: a forward
     * return must not reach across it (features.h, segments). */
    size_t next_break = n;
    for (size_t t = n; t-- > 0;) {
        int spans = next_break <= t + h;
        if (adj->brk && adj->n_breaks && adj->brk[t])
            next_break = t;
        double r = t + h < n && !spans ? c[t + h] / c[t] - 1.0 : NAN;
        int ok = isfinite(r);
        fwd[t] = ok ? r : NAN;
        lab[t] = ok ? (r > 0.0 ? 1.0 : 0.0) : NAN;
        fwd_ok[t] = lab_ok[t] = (uint8_t)ok;
    }
    return QUANT_OK;
}
