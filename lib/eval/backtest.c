/*
 * backtest.c: the daily top-k drop-out backtest of EVALUATION.md ("Backtest"):
 * holdings chosen as Qlib's TopkDropoutStrategy does, equal weights, costs on
 * the drifted book, close-to-close returns from adjusted closes.  It reads
 * the panel's scores and the price series and nothing else: no storage, no
 * order book, no fills, no cash other than "not invested".
 *
 * Timing (step j; a score of t_j needs t_j's close, so it trades one close
 * later):
 *
 *   t_j            t_{j+1}                      t_{j+2}
 *   scores seen -> trade at the close  -> hold -> step return realised here
 *
 * Order of a step: rank the names scored at t_j; drift the book the previous
 * step left by that step's returns; pick H; trade from the drifted weights
 * to 1/|H| (paying costs); earn r_i over (t_{j+1}, t_{j+2}].
 *
 * Ranking key: (-score, symbol id) ascending, which is score descending with
 * ties by symbol ascending; a name without a score (or not a member at t_j)
 * gets +infinity, so a held one sorts after every scored name, and among
 * several such names by symbol.
 */
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h"

#include "core/banned.h"

#define HELD 0x1
#define SOLD 0x2

/* The book and the scratch of one backtest; per-symbol arrays have n_sym entries. */
struct book {
    size_t topk, n_drop;
    double *key;                      /* ranking key at t_j (+inf: no score) */
    uint8_t *flag;                    /* HELD, SOLD */
    double *drift;                    /* w~ of a name held over the last step, else 0 */
    uint32_t *held, *prev;            /* H after and before this step's trades */
    size_t n_held, n_prev;
    double *r_held;                   /* r_i of held[i] over the current step */
    struct quant_eval_keyed_ *ranked, *last, *today, *comb;
    size_t n_ranked;
    uint32_t *log;                    /* every step's H, ids ascending */
    size_t n_log, cap_log;
};

static void book_free(struct book *b)
{
    free(b->key);
    free(b->flag);
    free(b->drift);
    free(b->held);
    free(b->prev);
    free(b->r_held);
    free(b->ranked);
    free(b->last);
    free(b->today);
    free(b->comb);
    free(b->log);
}

static int book_alloc(struct book *b, size_t n_sym, const struct quant_eval_bt_params *p)
{
    size_t n = n_sym ? n_sym : 1, k = sizeof(struct quant_eval_keyed_);
    /* No step can hold or trade more names than there are, so K and m above
     * n_sym decide exactly as n_sym does; capping them keeps m + K from
     * overflowing whatever a caller passes. */
    *b = (struct book){
        .topk = p->topk < n ? p->topk : n, .n_drop = p->n_drop < n ? p->n_drop : n,
        .key = malloc(n * sizeof(double)), .flag = calloc(n, 1),
        .drift = calloc(n, sizeof(double)),
        .held = malloc(n * sizeof(uint32_t)), .prev = malloc(n * sizeof(uint32_t)),
        .r_held = malloc(n * sizeof(double)),
        .ranked = malloc(n * k), .last = malloc(n * k), .today = malloc(n * k),
        .comb = malloc(n * k),
    };
    if (!(b->key && b->flag && b->drift && b->held && b->prev && b->r_held && b->ranked &&
          b->last &&
          b->today && b->comb))
        return 0;
    for (size_t i = 0; i < n; i++)
        b->key[i] = INFINITY;
    return 1;
}

static int before(const struct quant_eval_keyed_ *a, const struct quant_eval_keyed_ *b)
{
    return a->v < b->v || (a->v == b->v && a->id < b->id);
}

/* comb = last and today merged (both sorted, disjoint); returns |comb|. */
static size_t merge(const struct quant_eval_keyed_ *a, size_t na,
                    const struct quant_eval_keyed_ *b, size_t nb, struct quant_eval_keyed_ *out)
{
    size_t i = 0, j = 0, n = 0;
    while (i < na || j < nb)
        out[n++] = j == nb || (i < na && before(&a[i], &b[j])) ? a[i++] : b[j++];
    return n;
}

/*
 * One TopkDropout decision, as the spec writes it:
 *   last  = H sorted;  today = the first (m + K - |last|) scored names not in H
 *   comb  = last and today sorted;  sell = names of last among comb's last m
 *   buy   = the first (|sell| + K - |last|) of today;  H = last - sell + buy
 * |H| <= K always, so m + K - |last| >= m >= 0.
 */
