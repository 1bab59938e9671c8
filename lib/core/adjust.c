/*
 * adjust.c: the continuous adjustment factor and the unexplained-jump check
 * (see adjust.h).  Pure: bars in, bars out, no I/O and no storage.
 */
#include "quant/adjust.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* One date of the merged history: the incoming bar when there is one. */
struct row {
    struct quant_bar *bar;            /* into in->v, or a const old bar cast for reading */
    const struct quant_bar *old_same; /* the stored bar of the same date, or NULL */
    int incoming;
    int published;                    /* the incoming bar came with its adj_close */
};

/* The factor as stored: adj_close / close, NAN when there is none (f = 1). */
static double factor(const struct quant_bar *b)
{
    return isnan(b->adj_close) ? NAN : b->adj_close / b->close;
}

/* adj_close, or close when there is none (f = 1). */
static double adjusted(const struct quant_bar *b)
{
    return isnan(b->adj_close) ? b->close : b->adj_close;
}

static int near(double r, double k)
{
    return fabs(log(r / k)) < log(1.04);
}

/*
 * How a split on an unadjusted bar moves the factor (1 = not at all).  Only a
 * split the prices show: a yfinance history() export lists its splits and
 * dividends but has already applied them to every price, so a listed event
 * is applied only when the close actually fell (or rose) by the ratio.
 * Dividends are never applied to unadjusted bars for the same reason (and a
 * source that adjusts for them publishes the adjusted close with them).
 */
static double split_multiplier(const struct quant_bar *b, double prev_close)
{
    if (!isfinite(b->split) || b->split <= 0 || b->split == 1.0 || !(prev_close > 0))
        return 1.0;
    return near(prev_close / b->close, b->split) ? b->split : 1.0;
}

double quant_adjust_split_ratio(double prev_close, double close, double volume_ratio)
{
    static const double ks[] = {2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100};
    if (!(prev_close > 0) || !(close > 0))
        return 0;
    double r = prev_close / close;
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        if (near(r, ks[i]))
            return ks[i];
        if (near(r, 1.0 / ks[i]))
            return 1.0 / ks[i];
    }
    /* A 3-for-2 split multiplies the share count, hence the volume, by 1.5. */
    if (near(r, 1.5) && isfinite(volume_ratio) && volume_ratio >= 1.2)
        return 1.5;
    if (near(r, 1.0 / 1.5) && isfinite(volume_ratio) && volume_ratio <= 1.0 / 1.2)
        return 1.0 / 1.5;
    return 0;
}

