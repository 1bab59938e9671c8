/*
 * fit_ranks.c: a pooled model trained across machines (train.h's
 * request.machines), one rank's side of it: meet the other ranks (ranks.h),
 * train this rank's share with them through model.h, then gather on rank 0
 * what registering the model takes from every rank: the test rows'
 * labels and predictions (AUC is not a sum of per-rank parts), the train
 * labels (the baseline), the symbols, their segments and the ones left out.
 * Rank 0 registers; the others only report.
 */
#include "services/fit_internal.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ranks.h"
#include "quant/machines.h"
#include "core/banned.h"

#define BLOB_HEAD (4 * 8 + 16)

/* FNV-1a of s and a separator into *h. */
static void mix(uint64_t *h, const char *s)
{
    for (; s && *s; s++)
        *h = (*h ^ (unsigned char)*s) * 1099511628211ULL;
    *h = (*h ^ 0xffu) * 1099511628211ULL;
}

/* What every rank must agree on; threads may differ between machines. */
static uint64_t run_key(const struct quant_train_request *req, const struct quant_train_opts *o,
                        const struct quant_fit_training *tr, char *const *all, size_t n_all,
                        const char *machines)
{
    uint64_t h = 1469598103934665603ULL;
    char num[96];
    snprintf(num, sizeof num, "%s h=%d rounds=%d es=%d seed=%llu",
             quant_feature_set_name(tr->set), tr->horizon, o->rounds,
             o->early_stopping_rounds, (unsigned long long)o->seed);
    mix(&h, num);
    mix(&h, req->algo ? req->algo : "lightgbm");
    mix(&h, machines);
    for (size_t i = 0; i < req->n_params; i++)
        mix(&h, req->params[i]);
    for (size_t i = 0; i < n_all; i++)
        mix(&h, all[i]);
    return h;
}

static void put64(unsigned char *b, uint64_t v) { memcpy(b, &v, 8); }
static uint64_t get64(const unsigned char *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

/*
 * This rank's results as bytes: counts, fingerprint, train labels, test
 * labels, test predictions, then {"symbols", "segments", "excluded"} JSON.
 * Floats travel as this machine lays them out: every rank runs the same
 * quant build on little-endian hardware (x86-64, arm64).
 */
static unsigned char *pack(const struct quant_fit_training *tr, const double *p, const char *fp,
                           size_t *out_len)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *x = cJSON_CreateObject();
    if (j && x) {
        cJSON_AddItemToObject(j, "symbols", cJSON_Duplicate(tr->symbols, 1));
        cJSON_AddItemToObject(j, "segments", cJSON_Duplicate(tr->segments, 1));
        for (size_t i = 0; i < tr->n_excluded; i++)
            cJSON_AddStringToObject(x, tr->excluded[i].symbol, tr->excluded[i].reason);
        cJSON_AddItemToObject(j, "excluded", x);
        x = NULL;
    }
    cJSON_Delete(x);
    char *text = quant_fit_json_print_(j);
    if (!text)
        return NULL;
    size_t tl = strlen(text);
    size_t len = BLOB_HEAD + tr->train.n * 4 + tr->test.n * 12 + tl;
    unsigned char *b = malloc(len);
    if (b) {
        put64(b, tr->train.n);
        put64(b + 8, tr->valid.n);
        put64(b + 16, tr->test.n);
        put64(b + 24, tl);
        memcpy(b + 32, fp, 16);
        unsigned char *w = b + BLOB_HEAD;
        /* An empty set may have no array at all (memcpy wants a pointer). */
        if (tr->train.n)
            memcpy(w, tr->train.y, tr->train.n * 4);
        w += tr->train.n * 4;
        if (tr->test.n) {
            memcpy(w, tr->test.y, tr->test.n * 4);
            memcpy(w + tr->test.n * 4, p, tr->test.n * 8);
        }
        w += tr->test.n * 12;
        memcpy(w, text, tl);
        *out_len = len;
    }
    free(text);
    return b;
}

