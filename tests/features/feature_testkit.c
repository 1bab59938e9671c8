/*
 * feature_testkit.c: what the feature tests share: loading the shared price
 * histories, building synthetic edge-case series, running the library on
 * bars, and comparing a library matrix with the naive reference (1e-9
 * relative or 1e-12 absolute, and the same rows present).  Included by each
 * tests/features/test_*.c (it is not built on its own).
 */
#include <dirent.h>
#include <math.h>
#include <string.h>

#include "providers/csv_provider_internal.h"
#include "quant/feature_sets.h"
#include "naive_features.c"

#define TK_MAX_FILES 32

/* Not every test uses every helper. */
#define TK_FN static __attribute__((unused))

/* Sorted list of the shared ohlcv CSV paths; returns the count. */
TK_FN size_t tk_ohlcv_files(char paths[TK_MAX_FILES][PATH_MAX])
{
    char dir[PATH_MAX];
    tu_shared_path(dir, "ohlcv");
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && n < TK_MAX_FILES) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".csv") == 0)
            snprintf(paths[n++], PATH_MAX, "%s/%s", dir, de->d_name);
    }
    closedir(dp);
    for (size_t i = 1; i < n; i++)   /* insertion sort: a stable, readable order */
        for (size_t j = i; j > 0 && strcmp(paths[j - 1], paths[j]) > 0; j--) {
            char tmp[PATH_MAX];
            memcpy(tmp, paths[j], PATH_MAX);
            memcpy(paths[j], paths[j - 1], PATH_MAX);
            memcpy(paths[j - 1], tmp, PATH_MAX);
        }
    return n;
}

/* Parse one single-symbol CSV into out (initialised here). */
TK_FN void tk_load(const char *path, struct quant_bars *out)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    char sym[QUANT_SYMBOL_MAX + 1];
    quant_csv_symbol_from_filename(path, sym);
    struct quant_csv_file f;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_csv_parse(text, len, sym, &f, &err), QUANT_OK);
    assert_int_equal(f.n_series, 1);
    quant_bars_init(out);
    snprintf(out->symbol, sizeof out->symbol, "%s", f.series[0].symbol);
    for (size_t i = 0; i < f.series[0].n; i++) {
        struct quant_bar b = f.series[0].v[i];
        b.quality = 0; /* the parser leaves it unset: validation owns it */
        assert_int_equal(quant_bars_push(out, &b), QUANT_OK);
    }
    quant_csv_file_release(&f);
    free(text);
}

TK_FN int tk_close(double a, double b)
{
    double diff = fabs(a - b), scale = fmax(fabs(a), fabs(b));
    return diff <= 1e-12 || diff <= 1e-9 * scale;
}

/*
 * Compare lib (a matrix) with naive (values, NAN = no row) feature by
 * feature; prints the first few differences and returns how many cells differ.
 */
TK_FN long tk_compare(const char *what, const struct quant_feature_set *set,
                       const struct quant_feature_matrix *m, const double *naive)
{
    long bad = 0;
    size_t n = m->n_rows;
    for (size_t f = 0; f < m->n_features; f++) {
        for (size_t t = 0; t < n; t++) {
            size_t i = f * n + t;
            int nv = !isnan(naive[i]), lv = m->valid[i];
            int same = nv == lv && (!lv || tk_close(m->values[i], naive[i]));
            if (lv && !isfinite(m->values[i]))
                same = 0;
            if (!lv && !isnan(m->values[i]))
                same = 0;
            if (same)
                continue;
            if (bad < 8)
                print_message("%s: %s t=%zu: lib %s %.17g, naive %.17g\n", what,
                              quant_feature_set_feature(set, f), t, lv ? "valid" : "absent",
                              m->values[i], naive[i]);
            bad++;
        }
    }
    return bad;
}

/* Run the library on bars: adjusted series then one set into m. */
TK_FN void tk_compute(const struct quant_feature_set *set, const struct quant_bars *bars,
                       struct quant_feature_matrix *m)
{
    struct quant_adjusted adj = {0};
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_adjusted_compute(bars, &adj, &err), QUANT_OK);
    assert_int_equal(quant_features_compute(set, &adj, m, &err), QUANT_OK);
    assert_int_equal(m->n_rows, bars->n);
    assert_int_equal(m->n_features, quant_feature_set_size(set));
    quant_adjusted_release(&adj);
}