/* Median of the positive volumes of rows [from, to) (at most 10), NAN if none. */
static double median_volume(const struct row *rows, size_t from, size_t to)
{
    double v[10];
    size_t n = 0;
    for (size_t k = from; k < to && n < 10; k++) {
        double x = rows[k].bar->volume;
        if (x > 0) {
            size_t i = n++;
            while (i > 0 && v[i - 1] > x) {
                v[i] = v[i - 1];
                i--;
            }
            v[i] = x;
        }
    }
    if (n == 0)
        return NAN;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double volume_ratio(const struct row *rows, size_t n, size_t k)
{
    size_t before = k >= 10 ? k - 10 : 0;
    double a = median_volume(rows, k, n < k + 10 ? n : k + 10);
    double b = median_volume(rows, before, k);
    return isnan(a) || isnan(b) ? NAN : a / b;
}

/* The merged history, ascending; incoming bars replace stored ones. */
static struct row *merge(const struct quant_bars *old, struct quant_bars *in, size_t *out_n)
{
    struct row *rows = malloc((old->n + in->n + 1) * sizeof *rows);
    if (!rows)
        return NULL;
    size_t n = 0, i = 0, j = 0;
    while (i < in->n || j < old->n) {
        struct row r = {NULL, NULL, 0, 0};
        if (j < old->n && (i >= in->n || old->v[j].date < in->v[i].date)) {
            r.bar = (struct quant_bar *)&old->v[j++]; /* read only: never written below */
        } else {
            r.bar = &in->v[i++];
            r.incoming = 1;
            if (j < old->n && old->v[j].date == r.bar->date)
                r.old_same = &old->v[j++];
        }
        rows[n++] = r;
    }
    *out_n = n;
    return rows;
}

/*
 * The scale that puts a published incoming series on the stored history's
 * footing.  Sources normalise their adjusted closes to the day they were
 * fetched (Yahoo's Adj Close equals Close on its last date), so two downloads
 * of one history differ by a constant factor after any dividend or split in
 * between.  Anchor: the first incoming published bar that overlaps a stored
 * bar with a factor (q = stored factor / published factor there), else the
 * first one right after a stored bar (q = the stored factor, moved by its
 * split, over the published one), else none (q = 1).
 */
static double published_scale(const struct row *rows, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (rows[k].incoming && !isnan(rows[k].bar->adj_close) && rows[k].old_same &&
            !isnan(rows[k].old_same->adj_close))
            return factor(rows[k].old_same) / factor(rows[k].bar);
    for (size_t k = 1; k < n; k++) {
        const struct quant_bar *b = rows[k].bar, *p = rows[k - 1].bar;
        if (!rows[k].incoming || isnan(b->adj_close) || rows[k - 1].incoming)
            continue;
        /* a published split is already in b's factor relative to p's */
        double fp = isnan(p->adj_close) ? 1.0 : factor(p);
        double m = isfinite(b->split) && b->split > 0 ? b->split : 1.0;
        if (isfinite(b->dividend) && b->dividend > 0 && b->dividend < p->close)
            m /= 1.0 - b->dividend / p->close;
        double ratio = (factor(b) / fp) / m;
        return fabs(ratio - 1) > 1e-9 ? 1.0 / ratio : 1.0;
    }
    return 1.0;
}

/* Pass 1: every incoming bar's factor, carried where the source gave none. */
static void carry(struct row *rows, size_t n)
{
    double q = published_scale(rows, n);
    double prev_f = NAN, prev_close = NAN;
    for (size_t k = 0; k < n; k++) {
        struct quant_bar *b = rows[k].bar;
        if (rows[k].incoming) {
            b->quality &= (uint8_t)~(QUANT_Q_ADJ_CARRIED | QUANT_Q_JUMP_BEFORE);
            rows[k].published = !isnan(b->adj_close);
            if (rows[k].published && fabs(q - 1) > 1e-12) {
                b->adj_close *= q;
                b->quality |= QUANT_Q_ADJ_CARRIED;
            }
            double f = NAN;
            if (!rows[k].published) {
                double m = split_multiplier(b, prev_close);
                if (rows[k].old_same && !isnan(rows[k].old_same->adj_close))
                    f = factor(rows[k].old_same);
                else if (!isnan(prev_f) || m != 1.0)
                    f = (isnan(prev_f) ? 1.0 : prev_f) * m;
                if (!isnan(f)) {
                    b->adj_close = b->close * f;
                    b->quality |= QUANT_Q_ADJ_CARRIED;
                }
            }
        }
        prev_f = factor(b);
        prev_close = b->close;
    }
}

/* Pass 2: unexplained split-like jumps into incoming bars. */
static void find_jumps(struct row *rows, size_t n, struct quant_adjust_report *rep)
{
    for (size_t k = 1; k < n; k++) {
        if (!rows[k].incoming)
            continue;
        int seam = !rows[k - 1].incoming;
        if (rows[k].published && !seam)
            continue; /* the source adjusted it: trust its factors */
        double a0 = adjusted(rows[k - 1].bar), a1 = adjusted(rows[k].bar);
        double r = a0 / a1;
        double vr = (near(r, 1.5) || near(r, 1.0 / 1.5)) ? volume_ratio(rows, n, k) : NAN;
        double k_ratio = quant_adjust_split_ratio(a0, a1, vr);
        if (k_ratio == 0)
            continue;
        rows[k].bar->quality |= QUANT_Q_JUMP_BEFORE;
        if (rep->jumps++ == 0) {
            rep->first_jump = rows[k].bar->date;
            rep->first_jump_ratio = k_ratio;
        }
    }
}

int quant_adjust_merge(const struct quant_bars *old, struct quant_bars *in,
                       struct quant_adjust_report *rep)
{
    struct quant_adjust_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    size_t n = 0;
    struct row *rows = merge(old, in, &n);
    if (!rows)
        return -1;
    carry(rows, n);
    find_jumps(rows, n, rep);
    for (size_t i = 0; i < in->n; i++)
        rep->carried += (in->v[i].quality & QUANT_Q_ADJ_CARRIED) != 0;
    free(rows);
    return 0;
}
