/*
 * av_fixture.h: a scratch QUANT_HOME plus a loopback Alpha Vantage, for tests
 * that run the real quant binary against recorded (or deliberately broken)
 * API answers.  Use as a cmocka setup/teardown pair:
 *
 *     cmocka_unit_test_setup_teardown(test_x, tu_av_setup, tu_av_teardown)
 *
 * and in the test `struct tu_av_fixture *f = *state;`.  f->env is the child
 * environment (NULL-terminated): QUANT_HOME, the server's URL, the API key
 * TU_AV_KEY, no client-side rate limit, 10 ms backoff and a 2 s timeout.
 * tu_av_setenv() replaces or adds an entry (quant reads the first of equal
 * names, so a second entry would not override).  Teardown stops the server
 * and removes the folder.
 */
#ifndef QUANT_TEST_AV_FIXTURE_H
#define QUANT_TEST_AV_FIXTURE_H

#include "test_util.h"

#include "loopback_server.h"

/* Distinctive, so a test can grep every output and file for it. */
#define TU_AV_KEY "TESTKEY0123456789SECRET"

#define TU_AV_ENV_MAX 15

struct tu_av_fixture {
    char home[PATH_MAX];              /* the scratch QUANT_HOME */
    struct lb_server *lb;             /* the loopback Alpha Vantage */
    char env_home[PATH_MAX + 16];     /* "QUANT_HOME=..." */
    char env_url[256];                /* "QUANT_ALPHAVANTAGE_URL=..." */
    const char *env[TU_AV_ENV_MAX + 1]; /* NULL-terminated; entries not owned */
};

int tu_av_setup(void **state);
int tu_av_teardown(void **state);

/* Replace the entry named like entry ("NAME=value"), or add it.  entry is not
 * copied: pass a literal or storage that outlives the fixture's use. */
void tu_av_setenv(struct tu_av_fixture *f, const char *entry);

/* Serve the shared-data file rel (e.g. "alphavantage/....json") with status
 * 200 on requests matching match (fails the test when it cannot be read). */
void tu_av_serve(struct tu_av_fixture *f, const char *match, const char *rel);

#endif
