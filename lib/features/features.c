/*
 * features.c: the public face of the compute layer: the feature-set registry,
 * the adjusted series, feature matrices and the dispatch that runs one set
 * and derives validity.  The arithmetic of each set lives in its own file
 * (tech_v1.c, alpha158.c) over the kernels of rolling.c; nothing here
 * computes a feature, prints or touches storage.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/sets_internal.h"

#include "core/banned.h"

static const struct quant_feature_set *const registry[] = {&qf_tech_v1, &qf_alpha158};

#define REGISTRY_SIZE (sizeof registry / sizeof *registry)

const struct quant_feature_set *quant_feature_set_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

size_t quant_feature_set_count(void)
{
    return REGISTRY_SIZE;
}

const struct quant_feature_set *quant_feature_set_at(size_t i)
{
    return i < REGISTRY_SIZE ? registry[i] : NULL;
}

const char *quant_feature_set_name(const struct quant_feature_set *set)
{
    return set->name;
}

size_t quant_feature_set_size(const struct quant_feature_set *set)
{
    return set->n_features;
}

const char *quant_feature_set_feature(const struct quant_feature_set *set, size_t i)
{
    return i < set->n_features ? set->names[i] : NULL;
}

long quant_feature_set_index(const struct quant_feature_set *set, const char *name)
{
    for (size_t i = 0; i < set->n_features; i++)
        if (strcmp(set->names[i], name) == 0)
            return (long)i;
    return -1;
}

/* ---- adjusted series ---------------------------------------------------- */

void quant_adjusted_release(struct quant_adjusted *adj)
{
    free(adj->open);   /* one block holds every array, see adjusted_reserve */
    memset(adj, 0, sizeof *adj);
}

static enum quant_code adjusted_reserve(struct quant_adjusted *adj, size_t n,
                                        struct quant_err *err)
{
    if (n <= adj->cap && adj->open)
        return QUANT_OK;
    size_t cap = n ? n : 1;
    /* 5 double arrays, the dates, then the break flags: one allocation, one free. */
    double *block = malloc(cap * (5 * sizeof(double) + sizeof(int32_t) + 1));
    if (!block)
        return quant_err_set(err, QUANT_ENOMEM, "adjusted series: out of memory for %zu bars", n);
    free(adj->open);
    adj->open = block;
    adj->high = block + cap;
    adj->low = block + 2 * cap;
    adj->close = block + 3 * cap;
    adj->volume = block + 4 * cap;
    adj->date = (int32_t *)(block + 5 * cap);
    adj->brk = (uint8_t *)(adj->date + cap);
    adj->cap = cap;
    return QUANT_OK;
}

enum quant_code quant_adjusted_compute(const struct quant_bars *bars,
                                       struct quant_adjusted *out, struct quant_err *err)
{
    if (!bars || !out)
        return quant_err_set(err, QUANT_EINVAL, "adjusted series: NULL argument");
    for (size_t t = 1; t < bars->n; t++) {
        if (bars->v[t].date <= bars->v[t - 1].date) {
            char d[11];
            quant_date_format(bars->v[t].date, d);
            return quant_err_set(err, QUANT_EINVAL,
                                 "features %s: bars are not in strictly ascending date order "
                                 "at %s (row %zu); sort and de-duplicate them first",
                                 bars->symbol, d, t);
        }
    }
    enum quant_code rc = adjusted_reserve(out, bars->n, err);
    if (rc)
        return rc;
    out->n = bars->n;
    out->n_breaks = 0;
    for (size_t t = 0; t < bars->n; t++) {
        const struct quant_bar *b = &bars->v[t];
        double f = isnan(b->adj_close) ? 1.0 : b->adj_close / b->close;
        out->open[t] = b->open * f;
        out->high[t] = b->high * f;
        out->low[t] = b->low * f;
        out->close[t] = b->close * f;
        out->volume[t] = b->volume / f;
        out->date[t] = b->date;
        out->brk[t] = t > 0 && (b->quality & QUANT_Q_BREAK);
        out->n_breaks += out->brk[t];
    }
    return QUANT_OK;
}

