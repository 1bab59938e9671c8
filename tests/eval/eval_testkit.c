/*
 * eval_testkit.c: helpers the evaluation tests share, included (not linked)
 * by each tests/eval/test_*.c: a tolerant double comparison, a seeded RNG,
 * and a growable panel + price set that owns its arrays.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "quant/bars.h"
#include "quant/evaluation.h"

/* Each test uses some of these. */
#define TK_FN static __attribute__((unused))

/* The spec's tolerance: 1e-9 relative, 1e-12 absolute near zero.  NANs equal NANs. */
TK_FN int tk_close(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    double d = fabs(a - b);
    return d <= 1e-12 || d <= 1e-9 * fmax(fabs(a), fabs(b));
}

#define assert_close(a, b)                                                               \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        if (!tk_close(a_, b_))                                                           \
            fail_msg("%s = %.17g, expected %.17g (%s)", #a, a_, b_, #b);                 \
    } while (0)

/* splitmix64: a seeded, portable sequence, so a failure reproduces. */
struct tk_rng {
    uint64_t s;
};

TK_FN uint64_t tk_next(struct tk_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
TK_FN double tk_unif(struct tk_rng *r)
{
    return (double)(tk_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
TK_FN double tk_normal(struct tk_rng *r)
{
    double u = tk_unif(r), v = tk_unif(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

/* A panel whose arrays the kit owns, rows added in order. */
struct tk_panel {
    struct quant_eval_panel p;
    int32_t *date;
    uint32_t *symbol;
    double *score, *fwd_ret;
    uint8_t *member;
    size_t cap;
};

TK_FN void tk_panel_init(struct tk_panel *t, size_t n_symbols)
{
    memset(t, 0, sizeof *t);
    t->p.n_symbols = n_symbols;
}

TK_FN void tk_panel_add(struct tk_panel *t, int32_t date, uint32_t sym, double score,
                         double ret, int member)
{
    if (t->p.n_rows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->date = realloc(t->date, t->cap * sizeof *t->date);
        t->symbol = realloc(t->symbol, t->cap * sizeof *t->symbol);
        t->score = realloc(t->score, t->cap * sizeof *t->score);
        t->fwd_ret = realloc(t->fwd_ret, t->cap * sizeof *t->fwd_ret);
        t->member = realloc(t->member, t->cap * sizeof *t->member);
        assert_non_null(t->date);
        assert_non_null(t->symbol);
        assert_non_null(t->score);
        assert_non_null(t->fwd_ret);
        assert_non_null(t->member);
    }
    size_t i = t->p.n_rows++;
    t->date[i] = date;
    t->symbol[i] = sym;
    t->score[i] = score;
    t->fwd_ret[i] = ret;
    t->member[i] = (uint8_t)member;
    t->p.date = t->date;
    t->p.symbol = t->symbol;
    t->p.score = t->score;
    t->p.fwd_ret = t->fwd_ret;
}

/* Use the member column (a universe) or not. */
TK_FN void tk_panel_universe(struct tk_panel *t, int on)
{
    t->p.member = on ? t->member : NULL;
}

TK_FN void tk_panel_free(struct tk_panel *t)
{
    free(t->date);
    free(t->symbol);
    free(t->score);
    free(t->fwd_ret);
    free(t->member);
    memset(t, 0, sizeof *t);
}

/* Price series for n symbols, owned by the kit. */
struct tk_prices {
    struct quant_eval_prices *s;
    size_t n;
};

TK_FN void tk_prices_init(struct tk_prices *t, size_t n)
{
    t->n = n;
    t->s = calloc(n ? n : 1, sizeof *t->s);
    assert_non_null(t->s);
}

TK_FN void tk_prices_add(struct tk_prices *t, size_t sym, int32_t date, double close)
{
    struct quant_eval_prices *s = &t->s[sym];
    int32_t *d = realloc((void *)s->date, (s->n + 1) * sizeof *d);
    double *c = realloc((void *)s->close, (s->n + 1) * sizeof *c);
    assert_non_null(d);
    assert_non_null(c);
    d[s->n] = date;
    c[s->n] = close;
    s->date = d;
    s->close = c;
    s->n++;
}

TK_FN void tk_prices_free(struct tk_prices *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free((void *)t->s[i].date);
        free((void *)t->s[i].close);
    }
    free(t->s);
    memset(t, 0, sizeof *t);
}

/* A day number for the tests: 2020-01-01 plus i. */
TK_FN int32_t tk_day(int i)
{
    return quant_days_from_civil(2020, 1, 1) + i;
}
