/*
 * lock_holder.h: another process holding a DuckDB store's write lock, for
 * tests of what quant does while a writer is busy.  The test binary re-runs
 * itself with --hold-lock (a fork without exec is unsafe once DuckDB has
 * started its threads), so every test main() starts with
 *
 *     int rc = tu_lock_holder_main(argc, argv);
 *     if (rc >= 0)
 *         return rc;
 */
#ifndef QUANT_TEST_LOCK_HOLDER_H
#define QUANT_TEST_LOCK_HOLDER_H

#include <sys/types.h>

/* -1 when argv is not the --hold-lock mode; else the holder's exit code. */
int tu_lock_holder_main(int argc, char **argv);

/* Start a holder of db_path's lock for ms milliseconds; returns once it
 * holds the lock (fails the test otherwise).  Reap it with tu_wait(). */
pid_t tu_spawn_lock_holder(const char *db_path, long ms);

#endif