/* ---- matrices ----------------------------------------------------------- */

enum quant_code quant_feature_matrix_reserve(struct quant_feature_matrix *m,
                                             size_t n_features, size_t n_rows,
                                             struct quant_err *err)
{
    size_t cells = n_features * n_rows;
    if (n_rows && cells / n_rows != n_features)
        return quant_err_set(err, QUANT_EINVAL, "feature matrix: %zu x %zu is too large",
                             n_features, n_rows);
    if (cells > m->cap || !m->values) {
        size_t cap = cells ? cells : 1;
        double *v = malloc(cap * sizeof *v);
        uint8_t *ok = malloc(cap);
        if (!v || !ok) {
            free(v);
            free(ok);
            return quant_err_set(err, QUANT_ENOMEM,
                                 "feature matrix: out of memory for %zu x %zu values",
                                 n_features, n_rows);
        }
        free(m->values);
        free(m->valid);
        m->values = v;
        m->valid = ok;
        m->cap = cap;
    }
    m->n_features = n_features;
    m->n_rows = n_rows;
    return QUANT_OK;
}

void quant_feature_matrix_release(struct quant_feature_matrix *m)
{
    free(m->values);
    free(m->valid);
    memset(m, 0, sizeof *m);
}

/* valid = finite; non-finite values become NAN so absent is one bit pattern. */
static void derive_validity(struct quant_feature_matrix *m)
{
    size_t cells = m->n_features * m->n_rows;
    for (size_t i = 0; i < cells; i++) {
        int ok = isfinite(m->values[i]);
        m->valid[i] = (uint8_t)ok;
        if (!ok)
            m->values[i] = NAN;
    }
}

/* Rows [from, from + n) of adj as a series of its own (arrays borrowed). */
static struct quant_adjusted segment_view(const struct quant_adjusted *adj, size_t from,
                                          size_t n)
{
    struct quant_adjusted v = {
        .n = n, .open = adj->open + from, .high = adj->high + from, .low = adj->low + from,
        .close = adj->close + from, .volume = adj->volume + from, .date = adj->date + from,
        .brk = NULL, .n_breaks = 0, .cap = 0};
    return v;
}

/*
 * Each segment computed as a history of its own, then copied into its rows
 * of out: a kernel never sees across a break, whatever its window.
 */
static enum quant_code compute_segments(const struct quant_feature_set *set,
                                        const struct quant_adjusted *adj,
                                        struct quant_feature_matrix *out, struct quant_err *err)
{
    struct quant_feature_matrix part = {0};
    enum quant_code rc = QUANT_OK;
    size_t n = adj->n, from = 0;
    while (!rc && from < n) {
        size_t to = from + 1;
        while (to < n && !adj->brk[to])
            to++;
        struct quant_adjusted view = segment_view(adj, from, to - from);
        rc = quant_feature_matrix_reserve(&part, set->n_features, view.n, err);
        if (!rc)
            rc = set->compute(&view, &part, err);
        for (size_t f = 0; !rc && f < set->n_features; f++)
            memcpy(out->values + f * n + from, part.values + f * view.n,
                   view.n * sizeof *out->values);
        from = to;
    }
    quant_feature_matrix_release(&part);
    return rc;
}

enum quant_code quant_features_compute(const struct quant_feature_set *set,
                                       const struct quant_adjusted *adj,
                                       struct quant_feature_matrix *out,
                                       struct quant_err *err)
{
    if (!set || !adj || !out)
        return quant_err_set(err, QUANT_EINVAL, "features: NULL feature set or series");
    enum quant_code rc = quant_feature_matrix_reserve(out, set->n_features, adj->n, err);
    if (rc || adj->n == 0)
        return rc;
    rc = adj->brk && adj->n_breaks ? compute_segments(set, adj, out, err)
                                   : set->compute(adj, out, err);
    if (rc)
        return quant_err_prefix(err, "features %s: ", set->name);
    derive_validity(out);
    return QUANT_OK;
}