typedef void (*tk_naive_fn)(const struct naive_series *s, double *values);

/* Library vs naive on one series; returns the number of differing cells. */
TK_FN long tk_check_bars(const char *what, const struct quant_feature_set *set,
                          tk_naive_fn naive, const struct quant_bars *bars)
{
    struct quant_feature_matrix m = {0};
    tk_compute(set, bars, &m);
    struct naive_series s;
    naive_adjust(bars, &s);
    size_t nf = quant_feature_set_size(set);
    double *ref = malloc((nf * bars->n + 1) * sizeof(double));
    assert_non_null(ref);
    naive(&s, ref);
    long bad = tk_compare(what, set, &m, ref);
    free(ref);
    naive_series_free(&s);
    quant_feature_matrix_release(&m);
    return bad;
}

/* ---- synthetic series ------------------------------------------------------ */

/* A deterministic pseudo-random walk (xorshift), n bars from day 10000. */
TK_FN void tk_walk(struct quant_bars *b, size_t n, uint64_t seed)
{
    quant_bars_init(b);
    snprintf(b->symbol, sizeof b->symbol, "WALK");
    uint64_t x = seed * 2654435761u + 1;
    double p = 50.0;
    for (size_t t = 0; t < n; t++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x % 20001) / 10000.0 - 1.0;   /* [-1, 1] */
        double o = p, c = p * (1.0 + 0.02 * u);
        double h = fmax(o, c) * (1.0 + 0.005 * fabs(u)), l = fmin(o, c) * (1.0 - 0.004);
        struct quant_bar bar = {.date = (int32_t)(10000 + t), .open = o, .high = h, .low = l,
                                .close = c, .adj_close = NAN,
                                .volume = (double)(1000 + x % 5000), .dividend = NAN,
                                .split = NAN};
        assert_int_equal(quant_bars_push(b, &bar), QUANT_OK);
        p = c;
    }
}

TK_FN void tk_constant(struct quant_bars *b, size_t n, double price, double volume)
{
    quant_bars_init(b);
    for (size_t t = 0; t < n; t++) {
        struct quant_bar bar = {.date = (int32_t)(10000 + t), .open = price, .high = price,
                                .low = price, .close = price, .adj_close = NAN,
                                .volume = volume, .dividend = NAN, .split = NAN};
        assert_int_equal(quant_bars_push(b, &bar), QUANT_OK);
    }
}

enum tk_edge {
    TK_CONSTANT,        /* every price and volume equal */
    TK_ZERO_VOLUME,     /* a walk with volume 0 throughout */
    TK_ZERO_STRETCH,    /* a walk with 80 zero-volume days in the middle */
    TK_SPLIT,           /* a 4:1 split: raw prices drop, adj_close continuous */
    TK_SPIKE,           /* volume 1e9 amid 1e3 */
    TK_FLAT_STRETCH,    /* prices constant for 70 days inside a walk */
    TK_EDGE_COUNT
};

static const char *const tk_edge_names[TK_EDGE_COUNT] = {
    "constant", "zero volume", "zero-volume stretch", "split", "volume spike",
    "flat stretch",
};

TK_FN void tk_edge_series(enum tk_edge kind, size_t n, struct quant_bars *b)
{
    if (kind == TK_CONSTANT) {
        tk_constant(b, n, 12.5, 1000.0);
        return;
    }
    tk_walk(b, n, 7 + (uint64_t)kind);
    for (size_t t = 0; t < n; t++) {
        struct quant_bar *bar = &b->v[t];
        if (kind == TK_ZERO_VOLUME || (kind == TK_ZERO_STRETCH && t >= 100 && t < 180))
            bar->volume = 0.0;
        if (kind == TK_SPIKE)
            bar->volume = (t == 120 || t == 300) ? 1e9 : 1000.0 + (double)(t % 7);
        if (kind == TK_SPLIT) {
            /* Before t = 150 the raw prices are 4x; adj_close undoes it. */
            double k = t < 150 ? 4.0 : 1.0;
            bar->adj_close = bar->close;
            bar->open *= k;
            bar->high *= k;
            bar->low *= k;
            bar->close *= k;
            bar->volume /= k;
            bar->split = t == 150 ? 4.0 : 1.0;
        }
        if (kind == TK_FLAT_STRETCH && t >= 100 && t < 170) {
            bar->open = bar->high = bar->low = bar->close = 33.25;
            bar->volume = 2000.0;
        }
    }
}

