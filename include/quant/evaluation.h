/*
 * evaluation.h: the pure computation kernels of shared/spec/EVALUATION.md:
 * walk-forward segmentation, signal analysis (IC, RankIC, quantiles), the
 * daily top-k drop-out backtest, the single-symbol mode, and the JSON object
 * `quant evaluate --json` prints.  Arrays in, structs out: no storage, no I/O,
 * no threads, no printing.  The services read predictions, labels and prices
 * from the stores into the input structs below and persist or print what
 * comes back.
 *
 * Conventions (the spec's, printed with every report): 252 periods a year,
 * compounded returns, a risk-free rate of 0, an equal-weighted benchmark
 * unless one is named.  Dates are int32 days since 1970-01-01 (bars.h).
 * A value the spec leaves undefined (a standard deviation of one value, a
 * ratio over a zero standard deviation, ...) is NAN, and JSON null.
 *
 * Ownership: inputs are only read, never kept.  Each result struct owns its
 * arrays; the function that computes it zeroes it first, so its _release is
 * safe after a failure too, and _release leaves an empty struct behind.  The
 * _to_json functions return a new cJSON object the caller cJSON_Delete()s.
 */
#ifndef QUANT_EVALUATION_H
#define QUANT_EVALUATION_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"

#define QUANT_EVAL_PERIODS_PER_YEAR 252
#define QUANT_EVAL_VALID_DATES      252     /* V, the default */
#define QUANT_EVAL_MIN_TRAIN_DATES  756     /* the first test block's train: 3 years */
#define QUANT_EVAL_MIN_TRAIN_ROWS   200     /* ... and this many usable rows */
#define QUANT_EVAL_MIN_CROSS        5       /* n_t below this: a date is not counted */
#define QUANT_EVAL_QUANTILES        5       /* Q, the default */
#define QUANT_EVAL_Q_MAX            100     /* the largest Q accepted */
#define QUANT_EVAL_TOPK             50      /* K, the default */
#define QUANT_EVAL_N_DROP           5       /* m, the default */
#define QUANT_EVAL_BUY_COST         0.0005
#define QUANT_EVAL_SELL_COST        0.0015
#define QUANT_EVAL_LONG_THRESHOLD   0.5     /* single-symbol mode: long when score > this */

/* ---- walk-forward blocks ----------------------------------------------------
 *
 * D[0..M) are the ascending distinct dates with at least one usable row
 * (every feature of the set and fwd_ret_h exist); rows[i] is how many usable
 * rows (over all symbols) D[i] has.  For a test block starting at index s:
 *
 *   D:  0 .......................................................... M-1
 *       |<----- train ----->|<-emb h->|<-- valid V -->|<-emb h->|<- test ->|
 *       a             s-2h-V-1        s-h-V     s-h-1           s        e
 *
 *   a = 0 (expanding window) or s - 2h - V - T (rolling window of T dates)
 *
 * Test blocks are calendar years (the dates of D in one year), or
 * consecutive blocks of N dates of D starting at D[0] (the last possibly
 * shorter).  The first block formed is the earliest whose train holds at
 * least 756 dates and 200 usable rows (a rolling block must also not reach
 * before D[0]); every later block is formed too.
 *
 * All ranges below are half-open index ranges [begin, end) into D.  The
 * newest dates that have features but no label yet are not in D: the model
 * of the last block scores them (the caller appends them to its test).
 */
enum quant_eval_step {
    QUANT_EVAL_STEP_YEAR = 0,      /* test blocks are calendar years (the default) */
    QUANT_EVAL_STEP_DATES = 1,     /* test blocks are N consecutive dates of D */
};

struct quant_eval_wf_params {
    int horizon;                   /* h, 1..250: the embargo before valid and before test */
    size_t valid_dates;            /* V >= 1 (default 252) */
    enum quant_eval_step step;
    size_t step_dates;             /* N >= 1 with QUANT_EVAL_STEP_DATES; else unused */
    size_t train_dates;            /* T >= 756 for a rolling window; 0 = expanding (default) */
};

struct quant_eval_block {
    int year;                      /* the test dates' calendar year; 0 with step = N */
    size_t train_begin, train_end; /* train = D[train_begin, train_end) */
    size_t valid_begin, valid_end; /* valid = D[valid_begin, valid_end), V dates */
    size_t test_begin, test_end;   /* test  = D[test_begin, test_end) */
    size_t train_rows, valid_rows, test_rows;   /* usable rows in each segment */
};

