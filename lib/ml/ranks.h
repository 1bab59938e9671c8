/*
 * ranks.h: quant's own channel between the ranks of a pooled training
 * across machines, beside LightGBM's links.  Not public.
 *
 * Why quant needs one: LightGBM 4.1's socket setup has no working time-out
 * on Linux (its SO_RCVTIMEO is set with an int, which Linux refuses; fixed
 * upstream only in 2026).  Measured with LGBM_NetworkInit and time_out=1
 * (minute) on 127.0.0.1: a lone rank 1 was still in accept() when killed
 * after 100 s, and a lone rank 0 retried connecting for 125 s and then
 * returned success without any link to rank 1, for the first collective to
 * trip over.  And LightGBM never sums metrics across machines: each rank
 * evaluates its own valid rows, so early stopping decided per rank would stop
 * ranks at different rounds and leave the others waiting in a collective.  So before LightGBM's network starts, the ranks meet here,
 * in bounded time, and agree on what they train; during training they sum
 * their valid losses here each round; afterwards rank 0 gathers what it needs
 * to register the model (test rows, symbols).
 *
 * Shape: a star around rank 0, which listens on its listed host at port + 1
 * (its listed port is LightGBM's); every other rank connects to it.  Every
 * wait (connect, accept, read, write) ends at the time-out with QUANT_ETIMEOUT
 * saying which rank is missing and what to do.
 *
 * Ownership: quant_ranks_meet allocates *out; quant_ranks_close frees it
 * (NULL is fine).  One thread uses a channel at a time.
 */
#ifndef QUANT_ML_RANKS_H
#define QUANT_ML_RANKS_H

#include <stddef.h>
#include <stdint.h>

#include "quant/error.h"
#include "quant/machines.h"

struct quant_ranks;

/*
 * Meet the other ranks of m within timeout_s seconds.  key: a hash of what
 * every rank must agree on (options, symbols, machine list); rows: this
 * rank's training rows (a rank with none would leave LightGBM waiting).
 * Rank 0 checks every rank's key and rows and sends the verdict to all, so
 * every rank fails with the same message (QUANT_EINVAL) when one disagrees.
 */
enum quant_code quant_ranks_meet(const struct quant_machines *m, int rank, int timeout_s,
                                 uint64_t key, uint64_t rows, struct quant_ranks **out,
                                 struct quant_err *err);

int quant_ranks_rank(const struct quant_ranks *r);
int quant_ranks_count(const struct quant_ranks *r);

/* Sum v[0..n) over every rank: on return every rank holds the same sums
 * (added in rank order, so they are equal bit for bit). */
enum quant_code quant_ranks_sum(struct quant_ranks *r, double *v, size_t n,
                                struct quant_err *err);

/*
 * Every rank sends buf[0..len); on rank 0 *out_bufs[k] / (*out_lens)[k] are
 * rank k's bytes (malloc'd, rank 0's own copied; free with
 * quant_ranks_gathered_free).  Other ranks get NULL.
 */
enum quant_code quant_ranks_gather(struct quant_ranks *r, const void *buf, size_t len,
                                   void ***out_bufs, size_t **out_lens, struct quant_err *err);
void quant_ranks_gathered_free(void **bufs, size_t *lens, int n);

/*
 * Watch the links from a thread of its own while LightGBM trains: a rank
 * that dies there can leave the others blocked inside LightGBM's
 * collectives, which have no time-out and cannot be interrupted (a killed
 * process's reset is seen by LightGBM too; a closed link without one, or a
 * host that vanished, is not: the links get TCP keepalive for that).  When a link closes with
 * nothing left unread (a rank that ends normally has sent its share first),
 * lost(ctx, why) is called on the watch thread, once; the caller can do
 * nothing but end the process (the CLI prints why and exits).  Unwatch
 * before quant_ranks_gather (after it a rank closes its links) and before
 * close.  Non-zero when the thread cannot start (training goes on unwatched).
 */
int quant_ranks_watch(struct quant_ranks *r, void (*lost)(void *ctx, const char *why),
                      void *ctx);
void quant_ranks_unwatch(struct quant_ranks *r);

void quant_ranks_close(struct quant_ranks *r);

#endif