/* Check a set on every edge case at several lengths (1 row, shorter than a
 * window, around the warm-ups, long). */
TK_FN void tk_check_edges(const struct quant_feature_set *set, tk_naive_fn naive)
{
    const size_t lengths[] = {1, 2, 4, 13, 26, 34, 59, 61, 400};
    long bad = 0;
    for (int k = 0; k < TK_EDGE_COUNT; k++) {
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
            struct quant_bars b;
            tk_edge_series((enum tk_edge)k, lengths[i], &b);
            char what[96];
            snprintf(what, sizeof what, "%s (%zu bars)", tk_edge_names[k], lengths[i]);
            bad += tk_check_bars(what, set, naive, &b);
            quant_bars_release(&b);
        }
    }
    assert_int_equal(bad, 0);
}

/*
 * No look-ahead: every value on a history truncated after bar `cut` equals,
 * bit for bit, the value at the same bar of the full history.
 */
TK_FN void tk_check_cuts(const struct quant_feature_set *set, const struct quant_bars *bars,
                          size_t n_cuts)
{
    struct quant_feature_matrix full = {0}, part = {0};
    tk_compute(set, bars, &full);
    struct quant_bars head;
    quant_bars_init(&head);
    for (size_t k = 1; k <= n_cuts; k++) {
        size_t cut = bars->n * k / (n_cuts + 1);   /* the last kept bar */
        head.n = 0;
        for (size_t t = 0; t <= cut; t++)
            assert_int_equal(quant_bars_push(&head, &bars->v[t]), QUANT_OK);
        tk_compute(set, &head, &part);
        for (size_t f = 0; f < full.n_features; f++) {
            const double *a = full.values + f * full.n_rows, *b = part.values + f * part.n_rows;
            const uint8_t *va = full.valid + f * full.n_rows, *vb = part.valid + f * part.n_rows;
            for (size_t t = 0; t <= cut; t++) {
                if (va[t] != vb[t] || (va[t] && memcmp(&a[t], &b[t], sizeof(double)) != 0)) {
                    print_message("%s cut %zu: %s t=%zu full %.17g part %.17g\n", bars->symbol,
                                  cut, quant_feature_set_feature(set, f), t, a[t], b[t]);
                    fail();
                }
            }
        }
    }
    quant_bars_release(&head);
    quant_feature_matrix_release(&full);
    quant_feature_matrix_release(&part);
}

/* Bars from plain arrays of closes (o = h = l = c unless given). */
TK_FN void tk_from_closes(struct quant_bars *b, const double *c, size_t n)
{
    quant_bars_init(b);
    for (size_t t = 0; t < n; t++) {
        struct quant_bar bar = {.date = (int32_t)(10000 + t), .open = c[t], .high = c[t],
                                .low = c[t], .close = c[t], .adj_close = NAN,
                                .volume = 1000.0 + (double)t, .dividend = NAN, .split = NAN};
        assert_int_equal(quant_bars_push(b, &bar), QUANT_OK);
    }
}

/* Value of feature `name` at bar t in m; fails when absent. */
TK_FN double tk_value(const struct quant_feature_set *set, const struct quant_feature_matrix *m,
                       const char *name, size_t t)
{
    long f = quant_feature_set_index(set, name);
    assert_true(f >= 0);
    size_t i = (size_t)f * m->n_rows + t;
    if (!m->valid[i])
        print_message("%s t=%zu: no row\n", name, t);
    assert_true(m->valid[i]);
    return m->values[i];
}

TK_FN int tk_present(const struct quant_feature_set *set, const struct quant_feature_matrix *m,
                      const char *name, size_t t)
{
    long f = quant_feature_set_index(set, name);
    assert_true(f >= 0);
    return m->valid[(size_t)f * m->n_rows + t];
}

/* First t where feature `name` has a row (n when none). */
TK_FN size_t tk_first(const struct quant_feature_set *set, const struct quant_feature_matrix *m,
                       const char *name)
{
    for (size_t t = 0; t < m->n_rows; t++)
        if (tk_present(set, m, name, t))
            return t;
    return m->n_rows;
}