struct quant_eval_blocks {
    struct quant_eval_block *v;    /* owned; n blocks in date order */
    size_t n;
};

/* Defaults: h = 5, V = 252, calendar years, expanding window. */
void quant_eval_wf_params_default(struct quant_eval_wf_params *p);

/*
 * The walk-forward blocks of D[0..m) (strictly ascending) with rows[0..m)
 * usable rows each.  Per the spec every date of D has at least one usable
 * row, and then 756 train dates always hold 200 rows; a count of 0 is
 * accepted all the same, so a caller that counts only some rows (say, a
 * universe's members) gets the 200-row rule applied to its own counts.
 * QUANT_EINVAL when the parameters are out of range, the dates are not
 * strictly ascending, or no block can be formed (the message says how much
 * history the first one needs); QUANT_ENOMEM.  *out is owned by the caller:
 * quant_eval_blocks_release.
 */
enum quant_code quant_eval_blocks_compute(const int32_t *dates, const size_t *rows, size_t m,
                                          const struct quant_eval_wf_params *p,
                                          struct quant_eval_blocks *out, struct quant_err *err);
void quant_eval_blocks_release(struct quant_eval_blocks *b);

/* ---- the prediction panel ---------------------------------------------------
 *
 * A prediction set as parallel arrays of n_rows rows, sorted by date
 * ascending and, within a date, by symbol id strictly ascending (one row per
 * (date, symbol)):
 *
 *   row | date  | symbol | score | fwd_ret | member (optional)
 *   ----+-------+--------+-------+---------+------------------
 *     0 | 19000 |   0    | 0.61  |  0.012  | 1
 *     1 | 19000 |   3    | NAN   |  0.004  | 1     <- no score: not in S_t
 *     2 | 19001 |   0    | 0.58  |  NAN    | 0     <- no label yet; not a member
 *
 * Symbol ids are 0..n_symbols-1, numbered in the ascending (strcmp) order of
 * the symbols' names, so "ties by symbol ascending" is "ties by id".  score
 * NAN means no score, fwd_ret NAN no label.  member is NULL without a
 * universe; with one, member[i] = 0 says the symbol is not in the universe
 * on that date, which the evaluation treats like no score (its score still
 * makes the date one of the prediction set's dates, the backtest calendar).
 */
struct quant_eval_panel {
    size_t n_rows;
    const int32_t *date;
    const uint32_t *symbol;
    const double *score;
    const double *fwd_ret;
    const uint8_t *member;         /* NULL: every row is a member */
    size_t n_symbols;
};

/* ---- signal analysis ------------------------------------------------------- */

/* One summary of a daily IC series (the plain or the rank one). */
struct quant_eval_ic_summary {
    double mean;                   /* ic: mean over the counted dates */
    double std;                    /* ic_std: sample std (k - 1); NAN when k < 2 */
    double ir;                     /* icir = mean / std; NAN when std is 0 or NAN */
    double tstat;                  /* ic_tstat = icir * sqrt(k) */
    double tstat_nw;               /* ic_tstat_nw: Newey-West, L = h - 1 lags; NAN when var_nw <= 0 */
    double hit;                    /* ic_hit: share of dates with IC_t > 0 */
    size_t dates;                  /* ic_dates: k */
};

/* One date of the panel. */
struct quant_eval_ic_day {
    int32_t date;
    size_t n;                      /* n_t = |S_t| */
    int counted;                   /* n_t >= 5 and neither scores nor returns all equal */
    double ic, rank_ic;            /* NAN when the date is not counted */
};

struct quant_eval_signal_params {
    int horizon;                   /* h, 1..250: the Newey-West lags are h - 1 */
    size_t quantiles;              /* Q, 2..QUANT_EVAL_Q_MAX (default 5) */
};

struct quant_eval_signal {
    struct quant_eval_ic_summary ic, rank_ic;
    size_t quantiles;              /* Q */
    double q_mean[QUANT_EVAL_Q_MAX];   /* q_mean[g - 1] for group g = 1..Q; NAN when q_dates = 0 */
    double q_spread;               /* q_mean[Q] - q_mean[1] */
    size_t q_dates;                /* dates with n_t >= Q (not a spec key: for reports) */
    struct quant_eval_ic_day *days;    /* owned: every distinct date of the panel */
    size_t n_days;
};