/* Rank 0: every rank's blob into one set of metrics and one symbol list in tr. */
static enum quant_code merge(struct quant_fit_training *tr, void **bufs, size_t *lens, int n,
                             struct quant_metrics *metrics, struct quant_err *err)
{
    size_t nt = 0, nv = 0, ns = 0;
    for (int k = 0; k < n; k++) {
        const unsigned char *b = bufs[k];
        if (lens[k] < BLOB_HEAD ||
            lens[k] != BLOB_HEAD + get64(b) * 4 + get64(b + 16) * 12 + get64(b + 24))
            return quant_err_set(err, QUANT_EPARSE, "rank %d sent malformed results; is it "
                                 "the same version of quant?", k);
        if (memcmp(b + 32, bufs[0] + 32, 16) != 0)
            return quant_err_set(err, QUANT_EINTERNAL, "rank %d holds another model than "
                                 "rank 0 (fingerprint %.16s, rank 0 %.16s): the ranks did not "
                                 "train together; nothing registered", k,
                                 (const char *)b + 32, (const char *)bufs[0] + 32);
        nt += get64(b);
        nv += get64(b + 8);
        ns += get64(b + 16);
    }
    float *ytr = malloc((nt ? nt : 1) * sizeof *ytr), *yte = malloc((ns ? ns : 1) * 4);
    double *p = malloc((ns ? ns : 1) * sizeof *p);
    enum quant_code rc = ytr && yte && p ? QUANT_OK
                                         : quant_err_set(err, QUANT_ENOMEM, "out of memory");
    size_t at = 0, as = 0;
    for (int k = 0; k < n && !rc; k++) {
        const unsigned char *b = bufs[k];
        size_t t = get64(b), s = get64(b + 16), tl = get64(b + 24);
        const unsigned char *r = b + BLOB_HEAD;
        memcpy(ytr + at, r, t * 4);
        memcpy(yte + as, r + t * 4, s * 4);
        memcpy(p + as, r + t * 4 + s * 4, s * 8);
        at += t;
        as += s;
        if (k == 0)
            continue;   /* rank 0's symbols are tr's already */
        cJSON *j = cJSON_ParseWithLength((const char *)r + t * 4 + s * 12, tl);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "symbols"))
            cJSON_AddItemToArray(tr->symbols, cJSON_Duplicate(it, 1));
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "segments"))
            cJSON_AddItemToObject(tr->segments, it->string, cJSON_Duplicate(it, 1));
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "excluded"))
            if (!rc && cJSON_IsString(it) && quant_fit_exclude_(tr, it->string, it->valuestring))
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
        if (!j)
            rc = quant_err_set(err, QUANT_EPARSE, "rank %d sent malformed results", k);
        cJSON_Delete(j);
    }
    if (!rc)
        rc = quant_metrics_compute(yte, p, ns, ytr, nt, nv, metrics, err);
    free(ytr);
    free(yte);
    free(p);
    return rc;
}

/* Train with the other ranks, predict this rank's test rows, gather on rank 0. */
static enum quant_code train_ranks(struct quant_workspace *ws,
                                   const struct quant_train_request *req,
                                   const struct quant_model_algo *algo, int threads,
                                   struct quant_fit_training *tr, char *const *all, size_t n_all,
                                   struct quant_train_result *r, struct quant_err *err)
{
    const struct quant_machines *m = req->machines;
    int timeout = req->machines_timeout > 0 ? req->machines_timeout
                                            : QUANT_MACHINES_TIMEOUT_DEFAULT;
    char machines[QUANT_MACHINES_MAX * 24];
    if (quant_machines_format(m, machines, sizeof machines) != 0)
        return quant_err_set(err, QUANT_EINVAL, "machine list too long");
    struct quant_train_opts o;
    quant_fit_opts_(req, threads, &o);
    struct quant_ranks *ch = NULL;
    enum quant_code rc = quant_ranks_meet(m, req->rank, timeout,
                                          run_key(req, &o, tr, all, n_all, machines),
                                          tr->train.n, &ch, err);
    if (rc)
        return rc;
    if (req->on_rank_lost)
        quant_ranks_watch(ch, req->on_rank_lost, req->on_rank_lost_ctx);
    struct quant_train_cluster cluster = {m, req->rank, timeout, ch};
    o.cluster = &cluster;
    struct quant_model *model = NULL;
    struct quant_ml_data train = quant_fit_as_data_(&tr->train);
    struct quant_ml_data valid = quant_fit_as_data_(&tr->valid);
    double *p = malloc((tr->test.n ? tr->test.n : 1) * sizeof *p);
    if (!p)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc)
        rc = quant_model_train(algo, &train, &valid, &o, &model, &r->info, err);
    /* Training is over: from here a rank that ends closes its link. */
    quant_ranks_unwatch(ch);
    if (!rc)
        rc = quant_model_predict(model, tr->test.x, tr->test.n, tr->test.nf, p, err);
    if (!rc)
        rc = quant_model_fingerprint(model, r->model_fingerprint, err);
    unsigned char *blob = NULL;
    size_t blen = 0;
    if (!rc && !(blob = pack(tr, p, r->model_fingerprint, &blen)))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    void **bufs = NULL;
    size_t *lens = NULL;
    if (!rc)
        rc = quant_ranks_gather(ch, blob, blen, &bufs, &lens, err);
    if (!rc && req->rank == 0)
        rc = merge(tr, bufs, lens, (int)m->n, &r->metrics, err);
    quant_ranks_gathered_free(bufs, lens, (int)m->n);
    free(blob);
    free(p);
    quant_ranks_close(ch);
    if (!rc && req->rank == 0) {
        cJSON *extra = cJSON_CreateObject();
        cJSON_AddStringToObject(extra, "machines", machines);
        cJSON_AddNumberToObject(extra, "ranks", (double)m->n);
        quant_fit_register_(ws, req, algo, &o, tr, model, "pooled", extra, r);
        cJSON_Delete(extra);
        rc = r->code;
        if (rc)
            quant_err_set(err, rc, "%s", r->error);
    }
    quant_model_free(model);
    return rc;
}

void quant_fit_train_ranks_(struct quant_workspace *ws, const struct quant_train_request *req,
                            const struct quant_model_algo *algo, int threads,
                            struct quant_fit_training *tr, char *const *all, size_t n_all,
                            struct quant_train_result *r)
{
    struct quant_err err;
    quant_err_clear(&err);
    r->rank = req->rank;
    r->n_ranks = (int)req->machines->n;
    r->code = train_ranks(ws, req, algo, threads, tr, all, n_all, r, &err);
    if (r->code)
        snprintf(r->error, sizeof r->error, "%s", err.msg);
}
