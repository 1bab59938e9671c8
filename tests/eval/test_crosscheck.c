/*
 * test_crosscheck.c: libquant's evaluation against an independent
 * reimplementation of EVALUATION.md (tests/eval/crosscheck.py, numpy and
 * pandas) on a seeded random market: 12 symbols over 260 weekdays with
 * late listings, a delisting, missing bars, tied and missing scores, labels
 * of h = 3 from each symbol's own bars, and universe membership switching.
 * Every metric, every daily IC, every backtest step (both benchmarks),
 * every holding, every single-symbol result and four walk-forward
 * segmentations must agree to 1e-9 relative (1e-12 absolute).
 *
 * Needs Debian's python3-numpy and python3-pandas (scripts/setup-deps.sh
 * installs them): without them the test is SKIPPED, except under CI=true,
 * where it fails.
 */
#include "eval_testkit.c"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#define PYTHON "/usr/bin/python3"
#define NS 12
#define ND 260
#define H 3

extern char **environ;

/* ---- the random market ---- */

struct world {
    struct tk_panel t;
    struct tk_prices pr;
    int32_t wf_date[4000];
    size_t wf_rows[4000], wf_n;
};

/* The first n weekdays from y-01-01, with `drop` of them left out at random. */
static size_t weekdays(struct tk_rng *rng, int y, size_t n, double drop, int32_t *out)
{
    size_t k = 0;
    for (int32_t d = quant_days_from_civil(y, 1, 1); k < n; d++)
        if (quant_weekday(d) < 5 && tk_unif(rng) >= drop)
            out[k++] = d;
    return k;
}

static void make_market(struct tk_rng *rng, struct world *w)
{
    int32_t day[ND];
    weekdays(rng, 2021, ND, 0.0, day);
    /* has[s][d]: a bar; bars listed from day 5 (0..2 from 0), symbol 11 gone after 200 */
    static int has[NS][ND];
    static double close[NS][ND];
    tk_prices_init(&w->pr, NS);
    for (int s = 0; s < NS; s++) {
        double c = 10 + 3 * s;
        for (int d = 0; d < ND; d++) {
            c *= exp(0.015 * tk_normal(rng));
            has[s][d] = (s < 3 || d >= 5) && !(s == 11 && d > 200) && tk_unif(rng) >= 0.03;
            close[s][d] = c;
            if (has[s][d])
                tk_prices_add(&w->pr, (size_t)s, day[d], c);
        }
    }
    /* Labels from each symbol's own bars: the h-th bar after, not the h-th date. */
    static double label[NS][ND];
    for (int s = 0; s < NS; s++)
        for (int d = 0; d < ND; d++) {
            label[s][d] = NAN;
            int k = 0, e = d;
            while (has[s][d] && k < H && ++e < ND)
                k += has[s][e];
            if (has[s][d] && k == H)
                label[s][d] = close[s][e] / close[s][d] - 1;
        }
    tk_panel_init(&w->t, NS);
    for (int d = 0; d < ND; d++)
        for (int s = 0; s < NS; s++) {
            if (!has[s][d])
                continue;
            double sig = isnan(label[s][d]) ? 0 : 3 * label[s][d];
            double score = round((0.5 + sig + 0.15 * tk_normal(rng)) * 20) / 20;   /* ties */
            if (tk_unif(rng) < 0.05)
                score = NAN;
            int member = !(s == 4 && d >= 100 && d <= 140) && !(s == 7 && d > 200) &&
                         tk_unif(rng) >= 0.02;
            tk_panel_add(&w->t, day[d], (uint32_t)s, score, label[s][d], member);
        }
    tk_panel_universe(&w->t, 1);
    /* Walk-forward calendar: 2010-2018 weekdays, 3% holes; sparse rows at first. */
    w->wf_n = weekdays(rng, 2010, 2300, 0.03, w->wf_date);
    for (size_t i = 0; i < w->wf_n; i++)
        w->wf_rows[i] = i < 900 ? tk_unif(rng) < 0.2 : 1 + tk_next(rng) % 5;
}

static const struct quant_eval_wf_params wf_cfg[] = {
    {.horizon = 3, .valid_dates = 252, .step = QUANT_EVAL_STEP_YEAR},
    {.horizon = 5, .valid_dates = 100, .step = QUANT_EVAL_STEP_YEAR, .train_dates = 800},
    {.horizon = 10, .valid_dates = 252, .step = QUANT_EVAL_STEP_DATES, .step_dates = 130},
    {.horizon = 1, .valid_dates = 20, .step = QUANT_EVAL_STEP_DATES, .step_dates = 61,
     .train_dates = 760},
};
#define N_WF (sizeof wf_cfg / sizeof *wf_cfg)

