/*
 * test_ml_pool.c: the training pool (services/ml_pool.h) with real threads.
 * Jobs come back in the order they went in even when the first one is the
 * last to finish, every job runs exactly once, the pool is full at its
 * capacity and never holds more, and more workers really run at once
 * (checked by a job that waits for another to start, not by timing).
 */
#include "test_util.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "services/ml_pool.h"

struct job {
    int id;
    int runs;                  /* how many times a worker ran it */
    pthread_t thread;          /* the worker that ran it */
};

/* Job 0 waits until job 1 has run, so with two workers job 0 finishes last;
 * with one worker that would never end, so only the two-worker test uses it. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int job1_done;

static void run_gated(void *p)
{
    struct job *j = p;
    j->thread = pthread_self();
    if (j->id == 0) {
        pthread_mutex_lock(&gate_lock);
        while (!job1_done)
            pthread_cond_wait(&gate_cond, &gate_lock);
        pthread_mutex_unlock(&gate_lock);
    }
    if (j->id == 1) {
        j->runs++; /* before job 0 can go on, so its taker sees it */
        pthread_mutex_lock(&gate_lock);
        job1_done = 1;
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
        return;
    }
    j->runs++;
}

static void run_plain(void *p)
{
    struct job *j = p;
    j->thread = pthread_self();
    /* uneven work, so later jobs often finish before earlier ones */
    usleep((useconds_t)((j->id * 37) % 5) * 200);
    j->runs++;
}

static void test_order_kept_when_first_finishes_last(void **state)
{
    (void)state;
    struct quant_ml_pool *p = NULL;
    struct quant_err err;
    job1_done = 0;
    assert_int_equal(quant_ml_pool_start(2, 4, run_gated, &p, &err), QUANT_OK);
    struct job jobs[4];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 4; i++) {
        jobs[i].id = i;
        assert_false(quant_ml_pool_full(p));
        quant_ml_pool_submit(p, &jobs[i]);
    }
    assert_true(quant_ml_pool_full(p));
    /* job 1 ran on the other worker while job 0 waited for it: two at once */
    struct job *first = quant_ml_pool_take(p, 1);
    assert_ptr_equal(first, &jobs[0]);
    assert_int_equal(jobs[1].runs, 1);
    assert_false(pthread_equal(jobs[0].thread, jobs[1].thread));
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(quant_ml_pool_take(p, 1), &jobs[i]);
    assert_null(quant_ml_pool_take(p, 1)); /* empty: NULL, not a wait */
    quant_ml_pool_stop(p);
    for (int i = 0; i < 4; i++)
        assert_int_equal(jobs[i].runs, 1);
}

/* Many jobs through a small ring, taken as the caller (ml.c) takes them:
 * one whenever the pool is full, the finished ones after each submit. */
static void test_many_jobs_bounded_and_ordered(void **state)
{
    (void)state;
    enum { N = 200 };
    static struct job jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int workers = 1; workers <= 3; workers++) {
        struct quant_ml_pool *p = NULL;
        struct quant_err err;
        size_t cap = 2 * (size_t)workers;
        assert_int_equal(quant_ml_pool_start(workers, cap, run_plain, &p, &err), QUANT_OK);
        int next_out = 0, in_pool = 0;
        for (int i = 0; i < N; i++) {
            jobs[i].id = i;
            jobs[i].runs = 0;
            while (quant_ml_pool_full(p)) {
                assert_int_equal(in_pool, (int)cap);
                struct job *j = quant_ml_pool_take(p, 1);
                assert_ptr_equal(j, &jobs[next_out++]);
                in_pool--;
            }
            quant_ml_pool_submit(p, &jobs[i]);
            in_pool++;
            assert_true(in_pool <= (int)cap);
            struct job *j;
            while ((j = quant_ml_pool_take(p, 0)) != NULL) {
                assert_ptr_equal(j, &jobs[next_out++]);
                in_pool--;
            }
        }
        struct job *j;
        while ((j = quant_ml_pool_take(p, 1)) != NULL)
            assert_ptr_equal(j, &jobs[next_out++]);
        assert_int_equal(next_out, N);
        quant_ml_pool_stop(p);
        for (int i = 0; i < N; i++)
            assert_int_equal(jobs[i].runs, 1);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct quant_ml_pool *p = (struct quant_ml_pool *)&p;
    struct quant_err err;
    assert_int_equal(quant_ml_pool_start(0, 4, run_plain, &p, &err), QUANT_EINVAL);
    assert_null(p);
    assert_int_equal(quant_ml_pool_start(4, 3, run_plain, &p, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "4 workers for 3 jobs"));
    assert_int_equal(quant_ml_pool_start(65, 100, run_plain, &p, &err), QUANT_EINVAL);
    quant_ml_pool_stop(NULL); /* allowed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_kept_when_first_finishes_last),
        cmocka_unit_test(test_many_jobs_bounded_and_ordered),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
