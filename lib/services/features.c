/*
 * features.c: the service behind `quant features` and `quant labels` (see
 * features.h): features and labels from stored bars.  It decides
 * which symbols need work, reads their bars in one pass, computes on worker
 * threads and stores on the calling thread, which owns the DuckDB connection
 * (a connection must not be shared between threads).  Compute kernels live in
 * lib/features, storage in lib/store; this file only orchestrates.
 */
#include "quant/features.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/clock.h"
#include "store/feature_store.h"
#include "core/banned.h"

/*
 * Symbols per write transaction: larger batches amortise commits and let
 * DuckDB write whole row groups (tech-v1 on 500 x 6,500: store 3.1 s with 32
 * symbols per batch, 2.7 s with 96), but every finished matrix waits in
 * memory until its batch is written (an alpha158 matrix of 6,500 days is
 * 9 MB).  So the batch is sized by cells: at most BATCH_CELLS values, between
 * 8 and WRITE_BATCH symbols; workers run at most one batch ahead.
 */
#define WRITE_BATCH 96
#define BATCH_CELLS (16u * 1024u * 1024u)


/* One symbol's work item. */
struct job {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char fingerprint[QUANT_FINGERPRINT_MAX];
    struct quant_bars bars;          /* read from the store */
    struct quant_adjusted adj;       /* computed by a worker */
    struct quant_feature_matrix m;
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
    int done;                        /* the worker finished (under the lock) */
};

struct pipeline {
    struct job *jobs;
    size_t n;
    const struct quant_feature_set *set;   /* NULL: labels */
    int horizon;
    int materialize;      /* store the values too (quant_derived_write) */
    const char *kind_label;
    const struct quant_derive_observer *obs;
    struct quant_derive_summary *sum;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t batch;         /* symbols per write transaction */
    size_t window;        /* jobs computed or computing but not yet written, at most */
    size_t ready;         /* jobs [0, ready) have their bars (the scan runs ahead) */
    size_t next;          /* next job a compute worker takes */
    size_t in_flight;     /* taken by compute, not yet released by a writer */
    size_t claim;         /* next batch start a writer takes */
    size_t avg_rows;      /* bars per symbol, on average (sizes the batches) */
    int stop;
    double cpu;           /* summed compute CPU seconds */
    enum quant_code rc;   /* the first write failure */
    struct quant_err err;
};

static void compute_job(struct pipeline *pl, struct job *j)
{
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_adjusted_compute(&j->bars, &j->adj, &err);
    if (!rc)
        rc = pl->set ? quant_features_compute(pl->set, &j->adj, &j->m, &err)
                     : quant_labels_compute(&j->adj, pl->horizon, &j->m, &err);
    j->code = rc;
    if (rc)
        snprintf(j->error, sizeof j->error, "%s", err.msg);
    quant_bars_release(&j->bars); /* the adjusted series has what is needed now */
}

static void *worker(void *arg)
{
    struct pipeline *pl = arg;
    double cpu0 = quant_clock_thread_cpu();
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        while (!pl->stop && pl->next < pl->n &&
               (pl->in_flight >= pl->window || pl->next >= pl->ready))
            pthread_cond_wait(&pl->changed, &pl->lock);
        if (pl->stop || pl->next >= pl->n)
            break;
        struct job *j = &pl->jobs[pl->next++];
        pl->in_flight++;
        pthread_mutex_unlock(&pl->lock);
        compute_job(pl, j);
        pthread_mutex_lock(&pl->lock);
        j->done = 1;
        pthread_cond_broadcast(&pl->changed);
    }
    pl->cpu += quant_clock_thread_cpu() - cpu0;
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

/* ---- choosing and reading -------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct reader {
    struct pipeline *pl;
    size_t at;       /* jobs are sorted by symbol, as the scan is */
};

/* Jobs [0, upto) have what they will get: wake the compute workers. */
static void publish_ready(struct pipeline *pl, size_t upto)
{
    pthread_mutex_lock(&pl->lock);
    if (upto > pl->ready)
        pl->ready = upto;
    pthread_cond_broadcast(&pl->changed);
    pthread_mutex_unlock(&pl->lock);
}

