/*
 * pg_cluster.h: a throwaway PostgreSQL cluster for the tests of the
 * PostgreSQL metadata store: initdb into a temporary folder, a server on
 * 127.0.0.1 on a free port (trust authentication, a `quant` superuser),
 * then stopped and deleted.
 *
 * initdb refuses to run as root, so as root the cluster belongs to the
 * `postgres` user (initdb and pg_ctl run through runuser).  The binaries
 * come from $QUANT_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin,
 * else PATH.
 *
 * Cleanup does not depend on the test ending well: a guard process (its own
 * session, so a signal to the test's process group spares it) waits on a
 * pipe from the test, and when the test closes it, exits or crashes, stops
 * the server and deletes the folder.
 *
 * Ownership: tu_pg_start fills a caller-owned struct; tu_pg_stop undoes it.
 */
#ifndef QUANT_TEST_PG_CLUSTER_H
#define QUANT_TEST_PG_CLUSTER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct tu_pg {
    char dir[PATH_MAX];     /* the temporary folder (data/, the socket, logs) */
    char bindir[PATH_MAX];
    int port;
    pid_t guard;
    int guard_fd;           /* write end of the guard's pipe; -1 when stopped */
};

/*
 * Start a cluster.  0: running.  1: PostgreSQL is not installed or cannot
 * run here; `why` says why (the caller skips, or fails under CI).  -1: it
 * should have worked and did not; `why` has the details (and the log).
 */
int tu_pg_start(struct tu_pg *pg, char *why, size_t n);

/* Create a fresh, empty database and write its URL (postgresql://...) to url.
 * 0 on success; otherwise `url` holds the error. */
int tu_pg_create_db(struct tu_pg *pg, const char *name, char *url, size_t n);

/* Stop the server and delete the folder (waits for the guard to finish). */
void tu_pg_stop(struct tu_pg *pg);

/*
 * What a test binary's main does with tu_pg_start's answer: print the
 * reason and return the exit code (77 = skipped for ctest's
 * SKIP_RETURN_CODE; 1 under CI=true, where PostgreSQL must be there, or when
 * starting failed), or -1 when the cluster runs.
 */
int tu_pg_start_or_skip(struct tu_pg *pg, const char *test_name);

#endif
