/*
 * ml_pool.c: worker threads with an ordered ring of jobs (see ml_pool.h).
 *
 * The ring holds sequence numbers [head, tail): `next` is the oldest not yet
 * started, head the oldest not yet taken.  Workers start jobs in order and
 * the caller takes them in order, so a slow job holds back the reporting of
 * the jobs after it, never their running.  One lock and one condition
 * variable: the pool is woken a few times per model (seconds of work), so a
 * broadcast that wakes everyone costs nothing worth splitting it for.
 */
#include "services/ml_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/banned.h"

struct slot {
    void *job;
    int done;
};

struct quant_ml_pool {
    quant_ml_pool_fn run;
    struct slot *ring;
    size_t capacity;
    size_t head, next, tail;    /* sequence numbers; slot = seq % capacity */
    int stopping;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t tid[64];
    int started;
};

static void *worker(void *arg)
{
    struct quant_ml_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->next < p->tail) {
            struct slot *s = &p->ring[p->next++ % p->capacity];
            pthread_mutex_unlock(&p->lock);
            p->run(s->job);
            pthread_mutex_lock(&p->lock);
            s->done = 1;
            pthread_cond_broadcast(&p->changed);
            continue;
        }
        if (p->stopping)
            break;
        pthread_cond_wait(&p->changed, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

enum quant_code quant_ml_pool_start(int workers, size_t capacity, quant_ml_pool_fn run,
                                    struct quant_ml_pool **out, struct quant_err *err)
{
    *out = NULL;
    if (workers < 1 || workers > 64 || capacity < (size_t)workers || !run)
        return quant_err_set(err, QUANT_EINVAL, "training pool: %d workers for %zu jobs",
                             workers, capacity);
    struct quant_ml_pool *p = calloc(1, sizeof *p);
    struct slot *ring = calloc(capacity, sizeof *ring);
    if (!p || !ring) {
        free(p);
        free(ring);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory starting the training pool");
    }
    p->run = run;
    p->ring = ring;
    p->capacity = capacity;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    for (; p->started < workers; p->started++)
        if (pthread_create(&p->tid[p->started], NULL, worker, p) != 0)
            break;
    /* Fewer workers than asked still finish every job, only later. */
    if (p->started == 0) {
        quant_ml_pool_stop(p);
        return quant_err_set(err, QUANT_ENOMEM, "could not start a training thread");
    }
    *out = p;
    return QUANT_OK;
}

int quant_ml_pool_full(const struct quant_ml_pool *p)
{
    /* head and tail only move on the caller's thread, which is this one. */
    return p->tail - p->head >= p->capacity;
}

void quant_ml_pool_submit(struct quant_ml_pool *p, void *job)
{
    pthread_mutex_lock(&p->lock);
    struct slot *s = &p->ring[p->tail % p->capacity];
    s->job = job;
    s->done = 0;
    p->tail++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void *quant_ml_pool_take(struct quant_ml_pool *p, int wait)
{
    void *job = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->head < p->tail) {
        struct slot *s = &p->ring[p->head % p->capacity];
        while (wait && !s->done)
            pthread_cond_wait(&p->changed, &p->lock);
        if (s->done) {
            job = s->job;
            s->job = NULL;
            p->head++;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return job;
}

void quant_ml_pool_stop(struct quant_ml_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p->ring);
    free(p);
}
