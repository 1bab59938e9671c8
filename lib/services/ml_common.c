/*
 * ml_common.c: what train (ml.c) and score (score.c) share (ml_internal.h):
 * the clock and symbol lists, and the scoring of one symbol's frame, which
 * `quant score` and `quant train --score` must do identically (the rows
 * chosen, the segment each row was for the model, the stored batches).
 */
#include "services/ml_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/ml_split.h"
#include "providers/provider_internal.h"
#include "core/banned.h"


/* A model's train / valid / test date ranges for one symbol (from its
 * registry row), to say which segment each scored row was in. */
struct seg_bounds {
    int known[3];              /* train, valid, test: the range exists */
    int32_t lo[3], hi[3];
};

static void segment_bounds(const cJSON *mine, struct seg_bounds *b)
{
    memset(b, 0, sizeof *b);
    static const char *const names[3] = {"train", "valid", "test"};
    for (int k = 0; k < 3; k++) {
        const cJSON *pair = cJSON_GetObjectItemCaseSensitive(mine, names[k]);
        const cJSON *a = cJSON_GetArrayItem(pair, 0), *z = cJSON_GetArrayItem(pair, 1);
        if (cJSON_IsString(a) && cJSON_IsString(z) &&
            quant_date_parse(a->valuestring, strlen(a->valuestring), &b->lo[k]) == 0 &&
            quant_date_parse(z->valuestring, strlen(z->valuestring), &b->hi[k]) == 0)
            b->known[k] = 1;
    }
}

/*
 * The segment of the row at position i of n frame rows.  The frame holds one
 * row per bar from the first with a feature value on, so its last h rows are
 * the dates whose h-day forward return is not known yet.
 */
static enum quant_prediction_segment classify(const struct seg_bounds *b, int32_t date,
                                              size_t i, size_t n, int h)
{
    if (i + (size_t)h >= n)
        return QUANT_SEGMENT_UNLABELLED;
    static const enum quant_prediction_segment in[3] = {
        QUANT_SEGMENT_TRAIN, QUANT_SEGMENT_VALID, QUANT_SEGMENT_TEST};
    for (int k = 0; k < 3; k++)
        if (b->known[k] && date >= b->lo[k] && date <= b->hi[k])
            return in[k];
    /* between train and valid, or valid and test: the embargoed rows */
    for (int k = 0; k < 2; k++)
        if (b->known[k] && b->known[k + 1] && date > b->hi[k] && date < b->lo[k + 1])
            return QUANT_SEGMENT_EMBARGO;
    return QUANT_SEGMENT_UNSEEN;
}

enum quant_code quant_ml_rows_gather_(const struct quant_training_frame *f, size_t nf,
                                      const cJSON *segments, int h, struct quant_ml_rows *out,
                                      struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    out->nf = nf;
    size_t cap = f->n ? f->n : 1;
    size_t *rows = malloc(cap * sizeof *rows);
    out->dates = malloc(cap * sizeof *out->dates);
    out->scores = malloc(cap * sizeof *out->scores);
    out->segments = malloc(cap);
    out->x = malloc(cap * (nf ? nf : 1) * sizeof *out->x);
    if (!rows || !out->dates || !out->scores || !out->segments || !out->x) {
        free(rows);
        quant_ml_rows_release_(out);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    }
    struct seg_bounds bounds;
    segment_bounds(segments, &bounds);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        int all = 1;
        for (size_t k = 0; k < nf && all; k++)
            all = f->features.valid[k * f->n + i];
        if (!all)
            continue;
        out->dates[n] = f->dates[i];
        out->segments[n] = (uint8_t)classify(&bounds, f->dates[i], i, f->n, h);
        out->out_of_sample += out->segments[n] == QUANT_SEGMENT_TEST ||
                              out->segments[n] == QUANT_SEGMENT_UNSEEN;
        rows[n++] = i;
    }
    quant_split_gather(&f->features, NULL, rows, 0, n, out->x, NULL);
    out->n = n;
    free(rows);
    return QUANT_OK;
}

enum quant_code quant_ml_rows_predict_(struct quant_model *m, struct quant_ml_rows *r,
                                       struct quant_err *err)
{
    enum quant_code rc = quant_model_predict(m, r->x, r->n, r->nf, r->scores, err);
    free(r->x);
    r->x = NULL;
    return rc;
}

void quant_ml_rows_release_(struct quant_ml_rows *r)
{
    free(r->dates);
    free(r->x);
    free(r->scores);
    free(r->segments);
    memset(r, 0, sizeof *r);
}

enum quant_code quant_ml_scored_add_(struct quant_ml_scored *s, const char *symbol,
                                     const char *model_id, struct quant_ml_rows *rows)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct quant_ml_scored_item *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            quant_ml_rows_release_(rows);
            return QUANT_ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    struct quant_ml_scored_item *it = &s->v[s->n++];
    snprintf(it->symbol, sizeof it->symbol, "%s", symbol);
    snprintf(it->model_id, sizeof it->model_id, "%s", model_id);
    it->rows = *rows;
    memset(rows, 0, sizeof *rows);
    return QUANT_OK;
}

enum quant_code quant_ml_scored_store_(struct quant_workspace *ws, const struct quant_ml_scored *s,
                                       long *rows, long *out_of_sample, struct quant_err *err)
{
    *rows = *out_of_sample = 0;
    if (s->n == 0)
        return QUANT_OK;
    struct quant_prediction_batch *b = calloc(s->n, sizeof *b);
    if (!b)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        const struct quant_ml_scored_item *it = &s->v[i];
        b[i] = (struct quant_prediction_batch){it->symbol, it->model_id, it->rows.dates,
                                               it->rows.scores, it->rows.segments, it->rows.n};
    }
    enum quant_code rc = quant_prediction_store_write_many(quant_workspace_series(ws, NULL), b, s->n, err);
    for (size_t i = 0; !rc && i < s->n; i++) {
        *rows += (long)s->v[i].rows.n;
        *out_of_sample += s->v[i].rows.out_of_sample;
    }
    free(b);
    return rc;
}

void quant_ml_scored_release_(struct quant_ml_scored *s)
{
    for (size_t i = 0; i < s->n; i++)
        quant_ml_rows_release_(&s->v[i].rows);
    free(s->v);
    memset(s, 0, sizeof *s);
}

