/*
 * synthetic.c: a seeded, deterministic synthetic market (the "synthetic"
 * provider) for demos, tests and benchmarks.  A symbol's series is a pure
 * function of (seed, symbol, n_days, end_date): its random stream is seeded
 * from the seed mixed with a hash of the symbol, so generating other symbols
 * first never changes it.  It must stay fast (millions of bars per second)
 * and never touch the network, files or global state.
 */
#include "providers/synthetic_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

#define SYNTH_COMPACT_DAYS 100
#define SPLIT_ODDS 2000        /* about one split per 2000 trading days */
#define GAP_ODDS 50            /* about one overnight gap per 50 days */

/* ---- random numbers: splitmix64 to seed, xoshiro256** to draw ---------- */

struct rng {
    uint64_t s[4];
    double spare;      /* second normal from the last Box-Muller pair */
    int has_spare;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1): never 0, so log() is safe. */
static double rng_uniform(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Marsaglia's polar method: a pair of normals per accepted point, no trig. */
static double rng_normal(struct rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * rng_uniform(r) - 1.0;
        v = 2.0 * rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double k = sqrt(-2.0 * log(s) / s);
    r->spare = v * k;
    r->has_spare = 1;
    return u * k;
}

static void rng_seed(struct rng *r, uint64_t seed, const char *symbol)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the symbol */
    for (const char *p = symbol; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    uint64_t x = seed ^ rotl(h, 29) ^ 0x5851F42D4C957F2DULL;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
}

/* ---- per-symbol character ------------------------------------------------ */

struct symbol_params {
    double price0;      /* first close */
    double drift;       /* daily log drift */
    double var_lr;      /* long-run daily variance */
    double omega, alpha, beta;   /* GARCH(1,1) */
    double volume0;     /* typical daily volume */
    double volume_beta; /* how much |return| (in long-run sigmas) lifts volume */
};

static double log_uniform(struct rng *r, double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * rng_uniform(r));
}

static void draw_params(struct rng *r, struct symbol_params *p)
{
    p->price0 = log_uniform(r, 5.0, 400.0);
    double annual_vol = 0.15 + 0.35 * rng_uniform(r);
    double annual_drift = -0.02 + 0.14 * rng_uniform(r);
    p->var_lr = annual_vol * annual_vol / 252.0;
    p->drift = annual_drift / 252.0;
    p->alpha = 0.06 + 0.04 * rng_uniform(r);
    p->beta = 0.90 - 0.02 * rng_uniform(r);
    p->omega = p->var_lr * (1.0 - p->alpha - p->beta);
    p->volume0 = log_uniform(r, 2e5, 5e7);
    p->volume_beta = 0.25;
}

/* ---- calendar ------------------------------------------------------------ */

static int32_t last_weekday_on_or_before(int32_t d)
{
    while (quant_weekday(d) >= 5)
        d--;
    return d;
}

/* The first of n weekdays ending at last (a weekday). */
static int32_t first_weekday(int32_t last, int n)
{
    int32_t d = last;
    for (int i = 1; i < n; i++) {
        d--;
        while (quant_weekday(d) >= 5)
            d--;
    }
    return d;
}

static int32_t next_weekday(int32_t d)
{
    d++;
    while (quant_weekday(d) >= 5)
        d++;
    return d;
}

/* ---- generation ---------------------------------------------------------- */

static double round4(double x)
{
    double r = nearbyint(x * 1e4) / 1e4;
    return r < 1e-4 ? 1e-4 : r;
}

/* State carried from day to day: the continuous (split-free) price and the
 * cumulative split factor the raw price is divided by. */
struct walk {
    double price;      /* continuous close */
    double var;        /* today's GARCH variance */
    double split_factor;
};

static void one_day(struct rng *r, const struct symbol_params *p, struct walk *w,
                    struct quant_bar *b)
{
    double sigma = sqrt(w->var);
    double z = rng_normal(r);
    double ret = p->drift - 0.5 * w->var + sigma * z;
    /* Part of the day's move happens overnight: usually a little, sometimes a gap. */
    int gap = rng_next(r) % GAP_ODDS == 0;
    double overnight = gap ? 3.0 * sigma * rng_normal(r) : 0.2 * sigma * rng_normal(r);
    double split = 1.0;
    if (rng_next(r) % SPLIT_ODDS == 0 && w->price / w->split_factor > 20.0)
        split = (rng_next(r) % 10 < 7) ? 2.0 : 3.0;
    w->split_factor *= split;
    double prev = w->price;
    w->price = prev * exp(ret);
    double open_c = prev * exp(overnight);
    double hi_c = fmax(open_c, w->price) * (1.0 + 0.6 * sigma * fabs(rng_normal(r)));
    double lo_c = fmin(open_c, w->price) / (1.0 + 0.6 * sigma * fabs(rng_normal(r)));
    double f = w->split_factor;
    b->open = round4(open_c / f);
    b->close = round4(w->price / f);
    b->high = round4(hi_c / f);
    b->low = round4(lo_c / f);
    b->adj_close = w->price;  /* divided by the final split factor at the end */
    b->split = split;
    b->dividend = 0.0;
    /* Volume is in shares, so it scales up with splits, and busy days (large
     * |return| in units of the long-run sigma) trade more. */
    double lift = p->volume_beta * fabs(ret - p->drift) / sqrt(p->var_lr);
    b->volume = nearbyint(p->volume0 * f * exp(0.3 * rng_normal(r) + lift));
    double shock = ret - p->drift;
    w->var = p->omega + p->alpha * shock * shock + p->beta * w->var;
}

