/* shard.c: the stable symbol partition of sharded runs (shard.h). */
#include "quant/shard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

int quant_shard_of(const char *symbol, int count)
{
    /* FNV-1a, 32 bits: offset basis 2166136261, prime 16777619 (never change). */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)symbol; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return count > 0 ? (int)(h % (uint32_t)count) : 0;
}

int quant_shard_keeps(const struct quant_shard *s, const char *symbol)
{
    return !s || s->count <= 0 || quant_shard_of(symbol, s->count) == s->index;
}

/* A whole number lo..hi filling all of s: 0, or -1. */
static int whole(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi || (s[0] == '0' && s[1]) || s[0] == '+' || s[0] == '-' ||
        s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

enum quant_code quant_shard_parse(const char *text, struct quant_shard *out,
                                  struct quant_err *err)
{
    out->index = out->count = 0;
    const char *slash = text ? strchr(text, '/') : NULL;
    char idx[16];
    long i, n;
    if (!slash || (size_t)(slash - text) >= sizeof idx)
        return quant_err_set(err, QUANT_EINVAL,
                             "--shard takes i/n, the shard (from 0) and how many: 0/4, not '%.40s'",
                             text ? text : "");
    snprintf(idx, sizeof idx, "%.*s", (int)(slash - text), text);
    if (whole(slash + 1, 1, QUANT_SHARD_COUNT_MAX, &n) || whole(idx, 0, QUANT_SHARD_COUNT_MAX, &i))
        return quant_err_set(err, QUANT_EINVAL,
                             "--shard takes i/n with n from 1 to %d and i from 0, not '%.40s'",
                             QUANT_SHARD_COUNT_MAX, text);
    if (i >= n)
        return quant_err_set(err, QUANT_EINVAL,
                             "--shard %ld/%ld: shards are numbered from 0, so the last of %ld is "
                             "%ld/%ld",
                             i, n, n, n - 1, n);
    out->index = (int)i;
    out->count = (int)n;
    return QUANT_OK;
}

static enum quant_code env_number(const char *name, long lo, long *out, int *present,
                                  struct quant_err *err)
{
    const char *v = getenv(name);
    *present = v && *v;
    if (!*present)
        return QUANT_OK;
    if (whole(v, lo, 100000000L, out))
        return quant_err_set(err, QUANT_EINVAL, "%s is '%.40s', not a whole number from %ld",
                             name, v, lo);
    return QUANT_OK;
}

enum quant_code quant_shard_from_env(const char *count_text, struct quant_shard *out,
                                     char source[64], struct quant_err *err)
{
    out->index = out->count = 0;
    if (source)
        source[0] = '\0';
    long id, count, min = 0, step = 1, k8s, n;
    int has_id, has_count, has_min, has_step, has_k8s, has_n = 0;
    enum quant_code rc = env_number("SLURM_ARRAY_TASK_ID", 0, &id, &has_id, err);
    if (!rc)
        rc = env_number("SLURM_ARRAY_TASK_COUNT", 1, &count, &has_count, err);
    if (!rc)
        rc = env_number("SLURM_ARRAY_TASK_MIN", 0, &min, &has_min, err);
    if (!rc)
        rc = env_number("SLURM_ARRAY_TASK_STEP", 1, &step, &has_step, err);
    if (!rc)
        rc = env_number("JOB_COMPLETION_INDEX", 0, &k8s, &has_k8s, err);
    if (rc)
        return rc;
    if (count_text && *count_text) {
        if (whole(count_text, 1, QUANT_SHARD_COUNT_MAX, &n))
            return quant_err_set(err, QUANT_EINVAL,
                                 "the shard count is '%.40s', not a whole number from 1 to %d",
                                 count_text, QUANT_SHARD_COUNT_MAX);
        has_n = 1;
    }
    if (has_id) {
        if (!has_count && !has_n)
            return quant_err_set(err, QUANT_EINVAL,
                                 "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: "
                                 "give the number of shards with --shard-count N");
        long i = (id - (has_min ? min : 0)) / (has_step ? step : 1);
        long c = has_n ? n : count;
        if (id < (has_min ? min : 0) || i >= c || ((id - min) % (has_step ? step : 1)))
            return quant_err_set(err, QUANT_EINVAL,
                                 "SLURM_ARRAY_TASK_ID %ld is not one of %ld tasks from %ld in "
                                 "steps of %ld: give --shard i/n yourself",
                                 id, c, has_min ? min : 0, has_step ? step : 1);
        out->index = (int)i;
        out->count = (int)c;
        if (source)
            snprintf(source, 64, "SLURM_ARRAY_TASK_ID");
        return QUANT_OK;
    }
    if (has_k8s) {
        if (!has_n)
            return quant_err_set(err, QUANT_EINVAL,
                                 "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not "
                                 "how many shards there are: give --shard-count N (the Job's "
                                 "completions) or set QUANT_SHARD_COUNT");
        if (k8s >= n)
            return quant_err_set(err, QUANT_EINVAL,
                                 "JOB_COMPLETION_INDEX %ld is not below the shard count %ld", k8s,
                                 n);
        out->index = (int)k8s;
        out->count = (int)n;
        if (source)
            snprintf(source, 64, "JOB_COMPLETION_INDEX");
    }
    return QUANT_OK;
}