/* ---- files for the script ---- */

static void put_num(FILE *f, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "%.17g%s", v, sep);
    else
        fprintf(f, "%s", sep);
}

static void write_inputs(const char *dir, const struct world *w)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/panel.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "date,symbol,score,fwd_ret,member\n");
    for (size_t i = 0; i < w->t.p.n_rows; i++) {
        fprintf(f, "%d,%u,", (int)w->t.date[i], w->t.symbol[i]);
        put_num(f, w->t.score[i], ",");
        put_num(f, w->t.fwd_ret[i], ",");
        fprintf(f, "%d\n", w->t.member[i]);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/prices.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "symbol,date,close\n");
    for (size_t s = 0; s < NS; s++)
        for (size_t i = 0; i < w->pr.s[s].n; i++)
            fprintf(f, "%zu,%d,%.17g\n", s, (int)w->pr.s[s].date[i], w->pr.s[s].close[i]);
    fclose(f);
    snprintf(path, sizeof path, "%s/wf_dates.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "date,rows\n");
    for (size_t i = 0; i < w->wf_n; i++)
        fprintf(f, "%d,%zu\n", (int)w->wf_date[i], w->wf_rows[i]);
    fclose(f);
    snprintf(path, sizeof path, "%s/params.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "{\"n_symbols\": %d, \"horizon\": %d, \"quantiles\": 5, \"topk\": 4, "
               "\"n_drop\": 2, \"buy_cost\": %.17g, \"sell_cost\": %.17g, "
               "\"benchmark_symbol\": 0, \"wf\": [", NS, H, QUANT_EVAL_BUY_COST,
            QUANT_EVAL_SELL_COST);
    for (size_t k = 0; k < N_WF; k++)
        fprintf(f, "%s{\"horizon\": %d, \"valid_dates\": %zu, \"step\": \"%s\", "
                   "\"step_dates\": %zu, \"train_dates\": %zu}", k ? ", " : "",
                wf_cfg[k].horizon, wf_cfg[k].valid_dates,
                wf_cfg[k].step == QUANT_EVAL_STEP_YEAR ? "year" : "dates",
                wf_cfg[k].step_dates, wf_cfg[k].train_dates);
    fprintf(f, "]}\n");
    fclose(f);
}

/* Run PYTHON argv (argv[0] included) with stdout and stderr to files; exit status. */
static int run_python(const char *const *argv, const char *out, const char *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, PYTHON, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return 127;
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- comparison ---- */

static long g_bad;

static void report(const char *what, size_t i, double c, double py)
{
    if (g_bad++ < 20)
        print_message("MISMATCH %s[%zu]: C %.17g, python %.17g\n", what, i, c, py);
}

static double py_num(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void cmp(const char *what, size_t i, double c, const cJSON *py)
{
    if (!cJSON_IsNumber(py) && !cJSON_IsNull(py)) {
        report(what, i, c, NAN);
        return;
    }
    if (!tk_close(c, py_num(py)))
        report(what, i, c, py_num(py));
}

/* Every key of the C object against the python one (same key count too). */
static void cmp_objects(const char *what, const cJSON *c, const cJSON *py)
{
    assert_non_null(c);
    assert_true(cJSON_IsObject(py));
    size_t n = 0;
    for (const cJSON *k = c->child; k; k = k->next, n++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(py, k->string);
        if (!p) {
            print_message("MISMATCH %s: python has no key %s\n", what, k->string);
            g_bad++;
            continue;
        }
        cmp(k->string, 0, py_num(k), p);
    }
    assert_int_equal(n, (size_t)cJSON_GetArraySize(py));
}

static void cmp_days(const char *what, const struct quant_eval_bt_day *d, size_t n,
                     const cJSON *py)
{
    assert_int_equal(cJSON_GetArraySize(py), n);
    for (size_t j = 0; j < n; j++) {
        const cJSON *r = cJSON_GetArrayItem(py, (int)j);
        const double c[] = {d[j].signal_date, d[j].date, d[j].gross, d[j].net,
                            d[j].benchmark, d[j].turnover, d[j].cost, d[j].equity,
                            d[j].equity_gross, (double)d[j].n_held};
        for (int k = 0; k < 10; k++)
            cmp(what, j, c[k], cJSON_GetArrayItem(r, k));
    }
}

static void cmp_signal_days(const struct quant_eval_signal *s, const cJSON *py)
{
    assert_int_equal(cJSON_GetArraySize(py), s->n_days);
    for (size_t d = 0; d < s->n_days; d++) {
        const cJSON *r = cJSON_GetArrayItem(py, (int)d);
        cmp("ic_days.date", d, s->days[d].date, cJSON_GetArrayItem(r, 0));
        cmp("ic_days.n", d, (double)s->days[d].n, cJSON_GetArrayItem(r, 1));
        if (cJSON_IsTrue(cJSON_GetArrayItem(r, 2)) != s->days[d].counted)
            report("ic_days.counted", d, s->days[d].counted, !s->days[d].counted);
        cmp("ic_days.ic", d, s->days[d].ic, cJSON_GetArrayItem(r, 3));
        cmp("ic_days.rank_ic", d, s->days[d].rank_ic, cJSON_GetArrayItem(r, 4));
    }
}

static void cmp_holdings(const struct quant_eval_backtest *bt, const cJSON *py)
{
    assert_int_equal(cJSON_GetArraySize(py), bt->n_days);
    for (size_t j = 0; j < bt->n_days; j++) {
        const cJSON *h = cJSON_GetArrayItem(py, (int)j);
        size_t n = bt->held_off[j + 1] - bt->held_off[j];
        if ((size_t)cJSON_GetArraySize(h) != n) {
            report("holdings.count", j, (double)n, cJSON_GetArraySize(h));
            continue;
        }
        for (size_t i = 0; i < n; i++)
            cmp("holdings", j, bt->held[bt->held_off[j] + i], cJSON_GetArrayItem(h, (int)i));
    }
}

static void cmp_singles(const struct quant_eval_singles *g, const cJSON *py)
{
    assert_int_equal(cJSON_GetArraySize(py), g->n);
    for (size_t i = 0; i < g->n; i++) {
        const struct quant_eval_single *s = &g->v[i];
        const cJSON *p = cJSON_GetArrayItem(py, (int)i);
        cmp("single.symbol", i, s->symbol, cJSON_GetObjectItemCaseSensitive(p, "symbol"));
        cmp("single.dates", i, (double)s->dates, cJSON_GetObjectItemCaseSensitive(p, "dates"));
        cJSON *c = quant_eval_single_to_json(s);
        for (const char *const *k = (const char *const[]){"ts_ic", "ts_rank_ic", "hit_rate",
                                                          NULL}; *k; k++)
            cmp(*k, i, py_num(cJSON_GetObjectItemCaseSensitive(c, *k)),
                cJSON_GetObjectItemCaseSensitive(p, *k));
        cJSON *m = quant_eval_to_json(NULL, &s->m);
        cmp_objects("single.metrics", m, cJSON_GetObjectItemCaseSensitive(p, "metrics"));
        cmp_days("single.days", s->days, s->m.steps, cJSON_GetObjectItemCaseSensitive(p, "days"));
        cJSON_Delete(m);
        cJSON_Delete(c);
    }
}

static void cmp_blocks(const struct world *w, const cJSON *py)
{
    assert_int_equal(cJSON_GetArraySize(py), N_WF);
    for (size_t k = 0; k < N_WF; k++) {
        struct quant_eval_blocks b;
        struct quant_err err = {0};
        if (quant_eval_blocks_compute(w->wf_date, w->wf_rows, w->wf_n, &wf_cfg[k], &b, &err))
            fail_msg("walk-forward %zu: %s", k, err.msg);
        const cJSON *list = cJSON_GetArrayItem(py, (int)k);
        assert_int_equal(cJSON_GetArraySize(list), b.n);
        assert_true(b.n >= 3);   /* every configuration forms several blocks */
        for (size_t i = 0; i < b.n; i++) {
            const struct quant_eval_block *x = &b.v[i];
            const double c[] = {x->year, x->train_begin, x->train_end, x->valid_begin,
                                x->valid_end, x->test_begin, x->test_end, x->train_rows,
                                x->valid_rows, x->test_rows};
            const cJSON *r = cJSON_GetArrayItem(list, (int)i);
            for (int f = 0; f < 10; f++)
                cmp("blocks", k * 1000 + i, c[f], cJSON_GetArrayItem(r, f));
        }
        quant_eval_blocks_release(&b);
    }
}

static void test_against_python(void **state)
{
    (void)state;
    char dir[PATH_MAX], out[PATH_MAX + 32], err_path[PATH_MAX + 32];
    tu_mkdtemp(dir);
    snprintf(out, sizeof out, "%s/out.json", dir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
    if (run_python((const char *const[]){PYTHON, "-c", "import numpy, pandas", NULL}, out,
                   err_path) != 0) {
        tu_rmrf(dir);
        tu_skip_or_fail("%s cannot import numpy and pandas (install python3-pandas)", PYTHON);
    }
    static struct world w;
    struct tk_rng rng = {31337};
    make_market(&rng, &w);
    write_inputs(dir, &w);
    int rc = run_python((const char *const[]){PYTHON, QUANT_SOURCE_DIR "/tests/eval/crosscheck.py",
                                              dir, NULL}, out, err_path);
    if (rc != 0) {
        char *e = tu_read_file(err_path, NULL);
        print_message("crosscheck.py stderr:\n%s\n", e);
        free(e);
        fail_msg("crosscheck.py exited %d", rc);
    }
    char *text = tu_read_file(out, NULL);
    cJSON *py = cJSON_Parse(text);
    free(text);
    assert_non_null(py);

    struct quant_err err = {0};
    struct quant_eval_signal_params sp = {.horizon = H, .quantiles = 5};
    struct quant_eval_bt_params bp;
    quant_eval_bt_params_default(&bp);
    bp.topk = 4;
    bp.n_drop = 2;
    struct quant_eval_signal sig;
    struct quant_eval_backtest bt, named;
    struct quant_eval_singles g;
    assert_int_equal(quant_eval_signal_compute(&w.t.p, &sp, &sig, &err), QUANT_OK);
    assert_int_equal(quant_eval_backtest_run(&w.t.p, w.pr.s, &bp, &bt, &err), QUANT_OK);
    assert_int_equal(quant_eval_single_run(&w.t.p, w.pr.s, &bp, &g, &err), QUANT_OK);
    bp.benchmark = &w.pr.s[0];
    assert_int_equal(quant_eval_backtest_run(&w.t.p, w.pr.s, &bp, &named, &err), QUANT_OK);
    /* The case exercises what it claims to. */
    assert_true(sig.ic.dates > 200 && sig.ic.dates < sig.n_days);
    assert_true(bt.n_days > 250);

    cJSON *c = quant_eval_to_json(&sig, &bt.m);
    cmp_objects("metrics", c, cJSON_GetObjectItemCaseSensitive(py, "metrics"));
    cJSON_Delete(c);
    c = quant_eval_to_json(NULL, &named.m);
    cmp_objects("metrics_named", c, cJSON_GetObjectItemCaseSensitive(py, "metrics_named"));
    cJSON_Delete(c);
    cmp_signal_days(&sig, cJSON_GetObjectItemCaseSensitive(py, "ic_days"));
    cmp_days("bt_days", bt.days, bt.n_days, cJSON_GetObjectItemCaseSensitive(py, "bt_days"));
    cmp_days("named_days", named.days, named.n_days,
             cJSON_GetObjectItemCaseSensitive(py, "named_days"));
    cmp_holdings(&bt, cJSON_GetObjectItemCaseSensitive(py, "holdings"));
    cmp_singles(&g, cJSON_GetObjectItemCaseSensitive(py, "singles"));
    cmp_blocks(&w, cJSON_GetObjectItemCaseSensitive(py, "blocks"));
    print_message("compared: %zu IC dates (%zu counted), %zu steps, %zu symbols, %zu "
                  "walk-forward configurations; ic %.6f, sharpe %.4f\n", sig.n_days,
                  sig.ic.dates, bt.n_days, g.n, N_WF, sig.ic.mean, bt.m.net.sharpe);

    cJSON_Delete(py);
    quant_eval_signal_release(&sig);
    quant_eval_backtest_release(&bt);
    quant_eval_backtest_release(&named);
    quant_eval_singles_release(&g);
    tk_panel_free(&w.t);
    tk_prices_free(&w.pr);
    tu_rmrf(dir);
    if (g_bad)
        fail_msg("%ld numbers differ from crosscheck.py (first 20 above)", g_bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_python),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