static void no_bars(struct job *j)
{
    j->code = QUANT_ENOTFOUND;
    snprintf(j->error, sizeof j->error, "no bars found for %s (removed while running?)",
             j->symbol);
}

/*
 * Called by the scan for each symbol in order.  Jobs are sorted like the
 * scan, so each one is complete when the scan passes it and can be computed
 * while the scan reads the next symbols.
 */
static int take_bars(void *ctx, struct quant_bars *bars)
{
    struct reader *r = ctx;
    while (r->at < r->pl->n && strcmp(r->pl->jobs[r->at].symbol, bars->symbol) < 0)
        no_bars(&r->pl->jobs[r->at++]);
    if (r->at >= r->pl->n || strcmp(r->pl->jobs[r->at].symbol, bars->symbol) != 0)
        return 0;
    /* Taken, not copied (the scan's contract): no second copy of every bar. */
    struct quant_bars *mine = &r->pl->jobs[r->at].bars, t = *mine;
    *mine = *bars;
    *bars = t;
    r->at++;
    publish_ready(r->pl, r->at);
    return 0;
}

static const struct quant_input_state *find_input(const struct quant_input_state *v, size_t n,
                                                  const char *sym)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v[mid].symbol, sym);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const struct quant_derived_state *find_state(const struct quant_derived_state *v,
                                                    size_t n, const char *sym)
{
    for (size_t i = 0; i < n; i++) /* sorted; a linear scan is fine for a few thousand */
        if (strcmp(v[i].symbol, sym) == 0)
            return &v[i];
    return NULL;
}

static void report(const struct quant_derive_observer *obs, const char *symbol, const char *kind,
                   enum quant_code code, const char *error, int up_to_date, long rows,
                   long values)
{
    if (!obs || !obs->on_result)
        return;
    struct quant_derive_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.symbol, sizeof r.symbol, "%s", symbol);
    r.kind = kind;
    r.code = code;
    if (error)
        snprintf(r.error, sizeof r.error, "%s", error);
    r.up_to_date = up_to_date;
    r.rows = rows;
    r.values = values;
    obs->on_result(obs->ctx, &r);
}

/*
 * Decide the jobs: the requested symbols (normalised) or every symbol with
 * bars; a requested symbol without bars is reported as failed; an up-to-date
 * one as skipped.
 */
