/*
 * blocks.c: walk-forward segmentation (EVALUATION.md, "Walk-forward"): which
 * dates each block's model trains on, early-stops on and scores.  Index
 * arithmetic on the distinct usable dates only: it never sees a row, a
 * feature or a model, and it never moves a boundary to make a block fit (a
 * block that does not fit is not formed).
 *
 * Leakage: a date's label looks h dates ahead, so h dates separate train
 * from valid and valid from test.  The last train date is s - 2h - V - 1;
 * its label reaches s - h - V - 1, before valid.  The last valid date is
 * s - h - 1; its label reaches s - 1, before test.  The embargo counts dates
 * of D, as the spec defines it: a symbol with no bars on some dates of D (a
 * trading halt) has a label that reaches further in calendar time, which the
 * spec accepts rather than making the segments per-symbol.
 */
#include <stdio.h>
#include <stdlib.h>

#include "quant/bars.h"
#include "quant/evaluation.h"
#include "quant/feature_sets.h"

#include "core/banned.h"

void quant_eval_wf_params_default(struct quant_eval_wf_params *p)
{
    *p = (struct quant_eval_wf_params){
        .horizon = QUANT_LABEL_HORIZON_DEFAULT,
        .valid_dates = QUANT_EVAL_VALID_DATES,
        .step = QUANT_EVAL_STEP_YEAR,
        .step_dates = 0,
        .train_dates = 0,
    };
}

void quant_eval_blocks_release(struct quant_eval_blocks *b)
{
    free(b->v);
    b->v = NULL;
    b->n = 0;
}

static int year_of(int32_t day)
{
    int y;
    unsigned m, d;
    quant_civil_from_days(day, &y, &m, &d);
    return y;
}

static enum quant_code check_params(const struct quant_eval_wf_params *p,
                                    struct quant_err *err)
{
    if (!p)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: no parameters given");
    if (p->horizon < QUANT_LABEL_HORIZON_MIN || p->horizon > QUANT_LABEL_HORIZON_MAX)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: horizon %d is out of range; "
                             "use %d..%d", p->horizon, QUANT_LABEL_HORIZON_MIN,
                             QUANT_LABEL_HORIZON_MAX);
    if (p->valid_dates < 1)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: the valid segment needs at "
                             "least 1 date (the default is %d)", QUANT_EVAL_VALID_DATES);
    if (p->step != QUANT_EVAL_STEP_YEAR && p->step != QUANT_EVAL_STEP_DATES)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: unknown step kind %d",
                             (int)p->step);
    if (p->step == QUANT_EVAL_STEP_DATES && p->step_dates < 1)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: a step of N dates needs "
                             "N >= 1");
    if (p->train_dates && p->train_dates < QUANT_EVAL_MIN_TRAIN_DATES)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: a rolling window of %zu "
                             "dates is shorter than the %d train dates the first block "
                             "needs; use at least %d, or the expanding window",
                             p->train_dates, QUANT_EVAL_MIN_TRAIN_DATES,
                             QUANT_EVAL_MIN_TRAIN_DATES);
    return QUANT_OK;
}

static enum quant_code check_dates(const int32_t *dates, const size_t *rows, size_t m,
                                   struct quant_err *err)
{
    if (m == 0)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: no date has a usable row "
                             "(every feature of the set and the label): nothing to train "
                             "or test on");
    if (!dates || !rows)
        return quant_err_set(err, QUANT_EINVAL, "walk-forward: no dates or row counts given");
    for (size_t i = 1; i < m; i++) {
        if (dates[i] <= dates[i - 1]) {
            char d[11];
            quant_date_format(dates[i], d);
            return quant_err_set(err, QUANT_EINVAL, "walk-forward: date %zu (%s) is not after "
                                 "the one before it: the dates must be distinct and "
                                 "ascending", i, d);
        }
    }
    return QUANT_OK;
}

/* The end (exclusive) of the candidate test block that starts at s. */
static size_t block_end(const int32_t *dates, size_t m, size_t s,
                        const struct quant_eval_wf_params *p)
{
    if (p->step == QUANT_EVAL_STEP_DATES)
        return m - s > p->step_dates ? s + p->step_dates : m;
    int y = year_of(dates[s]);
    size_t e = s + 1;
    while (e < m && year_of(dates[e]) == y)
        e++;
    return e;
}

/* How the search for the first block went, for the message when none fits. */
struct search {
    size_t most_rows;      /* the most train rows of a block with enough dates */
    int dates_ok;          /* some block had enough train dates */
};

