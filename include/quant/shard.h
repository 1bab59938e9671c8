/*
 * shard.h: a stable partition of symbols for sharded runs.
 *
 * `quant ingest|features|labels|train|score --shard i/n` works on the
 * symbols of shard i (0-based) of n, so n processes (a Slurm array, a
 * Kubernetes Indexed Job) share a universe without talking to each other.
 *
 * A symbol's shard is FNV-1a (32 bits) over its bytes as quant stores them
 * (upper-case), modulo n.  That function is part of quant's contract: it
 * never changes between versions (tests pin its values), so a symbol lands in
 * the same shard in every run and every release, whatever other symbols
 * exist: a shard's outputs can be re-run alone and replace what it wrote.
 * A hash of the platform's (C++'s std::hash, Python's hash()) would not be.
 */
#ifndef QUANT_SHARD_H
#define QUANT_SHARD_H

#include "quant/error.h"

#define QUANT_SHARD_COUNT_MAX 100000

struct quant_shard {
    int index;   /* 0 .. count-1 */
    int count;   /* 0: not sharded (every symbol) */
};

/* The shard of symbol among count (count >= 1). */
int quant_shard_of(const char *symbol, int count);

/* 1 when the shard takes symbol (always, when not sharded). */
int quant_shard_keeps(const struct quant_shard *s, const char *symbol);

/* "i/n" (0 <= i < n <= QUANT_SHARD_COUNT_MAX).  QUANT_EINVAL saying what is wrong. */
enum quant_code quant_shard_parse(const char *text, struct quant_shard *out,
                                  struct quant_err *err);

/*
 * The shard a scheduler gave this process, from its environment:
 *   Slurm job arrays: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT tasks
 *     (less SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP, when set:
 *     --array=1-3 gives shards 0, 1, 2 of 3);
 *   Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, of count_text shards
 *     (Kubernetes does not export the count: --shard-count N or
 *     QUANT_SHARD_COUNT gives it; without one the index is an error).
 * count_text may be NULL.  out->count is 0 when no scheduler variable is set.
 * source (may be NULL) gets the variable used, for the user to see.
 */
enum quant_code quant_shard_from_env(const char *count_text, struct quant_shard *out,
                                     char source[64], struct quant_err *err);

#endif
