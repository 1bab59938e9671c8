/*
 * ml_pool.h: a small pool of worker threads for `quant train` (ml.c): jobs
 * go in in one order and come back out in the same order, whatever order
 * the workers finish them in, so what the caller reports stays
 * deterministic.  Internal to the library.
 *
 * Ownership: the pool never allocates, frees or looks into a job; it holds
 * the caller's pointer from quant_ml_pool_submit until quant_ml_pool_take
 * hands it back.  Only the thread that created the pool submits and takes.
 */
#ifndef QUANT_ML_POOL_H
#define QUANT_ML_POOL_H

#include <stddef.h>

#include "quant/error.h"

struct quant_ml_pool;

/* What a worker does with a job; it runs without the pool's lock. */
typedef void (*quant_ml_pool_fn)(void *job);

/*
 * Start `workers` threads (1..64) that run `run` on each submitted job; at
 * most `capacity` jobs (>= workers) are in the pool at once, running, queued
 * or finished and not yet taken.  On failure nothing is left running.
 */
enum quant_code quant_ml_pool_start(int workers, size_t capacity, quant_ml_pool_fn run,
                                    struct quant_ml_pool **out, struct quant_err *err);

/* 1 when the pool holds `capacity` jobs: take one before submitting. */
int quant_ml_pool_full(const struct quant_ml_pool *p);

/* Queue a job (the pool must not be full). */
void quant_ml_pool_submit(struct quant_ml_pool *p, void *job);

/*
 * The oldest job submitted and not yet taken, once a worker has run it;
 * with wait = 0, NULL when it is still queued or running.  NULL when the
 * pool holds no job.
 */
void *quant_ml_pool_take(struct quant_ml_pool *p, int wait);

/* Join the workers and free the pool.  Take every job first: the pool does
 * not know how to free them.  NULL is allowed. */
void quant_ml_pool_stop(struct quant_ml_pool *p);

#endif
