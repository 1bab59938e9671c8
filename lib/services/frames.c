/*
 * frames.c: features and labels computed on read (see frames.h).
 *
 * The calling thread runs the scan of the bars and, between symbols, hands
 * finished frames to the caller; worker threads adjust and compute.  Jobs
 * sit in a ring of WINDOW slots: the scan fills the slot after the newest,
 * the caller is served from the oldest, so frames come out in scan (symbol)
 * order whatever order the workers finish in, and a full ring makes the scan
 * wait for the caller (a slow trainer holds back the reading, not memory).
 */
#include "services/frames.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

enum slot_state { SLOT_EMPTY, SLOT_PENDING, SLOT_RUNNING, SLOT_DONE };

struct slot {
    enum slot_state state;
    struct quant_bars bars;
    struct quant_adjusted adj;
    struct quant_feature_matrix features, labels;
    struct quant_training_frame frame;
    enum quant_code code;
    char error[QUANT_ERR_MSG_MAX];
};

/* Two slots per worker keep every worker busy while the caller consumes one. */
#define WINDOW_PER_THREAD 2

struct frames {
    const struct quant_frames_request *req;
    quant_frames_cb cb;
    void *ctx;
    struct slot *slots;
    size_t window;
    size_t head;        /* sequence number of the oldest slot not yet delivered */
    size_t tail;        /* sequence number the next scanned symbol gets */
    int scan_done;      /* no more jobs will come */
    int stop;           /* the caller asked to stop */
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static void compute(const struct quant_frames_request *req, struct slot *s)
{
    struct quant_err err;
    quant_err_clear(&err);
    enum quant_code rc = quant_adjusted_compute(&s->bars, &s->adj, &err);
    if (!rc && req->set)
        rc = quant_features_compute(req->set, &s->adj, &s->features, &err);
    else if (!rc)
        rc = quant_feature_matrix_reserve(&s->features, 0, s->adj.n, &err);
    if (!rc && req->horizon > 0)
        rc = quant_labels_compute(&s->adj, req->horizon, &s->labels, &err);
    else if (!rc)
        rc = quant_feature_matrix_reserve(&s->labels, 0, s->adj.n, &err);
    s->code = rc;
    if (rc)
        snprintf(s->error, sizeof s->error, "%s: %s", s->bars.symbol, err.msg);
    /* The frame borrows the slot's arrays; nothing is copied. */
    s->frame.n = s->adj.n;
    s->frame.dates = s->adj.date;
    s->frame.close = s->adj.close;
    s->frame.features = s->features;
    s->frame.labels = s->labels;
}

static void *worker(void *arg)
{
    struct frames *fr = arg;
    pthread_mutex_lock(&fr->lock);
    for (;;) {
        struct slot *job = NULL;
        for (size_t q = fr->head; q < fr->tail && !job; q++)
            if (fr->slots[q % fr->window].state == SLOT_PENDING)
                job = &fr->slots[q % fr->window];
        if (job) {
            job->state = SLOT_RUNNING;
            pthread_mutex_unlock(&fr->lock);
            compute(fr->req, job);
            pthread_mutex_lock(&fr->lock);
            job->state = SLOT_DONE;
            pthread_cond_broadcast(&fr->changed);
            continue;
        }
        if (fr->scan_done || fr->stop)
            break;
        pthread_cond_wait(&fr->changed, &fr->lock);
    }
    pthread_mutex_unlock(&fr->lock);
    return NULL;
}

/*
 * Deliver the oldest slot, waiting for it when `wait`; returns 0 when nothing
 * was delivered.  Called with the lock held; the callback runs without it.
 */
static int deliver_oldest(struct frames *fr, int wait)
{
    if (fr->head == fr->tail)
        return 0;
    struct slot *s = &fr->slots[fr->head % fr->window];
    while (wait && s->state != SLOT_DONE)
        pthread_cond_wait(&fr->changed, &fr->lock);
    if (s->state != SLOT_DONE)
        return 0;
    pthread_mutex_unlock(&fr->lock);
    if (!fr->stop) {
        struct quant_frame_item item = {
            .symbol = s->bars.symbol,
            .frame = s->code ? NULL : &s->frame,
            .code = s->code,
            .error = s->code ? s->error : NULL,
        };
        if (fr->cb(fr->ctx, &item))
            fr->stop = 1;
    }
    pthread_mutex_lock(&fr->lock);
    s->state = SLOT_EMPTY;
    fr->head++;
    pthread_cond_broadcast(&fr->changed);
    return 1;
}

/* The scan's callback: queue one symbol's bars (taken from the scan, not copied). */
static int take_bars(void *ctx, struct quant_bars *bars)
{
    struct frames *fr = ctx;
    pthread_mutex_lock(&fr->lock);
    while (!fr->stop && fr->tail - fr->head >= fr->window)
        deliver_oldest(fr, 1);
    if (fr->stop) {
        pthread_mutex_unlock(&fr->lock);
        return 1;
    }
    struct slot *s = &fr->slots[fr->tail % fr->window];
    pthread_mutex_unlock(&fr->lock);
    /* The slot is EMPTY, so no worker touches it until it is PENDING. */
    struct quant_bars t = s->bars;
    s->bars = *bars;
    *bars = t;
    pthread_mutex_lock(&fr->lock);
    s->state = SLOT_PENDING;
    fr->tail++;
    pthread_cond_broadcast(&fr->changed);
    while (deliver_oldest(fr, 0))
        ;
    int stop = fr->stop;
    pthread_mutex_unlock(&fr->lock);
    return stop;
}

enum quant_code quant_frames_scan(struct quant_series_store *store,
                                  const struct quant_frames_request *req, quant_frames_cb cb,
                                  void *ctx, struct quant_err *err)
{
    struct frames fr;
    memset(&fr, 0, sizeof fr);
    fr.req = req;
    fr.cb = cb;
    fr.ctx = ctx;
    int threads = req->threads > 0 ? req->threads : 2;
    if (threads > 64)
        threads = 64;
    fr.window = (size_t)threads * WINDOW_PER_THREAD + 1;
    fr.slots = calloc(fr.window, sizeof *fr.slots);
    if (!fr.slots)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < fr.window; i++)
        quant_bars_init(&fr.slots[i].bars);
    pthread_mutex_init(&fr.lock, NULL);
    pthread_cond_init(&fr.changed, NULL);
    pthread_t tid[64];
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &fr) != 0)
            break;
    enum quant_code rc = QUANT_OK;
    if (started == 0)
        rc = quant_err_set(err, QUANT_ENOMEM, "could not start a compute thread");
    if (!rc)
        rc = quant_series_store_scan_bars(store, req->want, req->n_want, take_bars, &fr, err);
    pthread_mutex_lock(&fr.lock);
    fr.scan_done = 1;
    if (rc)
        fr.stop = 1;
    pthread_cond_broadcast(&fr.changed);
    while (deliver_oldest(&fr, 1))
        ;
    pthread_mutex_unlock(&fr.lock);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (size_t i = 0; i < fr.window; i++) {
        quant_bars_release(&fr.slots[i].bars);
        quant_adjusted_release(&fr.slots[i].adj);
        quant_feature_matrix_release(&fr.slots[i].features);
        quant_feature_matrix_release(&fr.slots[i].labels);
    }
    free(fr.slots);
    pthread_cond_destroy(&fr.changed);
    pthread_mutex_destroy(&fr.lock);
    return rc;
}