static void topk_dropout(struct book *b)
{
    size_t nl = b->n_held, nt = 0, want = b->n_drop + b->topk - nl;
    for (size_t i = 0; i < nl; i++)
        b->last[i] = (struct quant_eval_keyed_){.v = b->key[b->held[i]], .id = b->held[i]};
    quant_eval_sort_keyed_(b->last, nl);
    for (size_t i = 0; i < b->n_ranked && nt < want; i++)
        if (!(b->flag[b->ranked[i].id] & HELD))
            b->today[nt++] = b->ranked[i];
    size_t nc = merge(b->last, nl, b->today, nt, b->comb), n_sell = 0;
    for (size_t i = nc > b->n_drop ? nc - b->n_drop : 0; i < nc; i++) {
        uint32_t id = b->comb[i].id;
        if (b->flag[id] & HELD) {
            b->flag[id] |= SOLD;
            n_sell++;
        }
    }
    size_t n_buy = n_sell + b->topk - nl, n = 0;
    if (n_buy > nt)
        n_buy = nt;
    for (size_t i = 0; i < nl; i++) {
        uint32_t id = b->last[i].id;
        if (b->flag[id] & SOLD)
            b->flag[id] = 0;
        else
            b->held[n++] = id;
    }
    for (size_t i = 0; i < n_buy; i++) {
        b->held[n++] = b->today[i].id;
        b->flag[b->today[i].id] = HELD;
    }
    b->n_held = n;
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Append H (ids ascending) to the holdings log; 0 when out of memory. */
static int log_holdings(struct book *b)
{
    if (b->n_held == 0)
        return 1;
    if (b->n_log + b->n_held > b->cap_log) {
        size_t cap = b->cap_log ? 2 * b->cap_log : 1024;
        while (cap < b->n_log + b->n_held)
            cap *= 2;
        uint32_t *v = realloc(b->log, cap * sizeof *v);
        if (!v)
            return 0;
        b->log = v;
        b->cap_log = cap;
    }
    memcpy(b->log + b->n_log, b->held, b->n_held * sizeof *b->held);
    qsort(b->log + b->n_log, b->n_held, sizeof *b->log, by_id);
    b->n_log += b->n_held;
    return 1;
}

/* Trade from the drifted weights to 1/|H|: buys and sells as weight fractions. */
static void trade(struct book *b, double *buys, double *sells)
{
    double w = b->n_held ? 1.0 / (double)b->n_held : 0.0, buy = 0, sell = 0;
    for (size_t i = 0; i < b->n_held; i++) {
        double d = w - b->drift[b->held[i]];
        if (d > 0)
            buy += d;
        else
            sell -= d;
    }
    for (size_t i = 0; i < b->n_prev; i++) {
        uint32_t id = b->prev[i];
        if (!(b->flag[id] & HELD))
            sell += b->drift[id];
        b->drift[id] = 0;
    }
    *buys = buy;
    *sells = sell;
}

/*
 * Rank the names scored at t_j (rows [begin, end)) and return the
 * equal-weighted benchmark over them for (t1, t2]; 0 when none is scored.
 */
static double rank_names(struct book *b, const struct quant_eval_panel *panel, size_t begin,
                         size_t end, const struct quant_eval_prices *prices, int32_t t1,
                         int32_t t2)
{
    double sum = 0;
    b->n_ranked = 0;
    for (size_t i = begin; i < end; i++) {
        if (!QUANT_EVAL_HAS(panel->score[i]) || !quant_eval_member_(panel, i))
            continue;
        uint32_t id = panel->symbol[i];
        b->key[id] = -panel->score[i];
        b->ranked[b->n_ranked++] = (struct quant_eval_keyed_){.v = b->key[id], .id = id};
        sum += quant_eval_step_return_(&prices[id], t1, t2);
    }
    quant_eval_sort_keyed_(b->ranked, b->n_ranked);
    return b->n_ranked ? sum / (double)b->n_ranked : 0.0;
}

/* One step: decide, trade, earn.  Fills day's return columns. */
static void step(struct book *b, const struct quant_eval_panel *panel, size_t begin, size_t end,
                 const struct quant_eval_prices *prices, const struct quant_eval_bt_params *p,
                 int32_t t1, int32_t t2, struct quant_eval_bt_day *day)
{
    double ew = rank_names(b, panel, begin, end, prices, t1, t2);
    memcpy(b->prev, b->held, b->n_held * sizeof *b->held);
    b->n_prev = b->n_held;
    topk_dropout(b);
    double buys, sells;
    trade(b, &buys, &sells);
    double w = b->n_held ? 1.0 / (double)b->n_held : 0.0, gross = 0;
    for (size_t i = 0; i < b->n_held; i++) {
        b->r_held[i] = quant_eval_step_return_(&prices[b->held[i]], t1, t2);
        gross += w * b->r_held[i];
    }
    /* The weights drift with the step's returns; the next step trades from there.
     * Closes are > 0, so every r > -1 and so is R, a mean of them. */
    for (size_t i = 0; i < b->n_held; i++)
        b->drift[b->held[i]] = w * (1.0 + b->r_held[i]) / (1.0 + gross);
    for (size_t i = 0; i < b->n_ranked; i++)
        b->key[b->ranked[i].id] = INFINITY;
    day->gross = gross;
    day->cost = p->buy_cost * buys + p->sell_cost * sells;
    day->net = gross - day->cost;
    day->turnover = (buys + sells) / 2.0;
    day->benchmark = p->benchmark ? quant_eval_step_return_(p->benchmark, t1, t2) : ew;
    day->n_held = b->n_held;
}

void quant_eval_bt_params_default(struct quant_eval_bt_params *p)
{
    *p = (struct quant_eval_bt_params){
        .topk = QUANT_EVAL_TOPK, .n_drop = QUANT_EVAL_N_DROP,
        .buy_cost = QUANT_EVAL_BUY_COST, .sell_cost = QUANT_EVAL_SELL_COST,
        .benchmark = NULL,
    };
}

void quant_eval_backtest_release(struct quant_eval_backtest *bt)
{
    free(bt->days);
    free(bt->held_off);
    free(bt->held);
    memset(bt, 0, sizeof *bt);
}

/* Run every step of the calendar cal[0..n_cal) (indices into g). */
static enum quant_code run_steps(const struct quant_eval_panel *panel,
                                 const struct quant_eval_prices *prices,
                                 const struct quant_eval_bt_params *p,
                                 const struct quant_eval_groups_ *g, const size_t *cal,
                                 size_t n_cal, struct quant_eval_backtest *out,
                                 struct quant_err *err)
{
    size_t n = n_cal - 2;
    struct book b;
    out->days = calloc(n, sizeof *out->days);
    out->held_off = malloc((n + 1) * sizeof *out->held_off);
    int ok = book_alloc(&b, panel->n_symbols, p) && out->days && out->held_off;
    for (size_t j = 0; ok && j < n; j++) {
        size_t d = cal[j];
        struct quant_eval_bt_day *day = &out->days[j];
        day->signal_date = g->date[d];
        day->date = g->date[cal[j + 2]];
        step(&b, panel, g->off[d], g->off[d + 1], prices, p, g->date[cal[j + 1]], day->date,
             day);
        out->held_off[j] = b.n_log;
        ok = log_holdings(&b);
    }
    if (ok) {
        out->n_days = n;
        out->held_off[n] = b.n_log;
        out->held = b.log;
        b.log = NULL;
    }
    book_free(&b);
    if (!ok)
        return quant_err_set(err, QUANT_ENOMEM, "backtest: out of memory for %zu steps of "
                             "%zu symbols", n, panel->n_symbols);
    return quant_eval_days_finish_(out->days, n, &out->m, err);
}

enum quant_code quant_eval_backtest_run(const struct quant_eval_panel *panel,
                                        const struct quant_eval_prices *prices,
                                        const struct quant_eval_bt_params *p,
                                        struct quant_eval_backtest *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    enum quant_code rc = quant_eval_bt_inputs_check_(panel, prices, p, err);
    if (rc == QUANT_OK && p->topk < 1)
        rc = quant_err_set(err, QUANT_EINVAL, "backtest: topk must be at least 1 (the "
                           "default is %d)", QUANT_EVAL_TOPK);
    struct quant_eval_groups_ g = {0};
    if (rc == QUANT_OK)
        rc = quant_eval_groups_build_(panel, &g, err);
    if (rc != QUANT_OK)
        return rc;
    size_t *cal = malloc((g.n ? g.n : 1) * sizeof *cal);
    if (!cal) {
        quant_eval_groups_release_(&g);
        return quant_err_set(err, QUANT_ENOMEM, "backtest: out of memory for %zu dates", g.n);
    }
    size_t n_cal = quant_eval_calendar_(panel, &g, cal);
    if (n_cal < 3)
        rc = quant_err_set(err, QUANT_EINVAL, "backtest: the predictions cover %zu dates; a "
                           "backtest needs at least 3 (scores of one date trade at the next "
                           "close and are held to the one after)", n_cal);
    else
        rc = run_steps(panel, prices, p, &g, cal, n_cal, out, err);
    free(cal);
    quant_eval_groups_release_(&g);
    if (rc != QUANT_OK)
        quant_eval_backtest_release(out);
    return rc;
}