static enum quant_code plan(struct quant_workspace *ws, const struct quant_derive_request *req,
                            const char *kind, const char *kind_label,
                            const struct quant_derive_observer *obs, struct pipeline *pl,
                            struct quant_derive_summary *sum, struct quant_err *err)
{
    struct quant_series_store *store = quant_workspace_series(ws, NULL);
    struct quant_input_state *in = NULL;
    struct quant_derived_state *st = NULL;
    size_t nin = 0, nst = 0;
    char **names = NULL;
    size_t nn = 0;
    enum quant_code rc = quant_feature_store_inputs(store, &in, &nin, err);
    if (!rc)
        rc = quant_feature_store_states(store, kind, &st, &nst, err);
    if (rc)
        goto out;
    names = calloc((req->n_symbols ? req->n_symbols : nin) + 1, sizeof *names);
    pl->jobs = calloc((req->n_symbols ? req->n_symbols : nin) + 1, sizeof *pl->jobs);
    if (!names || !pl->jobs) {
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < (req->n_symbols ? req->n_symbols : nin); i++) {
        char sym[QUANT_SYMBOL_MAX + 1];
        const char *src = req->n_symbols ? req->symbols[i] : in[i].symbol;
        if (strlen(src) > QUANT_SYMBOL_MAX) {
            rc = quant_err_set(err, QUANT_EINVAL, "symbol '%.40s...' is too long", src);
            goto out;
        }
        snprintf(sym, sizeof sym, "%s", src);
        if ((rc = quant_symbol_normalize(sym, err)))
            goto out;
        if (!quant_shard_keeps(&req->shard, sym))
            continue;
        int dup = 0;
        for (size_t k = 0; k < nn; k++)
            dup |= strcmp(names[k], sym) == 0;
        if (dup)
            continue;
        if (!(names[nn] = strdup(sym))) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
            goto out;
        }
        nn++;
    }
    if (nn > 1)
        qsort(names, nn, sizeof *names, cmp_str);
    sum->n_symbols = nn;
    for (size_t i = 0; i < nn; i++) {
        const struct quant_input_state *input = find_input(in, nin, names[i]);
        if (!input) {
            char msg[160];
            snprintf(msg, sizeof msg, "no bars stored for %s: run `quant ingest --symbols %s` "
                                      "first", names[i], names[i]);
            sum->n_failed++;
            report(obs, names[i], kind_label, QUANT_ENOTFOUND, msg, 0, 0, 0);
            continue;
        }
        const struct quant_derived_state *prev = find_state(st, nst, names[i]);
        /* a materialised state serves a plain run too, not the other way round */
        if (!req->force && prev && strcmp(prev->fingerprint, input->fingerprint) == 0 &&
            (prev->materialized || !req->materialize)) {
            sum->n_up_to_date++;
            report(obs, names[i], kind_label, QUANT_OK, NULL, 1, prev->rows, prev->values);
            continue;
        }
        struct job *j = &pl->jobs[pl->n++];
        snprintf(j->symbol, sizeof j->symbol, "%s", names[i]);
        snprintf(j->fingerprint, sizeof j->fingerprint, "%s", input->fingerprint);
        quant_bars_init(&j->bars);
        pl->avg_rows += (size_t)input->bars; /* a total until the division below */
    }
    if (pl->n)
        pl->avg_rows = pl->avg_rows / pl->n + 1;
out:
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(in);
    free(st);
    return rc;
}

static enum quant_code read_bars(struct quant_workspace *ws, struct pipeline *pl, struct quant_err *err)
{
    if (pl->n == 0)
        return QUANT_OK;
    const char **want = malloc(pl->n * sizeof *want);
    if (!want)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < pl->n; i++)
        want[i] = pl->jobs[i].symbol;
    struct reader r = {pl, 0};
    enum quant_code rc = quant_series_store_scan_bars(quant_workspace_series(ws, NULL), want, pl->n,
                                                      take_bars, &r, err);
    free(want);
    for (size_t i = r.at; i < pl->n; i++)
        no_bars(&pl->jobs[i]);
    publish_ready(pl, pl->n); /* also on failure: workers must not wait forever */
    return rc;
}

/* ---- storing ---------------------------------------------------------------------- */

struct writer_arg {
    struct pipeline *pl;
    struct quant_feature_session *session;   /* this writer's own connection */
    double seconds;                          /* wall time spent writing */
};

