/*
 * machines.h: the machine list of a pooled training across machines
 * (`quant train --pooled --machines host:port,host:port --rank i`), parsed
 * and checked before anything connects anywhere.
 *
 * Only explicit IPv4 addresses are accepted (127.0.0.1, 10.0.0.5): never a
 * name to resolve, never 0.0.0.0, broadcast or multicast.  LightGBM's socket
 * code reads the host with inet_pton(AF_INET) and would turn a host name into
 * 0.0.0.0 without a word, so a name is refused here with what to write.
 *
 * Each rank uses its listed port for LightGBM's own links; rank 0 also
 * listens on its port + 1 for quant's channel (the meeting of the ranks, the
 * per-round early-stopping sums, the test rows gathered for the metrics), so
 * that port must not be another rank's on the same host.
 */
#ifndef QUANT_MACHINES_H
#define QUANT_MACHINES_H

#include <stddef.h>

#include "quant/error.h"

#define QUANT_MACHINES_MAX 64
#define QUANT_MACHINES_TIMEOUT_DEFAULT 300   /* seconds a rank waits for the others */

struct quant_machine {
    char host[16];    /* dotted IPv4 */
    int port;         /* 1..65534 (rank 0 also uses port + 1) */
};

struct quant_machines {
    struct quant_machine m[QUANT_MACHINES_MAX];
    size_t n;
};

/*
 * Parse "host:port,host:port" (commas or new lines between entries; blank
 * lines and lines starting with '#' are skipped, so a machine list file can
 * be passed as it is).  QUANT_EINVAL naming the bad entry and what to write:
 * not host:port, a host that is not an IPv4 address, a port out of range, an
 * entry given twice, rank 0's port + 1 taken by another rank on its host,
 * fewer than 2 or more than QUANT_MACHINES_MAX entries.
 */
enum quant_code quant_machines_parse(const char *text, struct quant_machines *out,
                                     struct quant_err *err);

/* "host:port,host:port" (LightGBM's `machines` param) into out; 0, or -1 when
 * it does not fit. */
int quant_machines_format(const struct quant_machines *m, char *out, size_t outsz);

#endif