/* Defaults: h = 5, Q = 5. */
void quant_eval_signal_params_default(struct quant_eval_signal_params *p);

/*
 * IC, RankIC and quantile means of the panel (S_t: rows with a score, a
 * fwd_ret and membership).  QUANT_EINVAL when the panel is not sorted as
 * above or a parameter is out of range; QUANT_ENOMEM.  An empty panel, or
 * one where no date counts, is not an error: the summaries are NAN with
 * dates = 0.  Release *out with quant_eval_signal_release.
 */
enum quant_code quant_eval_signal_compute(const struct quant_eval_panel *panel,
                                          const struct quant_eval_signal_params *p,
                                          struct quant_eval_signal *out, struct quant_err *err);
void quant_eval_signal_release(struct quant_eval_signal *s);

/*
 * Summarise k daily values x[0..k) (in date order) with Newey-West lags
 * `lags` (h - 1), as the signal analysis does.  For a stored daily series.
 */
void quant_eval_ic_summarize(const double *x, size_t k, size_t lags,
                             struct quant_eval_ic_summary *out);

/* ---- backtest --------------------------------------------------------------
 *
 * Prices: one series per symbol id, the symbol's adjusted closes C ascending
 * by date (strictly), every close finite and > 0.  A step's return is
 * C(t_{j+2}) / C(t_{j+1}) - 1 with C(t) the last close at or before t (found
 * by binary search); 0 when the symbol has no close at or before t_{j+1}.
 */
struct quant_eval_prices {
    const int32_t *date;
    const double *close;
    size_t n;
};

struct quant_eval_bt_params {
    size_t topk;                   /* K >= 1 (default 50) */
    size_t n_drop;                 /* m (default 5); 0 = never replace a held name */
    double buy_cost, sell_cost;    /* fractions of the traded weight (0.0005, 0.0015) */
    const struct quant_eval_prices *benchmark;  /* NULL: equal-weighted scored names */
};

/* Defaults: K = 50, m = 5, costs 0.0005 / 0.0015, equal-weighted benchmark. */
void quant_eval_bt_params_default(struct quant_eval_bt_params *p);

/* Return metrics of one series (net x, or gross R), e = series - b. */
struct quant_eval_perf {
    double total_return;           /* prod(1 + x) - 1 */
    double annual_return;          /* (1 + total_return)^(252 / n) - 1 */
    double annual_vol;             /* std(x) sqrt(252); NAN when n < 2 */
    double sharpe;                 /* mean(x) / std(x) sqrt(252); NAN when std is 0 or NAN */
    double max_drawdown;           /* min_k E_k / max_{j<=k} E_j - 1 (E_0 = 1): <= 0 */
    double excess_return;          /* mean(e) 252 */
    double information_ratio;      /* mean(e) / std(e) sqrt(252) */
};

struct quant_eval_bt_metrics {
    struct quant_eval_perf net;    /* the spec's names */
    struct quant_eval_perf gross;  /* the same names with the suffix _gross */
    double turnover;               /* mean daily turnover */
    double total_cost;             /* sum of cost */
    double break_even_cost_bps;    /* 10000 mean(R - b) / (2 turnover); NAN when turnover = 0 */
    size_t steps;                  /* n */
};

/* One step j of a backtest: decided at t_j, traded at t_{j+1}'s close, held to t_{j+2}. */
struct quant_eval_bt_day {
    int32_t signal_date;           /* t_j */
    int32_t date;                  /* t_{j+2}: the close the step's return is realised at */
    double gross;                  /* R */
    double net;                    /* x = R - cost */
    double benchmark;              /* b */
    double turnover;               /* (buys + sells) / 2 */
    double cost;                   /* buy_cost * buys + sell_cost * sells */
    double equity;                 /* prod over steps <= j of (1 + x) */
    double equity_gross;           /* prod over steps <= j of (1 + R) */
    size_t n_held;                 /* |H| during the step */
};

struct quant_eval_backtest {
    struct quant_eval_bt_metrics m;
    struct quant_eval_bt_day *days;    /* owned: n_days = m.steps = |T| - 2 */
    size_t n_days;
    size_t *held_off;              /* owned: n_days + 1 offsets into held */
    uint32_t *held;                /* owned: step j holds held[held_off[j] .. held_off[j+1]), ids ascending */
};