/* Write jobs [from, to) in one transaction, then report them (under the lock). */
static void write_batch(struct writer_arg *wa, size_t from, size_t to)
{
    struct pipeline *pl = wa->pl;
    struct quant_derived_write items[WRITE_BATCH];
    struct job *which[WRITE_BATCH];
    size_t k = 0;
    for (size_t i = from; i < to; i++) {
        struct job *j = &pl->jobs[i];
        if (j->code)
            continue;
        items[k] = (struct quant_derived_write){j->symbol, j->adj.date, &j->m, j->fingerprint,
                                                0, 0, !pl->materialize};
        which[k++] = j;
    }
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = QUANT_OK;
    if (k) {
        double t0 = quant_clock_mono();
        rc = pl->set ? quant_feature_session_write(wa->session, pl->set, items, k, &err)
                     : quant_label_session_write(wa->session, pl->horizon, items, k, &err);
        wa->seconds += quant_clock_mono() - t0;
    }
    struct quant_derive_summary *sum = pl->sum;
    pthread_mutex_lock(&pl->lock);
    for (size_t i = from; i < to; i++) {
        struct job *j = &pl->jobs[i];
        if (j->code) {
            sum->n_failed++;
            report(pl->obs, j->symbol, pl->kind_label, j->code, j->error, 0, 0, 0);
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (rc) {
            sum->n_failed++;
            report(pl->obs, which[i]->symbol, pl->kind_label, rc, err.msg, 0, 0, 0);
            continue;
        }
        sum->n_written++;
        sum->rows += items[i].out_rows;
        sum->values += items[i].out_values;
        report(pl->obs, which[i]->symbol, pl->kind_label, QUANT_OK, NULL, 0, items[i].out_rows,
               items[i].out_values);
    }
    if (rc && !pl->rc) {
        pl->rc = rc;
        pl->err = err;
        pl->stop = 1; /* a store that fails once will fail again: stop early */
    }
    pthread_mutex_unlock(&pl->lock);
    for (size_t i = from; i < to; i++) {
        quant_feature_matrix_release(&pl->jobs[i].m);
        quant_adjusted_release(&pl->jobs[i].adj);
    }
    pthread_mutex_lock(&pl->lock);
    pl->in_flight -= to - from;
    pthread_cond_broadcast(&pl->changed);
    pthread_mutex_unlock(&pl->lock);
}

/*
 * A writer thread: claim the next batch in order, wait for its jobs (workers
 * finish out of order), write it on this writer's connection.  Two writers
 * let DuckDB build two transactions' rows at once, on both cores.
 */
static void *writer(void *arg)
{
    struct writer_arg *wa = arg;
    struct pipeline *pl = wa->pl;
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        if (pl->stop || pl->claim >= pl->n) {
            pthread_mutex_unlock(&pl->lock);
            break;
        }
        size_t from = pl->claim;
        size_t to = from + pl->batch < pl->n ? from + pl->batch : pl->n;
        pl->claim = to;
        for (size_t i = from; i < to && !pl->stop; i++)
            while (!pl->jobs[i].done && !pl->stop)
                pthread_cond_wait(&pl->changed, &pl->lock);
        int stopped = pl->stop;
        pthread_mutex_unlock(&pl->lock);
        if (stopped)
            break;
        write_batch(wa, from, to);
    }
    return NULL;
}

static enum quant_code run(struct quant_workspace *ws, const struct quant_derive_request *req,
                           const struct quant_feature_set *set, const char *kind,
                           const char *kind_label, const struct quant_derive_observer *obs,
                           struct quant_derive_summary *sum, struct quant_err *err)
{
    double t0 = quant_clock_mono();
    memset(sum, 0, sizeof *sum);
    struct pipeline pl;
    memset(&pl, 0, sizeof pl);
    pl.set = set;
    pl.horizon = req->horizon;
    pl.materialize = req->materialize;
    pthread_mutex_init(&pl.lock, NULL);
    pthread_cond_init(&pl.changed, NULL);