void quant_synth_options_default(struct quant_synth_options *opts)
{
    opts->seed = 42;
    opts->n_days = 6500;
    opts->end_date = 0;
}

enum quant_code quant_synth_generate(const struct quant_synth_options *opts,
                                     const char *symbol, struct quant_bars *out,
                                     struct quant_err *err)
{
    if (!symbol || !symbol[0])
        return quant_err_set(err, QUANT_EINVAL, "synthetic: a symbol is required");
    if (opts->n_days < 1 || opts->n_days > 100000)
        return quant_err_set(err, QUANT_EINVAL, "synthetic: the history must be 1 to 100000 trading "
                             "days (--days), not %d",
                             opts->n_days);
    if (quant_bars_reserve(out, out->n + (size_t)opts->n_days))
        return quant_err_set(err, QUANT_ENOMEM, "synthetic %s: out of memory", symbol);
    struct rng r;
    rng_seed(&r, opts->seed, symbol);
    struct symbol_params p;
    draw_params(&r, &p);
    /* The walk always starts at a fixed epoch (or earlier, for a history that
     * reaches further back), so a given date's bar is the same whatever the
     * end date: running the demo tomorrow adds a bar instead of rewriting the
     * whole history.  The days before the window are generated and dropped. */
    int32_t last = last_weekday_on_or_before(opts->end_date ? opts->end_date : quant_today_utc());
    int32_t first = first_weekday(last, opts->n_days);
    int32_t epoch = quant_days_from_civil(1980, 1, 7); /* a Monday */
    int32_t date = first < epoch ? first : epoch;
    struct walk w = {.price = p.price0, .var = p.var_lr, .split_factor = 1.0};
    struct quant_bar *v = out->v + out->n;
    /* Zeroed first so even the struct padding is deterministic (bars may be hashed). */
    memset(v, 0, (size_t)opts->n_days * sizeof *v);
    struct quant_bar scratch;
    for (; date < first; date = next_weekday(date))
        one_day(&r, &p, &w, &scratch);
    for (int i = 0; i < opts->n_days; i++) {
        v[i].date = date;
        one_day(&r, &p, &w, &v[i]);
        date = next_weekday(date);
    }
    /* Yahoo-style adjustment: history before a split is divided by it.  one_day()
     * stored the continuous price (raw x splits so far), so dividing by all splits
     * up to the last day leaves raw / (splits after that date). */
    for (int i = 0; i < opts->n_days; i++)
        v[i].adj_close /= w.split_factor;
    out->n += (size_t)opts->n_days;
    if (!out->symbol[0])
        snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
    return QUANT_OK;
}

void quant_synth_symbol_name(int i, char out[QUANT_SYMBOL_MAX + 1])
{
    snprintf(out, QUANT_SYMBOL_MAX + 1, "SYN%04d", i);
}

/* ---- the provider -------------------------------------------------------- */

static enum quant_code synth_fetch_daily(void *state, const char *symbol,
                                         enum quant_fetch_mode mode, struct quant_bars *out,
                                         struct quant_fetch_info *info, struct quant_err *err)
{
    const struct quant_synth_options *opts = state;
    char sym[QUANT_SYMBOL_MAX + 1];
    if (!symbol || strlen(symbol) > QUANT_SYMBOL_MAX)
        return quant_err_set(err, QUANT_EINVAL, "synthetic: '%.40s' is not a valid symbol",
                             symbol ? symbol : "");
    snprintf(sym, sizeof sym, "%s", symbol);
    if (quant_symbol_normalize(sym, err))
        return err ? err->code : QUANT_EINVAL;
    /* COMPACT is the tail of FULL, so both views of a symbol agree. */
    struct quant_bars all;
    quant_bars_init(&all);
    enum quant_code rc = quant_synth_generate(opts, sym, &all, err);
    if (rc) {
        quant_bars_release(&all);
        return rc;
    }
    size_t from = (mode == QUANT_FETCH_COMPACT && all.n > SYNTH_COMPACT_DAYS)
                      ? all.n - SYNTH_COMPACT_DAYS : 0;
    size_t n = all.n - from;
    if (quant_bars_reserve(out, out->n + n)) {
        quant_bars_release(&all);
        return quant_err_set(err, QUANT_ENOMEM, "synthetic %s: out of memory", sym);
    }
    memcpy(out->v + out->n, all.v + from, n * sizeof *out->v);
    out->n += n;
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    quant_bars_release(&all);
    if (info) {
        info->requests = 0;
        info->fell_back_to_compact = 0;
        info->warning[0] = '\0';
    }
    return QUANT_OK;
}

static void synth_close(void *state)
{
    free(state);
}

static const struct quant_provider_ops k_synth_ops = {
    .name = "synthetic",
    .fetch_daily = synth_fetch_daily,
    .close = synth_close,
};

enum quant_code quant_synth_open(const struct quant_synth_options *opts,
                                 struct quant_provider *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct quant_synth_options *st = malloc(sizeof *st);
    if (!st)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (opts)
        *st = *opts;
    else
        quant_synth_options_default(st);
    out->ops = &k_synth_ops;
    out->state = st;
    return QUANT_OK;
}