/*
 * Fill b's segments for a test block [s, e); 0 when it is not formed: it
 * would reach before D[0], or (first block only) its train is too small.
 */
static int segment(size_t s, size_t e, const size_t *cum, const struct quant_eval_wf_params *p,
                   int first, struct quant_eval_block *b, struct search *st)
{
    size_t h = (size_t)p->horizon, v = p->valid_dates, gap = 2 * h + v;
    if (s < gap)
        return 0;
    size_t te = s - gap, a = 0;   /* train = [a, te) */
    if (p->train_dates) {
        if (te < p->train_dates)
            return 0;
        a = te - p->train_dates;
    }
    size_t train_rows = cum[te] - cum[a];
    if (first) {
        if (te - a < QUANT_EVAL_MIN_TRAIN_DATES)
            return 0;
        st->dates_ok = 1;
        if (train_rows < QUANT_EVAL_MIN_TRAIN_ROWS) {
            if (train_rows > st->most_rows)
                st->most_rows = train_rows;
            return 0;
        }
    }
    *b = (struct quant_eval_block){
        .train_begin = a, .train_end = te,
        .valid_begin = s - h - v, .valid_end = s - h,
        .test_begin = s, .test_end = e,
        .train_rows = train_rows,
        .valid_rows = cum[s - h] - cum[s - h - v],
        .test_rows = cum[e] - cum[s],
    };
    return 1;
}

static enum quant_code none_formed(const int32_t *dates, size_t m, size_t total_rows,
                                   const struct quant_eval_wf_params *p,
                                   const struct search *st, struct quant_err *err)
{
    char d0[11], d1[11];
    quant_date_format(dates[0], d0);
    quant_date_format(dates[m - 1], d1);
    size_t train = p->train_dates ? p->train_dates : QUANT_EVAL_MIN_TRAIN_DATES;
    size_t need = train + 2 * (size_t)p->horizon + p->valid_dates;
    if (st->dates_ok)
        return quant_err_set(err, QUANT_EINVAL, "not enough usable rows for a walk-forward: "
                             "the largest first train segment holds %zu usable rows (%zu in "
                             "all, %s to %s); it needs at least %d: add symbols or history",
                             st->most_rows, total_rows, d0, d1, QUANT_EVAL_MIN_TRAIN_ROWS);
    return quant_err_set(err, QUANT_EINVAL, "not enough history for a walk-forward: %zu dates "
                         "(%s to %s); the first test block needs at least %zu dates before "
                         "it (%zu train, 2 x %d embargo, %zu valid)%s: ingest a longer "
                         "history, or use a shorter horizon or fewer valid dates", m, d0, d1,
                         need, train, p->horizon, p->valid_dates,
                         p->step == QUANT_EVAL_STEP_YEAR ? " and must start a calendar year"
                                                         : "");
}

enum quant_code quant_eval_blocks_compute(const int32_t *dates, const size_t *rows, size_t m,
                                          const struct quant_eval_wf_params *p,
                                          struct quant_eval_blocks *out, struct quant_err *err)
{
    *out = (struct quant_eval_blocks){0};
    enum quant_code rc = check_params(p, err);
    if (rc == QUANT_OK)
        rc = check_dates(dates, rows, m, err);
    if (rc != QUANT_OK)
        return rc;
    /* cum[i] = usable rows on D[0 .. i), so a segment's rows are one subtraction. */
    size_t *cum = malloc((m + 1) * sizeof *cum), cap = 0;
    if (!cum)
        return quant_err_set(err, QUANT_ENOMEM, "walk-forward: out of memory for %zu dates", m);
    cum[0] = 0;
    for (size_t i = 0; i < m; i++)
        cum[i + 1] = cum[i] + rows[i];
    struct search st = {0};
    for (size_t s = 0, e; s < m; s = e) {
        e = block_end(dates, m, s, p);
        struct quant_eval_block b;
        if (!segment(s, e, cum, p, out->n == 0, &b, &st))
            continue;
        b.year = p->step == QUANT_EVAL_STEP_YEAR ? year_of(dates[s]) : 0;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            struct quant_eval_block *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                free(cum);
                quant_eval_blocks_release(out);
                return quant_err_set(err, QUANT_ENOMEM, "walk-forward: out of memory for "
                                     "%zu blocks", cap);
            }
            out->v = v;
        }
        out->v[out->n++] = b;
    }
    size_t total = cum[m];
    free(cum);
    if (out->n == 0)
        return none_formed(dates, m, total, p, &st, err);
    return QUANT_OK;
}