    enum quant_code rc = plan(ws, req, kind, kind_label, obs, &pl, sum, err);
    /* Size batches by cells from the symbols' bar counts (known from the plan). */
    size_t cells = (set ? quant_feature_set_size(set) : 2) *
                   (pl.n ? pl.avg_rows : 1);
    pl.batch = cells ? BATCH_CELLS / cells : WRITE_BATCH;
    if (pl.batch < 8)
        pl.batch = 8;
    if (pl.batch > WRITE_BATCH)
        pl.batch = WRITE_BATCH;
    int nthreads = req->threads > 0 ? req->threads : 2;
    if (nthreads > 8)
        nthreads = 8;
    pl.window = (size_t)(nthreads + 1) * pl.batch;
    pl.kind_label = kind_label;
    pl.obs = obs;
    pl.sum = sum;
    pthread_t tid[8], wid[8];
    struct writer_arg wa[8];
    memset(wa, 0, sizeof wa);
    int started = 0, writers = 0;
    /*
     * Bars are read before any thread starts.  Feeding the workers while the
     * scan runs was measured slower (tech-v1 on 500 x 6,500: 2.9-4.5 s against
     * 2.65 s): the scan and two writers contend inside DuckDB.
     */
    double tr = quant_clock_mono();
    if (!rc)
        rc = read_bars(ws, &pl, err);
    sum->seconds_read = quant_clock_mono() - tr;
    if (!rc && pl.n)
        rc = quant_feature_store_bulk(quant_workspace_series(ws, NULL), 1, err);
    /*
     * Writers: two let DuckDB build two transactions' rows at once, which
     * measured faster for narrow tables (tech-v1 on 500 x 6,500: 2.65 s against
     * 3.1 s with one) but slower for wide ones (alpha158: 45 s against 32-38 s,
     * the two transactions' 158-column row groups crowding the buffer pool).
     */
    int nwriters = (set && quant_feature_set_size(set) > 64) ? 1 : nthreads;
    for (int i = 0; !rc && i < nwriters && (size_t)i * pl.batch < pl.n; i++) {
        wa[i].pl = &pl;
        if ((rc = quant_feature_session_open(quant_workspace_series(ws, NULL), &wa[i].session, err)))
            break;
        if (pthread_create(&wid[writers], NULL, writer, &wa[i]) != 0) {
            quant_feature_session_close(wa[i].session);
            wa[i].session = NULL;
            break;
        }
        writers++;
    }
    for (int i = 0; !rc && i < nthreads && (size_t)i < pl.n; i++)
        if (pthread_create(&tid[started], NULL, worker, &pl) == 0)
            started++;
    if (!rc && pl.n && (!started || !writers))
        rc = quant_err_set(err, QUANT_EINTERNAL, "cannot start compute or writer threads");
    if (rc)
        publish_ready(&pl, pl.n);
    if (rc) {
        pthread_mutex_lock(&pl.lock);
        pl.stop = 1;
        pthread_cond_broadcast(&pl.changed);
        pthread_mutex_unlock(&pl.lock);
    }
    for (int i = 0; i < writers; i++)
        pthread_join(wid[i], NULL);
    pthread_mutex_lock(&pl.lock);
    pl.stop = 1;
    pthread_cond_broadcast(&pl.changed);
    pthread_mutex_unlock(&pl.lock);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; i < nthreads; i++) {
        sum->seconds_store += wa[i].seconds;
        quant_feature_session_close(wa[i].session);
    }
    if (pl.n) {
        struct quant_err ignore;
        quant_feature_store_bulk(quant_workspace_series(ws, NULL), 0, &ignore);
    }
    if (!rc && pl.rc) {
        rc = pl.rc;
        *err = pl.err;
    }
    sum->seconds_compute = pl.cpu;
    for (size_t i = 0; i < pl.n; i++) { /* whatever an early stop left behind */
        quant_bars_release(&pl.jobs[i].bars);
        quant_adjusted_release(&pl.jobs[i].adj);
        quant_feature_matrix_release(&pl.jobs[i].m);
    }
    free(pl.jobs);
    pthread_cond_destroy(&pl.changed);
    pthread_mutex_destroy(&pl.lock);
    sum->seconds = quant_clock_mono() - t0;
    return rc;
}

enum quant_code quant_derive_features(struct quant_workspace *ws, const struct quant_derive_request *req,
                                      const struct quant_derive_observer *obs,
                                      struct quant_derive_summary *summary,
                                      struct quant_err *err)
{
    if (!req->set)
        return quant_err_set(err, QUANT_EINVAL, "no feature set given");
    const char *name = quant_feature_set_name(req->set);
    return run(ws, req, req->set, name, name, obs, summary, err);
}

enum quant_code quant_derive_labels(struct quant_workspace *ws, const struct quant_derive_request *req,
                                    const struct quant_derive_observer *obs,
                                    struct quant_derive_summary *summary,
                                    struct quant_err *err)
{
    if (req->horizon < QUANT_LABEL_HORIZON_MIN || req->horizon > QUANT_LABEL_HORIZON_MAX)
        return quant_err_set(err, QUANT_EINVAL, "horizon %d is out of range: use %d to %d",
                             req->horizon, QUANT_LABEL_HORIZON_MIN, QUANT_LABEL_HORIZON_MAX);
    char kind[32];
    snprintf(kind, sizeof kind, "labels:h%d", req->horizon);
    return run(ws, req, NULL, kind, "labels", obs, summary, err);
}