/*
 * The metrics of n steps from their gross returns R, costs, turnovers and
 * benchmark returns b (net x = R - cost).  Pure arithmetic, for the
 * backtests below and for a stored daily series.
 */
void quant_eval_bt_metrics_compute(const double *gross, const double *cost,
                                   const double *turnover, const double *bench, size_t n,
                                   struct quant_eval_bt_metrics *out);

/*
 * The daily top-k drop-out backtest of the panel's scores.  The calendar T
 * is the panel's distinct dates that have at least one finite score; the
 * names of step j are those with a score at t_j (and membership).  prices is
 * an array of panel->n_symbols series.  When no name has a score at t_j the
 * equal-weighted benchmark of that step is 0 (cash).  QUANT_EINVAL on an
 * unsorted panel, bad prices or parameters, or fewer than 3 dates in T (a
 * step needs t_j, t_{j+1} and t_{j+2}); QUANT_ENOMEM.  Release *out with
 * quant_eval_backtest_release.
 */
enum quant_code quant_eval_backtest_run(const struct quant_eval_panel *panel,
                                        const struct quant_eval_prices *prices,
                                        const struct quant_eval_bt_params *p,
                                        struct quant_eval_backtest *out, struct quant_err *err);
void quant_eval_backtest_release(struct quant_eval_backtest *bt);

/* ---- single symbols (fewer than 5 symbols: no cross-section) ---------------- */

struct quant_eval_single {
    uint32_t symbol;               /* the symbol id */
    double ts_ic;                  /* Pearson(score, fwd_ret) over its dates; NAN when undefined */
    double ts_rank_ic;             /* the same on average ranks */
    double hit_rate;               /* share of its dates where (score > 0.5) == (fwd_ret > 0) */
    size_t dates;                  /* its dates: a score, a fwd_ret and membership */
    struct quant_eval_bt_metrics m;    /* long-or-flat against buy-and-hold */
    struct quant_eval_bt_day *days;    /* owned: m.steps steps on the panel's calendar */
};

struct quant_eval_singles {
    struct quant_eval_single *v;   /* owned: one per symbol id with a score, ascending */
    size_t n;
};

/*
 * Per symbol: ts_ic, ts_rank_ic, hit_rate, and a long-or-flat backtest on
 * the calendar and steps of quant_eval_backtest_run: weight 1 for step j when
 * the symbol's score at t_j is > 0.5 (and it is a member), else cash, with
 * p's costs; the benchmark is the symbol's own return (buy-and-hold).  p's
 * topk, n_drop and benchmark are not used.  Choosing this mode (fewer than 5
 * symbols) is the caller's decision.  Errors as quant_eval_backtest_run.
 * Release *out with quant_eval_singles_release.
 */
enum quant_code quant_eval_single_run(const struct quant_eval_panel *panel,
                                      const struct quant_eval_prices *prices,
                                      const struct quant_eval_bt_params *p,
                                      struct quant_eval_singles *out, struct quant_err *err);
void quant_eval_singles_release(struct quant_eval_singles *s);

/* ---- JSON -------------------------------------------------------------------
 *
 * The spec's names, in this order (either part may be NULL and is then left
 * out; Q from sig->quantiles):
 *   ic ic_std icir ic_tstat ic_tstat_nw ic_hit ic_dates
 *   rank_ic rank_ic_std rank_icir rank_ic_tstat rank_ic_tstat_nw rank_ic_hit rank_ic_dates
 *   q_mean_1 .. q_mean_Q q_spread
 *   total_return annual_return annual_vol sharpe max_drawdown excess_return
 *   information_ratio, the same seven with the suffix _gross,
 *   turnover total_cost break_even_cost_bps steps
 * Non-finite values are null.  NULL when out of memory.  struct cJSON is
 * cJSON's own type, declared here so includers need not include cJSON.h.
 */
struct cJSON;
struct cJSON *quant_eval_to_json(const struct quant_eval_signal *sig,
                                 const struct quant_eval_bt_metrics *bt);

/* One single-symbol result: ts_ic ts_rank_ic hit_rate, then the backtest keys. */
struct cJSON *quant_eval_single_to_json(const struct quant_eval_single *s);

#endif
